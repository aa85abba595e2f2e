/*
 * End-to-end suppressions (issue 12): a file of leak:PATTERN lines and
 * the built-in ones hide exactly what they name from the leaks, and
 * count it as suppressed; a bad file gets one line before any run.
 */
#include "testutil.h"

static char *write_supp(const char *text)
{
	char *path = tu_tmpfile("supp");
	FILE *f = fopen(path, "w");

	cr_assert(f != NULL, "the suppressions file");
	fputs(text, f);
	fclose(f);
	return path;
}

static json_t *site_of(json_t *list, const char *fn)
{
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *x = json_array_get(list, i), *f0 = json_array_get(tu_arr(x, "stack"), 0);
		const char *name = json_string_value(json_object_get(f0, "function"));

		if (name && !strcmp(name, fn))
			return x;
	}
	return NULL;
}

Test(e2e_suppress, a_file_and_the_built_in_ones, .timeout = 60)
{
	char *supp = write_supp("# ours\nleak:other_leak\n"), *prof = tu_tmpfile("supp"), *why = NULL;
	struct tu_run r, s;
	json_t *m, *leaks, *sup, *x;
	long long sum = 0;

	/* With the leak check: stdout's buffer is still reachable, no leak;
	 * the file's line takes other_leak's lost block out of the leaks. */
	tu_profile(&r, NULL, TU_LIST("-q", "--no-profile", "--suppressions", supp, "--", TU_PROG("leak_supp")));
	cr_assert(eq(int, r.exit_code, 0), "the run; stderr: %s", r.err);
	m = tu_obj(tu_proc(r.json, 0), "memory");
	leaks = tu_arr(m, "leaks");
	sup = tu_arr(m, "suppressed");
	cr_assert(eq(sz, json_array_size(leaks), 1), "one leak");
	cr_assert(site_of(leaks, "my_leak") != NULL, "my_leak's");
	cr_assert(eq(sz, json_array_size(sup), 1), "one suppressed");
	cr_assert(site_of(sup, "other_leak") != NULL, "other_leak's");
	cr_assert(site_of(tu_arr(m, "still_reachable"), "_IO_file_doallocate") != NULL, "stdout's buffer reachable");
	cr_assert(eq(i64, tu_int(m, "leak_check.definitely_lost.bytes"), 100), "100 bytes lost, not suppressed");
	cr_assert(eq(i64, tu_int(m, "suppressed_bytes"), 200), "200 suppressed");
	tu_run_free(&r);

	/* Without it, what is live is listed; the built-in ones name the
	 * runtime's own blocks. */
	tu_profile(&r, NULL, TU_LIST("-q", "-p", prof, "--leak-check=off", "--suppressions", supp, "--", TU_PROG("leak_supp")));
	cr_assert(eq(int, r.exit_code, 0), "the run; stderr: %s", r.err);
	cr_assert(eq(str, r.out, "hello\n"), "its output");
	m = tu_obj(tu_proc(r.json, 0), "memory");
	leaks = tu_arr(m, "leaks");
	sup = tu_arr(m, "suppressed");
	cr_assert(eq(sz, json_array_size(leaks), 1), "one leak");
	cr_assert(site_of(leaks, "my_leak") != NULL, "my_leak's");
	cr_assert(eq(i64, tu_int(json_array_get(leaks, 0), "bytes"), 100), "100 bytes");
	x = site_of(sup, "other_leak");
	cr_assert(x != NULL, "other_leak suppressed");
	cr_assert(eq(i64, tu_int(x, "bytes"), 200), "its 200 bytes counted");
	cr_assert(asprintf(&why, "leak:other_leak (%s:2)", supp) > 0, "asprintf");
	cr_assert(eq(str, (char *)tu_str(x, "by"), why), "by the file's line 2");
	x = site_of(sup, "_IO_file_doallocate");
	cr_assert(x != NULL, "stdout's buffer suppressed");
	cr_assert(eq(str, (char *)tu_str(x, "by"), "built-in: a stdio buffer"), "built in");
	cr_assert(eq(sz, json_array_size(sup), 2), "those two");
	for (size_t i = 0; i < json_array_size(sup); i++)
		sum += tu_int(json_array_get(sup, i), "bytes");
	cr_assert(eq(i64, tu_int(m, "suppressed_bytes"), sum), "the total");
	cr_assert(eq(i64, tu_int(m, "live_bytes"), 100 + sum), "live at exit: all of it");
	tu_run_free(&r);

	/* The profile file with the same options: the same; without the
	 * built-in ones, stdout's buffer is a leak. */
	tu_run(&s, NULL, TU_LIST(TU_LAUNCHER, "report", "--suppressions", supp, prof));
	cr_assert(eq(int, s.exit_code, 0), "report; stderr: %s", s.err);
	cr_assert(strstr(s.out, "   200 B in 1 blocks: leak:other_leak (") != NULL, "the text: %s", s.out);
	cr_assert(strstr(s.out, " blocks (not classified: --leak-check=off): 100 B in 1 blocks not suppressed, ") != NULL,
		  "the heap line: %s", s.out);
	tu_run_free(&s);
	tu_run(&s, NULL, TU_LIST(TU_LAUNCHER, "report", "--format=json", "--builtin-suppressions=0", prof));
	cr_assert(eq(int, s.exit_code, 0), "report; stderr: %s", s.err);
	{
		json_t *j = json_loads(s.out, 0, NULL);

		cr_assert(j != NULL, "JSON");
		cr_assert(eq(sz, json_array_size(tu_arr(tu_proc(j, 0), "memory.leaks")), 3), "three leaks, stdout's too");
		cr_assert(eq(sz, json_array_size(tu_arr(tu_proc(j, 0), "memory.suppressed")), 0), "none suppressed");
		json_decref(j);
	}
	tu_run_free(&s);
	free(why);
	unlink(prof);
	unlink(supp);
	free(prof);
	free(supp);
}

Test(e2e_suppress, a_bad_file_gets_one_line_before_the_run)
{
	char *supp = write_supp("leak:ok\nfun:x\n"), *want = NULL;
	struct tu_run r;

	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "--no-profile", "--suppressions", supp, "--", TU_PROG("leak_supp")));
	cr_assert(eq(int, r.exit_code, 2), "rc 2");
	cr_assert(eq(str, r.out, ""), "the program never ran");
	cr_assert(asprintf(&want, "ptrace-run: --suppressions: %s:2: expected leak:PATTERN or a # comment\n", supp) > 0,
		  "asprintf");
	cr_assert(eq(str, r.err, want), "the line");
	tu_run_free(&r);
	free(want);
	unlink(supp);
	free(supp);
}
