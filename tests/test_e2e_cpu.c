/*
 * End-to-end CPU profile, crash reports and stack dumps: ptrace-run on the
 * cpu_* programs of tests/progs/.
 *
 * Tolerances. A sample is one 1 ms period of a thread's CPU-time timer.
 * The kernel checks CPU timers at its tick (250 Hz here), so one SIGPROF
 * stands for several periods (1 + overruns; the report's max_weight is the
 * largest), and they go to the function running when the signal lands.
 * So the samples of a function that runs for T ms in one stretch are T to
 * within one signal's weight at its start and one at its end: the test
 * allows 2 x max_weight + 3 (the +3: the last loop iteration past the
 * deadline, the timer's first period, rounding). Nothing here depends on
 * wall-clock time or machine load: the programs burn CPU time measured by
 * the same clock the timers count.
 */
#include <sys/resource.h>

#include "testutil.h"

/* cpu.functions[] entry named name, or NULL. */
static json_t *cpu_fn(json_t *proc, const char *name)
{
	json_t *fns = tu_arr(proc, "cpu.functions");

	for (size_t i = 0; i < json_array_size(fns); i++) {
		const char *n = json_string_value(json_object_get(json_array_get(fns, i), "name"));
		if (n && !strcmp(n, name))
			return json_array_get(fns, i);
	}
	return NULL;
}

/* Total (or self) samples of function name; 0 when absent. */
static long long fn_samples(json_t *proc, const char *name, const char *which)
{
	json_t *f = cpu_fn(proc, name);

	return f ? tu_int(f, which) : 0;
}

/* cpu.threads[] entry named name; fails unless exactly one. */
static json_t *cpu_thread(json_t *proc, const char *name)
{
	json_t *threads = tu_arr(proc, "cpu.threads"), *found = NULL;
	int n = 0;

	for (size_t i = 0; i < json_array_size(threads); i++) {
		const char *tn = json_string_value(json_object_get(json_array_get(threads, i), "name"));
		if (tn && !strcmp(tn, name)) {
			found = json_array_get(threads, i);
			n++;
		}
	}
	cr_assert(eq(int, n, 1), "cpu.threads: expected exactly one thread named %s", name);
	return found;
}

/* Index of the first frame in function fn, or -1. */
static int frames_find(json_t *frames, const char *fn)
{
	for (size_t i = 0; i < json_array_size(frames); i++)
		if (tu_frame_is(json_array_get(frames, i), fn))
			return (int)i;
	return -1;
}

static void assert_near(long long got, long long want, long long tol, const char *what)
{
	cr_assert(got >= want - tol && got <= want + tol, "%s: %lld samples, expected %lld +- %lld", what, got, want,
		  tol);
}

/* The granularity of attribution in this run, and a sanity bound on it:
 * a signal standing for 100 ms would mean signals held back, a bug. */
static long long weight(json_t *proc)
{
	long long w = tu_int(proc, "cpu.max_weight");

	cr_assert(w >= 1 && w < 100, "cpu.max_weight %lld: one signal per 1..99 periods", w);
	return w;
}

/* --- where the time goes -------------------------------------------------- */

