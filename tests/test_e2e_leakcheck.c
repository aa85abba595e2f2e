/*
 * The leak check at exit (issue 12): tests/progs/leak_classes.c makes one
 * block of each class from a function of its own, with sizes that tell
 * them apart; built by gcc -O0 and -O2, clang -O2 and g++ -O2, each run
 * must classify every block exactly, as memcheck would (docs/leaks.md).
 */
#include "testutil.h"

/* Is frame in function fn? C++ names carry their parameters: "fn()". */
static int frame_in(json_t *frame, const char *fn)
{
	const char *f = tu_frame_str(frame, "function");
	size_t n = strlen(fn);

	return f && !strncmp(f, fn, n) && (!f[n] || f[n] == '(');
}

/* Sum of one class over the sites (leaks and still_reachable) whose
 * innermost frame is fn. */
static long long class_of(json_t *m, const char *fn, const char *cls, const char *what)
{
	static const char *const lists[] = {"leaks", "still_reachable", "suppressed"};
	long long sum = 0;

	for (size_t l = 0; l < 3; l++) {
		json_t *list = json_object_get(m, lists[l]);

		for (size_t i = 0; i < json_array_size(list); i++) {
			json_t *x = json_array_get(list, i), *c = json_object_get(json_object_get(x, "classes"), cls);

			if (frame_in(tu_frame(x, 0), fn) && c)
				sum += json_integer_value(json_object_get(c, what));
		}
	}
	return sum;
}

static int in_list(json_t *m, const char *list, const char *fn)
{
	json_t *a = json_object_get(m, list);

	for (size_t i = 0; i < json_array_size(a); i++)
		if (frame_in(tu_frame(json_array_get(a, i), 0), fn))
			return 1;
	return 0;
}

/* Does every site of list start in one of fns (NULL-terminated)? */
static int only_in(json_t *m, const char *list, const char *const *fns)
{
	json_t *a = json_object_get(m, list);

	for (size_t i = 0; i < json_array_size(a); i++) {
		size_t k;
		for (k = 0; fns[k] && !frame_in(tu_frame(json_array_get(a, i), 0), fns[k]); k++)
			;
		if (!fns[k])
			return 0;
	}
	return 1;
}

