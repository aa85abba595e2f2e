/*
 * End-to-end function timing: ptrace-run on programs built with
 * -finstrument-functions (tests/progs/fi_*), whose call counts are known
 * exactly (see the comment at the top of each), checked in the JSON
 * report. Times are checked only where the truth is known: a busy wait or
 * sleep of a known length bracketed by the program's own clock, and the
 * correction against an uninstrumented twin measured in the same run.
 *
 * Every test of an instrumented program runs once per build of it (the
 * Makefile's FI_VARIANTS): -O0 -fno-inline, gcc -O2, -O3, -O2 with frame
 * pointers, -O2 -D_FORTIFY_SOURCE=2 and clang -O2. The optimizer inlines
 * instrumented functions (their hooks then run at the caller's stack
 * pointer), ends void functions with `jmp __cyg_profile_func_exit` after
 * the epilogue, clones and merges frames: the answers stay the same, and
 * where a build could legitimately change one the program, not the
 * expected number, was changed (tests/progs/fi_opt.h). Every message names
 * the build.
 */
#include "testutil.h"

#include <criterion/parameterized.h>

/* A build of the fi_* programs: build/progs/<dir>fi_NAME. Plain arrays:
 * Criterion hands the parameter to a re-executed copy of this binary,
 * where a pointer into it would be stale. */
struct variant {
	char name[16];
	char dir[16];
};

static struct variant variants[] = {
    {"O0", ""}, {"O2", "O2/"}, {"O3", "O3/"}, {"clang-O2", "clang/"}, {"O2fp", "O2fp/"}, {"O2fortify", "O2fortify/"},
};

/* The build the current test runs on (each test is a process of its own). */
static struct variant var = {"O0", ""};
#define V var.name

static int is_clang(void)
{
	return !strncmp(var.name, "clang", 5);
}

/*
 * Test(e2e_func, name) once per build: the body sees the build in var.
 */
#define VTEST(tname)                                                                                                   \
	static void tname##_body(void);                                                                                \
	ParameterizedTestParameters(e2e_func, tname)                                                                   \
	{                                                                                                              \
		return cr_make_param_array(struct variant, variants, sizeof variants / sizeof variants[0]);            \
	}                                                                                                              \
	ParameterizedTest(struct variant *v, e2e_func, tname)                                                          \
	{                                                                                                              \
		var = *v;                                                                                              \
		tname##_body();                                                                                        \
	}                                                                                                              \
	static void tname##_body(void)

/* ./build/progs/<this build's dir>name; valid for the next 7 calls. */
static const char *prog(const char *name)
{
	static char buf[8][256];
	static unsigned k;
	char *b = buf[k++ % 8];

	cr_assert(snprintf(b, sizeof buf[0], "./build/progs/%s%s", var.dir, name) < (int)sizeof buf[0],
		  "%s: program path too long", V);
	return b;
}

/* JSON lookups whose failure names the build. */
static json_t *jget(json_t *v, const char *path)
{
	json_t *x = tu_get(v, path);

	cr_assert(x != NULL, "%s: JSON %s is missing", V, path);
	return x;
}

static long long jint(json_t *v, const char *path)
{
	json_t *x = jget(v, path);

	cr_assert(tu_is_integer(x), "%s: JSON %s: expected an integer, got %s", V, path, tu_type_name(x));
	return json_integer_value(x);
}

static json_t *jarr(json_t *v, const char *path)
{
	json_t *x = jget(v, path);

	cr_assert(tu_is_array(x), "%s: JSON %s: expected an array, got %s", V, path, tu_type_name(x));
	return x;
}

static json_t *jobj(json_t *v, const char *path)
{
	json_t *x = jget(v, path);

	cr_assert(tu_is_object(x), "%s: JSON %s: expected an object, got %s", V, path, tu_type_name(x));
	return x;
}

static const char *jstr(json_t *v, const char *path)
{
	json_t *x = jget(v, path);

	cr_assert(tu_is_string(x), "%s: JSON %s: expected a string, got %s", V, path, tu_type_name(x));
	return json_string_value(x);
}

static int jbool(json_t *v, const char *path)
{
	json_t *x = jget(v, path);

	cr_assert(tu_is_boolean(x), "%s: JSON %s: expected a boolean, got %s", V, path, tu_type_name(x));
	return json_is_true(x);
}

static double jnum(json_t *v, const char *path)
{
	json_t *x = jget(v, path);

	cr_assert(tu_is_number(x), "%s: JSON %s: expected a number, got %s", V, path, tu_type_name(x));
	return json_number_value(x);
}

static json_t *jproc(json_t *report, size_t i)
{
	json_t *procs = jarr(report, "processes");

	cr_assert(i < json_array_size(procs), "%s: JSON processes: expected more than %zu entries, got %zu", V, i,
		  json_array_size(procs));
	return json_array_get(procs, i);
}

/* processes[i].functions entry named name; fails unless exactly one. */
static json_t *fn_named(json_t *proc, const char *name)
{
	json_t *fns = jarr(proc, "functions"), *found = NULL;
	int n = 0;

	for (size_t i = 0; i < json_array_size(fns); i++) {
		json_t *f = json_array_get(fns, i);
		const char *fn = json_string_value(json_object_get(f, "name"));

		if (fn && !strcmp(fn, name)) {
			found = f;
			n++;
		}
	}
	cr_assert(eq(int, n, 1), "%s: functions[]: expected exactly one named %s, got %d", V, name, n);
	return found;
}

static int has_fn(json_t *proc, const char *name)
{
	json_t *fns = jarr(proc, "functions");

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

	cr_assert(eq(i64, jint(f, "calls"), calls), "%s: %s calls", V, name);
	cr_assert(eq(i64, jint(f, "recursive_calls"), recursive), "%s: %s recursive_calls", V, name);
}

static void assert_unwound(json_t *proc, const char *name, long long unwound)
{
	cr_assert(eq(i64, jint(fn_named(proc, name), "unwound_calls"), unwound), "%s: %s unwound_calls", V, name);
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
	json_t *n = jobj(proc, "call_tree");

	for (size_t i = 0; names[i]; i++) {
		n = kid(n, names[i]);
		cr_assert(n != NULL, "%s: call_tree: no node for %s at level %zu", V, names[i], i + 1);
	}
	return n;
}

static long long caller_calls(json_t *f, const char *name)
{
	json_t *callers = jarr(f, "callers");

	for (size_t i = 0; i < json_array_size(callers); i++) {
		json_t *c = json_array_get(callers, i);
		const char *cn = json_string_value(json_object_get(c, "function"));

		if ((!name && !cn) || (name && cn && !strcmp(cn, name)))
			return jint(c, "calls");
	}
	return -1;
}

static void assert_clean(json_t *proc, const char *what)
{
	cr_assert(eq(i64, jint(proc, "function_timing.unmatched_exits"), 0), "%s: %s: unmatched exits", V, what);
	cr_assert(eq(i64, jint(proc, "function_timing.calls_beyond_max_depth"), 0), "%s: %s: calls beyond depth", V,
		  what);
	cr_assert(eq(i64, jint(proc, "function_timing.dropped"), 0), "%s: %s: dropped", V, what);
}

static long long stdout_value(const struct tu_run *r, const char *key)
{
	const char *p = strstr(r->out, key);

	cr_assert(p != NULL, "%s: stdout has %s: %s", V, key, r->out);
	return atoll(p + strlen(key));
}