Test(e2e_cpu, shares_60_30_10)
{
	struct tu_run r;
	json_t *p;
	long long w, tol;
	static const struct {
		const char *fn, *marker;
		long long ms;
	} burn[] = {{"burn_60", "@line:burn_60", 600}, {"burn_30", "@line:burn_30", 300}, {"burn_10", "@line:burn_10", 100}};

	tu_profile(&r, NULL, TU_LIST("--", TU_PROG("cpu_shares")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	p = tu_proc(r.json, 0);
	cr_assert(eq(i64, tu_int(r.json, "agent.cpu_hz"), 1000), "agent.cpu_hz defaults to 1000");
	cr_assert(eq(i64, tu_int(p, "cpu.hz"), 1000), "cpu.hz");
	cr_assert(tu_is_null(p, "cpu.stepped_aside"), "the sampler did not step aside");
	w = weight(p);
	tol = 2 * w + 3;
	/* 1000 ms burnt, plus start-up and exit (a few ms). */
	assert_near(tu_int(p, "cpu.samples"), 1000 + 20, 20 + tol, "cpu.samples");
	cr_assert(eq(i64, tu_int(p, "cpu.cpu_ns"), tu_int(p, "cpu.samples") * 1000000), "cpu_ns = samples x 1 ms");
	for (size_t i = 0; i < 3; i++) {
		json_t *f = cpu_fn(p, burn[i].fn);
		long long total;

		cr_assert(f != NULL, "%s is in cpu.functions", burn[i].fn);
		total = tu_int(f, "total_samples");
		assert_near(total, burn[i].ms, tol, burn[i].fn);
		/* Self: the same but for the clock reads of the loop (a system
		 * call: its samples land in clock_gettime), a few percent. */
		cr_assert(tu_int(f, "self_samples") <= total, "%s: self <= total", burn[i].fn);
		cr_assert(tu_int(f, "self_samples") >= total * 85 / 100 - tol, "%s: self samples %lld of %lld",
			  burn[i].fn, tu_int(f, "self_samples"), total);
		cr_assert(tu_ends_with(tu_str(f, "file"), TU_SRC("cpu_shares.c")), "%s: file", burn[i].fn);
		cr_assert(tu_ends_with(tu_str(f, "module"), "/build/progs/cpu_shares"), "%s: module", burn[i].fn);
	}
	/* The hottest line of the longest loop is its body. */
	cr_assert(eq(i64, tu_int(cpu_fn(p, "burn_60"), "line"), tu_marker_line(TU_SRC("cpu_shares.c"), "@line:burn_60")),
		  "burn_60's hottest line");
	cr_assert(eq(str, (char *)tu_str(json_array_get(tu_arr(p, "cpu.functions"), 0), "name"), "burn_60"),
		  "functions by self samples: burn_60 first");
	cr_assert(eq(i64, fn_samples(p, "main", "total_samples"), fn_samples(p, "burn_60", "total_samples") +
									 fn_samples(p, "burn_30", "total_samples") +
									 fn_samples(p, "burn_10", "total_samples")),
		  "main's total is its callees' (it does nothing else)");
	cr_assert(strstr(r.err, "top functions by self samples") && strstr(r.err, "burn_60"),
		  "the text report shows the profile: %s", r.err);
	tu_run_free(&r);
}

/* A flame graph can be drawn from cpu.stacks: they add up, and each is
 * a whole stack down to main. */
Test(e2e_cpu, stacks_add_up_for_a_flame_graph)
{
	struct tu_run r;
	json_t *p, *stacks;
	long long sum = 0;

	tu_profile(&r, NULL, TU_LIST("-q", "--no-memory", "--", TU_PROG("cpu_shares")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	p = tu_proc(r.json, 0);
	stacks = tu_arr(p, "cpu.stacks");
	for (size_t i = 0; i < json_array_size(stacks); i++) {
		json_t *s = json_array_get(stacks, i);
		json_t *frames = tu_arr(s, "frames");

		sum += tu_int(s, "count");
		cr_assert(gt(sz, json_array_size(frames), 0), "stacks[%zu] has frames", i);
		if (i > 0)
			cr_assert(le(i64, tu_int(s, "count"), tu_int(json_array_get(stacks, i - 1), "count")),
				  "stacks by count");
	}
	cr_assert(eq(i64, sum + tu_int(p, "cpu.no_stack_samples") + tu_int(p, "cpu.other_samples"),
		     tu_int(p, "cpu.samples")),
		  "stack counts + samples without a stack = samples");
	cr_assert(frames_find(tu_arr(json_array_get(stacks, 0), "frames"), "main") >= 1,
		  "the hottest stack reaches main");
	cr_assert(not(tu_bool(r.json, "agent.track_memory")), "--no-memory: sampling without heap tracking");
	tu_run_free(&r);
}

Test(e2e_cpu, two_threads_two_to_one)
{
	struct tu_run r;
	json_t *p;
	long long w, a, b;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("cpu_threads")));
	cr_assert(eq(int, r.exit_code, 0), "exit code (1: a start routine's value got lost); stderr: %s", r.err);
	p = tu_proc(r.json, 0);
	w = weight(p);
	/* A thread's samples are its CPU time, less the periods after its
	 * last signal (< one weight): its burn plus ~1 ms of start and exit. */
	a = tu_int(cpu_thread(p, "burn-2x"), "samples");
	b = tu_int(cpu_thread(p, "burn-1x"), "samples");
	cr_assert(a >= 600 - w - 1 && a <= 600 + 5, "burn-2x: %lld samples for 600 ms", a);
	cr_assert(b >= 300 - w - 1 && b <= 300 + 5, "burn-1x: %lld samples for 300 ms", b);
	cr_assert(a * 100 >= b * 200 * (600 - w - 1) / 605 && a * 100 <= b * 200 * 605 / (300 - w - 1),
		  "2:1 within those bounds: %lld:%lld", a, b);
	/* Threads that never allocate are sampled from their start. */
	assert_near(fn_samples(p, "spin", "total_samples"), 900, 2 * (2 * w + 3), "spin in both threads");
	tu_run_free(&r);
}

Test(e2e_cpu, forked_child_sampled_on_its_own)
{
	struct tu_run r;
	json_t *parent, *child;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("cpu_fork")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	parent = tu_proc(r.json, 0);
	child = tu_proc(r.json, 1);
	cr_assert(tu_bool(child, "forked"), "processes[1] is the fork child");
	assert_near(fn_samples(parent, "parent_burn", "total_samples"), 200, 2 * weight(parent) + 3, "parent_burn");
	assert_near(fn_samples(child, "child_burn", "total_samples"), 300, 2 * weight(child) + 3, "child_burn");
	cr_assert(eq(i64, fn_samples(child, "parent_burn", "total_samples"), 0), "the child's profile is its own");
	cr_assert(eq(i64, fn_samples(parent, "child_burn", "total_samples"), 0), "the parent's is its own");
	tu_run_free(&r);
}

/*
 * An instrumented binary gets both views; they must agree. The exact view
 * times calls on the wall clock, the sampled one counts CPU time, so per
 * function: sampled CPU <= timed wall time (within the attribution
 * tolerance), and the sampled figure is the CPU burnt, as without
 * instrumentation.
 */
Test(e2e_cpu, instrumented_binary_both_views_agree)
{
	static const struct {
		const char *fn;
		long long ms;
	} burn[] = {{"burn_60", 600}, {"burn_30", 300}, {"burn_10", 100}};
	struct tu_run r;
	json_t *p, *timed;
	long long tol;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("fi_cpu_shares")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	p = tu_proc(r.json, 0);
	tol = 2 * weight(p) + 3;
	timed = tu_arr(p, "functions");
	for (size_t i = 0; i < 3; i++) {
		long long sampled = fn_samples(p, burn[i].fn, "total_samples"), wall_ns = -1;

		for (size_t k = 0; k < json_array_size(timed); k++) {
			const char *n = json_string_value(json_object_get(json_array_get(timed, k), "name"));
			if (n && !strcmp(n, burn[i].fn))
				wall_ns = tu_int(json_array_get(timed, k), "total_ns");
		}
		cr_assert(wall_ns > 0, "%s has exact timings", burn[i].fn);
		assert_near(sampled, burn[i].ms, tol, burn[i].fn);
		cr_assert(sampled * 1000000 <= wall_ns + tol * 1000000, "%s: %lld ms sampled CPU, %lld ns timed",
			  burn[i].fn, sampled, wall_ns);
	}
	tu_run_free(&r);
}

Test(e2e_cpu, cpu_hz_sets_the_rate_and_0_turns_it_off)
{
	struct tu_run r;
	json_t *p;

	tu_profile(&r, NULL, TU_LIST("-q", "--cpu-hz=100", "--", TU_PROG("cpu_shares")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	p = tu_proc(r.json, 0);
	cr_assert(eq(i64, tu_int(p, "cpu.hz"), 100), "cpu.hz");
	cr_assert(eq(i64, tu_int(p, "cpu.cpu_ns"), tu_int(p, "cpu.samples") * 10000000), "1 sample = 10 ms");
	assert_near(fn_samples(p, "burn_60", "total_samples"), 60, 2 * weight(p) + 2, "burn_60 at 100 Hz");
	tu_run_free(&r);

	tu_profile(&r, TU_LIST("PTRACE_CPU_HZ=0"), TU_LIST("-q", "--", TU_PROG("cpu_shares")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	p = tu_proc(r.json, 0);
	cr_assert(eq(i64, tu_int(r.json, "agent.cpu_hz"), 0), "agent.cpu_hz");
	cr_assert(eq(i64, tu_int(p, "cpu.hz"), 0), "cpu.hz 0");
	cr_assert(eq(i64, tu_int(p, "cpu.samples"), 0), "no samples");
	cr_assert(eq(sz, json_array_size(tu_arr(p, "cpu.functions")), 0), "no functions");
	tu_run_free(&r);
}

Test(e2e_cpu, bad_settings_stop_the_launcher)
{
	static const char *const bad[][2] = {
	    {"--cpu-hz=10001", "--cpu-hz=10001: expected an integer from 0 to 10000\n"},
	    {"--dump-signal=KILL", "--dump-signal=KILL: expected QUIT, USR1, USR2"},
	    {"--dump-after=0", "--dump-after=0: expected a number of seconds"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *marker = tu_tmpfile("cpu-marker");
		struct tu_run r;

		unlink(marker);
		tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, bad[i][0], "--", TU_PROG("marker"), marker));
		cr_assert(eq(int, r.exit_code, 2), "%s: exit 2", bad[i][0]);
		cr_assert(strstr(r.err, bad[i][1]) != NULL, "%s: the message: %s", bad[i][0], r.err);
		cr_assert(eq(int, tu_count_lines(r.err, r.err_len), 1), "%s: one line", bad[i][0]);
		cr_assert(access(marker, F_OK) != 0, "%s: the program was not started", bad[i][0]);
		tu_run_free(&r);
		free(marker);
	}
}

/* --- beside the program's own signals ---------------------------------------- */

/*
 * A program that profiles itself (its own SIGPROF handler, ITIMER_PROF)
 * gets its ticks as it would alone (it checks them: >= 20 in 300 ms, none
 * from a POSIX timer, its handler reads back) and the run still gets a CPU
 * profile: the sampler uses a signal of its own, not SIGPROF.
 */
static void check_own_sigprof(const char *mode)
{
	struct tu_run r;
	json_t *p;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("cpu_sigprof"), mode));
	cr_assert(eq(int, r.exit_code, 0), "%s: exit code; stdout: %s; stderr: %s", mode, r.out, r.err);
	cr_assert(strncmp(r.out, "ticks ", 6) == 0 && strstr(r.out, " timer 0\n"), "%s: stdout %s", mode, r.out);
	p = tu_proc(r.json, 0);
	cr_assert(tu_is_null(p, "cpu.stepped_aside"), "%s: the sampler did not step aside: %s", mode,
		  tu_is_null(p, "cpu.stepped_aside") ? "" : tu_str(p, "cpu.stepped_aside"));
	cr_assert(strcmp(tu_str(p, "cpu.signal"), "SIGPROF") != 0, "%s: not sampled with SIGPROF", mode);
	assert_near(fn_samples(p, "burn", "total_samples"), 300, 2 * weight(p) + 3, "burn");
	cr_assert(eq(str, (char *)tu_str(json_array_get(tu_arr(p, "cpu.functions"), 0), "name"), "burn"),
		  "%s: burn is the hottest function", mode);
	tu_run_free(&r);
}

Test(e2e_cpu, own_sigprof_handler_sigaction)
{
	check_own_sigprof("sigaction");
}

Test(e2e_cpu, own_sigprof_handler_signal)
{
	check_own_sigprof("signal");
}

Test(e2e_cpu, own_itimer_prof_first)
{
	check_own_sigprof("itimer-first");
}

/* A program that takes every signal, the sampler's included: it sees
 * SIG_DFL everywhere at start, gets every signal it sends, none it did
 * not; the sampler steps aside then, with the samples taken before. */
Test(e2e_cpu, program_taking_every_signal_gets_them_all)
{
	struct tu_run r;
	json_t *p;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("cpu_allsig")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stdout: %s; stderr: %s", r.out, r.err);
	cr_assert(eq(str, r.out, "ok\n"), "stdout");
	p = tu_proc(r.json, 0);
	cr_assert(strstr(tu_str(p, "cpu.stepped_aside"), "its own handler") != NULL, "stepped aside: %s",
		  tu_str(p, "cpu.stepped_aside"));
	/* The first 100 ms burn, sampled; the second one, after, not. */
	assert_near(fn_samples(p, "burn", "total_samples"), 100, 2 * weight(p) + 3, "burn before the take-over");
	tu_run_free(&r);
}

/* The program's RLIMIT_SIGPENDING is its own: 60 sampled threads take
 * none of it (natively all 80 of its signals are queued). */
Test(e2e_cpu, sampled_threads_leave_rlimit_sigpending_alone)
{
	struct tu_run r, plain;
	json_t *p;

	tu_run(&plain, NULL, TU_LIST(TU_PROG("cpu_sigpending")));
	cr_assert(eq(str, plain.out, "queued 80 of 80\n"), "alone: %s", plain.out);
	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("cpu_sigpending")));
	p = tu_proc(r.json, 0);
	if (!tu_int(p, "cpu.perf_threads")) {
		/* Without perf events a POSIX timer per thread holds one. */
		cr_skip("perf_event_open is not allowed here (kernel.perf_event_paranoid > 2, or a seccomp filter): "
			"threads are sampled with POSIX timers, which take RLIMIT_SIGPENDING");
	}
	cr_assert(eq(int, r.exit_code, 0), "exit code; stdout: %s; stderr: %s", r.out, r.err);
	cr_assert(eq(str, r.out, plain.out), "stdout as alone");
	cr_assert(eq(i64, tu_int(p, "cpu.perf_threads"), 61), "the main thread and 60 workers, with perf events");
	cr_assert(eq(i64, tu_int(p, "cpu.timer_threads"), 0), "no POSIX timer");
	cr_assert(ge(i64, tu_int(p, "cpu.samples"), 60 * 20 - 60 * weight(p)), "the workers' 1.2 s of CPU sampled: %lld",
		  tu_int(p, "cpu.samples"));
	tu_run_free(&plain);
	tu_run_free(&r);
}

/*
 * cpu_upgrade (main, 3 burners of 100 ms each, 20 threads that only wait)
 * under timer (a --cpu-timer value; NULL: the default): every burner's 100 ms sampled, none
 * lost or doubled by a move to a perf event, and spin's 350 ms in all;
 * the threads on perf events and on POSIX timers as perf and timers say.
 * A skip where the run would not say anything of timer.
 */
static void check_cpu_upgrade(const char *timer, long long perf, long long timers)
{
	static const char *burners[] = {"burn-a", "burn-b", "burn-c"};
	char opt[32];
	struct tu_run r;
	struct rlimit lim;
	json_t *p;
	long long w;

	if (getrlimit(RLIMIT_SIGPENDING, &lim) || (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < 8192))
		cr_skip("RLIMIT_SIGPENDING below 8192: every thread gets a perf event at once");
	/* The default rate, said again, where no timer is asked for. */
	if (timer)
		snprintf(opt, sizeof(opt), "--cpu-timer=%s", timer);
	else
		snprintf(opt, sizeof(opt), "--cpu-hz=1000");
	timer = timer ? timer : "default";
	tu_profile(&r, NULL, TU_LIST("-q", opt, "--", TU_PROG("cpu_upgrade")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	p = tu_proc(r.json, 0);
	if (perf && !tu_int(p, "cpu.perf_threads"))
		cr_skip("perf_event_open is not allowed here: every thread keeps its POSIX timer");
	w = weight(p);
	cr_assert(eq(i64, tu_int(p, "cpu.perf_threads"), perf), "%s: threads on perf events", timer);
	cr_assert(eq(i64, tu_int(p, "cpu.timer_threads"), timers), "%s: threads on POSIX timers", timer);
	for (int i = 0; i < 3; i++) {
		long long n = tu_int(cpu_thread(p, burners[i]), "samples");

		cr_assert(n >= 100 - w - 1 && n <= 100 + 5, "%s: %s: %lld samples for 100 ms", timer, burners[i], n);
	}
	assert_near(fn_samples(p, "spin", "total_samples"), 350, 4 * (2 * w + 3), "spin in main and the burners");
	tu_run_free(&r);
}

/* With --cpu-timer=exact, threads start on a POSIX timer (cheap to set
 * up) and move to a perf event at their first sample: the 20 that only
 * wait keep the timer, the 3 burners and main move. */
Test(e2e_cpu, threads_move_to_perf_events_at_their_first_sample)
{
	check_cpu_upgrade("exact", 4, 20);
}

/* By default (--cpu-timer=tick) every thread keeps its POSIX timer:
 * fewer signals than periods where the kernel's tick is slower than the
 * rate (each signal weighs 1 + its overruns), the same samples in all. */
Test(e2e_cpu, the_default_timer_is_the_tick_and_its_samples_add_up)
{
	check_cpu_upgrade(NULL, 0, 24);
	check_cpu_upgrade("tick", 0, 24);
}

/* A thread that blocks every signal is sampled all the same, and the
 * program sees the masks it set: its own, an exec'd child's, a spawned
 * child's (the output says how many signals each blocks). */
Test(e2e_cpu, threads_blocking_every_signal_are_sampled)
{
	struct tu_run r, plain;
	json_t *p;
	long long n, w;

	tu_run(&plain, NULL, TU_LIST(TU_PROG("cpu_blockall")));
	cr_assert(eq(int, plain.exit_code, 0), "alone: exit code; stdout: %s", plain.out);
	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("cpu_blockall")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stdout: %s; stderr: %s", r.out, r.err);
	cr_assert(eq(str, r.out, plain.out), "stdout as alone");
	p = tu_proc(r.json, 0);
	w = weight(p);
	n = tu_int(cpu_thread(p, "blocker"), "samples");
	cr_assert(n >= 200 - w - 1 && n <= 200 + 5, "blocker: %lld samples for 200 ms", n);
	assert_near(fn_samples(p, "spin", "total_samples"), 200, 2 * w + 3, "spin, with every signal blocked");
	tu_run_free(&plain);
	tu_run_free(&r);
}

Test(e2e_cpu, sigwait_never_sees_the_samplers_signals)
{
	struct tu_run r;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("cpu_sigwait")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stdout: %s", r.out);
	cr_assert(eq(str, r.out, "timeout, then 10\n"), "stdout");
	tu_run_free(&r);
}

Test(e2e_cpu, signalfd_never_sees_the_samplers_signals)
{
	struct tu_run r;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("cpu_sigwait"), "signalfd"));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stdout: %s", r.out);
	cr_assert(eq(str, r.out, "timeout, then 10\n"), "stdout");
	tu_run_free(&r);
}

/*
 * GNU sort catches SIGPROF (among others, to remove its temporary files):
 * it used to leave the run without a CPU profile. On a few MB of lines
 * its time goes to comparing them: the hottest function is sort's or
 * libc's, and the sorted output is what sort writes alone.
 */
Test(e2e_cpu, gnu_sort_gets_a_profile)
{
	char *in = tu_tmpfile("sort-in"), *out1 = tu_tmpfile("sort-out1"), *out2 = tu_tmpfile("sort-out2");
	const char *sort = access("/usr/bin/sort", X_OK) == 0 ? "/usr/bin/sort" : "/bin/sort";
	FILE *f = fopen(in, "w");
	uint64_t x = 88172645463325252ull;
	struct tu_run plain, r;
	char *a, *b;
	size_t alen = 0, blen = 0;
	json_t *p, *top;
	const char *mod;

	cr_assert(f != NULL, "input file");
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		fprintf(f, "%016llx line %d %llu\n", (unsigned long long)x, i, (unsigned long long)(x % 100000));
	}
	fclose(f);
	tu_run(&plain, &(struct tu_opts){.env = TU_LIST("LC_ALL=C")}, TU_LIST(sort, "-o", out1, in));
	cr_assert(eq(int, plain.exit_code, 0), "sort alone");
	tu_profile(&r, TU_LIST("LC_ALL=C"), TU_LIST("-q", "--", sort, "-o", out2, in));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	a = tu_read_file(out1, &alen);
	b = tu_read_file(out2, &blen);
	cr_assert(a && b && alen == blen && !memcmp(a, b, alen), "the same sorted output");
	p = tu_proc(r.json, 0);
	cr_assert(tu_is_null(p, "cpu.stepped_aside"), "the sampler did not step aside");
	cr_assert(gt(i64, tu_int(p, "cpu.samples"), 20), "samples: %lld", tu_int(p, "cpu.samples"));
	top = json_array_get(tu_arr(p, "cpu.functions"), 0);
	mod = tu_str(top, "module");
	cr_assert(tu_ends_with(mod, "/sort") || tu_ends_with(mod, "/libc.so.6"), "top function %s in %s",
		  json_string_value(json_object_get(top, "name")), mod);
	free(a);
	free(b);
	unlink(in);
	unlink(out1);
	unlink(out2);
	free(in);
	free(out1);
	free(out2);
	tu_run_free(&plain);
	tu_run_free(&r);
}

