/*
 * The CPU profile's parts on their own: the dump-signal and CPU settings
 * (agent and launcher, which must agree), the per-thread sample table,
 * and the report model built from a hand-made image whose stacks are
 * addresses of functions in this very binary, so every figure is known:
 * self and total samples per function (recursion counted once), merged
 * stacks, threads, the crash split at the program's own code, dumps.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "cpu.h"
#include "image.h"
#include "modules.h"
#include "options.h"
#include "report.h"
#include "session.h"
#include "settings.h"
#include "sigown.h"
#include "trace.h"

/* --- settings ----------------------------------------------------------- */

Test(cpu, agent_parses_dump_signals)
{
	static const struct {
		const char *text;
		int sig;
	} good[] = {{"USR2", 12}, {"SIGUSR2", 12}, {"USR1", 10}, {"QUIT", 3},     {"12", 12},
		    {"10", 10},   {"3", 3},        {"34", 34},  {"64", 64},     {"RTMIN+0", 34},
		    {"RTMIN+3", 37}, {"SIGRTMAX-1", 63}, {"RTMAX-30", 34}, {"0", 0}};
	static const char *const bad[] = {"KILL", "SIGSEGV", "9", "11", "27", "33", "65", "usr2", "",
					  "RTMIN+31", "RTMAX-31", "RTMIN+", "12x", "-12", "SIG"};
	int sig;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		sig = -1;
		cr_assert(eq(int, settings_parse_signal(good[i].text, &sig), 0), "'%s' is a dump signal", good[i].text);
		cr_assert(eq(int, sig, good[i].sig), "'%s' is signal %d", good[i].text, good[i].sig);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert(eq(int, settings_parse_signal(bad[i], &sig), -EINVAL), "'%s' is rejected", bad[i]);
}

Test(cpu, agent_settings_default_and_fall_back)
{
	struct settings s;
	char *none[] = {NULL};
	char *bad[] = {"PTRACE_CPU_HZ=fast", "PTRACE_DUMP_SIGNAL=KILL", NULL};
	char *good[] = {"PTRACE_CPU_HZ=0", "PTRACE_DUMP_SIGNAL=USR1", NULL};

	settings_load(&s, none);
	cr_assert(eq(u32, s.cpu_hz, SF_DEFAULT_CPU_HZ), "PTRACE_CPU_HZ defaults to %u", SF_DEFAULT_CPU_HZ);
	cr_assert(eq(int, s.dump_signal, 0), "no dump signal by default");
	cr_assert(eq(u32, s.cpu_bad, 0), "nothing rejected");
	settings_load(&s, good);
	cr_assert(eq(u32, s.cpu_hz, 0), "PTRACE_CPU_HZ=0 turns sampling off");
	cr_assert(eq(int, s.dump_signal, 10), "PTRACE_DUMP_SIGNAL=USR1");
	settings_load(&s, bad);
	cr_assert(eq(u32, s.cpu_hz, SF_DEFAULT_CPU_HZ), "a bad PTRACE_CPU_HZ gives the default");
	cr_assert(eq(int, s.dump_signal, 0), "a bad PTRACE_DUMP_SIGNAL gives no dumps");
	cr_assert(eq(u32, s.cpu_bad, SF_CPU_BAD_HZ | SF_CPU_BAD_DUMP), "both reported");
}

#define PARSE(o, err, ...) \
	options_parse(o, (int)(sizeof((char *[]){"ptrace-run", __VA_ARGS__}) / sizeof(char *)), \
		      (char *[]){"ptrace-run", __VA_ARGS__, NULL}, err, sizeof(err))

