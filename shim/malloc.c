/*
 * The allocator family, interposed. Each entry point has the same shape:
 * thread state -> one test for "ready" -> work -> restore; everything
 * unusual (first call, reentrancy, agent off, bootstrap) is in slow().
 *
 * Layout of a tracked block: [base ... | 16-byte header | user data ...],
 * user - base = 16 for ordinary blocks and = alignment for 32-aligned ones,
 * so alignment is kept and free() finds base from the header alone.
 * Blocks aligned to 64 or more are glibc's own aligned blocks, asked 16
 * bytes larger, with the header in their last 16 usable bytes: a header in
 * front would cost a whole alignment unit (a page for each page-aligned
 * block), the end costs 16 bytes, as the program's request costs natively.
 *
 * The __libc_* names are glibc's public aliases of the same functions:
 * a program calling them gets ours, or our blocks would reach glibc.
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

/* --- finding headers --- */

/* The end header of an aligned block of ours at p, or NULL. Only a
 * 64-aligned pointer can be one; glibc tells its usable size. */
NI static struct heap_hdr *hdr_find_tail(void *p)
{
	struct heap_hdr *h;
	size_t u;

	if ((uintptr_t)p & (HDR_TAIL_ALIGN - 1))
		return NULL;
	u = agent.real.usable_size(p);
	if (u < HDR_SIZE)
		return NULL;
	h = heap_tail_of(p, u);
	return heap_tail_valid(h, p) ? h : NULL;
}

/* The header of a block of ours at p and the block glibc gave (*base), or
 * NULL for a block we did not hand out. The front header is the common
 * case; an aligned block's front is glibc's chunk header, which never
 * validates: its upper half is 0 (size < 4 GiB) and a 64-aligned address
 * makes the magic's low bits 10b, never 0. */
static inline struct heap_hdr *hdr_find(void *p, void **base)
{
	struct heap_hdr *h;

	if (likely(heap_hdr_valid(p))) {
		h = heap_hdr_of(p);
		*base = (char *)p - (1ul << heap_hdr_shift(h));
		return h;
	}
	*base = p;
	return hdr_find_tail(p);
}

/* --- raw blocks: with an uncounted header when tracking, else plain --- */

/* A block of n bytes aligned to align (a power of two, or below 16), its
 * header at *hp: uncounted, for the caller to count. NULL with glibc's
 * errno when glibc fails. */
NI static void *raw_alloc(size_t n, size_t align, int zero, struct heap_hdr **hp)
{
	void *base, *user;
	unsigned shift = 4;

	*hp = NULL;
	if (!agent.real.malloc)
		return arena_alloc(n, align);
	if (!agent.tracking) {
		if (align > 16)
			return agent.real.memalign(align, n);
		return zero ? agent.real.calloc(1, n) : agent.real.malloc(n);
	}
	if (align >= HDR_TAIL_ALIGN) {
		/* glibc checks the alignment and the size itself and sets errno
		 * as it would for the program's own call. */
		if (n > SIZE_MAX - HDR_TAIL_ROOM) {
			errno = ENOMEM;
			return NULL;
		}
		user = agent.real.memalign(align, n + HDR_TAIL_ROOM);
		if (!user)
			return NULL;
		if (zero)
			memset(user, 0, n);
		*hp = heap_tail_of(user, agent.real.usable_size(user));
		heap_hdr_put(*hp, user, n, 0, 0, agent.ptag, 0);
		return user;
	}
	/* glibc's limit: a size that cannot fit with its alignment is
	 * ENOMEM. Checked first, so n + align below cannot wrap. */
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
	*hp = heap_hdr_of(user);
	return user;
}

