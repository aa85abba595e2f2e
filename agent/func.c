/*
 * Function timing: everything but the inline fast paths in func.h.
 *
 * Process set-up (once, from the first hook of any thread): settings,
 * clock choice and calibration, the measured cost of the hooks. Thread
 * set-up (from each thread's first hook): the private area with the
 * shadow stack and the cache, the thread's function table and tree in the
 * image. Then the slow paths: cache misses, tree paths seen for the first
 * time, frames that are no longer live (longjmp, exceptions without
 * cleanups, signal handlers left by siglongjmp), a full shadow stack.
 *
 * Pairing: hooks nest, so an exit hook belongs to the top frame when it
 * names the top frame's function, whatever the stack pointer says (at -O2
 * an inlined callee calls its hooks from its caller's physical frame, and
 * a sibling-call exit runs after the epilogue, above its own frame). The
 * stack pointer serves only to notice frames that died without their
 * exit hook: a call made strictly above the top frame's level, on the
 * same stack, cannot be inside it (a longjmp the agent did not see, an
 * exception through code without cleanups). An exit that names another
 * function closes the frames above the nearest one of its function.
 * longjmp itself is followed exactly (jmp.c): the frames above the one
 * that called setjmp are closed when the jump is made. Frames of a signal
 * handler on an alternate stack are told apart by the thread's own stack
 * bounds. docs/architecture.md says why this rule is right.
 */
#include "func.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "fctx.h"
#include "image.h"
#include "log.h"
#include "settings.h"

#define FNODE_CHUNK 1024u    /* tree nodes per chunk (80 KiB) */
#define FFRAMES_MIN 256u     /* shadow stack frames at first (18 KiB), doubled as needed */
#define FINDEX_MIN 256u	     /* function index slots at first */
#define FEDGES_MIN 1024u     /* tree edge index slots at first */
#define FRESYNC_SEARCH 4096u /* frames searched for an exit's match */
#define ALT_SPAN (1u << 20)  /* off the thread's stack, frames closer than this share a stack */
#define CAL_SPIN_NS 2000000u /* clock calibration at start: 2 ms */
#define CAL_PAIRS 2000u	     /* hook pairs per measuring trial */
#define CAL_PLACES 8u	     /* places the hooks are measured in (func_measure) */
#define CAL_ROUNDS 3u	     /* trials per place, the first to warm up */
#define CAL_WORK_PAIRS 600u  /* pairs around a body per trial (func_measure_work) */
#define CAL_WORK_STEPS 24u   /* the body: a chain of 24 multiply-adds (~30 ns) */
#define FJMP_SLOTS 128u	     /* setjmp points remembered per thread, direct mapped */

/* Where a setjmp was called: the shadow stack's top at that moment. */
struct fjmp {
	uintptr_t env;	   /* the jmp_buf; 0: free */
	uint64_t fn;	   /* the top frame's function and start: the same */
	uint64_t start;	   /* activation still there when the jump comes */
	uint32_t depth;	   /* frames above the root */
	uint32_t overflow; /* untracked calls open beyond the depth cap */
	struct fseg *seg;  /* the stack it was on (fctx.c); NULL: the thread's own */
};

/* Private per-thread area: mmap'd, never in the image. */
#define FMETA_DEPTH 8u /* open regions with metadata per thread */

/* A region's metadata, kept while it is open (func_meta_set). */
struct fmeta {
	size_t depth;            /* the frame's index above ft.base (frames move when the stack grows) */
	uint64_t start;
	char text[SF_META_LEN];
};

struct fpriv {
	struct sf_func dummy_fe; /* used when the image is full, and for paused calls */
	struct sf_fnode dummy_node;
	struct fmeta meta[FMETA_DEPTH];
	uint32_t nmeta;
	struct fjmp jmps[FJMP_SLOTS];
	struct fcache cache[FCACHE_SIZE];
};

/* The launcher reads the frames as struct sf_fframe. */
_Static_assert(sizeof(struct fframe) == sizeof(struct sf_fframe), "frame layout");
_Static_assert(offsetof(struct fframe, fe) == offsetof(struct sf_fframe, fe), "frame layout");
_Static_assert(offsetof(struct fframe, bytes) == offsetof(struct sf_fframe, bytes), "frame layout");

struct func_global fg;
uint64_t func_gen_key;
static int fg_init_pid;

/* fn 0 never matches, limit NULL sends every hook to the slow path. */
static const struct fframe func_sentinel;
__thread struct ftls ft __attribute__((tls_model("initial-exec"))) = {
    .sp = (struct fframe *)&func_sentinel,
    .tl_min = UINT64_MAX,
};

NI static void func_copy_globals(void);

/* Recording paused for this thread or the whole process (agent/api.c). */
#define FUNC_PAUSE_BIT (1ull << 47)

static inline int func_paused(void)
{
	return ft.paused || (__atomic_load_n(&func_gen_key, __ATOMIC_RELAXED) & FUNC_PAUSE_BIT);
}

/* The fast path's stack span: 0 (every enter takes the slow path) while
 * calls beyond the depth cap are open or this thread is paused. */
static void func_span_set(void)
{
	ft.span = ft.overflow || ft.paused ? 0 : ft.hi - ft.lo;
}

#ifdef PR_UNIT_TEST
uint64_t func_test_now;
static uintptr_t test_lo, test_hi;
#endif

NI uint64_t func_clock_mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

NI uint64_t func_now_ticks(void)
{
	if (__atomic_load_n(&fg.state, __ATOMIC_ACQUIRE) != FG_READY)
		return 0;
	return fg.tsc ? __builtin_ia32_rdtsc() : func_clock_mono();
}

NI static int func_in_image(const void *p)
{
	return image_contains(p); /* what is mapped here, not the whole image */
}

/* --- settings ----------------------------------------------------------- */

/* "N", "Nns", "Nus", "Nms" or "Ns": a duration, in ns. */
NI static int func_parse_duration(const char *v, uint64_t *out)
{
	uint64_t x = 0, mul = 1;
	const char *p = v;

	if (!v || *v < '0' || *v > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		x = x * 10 + (uint64_t)(*p - '0');
		if (x > 1000000000000000ull)
			return -EINVAL;
	}
	if (!strcmp(p, "") || !strcmp(p, "ns"))
		mul = 1;
	else if (!strcmp(p, "us"))
		mul = 1000;
	else if (!strcmp(p, "ms"))
		mul = 1000000;
	else if (!strcmp(p, "s"))
		mul = 1000000000;
	else
		return -EINVAL;
	*out = x * mul;
	return 0;
}

