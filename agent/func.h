/*
 * Function timing for code built with -finstrument-functions: the state
 * behind the __cyg_profile_func_enter/exit hooks (shim/cyg.c).
 *
 * Per thread, in private memory (mmap'd at the thread's first
 * instrumented call, kept with its thread record for the next owner,
 * copied by fork): a shadow stack of frames and a direct-mapped cache from
 * (caller's tree node, function address) to the function's entry and its
 * tree node, so that a call needs one probe. In the session image (struct
 * sf_fthread and friends, see session_format.h): per thread record, the
 * function entries (counts, times, histogram, slowest calls) and the
 * calling-context tree; per process (struct sf_fproc) the clock
 * calibration and the measured cost of the hooks.
 *
 * Every hook has the same shape: one test of ts.state, mark the thread
 * busy, read the clock, a handful of loads and compares, update, unmark.
 * While the thread is marked busy, a signal handler running instrumented
 * code is not recorded (counted in in_hooks): the stack is never updated
 * by two hooks at once. Everything unusual (first call, cache miss, a path
 * not yet in the tree, frames abandoned by longjmp, a full stack) is in
 * the out-of-line slow path.
 *
 * A second initial-exec TLS block (ft) beside ts: the hooks need eight
 * words of their own, and agent.h's struct tstate belongs to the
 * allocator path. Both are %fs-relative loads; neither costs a lookup.
 */
#ifndef PTRACE_FUNC_H
#define PTRACE_FUNC_H

#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "image.h"
#include "session_format.h"

#define FCACHE_SIZE 4096u /* direct-mapped cache slots (32 bytes each) */

/* One activation on the shadow stack: struct sf_fframe of the image,
 * with typed pointers. 72 bytes. */
struct fframe {
	uint64_t fn;	    /* this_fn, the match key at exit */
	uintptr_t csp;	    /* the hook's frame address at entry: lower is deeper */
	uint64_t start;	    /* ticks */
	uint64_t adj;	    /* callees' raw ticks plus their hooks' cost outside them */
	uint64_t sub;	    /* callees' corrected ticks */
	struct sf_func *fe; /* NULL only for the root frame */
	struct sf_fnode *node;
	uint64_t allocs; /* allocations inside this call so far (callees' included) */
	uint64_t bytes;
};

/* A call of fn from the path of node parent: its entry and its node. */
struct fcache {
	uint64_t fn; /* this_fn ^ func_gen_key of when it was cached */
	struct sf_fnode *parent;
	struct sf_func *fe;
	struct sf_fnode *node;
};

struct ftls {
	/* Hot: read by every hook. */
	struct fframe *sp;    /* top frame; a read-only sentinel until set up */
	struct fframe *limit; /* one past the last usable frame; NULL: not set up */
	uintptr_t span;	      /* size of the thread's stack; 0 forces the slow path */
	struct fcache *cache;
	struct sf_fthread *th;
	/* Copies of process-wide values, next to the rest (no GOT loads). */
	uint64_t outer_ticks, inner_ticks; /* fg's */
	uint64_t slow_thr;		   /* th->slow_thr */
	uint64_t tl_min;		   /* fg.tl_min_ticks: calls this long go to the timeline */
	int tsc;			   /* fg.tsc */
	/* Slow path only. */
	struct fframe *base;	 /* the root frame: never popped */
	uintptr_t lo, hi;	 /* the thread's own stack */
	uint64_t overflow;	 /* calls open beyond the stack's capacity */
	uintptr_t over_csp;	 /* frame address of the first of them */
	uint64_t calls_base;	 /* the record's completed calls when the current owner started */
	struct sf_fchunk *chunk; /* where new tree nodes go */
	struct fpriv *priv;
	struct fctx_state *ctx; /* contexts (fctx.c); NULL until the first one */
	uint32_t depth_base;	/* a coroutine's stack: the depth in the tree of its root */
	int tid;
	int disabled; /* no room in the image: hooks do nothing */
	uint8_t paused;           /* ptrace_pause(1): this thread's calls are not recorded */
	const char *pending_meta; /* the region closing now has this metadata (agent/api.c) */
};