/* --- stack dumps ------------------------------------------------------------- */

/* The stack of thread name in dump d. */
static json_t *dump_thread(json_t *d, const char *name)
{
	json_t *threads = tu_arr(d, "threads");

	for (size_t i = 0; i < json_array_size(threads); i++) {
		const char *n = json_string_value(json_object_get(json_array_get(threads, i), "name"));
		if (n && !strcmp(n, name))
			return json_array_get(threads, i);
	}
	cr_fatal("dump: no thread named %s", name);
	return NULL;
}

/*
 * The program asks for a dump itself (PTRACE_DUMP_SIGNAL=USR2), with its
 * reader thread blocked in read(): the request reaches that thread with
 * rt_tgsigqueueinfo, interrupts the read, and read() must be restarted
 * (SA_RESTART) and return the byte main writes after: the program checks.
 */
Test(e2e_cpu, dump_signal_stacks_and_read_restarted)
{
	int read_line = tu_marker_line(TU_SRC("cpu_dump.c"), "@dump:read");
	int raise_line = tu_marker_line(TU_SRC("cpu_dump.c"), "@dump:raise");
	struct tu_run r;
	json_t *p, *d, *main_t, *reader_t;
	int k;

	tu_profile(&r, TU_LIST("PTRACE_DUMP_SIGNAL=USR2"), TU_LIST("-q", "--", TU_PROG("cpu_dump"), "raise", "12"));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stdout: %s; stderr: %s", r.out, r.err);
	cr_assert(eq(str, r.out, "read 1 byte\n"), "read() was restarted, not failed with EINTR");
	cr_assert(eq(i64, tu_int(r.json, "agent.dump_signal"), 12), "agent.dump_signal");
	p = tu_proc(r.json, 0);
	cr_assert(eq(sz, json_array_size(tu_arr(p, "dumps")), 1), "one dump");
	d = json_array_get(tu_arr(p, "dumps"), 0);
	cr_assert(eq(i64, tu_int(d, "seq"), 1), "dumps[0].seq");
	cr_assert(eq(i64, tu_int(d, "threads_asked"), 3), "three threads asked");
	cr_assert(eq(sz, json_array_size(tu_arr(d, "threads")), 3), "three answered");
	main_t = json_array_get(tu_arr(d, "threads"), 0);
	cr_assert(eq(i64, tu_int(main_t, "tid"), tu_int(p, "pid")), "the main thread first");
	cr_assert(tu_bool(main_t, "received_signal"), "it sent itself the signal, it took it");
	k = tu_stack_find(main_t, "request_dump");
	cr_assert(k >= 0, "main's stack has request_dump");
	tu_assert_frame(tu_frame(main_t, (size_t)k), "request_dump", TU_SRC("cpu_dump.c"), raise_line, "main's frame");
	reader_t = dump_thread(d, "reader");
	cr_assert(not(tu_bool(reader_t, "received_signal")), "the reader was asked by the first thread");
	cr_assert(tu_ends_with(tu_frame_str(tu_frame(reader_t, 0), "module"), "libc.so.6"),
		  "the reader is inside libc's read");
	k = tu_stack_find(reader_t, "reader");
	cr_assert(k >= 1, "the reader's stack has reader()");
	tu_assert_frame(tu_frame(reader_t, (size_t)k), "reader", TU_SRC("cpu_dump.c"), read_line, "reader's frame");
	cr_assert(tu_stack_find(dump_thread(d, "burner"), "spin") >= 0, "the burner is in spin()");
	tu_run_free(&r);
}