static void check_classes(const char *variant)
{
	char prog[256];
	struct tu_run r;
	json_t *m;

	snprintf(prog, sizeof(prog), "./build/progs/lc_%s/leak_classes", variant);
	tu_profile(&r, NULL, TU_LIST("-q", "--no-profile", "--", prog));
	cr_assert(eq(int, r.exit_code, 0), "%s: the run; stderr: %s", variant, r.err);
	cr_assert(eq(str, r.out, "leak_classes done\n"), "%s: its output", variant);
	m = tu_memory(r.json, 0);
	cr_assert(tu_bool(m, "leak_check.made"), "%s: the check was made", variant);
	cr_assert(eq(i64, tu_int(m, "leak_check.threads"), 1), "%s: one other thread", variant);
	cr_assert(eq(i64, tu_int(m, "leak_check.threads_stopped"), 1), "%s: and it stopped", variant);
	cr_assert(eq(i64, tu_int(m, "leak_check.blocks_found"), tu_int(m, "live_blocks")), "%s: every live block found",
		  variant);

	/* Per function, exactly. */
	cr_assert(eq(i64, class_of(m, "keep_global", "still_reachable", "bytes"), 1000), "%s: global", variant);
	cr_assert(eq(i64, class_of(m, "lose_block", "definitely_lost", "bytes"), 1100), "%s: lost block", variant);
	cr_assert(eq(i64, class_of(m, "lose_block", "definitely_lost", "blocks"), 1), "%s: one", variant);
	cr_assert(eq(i64, class_of(m, "lose_list", "definitely_lost", "bytes"), 1200), "%s: the list's head", variant);
	cr_assert(eq(i64, class_of(m, "lose_list", "definitely_lost", "blocks"), 1), "%s: one head", variant);
	cr_assert(eq(i64, class_of(m, "lose_list", "indirectly_lost", "bytes"), 9 * 128), "%s: its nodes", variant);
	cr_assert(eq(i64, class_of(m, "lose_list", "indirectly_lost", "blocks"), 9), "%s: nine nodes", variant);
	cr_assert(eq(i64, class_of(m, "keep_in_thread", "still_reachable", "bytes"), 1300),
		  "%s: a running thread's register or stack", variant);
	cr_assert(eq(i64, class_of(m, "keep_interior", "possibly_lost", "bytes"), 1400), "%s: interior", variant);
	cr_assert(eq(i64, class_of(m, "keep_chain", "still_reachable", "bytes"), 1500 + 1600), "%s: a chain", variant);
	cr_assert(eq(i64, class_of(m, "lose_cycle", "definitely_lost", "bytes"), 1700), "%s: a cycle's leader",
		  variant);
	cr_assert(eq(i64, class_of(m, "lose_cycle", "indirectly_lost", "bytes"), 1700), "%s: and the other",
		  variant);
	cr_assert(eq(i64, class_of(m, "keep_array", "still_reachable", "bytes"), 8 + 4 * 24),
		  "%s: new[]'s cookie pointer", variant);

	/* The totals: the program's blocks; what the C library keeps is
	 * reachable (stdout's buffer, the thread's vector). */
	cr_assert(eq(i64, tu_int(m, "leak_check.definitely_lost.bytes"), 1100 + 1200 + 1700), "%s: definitely",
		  variant);
	cr_assert(eq(i64, tu_int(m, "leak_check.definitely_lost.blocks"), 3), "%s", variant);
	cr_assert(eq(i64, tu_int(m, "leak_check.indirectly_lost.bytes"), 9 * 128 + 1700), "%s: indirectly", variant);
	cr_assert(eq(i64, tu_int(m, "leak_check.indirectly_lost.blocks"), 10), "%s", variant);
	cr_assert(eq(i64, tu_int(m, "leak_check.possibly_lost.bytes"), 1400), "%s: possibly", variant);
	cr_assert(eq(i64, tu_int(m, "leak_check.possibly_lost.blocks"), 1), "%s", variant);
	cr_assert(eq(i64,
		     tu_int(m, "leak_check.definitely_lost.bytes") + tu_int(m, "leak_check.indirectly_lost.bytes") +
			     tu_int(m, "leak_check.possibly_lost.bytes") + tu_int(m, "leak_check.still_reachable.bytes"),
		     tu_int(m, "live_bytes")),
		  "%s: the classes add up to what is live", variant);

	/* Leaks are the lost ones only. */
	cr_assert(only_in(m, "leaks", TU_LIST("lose_block", "lose_list", "keep_interior", "lose_cycle", NULL)),
		  "%s: only the lost in the leaks", variant);
	cr_assert(in_list(m, "still_reachable", "keep_global") && in_list(m, "leaks", "keep_global") == 0,
		  "%s: reachable is no leak", variant);
	cr_assert(in_list(m, "leaks", "keep_interior"), "%s: possibly lost is", variant);
	tu_run_free(&r);
}

Test(e2e_leakcheck, every_class_exactly_gcc_O0, .timeout = 60) { check_classes("O0"); }
Test(e2e_leakcheck, every_class_exactly_gcc_O2, .timeout = 60) { check_classes("O2"); }
Test(e2e_leakcheck, every_class_exactly_clang_O2, .timeout = 60) { check_classes("clang"); }
Test(e2e_leakcheck, every_class_exactly_cxx_O2, .timeout = 60) { check_classes("cxx"); }

Test(e2e_leakcheck, the_text_and_the_profile, .timeout = 60)
{
	char *prof = tu_tmpfile("lc");
	struct tu_run r, s;
	const char *want = "        leak check: definitely lost 3.9 KiB in 3 blocks, indirectly lost 2.8 KiB in 10 "
			   "blocks,\n                    possibly lost 1.4 KiB in 1 blocks, still reachable ";

	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "-p", prof, "--", "./build/progs/lc_O2/leak_classes"));
	cr_assert(eq(int, r.exit_code, 0), "the run; stderr: %s", r.err);
	cr_assert(strstr(r.err, want) != NULL, "the summary: %s", r.err);
	cr_assert(strstr(r.err, "\n  leaks (lost blocks), by bytes:\n   #1 1.7 KiB in 1 blocks definitely lost\n") ||
			  strstr(r.err, "\n  leaks (lost blocks), by bytes:\n   #1 1.7 KiB in 1 blocks indirectly lost\n"),
		  "the biggest first: %s", r.err);
	cr_assert(strstr(r.err, "still reachable (not leaks): ") != NULL, "the reachable ones apart");
	tu_run(&s, NULL, TU_LIST(TU_LAUNCHER, "report", prof));
	cr_assert(eq(int, s.exit_code, 0), "report; stderr: %s", s.err);
	cr_assert(strstr(s.out, want) != NULL, "the profile keeps the classes: %s", s.out);
	tu_run_free(&r);
	tu_run_free(&s);
	unlink(prof);
	free(prof);
}