/* Tolerance of a time compared with the program's own CLOCK_MONOTONIC:
 * the tick-to-ns ratio is calibrated against that clock over the whole
 * run (two clock pairs a few tens of ns apart each: < 1e-6 of a 100 ms
 * run), and a time in the report differs from a bracketing measurement by
 * the hooks' cost (tens of ns, subtracted). 1e-4 of the value plus 2 us
 * covers both a hundred times over and is still far below a scheduling
 * delay, so neither bound can pass by accident. Where a bound adds up
 * many calls, the tests take raw times (--correct-times=0): then every
 * recorded interval holds the work it brackets and lies within the
 * program's measurement around the call, with no per-call estimate in
 * between, and tol() holds whatever the number of calls. */
static long long tol(long long ns)
{
	return ns / 10000 + 2000;
}

VTEST(fib_and_a_loop_of_leaf_calls_are_exact)
{
	int fib_line = tu_marker_line(TU_SRC("fi_fib.c"), "@fn:fib");
	struct tu_run r;
	json_t *p, *fib;

	tu_profile(&r, NULL, TU_LIST("-q", "--", prog("fi_fib")));
	cr_assert(eq(int, r.exit_code, 0), "%s: exit code; stderr: %s", V, r.err);
	cr_assert(eq(str, r.out, "6765\n"), "%s: the program's output", V);
	p = jproc(r.json, 0);
	assert_calls(p, "main", 1, 0);
	assert_calls(p, "loop", 1, 0);
	assert_calls(p, "leaf", 100000, 0);
	assert_calls(p, "fib", 21891, 21890);
	fib = fn_named(p, "fib");
	cr_assert(eq(i64, caller_calls(fib, "main"), 1), "%s: fib called by main once", V);
	cr_assert(eq(i64, caller_calls(fib, "fib"), 21890), "%s: fib called by fib", V);
	cr_assert(eq(i64, caller_calls(fn_named(p, "leaf"), "loop"), 100000), "%s: leaf called by loop", V);
	cr_assert(eq(i64, jint(p, "function_timing.max_depth"), 21), "%s: deepest stack: main + 20 fib", V);
	cr_assert(eq(i64, jint(p, "function_timing.calls"), 1 + 1 + 100000 + 21891), "%s: all calls", V);
	cr_assert(eq(i64, jint(p, "function_timing.unwound_frames"), 0), "%s: nothing unwound", V);
	assert_clean(p, "fi_fib");
	cr_assert(eq(i64, jint(path(p, TU_LIST("main", "loop", "leaf")), "calls"), 100000), "%s: main/loop/leaf", V);
	cr_assert(eq(i64, jint(path(p, TU_LIST("main", "fib", "fib")), "calls"), 2), "%s: fib(20) calls fib twice", V);
	cr_assert(eq(i64, jint(r.json, "agent.unmatched_exits"), 0), "%s: agent.unmatched_exits", V);
	/* Inclusive time counted once per outermost call: fib's total is its
	 * one outermost call's, within main's. */
	cr_assert(le(i64, jint(fib, "total_ns"), jint(fn_named(p, "main"), "total_ns")), "%s: fib total <= main total", V);
	cr_assert(eq(i64, jint(fib, "min_ns"), jint(fib, "total_ns")), "%s: one outermost call of fib", V);
	/* Last: symbolization is not the hooks' business, and a failure of
	 * it should not hide theirs. */
	cr_assert(tu_ends_with(jstr(fib, "module"), "/fi_fib"), "%s: fib's module", V);
	cr_assert(tu_ends_with(jstr(fib, "file"), TU_SRC("fi_fib.c")), "%s: fib's file", V);
	cr_assert(eq(i64, jint(fib, "line"), fib_line), "%s: fib's line", V);
	tu_run_free(&r);
}

VTEST(text_report_has_every_section)
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
	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "--no-memory", "--correct-times=0", "--", prog("fi_fib")));
	cr_assert(eq(int, r.exit_code, 0), "%s: exit code; stderr: %s", V, r.err);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert(strstr(r.err, want[i]) != NULL, "%s: the text report has \"%s\":\n%s", V, want[i], r.err);
	tu_run_free(&r);
}

Test(e2e_func, unmodified_binary_has_no_function_section)
{
	struct tu_run r;
	json_t *p;

	tu_profile(&r, NULL, TU_LIST("--", TU_PROG("heap_counts")));
	p = jproc(r.json, 0);
	cr_assert(eq(ptr, json_object_get(p, "functions"), NULL), "%s: no functions[]", V);
	cr_assert(eq(ptr, json_object_get(p, "call_tree"), NULL), "%s: no call_tree", V);
	cr_assert(eq(ptr, json_object_get(p, "function_timing"), NULL), "%s: no function_timing", V);
	cr_assert(strstr(r.err, "rebuild with -finstrument-functions") != NULL, "%s: the text says how to get one: %s", V,
		  r.err);
	tu_run_free(&r);
}

VTEST(longjmp_out_of_nested_frames_keeps_counts_exact)
{
	struct tu_run r;
	json_t *p, *run;

	tu_profile(&r, NULL, TU_LIST("-q", "--", prog("fi_longjmp")));
	cr_assert(eq(int, r.exit_code, 0), "%s: exit code; stderr: %s", V, r.err);
	p = jproc(r.json, 0);
	assert_calls(p, "a", 1000, 0);
	assert_calls(p, "b", 1000, 0);
	assert_calls(p, "c", 1000, 0);
	assert_calls(p, "after", 10, 0);
	assert_calls(p, "run", 1, 0);
	cr_assert(eq(i64, jint(fn_named(p, "c"), "unwound_calls"), 1000), "%s: c unwound", V);
	cr_assert(eq(i64, jint(p, "function_timing.unwound_frames"), 3000), "%s: a, b, c: 3000 frames unwound", V);
	assert_clean(p, "fi_longjmp");
	cr_assert(eq(i64, jint(path(p, TU_LIST("main", "run", "a", "b", "c")), "calls"), 1000), "%s: run/a/b/c", V);
	run = path(p, TU_LIST("main", "run"));
	cr_assert(eq(i64, jint(kid(run, "after"), "calls"), 10), "%s: after is run's callee, no drift", V);
	cr_assert(eq(sz, json_array_size(jarr(fn_named(p, "after"), "callers")), 1), "%s: after has one caller", V);
	tu_run_free(&r);
}

VTEST(signal_handlers_nest_and_calls_inside_hooks_are_counted)
{
	struct tu_run r;
	json_t *p;
	long long alarms, tracked, in_hooks;

	tu_profile(&r, NULL, TU_LIST("-q", "--no-memory", "--", prog("fi_signal")));
	cr_assert(eq(int, r.exit_code, 0), "%s: exit code; stderr: %s", V, r.err);
	p = jproc(r.json, 0);
	assert_calls(p, "on_usr1", 100, 0);
	assert_calls(p, "handler_work", 100, 0);
	cr_assert(eq(i64, caller_calls(fn_named(p, "on_usr1"), "work"), 100), "%s: the handler nests in work()", V);
	assert_calls(p, "on_usr2", 50, 0);
	assert_calls(p, "escape", 50, 0);
	cr_assert(eq(i64, jint(fn_named(p, "escape"), "unwound_calls"), 50), "%s: escape left by siglongjmp", V);
	cr_assert(eq(i64, jint(fn_named(p, "on_usr2"), "unwound_calls"), 50), "%s: on_usr2 left by siglongjmp", V);
	assert_calls(p, "tick", 500000, 0);
	alarms = stdout_value(&r, "alarms=");
	tracked = has_fn(p, "on_alarm") ? jint(fn_named(p, "on_alarm"), "calls") : 0;
	in_hooks = jint(p, "function_timing.calls_in_hooks");
	cr_assert(eq(i64, tracked + in_hooks, alarms),
		  "%s: every alarm handler call is either recorded (%lld) or "
		  "counted as inside a hook (%lld)", V,
		  tracked, in_hooks);
	cr_assert(eq(i64, jint(p, "function_timing.unwound_frames"), 100), "%s: on_usr2 and escape, 50 each", V);
	assert_clean(p, "fi_signal");
	tu_run_free(&r);
}

