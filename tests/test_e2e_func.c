/*
 * End-to-end function timing: ptrace-run on programs built with
 * -finstrument-functions (tests/progs/fi_*), whose call counts are known
 * exactly (see the comment at the top of each), checked in the JSON
 * report. Times are checked only where the truth is known: a sleep of a
 * known length bracketed by the program's own clock, and the correction
 * against an uninstrumented twin measured in the same run.
 */
#include "testutil.h"

/* processes[i].functions entry named name; fails unless exactly one. */
static json_t *fn_named(json_t *proc, const char *name)
{
	json_t *fns = tu_arr(proc, "functions"), *found = NULL;
	int n = 0;

	for (size_t i = 0; i < json_array_size(fns); i++) {
		json_t *f = json_array_get(fns, i);
		const char *fn = json_string_value(json_object_get(f, "name"));

		if (fn && !strcmp(fn, name)) {
			found = f;
			n++;
		}
	}
	cr_assert(eq(int, n, 1), "functions[]: expected exactly one named %s, got %d", name, n);
	return found;
}

static int has_fn(json_t *proc, const char *name)
{
	json_t *fns = tu_arr(proc, "functions");

	for (size_t i = 0; i < json_array_size(fns); i++) {
		const char *fn = json_string_value(json_object_get(json_array_get(fns, i), "name"));
		if (fn && !strcmp(fn, name))
			return 1;
	}
	return 0;
}

static void assert_calls(json_t *proc, const char *name, long long calls, long long recursive)
{
	json_t *f = fn_named(proc, name);

	cr_assert(eq(i64, tu_int(f, "calls"), calls), "%s calls", name);
	cr_assert(eq(i64, tu_int(f, "recursive_calls"), recursive), "%s recursive_calls", name);
}

/* The child of call-tree node n for function name, or NULL. */
static json_t *kid(json_t *n, const char *name)
{
	json_t *kids = n ? json_object_get(n, "children") : NULL;

	for (size_t i = 0; i < json_array_size(kids); i++) {
		json_t *k = json_array_get(kids, i);
		const char *fn = json_string_value(json_object_get(k, "function"));

		if (fn && !strcmp(fn, name))
			return k;
	}
	return NULL;
}

/* The node at the end of a path of names from the root; fails if none. */
static json_t *path(json_t *proc, const char *const *names)
{
	json_t *n = tu_obj(proc, "call_tree");

	for (size_t i = 0; names[i]; i++) {
		n = kid(n, names[i]);
		cr_assert(n != NULL, "call_tree: no node for %s at level %zu", names[i], i + 1);
	}
	return n;
}

static long long caller_calls(json_t *f, const char *name)
{
	json_t *callers = tu_arr(f, "callers");

	for (size_t i = 0; i < json_array_size(callers); i++) {
		json_t *c = json_array_get(callers, i);
		const char *cn = json_string_value(json_object_get(c, "function"));

		if ((!name && !cn) || (name && cn && !strcmp(cn, name)))
			return tu_int(c, "calls");
	}
	return -1;
}

static void assert_clean(json_t *proc, const char *what)
{
	cr_assert(eq(i64, tu_int(proc, "function_timing.unmatched_exits"), 0), "%s: unmatched exits", what);
	cr_assert(eq(i64, tu_int(proc, "function_timing.calls_beyond_max_depth"), 0), "%s: calls beyond depth", what);
	cr_assert(eq(i64, tu_int(proc, "function_timing.dropped"), 0), "%s: dropped", what);
}

static long long stdout_value(const struct tu_run *r, const char *key)
{
	const char *p = strstr(r->out, key);

	cr_assert(p != NULL, "stdout has %s: %s", key, r->out);
	return atoll(p + strlen(key));
}