Test(e2e_leakcheck, suppressions_take_lost_blocks_out_and_count_them, .timeout = 60)
{
	char *supp = tu_tmpfile("lcsupp");
	FILE *f = fopen(supp, "w");
	struct tu_run r;
	json_t *m, *sup;

	cr_assert(f != NULL);
	fputs("leak:lose_block\nleak:keep_interior\n", f);
	fclose(f);
	tu_profile(&r, NULL, TU_LIST("-q", "--no-profile", "--suppressions", supp, "--", "./build/progs/lc_O2/leak_classes"));
	cr_assert(eq(int, r.exit_code, 0), "the run; stderr: %s", r.err);
	m = tu_memory(r.json, 0);
	sup = tu_arr(m, "suppressed");
	cr_assert(eq(sz, json_array_size(sup), 2), "the two named");
	cr_assert(in_list(m, "suppressed", "lose_block") && in_list(m, "suppressed", "keep_interior"), "those");
	cr_assert(in_list(m, "leaks", "lose_block") + in_list(m, "leaks", "keep_interior") == 0, "not leaks");
	cr_assert(eq(i64, tu_int(m, "suppressed_bytes"), 1100 + 1400), "counted");
	cr_assert(eq(i64, tu_int(m, "leak_check.definitely_lost.bytes"), 1200 + 1700), "the rest definitely lost");
	cr_assert(eq(i64, tu_int(m, "leak_check.possibly_lost.bytes"), 0), "none possibly");
	cr_assert(only_in(m, "leaks", TU_LIST("lose_list", "lose_cycle", NULL)), "the rest");
	tu_run_free(&r);
	unlink(supp);
	free(supp);
}

/* The agent's memory is not the program's: a pointer that lived in rbp
 * while an allocation's stack was walked stays in the walk memo (private
 * memory of the agent's), and must not keep a lost block reachable.
 * Without the scan leaving the memos out, this block read as reachable. */
Test(e2e_leakcheck, agent_memory_is_no_root, .timeout = 60)
{
	struct tu_run r;
	json_t *m;

	tu_profile(&r, NULL, TU_LIST("-q", "--no-profile", "--", "./build/progs/leak_rbp"));
	cr_assert(eq(int, r.exit_code, 0), "the run; stderr: %s", r.err);
	cr_assert(eq(str, r.out, "leak_rbp done\n"), "its output");
	m = tu_memory(r.json, 0);
	cr_assert(eq(i64, class_of(m, "lose_in_rbp", "definitely_lost", "bytes"), 1900), "lost, though rbp held it");
	cr_assert(eq(i64, tu_int(m, "leak_check.definitely_lost.blocks"), 1), "the one lost block");
	cr_assert(eq(i64, class_of(m, "keep_global", "still_reachable", "bytes"), 2000), "the scan ran");
	tu_run_free(&r);
}

Test(e2e_leakcheck, off_says_live_at_exit_unclassified, .timeout = 60)
{
	struct tu_run r;
	json_t *m;

	tu_profile(&r, NULL, TU_LIST("-q", "--no-profile", "--leak-check=off", "--", "./build/progs/lc_O2/leak_classes"));
	cr_assert(eq(int, r.exit_code, 0), "the run; stderr: %s", r.err);
	m = tu_memory(r.json, 0);
	cr_assert(tu_bool(m, "leak_check.made") == 0, "not made");
	cr_assert(eq(str, (char *)tu_str(m, "leak_check.why_not"), "off"), "off");
	/* Every live site is listed (the stdio buffer suppressed). */
	cr_assert(in_list(m, "leaks", "keep_global") && in_list(m, "leaks", "lose_block"), "all live sites");
	tu_run_free(&r);

	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "--no-profile", "--leak-check=off", "--", "./build/progs/lc_O2/leak_classes"));
	cr_assert(strstr(r.err, " blocks (not classified: --leak-check=off)") != NULL, "the text says so: %s", r.err);
	tu_run_free(&r);
	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "--leak-check=some", "true"));
	cr_assert(eq(int, r.exit_code, 2), "a bad value");
	cr_assert(eq(str, r.err, "ptrace-run: --leak-check=some: expected full or off\n"), "one line: %s", r.err);
	tu_run_free(&r);
}

/*
 * tests/progs/leak_edges.c: blocks and pointers where a scan easily misses
 * them: aligned blocks (their header at their end), a pointer in a page
 * the kernel merged with glibc's mapping of a large block, one in a
 * MAP_SHARED page, a thread running on a stack from malloc. Each way of
 * ending (exit, main's pthread_exit, the program owning the sampling
 * signal) must give the same exact classes.
 */