/*
 * g++ calls the exit hooks of the frames an exception unwinds in their
 * cleanups; clang++ calls the exit hook only before a return (objdump -d
 * build/progs/clang/fi_throw: no landing pad calls it). Under clang the
 * five frames are left without it, like a longjmp, and must be closed
 * once they are gone: unwound 1000 each, the tree still the throwing path
 * 7 deep (a stale frame left open would put the next f1 under f5).
 */
VTEST(cxx_exception_through_five_frames)
{
	static const char *const f[] = {"f1(int)", "f2(int)", "f3(int)", "f4(int)", "f5(int)"};
	long long unwound = is_clang() ? 1000 : 0;
	struct tu_run r;
	json_t *p;

	tu_profile(&r, NULL, TU_LIST("-q", "--", prog("fi_throw")));
	cr_assert(eq(int, r.exit_code, 0), "%s: exit code; stderr: %s", V, r.err);
	cr_assert(eq(str, r.out, "caught=1000\n"), "%s: the program's output", V);
	p = jproc(r.json, 0);
	for (size_t i = 0; i < 5; i++) {
		assert_calls(p, f[i], 1000, 0);
		cr_assert(eq(i64, jint(fn_named(p, f[i]), "unwound_calls"), unwound),
			  "%s: %s: exit hooks ran in the cleanups (g++) or the frames were closed (clang++)", V, f[i]);
	}
	assert_calls(p, "thrower()", 1, 0);
	cr_assert(eq(i64, caller_calls(fn_named(p, "f1(int)"), "thrower()"), 1000), "%s: f1 called by thrower", V);
	cr_assert(eq(sz, json_array_size(jarr(fn_named(p, "f1(int)"), "callers")), 1), "%s: f1 has one caller", V);
	cr_assert(eq(i64, jint(p, "function_timing.unwound_frames"), 5 * unwound), "%s: frames unwound", V);
	cr_assert(eq(i64, jint(p, "function_timing.max_depth"), 7), "%s: deepest stack main, thrower, f1..f5", V);
	assert_clean(p, "fi_throw");
	cr_assert(
	    eq(i64,
	       jint(path(p, TU_LIST("main", "thrower()", "f1(int)", "f2(int)", "f3(int)", "f4(int)", "f5(int)")),
		      "calls"),
	       1000),
	    "%s: the throwing path", V);
	tu_run_free(&r);
}

VTEST(sixteen_threads_in_twenty_waves)
{
	struct tu_run r;
	json_t *p, *threads;
	long long tids[20 * 16];
	size_t ntids = 0;

	tu_profile(&r, NULL, TU_LIST("-q", "--no-memory", "--", prog("fi_threads")));
	cr_assert(eq(int, r.exit_code, 0), "%s: exit code; stderr: %s", V, r.err);
	p = jproc(r.json, 0);
	assert_calls(p, "thread_main", 320, 0);
	assert_calls(p, "worker", 320, 0);
	assert_calls(p, "step", 34400, 0);
	assert_calls(p, "run_waves", 1, 0);
	assert_clean(p, "fi_threads");
	cr_assert(eq(i64, caller_calls(fn_named(p, "thread_main"), NULL), 320), "%s: thread_main starts its threads", V);
	threads = jarr(p, "function_timing.threads");
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
			cr_assert(eq(int, n, 1), "%s: one thread named %s", V, name);
			cr_assert(eq(i64, jint(found, "calls"), 102 + t), "%s: %s calls: thread_main, worker, %d steps", V,
				  name, 100 + t);
			tids[ntids] = jint(found, "tid");
			for (size_t k = 0; k < ntids; k++)
				cr_assert(ne(i64, tids[k], tids[ntids]), "%s: %s has a tid of its own", V, name);
			ntids++;
		}
	}
	cr_assert(eq(sz, json_array_size(threads), 321), "%s: 320 workers and the main thread", V);
	tu_run_free(&r);
}

VTEST(threads_exiting_inside_their_calls)
{
	struct tu_run r;
	json_t *p;

	tu_profile(&r, NULL, TU_LIST("-q", "--no-memory", "--", prog("fi_pexit")));
	cr_assert(eq(int, r.exit_code, 0), "%s: exit code; stderr: %s", V, r.err);
	p = jproc(r.json, 0);
	assert_calls(p, "thread_main", 4, 0);
	assert_calls(p, "outer", 4, 0);
	assert_calls(p, "inner", 4, 0);
	assert_calls(p, "after", 5, 0);
	cr_assert(eq(i64, jint(fn_named(p, "inner"), "unwound_calls"), 4), "%s: inner closed at thread exit", V);
	cr_assert(eq(i64, jint(p, "function_timing.unwound_frames"), 12), "%s: three frames per thread", V);
	cr_assert(eq(i64, jint(path(p, TU_LIST("thread_main", "outer", "inner")), "calls"), 4), "%s: the threads' path", V);
	assert_clean(p, "fi_pexit");
	tu_run_free(&r);
}

VTEST(dlopened_instrumented_plugin)
{
	int leaf_line = tu_marker_line(TU_SRC("plugin/fiplugin.c"), "@plugin:leaf");
	char module[64];
	struct tu_run r;
	json_t *p, *leaf;

	tu_profile(&r, NULL, TU_LIST("-q", "--", prog("fi_dlopen")));
	cr_assert(eq(int, r.exit_code, 0), "%s: exit code; stderr: %s", V, r.err);
	p = jproc(r.json, 0);
	assert_calls(p, "plugin_entry", 3, 0);
	assert_calls(p, "plugin_leaf", 1250, 0);
	assert_calls(p, "call_plugin", 3, 0);
	cr_assert(
	    eq(i64,
	       jint(path(p, TU_LIST("main", "load_and_call", "call_plugin", "plugin_entry", "plugin_leaf")), "calls"),
	       1250),
	    "%s: the path into the plugin, both loads merged", V);
	assert_clean(p, "fi_dlopen");
	/* Last, as in the fib test. The plugin is built like the program and
	 * lies next to it. */
	leaf = fn_named(p, "plugin_leaf");
	snprintf(module, sizeof module, "/progs/%slibfiplugin.so", var.dir);
	cr_assert(tu_ends_with(jstr(leaf, "module"), module), "%s: plugin_leaf's module: %s, expected one ending in %s",
		  V, jstr(leaf, "module"), module);
	cr_assert(tu_ends_with(jstr(leaf, "file"), TU_SRC("plugin/fiplugin.c")), "%s: plugin_leaf's file", V);
	cr_assert(eq(i64, jint(leaf, "line"), leaf_line), "%s: plugin_leaf's line", V);
	tu_run_free(&r);
}

