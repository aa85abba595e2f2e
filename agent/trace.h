/*
 * Stack traces: capture with libunwind's fast path, then intern into the
 * session-wide lock-free trace table. Ids are stable for the session.
 */
#ifndef PTRACE_TRACE_H
#define PTRACE_TRACE_H

#include <stdint.h>
#include <string.h>

#include "agent.h"
#include "cfi.h"

#define TRACE_SLACK 16 /* room for the agent's own frames above max */

/* Capture up to max frames above the agent's own frames into ips (room
 * for max + TRACE_SLACK); returns the depth (0 when nothing unwound). */
#ifdef PR_UNIT_TEST
unsigned trace_capture(uint64_t *ips, unsigned max);
#else
#define UNW_LOCAL_ONLY
#include <libunwind.h>

/* Inline: every frame of ours between the program and unw_backtrace is a
 * frame libunwind must step through (~10 ns each) and we then drop. */
/*
 * Squeeze the agent's own frames out of ips[0..n) in place, keeping at
 * most max: time and allocations in our hooks belong to the program's
 * function that called them (and our pthread_create wrapper sits between
 * the program and libc's while a thread is created). When frames on top
 * were ours, the new frame 0 is a return address; the report reads frame
 * 0 as an exact PC, so it steps back into its call instruction (the call's
 * line, not the next one). Returns the frames kept.
 */
static inline unsigned trace_drop_agent_frames(uint64_t *ips, unsigned n, unsigned max)
{
	uint64_t lo = agent.self_lo, size = agent.self_hi - agent.self_lo;
	unsigned top = 0, out, i;

	/* Ours are on top (the hook), and rarely below (the pthread_create
	 * wrapper): skip the top ones, then look for others in one pass of
	 * compares before moving anything. */
	while (top < n && ips[top] - lo < size)
		top++;
	for (i = top; i < n && i - top < max; i++)
		if (unlikely(ips[i] - lo < size))
			break;
	if (likely(i == n || i - top == max)) {
		out = i - top;
		if (top)
			memmove(ips, ips + top, out * sizeof(*ips));
	} else {
		out = i - top;
		memmove(ips, ips + top, out * sizeof(*ips));
		for (; i < n && out < max; i++)
			if (ips[i] - lo >= size)
				ips[out++] = ips[i];
	}
	if (out && top)
		ips[0] -= 1;
	return out;
}

/*
 * A thread's first TRACE_SLOW_CAPTURES stacks are unwound step by step
 * (unw_step), later ones with unw_backtrace. unw_backtrace's first use in
 * a thread makes its per-thread frame cache: a 256 KiB mapping, every
 * page written, unmapped again at the thread's exit. That was most of the
 * cost of starting a short thread (measured: ~150 us of CPU per thread,
 * against ~3 us for one step-by-step unwind of 16 frames); a thread that
 * unwinds often enough to pay for the cache gets it.
 */
#define TRACE_SLOW_CAPTURES 16u

/* unw_step from uc (a signal's context when signal_frame), at most max
 * frames into ips. Returns the depth. */
static inline __attribute__((always_inline)) int trace_step_unwind(unw_context_t *uc, int signal_frame,
								    uint64_t *ips, int max)
{
	unw_cursor_t cur;
	unw_word_t ip;
	int n = 0;

	if (unw_init_local2(&cur, uc, signal_frame ? UNW_INIT_SIGNAL_FRAME : 0) < 0)
		return 0;
	do {
		if (unw_get_reg(&cur, UNW_REG_IP, &ip) < 0 || !ip)
			break;
		ips[n++] = ip;
	} while (n < max && unw_step(&cur) > 0);
	return n;
}

/* libunwind's walk of the calling thread into ips (room max + TRACE_SLACK,
 * before our frames are dropped). Its fast path (unw_backtrace) keeps
 * each thread's rules by address for good: once a library was unloaded,
 * another may sit at its addresses, so from then on the walk steps
 * (unw_step's caches follow unw_flush_cache, called at dlclose). */
static inline __attribute__((always_inline)) int trace_unwind_libunwind(uint64_t *ips, unsigned max, int step)
{
	if (step || ts.captures < TRACE_SLOW_CAPTURES ||
	    __atomic_load_n(&agent.unloaded, __ATOMIC_RELAXED)) {
		unw_context_t uc;

		ts.captures++;
		return unw_getcontext(&uc) == 0 ? trace_step_unwind(&uc, 0, ips, (int)(max + TRACE_SLACK)) : 0;
	}
	return unw_backtrace((void **)ips, (int)(max + TRACE_SLACK));
}