/* --dump-after: the launcher sends USR2 (implied) while the program runs. */
Test(e2e_cpu, dump_after_seconds)
{
	struct tu_run r;
	json_t *p, *d;
	long long t;

	tu_profile(&r, NULL, TU_LIST("-q", "--dump-after=0.5", "--", TU_PROG("cpu_dump"), "wait", "1.5"));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stdout: %s; stderr: %s", r.out, r.err);
	cr_assert(eq(str, r.out, "read 1 byte\n"), "the program went on, its read() restarted");
	cr_assert(eq(i64, tu_int(r.json, "agent.dump_signal"), 12), "--dump-after implies USR2");
	p = tu_proc(r.json, 0);
	cr_assert(eq(sz, json_array_size(tu_arr(p, "dumps")), 1), "one dump");
	d = json_array_get(tu_arr(p, "dumps"), 0);
	t = tu_int(d, "time_ns");
	/* 0.5 s after the spawn, a little less after the agent started. */
	cr_assert(t >= 300000000LL && t < 1500000000LL, "the dump came after ~0.5 s, before the end: %lld ns", t);
	cr_assert(eq(sz, json_array_size(tu_arr(d, "threads")), 3), "three threads");
	cr_assert(tu_stack_find(json_array_get(tu_arr(d, "threads"), 0), "wait_for") >= 0, "main waits in wait_for");
	cr_assert(tu_stack_find(dump_thread(d, "reader"), "reader") >= 0, "the reader in reader()");
	cr_assert(tu_stack_find(dump_thread(d, "burner"), "spin") >= 0, "the burner in spin()");
	tu_run_free(&r);
}