NI static uint32_t func_settings(uint64_t *min_ns)
{
	const char *v;
	uint32_t bad = 0;
	unsigned depth = SF_FDEFAULT_CALL_DEPTH;
	int correct = 1;

	*min_ns = 0;
	v = getenv("PTRACE_MAX_CALL_DEPTH");
	if (v && *v && settings_parse_uint(v, 1, SF_FMAX_CALL_DEPTH, &depth)) {
		depth = SF_FDEFAULT_CALL_DEPTH;
		bad |= SF_FF_BAD_CALL_DEPTH;
		log_warn("PTRACE_MAX_CALL_DEPTH=", v, ": expected an integer from 1 to 16777216; using 65536");
	}
	v = getenv("PTRACE_MIN_DURATION");
	if (v && *v && func_parse_duration(v, min_ns)) {
		*min_ns = 0;
		bad |= SF_FF_BAD_MIN_DURATION;
		log_warn("PTRACE_MIN_DURATION=", v, ": expected a duration like 500, 20us, 5ms; using 0");
	}
	fg.tl_min_ns = 100000; /* 100 us */
	v = getenv("PTRACE_TIMELINE_MIN");
	if (v && *v && func_parse_duration(v, &fg.tl_min_ns)) {
		fg.tl_min_ns = 100000;
		bad |= SF_FF_BAD_TIMELINE;
		log_warn("PTRACE_TIMELINE_MIN=", v, ": expected a duration like 500, 20us, 5ms; using 100us");
	}
	v = getenv("PTRACE_TIMELINE");
	if (v && *v) {
		int on = 1;

		if (settings_parse_bool(v, &on)) {
			bad |= SF_FF_BAD_TIMELINE;
			log_warn("PTRACE_TIMELINE=", v, ": expected 0 or 1; using 1");
		} else if (!on) {
			fg.tl_min_ns = UINT64_MAX;
		}
	}
	v = getenv("PTRACE_CORRECT_TIMES");
	if (v && *v && settings_parse_bool(v, &correct)) {
		correct = 1;
		bad |= SF_FF_BAD_CORRECT;
		log_warn("PTRACE_CORRECT_TIMES=", v, ": expected 0 or 1; using 1");
	}
	fg.max_depth = depth;
	fg.correct = correct;
	return bad;
}

/* --- clock -------------------------------------------------------------- */

/* rdtsc only where the kernel itself keeps time with the TSC: then it is
 * invariant and synchronised across CPUs. */
NI static int func_tsc_usable(void)
{
	char buf[16] = "";
	int fd = open("/sys/devices/system/clocksource/clocksource0/current_clocksource", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n >= 3 && !strncmp(buf, "tsc", 3) && (n == 3 || buf[3] == '\n');
}

#ifndef PR_UNIT_TEST
/* A (ticks, ns) pair read as close together as the clocks allow: the
 * tightest of a few tries, since a pause of the CPU (a VM exit, an
 * interrupt) between the reads would skew the pair by its length. */
NI static void func_clock_pair(uint64_t *tick, uint64_t *ns)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 16; i++) {
		uint64_t a = __builtin_ia32_rdtsc(), m = func_clock_mono(), b = __builtin_ia32_rdtsc();

		if (b - a < best) {
			best = b - a;
			*tick = a + (b - a) / 2;
			*ns = m;
		}
	}
}

NI static void func_calibrate(struct sf_fproc *fp)
{
	uint64_t t0, m0, t1, m1;

	if (!fg.tsc) {
		fp->ns_per_tick = 1.0;
		fp->tick0 = fp->mono0 = func_clock_mono();
		return;
	}
	func_clock_pair(&t0, &m0);
	do
		func_clock_pair(&t1, &m1);
	while (m1 - m0 < CAL_SPIN_NS);
	fp->ns_per_tick = t1 > t0 ? (double)(m1 - m0) / (double)(t1 - t0) : 1.0;
	fp->tick0 = t1;
	fp->mono0 = m1;
}

/* A body of dependent arithmetic, as most callees' is: the CPU runs a
 * hook's independent work beside it. */
static inline __attribute__((always_inline)) unsigned cal_body(unsigned x)
{
	for (unsigned i = 0; i < CAL_WORK_STEPS; i++) {
		x = x * 2654435761u + i;
		__asm__ volatile("" : "+r"(x)); /* one step at a time, not folded */
	}
	return x;
}

/*
 * The hooks' cost around a body (cal_body), what a callee doing work sees:
 * the fastest run of the body alone subtracted from the fastest with the
 * hooks around each one (*outside, as the caller's clock sees it) and
 * from the body's own recorded duration (*inside). Back to back (the
 * measurement above) the hooks cannot overlap anything; around a body they
 * can, by what the CPU runs out of order: on an AMD EPYC here, 36.6 ns a
 * pair back to back against 14.5 ns in a program of 30 ns callees, so
 * correcting by the first took 2.5 times too much. Runs in
 * func_measure's set-up, CAL_ROUNDS trials in each place, the first
 * round warming up (its calls, timed against the back-to-back figures,
 * go the slow way); UINT64_MAX when no trial counted.
 */
NI static void func_measure_work(struct sf_func *const *fes, char (*fakes)[64], struct fframe *frames,
				 uint64_t *outside, uint64_t *inside)
{
	void (*volatile enter)(void *, void *) = func_hook_enter;
	void (*volatile leave)(void *, void *) = func_hook_exit;
	uint64_t alone = UINT64_MAX, with = UINT64_MAX, rec = UINT64_MAX, t0, t1;
	unsigned x = 1;

	for (unsigned trial = 0; trial < CAL_ROUNDS * CAL_PLACES; trial++) {
		unsigned k = trial % CAL_PLACES;
		struct sf_func *fe = fes[k];
		int counts = trial >= CAL_PLACES;

		t0 = func_clock();
		for (unsigned i = 0; i < CAL_WORK_PAIRS; i++)
			x = cal_body(x + i);
		t1 = func_clock();
		if (counts && (t1 - t0) / CAL_WORK_PAIRS < alone)
			alone = (t1 - t0) / CAL_WORK_PAIRS;
		ft.sp = &frames[k * 5];
		ft.limit = ft.sp + 4;
		fe->calls = fe->total = 0;
		t0 = func_clock();
		for (unsigned i = 0; i < CAL_WORK_PAIRS; i++) {
			enter(fakes[k], NULL);
			x = cal_body(x + i);
			leave(fakes[k], NULL);
		}
		t1 = func_clock();
		if (counts && fe->calls == CAL_WORK_PAIRS && (t1 - t0) / CAL_WORK_PAIRS < with) {
			with = (t1 - t0) / CAL_WORK_PAIRS;
			rec = fe->total / fe->calls;
		}
	}
	__asm__ volatile("" : : "r"(x));
	*outside = *inside = UINT64_MAX;
	if (with == UINT64_MAX || alone == UINT64_MAX)
		return;
	*outside = with > alone ? with - alone : 0;
	*inside = rec > alone ? rec - alone : 0;
}

/*
 * The cost of the hooks, measured by calling them: CAL_PAIRS enter+exit
 * pairs of an empty function, timed from outside (what a caller's clock
 * sees per callee: hook_ticks) and from inside (the duration recorded for
 * the empty function: inner_ticks). The fastest of the trials, so
 * a preemption does not inflate it. It can still come out above what the
 * hooks cost inside the program (see below), and then the correction
 * takes too much from call-dense code (bench/README.md, Lua). Then the
 * same around a body (func_measure_work), and the smaller of the two
 * outside figures kept, with its inside one.
 *
 * Runs on a scratch stack, cache and tree (nothing of it is published)
 * with the thread marked ready, before any thread records anything.
 */
