/*
 * The allocator family, interposed. Each entry point has the same shape:
 * thread state -> one test for "ready" -> work -> restore; everything
 * unusual (first call, reentrancy, agent off, bootstrap) is in slow().
 *
 * Layout of a tracked block: [base ... | 16-byte header | user data ...],
 * user - base = 16 for ordinary blocks and = alignment for aligned ones,
 * so alignment is kept and free() finds base from the header alone.
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "heap.h"

#define EXPORT __attribute__((visibility("default"), no_instrument_function))

/* dlsym may calloc before we know the real allocator: serve it here. */
#define ARENA_SIZE (64 * 1024)
static char arena[ARENA_SIZE] __attribute__((aligned(64)));
static size_t arena_used;

NI static int in_arena(const void *p)
{
	return (const char *)p >= arena && (const char *)p < arena + ARENA_SIZE;
}

NI static void *arena_alloc(size_t n, size_t align)
{
	size_t old, start, end;

	if (align < 16)
		align = 16;
	old = __atomic_load_n(&arena_used, __ATOMIC_RELAXED);
	do {
		start = (old + 16 + align - 1) & ~(align - 1); /* 16 bytes for the size */
		end = start + n;
		if (end > ARENA_SIZE || end < start)
			return NULL;
	} while (!__atomic_compare_exchange_n(&arena_used, &old, end, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	*(size_t *)(arena + start - 16) = n;
	return arena + start; /* static storage: already zero */
}

NI static size_t arena_size(const void *p)
{
	return *(const size_t *)((const char *)p - 16);
}

/* Is the allocator call from here to be recorded? */
static inline int tracked(void)
{
	return likely(ts.state == TS_READY) && likely(agent.tracking);
}

NI static int slow_ready(void)
{
	if (ts.state == TS_UNINIT && __atomic_load_n(&agent.state, __ATOMIC_ACQUIRE) != AGENT_OFF) {
		/* Setting a thread up makes system calls; the program's errno
		 * must not see them (free() never changes it, for one). */
		int saved = errno;
		agent_thread_init();
		errno = saved;
	}
	return ts.state == TS_READY && agent.tracking;
}

/* --- raw blocks: with an uncounted header when tracking, else plain --- */

NI static void *raw_alloc(size_t n, size_t align, int zero)
{
	void *base, *user;
	unsigned shift = 4;

	if (!agent.real.malloc)
		return arena_alloc(n, align);
	if (!agent.tracking) {
		if (align > 16)
			return agent.real.memalign(align, n);
		return zero ? agent.real.calloc(1, n) : agent.real.malloc(n);
	}
	/* glibc's limits: an alignment above half the address space is
	 * EINVAL; a size that cannot fit with its alignment is ENOMEM. Checked
	 * first, so n + align below cannot wrap. */
	if (align > SIZE_MAX / 2 + 1) {
		errno = EINVAL;
		return NULL;
	}
	if (n > (size_t)PTRDIFF_MAX - align - 65536) {
		errno = ENOMEM;
		return NULL;
	}
	if (align > 16) {
		shift = (unsigned)__builtin_ctzll(align);
		base = agent.real.memalign(align, n + align);
		if (base && zero)
			memset((char *)base + align, 0, n);
	} else {
		base = zero ? agent.real.calloc(1, n + HDR_SIZE) : agent.real.malloc(n + HDR_SIZE);
	}
	if (!base)
		return NULL;
	user = (char *)base + (1ul << shift);
	heap_hdr_write(user, n, shift, 0, agent.ptag, 0);
	return user;
}

NI static void *base_of(void *user)
{
	return (char *)user - (1ul << heap_hdr_shift(heap_hdr_of(user)));
}

NI static void raw_free(void *p)
{
	if (!p || in_arena(p))
		return;
	if (!agent.real.free)
		return; /* cannot happen: only the arena exists before */
	if (agent.tracking && heap_hdr_valid(p)) {
		void *base = base_of(p);
		heap_hdr_of(p)->w1 = 0; /* a stale header must never validate */
		agent.real.free(base);
		return;
	}
	agent.real.free(p);
}

/* Ensure the agent is initialised and the allocator known. */
NI static void ensure_init(void)
{
	if (__builtin_expect(__atomic_load_n(&agent.state, __ATOMIC_ACQUIRE) < AGENT_READY, 0)) {
		int saved = errno;
		agent_init();
		errno = saved;
	}
}

/* --- counted allocation --- */

/* Allocate n bytes; count `count` bytes (pvalloc asks for more than the
 * program requested). */
NI static void *do_alloc_counted(size_t n, size_t count, size_t align, int zero)
{
	void *p;

	if (unlikely(!tracked())) {
		ensure_init();
		if (!slow_ready() || !agent.tracking)
			return raw_alloc(n, align, zero);
	}
	ts.state = TS_BUSY;
	if (likely(!align && !zero && n <= PTRDIFF_MAX - 65536)) {
		/* The common case, without raw_alloc's checks. */
		void *base = agent.real.malloc(n + HDR_SIZE);
		p = base ? (char *)base + HDR_SIZE : NULL;
	} else {
		p = raw_alloc(n, align, zero);
	}
	if (likely(p))
		heap_on_alloc(&ts, p, count, align > 16 ? (unsigned)__builtin_ctzll(align) : 4);
	else
		ts.rec->failed++;
	ts.state = TS_READY;
	return p;
}

static inline void *do_alloc(size_t n, size_t align, int zero)
{
	return do_alloc_counted(n, n, align, zero);
}

NI static void do_free(void *p, int temp_ok)
{
	struct heap_hdr *h;
	void *base;

	if (unlikely(!p || in_arena(p)))
		return;
	if (unlikely(!agent.tracking)) {
		raw_free(p);
		return;
	}
	if (unlikely(!heap_hdr_valid(p))) {
		if (agent.proc)
			__atomic_fetch_add(&agent.proc->foreign_frees, 1, __ATOMIC_RELAXED);
		agent.real.free(p);
		return;
	}
	h = heap_hdr_of(p);
	base = (char *)p - (1ul << heap_hdr_shift(h));
	if (likely(heap_hdr_counted(h)) && (likely(tracked()) || slow_ready())) {
		ts.state = TS_BUSY;
		heap_on_free(&ts, p, h, temp_ok);
		ts.state = TS_READY;
	}
	h->w1 = 0; /* a stale header must never validate */
	agent.real.free(base);
}

EXPORT void *malloc(size_t n)
{
	return do_alloc(n, 0, 0);
}

EXPORT void free(void *p)
{
	/* errno: glibc's free keeps it; so does every path of ours (only
	 * slow_ready makes system calls, and it restores it). */
	do_free(p, 1);
}

/* nmemb * size, or 0 with ENOMEM (counted as a failed call) on overflow. */
NI static int array_size(size_t nmemb, size_t size, size_t *total)
{
	if (likely(!__builtin_mul_overflow(nmemb, size, total)))
		return 1;
	if (tracked())
		ts.rec->failed++;
	errno = ENOMEM;
	return 0;
}

EXPORT void *calloc(size_t nmemb, size_t size)
{
	size_t total;

	return array_size(nmemb, size, &total) ? do_alloc(total, 0, 1) : NULL;
}

NI static void *realloc_moved(void *p, size_t n)
{
	size_t old = in_arena(p) ? arena_size(p) : heap_hdr_size(heap_hdr_of(p));
	void *q = do_alloc(n, 0, 0);

	if (!q)
		return NULL;
	memcpy(q, p, old < n ? old : n);
	do_free(p, 0);
	return q;
}

EXPORT void *realloc(void *p, size_t n)
{
	struct heap_hdr *h, saved;
	void *base, *nb, *user;

	if (!p)
		return do_alloc(n, 0, 0);
	if (in_arena(p))
		return realloc_moved(p, n);
	if (!agent.tracking || !heap_hdr_valid(p)) {
		ensure_init();
		return agent.real.realloc(p, n);
	}
	if (n == 0) {
		/* glibc: realloc(p, 0) frees p and returns NULL. */
		do_free(p, 0);
		return NULL;
	}
	h = heap_hdr_of(p);
	if (heap_hdr_shift(h) != 4)
		return realloc_moved(p, n); /* aligned block: keep it simple */
	if (n > PTRDIFF_MAX - 65536) {
		errno = ENOMEM;
		return NULL;
	}
	saved = *h;
	base = base_of(p);
	if (!heap_hdr_counted(&saved) || !(tracked() || slow_ready())) {
		nb = agent.real.realloc(base, n + HDR_SIZE);
		if (!nb)
			return NULL;
		user = (char *)nb + HDR_SIZE;
		heap_hdr_write(user, n, 4, heap_hdr_counted(&saved), heap_hdr_ptag(&saved), heap_hdr_trace(&saved));
		return user;
	}
	ts.state = TS_BUSY;
	nb = agent.real.realloc(base, n + HDR_SIZE);
	if (!nb) {
		ts.rec->failed++;
		ts.state = TS_READY;
		return NULL;
	}
	user = (char *)nb + HDR_SIZE;
	heap_on_free(&ts, p, &saved, 0);
	heap_on_alloc(&ts, user, n, 4);
	ts.state = TS_READY;
	return user;
}

EXPORT void *reallocarray(void *p, size_t nmemb, size_t size)
{
	size_t total;

	return array_size(nmemb, size, &total) ? realloc(p, total) : NULL;
}

NI static int valid_align(size_t a)
{
	return a && !(a & (a - 1));
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
	void *p;
	int saved = errno;

	if (!valid_align(align) || align % sizeof(void *))
		return EINVAL;
	p = do_alloc(n, align, 0);
	if (!p) {
		errno = saved;
		return ENOMEM;
	}
	*out = p;
	errno = saved;
	return 0;
}

EXPORT void *aligned_alloc(size_t align, size_t n)
{
	/* glibc before 2.38 (Debian 12 has 2.36) takes any alignment here,
	 * as memalign does; so do we, to change nothing. */
	return memalign(align, n);
}

EXPORT void *memalign(size_t align, size_t n)
{
	/* glibc rounds a non-power-of-two alignment up; so do we. */
	if (align > 16 && !valid_align(align)) {
		size_t a = 32;
		while (a < align && a)
			a <<= 1;
		if (!a) {
			errno = EINVAL;
			return NULL;
		}
		align = a;
	}
	return do_alloc(n, align, 0);
}

EXPORT void *valloc(size_t n)
{
	return do_alloc(n, (size_t)sysconf(_SC_PAGESIZE), 0);
}

EXPORT void *pvalloc(size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t rounded = n ? (n + page - 1) & ~(page - 1) : page;
	if (rounded < n) {
		errno = ENOMEM;
		return NULL;
	}
	/* The program may use the rounded size; we count what it asked for. */
	return do_alloc_counted(rounded, n, page, 0);
}

EXPORT size_t malloc_usable_size(void *p)
{
	if (!p)
		return 0;
	if (in_arena(p))
		return arena_size(p);
	ensure_init();
	if (agent.tracking && heap_hdr_valid(p))
		return agent.real.usable_size(base_of(p)) - (1ul << heap_hdr_shift(heap_hdr_of(p)));
	return agent.real.usable_size(p);
}