/* others: the threads stopped (the sleeper and the heap stack's; with main
 * ended, the exiting thread is the heap stack's, and the zombie main is
 * none). The sleeper's nanosleep must not end early (it would say so). */
static void check_edges(const char *const *args, const char *how, long long others)
{
	struct tu_run r;
	json_t *m;

	tu_profile(&r, NULL, args);
	cr_assert(eq(int, r.exit_code, 0), "%s: the run; stderr: %s", how, r.err);
	cr_assert(eq(str, r.out, "leak_edges done, merged, 0 signals\n"), "%s: its output, no signal of ours", how);
	m = tu_memory(r.json, 0);
	cr_assert(tu_bool(m, "leak_check.made"), "%s: the check was made", how);
	cr_assert(eq(i64, tu_int(m, "leak_check.threads"), others), "%s: the other threads", how);
	cr_assert(eq(i64, tu_int(m, "leak_check.threads_stopped"), others), "%s: all stopped", how);
	cr_assert(eq(i64, tu_int(m, "leak_check.blocks_found"), tu_int(m, "live_blocks")), "%s: every live block found",
		  how);
	cr_assert(eq(i64, class_of(m, "keep_aligned", "still_reachable", "bytes"), 640 + 1800), "%s: aligned", how);
	cr_assert(eq(i64, class_of(m, "lose_aligned", "definitely_lost", "bytes"), 1900), "%s: aligned, lost", how);
	cr_assert(eq(i64, class_of(m, "keep_aligned_up", "still_reachable", "bytes"), 2300),
		  "%s: rounded up, its start kept below", how);
	cr_assert(eq(i64, class_of(m, "keep_in_mmap", "still_reachable", "bytes"), 300 * 1024 + 2000),
		  "%s: the large block and the one its merged neighbour points to", how);
	cr_assert(eq(i64, class_of(m, "keep_in_shared", "still_reachable", "bytes"), 2100), "%s: shared page", how);
	cr_assert(eq(i64, class_of(m, "keep_on_heap_stack", "still_reachable", "bytes"), 2200),
		  "%s: on a heap stack", how);
	cr_assert(eq(i64, class_of(m, "main", "still_reachable", "bytes"), 65536), "%s: the stack's block", how);
	cr_assert(eq(i64, tu_int(m, "leak_check.definitely_lost.bytes"), 1900), "%s: only that one lost", how);
	cr_assert(eq(i64, tu_int(m, "leak_check.definitely_lost.blocks"), 1), "%s", how);
	cr_assert(eq(i64, tu_int(m, "leak_check.indirectly_lost.blocks"), 0), "%s", how);
	cr_assert(eq(i64, tu_int(m, "leak_check.possibly_lost.blocks"), 0), "%s", how);
	tu_run_free(&r);
}

Test(e2e_leakcheck, edges_aligned_merged_shared_heap_stack, .timeout = 60)
{
	check_edges(TU_LIST("-q", "--no-profile", "--", TU_PROG("leak_edges")), "exit", 2);
}

/* Before: /proc/self/maps read empty (a zombie leader), the zombie never
 * answered, and the check was given up after half a second. */
Test(e2e_leakcheck, edges_after_main_ended_by_pthread_exit, .timeout = 60)
{
	check_edges(TU_LIST("-q", "--no-profile", "--", TU_PROG("leak_edges"), "pthread_exit"), "pthread_exit", 1);
}

/* Before: the stop requests went to the program's handler (107 lines of
 * "a signal"). Now a spare real-time signal stops the threads. */
Test(e2e_leakcheck, edges_when_the_program_owns_the_sampling_signal, .timeout = 60)
{
	struct tu_run r;
	const char *name;
	char num[8];

	tu_profile(&r, NULL, TU_LIST("-q", "--no-profile", "--", TU_PROG("leak_edges")));
	name = json_string_value(json_object_get(json_object_get(tu_proc(r.json, 0), "cpu"), "signal"));
	cr_assert(name && (!strcmp(name, "SIGSTKFLT") || !strcmp(name, "SIGPWR")), "the sampling signal: %s",
		  name ? name : "none");
	snprintf(num, sizeof(num), "%d", !strcmp(name, "SIGSTKFLT") ? SIGSTKFLT : SIGPWR);
	tu_run_free(&r);
	check_edges(TU_LIST("-q", "--no-profile", "--", TU_PROG("leak_edges"), "own-signal", num), "own-signal", 2);
}