NI static void func_measure(struct sf_fproc *fp)
{
	struct scratch {
		struct fcache cache[FCACHE_SIZE];
		struct fframe frames[CAL_PLACES * 5];
	} * sc;
	/* Keys only: data, never a function of the program. */
	static char fakes[CAL_PLACES][64];
	size_t blk = (sizeof(struct sf_fthread) + 63) & ~(size_t)63;
	size_t fsz = (sizeof(struct sf_func) + 63) & ~(size_t)63;
	size_t per = fsz + ((2 * sizeof(struct sf_fnode) + 63) & ~(size_t)63);
	sf_off off = image_alloc(blk + CAL_PLACES * per);
	/* Through pointers, as a program's calls go through its PLT. */
	void (*volatile enter)(void *, void *) = func_hook_enter;
	void (*volatile leave)(void *, void *) = func_hook_exit;
	struct sf_func *fes[CAL_PLACES];
	struct ftls saved = ft;
	uint8_t state = ts.state;
	uint64_t best = UINT64_MAX, inner = 0, t0, t1;

	sc = mmap(NULL, sizeof(*sc), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!off || sc == MAP_FAILED) {
		if (sc != MAP_FAILED)
			munmap(sc, sizeof(*sc));
		return;
	}
	/*
	 * The same call measured in CAL_PLACES places, each with its own
	 * entry, tree nodes, cache slot and frames, so that no one unlucky
	 * layout (two of the hook's addresses 4 KiB apart, which the CPU's
	 * store-to-load check confuses) sets the cost of every call. Measured
	 * here, 20 runs each: in one place 18 runs came out near 38 ns a pair
	 * against the 27 ns the hooks cost inside a real program; in 8
	 * places, 7 runs. The rest of that spread is not the layout (it stays
	 * with address randomisation off, and after a 20 ms warm-up).
	 */
	for (unsigned k = 0; k < CAL_PLACES; k++) {
		struct sf_func *fe = image_ptr(off + blk + k * per);
		struct sf_fnode *root = image_ptr(off + blk + k * per + fsz), *child = root + 1;
		struct fframe *f0 = &sc->frames[k * 5];

		child->parent = image_off(root);
		child->func = image_off(fe);
		fe->addr = (uint64_t)(uintptr_t)fakes[k];
		sc->cache[func_cache_slot(fe->addr, root)] =
		    (struct fcache){.fn = fe->addr ^ func_gen_key, .parent = root, .fe = fe, .node = child};
		f0->csp = (uintptr_t)__builtin_frame_address(0) + 4096;
		f0->node = root;
		fes[k] = fe;
	}
	ft.span = (uintptr_t)1 << 40;
	ft.cache = sc->cache;
	ft.th = image_ptr(off);
	func_copy_globals(); /* no correction while measuring */
	ts.state = TS_READY;
	for (unsigned trial = 0; trial < CAL_ROUNDS * CAL_PLACES; trial++) {
		unsigned k = trial % CAL_PLACES;
		struct sf_func *fe = fes[k];
		void *fake = fakes[k];

		ft.sp = &sc->frames[k * 5];
		ft.limit = ft.sp + 4;
		fe->calls = fe->total = 0;
		fe->min = UINT64_MAX;
		t0 = func_clock();
		for (unsigned i = 0; i < CAL_PAIRS; i++) {
			enter(fake, NULL);
			leave(fake, NULL);
		}
		t1 = func_clock();
		/* The first round warms the caches up and fills slow[]. */
		if (trial >= CAL_PLACES && fe->calls == CAL_PAIRS && (t1 - t0) / CAL_PAIRS < best) {
			best = (t1 - t0) / CAL_PAIRS;
			inner = fe->total / fe->calls;
		}
	}
	{
		uint64_t wout, win;

		func_measure_work(fes, fakes, sc->frames, &wout, &win);
		/* The smaller: back to back is what the densest calls cost,
		 * around a body what most do; too much taken makes a time
		 * shorter than the truth, too little leaves it as raw. */
		if (best != UINT64_MAX && wout > 0 && wout < best) {
			best = wout;
			inner = win;
		}
	}
	t0 = func_clock();
	for (unsigned i = 0; i < 1000; i++) {
		(void)func_clock();
		func_barrier();
	}
	t1 = func_clock();
	ts.state = state;
	ft = saved;
	munmap(sc, sizeof(*sc));
	if (best == UINT64_MAX)
		return;
	fp->hook_ticks = best;
	fp->inner_ticks = inner < best ? inner : best;
	fp->clock_ticks = (t1 - t0) / 1000;
}
#endif

/* --- process ------------------------------------------------------------ */

#ifndef PR_UNIT_TEST
NI static void func_atfork_child(void);
#endif

NI static int func_init_process(void)
{
	struct sf_fproc *fp;
	uint64_t min_ns;
	uint32_t bad;
	sf_off off;

	if (!agent.proc || !func_in_image(agent.proc))
		return -1;
	bad = func_settings(&min_ns);
	off = image_alloc(sizeof(*fp));
	if (!off)
		return -1;
	fp = image_ptr(off);
	fg.tsc = func_tsc_usable();
	fp->clock = fg.tsc ? SF_FCLOCK_TSC : SF_FCLOCK_MONOTONIC;
	fp->max_call_depth = fg.max_depth;
	fp->flags = bad;
	fp->min_duration_ns = min_ns;
	fp->image_base = (uint64_t)(uintptr_t)image_base;
#ifndef PR_UNIT_TEST
	func_calibrate(fp);
	fg.min_ticks = (uint64_t)((double)min_ns / fp->ns_per_tick + 0.999);
	fp->timeline_min_ns = fg.tl_min_ns;
	/* 0 (--timeline-min=0) puts every call in, even one whose corrected
	 * time is 0 ticks. */
	fg.tl_min_ticks = fg.tl_min_ns == UINT64_MAX ? UINT64_MAX : (uint64_t)((double)fg.tl_min_ns / fp->ns_per_tick);
	fg.outer_ticks = fg.inner_ticks = 0;
	func_measure(fp);
	if (fg.correct) {
		fg.outer_ticks = fp->hook_ticks - fp->inner_ticks;
		fg.inner_ticks = fp->inner_ticks;
		fp->corrected = 1;
	}
	pthread_atfork(NULL, NULL, func_atfork_child);
#endif
	fg.proc = fp;
	/* Release: the launcher sees a complete record or none. */
	__atomic_store_n(&agent.proc->func, off, __ATOMIC_RELEASE);
	return 0;
}