VTEST(recursion_100000_deep_is_capped_and_counted)
{
	struct tu_run r;
	json_t *p;

	tu_profile(&r, NULL, TU_LIST("-q", "--no-memory", "--", prog("fi_deep")));
	cr_assert(eq(int, r.exit_code, 0), "%s: exit code; stderr: %s", V, r.err);
	cr_assert(eq(str, r.out, "100000\n"), "%s: the program's output", V);
	p = jproc(r.json, 0);
	assert_calls(p, "deep", 65535, 65534);
	cr_assert(eq(i64, jint(p, "function_timing.calls_beyond_max_depth"), 34465), "%s: the rest counted", V);
	cr_assert(eq(i64, jint(p, "function_timing.max_depth"), 65536), "%s: deepest tracked", V);
	cr_assert(eq(i64, jint(p, "function_timing.max_call_depth"), 65536), "%s: the default cap", V);
	cr_assert(eq(i64, jint(p, "function_timing.unmatched_exits"), 0), "%s: no unmatched exit", V);
	tu_run_free(&r);
}

VTEST(recursion_100000_deep_is_tracked_with_a_higher_cap)
{
	struct tu_run r;
	json_t *p, *n;
	int depth = 0, truncated = 0;

	tu_profile(&r, TU_LIST("PTRACE_MAX_CALL_DEPTH=200000"), TU_LIST("-q", "--no-memory", "--", prog("fi_deep")));
	cr_assert(eq(int, r.exit_code, 0), "%s: exit code; stderr: %s", V, r.err);
	p = jproc(r.json, 0);
	assert_calls(p, "deep", 100000, 99999);
	assert_clean(p, "fi_deep");
	cr_assert(eq(i64, jint(p, "function_timing.max_depth"), 100001), "%s: descend + 100000 deep", V);
	/* The JSON tree stops at a depth a JSON parser takes, and says so. */
	for (n = path(p, TU_LIST("descend")); n; n = kid(n, "deep"), depth++)
		truncated |= json_is_true(json_object_get(n, "truncated"));
	cr_assert(truncated, "%s: the deep path is marked truncated", V);
	cr_assert(lt(int, depth, 1000), "%s: JSON tree depth bounded: %d", V, depth);
	tu_run_free(&r);
}

VTEST(allocations_are_attributed_to_the_allocating_function)
{
	struct tu_run r;
	json_t *p, *child, *parent, *main_fn;

	tu_profile(&r, NULL, TU_LIST("-q", "--", prog("fi_alloc")));
	cr_assert(eq(int, r.exit_code, 0), "%s: exit code; stderr: %s", V, r.err);
	p = jproc(r.json, 0);
	child = fn_named(p, "child");
	parent = fn_named(p, "parent");
	main_fn = fn_named(p, "main");
	cr_assert(eq(i64, jint(child, "self_allocations"), 6), "%s: child self allocations", V);
	cr_assert(eq(i64, jint(child, "self_alloc_bytes"), 120), "%s: child self bytes", V);
	cr_assert(eq(i64, jint(child, "allocations"), 6), "%s: child inclusive allocations", V);
	cr_assert(eq(i64, jint(parent, "self_allocations"), 2), "%s: parent self allocations", V);
	cr_assert(eq(i64, jint(parent, "self_alloc_bytes"), 200), "%s: parent self bytes", V);
	cr_assert(eq(i64, jint(parent, "allocations"), 8), "%s: parent inclusive allocations", V);
	cr_assert(eq(i64, jint(parent, "alloc_bytes"), 320), "%s: parent inclusive bytes", V);
	cr_assert(eq(i64, jint(main_fn, "self_allocations"), 0), "%s: main self allocations", V);
	cr_assert(eq(i64, jint(main_fn, "allocations"), 8), "%s: main inclusive allocations", V);
	cr_assert(eq(i64, jint(main_fn, "alloc_bytes"), 320), "%s: main inclusive bytes", V);
	cr_assert(eq(i64, jint(path(p, TU_LIST("main", "parent", "child")), "alloc_bytes"), 120), "%s: tree node bytes", V);
	cr_assert(eq(i64, jint(tu_memory(r.json, 0), "allocations"), 8), "%s: the heap profile agrees", V);
	tu_run_free(&r);
}

VTEST(sleeping_function_time_is_bracketed_by_the_truth)
{
	struct tu_run r;
	json_t *p, *s;
	long long total, outside_total, outside_max;

	tu_profile(&r, NULL, TU_LIST("-q", "--no-memory", "--", prog("fi_sleep")));
	cr_assert(eq(int, r.exit_code, 0), "%s: exit code; stderr: %s", V, r.err);
	outside_total = stdout_value(&r, "outside_total_ns=");
	outside_max = stdout_value(&r, "outside_max_ns=");
	p = jproc(r.json, 0);
	s = fn_named(p, "sleeper");
	cr_assert(eq(i64, jint(s, "calls"), 5), "%s: sleeper calls", V);
	total = jint(s, "total_ns");
	/* nanosleep sleeps at least 20 ms each: a lower bound ... */
	cr_assert(ge(i64, total + tol(total), 5 * 20000000LL), "%s: total %lld >= 5 x 20 ms", V, total);
	cr_assert(ge(i64, jint(s, "min_ns") + tol(20000000), 20000000), "%s: min >= 20 ms", V);
	/* ... and main's own clock around each call, hooks included, an upper. */
	cr_assert(le(i64, total, outside_total + tol(outside_total)), "%s: total %lld <= measured outside %lld", V, total,
		  outside_total);
	cr_assert(le(i64, jint(s, "max_ns"), outside_max + tol(outside_max)), "%s: max <= the longest measured outside", V);
	cr_assert(le(i64, jint(s, "p50_ns"), jint(s, "max_ns")), "%s: p50 <= max", V);
	cr_assert(ge(i64, jint(s, "p50_ns"), jint(s, "min_ns")), "%s: p50 >= min", V);
	cr_assert(eq(i64, json_array_size(jarr(s, "slowest")), 5), "%s: all 5 calls kept", V);
	cr_assert(eq(i64, json_array_size(jarr(fn_named(p, "noop"), "slowest")), 10), "%s: noop: its 10 slowest", V);
	tu_run_free(&r);
}

VTEST(min_duration_keeps_only_long_calls)
{
	struct tu_run r;
	json_t *p, *slow;

	tu_profile(&r, NULL, TU_LIST("-q", "--no-memory", "--min-duration=1ms", "--", prog("fi_sleep")));
	cr_assert(eq(int, r.exit_code, 0), "%s: exit code; stderr: %s", V, r.err);
	p = jproc(r.json, 0);
	cr_assert(eq(i64, jint(p, "function_timing.min_duration_ns"), 1000000), "%s: min_duration_ns", V);
	cr_assert(eq(sz, json_array_size(jarr(fn_named(p, "noop"), "slowest")), 0), "%s: no short call kept", V);
	cr_assert(eq(i64, jint(fn_named(p, "noop"), "calls"), 200), "%s: but every call counted", V);
	cr_assert(eq(sz, json_array_size(jarr(fn_named(p, "sleeper"), "slowest")), 5), "%s: the 5 sleeps kept", V);
	slow = jarr(p, "slowest_calls");
	cr_assert(eq(sz, json_array_size(slow), 6), "%s: main and the 5 sleeps, nothing else", V);
	cr_assert(eq(str, (char *)jstr(json_array_get(slow, 0), "function"), "main"), "%s: main is the slowest", V);
	for (size_t i = 1; i < json_array_size(slow); i++)
		cr_assert(ge(i64, jint(json_array_get(slow, i), "duration_ns"), 1000000),
			  "%s: slowest_calls[%zu] >= 1 ms", V, i);
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
			   prog("fi_correct")));
	cr_assert(eq(int, r.exit_code, 0), "%s: exit code; stderr: %s", V, r.err);
	p = jproc(r.json, 0);
	*corrected = jbool(p, "function_timing.corrected");
	cr_assert(gt(dbl, jnum(p, "function_timing.hook_ns"), 0), "%s: the hook cost is reported", V);
	err = jint(fn_named(p, "outer"), "min_ns") - stdout_value(&r, "twin_min_ns=");
	tu_run_free(&r);
	return err < 0 ? -err : err;
}