/* --- crashes ------------------------------------------------------------------ */

static json_t *crash_of(struct tu_run *r, const char *mode, int sig)
{
	json_t *p;

	tu_profile(r, NULL, TU_LIST("-q", "--", TU_PROG("cpu_crash"), mode));
	cr_assert(eq(int, r->exit_code, 128 + sig), "%s: the launcher exits 128 + %d; stderr: %s", mode, sig, r->err);
	cr_assert(eq(i64, tu_int(r->json, "signal"), sig), "%s: report signal", mode);
	p = tu_proc(r->json, 0);
	cr_assert(eq(i64, tu_int(p, "signal"), sig), "%s: processes[0].signal", mode);
	cr_assert(eq(i64, tu_int(p, "crash.signal"), sig), "%s: crash.signal", mode);
	cr_assert(eq(i64, tu_int(p, "crash.tid"), tu_int(p, "pid")), "%s: the main thread crashed", mode);
	return tu_obj(p, "crash");
}

Test(e2e_cpu, crash_segv_names_function_line_and_address)
{
	struct tu_run r;
	json_t *k = crash_of(&r, "segv", SIGSEGV);

	cr_assert(eq(str, (char *)tu_str(k, "name"), "SIGSEGV"), "crash.name");
	cr_assert(eq(i64, tu_int(k, "address"), 16), "crash.address: the store through 0x10");
	tu_assert_frame(tu_frame(k, 0), "poke", TU_SRC("cpu_crash.c"), tu_marker_line(TU_SRC("cpu_crash.c"), "@crash:segv"),
			"crash.stack[0]");
	cr_assert(eq(sz, json_array_size(tu_arr(k, "runtime_frames")), 0), "it crashed in its own code");
	cr_assert(tu_stack_find(k, "main") == 1, "then main");
	tu_run_free(&r);
}

