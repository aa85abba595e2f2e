/*
 * End-to-end process life: fork and exec (one report entry per image),
 * exit codes and killing signals passed through, crashes still reported,
 * static binaries run without the agent, and the program's own stdin,
 * stdout and stderr left byte-for-byte alone.
 */
#include "testutil.h"

/* Temporary allocations are checked in fork_exec_temporary_allocations. */
static const struct tu_totals heap_counts_totals = {
    1000, 997, 62736, 9000, 3000, 3, -1, 0, 0,
};

/* Run fork_exec; its three images are processes[0..2]. */
static void run_fork_exec(struct tu_run *r)
{
	tu_profile(r, NULL, TU_LIST("-q", "--", TU_PROG("fork_exec")));
	cr_assert(eq(int, r->exit_code, 0), "launcher exit code (heap_counts' after exec); stderr: %s", r->err);
	cr_assert(eq(sz, json_array_size(tu_arr(r->json, "processes")), 3),
		  "processes: the parent image, its forked child, the exec'd image");
}

Test(e2e_process, fork_exec_parent_image)
{
	int line = tu_marker_line(TU_SRC("fork_exec.c"), "@site:parent");
	struct tu_run r;
	json_t *p, *site;

	run_fork_exec(&r);
	p = tu_proc(r.json, 0);
	cr_assert(tu_ends_with(tu_str(p, "executable"), "/build/progs/fork_exec"), "processes[0].executable: %s",
		  tu_str(p, "executable"));
	cr_assert(eq(str, (char *)tu_str(p, "command.0"), TU_PROG("fork_exec")), "processes[0].command");
	cr_assert(not(tu_bool(p, "forked")), "processes[0].forked");
	cr_assert(tu_bool(p, "execed"), "processes[0].execed");
	cr_assert(tu_is_null(p, "exit_code"), "processes[0].exit_code is null: it never exited");
	cr_assert(tu_is_null(p, "signal"), "processes[0].signal");
	/* What was live at the exec went with the image: not leaked. */
	tu_assert_totals(tu_obj(p, "memory"), &(struct tu_totals){12, 7, 1600, 1000, 0, 0, -1, 0, 0}, "parent image");
	cr_assert(eq(i64, tu_int(p, "memory.freed_by_exec_bytes"), 900), "900 bytes freed by the exec");
	cr_assert(eq(i64, tu_int(p, "memory.freed_by_exec_blocks"), 5), "in 5 blocks");
	cr_assert(eq(sz, json_array_size(tu_arr(p, "memory.leaks")), 0), "no leaks");
	site = tu_find_frame0(tu_arr(p, "memory.sites"), "parent_alloc");
	cr_assert(site != NULL, "parent image: a site in parent_alloc");
	tu_assert_frame(tu_frame(site, 0), "parent_alloc", TU_SRC("fork_exec.c"), line, "parent_alloc site frame 0");
	cr_assert(eq(i64, tu_int(site, "allocations"), 10), "parent_alloc site allocations");
	cr_assert(eq(i64, tu_int(site, "live_blocks"), 0), "parent_alloc site: nothing live after the exec");
	tu_run_free(&r);
}

Test(e2e_process, fork_exec_forked_child)
{
	int line = tu_marker_line(TU_SRC("fork_exec.c"), "@site:child");
	struct tu_run r;
	json_t *parent, *child, *site;

	run_fork_exec(&r);
	parent = tu_proc(r.json, 0);
	child = tu_proc(r.json, 1);
	cr_assert(tu_bool(child, "forked"), "processes[1].forked");
	cr_assert(not(tu_bool(child, "execed")), "processes[1].execed");
	cr_assert(eq(i64, tu_int(child, "ppid"), tu_int(parent, "pid")), "child's ppid is the parent");
	cr_assert(ne(i64, tu_int(child, "pid"), tu_int(parent, "pid")), "child has its own pid");
	cr_assert(eq(i64, tu_int(child, "exit_code"), 5), "child exit_code");
	cr_assert(tu_is_null(child, "signal"), "child signal");
	/* Its peak is not checked: whether inherited blocks count is open. */
	tu_assert_totals(tu_obj(child, "memory"), &(struct tu_totals){20, 15, 1000, -1, 250, 5, -1, 0, 1},
			 "forked child");
	site = tu_find_frame0(tu_arr(child, "memory.sites"), "child_alloc");
	cr_assert(site != NULL, "child: a site in child_alloc");
	tu_assert_frame(tu_frame(site, 0), "child_alloc", TU_SRC("fork_exec.c"), line, "child_alloc site frame 0");
	cr_assert(eq(int, tu_count_frame0(tu_arr(child, "memory.sites"), "parent_alloc"), 0),
		  "the child's sites do not repeat the parent's");
	tu_run_free(&r);
}