enum func_gstate { FG_UNINIT = 0, FG_INIT, FG_READY, FG_OFF };

/* Process-wide, written once by func_init (and again after fork). */
struct func_global {
	int state; /* enum func_gstate, atomic */
	int init_tid;
	int tsc;	      /* the clock is rdtsc (else CLOCK_MONOTONIC, ns) */
	int measured;	      /* atomic: hook cost measured */
	uint64_t outer_ticks; /* hook cost outside a callee's interval (0: no correction) */
	uint64_t inner_ticks; /* hook cost inside every call's interval (0: no correction) */
	uint64_t min_ticks;   /* PTRACE_MIN_DURATION in ticks */
	uint64_t tl_min_ticks; /* PTRACE_TIMELINE_MIN in ticks; UINT64_MAX: no timeline */
	uint64_t tl_min_ns;
	uint32_t max_depth;   /* frames per thread, root excluded */
	int correct;	      /* PTRACE_CORRECT_TIMES */
	struct sf_fproc *proc;
};

extern struct func_global fg;
extern __thread struct ftls ft;
/* The process's map generation in bits 48..63 (0 until a dlclose unmapped
 * something): cache keys of one generation never match in the next, so
 * code loaded where unloaded code was gets entries of its own. */
extern uint64_t func_gen_key;

/* A dlclose unmapped code: new generation gen (modules.c). */
void func_map_changed(uint32_t gen);

/* <ptrace-run.h> (agent/api.c). Pause recording process-wide or for the
 * calling thread (on 1) or resume it (on 0): calls made meanwhile keep
 * their place on the shadow stack but count nowhere. */
void func_pause_process(int on);
void func_pause_thread(int on);
/* Set up the calling thread's timing (csp: a frame address of it): 0,
 * or -1 when it cannot time calls. */
int func_ensure(uintptr_t csp);
/* Keep meta as the metadata of open region frame f (the top). */
void func_meta_set(const struct fframe *f, const char *meta);
/* func_exit for a region's fn, its metadata going with it into the
 * slowest calls when it is one of them. */
void func_exit_meta(uint64_t fn, uintptr_t csp);

#define func_barrier() __atomic_signal_fence(__ATOMIC_SEQ_CST)

#ifdef PR_UNIT_TEST
extern uint64_t func_test_now; /* the clock, in unit tests */
#endif

uint64_t func_clock_mono(void);
/* The process's function clock now; 0 when timing is not set up. */
uint64_t func_now_ticks(void);

static inline uint64_t func_clock(void)
{
#ifdef PR_UNIT_TEST
	return func_test_now;
#else
	if (likely(ft.tsc))
		return __builtin_ia32_rdtsc();
	return func_clock_mono();
#endif
}

static inline unsigned func_cache_slot(uint64_t fn, const struct sf_fnode *parent)
{
	return (unsigned)((fn >> 4) ^ (fn >> 16) ^ ((uintptr_t)parent >> 3)) & (FCACHE_SIZE - 1);
}

/* Log-linear histogram bucket of a duration in ticks (session_format.h). */
static inline unsigned func_hist_bucket(uint64_t v)
{
	return sf_fh_bucket(v);
}

/* Out of line: first call of a thread, busy/off threads, cache misses,
 * new tree paths, resynchronisation, stack overflow. */
void func_enter_slow(uint64_t fn, uintptr_t csp);
void func_exit_slow(uint64_t fn, uintptr_t csp);
void func_enter_locked(uint64_t fn, uintptr_t csp);
void func_exit_locked(uint64_t fn, uintptr_t csp, uint64_t now);
/* Slow-path pieces shared with fctx.c. */
/* Close f, the top frame, at now, without its exit hook (counted as unwound). */
void func_close(struct fframe *f, uint64_t now);
/* Forget the calls open beyond the depth cap. */
void func_overflow_end(void);
/* A new shadow stack of at least need frames (root included) into
 * frames and frames_cap, twice the old size: 0, or -ENOSPC (image full).
 * The caller copies the open frames. */
