/*
 * End-to-end function names and identities: which rows the function
 * report has and what they are called. C++ names as c++filt prints them
 * (tests/progs/fi_names.cc), --filter on qualified names without the
 * return type, constructor and destructor variants as one function, a
 * library loaded over an unloaded one (fi_reuse), one row per thread
 * whose TSD destructors run instrumented code (fi_tsd), and recursion-
 * aware caller and callee times (fi_fib). Every count is known exactly
 * from the program's source (see the comment at the top of each).
 */
#include "testutil.h"

/* Entries of procs[i].functions named name (NULL: unknown name). */
static int names_count(json_t *proc, const char *name)
{
	json_t *fns = tu_arr(proc, "functions");
	int n = 0;

	for (size_t i = 0; i < json_array_size(fns); i++) {
		const char *fn = json_string_value(json_object_get(json_array_get(fns, i), "name"));

		n += fn && !strcmp(fn, name);
	}
	return n;
}

/* The one function named name; fails unless there is exactly one. */
static json_t *names_fn(json_t *proc, const char *name)
{
	json_t *fns = tu_arr(proc, "functions");

	cr_assert(eq(int, names_count(proc, name), 1), "functions[]: exactly one named \"%s\"", name);
	for (size_t i = 0; i < json_array_size(fns); i++) {
		json_t *f = json_array_get(fns, i);
		const char *fn = json_string_value(json_object_get(f, "name"));

		if (fn && !strcmp(fn, name))
			return f;
	}
	return NULL;
}

static long long names_calls(json_t *proc, const char *name)
{
	return tu_int(names_fn(proc, name), "calls");
}

/* The edge to name (NULL: a thread's start) in f's "callers" or "callees". */
static json_t *names_edge(json_t *f, const char *list, const char *name)
{
	json_t *a = tu_arr(f, list);

	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *e = json_array_get(a, i);
		const char *en = json_string_value(json_object_get(e, "function"));

		if ((!name && !en) || (name && en && !strcmp(en, name)))
			return e;
	}
	cr_assert(0, "%s has no %s entry for %s", tu_str(f, "name"), list, name ? name : "(thread start)");
	return NULL;
}

/* --- recursion-aware edges (fi_fib) -------------------------------------- */

Test(e2e_names, recursive_edges_count_time_once)
{
	struct tu_run r;
	json_t *p, *fib, *leaf, *e;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("fi_fib")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	p = tu_proc(r.json, 0);
	fib = names_fn(p, "fib");
	/* The outermost call is main's: its time is fib's whole total. */
	e = names_edge(fib, "callers", "main");
	cr_assert(eq(i64, tu_int(e, "calls"), 1), "fib called by main once");
	cr_assert(eq(i64, tu_int(e, "recursive_calls"), 0), "main -> fib is not recursive");
	cr_assert(eq(i64, tu_int(e, "total_ns"), tu_int(fib, "total_ns")), "main -> fib carries fib's total");
	/* Every call of fib by fib is nested in the outer one: no time again. */
	e = names_edge(fib, "callers", "fib");
	cr_assert(eq(i64, tu_int(e, "calls"), 21890), "fib called by fib");
	cr_assert(eq(i64, tu_int(e, "recursive_calls"), 21890), "all of them recursive");
	cr_assert(eq(i64, tu_int(e, "total_ns"), 0), "a recursive edge adds no time");
	e = names_edge(fib, "callees", "fib");
	cr_assert(eq(i64, tu_int(e, "recursive_calls"), 21890), "callee side: recursive");
	cr_assert(eq(i64, tu_int(e, "total_ns"), 0), "callee side: no time");
	e = names_edge(names_fn(p, "main"), "callees", "fib");
	cr_assert(eq(i64, tu_int(e, "total_ns"), tu_int(fib, "total_ns")), "main calls fib for fib's total");
	/* A function without recursion: the edge's time is the function's. */
	leaf = names_fn(p, "leaf");
	e = names_edge(leaf, "callers", "loop");
	cr_assert(eq(i64, tu_int(e, "recursive_calls"), 0), "loop -> leaf not recursive");
	cr_assert(eq(i64, tu_int(e, "total_ns"), tu_int(leaf, "total_ns")), "loop -> leaf carries leaf's total");
	tu_run_free(&r);
}

