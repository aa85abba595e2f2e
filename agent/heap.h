/*
 * Heap accounting. Every block handed out while tracking carries a 16-byte
 * header just below the user pointer:
 *
 *   w0: bits 0-43 requested size, 44-49 log2(user - base), 50 counted,
 *       51 epoch (flipped by ptrace_reset: agent/api.c), 52-63 process tag
 *   w1: bits 0-31 trace id, 32-63 HDR_MAGIC ^ (user >> 4)
 *
 * except blocks aligned to HDR_TAIL_ALIGN or more: those are glibc's own
 * aligned blocks (user == base) and keep the same header in the last 16
 * bytes of their usable size, shift 0, magic HDR_MAGIC_TAIL ^ (user >> 4).
 * So free() knows the size and allocation stack without any lookup, and a
 * pointer we did not hand out (magic mismatch) is passed through untouched.
 * Totals and per-site counters live in the thread's record in the image.
 */
#ifndef PTRACE_HEAP_H
#define PTRACE_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "fmath.h"

#define HDR_SIZE 16u
#define HDR_MAGIC 0xa11c0b1eu
#define HDR_MAGIC_TAIL 0x7a11b10cu
#define HDR_TAIL_ALIGN 64u /* from this alignment on, the header is at the end */
#define HDR_SIZE_MAX ((1ull << 44) - 1)
#define HEAP_FLUSH_BYTES (32 * 1024) /* per-thread live-bytes batch, see docs */

struct heap_hdr {
	uint64_t w0;
	uint64_t w1;
};

static inline struct heap_hdr *heap_hdr_of(void *user)
{
	return (struct heap_hdr *)((char *)user - HDR_SIZE);
}

static inline uint32_t heap_magic(const void *user)
{
	return HDR_MAGIC ^ (uint32_t)((uintptr_t)user >> 4);
}

static inline uint32_t heap_magic_tail(const void *user)
{
	return HDR_MAGIC_TAIL ^ (uint32_t)((uintptr_t)user >> 4);
}

/*
 * The end header of an aligned block whose usable size (glibc's) is
 * usable: the last 16-aligned 16 bytes in it. glibc's usable sizes are
 * 8 mod 16 (16 for mmapped chunks), and the leak check's scan looks for
 * headers at 16-byte steps (agent/leakscan.c); HDR_TAIL_ROOM bytes past
 * the request leave room for the header below any such end.
 */
#define HDR_TAIL_ROOM (HDR_SIZE + 8u)
static inline struct heap_hdr *heap_tail_of(void *user, size_t usable)
{
	return (struct heap_hdr *)(((uintptr_t)user + usable - HDR_SIZE) & ~(uintptr_t)15);
}

/* Write header h of the block at user: in front (shift >= 4) or at its
 * end (shift 0). */
static inline void heap_hdr_put(struct heap_hdr *h, const void *user, uint64_t size, unsigned shift, int counted,
				uint32_t ptag, uint32_t trace)
{
	/* ptag: the process tag, and the epoch in bit 12 (heap_tag). */
	h->w0 = (size > HDR_SIZE_MAX ? HDR_SIZE_MAX : size) | ((uint64_t)shift << 44) | ((uint64_t)!!counted << 50) |
		((uint64_t)((ptag >> 12) & 1) << 51) | ((uint64_t)(ptag & 0xfff) << 52);
	h->w1 = trace | ((uint64_t)(shift ? heap_magic(user) : heap_magic_tail(user)) << 32);
}

static inline void heap_hdr_write(void *user, uint64_t size, unsigned shift, int counted, uint32_t ptag,
				  uint32_t trace)
{
	heap_hdr_put(heap_hdr_of(user), user, size, shift, counted, ptag, trace);
}

static inline int heap_hdr_valid(void *user)
{
	return (uint32_t)(heap_hdr_of(user)->w1 >> 32) == heap_magic(user);
}

/* Is h the end header of the block at user? */
static inline int heap_tail_valid(const struct heap_hdr *h, const void *user)
{
	return (uint32_t)(h->w1 >> 32) == heap_magic_tail(user) && !((h->w0 >> 44) & 63);
}

static inline uint64_t heap_hdr_size(const struct heap_hdr *h) { return h->w0 & HDR_SIZE_MAX; }
static inline unsigned heap_hdr_shift(const struct heap_hdr *h) { return (unsigned)(h->w0 >> 44) & 63; }
static inline int heap_hdr_counted(const struct heap_hdr *h) { return (int)(h->w0 >> 50) & 1; }
static inline uint32_t heap_hdr_ptag(const struct heap_hdr *h) { return (uint32_t)(h->w0 >> 52); }
static inline uint32_t heap_hdr_trace(const struct heap_hdr *h) { return (uint32_t)h->w1; }
/* Process tag and epoch, as heap_hdr_put takes them. */
static inline uint32_t heap_hdr_tagep(const struct heap_hdr *h)
{
	return heap_hdr_ptag(h) | (uint32_t)((h->w0 >> 51) & 1) << 12;
}

/* What a counted allocation of this process, this epoch, carries. */
static inline uint32_t heap_tag(void)
{
	return agent.ptag | (uint32_t)agent.epoch << 12;
}

/* Histogram bucket of a requested size: 0 for 0, b for [2^(b-1), 2^b). */
static inline unsigned heap_bucket(uint64_t n)
{
	unsigned b = n ? 64u - (unsigned)__builtin_clzll(n) : 0;
	return b < SF_HIST_BUCKETS ? b : SF_HIST_BUCKETS - 1;
}

/* The site of trace in the thread's table; never NULL (falls back to the
 * record's nostack site when the table is full). */
struct sf_site *heap_site_slow(struct tstate *t, uint32_t trace);