/* The calling thread's walk memo: NULL when it has no record of its own
 * in the image, or the image is full (trace.c). */
struct cfi_memo *trace_memo_slow(void);


static inline struct cfi_memo *trace_memo(void)
{
	return likely(ts.memo != NULL) ? ts.memo : trace_memo_slow();
}

/* PTRACE_UNWIND=libunwind or check (trace.c). */
int trace_unwind_other(uint64_t *ips, unsigned max);

static inline __attribute__((always_inline)) unsigned trace_capture(uint64_t *ips, unsigned max)
{
	/* ips has room for max + TRACE_SLACK: the walkers write into it
	 * directly (void * and uint64_t are one size here), our own frames
	 * are squeezed out in place. No second buffer on the stack. */
	int n = 0;

	/* A CPU sample or a dump landing in here must not re-enter libunwind
	 * (its per-thread caches): see cpu_capture. */
	ts.in_unwind = TS_UNWIND_HOOK;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (likely(agent.set.unwind == SET_UNWIND_CFI)) {
		struct cfi_memo *m = trace_memo();

		n = (int)cfi_backtrace(ips, max + TRACE_SLACK, ts.stack_lo, ts.stack_hi, m);
		if (m && m->hit) {
			/* The memo's walk again: its trace id, no frames (trace_stack_id). */
			__atomic_signal_fence(__ATOMIC_SEQ_CST);
			ts.in_unwind = 0;
			return 1;
		}
		if (unlikely(!n)) {
			/* Rare (a signal frame, code without unwind
			 * information): libunwind's stepping walk. */
			ts.rec->unwind_slow++;
			n = trace_unwind_libunwind(ips, max, 1);
		}
	} else {
		n = trace_unwind_other(ips, max);
	}
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	ts.in_unwind = 0;
	return n > 0 ? trace_drop_agent_frames(ips, (unsigned)n, max) : 0;
}
#endif

/* Id of the trace ips[0..n); 0 when it could not be stored (table or
 * image full: counted in dropped_traces). */
uint32_t trace_intern(struct tstate *t, const uint64_t *ips, unsigned n);

#ifndef PR_UNIT_TEST
/*
 * The trace id of the calling thread's stack, walked into ips (room for
 * max + TRACE_SLACK): trace_capture, then trace_intern. When the walk is
 * the one a memo walk already holds (every frame the same, cfi.h), it is
 * that walk's id: no frames copied, hashed or looked up (most allocations
 * repeat a recent stack: Lua's 2.4 million come from 50). The id found
 * for a walk is kept in its memo walk for the next. 0: no stack.
 */
static inline __attribute__((always_inline)) uint32_t trace_stack_id(struct tstate *t, uint64_t *ips, unsigned max)
{
	/* Under PTRACE_UNWIND=check, trace_unwind_other checks the ids too. */
	struct cfi_memo *m = likely(agent.set.unwind == SET_UNWIND_CFI) ? trace_memo() : NULL;
	uint32_t id = 0;
	unsigned n;

	if (m)
		m->want_id = 1;
	n = trace_capture(ips, max);
	if (m) {
		m->want_id = 0;
		if (m->hit) {
			if (t->rec->walks_repeated != UINT32_MAX)
				t->rec->walks_repeated++;
			return m->hit;
		}
	}
	if (n)
		id = trace_intern(t, ips, n);
	if (m && m->done && id)
		m->done->trace = id;
	return id;
}
#else
static inline uint32_t trace_stack_id(struct tstate *t, uint64_t *ips, unsigned max)
{
	unsigned n = trace_capture(ips, max);

	return n ? trace_intern(t, ips, n) : 0;
}
#endif

/* The mappings the walk memos are carved from, [span[i][0], span[i][1]),
 * at most max; returns how many (the leak scan leaves them out). */
unsigned trace_memo_spans(uintptr_t (*span)[2], unsigned max);

/* 64-bit hash of a stack (exposed for tests); never 0. */
uint64_t trace_hash(const uint64_t *ips, unsigned n);

#ifdef PR_UNIT_TEST
extern uint64_t trace_test_ips[SF_DEPTH_LIMIT];
extern unsigned trace_test_depth;
#endif

#endif