Test(e2e_process, fork_exec_execed_image)
{
	int line = tu_marker_line(TU_SRC("heap_counts.c"), "@site:leak");
	struct tu_run r;
	json_t *parent, *img, *leak;

	run_fork_exec(&r);
	parent = tu_proc(r.json, 0);
	img = tu_proc(r.json, 2);
	cr_assert(eq(i64, tu_int(img, "pid"), tu_int(parent, "pid")), "exec keeps the pid");
	cr_assert(eq(i64, tu_int(img, "ppid"), tu_int(parent, "ppid")), "exec keeps the ppid");
	cr_assert(tu_ends_with(tu_str(img, "executable"), "/build/progs/heap_counts"), "processes[2].executable: %s",
		  tu_str(img, "executable"));
	cr_assert(tu_ends_with(tu_str(img, "command.0"), "/build/progs/heap_counts"), "processes[2].command[0]");
	cr_assert(not(tu_bool(img, "forked")), "processes[2].forked");
	cr_assert(not(tu_bool(img, "execed")), "processes[2].execed");
	cr_assert(eq(i64, tu_int(img, "exit_code"), 0), "processes[2].exit_code");
	tu_assert_totals(tu_obj(img, "memory"), &heap_counts_totals, "exec'd heap_counts");
	leak = json_array_get(tu_live_sites(tu_obj(img, "memory")), 0);
	tu_assert_frame(tu_frame(leak, 0), "keep_blocks", TU_SRC("heap_counts.c"), line,
			"exec'd image leaks[0] frame 0");
	cr_assert(eq(i64, tu_int(r.json, "exit_code"), 0), "report exit_code");
	tu_run_free(&r);
}

/*
 * Parent and child each free the rest of a loop's blocks in allocation
 * order, so exactly one block of the loop is temporary (the last one);
 * the exec'd heap_counts has 10 (see test_e2e_heap.c).
 */
Test(e2e_process, fork_exec_temporary_allocations)
{
	struct tu_run r;

	run_fork_exec(&r);
	cr_assert(eq(i64, tu_int(tu_memory(r.json, 0), "temporary_allocations"), 1),
		  "parent image temporary_allocations");
	cr_assert(eq(i64, tu_int(tu_memory(r.json, 1), "temporary_allocations"), 1),
		  "forked child temporary_allocations");
	cr_assert(eq(i64, tu_int(tu_memory(r.json, 2), "temporary_allocations"), 10),
		  "exec'd heap_counts temporary_allocations");
	tu_run_free(&r);
}

/* A program dying by signal sig: launcher exit 128 + sig, figures intact. */
static void check_crash(const char *prog, const char *src, int sig)
{
	int line = tu_marker_line(src, "@site:crash");
	struct tu_run r;
	json_t *p, *leaks;

	tu_profile(&r, NULL, TU_LIST("-q", "--", prog));
	cr_assert(eq(int, r.exit_code, 128 + sig), "%s: launcher exit code; stderr: %s", prog, r.err);
	cr_assert(tu_is_null(r.json, "exit_code"), "%s: report exit_code is null", prog);
	cr_assert(eq(i64, tu_int(r.json, "signal"), sig), "%s: report signal", prog);
	p = tu_proc(r.json, 0);
	cr_assert(tu_is_null(p, "exit_code"), "%s: processes[0].exit_code is null", prog);
	cr_assert(eq(i64, tu_int(p, "signal"), sig), "%s: processes[0].signal", prog);
	tu_assert_totals(tu_obj(p, "memory"), &(struct tu_totals){5, 2, 5000, 5000, 3000, 3, 0, 0, 0}, prog);
	leaks = tu_arr(p, "memory.leaks");
	cr_assert(eq(sz, json_array_size(leaks), 1), "%s: one leak", prog);
	cr_assert(eq(i64, tu_int(json_array_get(leaks, 0), "bytes"), 3000), "%s: leaks[0].bytes", prog);
	cr_assert(eq(i64, tu_int(json_array_get(leaks, 0), "blocks"), 3), "%s: leaks[0].blocks", prog);
	tu_assert_frame(tu_frame(json_array_get(leaks, 0), 0), "make_blocks", src, line, "leaks[0] frame 0");
	tu_run_free(&r);
}

Test(e2e_process, crash_segv_is_reported)
{
	check_crash(TU_PROG("crash_segv"), TU_SRC("crash_segv.c"), SIGSEGV);
}

Test(e2e_process, crash_abort_is_reported)
{
	check_crash(TU_PROG("crash_abort"), TU_SRC("crash_abort.c"), SIGABRT);
}

Test(e2e_process, crash_kill_is_reported)
{
	check_crash(TU_PROG("crash_kill"), TU_SRC("crash_kill.c"), SIGKILL);
}