Test(cpu, launcher_options)
{
	struct options o;
	char err[256];

	unsetenv("PTRACE_CPU_HZ");
	unsetenv("PTRACE_DUMP_SIGNAL");
	unsetenv("PTRACE_DUMP_AFTER");
	cr_assert(eq(int, PARSE(&o, err, "prog"), 0), "defaults parse: %s", err);
	cr_assert(eq(u32, o.cpu_hz, 1000), "--cpu-hz defaults to 1000");
	cr_assert(eq(int, o.dump_signal, 0), "no dump signal by default");
	cr_assert(eq(dbl, o.dump_after, 0.0), "no --dump-after by default");
	cr_assert(eq(int, PARSE(&o, err, "--cpu-hz=250", "--dump-signal", "SIGRTMIN+2", "prog"), 0), "%s", err);
	cr_assert(eq(u32, o.cpu_hz, 250), "--cpu-hz=250");
	cr_assert(eq(int, o.dump_signal, 36), "--dump-signal SIGRTMIN+2 is 36");
	cr_assert(eq(int, PARSE(&o, err, "--dump-after=0.25", "prog"), 0), "%s", err);
	cr_assert(eq(dbl, o.dump_after, 0.25), "--dump-after=0.25");
	cr_assert(eq(int, o.dump_signal, 12), "--dump-after alone implies USR2");
	cr_assert(eq(int, PARSE(&o, err, "--dump-after=2", "--dump-signal=QUIT", "prog"), 0), "%s", err);
	cr_assert(eq(int, o.dump_signal, 3), "an explicit signal wins");

	cr_assert(eq(int, PARSE(&o, err, "--cpu-hz=10001", "prog"), -EINVAL), "10001 Hz is too much");
	cr_assert(eq(str, err, "--cpu-hz=10001: expected an integer from 0 to 10000"), "message");
	cr_assert(eq(int, PARSE(&o, err, "--dump-signal=KILL", "prog"), -EINVAL), "KILL is refused");
	cr_assert(eq(str, err,
		     "--dump-signal=KILL: expected QUIT, USR1, USR2, RTMIN+N, RTMAX-N, 3, 10, 12 or 34 to 64 (0: none)"),
		  "message");
	cr_assert(eq(int, PARSE(&o, err, "--dump-after=0", "prog"), -EINVAL), "0 s is refused");
	cr_assert(eq(int, PARSE(&o, err, "--dump-after=-1", "prog"), -EINVAL), "a sign is refused");
	cr_assert(eq(int, PARSE(&o, err, "--dump-after=1e3", "prog"), -EINVAL), "an exponent is refused");
	cr_assert(eq(str, err, "--dump-after=1e3: expected a number of seconds in (0,1000000]"), "message");

	setenv("PTRACE_CPU_HZ", "0", 1);
	setenv("PTRACE_DUMP_SIGNAL", "USR1", 1);
	cr_assert(eq(int, PARSE(&o, err, "prog"), 0), "%s", err);
	cr_assert(eq(u32, o.cpu_hz, 0), "PTRACE_CPU_HZ=0");
	cr_assert(eq(int, o.dump_signal, 10), "PTRACE_DUMP_SIGNAL=USR1");
	cr_assert(eq(int, PARSE(&o, err, "--cpu-hz=5", "prog"), 0), "%s", err);
	cr_assert(eq(u32, o.cpu_hz, 5), "the flag wins over PTRACE_CPU_HZ");
	setenv("PTRACE_DUMP_SIGNAL", "TERM", 1);
	cr_assert(eq(int, PARSE(&o, err, "prog"), -EINVAL), "PTRACE_DUMP_SIGNAL=TERM is refused");
	cr_assert(eq(str, err,
		     "PTRACE_DUMP_SIGNAL=TERM: expected QUIT, USR1, USR2, RTMIN+N, RTMAX-N, 3, 10, 12 or 34 to 64 (0: none)"),
		  "message names the variable");
	unsetenv("PTRACE_DUMP_SIGNAL");
	cr_assert(eq(int, PARSE(&o, err, "--dump-signal=RTMAX-2", "prog"), 0), "%s", err);
	cr_assert(eq(int, options_export(&o), 0), "export");
	cr_assert(eq(str, getenv("PTRACE_CPU_HZ"), "0"), "PTRACE_CPU_HZ exported");
	cr_assert(eq(str, getenv("PTRACE_DUMP_SIGNAL"), "62"), "the dump signal goes to the agent as a number");
	unsetenv("PTRACE_CPU_HZ");
	unsetenv("PTRACE_DUMP_SIGNAL");
}

/* --- an image with a process ------------------------------------------------ */

static struct session sess;
static struct sf_process *proc;

static void setup(void)
{
	uint32_t idx;

	cr_assert(eq(int, session_create(&sess, 64u << 20), 0), "session image created");
	image_use(sess.base);
	memset(&agent, 0, sizeof(agent));
	agent.set.max_depth = 16;
	proc = image_register_process(getpid(), getppid(), -1, 0, &idx);
	cr_assert(ne(ptr, proc, NULL), "process registered");
	agent.proc = proc;
	agent.pid = getpid();
	memset(&ts, 0, sizeof(ts));
}