Test(e2e_func, fib_and_a_loop_of_leaf_calls_are_exact)
{
	int fib_line = tu_marker_line(TU_SRC("fi_fib.c"), "@fn:fib");
	struct tu_run r;
	json_t *p, *fib;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("fi_fib")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	cr_assert(eq(str, r.out, "6765\n"), "the program's output");
	p = tu_proc(r.json, 0);
	assert_calls(p, "main", 1, 0);
	assert_calls(p, "loop", 1, 0);
	assert_calls(p, "leaf", 100000, 0);
	assert_calls(p, "fib", 21891, 21890);
	fib = fn_named(p, "fib");
	cr_assert(eq(i64, caller_calls(fib, "main"), 1), "fib called by main once");
	cr_assert(eq(i64, caller_calls(fib, "fib"), 21890), "fib called by fib");
	cr_assert(eq(i64, caller_calls(fn_named(p, "leaf"), "loop"), 100000), "leaf called by loop");
	cr_assert(tu_ends_with(tu_str(fib, "file"), TU_SRC("fi_fib.c")), "fib's file");
	cr_assert(eq(i64, tu_int(fib, "line"), fib_line), "fib's line");
	cr_assert(tu_ends_with(tu_str(fib, "module"), "/fi_fib"), "fib's module");
	cr_assert(eq(i64, tu_int(p, "function_timing.max_depth"), 21), "deepest stack: main + 20 fib");
	cr_assert(eq(i64, tu_int(p, "function_timing.calls"), 1 + 1 + 100000 + 21891), "all calls");
	cr_assert(eq(i64, tu_int(p, "function_timing.unwound_frames"), 0), "nothing unwound");
	assert_clean(p, "fi_fib");
	cr_assert(eq(i64, tu_int(path(p, TU_LIST("main", "loop", "leaf")), "calls"), 100000), "main/loop/leaf");
	cr_assert(eq(i64, tu_int(path(p, TU_LIST("main", "fib", "fib")), "calls"), 2), "fib(20) calls fib twice");
	cr_assert(eq(i64, tu_int(r.json, "agent.unmatched_exits"), 0), "agent.unmatched_exits");
	/* Inclusive time counted once per outermost call: fib's total is its
	 * one outermost call's, within main's. */
	cr_assert(le(i64, tu_int(fib, "total_ns"), tu_int(fn_named(p, "main"), "total_ns")), "fib total <= main total");
	cr_assert(eq(i64, tu_int(fib, "min_ns"), tu_int(fib, "total_ns")), "one outermost call of fib");
	tu_run_free(&r);
}

Test(e2e_func, text_report_has_every_section)
{
	static const char *const want[] = {
	    "functions (-finstrument-functions): 121893 calls of 4 functions",
	    "hook cost",
	    "top functions by self time:",
	    "hotspots by self time",
	    "hotspots by inclusive time:",
	    "call tree",
	    "fib [recursion",
	    "callers and callees",
	    "slowest calls:",
	    "#1 ",
	};
	struct tu_run r;

	/* Raw times: what the tree shows must not depend on the correction. */
	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "--no-memory", "--correct-times=0", "--", TU_PROG("fi_fib")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert(strstr(r.err, want[i]) != NULL, "the text report has \"%s\":\n%s", want[i], r.err);
	tu_run_free(&r);
}

Test(e2e_func, unmodified_binary_has_no_function_section)
{
	struct tu_run r;
	json_t *p;

	tu_profile(&r, NULL, TU_LIST("--", TU_PROG("heap_counts")));
	p = tu_proc(r.json, 0);
	cr_assert(eq(ptr, json_object_get(p, "functions"), NULL), "no functions[]");
	cr_assert(eq(ptr, json_object_get(p, "call_tree"), NULL), "no call_tree");
	cr_assert(eq(ptr, json_object_get(p, "function_timing"), NULL), "no function_timing");
	cr_assert(strstr(r.err, "rebuild with -finstrument-functions") != NULL, "the text says how to get one: %s",
		  r.err);
	tu_run_free(&r);
}

Test(e2e_func, longjmp_out_of_nested_frames_keeps_counts_exact)
{
	struct tu_run r;
	json_t *p, *run;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("fi_longjmp")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	p = tu_proc(r.json, 0);
	assert_calls(p, "a", 1000, 0);
	assert_calls(p, "b", 1000, 0);
	assert_calls(p, "c", 1000, 0);
	assert_calls(p, "after", 10, 0);
	assert_calls(p, "run", 1, 0);
	cr_assert(eq(i64, tu_int(fn_named(p, "c"), "unwound_calls"), 1000), "c unwound");
	cr_assert(eq(i64, tu_int(p, "function_timing.unwound_frames"), 3000), "a, b, c: 3000 frames unwound");
	assert_clean(p, "fi_longjmp");
	cr_assert(eq(i64, tu_int(path(p, TU_LIST("main", "run", "a", "b", "c")), "calls"), 1000), "run/a/b/c");
	run = path(p, TU_LIST("main", "run"));
	cr_assert(eq(i64, tu_int(kid(run, "after"), "calls"), 10), "after is run's callee, no drift");
	cr_assert(eq(sz, json_array_size(tu_arr(fn_named(p, "after"), "callers")), 1), "after has one caller");
	tu_run_free(&r);
}