static inline struct sf_site *heap_site(struct tstate *t, uint32_t trace)
{
	if (!trace)
		return &t->rec->nostack; /* unsampled: the common case at low rates */
	if (likely(t->sites != NULL)) {
		/* Its first slot or the next: a hot stack made after the
		 * table filled finds its first slot taken (Lua: 58% of the
		 * lookups were of sites one or two slots on); farther ones
		 * are laid out again (heap.c, sites_far). */
		uint32_t i = sf_trace_slot(trace, t->site_mask);
		struct sf_site *s = &t->sites[i];

		if (likely(s->trace == trace))
			return s;
		if (s->trace) {
			s = &t->sites[(i + 1) & t->site_mask];
			if (likely(s->trace == trace))
				return s;
		}
	}
	return heap_site_slow(t, trace);
}

/* Move the thread's pending live bytes into the process and update peak. */
void heap_flush(struct tstate *t);

/* Stack of the current allocation, or 0 when not sampled / not stored. */
uint32_t heap_sample_stack(struct tstate *t);

/*
 * --sample-bytes=N: a Poisson process over the bytes allocated, N bytes
 * apart on average (exponential gaps, as tcmalloc and Go sample), so an
 * allocation of n < N bytes is sampled with probability p = 1 - e^(-n/N),
 * and one of N or more always (p = 1). A sampled allocation counts 1/p
 * allocations and n/p bytes at its site: unbiased estimates. The weights
 * depend on n and N alone, so its free subtracts exactly what it added.
 * Counts in 1/SF_WEIGHT_ONE of an allocation.
 */
static inline void heap_weights(uint64_t n, uint64_t mean, uint64_t *wc, uint64_t *wb)
{
	double p;

	if (n >= mean || !n) {
		*wc = SF_WEIGHT_ONE;
		*wb = n;
		return;
	}
	p = -pr_expm1(-(double)n / (double)mean);
	*wc = (uint64_t)((double)SF_WEIGHT_ONE / p + 0.5);
	*wb = (uint64_t)((double)n / p + 0.5);
}

/* The sampling decision by bytes for an allocation of n: its stack (and
 * t->w_count, t->w_bytes set), or 0. */
uint32_t heap_sample_bytes(struct tstate *t, uint64_t n);

/* Account an allocation of n bytes at user; writes its header h (in
 * front with shift >= 4, at the end with shift 0). */
static inline __attribute__((always_inline)) void heap_on_alloc_at(struct tstate *t, struct heap_hdr *h, void *user,
							      size_t n, unsigned shift)
{
	struct sf_thread *r = t->rec;
	uint32_t trace = 0;
	struct sf_site *s;

	if (unlikely(--t->countdown == 0))
		trace = heap_sample_stack(t);
	else if (unlikely(agent.set.sample_bytes) &&
		 (n >= agent.set.sample_bytes || (t->byte_gap -= (int64_t)n) < 0))
		trace = heap_sample_bytes(t, n);
	heap_hdr_put(h, user, n, shift, 1, heap_tag(), trace);
	r->allocs++;
	r->bytes += n;
	r->hist[heap_bucket(n)]++;
	s = heap_site(t, trace);
	if (likely(!t->w_bytes)) {
		s->allocs++;
		s->bytes += n;
	} else {
		s->allocs += t->w_count;
		s->bytes += t->w_bytes;
		t->w_bytes = 0;
	}
	func_note_alloc(t, n);
	t->last_alloc = user;
	t->pending += (int64_t)n;
	if (unlikely(t->pending >= HEAP_FLUSH_BYTES ||
		     t->pending + __atomic_load_n(&agent.proc->live_bytes, __ATOMIC_RELAXED) >
			     (int64_t)__atomic_load_n(&agent.proc->peak_bytes, __ATOMIC_RELAXED)))
		heap_flush(t);
}

/* Account an allocation of n bytes at user, header in front. */
static inline __attribute__((always_inline)) void heap_on_alloc(struct tstate *t, void *user, size_t n,
							   unsigned shift)
{
	heap_on_alloc_at(t, heap_hdr_of(user), user, n, shift);
}

/* Account the free of a block with header h; temporary when it is the
 * thread's latest allocation. Returns nothing: the caller frees. */
void heap_on_free_slow(struct tstate *t, struct heap_hdr *h);

static inline void heap_on_free(struct tstate *t, void *user, struct heap_hdr *h, int temp_ok)
{
	struct sf_thread *r = t->rec;
	uint64_t n = heap_hdr_size(h), one = 1, bytes = n; /* bytes and count the free takes from its site */
	struct sf_site *s;

	/* Counted, this process's, this epoch's: one compare. */
	if (unlikely((h->w0 >> 50) != (1u | (uint64_t)agent.epoch << 1 | (uint64_t)agent.ptag << 2))) {
		heap_on_free_slow(t, h);
		return;
	}
	r->frees++;
	r->freed_bytes += n;
	s = heap_site(t, heap_hdr_trace(h));
	if (unlikely(agent.set.sample_bytes) && heap_hdr_trace(h))
		heap_weights(n, agent.set.sample_bytes, &one, &bytes); /* as its allocation added */
	s->frees += one;
	s->freed_bytes += bytes;
	if (user == t->last_alloc) {
		/* Freed before this thread allocated anything else. */
		if (temp_ok) {
			r->temporary++;
			s->temporary += one;
		}
		t->last_alloc = NULL;
	}
	t->pending -= (int64_t)n;
	if (unlikely(t->pending <= -HEAP_FLUSH_BYTES))
		heap_flush(t);
}

/* Give the thread an empty site table (or reuse its record's). */
void heap_thread_setup(struct tstate *t);

#endif