int func_frames_alloc(sf_off *frames, uint32_t *frames_cap, uint64_t need);

/* Put a call of ticks into the thread's timeline ring (f: its frame). */
void func_timeline_put(const struct fframe *f, uint64_t ticks);

/* Keep a call among the slowest of its function and of its thread. */
void func_slow_note(struct sf_func *fe, const struct fframe *f, uint64_t ticks);
/* Halve every bucket: a count was about to overflow. */
void func_hist_halve(struct sf_func *fe);

/* Statistics of an outermost call (the function was not already active). */
static inline void func_outer(struct sf_func *fe, const struct fframe *f, uint64_t d)
{
	unsigned b = func_hist_bucket(d);

	fe->total += d;
	if (d < fe->min)
		fe->min = d;
	if (d > fe->max)
		fe->max = d;
	fe->sumsq += (double)(int64_t)d * (double)(int64_t)d;
	if (unlikely(fe->hist[b] == UINT32_MAX))
		func_hist_halve(fe);
	fe->hist[b]++;
	if (unlikely(d >= fe->slow_thr || d >= ft.slow_thr))
		func_slow_note(fe, f, d);
}

/*
 * Close frame f (the top) at time now. Without correction its self time
 * is its duration less its callees'. With it, the self time also loses
 * the hook cost measured at start: inner_ticks of its own hooks, and
 * outer_ticks per tracked callee (the callee's hooks outside the callee's
 * interval); clamped at 0. Its corrected duration is that self time plus
 * its callees' corrected durations, so a caller never comes out shorter
 * than its callees whatever the clamping.
 */
static inline void func_pop(struct fframe *f, uint64_t now)
{
	struct sf_func *fe = f->fe;
	struct sf_fnode *n = f->node;
	int64_t raw = (int64_t)(now - f->start);
	int64_t s;
	uint64_t self, dc;
	int outer;

	raw = raw > 0 ? raw : 0; /* clocks of two CPUs a few ticks apart */
	s = raw - (int64_t)ft.inner_ticks - (int64_t)f->adj;
	self = s > 0 ? (uint64_t)s : 0;
	dc = self + f->sub;
	f->fn = 0; /* not open: the launcher's scan stops here */
	ft.sp = f - 1;
	f[-1].adj += (uint64_t)raw + ft.outer_ticks;
	f[-1].sub += dc;
	if (unlikely(dc >= ft.tl_min))
		func_timeline_put(f, dc);
	fe->calls++;
	fe->self += self;
	n->calls++;
	n->total += dc;
	n->self += self;
	outer = --fe->active == 0;
	if (likely(outer))
		func_outer(fe, f, dc);
	else
		fe->recursive++;
	if (unlikely(f->allocs)) {
		f[-1].allocs += f->allocs;
		f[-1].bytes += f->bytes;
		if (outer) {
			fe->incl_allocs += f->allocs;
			fe->incl_bytes += f->bytes;
		}
	}
}