Test(e2e_func, signal_handlers_nest_and_calls_inside_hooks_are_counted)
{
	struct tu_run r;
	json_t *p;
	long long alarms, tracked, in_hooks;

	tu_profile(&r, NULL, TU_LIST("-q", "--no-memory", "--", TU_PROG("fi_signal")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	p = tu_proc(r.json, 0);
	assert_calls(p, "on_usr1", 100, 0);
	assert_calls(p, "handler_work", 100, 0);
	cr_assert(eq(i64, caller_calls(fn_named(p, "on_usr1"), "work"), 100), "the handler nests in work()");
	assert_calls(p, "on_usr2", 50, 0);
	assert_calls(p, "escape", 50, 0);
	cr_assert(eq(i64, tu_int(fn_named(p, "escape"), "unwound_calls"), 50), "escape left by siglongjmp");
	cr_assert(eq(i64, tu_int(fn_named(p, "on_usr2"), "unwound_calls"), 50), "on_usr2 left by siglongjmp");
	assert_calls(p, "tick", 500000, 0);
	alarms = stdout_value(&r, "alarms=");
	tracked = has_fn(p, "on_alarm") ? tu_int(fn_named(p, "on_alarm"), "calls") : 0;
	in_hooks = tu_int(p, "function_timing.calls_in_hooks");
	cr_assert(eq(i64, tracked + in_hooks, alarms),
		  "every alarm handler call is either recorded (%lld) or "
		  "counted as inside a hook (%lld)",
		  tracked, in_hooks);
	cr_assert(eq(i64, tu_int(p, "function_timing.unwound_frames"), 100), "on_usr2 and escape, 50 each");
	assert_clean(p, "fi_signal");
	tu_run_free(&r);
}

Test(e2e_func, cxx_exception_through_five_frames)
{
	static const char *const f[] = {"f1(int)", "f2(int)", "f3(int)", "f4(int)", "f5(int)"};
	struct tu_run r;
	json_t *p;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("fi_throw")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	cr_assert(eq(str, r.out, "caught=1000\n"), "the program's output");
	p = tu_proc(r.json, 0);
	for (size_t i = 0; i < 5; i++) {
		assert_calls(p, f[i], 1000, 0);
		cr_assert(eq(i64, tu_int(fn_named(p, f[i]), "unwound_calls"), 0), "%s: exit hooks ran in the cleanups",
			  f[i]);
	}
	assert_calls(p, "thrower()", 1, 0);
	cr_assert(eq(i64, tu_int(p, "function_timing.unwound_frames"), 0), "nothing unwound");
	assert_clean(p, "fi_throw");
	cr_assert(
	    eq(i64,
	       tu_int(path(p, TU_LIST("main", "thrower()", "f1(int)", "f2(int)", "f3(int)", "f4(int)", "f5(int)")),
		      "calls"),
	       1000),
	    "the throwing path");
	tu_run_free(&r);
}

Test(e2e_func, sixteen_threads_in_twenty_waves)
{
	struct tu_run r;
	json_t *p, *threads;
	long long tids[20 * 16];
	size_t ntids = 0;

	tu_profile(&r, NULL, TU_LIST("-q", "--no-memory", "--", TU_PROG("fi_threads")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	p = tu_proc(r.json, 0);
	assert_calls(p, "thread_main", 320, 0);
	assert_calls(p, "worker", 320, 0);
	assert_calls(p, "step", 34400, 0);
	assert_calls(p, "run_waves", 1, 0);
	assert_clean(p, "fi_threads");
	cr_assert(eq(i64, caller_calls(fn_named(p, "thread_main"), NULL), 320), "thread_main starts its threads");
	threads = tu_arr(p, "function_timing.threads");
	for (int w = 0; w < 20; w++) {
		for (int t = 0; t < 16; t++) {
			char name[16];
			json_t *found = NULL;
			int n = 0;

			snprintf(name, sizeof(name), "w%d-t%d", w, t);
			for (size_t i = 0; i < json_array_size(threads); i++) {
				json_t *th = json_array_get(threads, i);
				const char *tn = json_string_value(json_object_get(th, "name"));
				if (tn && !strcmp(tn, name)) {
					found = th;
					n++;
				}
			}
			cr_assert(eq(int, n, 1), "one thread named %s", name);
			cr_assert(eq(i64, tu_int(found, "calls"), 102 + t), "%s calls: thread_main, worker, %d steps",
				  name, 100 + t);
			tids[ntids] = tu_int(found, "tid");
			for (size_t k = 0; k < ntids; k++)
				cr_assert(ne(i64, tids[k], tids[ntids]), "%s has a tid of its own", name);
			ntids++;
		}
	}
	cr_assert(eq(sz, json_array_size(threads), 321), "320 workers and the main thread");
	tu_run_free(&r);
}

Test(e2e_func, threads_exiting_inside_their_calls)
{
	struct tu_run r;
	json_t *p;

	tu_profile(&r, NULL, TU_LIST("-q", "--no-memory", "--", TU_PROG("fi_pexit")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	p = tu_proc(r.json, 0);
	assert_calls(p, "thread_main", 4, 0);
	assert_calls(p, "outer", 4, 0);
	assert_calls(p, "inner", 4, 0);
	assert_calls(p, "after", 5, 0);
	cr_assert(eq(i64, tu_int(fn_named(p, "inner"), "unwound_calls"), 4), "inner closed at thread exit");
	cr_assert(eq(i64, tu_int(p, "function_timing.unwound_frames"), 12), "three frames per thread");
	cr_assert(eq(i64, tu_int(path(p, TU_LIST("thread_main", "outer", "inner")), "calls"), 4), "the threads' path");
	assert_clean(p, "fi_pexit");
	tu_run_free(&r);
}

Test(e2e_func, dlopened_instrumented_plugin)
{
	int leaf_line = tu_marker_line(TU_SRC("plugin/fiplugin.c"), "@plugin:leaf");
	struct tu_run r;
	json_t *p, *leaf;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("fi_dlopen")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	p = tu_proc(r.json, 0);
	assert_calls(p, "plugin_entry", 3, 0);
	assert_calls(p, "plugin_leaf", 1250, 0);
	assert_calls(p, "call_plugin", 3, 0);
	leaf = fn_named(p, "plugin_leaf");
	cr_assert(tu_ends_with(tu_str(leaf, "module"), "/libfiplugin.so"), "plugin_leaf's module: %s",
		  tu_str(leaf, "module"));
	cr_assert(tu_ends_with(tu_str(leaf, "file"), TU_SRC("plugin/fiplugin.c")), "plugin_leaf's file");
	cr_assert(eq(i64, tu_int(leaf, "line"), leaf_line), "plugin_leaf's line");
	cr_assert(
	    eq(i64,
	       tu_int(path(p, TU_LIST("main", "load_and_call", "call_plugin", "plugin_entry", "plugin_leaf")), "calls"),
	       1250),
	    "the path into the plugin, both loads merged");
	assert_clean(p, "fi_dlopen");
	tu_run_free(&r);
}

Test(e2e_func, recursion_100000_deep_is_capped_and_counted)
{
	struct tu_run r;
	json_t *p;

	tu_profile(&r, NULL, TU_LIST("-q", "--no-memory", "--", TU_PROG("fi_deep")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	cr_assert(eq(str, r.out, "100000\n"), "the program's output");
	p = tu_proc(r.json, 0);
	assert_calls(p, "deep", 65535, 65534);
	cr_assert(eq(i64, tu_int(p, "function_timing.calls_beyond_max_depth"), 34465), "the rest counted");
	cr_assert(eq(i64, tu_int(p, "function_timing.max_depth"), 65536), "deepest tracked");
	cr_assert(eq(i64, tu_int(p, "function_timing.max_call_depth"), 65536), "the default cap");
	cr_assert(eq(i64, tu_int(p, "function_timing.unmatched_exits"), 0), "no unmatched exit");
	tu_run_free(&r);
}

Test(e2e_func, recursion_100000_deep_is_tracked_with_a_higher_cap)
{
	struct tu_run r;
	json_t *p, *n;
	int depth = 0, truncated = 0;

	tu_profile(&r, TU_LIST("PTRACE_MAX_CALL_DEPTH=200000"), TU_LIST("-q", "--no-memory", "--", TU_PROG("fi_deep")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	p = tu_proc(r.json, 0);
	assert_calls(p, "deep", 100000, 99999);
	assert_clean(p, "fi_deep");
	cr_assert(eq(i64, tu_int(p, "function_timing.max_depth"), 100001), "descend + 100000 deep");
	/* The JSON tree stops at a depth a JSON parser takes, and says so. */
	for (n = path(p, TU_LIST("descend")); n; n = kid(n, "deep"), depth++)
		truncated |= json_is_true(json_object_get(n, "truncated"));
	cr_assert(truncated, "the deep path is marked truncated");
	cr_assert(lt(int, depth, 1000), "JSON tree depth bounded: %d", depth);
	tu_run_free(&r);
}

Test(e2e_func, allocations_are_attributed_to_the_allocating_function)
{
	struct tu_run r;
	json_t *p, *child, *parent, *main_fn;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("fi_alloc")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	p = tu_proc(r.json, 0);
	child = fn_named(p, "child");
	parent = fn_named(p, "parent");
	main_fn = fn_named(p, "main");
	cr_assert(eq(i64, tu_int(child, "self_allocations"), 6), "child self allocations");
	cr_assert(eq(i64, tu_int(child, "self_alloc_bytes"), 120), "child self bytes");
	cr_assert(eq(i64, tu_int(child, "allocations"), 6), "child inclusive allocations");
	cr_assert(eq(i64, tu_int(parent, "self_allocations"), 2), "parent self allocations");
	cr_assert(eq(i64, tu_int(parent, "self_alloc_bytes"), 200), "parent self bytes");
	cr_assert(eq(i64, tu_int(parent, "allocations"), 8), "parent inclusive allocations");
	cr_assert(eq(i64, tu_int(parent, "alloc_bytes"), 320), "parent inclusive bytes");
	cr_assert(eq(i64, tu_int(main_fn, "self_allocations"), 0), "main self allocations");
	cr_assert(eq(i64, tu_int(main_fn, "allocations"), 8), "main inclusive allocations");
	cr_assert(eq(i64, tu_int(main_fn, "alloc_bytes"), 320), "main inclusive bytes");
	cr_assert(eq(i64, tu_int(path(p, TU_LIST("main", "parent", "child")), "alloc_bytes"), 120), "tree node bytes");
	cr_assert(eq(i64, tu_int(tu_memory(r.json, 0), "allocations"), 8), "the heap profile agrees");
	tu_run_free(&r);
}

/* Tolerance of a time compared with the program's own CLOCK_MONOTONIC:
 * the tick-to-ns ratio is calibrated against that clock over the whole
 * run (two clock pairs a few tens of ns apart each: < 1e-6 of a 100 ms
 * run), and a time in the report differs from a bracketing measurement by
 * the hooks' cost (tens of ns, subtracted). 1e-4 of the value plus 2 us
 * covers both a hundred times over and is still far below a scheduling
 * delay, so neither bound can pass by accident. */
static long long tol(long long ns)
{
	return ns / 10000 + 2000;
}

Test(e2e_func, sleeping_function_time_is_bracketed_by_the_truth)
{
	struct tu_run r;
	json_t *p, *s;
	long long total, outside_total, outside_max;

	tu_profile(&r, NULL, TU_LIST("-q", "--no-memory", "--", TU_PROG("fi_sleep")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	outside_total = stdout_value(&r, "outside_total_ns=");
	outside_max = stdout_value(&r, "outside_max_ns=");
	p = tu_proc(r.json, 0);
	s = fn_named(p, "sleeper");
	cr_assert(eq(i64, tu_int(s, "calls"), 5), "sleeper calls");
	total = tu_int(s, "total_ns");
	/* nanosleep sleeps at least 20 ms each: a lower bound ... */
	cr_assert(ge(i64, total + tol(total), 5 * 20000000LL), "total %lld >= 5 x 20 ms", total);
	cr_assert(ge(i64, tu_int(s, "min_ns") + tol(20000000), 20000000), "min >= 20 ms");
	/* ... and main's own clock around each call, hooks included, an upper. */
	cr_assert(le(i64, total, outside_total + tol(outside_total)), "total %lld <= measured outside %lld", total,
		  outside_total);
	cr_assert(le(i64, tu_int(s, "max_ns"), outside_max + tol(outside_max)), "max <= the longest measured outside");
	cr_assert(le(i64, tu_int(s, "p50_ns"), tu_int(s, "max_ns")), "p50 <= max");
	cr_assert(ge(i64, tu_int(s, "p50_ns"), tu_int(s, "min_ns")), "p50 >= min");
	cr_assert(eq(i64, json_array_size(tu_arr(s, "slowest")), 5), "all 5 calls kept");
	cr_assert(eq(i64, json_array_size(tu_arr(fn_named(p, "noop"), "slowest")), 10), "noop: its 10 slowest");
	tu_run_free(&r);
}

Test(e2e_func, min_duration_keeps_only_long_calls)
{
	struct tu_run r;
	json_t *p, *slow;

	tu_profile(&r, NULL, TU_LIST("-q", "--no-memory", "--min-duration=1ms", "--", TU_PROG("fi_sleep")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	p = tu_proc(r.json, 0);
	cr_assert(eq(i64, tu_int(p, "function_timing.min_duration_ns"), 1000000), "min_duration_ns");
	cr_assert(eq(sz, json_array_size(tu_arr(fn_named(p, "noop"), "slowest")), 0), "no short call kept");
	cr_assert(eq(i64, tu_int(fn_named(p, "noop"), "calls"), 200), "but every call counted");
	cr_assert(eq(sz, json_array_size(tu_arr(fn_named(p, "sleeper"), "slowest")), 5), "the 5 sleeps kept");
	slow = tu_arr(p, "slowest_calls");
	cr_assert(eq(sz, json_array_size(slow), 6), "main and the 5 sleeps, nothing else");
	cr_assert(eq(str, (char *)tu_str(json_array_get(slow, 0), "function"), "main"), "main is the slowest");
	for (size_t i = 1; i < json_array_size(slow); i++)
		cr_assert(ge(i64, tu_int(json_array_get(slow, i), "duration_ns"), 1000000),
			  "slowest_calls[%zu] >= 1 ms", i);
	tu_run_free(&r);
}

/* outer's fastest call in the report, less the twin's fastest run. */
static long long correct_error(int correct, int *corrected)
{
	struct tu_run r;
	json_t *p;
	long long err;

	tu_profile(&r, NULL,
		   TU_LIST("-q", "--no-memory", correct ? "--correct-times=1" : "--correct-times=0", "--",
			   TU_PROG("fi_correct")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	p = tu_proc(r.json, 0);
	*corrected = tu_bool(p, "function_timing.corrected");
	cr_assert(gt(dbl, tu_num(p, "function_timing.hook_ns"), 0), "the hook cost is reported");
	err = tu_int(fn_named(p, "outer"), "min_ns") - stdout_value(&r, "twin_min_ns=");
	tu_run_free(&r);
	return err < 0 ? -err : err;
}

/*
 * The default, correcting, must be closer to the truth: outer's 20000
 * callees cost 20000 hook pairs (~0.6 ms here) in a raw time, against a
 * ~0.7 ms truth. The corrected time misses by the difference between the
 * cost measured at start and the cost in place, a fraction of that.
 */
Test(e2e_func, correcting_for_the_hook_cost_is_closer_to_the_truth)
{
	int corrected_on, corrected_off;
	long long err_on = correct_error(1, &corrected_on), err_off = correct_error(0, &corrected_off);

	cr_assert(corrected_on, "--correct-times=1: corrected");
	cr_assert(not(corrected_off), "--correct-times=0: raw");
	cr_assert(lt(i64, err_on, err_off), "corrected misses by %lld ns, raw by %lld ns", err_on, err_off);
}

Test(e2e_func, exclude_folds_a_function_into_its_caller)
{
	struct tu_run r;
	json_t *p, *loop;

	tu_profile(&r, NULL,
		   TU_LIST("-q", "--no-memory", "--correct-times=0", "--exclude=leaf", "--", TU_PROG("fi_fib")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	p = tu_proc(r.json, 0);
	cr_assert(not(has_fn(p, "leaf")), "leaf left out");
	loop = fn_named(p, "loop");
	cr_assert(eq(i64, tu_int(loop, "self_ns"), tu_int(loop, "total_ns")), "leaf's time is loop's own now");
	cr_assert(eq(i64, tu_int(p, "function_timing.hidden_calls"), 100000), "hidden calls");
	cr_assert(eq(sz, json_array_size(tu_arr(path(p, TU_LIST("main", "loop")), "children")), 0), "no callee");
	cr_assert(eq(str, (char *)tu_str(r.json, "agent.function_exclude"), "leaf"), "agent.function_exclude");
	assert_calls(p, "fib", 21891, 21890);
	tu_run_free(&r);
}

Test(e2e_func, filter_keeps_only_matching_functions)
{
	struct tu_run r;
	json_t *p, *fib, *root;

	tu_profile(&r, TU_LIST("PTRACE_FILTER=fi*"), TU_LIST("-q", "--no-memory", "--", TU_PROG("fi_fib")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	p = tu_proc(r.json, 0);
	cr_assert(eq(sz, json_array_size(tu_arr(p, "functions")), 1), "only fib");
	fib = fn_named(p, "fib");
	cr_assert(eq(i64, tu_int(fib, "calls"), 21891), "fib calls unchanged");
	cr_assert(eq(i64, caller_calls(fib, NULL), 1), "main hidden: fib called from the thread's top");
	cr_assert(eq(i64, tu_int(p, "function_timing.hidden_calls"), 100002), "main, loop, leaf hidden");
	root = tu_obj(p, "call_tree");
	cr_assert(eq(sz, json_array_size(tu_arr(root, "children")), 1), "one top-level node");
	cr_assert(eq(str, (char *)tu_str(json_array_get(tu_arr(root, "children"), 0), "function"), "fib"), "fib");
	tu_run_free(&r);
}

Test(e2e_func, fork_child_rebuilds_its_stack)
{
	struct tu_run r;
	json_t *parent = NULL, *child = NULL, *procs;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("fi_fork")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	procs = tu_arr(r.json, "processes");
	cr_assert(eq(sz, json_array_size(procs), 2), "parent and child");
	for (size_t i = 0; i < 2; i++) {
		json_t *pp = json_array_get(procs, i);
		if (tu_bool(pp, "forked"))
			child = pp;
		else
			parent = pp;
	}
	cr_assert(parent && child, "one forked process");
	assert_calls(parent, "main", 1, 0);
	assert_calls(parent, "spawn", 1, 0);
	assert_calls(parent, "parent_work", 3, 0);
	cr_assert(not(has_fn(parent, "child_work")), "the child's calls are not the parent's");
	assert_calls(child, "main", 1, 0);
	assert_calls(child, "spawn", 1, 0);
	assert_calls(child, "child_work", 10, 0);
	cr_assert(not(has_fn(child, "parent_work")), "the parent's calls are not the child's");
	cr_assert(eq(i64, tu_int(path(child, TU_LIST("main", "spawn", "child_work")), "calls"), 10), "child's tree");
	assert_clean(parent, "parent");
	assert_clean(child, "child");
	tu_run_free(&r);
}

Test(e2e_func, bad_function_setting_stops_before_the_program)
{
	struct tu_run r;

	tu_run(&r, &(struct tu_opts){.env = TU_LIST("PTRACE_MAX_CALL_DEPTH=0")},
	       TU_LIST(TU_LAUNCHER, "-q", "--", TU_PROG("fi_fib")));
	cr_assert(eq(int, r.exit_code, 2), "launcher exit code");
	cr_assert(eq(int, tu_count_lines(r.err, r.err_len), 1), "one line: %s", r.err);
	cr_assert(strstr(r.err, "PTRACE_MAX_CALL_DEPTH") != NULL, "names the variable: %s", r.err);
	cr_assert(eq(sz, r.out_len, 0), "the program did not run");
	tu_run_free(&r);
}