static void teardown(void)
{
	session_close(&sess);
}

static struct sf_cpu_thread *new_cpu_thread(int tid, const char *name, uint64_t samples)
{
	struct sf_thread *r = image_ptr(image_alloc(sizeof(*r)));
	struct sf_cpu_thread *c = image_ptr(image_alloc(sizeof(*c)));

	cr_assert(r && c, "records allocated");
	r->tid = tid;
	strncpy(r->name, name, SF_NAME_LEN - 1);
	r->cpu = image_off(c);
	c->samples = samples;
	c->signals = samples;
	c->owner_tid = tid;
	image_list_push(&proc->threads, image_off(r), &r->next);
	return c;
}

Test(cpu, sample_table_grows_and_keeps_every_count, .init = setup, .fini = teardown)
{
	struct sf_cpu_thread *c = new_cpu_thread(1, "t", 0);
	const struct sf_cpu_table *t;
	uint64_t sum = 0;
	uint32_t found = 0;

	cr_assert(eq(int, cpu_table_add(c, 0, 1), -ENOSPC), "trace 0 is no stack");
	for (uint32_t id = 1; id <= 1000; id++)
		for (uint32_t k = 0; k < id % 7 + 1; k++)
			cr_assert(eq(int, cpu_table_add(c, id * 8, k + 1), 0), "sample %u of trace %u", k, id);
	t = image_ptr(c->table);
	cr_assert(ne(ptr, (void *)t, NULL), "a table was made");
	cr_assert(eq(u32, t->used, 1000), "one slot per trace");
	cr_assert(ge(u32, t->cap, 1024 + 256), "grown past 3/4 full (cap %u)", t->cap);
	for (uint32_t i = 0; i < t->cap; i++) {
		uint32_t id = t->slots[i].trace / 8, n = id % 7 + 1;

		if (!t->slots[i].trace)
			continue;
		found++;
		cr_assert(eq(u64, t->slots[i].samples, (uint64_t)n * (n + 1) / 2), "samples of trace %u", id);
		sum += t->slots[i].samples;
	}
	cr_assert(eq(u32, found, 1000), "every trace found after growing");
	cr_assert(gt(u64, sum, 0), "counted");
}

/* --- the report model from known stacks --------------------------------------- */

Test(cpu, frame_store_ids_are_stable_across_chunks)
{
	const unsigned n = 3 * (1u << RFRAMES_SHIFT) + 17;
	struct rframes *fs = rframes_new();
	const struct rframe *first;

	cr_assert(ne(ptr, fs, NULL), "store made");
	for (unsigned i = 0; i < n; i++) {
		struct rframe f = {.address = 0x1000 + i, .line = (int)i, .inlined = (int)(i & 1)};
		uint32_t id = UINT32_MAX;

		cr_assert(eq(int, rframes_add(fs, &f, &id), 0), "frame %u kept", i);
		cr_assert(eq(u32, id, i), "ids are given in order");
	}
	first = rframes_at(fs, 0);
	cr_assert(eq(u32, fs->n, n), "every frame counted");
	cr_assert(eq(sz, fs->nchunks, 4), "four chunks of %u", 1u << RFRAMES_SHIFT);
	for (unsigned i = 0; i < n; i++) {
		const struct rframe *f = rframes_at(fs, i);

		cr_assert(eq(u64, f->address, 0x1000 + i), "frame %u by its id", i);
		cr_assert(eq(int, f->line, (int)i), "and all of it");
		cr_assert(eq(int, f->inlined, (int)(i & 1)), "inlined bit of %u", i);
	}
	cr_assert(eq(ptr, (void *)rframes_at(fs, 0), (void *)first), "frames never move");
	rframes_free(fs);
}

/* Distinct bodies (no identical-code folding), never inlined. */
__attribute__((noinline, noipa)) static int leaf(int x)
{
	return x * 3 + 1;
}

__attribute__((noinline, noipa)) static int mid(int x)
{
	return leaf(x) + 7;
}

__attribute__((noinline, noipa)) static int top(int x)
{
	return mid(x) * 5 - 2;
}

/* An exact address in f (frame 0), or a "return address" in it (frame
 * > 0: the symbolizer steps one byte back). */
#define PC(f) ((uint64_t)(uintptr_t)(f) + 1)
#define RET(f) ((uint64_t)(uintptr_t)(f) + 2)