static void check_exit_code(const char *code)
{
	char want_out[64];
	struct tu_run r;
	json_t *p;
	int n = atoi(code);

	snprintf(want_out, sizeof want_out, "exit_code %s\n", code);
	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("exit_code"), code));
	cr_assert(eq(int, r.exit_code, n), "launcher exit code; stderr: %s", r.err);
	cr_assert(eq(str, r.out, want_out), "program stdout");
	cr_assert(eq(sz, r.err_len, 0), "stderr with -q: %s", r.err);
	cr_assert(eq(i64, tu_int(r.json, "exit_code"), n), "report exit_code");
	cr_assert(tu_is_null(r.json, "signal"), "report signal");
	p = tu_proc(r.json, 0);
	cr_assert(eq(i64, tu_int(p, "exit_code"), n), "processes[0].exit_code");
	cr_assert(eq(str, (char *)tu_str(p, "command.1"), (char *)code), "processes[0].command[1]");
	tu_assert_totals(tu_obj(p, "memory"), &(struct tu_totals){0, 0, 0, 0, 0, 0, 0, 0, 0}, "exit_code");
	tu_run_free(&r);
}

Test(e2e_process, exit_code_0_passes_through)
{
	check_exit_code("0");
}

Test(e2e_process, exit_code_3_passes_through)
{
	check_exit_code("3");
}

Test(e2e_process, exit_code_255_passes_through)
{
	check_exit_code("255");
}

Test(e2e_process, static_binary_runs_without_agent)
{
	struct tu_run r;
	const char *reason;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("static_hello")));
	cr_assert(eq(int, r.exit_code, 7), "launcher exit code; stderr: %s", r.err);
	cr_assert(eq(str, r.out, "static hello\n"), "program stdout");
	cr_assert(not(tu_bool(r.json, "agent.loaded")), "agent.loaded");
	reason = tu_str(r.json, "agent.reason");
	cr_assert(strcasestr(reason, "static") != NULL, "agent.reason mentions static: %s", reason);
	cr_assert(eq(i64, tu_int(r.json, "exit_code"), 7), "report exit_code");
	tu_run_free(&r);
}

/* --- output identity ---------------------------------------------------- */

/* 70000 bytes covering every byte value, more than a pipe holds. */
static char *identity_input(size_t *len)
{
	size_t n = 70000;
	char *in = malloc(n);

	cr_assert(in != NULL, "out of memory");
	for (size_t i = 0; i < n; i++)
		in[i] = (char)((i * 7 + i / 256) & 0xff);
	*len = n;
	return in;
}

/* The program run directly, as the reference. */
static void run_identity_direct(struct tu_run *r, const char *in, size_t in_len)
{
	struct tu_opts o = {.in = in, .in_len = in_len};

	tu_run(r, &o, TU_LIST(TU_PROG("output_identity")));
	cr_assert(eq(int, r->exit_code, 0), "output_identity alone: exit code");
	cr_assert(gt(sz, r->out_len, in_len), "output_identity alone echoes its stdin");
}

static void assert_same_bytes(const char *got, size_t got_len, const char *want, size_t want_len, const char *what)
{
	size_t i = 0;

	while (i < got_len && i < want_len && got[i] == want[i])
		i++;
	cr_assert(eq(sz, got_len, want_len), "%s: length (first difference at byte %zu)", what, i);
	cr_assert(eq(int, memcmp(got, want, want_len), 0), "%s: first difference at byte %zu", what, i);
}

Test(e2e_process, output_identity_with_report_file)
{
	size_t in_len;
	char *in = identity_input(&in_len);
	char *report = tu_tmpfile("report");
	struct tu_opts o = {.in = in, .in_len = in_len};
	struct tu_run ref, r;
	size_t report_len = 0;
	char *text;

	run_identity_direct(&ref, in, in_len);
	tu_run(&r, &o, TU_LIST(TU_LAUNCHER, "-o", report, "--", TU_PROG("output_identity")));
	cr_assert(eq(int, r.exit_code, 0), "launcher exit code; stderr: %s", r.err);
	assert_same_bytes(r.out, r.out_len, ref.out, ref.out_len, "stdout");
	assert_same_bytes(r.err, r.err_len, ref.err, ref.err_len, "stderr");
	text = tu_read_file(report, &report_len);
	cr_assert(text != NULL, "report file %s exists", report);
	cr_assert(gt(sz, report_len, 0), "the text report went to the -o file");
	unlink(report);
	free(report);
	free(text);
	free(in);
	tu_run_free(&ref);
	tu_run_free(&r);
}