/* The smallest error of three runs: a disturbed run (the other core's
 * test jobs, a noisy machine) only ever makes it larger (a CI run once
 * saw 2.6 ms corrected against 2.0 ms raw, both three times the truth). */
static long long correct_error_best(int correct, int *corrected)
{
	long long best = correct_error(correct, corrected);

	for (int i = 0; i < 2; i++) {
		long long e = correct_error(correct, corrected);

		if (e < best)
			best = e;
	}
	return best;
}

/*
 * The default, correcting, must be closer to the truth: outer's 20000
 * callees cost 20000 hook pairs (~0.6 ms here) in a raw time, against a
 * ~0.7 ms truth. The corrected time misses by the difference between the
 * cost measured at start and the cost in place, a fraction of that.
 */
VTEST(correcting_for_the_hook_cost_is_closer_to_the_truth)
{
	int corrected_on, corrected_off;
	long long err_on = correct_error_best(1, &corrected_on), err_off = correct_error_best(0, &corrected_off);

	cr_assert(corrected_on, "%s: --correct-times=1: corrected", V);
	cr_assert(not(corrected_off), "%s: --correct-times=0: raw", V);
	cr_assert(lt(i64, err_on, err_off), "%s: corrected misses by %lld ns, raw by %lld ns", V, err_on, err_off);
}

VTEST(exclude_folds_a_function_into_its_caller)
{
	struct tu_run r;
	json_t *p, *loop;

	tu_profile(&r, NULL,
		   TU_LIST("-q", "--no-memory", "--correct-times=0", "--exclude=leaf", "--", prog("fi_fib")));
	cr_assert(eq(int, r.exit_code, 0), "%s: exit code; stderr: %s", V, r.err);
	p = jproc(r.json, 0);
	cr_assert(not(has_fn(p, "leaf")), "%s: leaf left out", V);
	loop = fn_named(p, "loop");
	cr_assert(eq(i64, jint(loop, "self_ns"), jint(loop, "total_ns")), "%s: leaf's time is loop's own now", V);
	cr_assert(eq(i64, jint(p, "function_timing.hidden_calls"), 100000), "%s: hidden calls", V);
	cr_assert(eq(sz, json_array_size(jarr(path(p, TU_LIST("main", "loop")), "children")), 0), "%s: no callee", V);
	cr_assert(eq(str, (char *)jstr(r.json, "agent.function_exclude"), "leaf"), "%s: agent.function_exclude", V);
	assert_calls(p, "fib", 21891, 21890);
	tu_run_free(&r);
}

VTEST(filter_keeps_only_matching_functions)
{
	struct tu_run r;
	json_t *p, *fib, *root;

	tu_profile(&r, TU_LIST("PTRACE_FILTER=fi*"), TU_LIST("-q", "--no-memory", "--", prog("fi_fib")));
	cr_assert(eq(int, r.exit_code, 0), "%s: exit code; stderr: %s", V, r.err);
	p = jproc(r.json, 0);
	cr_assert(eq(sz, json_array_size(jarr(p, "functions")), 1), "%s: only fib", V);
	fib = fn_named(p, "fib");
	cr_assert(eq(i64, jint(fib, "calls"), 21891), "%s: fib calls unchanged", V);
	cr_assert(eq(i64, caller_calls(fib, NULL), 1), "%s: main hidden: fib called from the thread's top", V);
	cr_assert(eq(i64, jint(p, "function_timing.hidden_calls"), 100002), "%s: main, loop, leaf hidden", V);
	root = jobj(p, "call_tree");
	cr_assert(eq(sz, json_array_size(jarr(root, "children")), 1), "%s: one top-level node", V);
	cr_assert(eq(str, (char *)jstr(json_array_get(jarr(root, "children"), 0), "function"), "fib"), "%s: fib", V);
	tu_run_free(&r);
}

VTEST(fork_child_rebuilds_its_stack)
{
	struct tu_run r;
	json_t *parent = NULL, *child = NULL, *procs;

	tu_profile(&r, NULL, TU_LIST("-q", "--", prog("fi_fork")));
	cr_assert(eq(int, r.exit_code, 0), "%s: exit code; stderr: %s", V, r.err);
	procs = jarr(r.json, "processes");
	cr_assert(eq(sz, json_array_size(procs), 2), "%s: parent and child", V);
	for (size_t i = 0; i < 2; i++) {
		json_t *pp = json_array_get(procs, i);
		if (jbool(pp, "forked"))
			child = pp;
		else
			parent = pp;
	}
	cr_assert(parent && child, "%s: one forked process", V);
	assert_calls(parent, "main", 1, 0);
	assert_calls(parent, "spawn", 1, 0);
	assert_calls(parent, "parent_work", 3, 0);
	cr_assert(not(has_fn(parent, "child_work")), "%s: the child's calls are not the parent's", V);
	assert_calls(child, "main", 1, 0);
	assert_calls(child, "spawn", 1, 0);
	assert_calls(child, "child_work", 10, 0);
	cr_assert(not(has_fn(child, "parent_work")), "%s: the parent's calls are not the child's", V);
	cr_assert(eq(i64, jint(path(child, TU_LIST("main", "spawn", "child_work")), "calls"), 10), "%s: child's tree", V);
	assert_clean(parent, "parent");
	assert_clean(child, "child");
	tu_run_free(&r);
}

Test(e2e_func, bad_function_setting_stops_before_the_program)
{
	struct tu_run r;

	tu_run(&r, &(struct tu_opts){.env = TU_LIST("PTRACE_MAX_CALL_DEPTH=0")},
	       TU_LIST(TU_LAUNCHER, "-q", "--", prog("fi_fib")));
	cr_assert(eq(int, r.exit_code, 2), "%s: launcher exit code", V);
	cr_assert(eq(int, tu_count_lines(r.err, r.err_len), 1), "%s: one line: %s", V, r.err);
	cr_assert(strstr(r.err, "PTRACE_MAX_CALL_DEPTH") != NULL, "%s: names the variable: %s", V, r.err);
	cr_assert(eq(sz, r.out_len, 0), "%s: the program did not run", V);
	tu_run_free(&r);
}

/* --- optimized code: inlining, sibling calls, recursion ----------------- */

/* total_ns of function name in proc. */
static long long fn_total(json_t *proc, const char *name)
{
	return jint(fn_named(proc, name), "total_ns");
}

/* Check the figures every test of a clean run checks. */
static void assert_nothing_unwound(json_t *proc, const char *what)
{
	cr_assert(eq(i64, jint(proc, "function_timing.unwound_frames"), 0), "%s: %s: nothing unwound", V, what);
	assert_clean(proc, what);
}

/*
 * Optimized, sq is inlined into outer and its hooks run at outer's stack
 * pointer: still a call of its own, under outer, with its own time. Raw
 * times (see tol()): both bounds strict.
 */