Test(e2e_names, text_marks_recursive_edges)
{
	struct tu_run r;

	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "--no-memory", "--", TU_PROG("fi_fib")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	cr_assert(strstr(r.err, "fib 21890x recursive") != NULL, "called by fib: recursive, no time:\n%s", r.err);
	tu_run_free(&r);
}

/* --- one row per thread (fi_tsd) ----------------------------------------- */

/* function_timing.threads rows with this tid. */
static int names_tid_rows(json_t *proc, long long tid)
{
	json_t *th = tu_arr(proc, "function_timing.threads");
	int n = 0;

	for (size_t i = 0; i < json_array_size(th); i++)
		n += tu_int(json_array_get(th, i), "tid") == tid;
	return n;
}

/* The one thread row named name; fails unless exactly one. */
static json_t *names_thread(json_t *proc, const char *name)
{
	json_t *th = tu_arr(proc, "function_timing.threads"), *found = NULL;
	int n = 0;

	for (size_t i = 0; i < json_array_size(th); i++) {
		json_t *t = json_array_get(th, i);
		const char *tn = json_string_value(json_object_get(t, "name"));

		if (tn && !strcmp(tn, name)) {
			found = t;
			n++;
		}
	}
	cr_assert(eq(int, n, 1), "function_timing.threads: exactly one row named %s, got %d", name, n);
	return found;
}

Test(e2e_names, tsd_destructor_calls_stay_in_their_threads_row)
{
	struct tu_run r;
	json_t *p, *t;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("fi_tsd"), "1"));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	cr_assert(eq(str, r.out, "tsd=1\n"), "the program's output");
	p = tu_proc(r.json, 0);
	cr_assert(eq(i64, names_calls(p, "cleanup_step"), 7), "the destructor's calls are recorded");
	t = names_thread(p, "tsd-0");
	cr_assert(eq(int, names_tid_rows(p, tu_int(t, "tid")), 1), "one row for the thread's tid");
	cr_assert(eq(i64, tu_int(t, "calls"), 59), "worker + 50 work_step + tsd_cleanup + 7 cleanup_step");
	cr_assert(eq(sz, json_array_size(tu_arr(p, "function_timing.threads")), 2), "main and the worker");
	tu_run_free(&r);
}

/* The second thread usually takes the first one's record over; whatever
 * the agent did, each thread is one row and no call is lost or doubled. */
Test(e2e_names, threads_after_a_reused_record_are_one_row_each)
{
	struct tu_run r;
	json_t *p, *th, *t0, *t1;
	long long sum = 0;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("fi_tsd"), "2"));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	p = tu_proc(r.json, 0);
	th = tu_arr(p, "function_timing.threads");
	for (size_t i = 0; i < json_array_size(th); i++) {
		long long tid = tu_int(json_array_get(th, i), "tid");

		cr_assert(eq(int, names_tid_rows(p, tid), 1), "tid %lld: one row", tid);
		sum += tu_int(json_array_get(th, i), "calls");
	}
	cr_assert(eq(sz, json_array_size(th), 3), "main and two workers");
	cr_assert(eq(i64, sum, tu_int(p, "function_timing.calls")), "rows add up to every call");
	t0 = names_thread(p, "tsd-0");
	t1 = names_thread(p, "tsd-1");
	cr_assert(ne(i64, tu_int(t0, "tid"), tu_int(t1, "tid")), "two threads, two tids");
	cr_assert(eq(i64, tu_int(t0, "calls") + tu_int(t1, "calls"), 2 * 59), "the workers' calls");
	tu_run_free(&r);
}