static inline void func_enter(uint64_t fn, uintptr_t csp)
{
	struct fframe *top, *f;
	struct fcache *c;
	struct sf_func *fe;
	uint64_t key;

	if (unlikely(ts.state != TS_READY)) {
		func_enter_slow(fn, csp);
		return;
	}
	ts.state = TS_BUSY;
	func_barrier();
	top = ft.sp;
	f = top + 1;
	key = fn ^ func_gen_key;
	/* Room left, not above the top frame on its stack (a call made
	 * above a frame's own level means that frame is dead: a longjmp the
	 * agent did not see; level with it is an inlined callee's hook, in
	 * its caller's physical frame), this call from this path cached:
	 * the fast path. */
	if (unlikely(f >= ft.limit || top->csp - csp >= ft.span))
		goto slow;
	c = &ft.cache[func_cache_slot(fn, top->node)];
	if (unlikely(c->fn != key || c->parent != top->node))
		goto slow;
	fe = c->fe;
	fe->active++;
	f->csp = csp;
	f->adj = 0;
	f->sub = 0;
	f->fe = fe;
	f->node = c->node;
	f->allocs = 0;
	f->bytes = 0;
	ft.sp = f;
	/* Last: the rest of this hook is not the callee's time. */
	f->start = func_clock();
	f->fn = fn; /* open, complete: see struct sf_fframe */
	func_barrier();
	ts.state = TS_READY;
	return;
slow:
	func_enter_locked(fn, csp);
	func_barrier();
	ts.state = TS_READY;
}

static inline void func_exit(uint64_t fn, uintptr_t csp)
{
	struct fframe *f;
	uint64_t now;

	if (unlikely(ts.state != TS_READY)) {
		func_exit_slow(fn, csp);
		return;
	}
	ts.state = TS_BUSY;
	func_barrier();
	/* First: the rest of this hook is not the callee's time. */
	now = func_clock();
	f = ft.sp;
	/* Hooks nest: an exit is the top frame's when it names the top
	 * frame's function. The stack pointer says nothing here: an inlined
	 * callee exits at its caller's level, a sibling-call exit (jmp to
	 * this hook after the epilogue) above its own frame. */
	if (likely(f->fn == fn))
		func_pop(f, now);
	else
		func_exit_locked(fn, csp, now);
	func_barrier();
	ts.state = TS_READY;
}

/*
 * An allocation of n bytes was counted (heap_on_alloc, thread busy):
 * charge it to the function on top of the shadow stack. No frame (root,
 * or not set up: the sentinel) means no instrumented function is active.
 */
static inline void func_note_alloc(struct tstate *t, uint64_t n)
{
	struct fframe *f = ft.sp;

	(void)t;
	if (f->fe) {
		f->allocs++;
		f->bytes += n;
		f->fe->self_allocs++;
		f->fe->self_bytes += n;
		f->node->allocs++;
		f->node->bytes += n;
	}
}

/* setjmp, sigsetjmp (shim/jmp.c) with env: remember the shadow stack's
 * top for a jump to env. Nothing happens for a thread not timing calls. */
void func_jmp_mark(const void *env);
/* A longjmp or siglongjmp to env is about to be made: close the frames
 * above the one that called setjmp (counted as unwound). Nothing happens
 * when env was not marked by a frame still on the stack. */
void func_jmp_take(const void *env);

/* A catch handler at address ra starts in the frame whose hooks ran at
 * level csp: close the frames an exception left (below that level on its
 * stack, and the catching function's inlined callees). */
void func_catch(uintptr_t csp, uintptr_t ra);

/* The hooks' bodies (shim/cyg.c), exported as __cyg_profile_func_enter
 * and _exit. */
void func_hook_enter(void *this_fn, void *call_site);
void func_hook_exit(void *this_fn, void *call_site);

/* The calling thread is exiting (agent_thread_exit): close its open
 * frames and log its figures as the record's owner. */
void func_thread_exit(void);

/* The process is exiting (agent_process_exit): close the calling
 * thread's frames, take the closing clock calibration pair. */
void func_process_exit(void);

#ifdef PR_UNIT_TEST
/* Unit tests: set the process up without calibration; ticks are ns;
 * hook and inner are the correction (0: none); threads get the stack
 * [lo, hi). */
void func_test_init(uint32_t max_depth, uint64_t min_ticks, uint64_t hook, uint64_t inner, uintptr_t lo, uintptr_t hi);
/* Forget the thread's function state (the next call sets it up again). */
void func_test_reset_thread(void);
#endif

#endif