Test(e2e_process, output_identity_quiet)
{
	size_t in_len;
	char *in = identity_input(&in_len);
	struct tu_opts o = {.in = in, .in_len = in_len, .json = 1};
	struct tu_run ref, r;

	run_identity_direct(&ref, in, in_len);
	tu_run(&r, &o, TU_LIST(TU_LAUNCHER, "-q", "--", TU_PROG("output_identity")));
	cr_assert(eq(int, r.exit_code, 0), "launcher exit code; stderr: %s", r.err);
	assert_same_bytes(r.out, r.out_len, ref.out, ref.out_len, "stdout");
	assert_same_bytes(r.err, r.err_len, ref.err, ref.err_len, "stderr");
	cr_assert(r.json != NULL, "JSON report: %s", r.json_error);
	tu_assert_totals(tu_memory(r.json, 0), &(struct tu_totals){0, 0, 0, 0, 0, 0, 0, 0, 0}, "output_identity");
	free(in);
	tu_run_free(&ref);
	tu_run_free(&r);
}

/* With the report on stderr, the program's stderr comes first, unchanged. */
Test(e2e_process, output_identity_report_on_stderr)
{
	size_t in_len;
	char *in = identity_input(&in_len);
	struct tu_opts o = {.in = in, .in_len = in_len};
	struct tu_run ref, r;

	run_identity_direct(&ref, in, in_len);
	tu_run(&r, &o, TU_LIST(TU_LAUNCHER, "--", TU_PROG("output_identity")));
	cr_assert(eq(int, r.exit_code, 0), "launcher exit code; stderr: %s", r.err);
	assert_same_bytes(r.out, r.out_len, ref.out, ref.out_len, "stdout");
	cr_assert(gt(sz, r.err_len, ref.err_len), "stderr holds the program's bytes and a report");
	assert_same_bytes(r.err, ref.err_len, ref.err, ref.err_len, "stderr prefix");
	free(in);
	tu_run_free(&ref);
	tu_run_free(&r);
}

/* Occurrences of needle in hay. */
static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *s = hay; (s = strstr(s, needle)); s += strlen(needle))
		n++;
	return n;
}

/*
 * A run of more than 16 processes (a shell running 24 children, one of
 * which kills itself): the text report has 16 sections, the program's,
 * the crashed one's and those of the highest heap peaks, and a line for
 * each of the others, under a heading that counts them; the JSON has
 * every process.
 */
Test(e2e_process, many_processes_show_sixteen_in_full_and_the_rest_a_line_each)
{
	struct tu_run r;
	json_t *procs;
	size_t n;
	char want[160];
	int crashed = 0;

	tu_profile(&r, NULL,
		   TU_LIST("--", "/bin/sh", "-c",
			   "i=0; while [ $i -lt 24 ]; do /bin/true; i=$((i+1)); done; /bin/sh -c 'kill -SEGV $$'; exit 0"));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %.2000s", r.err);
	procs = tu_arr(r.json, "processes");
	n = json_array_size(procs);
	cr_assert(ge(sz, n, 26), "the shell, its 24 children and the one that crashed, at least: %zu", n);
	cr_assert(eq(sz, count_of(r.err, "\n-- process "), 16), "16 sections in full");
	snprintf(want, sizeof(want), "\n-- %zu more processes, a line each (16 above in full", n - 16);
	cr_assert(strstr(r.err, want) != NULL, "the heading counts the others: %s", want);
	snprintf(want, sizeof(want), "\n-- process %lld: /bin/sh -c i=0;", tu_int(tu_proc(r.json, 0), "pid"));
	cr_assert(strstr(r.err, want) != NULL, "the program's own section: %s", want);
	for (size_t i = 0; i < n; i++) {
		json_t *p = json_array_get(procs, i);
		int in_full;

		snprintf(want, sizeof(want), "\n-- process %lld", tu_int(p, "pid"));
		in_full = strstr(r.err, want) != NULL;
		if (!tu_is_null(p, "crash")) {
			/* A grandchild: its status is not the launcher's to
			 * wait for, its crash is the agent's to record. */
			crashed++;
			cr_assert(eq(i64, tu_int(p, "crash.signal"), 11), "killed by SIGSEGV");
			snprintf(want, sizeof(want), "\n-- process %lld: /bin/sh -c kill -SEGV $$ -- ", tu_int(p, "pid"));
			cr_assert(strstr(r.err, want) != NULL, "the crashed process in full: %s", want);
		}
		if (!in_full) {
			/* Forked and exec'd images share a pid: its line is there. */
			snprintf(want, sizeof(want), "\n   %-8lld ", tu_int(p, "pid"));
			cr_assert(strstr(r.err, want) != NULL, "process %zu (pid %lld) has a line", i, tu_int(p, "pid"));
		}
	}
	cr_assert(eq(int, crashed, 1), "one process killed itself");
	tu_run_free(&r);
}