static uint32_t intern(const uint64_t *ips, unsigned n)
{
	static struct tstate slab;
	uint32_t id = trace_intern(&slab, ips, n);

	cr_assert(ne(u32, id, 0), "trace interned");
	return id;
}

static const struct rcpu_fn *find_fn(const struct rcpu *c, const char *name)
{
	for (size_t i = 0; i < c->nfns; i++)
		if (c->fns[i].name && !strcmp(c->fns[i].name, name))
			return &c->fns[i];
	cr_fatal("no function %s in the profile", name);
	return NULL;
}

Test(cpu, report_counts_self_total_stacks_and_threads, .init = setup, .fini = teardown)
{
	uint64_t s1[] = {PC(leaf), RET(mid), RET(top)}, s2[] = {PC(mid), RET(top)}, s3[] = {PC(top)};
	uint64_t s4[] = {PC(leaf), RET(leaf), RET(top)}; /* recursion: leaf counted once */
	uint32_t t1 = intern(s1, 3), t2 = intern(s2, 2), t3 = intern(s3, 1), t4 = intern(s4, 3);
	struct sf_cpu_thread *a, *b;
	struct sf_cpu_proc *cp = cpu_proc();
	struct report r;
	struct rprocess rp;
	const struct rcpu_fn *f_leaf, *f_mid, *f_top;

	(void)top(1);
	cr_assert(ne(ptr, cp, NULL), "process CPU record");
	cp->hz = 1000;
	modules_scan(0);
	a = new_cpu_thread(300, "alpha", 10);
	b = new_cpu_thread(200, "beta", 5);
	cr_assert(eq(int, cpu_table_add(a, t1, 5), 0), "t1 in alpha");
	cr_assert(eq(int, cpu_table_add(a, t2, 3), 0), "t2 in alpha");
	cr_assert(eq(int, cpu_table_add(a, t3, 2), 0), "t3 in alpha");
	cr_assert(eq(int, cpu_table_add(b, t1, 4), 0), "t1 in beta");
	cr_assert(eq(int, cpu_table_add(b, t4, 1), 0), "t4 in beta");
	b->max_weight = 4;

	memset(&r, 0, sizeof(r));
	memset(&rp, 0, sizeof(rp));
	rp.pid = 300;
	cr_assert(eq(int, report_cpu_build(&r, &rp, &sess, proc), 0), "built");
	cr_assert(eq(u32, rp.cpu.hz, 1000), "hz");
	cr_assert(eq(u64, rp.cpu.samples, 15), "samples: sum over threads");
	cr_assert(eq(u64, rp.cpu.max_weight, 4), "max weight over threads");
	f_leaf = find_fn(&rp.cpu, "leaf");
	f_mid = find_fn(&rp.cpu, "mid");
	f_top = find_fn(&rp.cpu, "top");
	cr_assert(eq(u64, f_leaf->self, 10), "leaf self: 5 + 4 + 1");
	cr_assert(eq(u64, f_leaf->total, 10), "leaf total: recursion counted once");
	cr_assert(eq(u64, f_mid->self, 3), "mid self");
	cr_assert(eq(u64, f_mid->total, 12), "mid total: 5 + 3 + 4");
	cr_assert(eq(u64, f_top->self, 2), "top self");
	cr_assert(eq(u64, f_top->total, 15), "top total: every stack");
	cr_assert(eq(str, (char *)rp.cpu.fns[0].name, "leaf"), "functions by self samples: leaf first");
	cr_assert(eq(str, (char *)rp.cpu.by_total[0]->name, "top"), "by total: top first");
	cr_assert(f_leaf->file && strstr(f_leaf->file, "tests/test_cpu.c"), "leaf's file is this test: %s",
		  f_leaf->file ? f_leaf->file : "(null)");
	cr_assert(eq(sz, rp.cpu.nstacks, 4), "four distinct stacks");
	cr_assert(eq(u64, rp.cpu.stacks[0].samples, 9), "hottest stack: t1 from both threads");
	cr_assert(eq(u64, rp.cpu.stacks[1].samples, 3), "then t2");
	cr_assert(eq(u64, rp.cpu.stacks[2].samples, 2), "then t3");
	cr_assert(eq(u64, rp.cpu.stacks[3].samples, 1), "then t4");
	cr_assert(eq(u32, rp.cpu.stacks[0].stack.n, 3), "three frames");
	cr_assert(eq(str, (char *)rstack_frame(&rp.cpu.stacks[0].stack, 0)->function, "leaf"),
		  "frame 0 is the running function");
	cr_assert(eq(str, (char *)rstack_frame(&rp.cpu.stacks[0].stack, 2)->function, "top"), "frame 2");
	/* Nine frames over four stacks, six distinct addresses (each as a
	 * program counter or a return address): kept once each. */
	cr_assert(ne(ptr, r.frames, NULL), "the report's frame store");
	cr_assert(eq(u32, r.frames->n, 6), "each address's frame kept once");
	cr_assert(eq(u32, rp.cpu.stacks[0].stack.ids[2], rp.cpu.stacks[1].stack.ids[1]),
		  "t1 and t2 share top's frame");
	cr_assert(eq(sz, rp.cpu.nthreads, 2), "two threads");
	cr_assert(eq(int, rp.cpu.threads[0].tid, 300), "by samples: alpha first");
	cr_assert(eq(str, rp.cpu.threads[0].name, "alpha"), "its name");
	cr_assert(eq(u64, rp.cpu.threads[0].samples, 10), "alpha's samples");
	cr_assert(eq(u64, rp.cpu.threads[1].samples, 5), "beta's samples");
	report_cpu_free(&rp);
	symctx_free(r.symctx);
	rframes_free(r.frames);
}