Test(e2e_cpu, crash_abort_skips_the_runtime_frames)
{
	struct tu_run r;
	json_t *k = crash_of(&r, "abort", SIGABRT), *rt;
	int found = 0;

	cr_assert(tu_is_null(k, "address"), "abort: no faulting address");
	tu_assert_frame(tu_frame(k, 0), "check_invariant", TU_SRC("cpu_crash.c"),
			tu_marker_line(TU_SRC("cpu_crash.c"), "@crash:abort"), "crash.stack[0]");
	rt = tu_arr(k, "runtime_frames");
	for (size_t i = 0; i < json_array_size(rt); i++) {
		cr_assert(tu_ends_with(tu_frame_str(json_array_get(rt, i), "module"), "libc.so.6"), "runtime frame %zu in libc",
			  i);
		found += tu_frame_is(json_array_get(rt, i), "abort");
	}
	cr_assert(eq(int, found, 1), "abort is among the runtime frames");
	tu_run_free(&r);
}

Test(e2e_cpu, crash_fpe)
{
	struct tu_run r;
	json_t *k = crash_of(&r, "fpe", SIGFPE);

	tu_assert_frame(tu_frame(k, 0), "divide", TU_SRC("cpu_crash.c"), tu_marker_line(TU_SRC("cpu_crash.c"), "@crash:fpe"),
			"crash.stack[0]");
	cr_assert(eq(i64, tu_int(k, "address"), tu_int(tu_frame(k, 0), "address")),
		  "SIGFPE's address is the faulting instruction");
	tu_run_free(&r);
}