VTEST(inlined_callee_keeps_its_calls_and_its_time)
{
	const long long calls = 1000, outer_ns = 20000, sq_ns = 10000;
	struct tu_run r;
	json_t *p, *outer, *sq;
	long long outside, sq_outside, total, self, sq_self;

	tu_profile(&r, NULL, TU_LIST("-q", "--no-memory", "--correct-times=0", "--", prog("fi_inline")));
	cr_assert(eq(int, r.exit_code, 0), "%s: exit code; stderr: %s", V, r.err);
	outside = stdout_value(&r, "outer_outside_ns=");
	sq_outside = stdout_value(&r, "sq_outside_ns=");
	p = jproc(r.json, 0);
	assert_calls(p, "outer", calls, 0);
	assert_calls(p, "sq", calls, 0);
	assert_calls(p, "main", 1, 0);
	outer = fn_named(p, "outer");
	sq = fn_named(p, "sq");
	cr_assert(eq(i64, caller_calls(sq, "outer"), calls), "%s: sq called by outer", V);
	cr_assert(eq(sz, json_array_size(jarr(sq, "callers")), 1), "%s: sq has one caller, outer", V);
	cr_assert(eq(i64, jint(path(p, TU_LIST("main", "outer", "sq")), "calls"), calls), "%s: main/outer/sq", V);
	cr_assert(eq(sz, json_array_size(jarr(path(p, TU_LIST("main", "outer", "sq")), "children")), 0),
		  "%s: nothing under sq", V);
	cr_assert(eq(i64, jint(p, "function_timing.max_depth"), 3), "%s: deepest stack main, outer, sq", V);
	assert_nothing_unwound(p, "fi_inline");
	total = jint(outer, "total_ns");
	self = jint(outer, "self_ns");
	sq_self = jint(sq, "self_ns");
	cr_assert(ge(i64, total + tol(total), calls * (outer_ns + sq_ns)), "%s: outer total %lld >= %lld x 30 us", V,
		  total, calls);
	cr_assert(le(i64, total, outside + tol(outside)), "%s: outer total %lld <= %lld measured around it", V, total,
		  outside);
	cr_assert(ge(i64, self + tol(self), calls * outer_ns), "%s: outer self %lld >= %lld x 20 us", V, self, calls);
	cr_assert(le(i64, self, outside - calls * sq_ns + tol(outside)),
		  "%s: outer self %lld <= %lld measured around outer less sq's 10 us a call", V, self, outside);
	cr_assert(ge(i64, sq_self + tol(sq_self), calls * sq_ns), "%s: sq self %lld >= %lld x 10 us", V, sq_self, calls);
	cr_assert(le(i64, sq_self, sq_outside + tol(sq_outside)), "%s: sq self %lld <= %lld measured around it", V,
		  sq_self, sq_outside);
	cr_assert(eq(i64, jint(sq, "total_ns"), sq_self), "%s: sq is a leaf: total = self", V);
	tu_run_free(&r);
}

/*
 * gcc -O2 ends rec, mid and work with `jmp __cyg_profile_func_exit` after
 * the epilogue (see tests/progs/fi_tail.c): the exit hook runs above the
 * frame it closes. The same pairs as at -O0.
 */
VTEST(sibling_call_exits_close_the_right_frames)
{
	static const char *const chain[] = {"rec", "mid", "rec", "mid", "rec", "mid", "rec", "mid", "rec"};
	struct tu_run r;
	json_t *p, *n, *work;
	long long work_total;

	tu_profile(&r, NULL, TU_LIST("-q", "--no-memory", "--correct-times=0", "--", prog("fi_tail")));
	cr_assert(eq(int, r.exit_code, 0), "%s: exit code; stderr: %s", V, r.err);
	cr_assert(eq(str, r.out, "done\n"), "%s: the program's output", V);
	p = jproc(r.json, 0);
	assert_calls(p, "main", 1, 0);
	assert_calls(p, "rec", 500, 400);
	assert_calls(p, "mid", 400, 300);
	assert_calls(p, "work", 500, 0);
	work = fn_named(p, "work");
	cr_assert(eq(i64, caller_calls(work, "mid"), 400), "%s: work called by mid", V);
	cr_assert(eq(i64, caller_calls(work, "rec"), 100), "%s: work called by rec (n == 0)", V);
	cr_assert(eq(i64, caller_calls(fn_named(p, "rec"), "main"), 100), "%s: rec called by main", V);
	cr_assert(eq(i64, caller_calls(fn_named(p, "rec"), "mid"), 400), "%s: rec called by mid", V);
	cr_assert(eq(i64, jint(p, "function_timing.calls"), 1 + 500 + 400 + 500), "%s: all calls", V);
	cr_assert(eq(i64, jint(p, "function_timing.max_depth"), 11), "%s: deepest stack main, 9 of rec/mid, work", V);
	/* Down the path: each mid calls work and rec, each rec but the last
	 * calls mid, and the last, rec(0), calls work. */
	n = path(p, TU_LIST("main"));
	for (size_t i = 0; i < sizeof chain / sizeof chain[0]; i++) {
		int is_mid = !strcmp(chain[i], "mid");

		n = kid(n, chain[i]);
		cr_assert(n != NULL, "%s: call_tree: no %s at level %zu", V, chain[i], i + 2);
		cr_assert(eq(i64, jint(n, "calls"), 100), "%s: %s at level %zu: 100 calls", V, chain[i], i + 2);
		cr_assert(eq(sz, json_array_size(jarr(n, "children")), is_mid ? 2 : 1), "%s: %s at level %zu: %s", V,
			  chain[i], i + 2, is_mid ? "two callees, work and rec" : "one callee");
		if (is_mid || i + 1 == sizeof chain / sizeof chain[0]) {
			json_t *w = kid(n, "work");

			cr_assert(ne(ptr, w, NULL), "%s: %s at level %zu calls work", V, chain[i], i + 2);
			cr_assert(eq(i64, jint(w, "calls"), 100), "%s: work at level %zu: 100 calls", V, i + 3);
			cr_assert(eq(sz, json_array_size(jarr(w, "children")), 0), "%s: work at level %zu calls nothing", V,
				  i + 3);
		}
	}
	assert_nothing_unwound(p, "fi_tail");
	work_total = jint(work, "total_ns");
	cr_assert(ge(i64, work_total + tol(work_total), 500 * 20000LL), "%s: work total %lld >= 500 x 20 us", V,
		  work_total);
	cr_assert(ge(i64, fn_total(p, "rec"), work_total), "%s: rec total %lld >= work total %lld", V,
		  fn_total(p, "rec"), work_total);
	cr_assert(ge(i64, fn_total(p, "main"), fn_total(p, "rec")), "%s: main total >= rec total", V);
	tu_run_free(&r);
}