Test(cpu, report_splits_the_crash_stack_and_groups_dumps, .init = setup, .fini = teardown)
{
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	uint64_t in_libc = (uint64_t)(uintptr_t)dlsym(libc, "getpid") + 1;
	uint64_t crash[] = {in_libc, RET(leaf), RET(top)}, d1[] = {PC(mid), RET(top)}, d2[] = {PC(top)};
	struct sf_cpu_proc *cp = cpu_proc();
	struct sf_crash *k = image_ptr(image_alloc(sizeof(*k)));
	struct sf_cpu_stack *x = image_ptr(image_alloc(sizeof(*x))), *y = image_ptr(image_alloc(sizeof(*y)));
	struct report r;
	struct rprocess rp;

	cr_assert(libc && in_libc > 1, "libc's getpid");
	modules_scan(0);
	k->signal = 6;
	k->code = -6;
	k->tid = 300;
	k->ns = proc->start_ns + 5000;
	k->trace = intern(crash, 3);
	cp->crash = image_off(k);
	/* Dump 1: the main thread (300) asked, 200 answered; pushed 300 first,
	 * so the list holds 200 before it. */
	cp->dump_signal = 12; /* dumps only happen with a dump signal (SIGUSR2) */
	cp->dumps = 1;
	x->seq = 1;
	x->tid = 300;
	x->flags = SF_STACK_REQUESTER;
	x->threads = 2;
	x->ns = proc->start_ns + 7000;
	x->trace = intern(d1, 2);
	image_list_push(&cp->stacks, image_off(x), &x->next);
	y->seq = 1;
	y->tid = 200;
	y->ns = proc->start_ns + 6000;
	y->trace = intern(d2, 1);
	image_list_push(&cp->stacks, image_off(y), &y->next);

	memset(&r, 0, sizeof(r));
	memset(&rp, 0, sizeof(rp));
	rp.pid = 300;
	cr_assert(eq(int, report_cpu_build(&r, &rp, &sess, proc), 0), "built");
	cr_assert(rp.crash.present, "crash");
	cr_assert(eq(int, rp.crash.signal, 6), "signal");
	cr_assert(not(rp.crash.has_address), "abort has no address");
	cr_assert(eq(u64, rp.crash.time_ns, 5000), "time since start");
	cr_assert(eq(u32, rp.crash.runtime.n, 1), "libc's frame set apart");
	cr_assert(report_runtime_module(rstack_frame(&rp.crash.runtime, 0)->module), "it is the runtime's: %s",
		  rstack_frame(&rp.crash.runtime, 0)->module);
	cr_assert(eq(u32, rp.crash.stack.n, 2), "the program's frames");
	cr_assert(eq(str, (char *)rstack_frame(&rp.crash.stack, 0)->function, "leaf"),
		  "top of the crash stack: own code");
	cr_assert(eq(sz, rp.ndumps, 1), "one dump");
	cr_assert(eq(u32, rp.dumps[0].asked, 2), "two threads asked");
	cr_assert(eq(u64, rp.dumps[0].time_ns, 6000), "the dump's time: its first stack");
	cr_assert(eq(sz, rp.dumps[0].nthreads, 2), "two answered");
	cr_assert(eq(int, rp.dumps[0].threads[0].tid, 300), "the main thread first");
	cr_assert(rp.dumps[0].threads[0].requester, "it received the signal");
	cr_assert(eq(str, (char *)rstack_frame(&rp.dumps[0].threads[0].stack, 0)->function, "mid"), "its stack");
	cr_assert(eq(int, rp.dumps[0].threads[1].tid, 200), "then the other");
	cr_assert(eq(u32, rp.cpu.hz, 0), "no sampling in this process");
	report_cpu_free(&rp);
	symctx_free(r.symctx);
	rframes_free(r.frames);
}