NI static void raw_free(void *p)
{
	struct heap_hdr *h;
	void *base;

	if (!p || in_arena(p))
		return;
	if (!agent.real.free)
		return; /* cannot happen: only the arena exists before */
	if (agent.tracking && (h = hdr_find(p, &base))) {
		h->w1 = 0; /* a stale header must never validate */
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
	struct heap_hdr *h;
	unsigned shift = 4;
	void *p;

	if (unlikely(!agent_counting())) {
		ensure_init();
		if (!slow_ready() || !agent.tracking)
			return raw_alloc(n, align, zero, &h);
		if (agent.tracking == 2 || ts.paused) {
			/* Paused: an uncounted header, like a block of before
			 * the agent started. */
			ts.state = TS_BUSY;
			p = raw_alloc(n, align, zero, &h);
			if (p)
				api_note_paused_alloc(count);
			ts.state = TS_READY;
			return p;
		}
	}
	ts.state = TS_BUSY;
	if (likely(!align && !zero && n <= PTRDIFF_MAX - 65536)) {
		/* The common case, without raw_alloc's checks. */
		void *base = agent.real.malloc(n + HDR_SIZE);
		p = base ? (char *)base + HDR_SIZE : NULL;
		h = p ? heap_hdr_of(p) : NULL;
	} else {
		p = raw_alloc(n, align, zero, &h);
		if (p)
			shift = heap_hdr_shift(h); /* written uncounted by raw_alloc */
	}
	if (likely(p))
		heap_on_alloc_at(&ts, h, p, count, shift);
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
	h = hdr_find(p, &base);
	if (unlikely(!h)) {
		if (agent.proc)
			__atomic_fetch_add(&agent.proc->foreign_frees, 1, __ATOMIC_RELAXED);
		agent.real.free(p);
		return;
	}
	if (likely(heap_hdr_counted(h)) && (likely(tracked()) || slow_ready())) {
		ts.state = TS_BUSY;
		heap_on_free(&ts, p, h, temp_ok);
		ts.state = TS_READY;
	}
	h->w1 = 0; /* a stale header must never validate */
	agent.real.free(base);
}

/*
 * Memory not tracked (--no-memory; decided once at start): the entry
 * points are a test and a jump to glibc's. Before glibc's are known the
 * slow path runs (it sets the agent up). A block taken from our arena
 * before that still comes back to us.
 */
#define UNTRACKED(fn) (unlikely(!__atomic_load_n(&agent.tracking, __ATOMIC_RELAXED)) && likely(agent.real.fn != NULL))

EXPORT void *malloc(size_t n)
{
	if (UNTRACKED(malloc))
		return agent.real.malloc(n);
	return do_alloc(n, 0, 0);
}

EXPORT void free(void *p)
{
	if (UNTRACKED(free) && !in_arena(p)) {
		agent.real.free(p);
		return;
	}
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

	if (UNTRACKED(calloc))
		return agent.real.calloc(nmemb, size);
	return array_size(nmemb, size, &total) ? do_alloc(total, 0, 1) : NULL;
}

NI static void *realloc_moved(void *p, const struct heap_hdr *h, size_t n)
{
	size_t old = h ? heap_hdr_size(h) : arena_size(p);
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

	if (UNTRACKED(realloc) && !in_arena(p))
		return agent.real.realloc(p, n);
	if (!p)
		return do_alloc(n, 0, 0);
	if (in_arena(p))
		return realloc_moved(p, NULL, n);
	if (!agent.tracking || !(h = hdr_find(p, &base))) {
		ensure_init();
		return agent.real.realloc(p, n);
	}
	if (n == 0) {
		/* glibc: realloc(p, 0) frees p and returns NULL. */
		do_free(p, 0);
		return NULL;
	}
	if (heap_hdr_shift(h) != 4)
		return realloc_moved(p, h, n); /* aligned block: keep it simple */
	if (n > PTRDIFF_MAX - 65536) {
		errno = ENOMEM;
		return NULL;
	}
	saved = *h;
	/* glibc may move the block and free the old one, where a free
	 * chunk can keep our header's second word: a stale header must
	 * never validate (agent/leakscan.c finds blocks by it). */
	h->w1 = 0;
	if (!heap_hdr_counted(&saved) || !(tracked() || slow_ready())) {
		nb = agent.real.realloc(base, n + HDR_SIZE);
		if (!nb) {
			*h = saved;
			return NULL;
		}
		user = (char *)nb + HDR_SIZE;
		heap_hdr_write(user, n, 4, heap_hdr_counted(&saved), heap_hdr_tagep(&saved), heap_hdr_trace(&saved));
		return user;
	}
	ts.state = TS_BUSY;
	nb = agent.real.realloc(base, n + HDR_SIZE);
	if (!nb) {
		*h = saved;
		ts.rec->failed++;
		ts.state = TS_READY;
		return NULL;
	}
	user = (char *)nb + HDR_SIZE;
	heap_on_free(&ts, p, &saved, 0);
	if (unlikely(agent.tracking == 2 || ts.paused)) {
		/* Paused: the old block's free counts, the new one does not. */
		heap_hdr_write(user, n, 4, 0, agent.ptag, 0);
		api_note_paused_alloc(n);
	} else {
		heap_on_alloc(&ts, user, n, 4);
	}
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

	/* As glibc: a bad alignment returns EINVAL and leaves errno alone; a
	 * failed allocation returns ENOMEM and leaves errno as the allocation
	 * did (ENOMEM). Every path of ours keeps errno otherwise. */
	if (!valid_align(align) || align % sizeof(void *))
		return EINVAL;
	p = do_alloc(n, align, 0);
	if (!p)
		return ENOMEM;
	*out = p;
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
	struct heap_hdr *h;
	void *base;

	if (!p)
		return 0;
	if (in_arena(p))
		return arena_size(p);
	ensure_init();
	if (agent.tracking && (h = hdr_find(p, &base)))
		return heap_hdr_shift(h) ? agent.real.usable_size(base) - (1ul << heap_hdr_shift(h))
					 : (size_t)((char *)h - (char *)p); /* up to the end header */
	return agent.real.usable_size(p);
}

/* Declared by no header. */
void *__libc_malloc(size_t n);
void __libc_free(void *p);
void cfree(void *p);
void *__libc_calloc(size_t nmemb, size_t size);
void *__libc_realloc(void *p, size_t n);
void *__libc_memalign(size_t align, size_t n);
void *__libc_valloc(size_t n);
void *__libc_pvalloc(size_t n);

/* glibc's public aliases (and cfree, its old name for free, which
 * binaries linked long ago may still call). */
EXPORT void *__libc_malloc(size_t n)
{
	return do_alloc(n, 0, 0);
}

EXPORT void __libc_free(void *p)
{
	do_free(p, 1);
}

EXPORT void cfree(void *p)
{
	do_free(p, 1);
}

EXPORT void *__libc_calloc(size_t nmemb, size_t size)
{
	return calloc(nmemb, size);
}

EXPORT void *__libc_realloc(void *p, size_t n)
{
	return realloc(p, n);
}

EXPORT void *__libc_memalign(size_t align, size_t n)
{
	return memalign(align, n);
}

EXPORT void *__libc_valloc(size_t n)
{
	return valloc(n);
}

EXPORT void *__libc_pvalloc(size_t n)
{
	return pvalloc(n);
}