VTEST(mutual_recursion_through_three_functions)
{
	static const char *const f[] = {"mod_a", "mod_b", "mod_c"};
	struct tu_run r;
	json_t *p, *n;
	int depth = 0;

	tu_profile(&r, NULL, TU_LIST("-q", "--no-memory", "--", prog("fi_mutual")));
	cr_assert(eq(int, r.exit_code, 0), "%s: exit code; stderr: %s", V, r.err);
	cr_assert(eq(str, r.out, "sum=20\n"), "%s: the program's output", V);
	p = jproc(r.json, 0);
	assert_calls(p, "main", 1, 0);
	for (size_t i = 0; i < 3; i++)
		assert_calls(p, f[i], 100, 90);
	cr_assert(eq(i64, jint(p, "function_timing.max_depth"), 31), "%s: deepest stack main + 30", V);
	cr_assert(eq(i64, jint(p, "function_timing.calls"), 301), "%s: all calls", V);
	n = path(p, TU_LIST("main"));
	for (json_t *k; (k = kid(n, f[depth % 3])); n = k, depth++) {
		cr_assert(eq(i64, jint(k, "calls"), 10), "%s: %s at level %d: 10 calls", V, f[depth % 3], depth + 2);
		cr_assert(le(sz, json_array_size(jarr(k, "children")), 1), "%s: %s at level %d: one callee at most", V,
			  f[depth % 3], depth + 2);
	}
	cr_assert(eq(int, depth, 30), "%s: the chain under main is 30 calls deep", V);
	cr_assert(eq(sz, json_array_size(jarr(n, "children")), 0), "%s: nothing below the 30th", V);
	cr_assert(eq(sz, json_array_size(jarr(path(p, TU_LIST("main")), "children")), 1), "%s: main calls only mod_a",
		  V);
	assert_nothing_unwound(p, "fi_mutual");
	tu_run_free(&r);
}

/* --- longjmp, coroutines ------------------------------------------------- */

/*
 * What follows a longjmp hangs from the frame that called setjmp, however
 * far below the frames it left baz's frame lies.
 */
static void assert_jump_then_baz(json_t *p, const char *const *left, size_t nleft)
{
	json_t *baz, *mainn;

	assert_calls(p, "main", 1, 0);
	assert_unwound(p, "main", 0);
	for (size_t i = 0; i < nleft; i++) {
		assert_calls(p, left[i], 1, 0);
		assert_unwound(p, left[i], 1);
	}
	assert_calls(p, "baz", 1, 0);
	assert_calls(p, "leaf", 1, 0);
	assert_unwound(p, "baz", 0);
	assert_unwound(p, "leaf", 0);
	baz = fn_named(p, "baz");
	cr_assert(eq(i64, caller_calls(baz, "main"), 1), "%s: baz called by main", V);
	cr_assert(eq(sz, json_array_size(jarr(baz, "callers")), 1), "%s: baz has one caller, main", V);
	cr_assert(eq(i64, jint(path(p, TU_LIST("main", "baz", "leaf")), "calls"), 1), "%s: main/baz/leaf", V);
	mainn = path(p, TU_LIST("main"));
	cr_assert(eq(sz, json_array_size(jarr(mainn, "children")), 2), "%s: main has two callees, %s and baz", V,
		  left[0]);
	/* The frames left behind, a path of their own from main, nothing under
	 * the last one. */
	for (size_t i = 0; i < nleft; i++) {
		mainn = kid(mainn, left[i]);
		cr_assert(mainn != NULL, "%s: call_tree: no %s at level %zu", V, left[i], i + 2);
		cr_assert(eq(i64, jint(mainn, "calls"), 1), "%s: %s: 1 call on the path", V, left[i]);
		cr_assert(eq(ptr, kid(mainn, "baz"), NULL), "%s: baz is not under %s", V, left[i]);
	}
	cr_assert(eq(sz, json_array_size(jarr(mainn, "children")), 0), "%s: nothing under %s", V, left[nleft - 1]);
	cr_assert(eq(i64, jint(p, "function_timing.unwound_frames"), (long long)nleft), "%s: frames unwound", V);
	assert_clean(p, "fi_jmpbig");
}

VTEST(longjmp_to_a_bigger_framed_sibling)
{
	static const char *const left[] = {"foo", "bar"};
	struct tu_run r;

	tu_profile(&r, NULL, TU_LIST("-q", "--no-memory", "--", prog("fi_jmpbig")));
	cr_assert(eq(int, r.exit_code, 0), "%s: exit code; stderr: %s", V, r.err);
	cr_assert(eq(str, r.out, "done\n"), "%s: the program's output", V);
	assert_jump_then_baz(jproc(r.json, 0), left, 2);
	tu_run_free(&r);
}

VTEST(siglongjmp_out_of_a_handler_to_a_bigger_framed_sibling)
{
	static const char *const left[] = {"sig_foo", "on_usr1", "sig_bar"};
	struct tu_run r;

	tu_profile(&r, NULL, TU_LIST("-q", "--no-memory", "--", prog("fi_jmpbig"), "sig"));
	cr_assert(eq(int, r.exit_code, 0), "%s: exit code; stderr: %s", V, r.err);
	cr_assert(eq(str, r.out, "done\n"), "%s: the program's output", V);
	assert_jump_then_baz(jproc(r.json, 0), left, 3);
	tu_run_free(&r);
}

/*
 * A coroutine's frames hang from the function that first resumed it and
 * count only while it runs. Raw times (see tol()).
 */
VTEST(coroutine_frames_hang_from_their_first_resumer)
{
	const long long co_ns = 2000000, main_ns = 5000000;
	struct tu_run r;
	json_t *p, *foo;
	long long co, co_total, wm_total, wc_total, foo_total;

	tu_profile(&r, NULL, TU_LIST("-q", "--no-memory", "--correct-times=0", "--", prog("fi_coro")));
	cr_assert(eq(int, r.exit_code, 0), "%s: exit code; stderr: %s", V, r.err);
	co = stdout_value(&r, "co_ns=");
	p = jproc(r.json, 0);
	assert_calls(p, "main", 1, 0);
	assert_calls(p, "foo", 1, 0);
	assert_calls(p, "co_fn", 1, 0);
	assert_calls(p, "work_co", 3, 0);
	assert_calls(p, "work_main", 4, 0);
	cr_assert(eq(i64, caller_calls(fn_named(p, "co_fn"), "foo"), 1), "%s: co_fn's frame hangs from foo", V);
	cr_assert(eq(sz, json_array_size(jarr(fn_named(p, "co_fn"), "callers")), 1), "%s: co_fn has one caller", V);
	cr_assert(eq(i64, jint(path(p, TU_LIST("main", "foo", "co_fn", "work_co")), "calls"), 3),
		  "%s: main/foo/co_fn/work_co", V);
	cr_assert(eq(i64, jint(path(p, TU_LIST("main", "foo", "work_main")), "calls"), 4), "%s: main/foo/work_main", V);
	foo = path(p, TU_LIST("main", "foo"));
	cr_assert(eq(sz, json_array_size(jarr(foo, "children")), 2), "%s: foo's callees: co_fn and work_main", V);
	cr_assert(eq(i64, jint(p, "function_timing.max_depth"), 4), "%s: deepest stack main, foo, co_fn, work_co", V);
	assert_nothing_unwound(p, "fi_coro");
	co_total = fn_total(p, "co_fn");
	wc_total = fn_total(p, "work_co");
	wm_total = fn_total(p, "work_main");
	foo_total = fn_total(p, "foo");
	cr_assert(ge(i64, wc_total + tol(wc_total), 3 * co_ns), "%s: work_co total %lld >= 3 x 2 ms", V, wc_total);
	cr_assert(ge(i64, wm_total + tol(wm_total), 4 * main_ns), "%s: work_main total %lld >= 4 x 5 ms", V, wm_total);
	cr_assert(ge(i64, co_total + tol(co_total), 3 * co_ns), "%s: co_fn total %lld >= 3 x 2 ms", V, co_total);
	cr_assert(ge(i64, co_total, wc_total), "%s: co_fn total %lld >= its callee work_co's %lld", V, co_total,
		  wc_total);
	/* Suspended, co_fn is not running: its time is what foo measured
	 * around its resumes, not the 3 x 5 ms of work_main in between. */
	cr_assert(le(i64, co_total, co + tol(co)), "%s: co_fn total %lld <= %lld, the time it ran", V, co_total, co);
	cr_assert(ge(i64, foo_total + tol(foo_total), 3 * co_ns + 4 * main_ns), "%s: foo total %lld >= all the work", V,
		  foo_total);
	cr_assert(le(i64, co_total + wm_total, foo_total), "%s: co_fn %lld + work_main %lld within foo's %lld", V,
		  co_total, wm_total, foo_total);
	tu_run_free(&r);
}