Test(cpu, runtime_modules)
{
	cr_assert(report_runtime_module("/lib/x86_64-linux-gnu/libc.so.6"), "libc");
	cr_assert(report_runtime_module("/lib64/ld-linux-x86-64.so.2"), "ld.so");
	cr_assert(report_runtime_module("/usr/lib/x86_64-linux-gnu/libstdc++.so.6"), "libstdc++");
	cr_assert(report_runtime_module("/opt/app/build/libptrace-run.so"), "the agent");
	cr_assert(not(report_runtime_module("/opt/app/build/progs/cpu_crash")), "the program");
	cr_assert(not(report_runtime_module("/usr/lib/libcurl.so.4")), "other libraries are the program's");
	cr_assert(not(report_runtime_module(NULL)), "no module");
}

/* --- the program's view of the signals the agent holds ------------------------ */

static volatile int ours_ran, released;

static void ours(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	ours_ran++;
}

static void on_release(int sig)
{
	released = sig;
}

static void programs(int sig)
{
	(void)sig;
}

Test(cpu, sigown_shows_the_program_its_view_and_hands_the_signal_back)
{
	struct sigaction act, old, real;
	int ret = -7;

	signal(SIGUSR1, SIG_DFL);
	cr_assert(eq(int, sigown_claim(SIGUSR1, ours, SA_RESTART, NULL, on_release), 0), "claimed at SIG_DFL");
	cr_assert(sigown_held(SIGUSR1), "held");
	sigown_real(SIGUSR1, NULL, &real);
	cr_assert(eq(ptr, (void *)real.sa_sigaction, (void *)ours), "our handler is installed");
	cr_assert(ne(int, real.sa_flags & SA_RESTART, 0), "with SA_RESTART");

	cr_assert(eq(int, sigown_sigaction(SIGUSR1, NULL, &old, &ret), 1), "a query is answered here");
	cr_assert(eq(int, ret, 0), "and succeeds");
	cr_assert(eq(ptr, (void *)old.sa_handler, (void *)SIG_DFL), "the program sees SIG_DFL");

	memset(&act, 0, sizeof(act));
	act.sa_handler = SIG_DFL;
	act.sa_flags = SA_NODEFER;
	cr_assert(eq(int, sigown_sigaction(SIGUSR1, &act, NULL, &ret), 1), "SIG_DFL is taken here");
	cr_assert(sigown_held(SIGUSR1), "still held: our handler ends in what SIG_DFL does");
	sigown_sigaction(SIGUSR1, NULL, &old, &ret);
	cr_assert(eq(int, old.sa_flags, SA_NODEFER), "the view keeps what the program set");
	raise(SIGUSR1);
	cr_assert(eq(int, ours_ran, 1), "our handler runs");

	act.sa_handler = programs;
	act.sa_flags = 0;
	cr_assert(eq(int, sigown_sigaction(SIGUSR1, &act, &old, &ret), 1), "a handler of its own: done here");
	cr_assert(eq(int, ret, 0), "and succeeds");
	cr_assert(eq(int, released, SIGUSR1), "the release callback ran");
	cr_assert(not(sigown_held(SIGUSR1)), "let go");
	cr_assert(eq(ptr, (void *)old.sa_handler, (void *)SIG_DFL), "old: the program's view, not our handler");
	sigown_real(SIGUSR1, NULL, &real);
	cr_assert(eq(ptr, (void *)real.sa_handler, (void *)programs), "the program's handler is installed for real");
	cr_assert(eq(int, sigown_sigaction(SIGUSR1, NULL, &old, &ret), 0), "from now on libc answers");
	cr_assert(eq(int, sigown_claim(SIGUSR1, ours, 0, NULL, NULL), -EBUSY), "a handled signal is never claimed");
}