Test(e2e_cpu, program_with_its_own_segv_handler_keeps_it)
{
	struct tu_run r;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("cpu_crash"), "own-segv"));
	cr_assert(eq(int, r.exit_code, 3), "its handler ran and exited 3; stderr: %s", r.err);
	cr_assert(eq(str, r.out, "caught\n"), "stdout");
	cr_assert(tu_is_null(tu_proc(r.json, 0), "crash"), "no crash report: the program handled it");
	tu_run_free(&r);
}

/* Core dumps are what they would be without ptrace-run: same WCOREDUMP,
 * and the session image (1 GiB of shared memory) is not in them. */
Test(e2e_cpu, crash_core_dump_unchanged)
{
	char dir[] = "/tmp/ptrace-e2e-core-XXXXXX";
	char core[64];
	struct tu_run ref, r;
	struct stat st;

	cr_assert(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(core, sizeof(core), "%s/core", dir);
	tu_run(&ref, NULL, TU_LIST(TU_PROG("cpu_crash"), "core", dir));
	cr_assert(eq(int, ref.exit_code, 0), "direct run: exit code; stdout: %s", ref.out);
	unlink(core);
	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("cpu_crash"), "core", dir));
	cr_assert(eq(int, r.exit_code, 0), "profiled: exit code; stdout: %s", r.out);
	cr_assert(eq(str, r.out, ref.out), "the child died alike, core dump flag included");
	if (stat(core, &st) == 0)
		cr_assert(lt(i64, (long long)st.st_size, 64ll << 20), "the core (%lld bytes) holds no session image",
			  (long long)st.st_size);
	cr_assert(eq(i64, tu_int(tu_proc(r.json, 1), "crash.signal"), SIGSEGV), "the child's crash was recorded");
	unlink(core);
	rmdir(dir);
	tu_run_free(&ref);
	tu_run_free(&r);
}