/* Once per process; FG_READY or FG_OFF. */
NI static int func_init(void)
{
	int st = __atomic_load_n(&fg.state, __ATOMIC_ACQUIRE);
	int expect = FG_UNINIT;

	if (st == FG_READY || st == FG_OFF)
		return st;
	if (!__atomic_compare_exchange_n(&fg.state, &expect, FG_INIT, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		/* Another thread calibrates: a one-time wait of a few ms. A
		 * fork child of that moment would wait forever: give up. */
		while ((st = __atomic_load_n(&fg.state, __ATOMIC_ACQUIRE)) == FG_INIT) {
			if (fg_init_pid && fg_init_pid != getpid()) {
				__atomic_store_n(&fg.state, FG_OFF, __ATOMIC_RELEASE);
				return FG_OFF;
			}
			sched_yield();
		}
		return st;
	}
	fg_init_pid = getpid();
	fg.init_tid = agent_gettid();
	st = func_init_process() == 0 ? FG_READY : FG_OFF;
	__atomic_store_n(&fg.state, st, __ATOMIC_RELEASE);
	return st;
}

/* --- thread ------------------------------------------------------------- */

NI int func_frames_alloc(sf_off *frames, uint32_t *frames_cap, uint64_t need)
{
	uint64_t cap = *frames_cap ? (uint64_t)*frames_cap * 2 : FFRAMES_MIN;
	sf_off off;

	if (cap > (uint64_t)fg.max_depth + 1)
		cap = (uint64_t)fg.max_depth + 1;
	if (cap < need)
		cap = need;
	off = image_alloc(cap * sizeof(struct fframe));
	if (!off)
		return -ENOSPC;
	/* The frames first: a reader never pairs a bigger cap with a
	 * smaller array. */
	__atomic_store_n(frames, off, __ATOMIC_RELEASE);
	*frames_cap = (uint32_t)cap;
	return 0;
}

/* The calling thread's shadow stack is full: a bigger one, unless it is
 * at the depth cap or the image is full (0, or -ENOSPC). */
NI static int func_frames_grow(void)
{
	struct sf_fstack *st = fctx_current_record();
	sf_off *frames = st ? &st->frames : &ft.th->frames;
	uint32_t *cap = st ? &st->cap : &ft.th->frames_cap;
	size_t used = (size_t)(ft.sp - ft.base) + 1;
	struct fframe *nf;

	if (*cap > fg.max_depth || func_frames_alloc(frames, cap, 0))
		return -ENOSPC;
	nf = image_ptr(*frames);
	memcpy(nf, ft.base, used * sizeof(*nf));
	ft.sp = nf + (used - 1);
	ft.base = nf;
	ft.limit = nf + *cap;
	return 0;
}

NI static struct sf_fthread *func_thread_new(void)
{
	size_t csz = sizeof(struct sf_fchunk) + FNODE_CHUNK * sizeof(struct sf_fnode);
	sf_off off = image_alloc(sizeof(struct sf_fthread));
	sf_off coff = off ? image_alloc(csz) : 0;
	sf_off ioff = coff ? image_alloc(FINDEX_MIN * sizeof(sf_off)) : 0;
	struct sf_fthread *th;
	struct sf_fchunk *c;

	if (!ioff)
		return NULL;
	th = image_ptr(off);
	c = image_ptr(coff);
	c->cap = FNODE_CHUNK;
	__atomic_store_n(&c->used, 1, __ATOMIC_RELEASE); /* node 0: the root, all zero */
	th->nodes = coff;
	th->index = ioff;
	th->index_cap = FINDEX_MIN;
	th->slow_thr = fg.min_ticks;
	if (func_frames_alloc(&th->frames, &th->frames_cap, 0))
		return NULL;
	return th;
}

NI static void func_stack_bounds(uintptr_t csp)
{
#ifdef PR_UNIT_TEST
	(void)csp;
	ft.lo = test_lo;
	ft.hi = test_hi;
#else
	pthread_attr_t a;
	void *addr;
	size_t size;

	if (pthread_getattr_np(pthread_self(), &a) == 0) {
		int ok = pthread_attr_getstack(&a, &addr, &size) == 0 && size;

		pthread_attr_destroy(&a);
		if (ok) {
			ft.lo = (uintptr_t)addr;
			ft.hi = (uintptr_t)addr + size;
			return;
		}
	}
	/* Unknown: assume a stack of up to 1 GiB below where we are. */
	ft.lo = csp > (1ul << 30) ? csp - (1ul << 30) : 0;
	ft.hi = csp + (1ul << 16);
#endif
}

NI static struct fpriv *func_priv_new(void)
{
	size_t len = (sizeof(struct fpriv) + 4095) & ~(size_t)4095;
	struct fpriv *pv;

	pv = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (pv == MAP_FAILED)
		return NULL;
	pv->dummy_fe.min = UINT64_MAX;
	pv->dummy_fe.slow_thr = UINT64_MAX;
	return pv;
}

/* The process-wide values the hooks read, into the thread's own block. */
NI static void func_copy_globals(void)
{
	ft.tsc = fg.tsc;
	ft.outer_ticks = fg.outer_ticks;
	ft.inner_ticks = fg.inner_ticks;
	ft.slow_thr = ft.th ? ft.th->slow_thr : 0;
	ft.tl_min = fg.tl_min_ticks;
}

/* Completed calls in the thread record (every owner so far). */
NI static uint64_t func_record_calls(const struct sf_fthread *th)
{
	uint64_t n = 0;

	for (const struct sf_func *fe = image_ptr(th->funcs); fe; fe = image_ptr(fe->next))
		n += fe->calls;
	return n;
}

/* Use th and pv for the calling thread, which starts with an empty stack. */
NI static void func_bind(struct sf_fthread *th, struct fpriv *pv, uintptr_t csp, int reused)
{
	struct sf_fchunk *c = image_ptr(th->nodes);
	struct fframe *root = image_ptr(th->frames);

	/* A previous owner may have died with frames open. */
	if (reused) {
		for (struct sf_func *fe = image_ptr(th->funcs); fe; fe = image_ptr(fe->next))
			fe->active = 0;
		for (uint32_t i = 1; i < th->frames_cap && root[i].fn; i++)
			root[i].fn = 0;
	}
	while (c->next)
		c = image_ptr(c->next);
	func_stack_bounds(csp);
	memset(root, 0, sizeof(*root));
	root->csp = ft.hi;
	root->node = &((struct sf_fchunk *)image_ptr(th->nodes))->nodes[0];
	ft.th = th;
	ft.priv = pv;
	ft.chunk = c;
	ft.cache = pv->cache;
	ft.base = root;
	ft.sp = root;
	ft.limit = root + th->frames_cap;
	ft.overflow = 0;
	func_span_set();
	ft.tid = agent_gettid();
	ft.calls_base = reused ? func_record_calls(th) : 0;
	ft.disabled = 0;
	func_copy_globals();
}

/* The calling thread's first instrumented call. 0, or -1: not recorded. */
NI static int func_thread_setup(uintptr_t csp)
{
	struct sf_thread *r = ts.rec;
	struct sf_fthread *th;
	struct fpriv *pv;
	int reused = 1;

	if (func_init() != FG_READY || !r || !func_in_image(r))
		goto off;
	th = image_ptr(__atomic_load_n(&r->func, __ATOMIC_ACQUIRE));
	if (!th) {
		th = func_thread_new();
		if (!th)
			goto off;
		__atomic_store_n(&r->func, image_off(th), __ATOMIC_RELEASE);
		reused = 0;
	}
	/* A reused record's area: its previous owner is gone for good
	 * (records are reclaimed only then), and it is of this process. */
	pv = (struct fpriv *)(uintptr_t)th->priv;
	if (!pv) {
		pv = func_priv_new();
		if (!pv)
			goto off;
		th->priv = (uint64_t)(uintptr_t)pv;
	}
	func_bind(th, pv, csp, reused);
	return 0;
off:
	ft.disabled = 1;
	return -1;
}

/* --- lookups ------------------------------------------------------------ */

static inline uint32_t func_hash(uint64_t fn)
{
	return (uint32_t)((fn * 0x9e3779b97f4a7c15ull) >> 32);
}

NI void func_map_changed(uint32_t gen)
{
	uint64_t k = __atomic_load_n(&func_gen_key, __ATOMIC_RELAXED);

	/* A pause or resume meanwhile keeps its bit. */
	while (!__atomic_compare_exchange_n(&func_gen_key, &k, ((uint64_t)gen << 48) | (k & FUNC_PAUSE_BIT), 1,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

NI void func_pause_process(int on)
{
	/* Every cached key misses while the bit is set: each enter takes
	 * the slow path, which sees the pause. */
	if (on)
		__atomic_fetch_or(&func_gen_key, FUNC_PAUSE_BIT, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&func_gen_key, ~FUNC_PAUSE_BIT, __ATOMIC_RELAXED);
}

NI void func_pause_thread(int on)
{
	ft.paused = (uint8_t)!!on;
	if (ft.limit)
		func_span_set();
}

NI int func_ensure(uintptr_t csp)
{
	int rc = 0;

	if (ts.state != TS_READY)
		return -1;
	if (ft.limit)
		return 0;
	ts.state = TS_BUSY;
	func_barrier();
	if (ft.disabled || func_thread_setup(csp))
		rc = -1;
	func_barrier();
	ts.state = TS_READY;
	return rc;
}

NI void func_meta_set(const struct fframe *f, const char *meta)
{
	struct fpriv *pv = ft.priv;
	struct fmeta *m;
	size_t n;

	if (!pv)
		return;
	/* Entries of regions no longer open go first. */
	while (pv->nmeta) {
		const struct fmeta *t = &pv->meta[pv->nmeta - 1];
		const struct fframe *g = ft.base + t->depth;

		if (t->depth <= (size_t)(f - ft.base) && g->start == t->start && g->fn && t->depth != (size_t)(f - ft.base))
			break;
		pv->nmeta--;
	}
	if (pv->nmeta == FMETA_DEPTH)
		return;
	m = &pv->meta[pv->nmeta++];
	m->depth = (size_t)(f - ft.base);
	m->start = f->start;
	n = strnlen(meta, SF_META_LEN - 1);
	memcpy(m->text, meta, n);
	m->text[n] = 0;
}

NI void func_exit_meta(uint64_t fn, uintptr_t csp)
{
	struct fpriv *pv = ft.priv;
	const struct fframe *f = NULL;

	for (const struct fframe *g = ft.sp; g && g != ft.base; g--)
		if (g->fn == fn) {
			f = g;
			break;
		}
	if (pv && f && pv->nmeta && pv->meta[pv->nmeta - 1].depth == (size_t)(f - ft.base) &&
	    pv->meta[pv->nmeta - 1].start == f->start) {
		ft.pending_meta = pv->meta[pv->nmeta - 1].text;
		pv->nmeta--;
	}
	func_exit(fn, csp);
	ft.pending_meta = NULL;
}

static inline uint32_t func_gen(void)
{
	return (uint32_t)(__atomic_load_n(&func_gen_key, __ATOMIC_RELAXED) >> 48);
}

NI static struct sf_func *func_find(uint64_t fn, uint32_t gen)
{
	struct sf_fthread *th = ft.th;
	sf_off *slots = image_ptr(th->index);
	uint32_t mask = th->index_cap - 1;

	for (uint32_t i = func_hash(fn) & mask;; i = (i + 1) & mask) {
		struct sf_func *fe = image_ptr(slots[i]);

		if (!fe || (fe->addr == fn && fe->gen == gen))
			return fe;
	}
}

NI static void func_index_put(sf_off *slots, uint32_t mask, sf_off off, uint64_t fn)
{
	uint32_t i = func_hash(fn) & mask;

	while (slots[i])
		i = (i + 1) & mask;
	slots[i] = off;
}

NI static int func_index_grow(void)
{
	struct sf_fthread *th = ft.th;
	uint32_t cap = th->index_cap * 2;
	sf_off off = image_alloc((size_t)cap * sizeof(sf_off));
	sf_off *old = image_ptr(th->index), *slots;

	if (!off)
		return -ENOSPC;
	slots = image_ptr(off);
	for (uint32_t i = 0; i < th->index_cap; i++)
		if (old[i])
			func_index_put(slots, cap - 1, old[i], ((struct sf_func *)image_ptr(old[i]))->addr);
	th->index = off;
	th->index_cap = cap;
	return 0;
}

NI static struct sf_func *func_new(uint64_t fn, uint32_t gen)
{
	struct sf_fthread *th = ft.th;
	struct sf_func *fe;
	sf_off off;

	if ((th->nfuncs + 1) * 2 > th->index_cap && func_index_grow())
		goto full;
	off = image_alloc(sizeof(*fe));
	if (!off)
		goto full;
	fe = image_ptr(off);
	fe->addr = fn;
	fe->gen = gen;
	fe->min = UINT64_MAX;
	fe->slow_thr = fg.min_ticks;
	fe->next = th->funcs;
	func_index_put(image_ptr(th->index), th->index_cap - 1, off, fn);
	th->nfuncs++;
	/* Release: the launcher walks the list from this head. */
	__atomic_store_n(&th->funcs, off, __ATOMIC_RELEASE);
	return fe;
full:
	th->dropped++;
	return &ft.priv->dummy_fe;
}

/* The entry of fn (of the code mapped now) in the calling thread's
 * table, made if new. */
NI static struct sf_func *func_lookup(uint64_t fn)
{
	uint32_t gen = func_gen();
	struct sf_func *fe = func_find(fn, gen);

	return fe ? fe : func_new(fn, gen);
}

NI static struct sf_fnode *func_node_new(struct sf_fnode *parent, sf_off func)
{
	struct sf_fchunk *c = ft.chunk;
	struct sf_fnode *n;

	if (c->used == c->cap) {
		sf_off off = image_alloc(sizeof(*c) + FNODE_CHUNK * sizeof(*n));

		if (!off) {
			ft.th->dropped++;
			return &ft.priv->dummy_node;
		}
		((struct sf_fchunk *)image_ptr(off))->cap = FNODE_CHUNK;
		__atomic_store_n(&c->next, off, __ATOMIC_RELEASE);
		ft.chunk = c = image_ptr(off);
	}
	n = &c->nodes[c->used];
	n->parent = image_off(parent);
	n->func = func;
	/* Release: a reader counting `used` nodes finds them complete. */
	__atomic_store_n(&c->used, c->used + 1, __ATOMIC_RELEASE);
	return n;
}

static inline uint32_t func_edge_hash(sf_off parent, sf_off func)
{
	return (uint32_t)(((parent * 0x9e3779b97f4a7c15ull) ^ (func * 0xc2b2ae3d27d4eb4full)) >> 32);
}

/* Double the edge index (the new one complete before it is used). */
NI static int func_edges_grow(void)
{
	struct sf_fthread *th = ft.th;
	uint64_t cap = th->edges_cap ? th->edges_cap * 2 : FEDGES_MIN;
	sf_off off = image_alloc(cap * sizeof(sf_off));
	sf_off *old = image_ptr(th->edges), *slots;

	if (!off)
		return -ENOSPC;
	slots = image_ptr(off);
	for (uint64_t i = 0; old && i < th->edges_cap; i++) {
		struct sf_fnode *n = image_ptr(old[i]);
		uint64_t k;

		if (!n)
			continue;
		for (k = func_edge_hash(n->parent, n->func) & (cap - 1); slots[k]; k = (k + 1) & (cap - 1))
			;
		slots[k] = old[i];
	}
	th->edges = off;
	th->edges_cap = cap;
	return 0;
}

/* The tree node of fe called from parent's path, made if new: an
 * open-addressed index on (parent, function), so a node with thousands
 * of callees costs no more than one with two. */
NI static struct sf_fnode *func_child(struct sf_fnode *parent, struct sf_func *fe)
{
	struct fpriv *pv = ft.priv;
	struct sf_fthread *th = ft.th;
	sf_off p, want, *slots;
	struct sf_fnode *n;
	uint64_t k, mask;

	if (parent == &pv->dummy_node || fe == &pv->dummy_fe)
		return &pv->dummy_node;
	if ((th->nedges + 1) * 2 > th->edges_cap && func_edges_grow() &&
	    (!th->edges_cap || (th->nedges + 1) * 4 > th->edges_cap * 3)) {
		th->dropped++;
		return &pv->dummy_node;
	}
	p = image_off(parent);
	want = image_off(fe);
	slots = image_ptr(th->edges);
	mask = th->edges_cap - 1;
	for (k = func_edge_hash(p, want) & mask; slots[k]; k = (k + 1) & mask) {
		n = image_ptr(slots[k]);
		if (n->parent == p && n->func == want)
			return n;
	}
	n = func_node_new(parent, want);
	if (n != &pv->dummy_node) {
		slots[k] = image_off(n);
		th->nedges++;
	}
	return n;
}

/* --- frames ------------------------------------------------------------- */

static inline int func_on_stack(uintptr_t x)
{
	return x - ft.lo < ft.hi - ft.lo;
}

NI static int func_same_stack(uintptr_t a, uintptr_t b)
{
	int ma = func_on_stack(a), mb = func_on_stack(b);

	if (ma != mb)
		return 0;
	return ma || (a > b ? a - b : b - a) < ALT_SPAN;
}

/*
 * Can a frame entered at frame address fcsp still be live when a call
 * starts at csp? Not when it is on the same stack and strictly below csp:
 * the call would be made from outside it (level with it is a callee
 * inlined into it, whose hooks run in its physical frame). Nor when it is
 * on an alternate stack (a signal handler) and we are back on the
 * thread's own stack.
 */
NI static int func_dead(uintptr_t fcsp, uintptr_t csp)
{
	int mf = func_on_stack(fcsp), mc = func_on_stack(csp);

	if (mf && mc)
		return fcsp < csp;
	if (mc)
		return 1;
	if (mf)
		return 0;
	return fcsp < csp && csp - fcsp < ALT_SPAN;
}

NI void func_close(struct fframe *f, uint64_t now)
{
	f->fe->unwound++;
	ft.th->unwound++;
	func_pop(f, now);
}

/* While calls beyond the depth cap are open, the top frame's function
 * has bit 63 set (no code lives there), so that no exit hook matches it
 * on the fast path: every exit goes to the slow path, which counts the
 * untracked calls down first. */
#define FN_HIDDEN SF_FN_HIDDEN

NI static void func_overflow_start(uintptr_t csp)
{
	ft.overflow = 1;
	ft.over_csp = csp;
	ft.span = 0; /* every enter takes the slow path until it ends */
	ft.sp->fn |= FN_HIDDEN;
}

NI void func_overflow_end(void)
{
	ft.overflow = 0;
	func_span_set();
	ft.sp->fn &= ~FN_HIDDEN;
}

/* --- slow paths --------------------------------------------------------- */

NI void func_enter_locked(uint64_t fn, uintptr_t csp)
{
	int saved = errno;
	struct fframe *top, *f;
	struct sf_func *fe;
	struct sf_fnode *n;
	uint64_t now;

	if (!ft.limit && (ft.disabled || func_thread_setup(csp)))
		goto out;
	now = func_clock();
	if (ft.overflow) {
		/* The untracked frames beyond the capacity are dead once a
		 * call starts above the first of them. */
		if (!(func_same_stack(csp, ft.over_csp) && csp > ft.over_csp)) {
			ft.overflow++;
			ft.th->beyond_depth++;
			goto out;
		}
		func_overflow_end();
	}
	while ((top = ft.sp) != ft.base && func_dead(top->csp, csp))
		func_close(top, now);
	if (top + 1 >= ft.limit) {
		if (func_frames_grow()) {
			func_overflow_start(csp);
			ft.th->beyond_depth++;
			goto out;
		}
		top = ft.sp;
	}
	if (unlikely(func_paused())) {
		/* Recording is paused: the call keeps its place on the stack
		 * (its exit pops it) but counts nowhere; its time is its
		 * caller's callee time. */
		fe = &ft.priv->dummy_fe;
		n = &ft.priv->dummy_node;
		ft.th->paused_calls++;
	} else {
		fe = func_lookup(fn);
		n = func_child(top->node, fe);
	}
	if (n != &ft.priv->dummy_node) {
		struct fcache *c = &ft.cache[func_cache_slot(fn, top->node)];

		*c = (struct fcache){.fn = fn ^ func_gen_key, .parent = top->node, .fe = fe, .node = n};
	}
	f = top + 1;
	fe->active++;
	f->csp = csp;
	f->adj = 0;
	f->sub = 0;
	f->fe = fe;
	f->node = n;
	f->allocs = 0;
	f->bytes = 0;
	ft.sp = f;
	/* A depth reached for the first time always makes a new tree node,
	 * so the slow path sees every new maximum. */
	if ((uint32_t)(f - ft.base) + ft.depth_base > ft.th->max_depth)
		ft.th->max_depth = (uint32_t)(f - ft.base) + ft.depth_base;
	f->start = func_clock();
	f->fn = fn; /* last: see struct sf_fframe */
out:
	errno = saved;
}

NI void func_exit_locked(uint64_t fn, uintptr_t csp, uint64_t now)
{
	int saved = errno;
	struct fframe *f, *m;

	if (!ft.limit) {
		/* A thread whose first hook is an exit: nothing to match. */
		if (!ft.disabled && func_thread_setup(csp) == 0)
			ft.th->unmatched_exits++;
		goto out;
	}
	if (ft.overflow) {
		/* Hooks nest: this exit is the newest untracked call's. */
		if (--ft.overflow == 0)
			func_overflow_end();
		goto out;
	}
	f = ft.sp;
	/* Not the top frame's: the frames above the nearest one of this
	 * function died without their exit hooks (an exception through
	 * code without cleanups, a longjmp the agent did not see). */
	for (m = f; m != ft.base && f - m < (ptrdiff_t)FRESYNC_SEARCH; m--) {
		if (m->fn == fn) {
			while (ft.sp != m)
				func_close(ft.sp, now);
			func_pop(m, now);
			goto out;
		}
	}
	ft.th->unmatched_exits++;
out:
	errno = saved;
}

NI void func_enter_slow(uint64_t fn, uintptr_t csp)
{
	switch (ts.state) {
	case TS_BUSY:
		/* A signal handler running instrumented code inside a hook. */
		if (ft.th)
			ft.th->in_hooks++;
		return;
	case TS_UNINIT:
		if (__atomic_load_n(&agent.state, __ATOMIC_ACQUIRE) == AGENT_OFF)
			return;
		agent_thread_init();
		if (ts.state != TS_READY)
			return;
		break;
	default:
		return;
	}
	ts.state = TS_BUSY;
	func_barrier();
	func_enter_locked(fn, csp);
	func_barrier();
	ts.state = TS_READY;
}

NI void func_exit_slow(uint64_t fn, uintptr_t csp)
{
	if (ts.state != TS_UNINIT || __atomic_load_n(&agent.state, __ATOMIC_ACQUIRE) == AGENT_OFF)
		return;
	agent_thread_init();
	if (ts.state != TS_READY)
		return;
	ts.state = TS_BUSY;
	func_barrier();
	func_exit_locked(fn, csp, func_clock());
	func_barrier();
	ts.state = TS_READY;
}

NI void func_hist_halve(struct sf_func *fe)
{
	for (unsigned b = 0; b < SF_FH_BUCKETS; b++)
		fe->hist[b] >>= 1;
	fe->hist_shift++;
}

NI void func_timeline_put(const struct fframe *f, uint64_t ticks)
{
	struct sf_fthread *th = ft.th;
	struct sf_ring *r;
	struct sf_tevent ev;
	const char *meta = NULL;
	uint64_t head, tail, size;
	size_t mlen = 0;
	char *data;

	if (!th || !ft.priv || f->fe == &ft.priv->dummy_fe)
		return;
	r = image_ptr(th->ring);
	if (!r) {
		sf_off off = image_alloc(sizeof(*r) + SF_RING_BYTES);

		if (!off) {
			/* No room: no timeline for this thread. */
			ft.tl_min = UINT64_MAX;
			return;
		}
		r = image_ptr(off);
		r->cap = SF_RING_BYTES;
		__atomic_store_n(&th->ring, off, __ATOMIC_RELEASE);
	}
	if (ft.pending_meta && sf_is_region(f->fe->addr)) {
		meta = ft.pending_meta;
		mlen = strnlen(meta, SF_META_LEN - 1);
	}
	size = sizeof(ev) + ((mlen + 7) & ~(size_t)7);
	head = r->head;
	tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	if (head - tail + size > r->cap) {
		r->dropped++;
		return;
	}
	ev = (struct sf_tevent){.start = f->start, .ticks = ticks, .func = image_off(f->fe), .tid = ft.tid,
				.meta_len = (uint16_t)mlen, .size = (uint16_t)size};
	data = (char *)(r + 1);
	/* Records are 8-byte multiples and cap a power of two: the header
	 * never wraps (8-byte pieces), the text may. */
	for (size_t k = 0; k < sizeof(ev); k += 8)
		memcpy(data + ((head + k) & (r->cap - 1)), (const char *)&ev + k, 8);
	for (size_t k = 0; k < mlen; k++)
		data[(head + sizeof(ev) + k) & (r->cap - 1)] = meta[k];
	r->events++;
	__atomic_store_n(&r->head, head + size, __ATOMIC_RELEASE);
}

NI void func_slow_note(struct sf_func *fe, const struct fframe *f, uint64_t ticks)
{
	struct sf_fthread *th = ft.th;
	struct sf_fcall rec = {.start = f->start, .ticks = ticks, .tid = ft.tid};

	if (unlikely(ft.pending_meta != NULL) && sf_is_region(fe->addr) && th->meta_bytes < SF_META_BUDGET) {
		size_t n = strnlen(ft.pending_meta, SF_META_LEN - 1);
		sf_off off = image_alloc(n + 1);

		if (off) {
			char *d = image_ptr(off);

			memcpy(d, ft.pending_meta, n);
			d[n] = 0;
			rec.meta = off;
			th->meta_bytes += n + 1;
		}
		/* Once: the thread's list and the function's share it. */
		ft.pending_meta = NULL;
	}

	if (ticks >= fe->slow_thr)
		sf_fslow_put(fe->slow, &fe->nslow, SF_FSLOW_FUNC, &fe->slow_thr, &rec, fg.min_ticks);
	if (ticks >= th->slow_thr && ft.priv && fe != &ft.priv->dummy_fe) {
		rec.func = image_off(fe);
		sf_fslow_put(th->slow, &th->nslow, SF_FSLOW_THREAD, &th->slow_thr, &rec, fg.min_ticks);
	}
	ft.slow_thr = th->slow_thr;
}

/* --- setjmp and longjmp ------------------------------------------------- */

static inline struct fjmp *func_jmp_slot(uintptr_t env)
{
	return &ft.priv->jmps[((env >> 4) ^ (env >> 12)) & (FJMP_SLOTS - 1)];
}

NI void func_jmp_mark(const void *env)
{
	struct fjmp *j;

	if (ts.state != TS_READY || !ft.limit)
		return;
	j = func_jmp_slot((uintptr_t)env);
	/* A signal handler's setjmp in between may take the slot: the
	 * entry is then another env's, or fails the check at the jump. */
	j->env = 0;
	func_barrier();
	j->fn = ft.sp->fn & ~FN_HIDDEN;
	j->start = ft.sp->start;
	j->depth = (uint32_t)(ft.sp - ft.base);
	j->overflow = ft.overflow > UINT32_MAX ? UINT32_MAX : (uint32_t)ft.overflow;
	j->seg = fctx_current();
	func_barrier();
	j->env = (uintptr_t)env;
}

NI void func_jmp_take(const void *env)
{
	int saved = errno;
	struct fframe *to;
	struct fjmp *j;
	uint64_t now;

	if (ts.state != TS_READY || !ft.limit)
		return;
	ts.state = TS_BUSY;
	func_barrier();
	j = func_jmp_slot((uintptr_t)env);
	now = func_clock();
	/* A jump out of a coroutine into the context that set it: that
	 * context's stack first. */
	if (j->env == (uintptr_t)env && j->seg != fctx_current())
		fctx_switch(j->seg, now);
	to = ft.base + j->depth;
	/* Only to a setjmp whose frame is still on the stack (anything else
	 * is undefined behaviour, or the slot was reused): then the hooks'
	 * stack-pointer check is the fallback. */
	if (j->env == (uintptr_t)env && to <= ft.sp && (to->fn & ~FN_HIDDEN) == j->fn && to->start == j->start) {
		if (ft.overflow > j->overflow) {
			ft.overflow = j->overflow;
			if (!ft.overflow)
				func_overflow_end();
		}
		while (ft.sp != to)
			func_close(ft.sp, now);
	}
	func_barrier();
	ts.state = TS_READY;
	errno = saved;
}

NI void func_catch(uintptr_t csp, uintptr_t ra)
{
	int saved = errno;
	struct fframe *m, *catcher = NULL;
	uint64_t now;

	if (ts.state != TS_READY || !ft.limit)
		return;
	ts.state = TS_BUSY;
	func_barrier();
	now = func_clock();
	if (ft.overflow && func_dead(ft.over_csp, csp))
		func_overflow_end();
	if (ft.overflow)
		goto out;
	while (ft.sp != ft.base && func_dead(ft.sp->csp, csp))
		func_close(ft.sp, now);
	/* Left: the catching function's physical frame, which may hold
	 * callees inlined into it (their hooks ran at its level, clang ran
	 * no exit hook for them). The handler's code is the catching
	 * function's, and no other function starts inside it: among the
	 * frames at the top's level, the one with the highest address not
	 * above the handler is the function itself, and those above it are
	 * dead. With none such (the handler in a separate cold section, or
	 * a catcher not instrumented) nothing more is closed. */
	for (m = ft.sp; m != ft.base && m->csp == ft.sp->csp; m--)
		if ((m->fn & ~FN_HIDDEN) <= ra && (!catcher || m->fn > catcher->fn))
			catcher = m;
	if (catcher)
		while (ft.sp != catcher)
			func_close(ft.sp, now);
out:
	func_barrier();
	ts.state = TS_READY;
	errno = saved;
}

/* --- thread and process end, fork ---------------------------------------- */

NI void func_thread_exit(void)
{
	struct sf_fthread *th = ft.th;
	struct sf_fowner *o;
	uint64_t now, calls;
	sf_off off;

	if (!ft.limit || ts.state != TS_READY)
		return;
	ts.state = TS_BUSY;
	func_barrier();
	now = func_clock();
	fctx_end(now);
	func_overflow_end();
	/* pthread_exit or cancellation from inside instrumented frames. */
	while (ft.sp != ft.base)
		func_close(ft.sp, now);
	calls = func_record_calls(th) - ft.calls_base;
	if (calls && (off = image_alloc(sizeof(*o)))) {
		o = image_ptr(off);
		o->tid = ft.tid;
		if (ts.rec)
			memcpy(o->name, ts.rec->name, SF_NAME_LEN);
		o->calls = calls;
		o->ticks = ft.base->sub;
		o->next = th->owners;
		__atomic_store_n(&th->owners, off, __ATOMIC_RELEASE);
	}
	/* Calls this thread still makes (later destructors) count for the
	 * record's next owner. */
	ft.calls_base += calls;
	ft.base->adj = ft.base->sub = 0;
	func_barrier();
	ts.state = TS_READY;
}

NI void func_process_exit(void)
{
	struct sf_fproc *fp = fg.proc;
	uint64_t now;

	if (__atomic_load_n(&fg.state, __ATOMIC_ACQUIRE) != FG_READY || !fp)
		return;
	if (ft.limit && ts.state == TS_READY) {
		/* exit() called from inside instrumented frames. */
		ts.state = TS_BUSY;
		func_barrier();
		now = func_clock();
		fctx_end(now);
		func_overflow_end();
		while (ft.sp != ft.base)
			func_close(ft.sp, now);
		func_barrier();
		ts.state = TS_READY;
	}
#ifndef PR_UNIT_TEST
	if (fg.tsc)
		func_clock_pair(&fp->tick1, &fp->mono1);
#endif
}

#ifndef PR_UNIT_TEST
/*
 * In the child of fork(), after the agent gave the child its process and
 * thread records: the parent's records are shared memory and must not be
 * written again, the shadow stack included: copy the open frames to a
 * stack of the child's and rebuild them on a new table and tree.
 */
NI static void func_atfork_child(void)
{
	struct sf_fproc *fp, *parent = fg.proc;
	struct fframe *f, *nf;
	struct sf_fthread *th;
	struct fpriv *pv = ft.priv;
	size_t used;
	sf_off off;

	fg_init_pid = getpid();
	if (!agent.proc || !func_in_image(agent.proc) || !parent || !(off = image_alloc(sizeof(*fp)))) {
		__atomic_store_n(&fg.state, FG_OFF, __ATOMIC_RELEASE);
		goto off;
	}
	fp = image_ptr(off);
	*fp = *parent;
	fp->tick1 = fp->mono1 = 0;
	fg.proc = fp;
	__atomic_store_n(&agent.proc->func, off, __ATOMIC_RELEASE);
	if (!ft.limit)
		return;
	if (ts.state != TS_READY || !ts.rec || !func_in_image(ts.rec) || !(th = func_thread_new()))
		goto off;
	used = (size_t)(ft.sp - ft.base) + 1;
	if (th->frames_cap < used && func_frames_alloc(&th->frames, &th->frames_cap, used))
		goto off;
	nf = image_ptr(th->frames);
	memcpy(nf, ft.base, used * sizeof(*nf));
	ft.sp = nf + (used - 1);
	ft.base = nf;
	ft.limit = nf + th->frames_cap;
	fctx_forget(); /* the stack the fork happened on is the child's own */
	th->priv = (uint64_t)(uintptr_t)pv;
	__atomic_store_n(&ts.rec->func, image_off(th), __ATOMIC_RELEASE);
	memset(pv->cache, 0, sizeof(pv->cache));
	ft.th = th;
	func_copy_globals();
	ft.chunk = image_ptr(th->nodes);
	ft.base->node = &ft.chunk->nodes[0];
	ft.base->adj = ft.base->sub = 0;
	ft.tid = agent_gettid();
	ft.calls_base = 0;
	ft.base->allocs = ft.base->bytes = 0;
	for (f = ft.base + 1; f <= ft.sp; f++) {
		f->allocs = f->bytes = 0; /* the child's allocations are its own */
		f->fe = func_lookup(f->fn & ~FN_HIDDEN);
		f->fe->active++;
		f->node = func_child(f[-1].node, f->fe);
	}
	return;
off:
	ft.sp = (struct fframe *)&func_sentinel;
	ft.limit = NULL;
	ft.th = NULL;
	ft.disabled = 1;
}
#endif

#ifdef PR_UNIT_TEST
void func_test_init(uint32_t max_depth, uint64_t min_ticks, uint64_t hook, uint64_t inner, uintptr_t lo, uintptr_t hi)
{
	static struct sf_fproc fallback;
	/* In the image when the test has one, as the launcher reads it. */
	sf_off off = image_base && agent.proc ? image_alloc(sizeof(fallback)) : 0;
	struct sf_fproc *fp = off ? image_ptr(off) : &fallback;

	memset(&fg, 0, sizeof(fg));
	memset(fp, 0, sizeof(*fp));
	fp->ns_per_tick = 1.0;
	fp->clock = SF_FCLOCK_MONOTONIC;
	fp->max_call_depth = max_depth;
	fp->hook_ticks = hook;
	fp->inner_ticks = inner;
	fp->corrected = hook || inner;
	fp->min_duration_ns = min_ticks;
	fp->image_base = (uint64_t)(uintptr_t)image_base;
	fg.max_depth = max_depth;
	fg.min_ticks = min_ticks;
	fg.tl_min_ticks = UINT64_MAX; /* no timeline in unit tests */
	fg.outer_ticks = hook - inner;
	fg.inner_ticks = inner;
	fg.correct = fp->corrected;
	fg.proc = fp;
	if (off)
		agent.proc->func = off;
	fg.state = FG_READY;
	test_lo = lo;
	test_hi = hi;
	func_test_reset_thread();
}

void func_test_reset_thread(void)
{
	memset(&ft, 0, sizeof(ft));
	ft.sp = (struct fframe *)&func_sentinel;
}
#endif