/* --- processes that die inside their calls ------------------------------ */

/* processes[] entries: the one not forked and the forked one. */
static void parent_and_child(json_t *report, json_t **parent, json_t **child)
{
	json_t *procs = jarr(report, "processes");

	*parent = *child = NULL;
	cr_assert(eq(sz, json_array_size(procs), 2), "%s: two processes", V);
	for (size_t i = 0; i < 2; i++) {
		json_t *pp = json_array_get(procs, i);

		if (jbool(pp, "forked"))
			*child = pp;
		else
			*parent = pp;
	}
	cr_assert(ne(ptr, *parent, NULL), "%s: one process not forked", V);
	cr_assert(ne(ptr, *child, NULL), "%s: one process forked from the other", V);
}

/*
 * daemon(): the parent ends inside it by glibc's own _exit, which no
 * interposed _exit sees; its frames are closed when it dies.
 */
VTEST(daemon_parent_frames_closed_at_its_death)
{
	static const char *const f[] = {"main", "run", "detach"};
	struct tu_run r;
	json_t *parent, *child;

	tu_profile(&r, NULL, TU_LIST("-q", "--no-memory", "--", prog("fi_daemon")));
	cr_assert(eq(int, r.exit_code, 0), "%s: exit code; stderr: %s", V, r.err);
	cr_assert(eq(str, r.out, "child done\n"), "%s: the child's output", V);
	parent_and_child(r.json, &parent, &child);
	cr_assert(tu_is_object(json_object_get(parent, "function_timing")), "%s: the parent has a function section",
		  V);
	for (size_t i = 0; i < 3; i++) {
		assert_calls(parent, f[i], 1, 0);
		assert_unwound(parent, f[i], 1);
		assert_calls(child, f[i], 1, 0);
		assert_unwound(child, f[i], 0);
	}
	cr_assert(not(has_fn(parent, "after")), "%s: after is the child's", V);
	cr_assert(eq(i64, jint(path(parent, TU_LIST("main", "run", "detach")), "calls"), 1), "%s: parent's tree", V);
	cr_assert(eq(i64, jint(parent, "function_timing.unwound_frames"), 3), "%s: the parent's three frames", V);
	assert_clean(parent, "parent");
	assert_calls(child, "after", 5, 0);
	cr_assert(eq(i64, jint(path(child, TU_LIST("main", "run", "after")), "calls"), 5), "%s: child's tree", V);
	cr_assert(eq(i64, jint(path(child, TU_LIST("main", "run", "detach")), "calls"), 1), "%s: child's detach", V);
	cr_assert(eq(i64, jint(child, "function_timing.unwound_frames"), 0), "%s: the child returns from all", V);
	assert_clean(child, "child");
	tu_run_free(&r);
}

/*
 * fi_die MODE: main -> a -> b, b dies after 50 ms of work. No hook and no
 * exit handler runs: the frames are closed when the process is gone, and
 * b's time runs up to then. Raw times (see tol()).
 */
static void die_in_b(const char *mode, int want_exit)
{
	static const char *const f[] = {"main", "a", "b"};
	struct tu_run r;
	json_t *p;
	long long b_ns, b_total;

	tu_profile(&r, NULL, TU_LIST("-q", "--no-memory", "--correct-times=0", "--", prog("fi_die"), mode));
	cr_assert(eq(int, r.exit_code, want_exit), "%s: %s: ptrace-run's exit code; stderr: %s", V, mode, r.err);
	b_ns = stdout_value(&r, "b_ns=");
	cr_assert(ge(i64, b_ns, 50000000), "%s: %s: the program busy-waited 50 ms", V, mode);
	p = jproc(r.json, 0);
	cr_assert(tu_is_object(json_object_get(p, "function_timing")), "%s: %s: a function section", V, mode);
	for (size_t i = 0; i < 3; i++) {
		assert_calls(p, f[i], 1, 0);
		assert_unwound(p, f[i], 1);
	}
	cr_assert(eq(i64, jint(path(p, TU_LIST("main", "a", "b")), "calls"), 1), "%s: %s: main/a/b", V, mode);
	cr_assert(eq(i64, jint(p, "function_timing.unwound_frames"), 3), "%s: %s: three frames closed", V, mode);
	assert_clean(p, mode);
	b_total = fn_total(p, "b");
	cr_assert(ge(i64, b_total + tol(b_total), b_ns), "%s: %s: b total %lld >= %lld, its time before dying", V, mode,
		  b_total, b_ns);
	cr_assert(le(i64, b_total, fn_total(p, "a")), "%s: %s: b within a", V, mode);
	cr_assert(le(i64, fn_total(p, "a"), fn_total(p, "main")), "%s: %s: a within main", V, mode);
	cr_assert(le(i64, fn_total(p, "main"), jint(p, "duration_ns") + tol(jint(p, "duration_ns"))),
		  "%s: %s: main within the process's life", V, mode);
	tu_run_free(&r);
}

VTEST(abort_from_deep_frames_closes_them)
{
	die_in_b("abort", 128 + SIGABRT);
}

VTEST(sigkill_from_deep_frames_closes_them)
{
	die_in_b("kill", 128 + SIGKILL);
}

VTEST(exit_group_syscall_from_deep_frames_closes_them)
{
	die_in_b("exit_group", 3);
}

/*
 * Another thread's open frames when the process exits: closed at its end,
 * long_call's time running up to then. Raw times (see tol()).
 */
VTEST(thread_inside_a_call_when_another_calls_exit)
{
	static const char *const f[] = {"main", "run", "thread_main", "long_call"};
	struct tu_run r;
	json_t *p;
	long long long_ns, total;

	tu_profile(&r, NULL, TU_LIST("-q", "--no-memory", "--correct-times=0", "--", prog("fi_thexit")));
	cr_assert(eq(int, r.exit_code, 0), "%s: exit code; stderr: %s", V, r.err);
	long_ns = stdout_value(&r, "long_ns=");
	cr_assert(ge(i64, long_ns, 20000000), "%s: the program waited 20 ms", V);
	p = jproc(r.json, 0);
	for (size_t i = 0; i < 4; i++) {
		assert_calls(p, f[i], 1, 0);
		assert_unwound(p, f[i], 1);
	}
	cr_assert(eq(i64, jint(path(p, TU_LIST("thread_main", "long_call")), "calls"), 1),
		  "%s: the thread's tree thread_main/long_call", V);
	cr_assert(eq(i64, jint(path(p, TU_LIST("main", "run")), "calls"), 1), "%s: main/run", V);
	cr_assert(eq(i64, jint(p, "function_timing.unwound_frames"), 4), "%s: four frames closed", V);
	assert_clean(p, "fi_thexit");
	total = fn_total(p, "long_call");
	cr_assert(ge(i64, total + tol(total), long_ns), "%s: long_call total %lld >= %lld, its time before the exit", V,
		  total, long_ns);
	cr_assert(le(i64, total, jint(p, "duration_ns") + tol(jint(p, "duration_ns"))),
		  "%s: long_call within the process's life", V);
	tu_run_free(&r);
}