/* Samples of functions whose module's name contains part. */
static long long module_samples(json_t *proc, const char *part, const char *which)
{
	json_t *fns = tu_arr(proc, "cpu.functions");
	long long sum = 0;

	for (size_t i = 0; i < json_array_size(fns); i++) {
		const char *m = json_string_value(json_object_get(json_array_get(fns, i), "module"));
		if (m && strstr(m, part))
			sum += tu_int(json_array_get(fns, i), which);
	}
	return sum;
}

/*
 * tests/progs/cpu_alloc.c spends its 600 ms of CPU allocating from 40
 * frames down, every allocation's stack unwound: the agent's own work
 * (libunwind's, mostly) is charged to the program's frames that called
 * it, and counted as the profiler's overhead. Before, a third of the
 * samples were one-frame stacks "?? libunwind.so.8".
 */
Test(e2e_cpu, the_agents_own_time_goes_to_its_caller)
{
	struct tu_run r;
	json_t *p;
	long long samples, agent, heavy, tol;

	tu_profile(&r, NULL, TU_LIST("--", TU_PROG("cpu_alloc")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	cr_assert(eq(str, r.out, "cpu_alloc done\n"));
	p = tu_proc(r.json, 0);
	samples = tu_int(p, "cpu.samples");
	agent = tu_int(p, "cpu.agent_samples");
	heavy = fn_samples(p, "alloc_heavy", "total_samples");
	tol = 2 * weight(p) + 3;
	/* 600 ms: the loop's CPU, ours included (thread CPU time). */
	assert_near(heavy, 600, 30 + tol, "alloc_heavy's total");
	cr_assert(eq(i64, module_samples(p, "libunwind", "self_samples"), 0), "no sample left in libunwind");
	cr_assert(eq(i64, module_samples(p, "libptrace-run", "total_samples"), 0), "no frame of ours");
	/* Unwinding 40+ frames for each 24-byte malloc is most of the work
	 * here (measured: half of the samples and more); a tenth is safe. */
	cr_assert(agent >= samples / 10 && agent <= samples, "the agent's share: %lld of %lld", agent, samples);
	cr_assert(strstr(r.err, "profiler overhead: ") != NULL, "the text says so: %s", r.err);
	tu_run_free(&r);

	/* Without memory tracking the interposed entry points are a test and
	 * a jump to glibc's: they never show as frames, and what lands on
	 * those few instructions is small (measured 3-4% in this loop of
	 * nothing but malloc and free; 33% before they were a jump). */
	tu_profile(&r, NULL, TU_LIST("--no-memory", "--", TU_PROG("cpu_alloc")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	p = tu_proc(r.json, 0);
	cr_assert(tu_int(p, "cpu.agent_samples") <= tu_int(p, "cpu.samples") / 10, "--no-memory: overhead %lld of %lld",
		  tu_int(p, "cpu.agent_samples"), tu_int(p, "cpu.samples"));
	cr_assert(eq(i64, module_samples(p, "libptrace-run", "total_samples"), 0), "--no-memory: no frame of ours");
	assert_near(fn_samples(p, "alloc_heavy", "total_samples"), 600, 30 + tol, "--no-memory: alloc_heavy");
	tu_run_free(&r);
}
