#include "heap.h"

#include <errno.h>
#include <string.h>

#include "cpu.h"
#include "image.h"
#include "modules.h"
#include "trace.h"

#define SITES_INITIAL 256u

NI static uint64_t rng_next(struct tstate *t)
{
	/* xorshift64*: good enough to space samples, no state outside t. */
	uint64_t x = t->rng ? t->rng : 0x2545f4914f6cdd1dull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	t->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* Allocations until the next sampled one: geometric with mean 1/rate. */
NI static uint64_t next_gap(struct tstate *t)
{
	double rate = agent.set.sample_rate, u, g;

	if (rate >= 1.0)
		return 1;
	u = ((double)(rng_next(t) >> 11) + 0.5) / 9007199254740992.0;
	g = pr_log(u) / pr_log1p(-rate);
	return g < 1.8e19 ? 1 + (uint64_t)g : UINT64_MAX; /* a tiny rate: no sample again */
}

/* Bytes until the next sample by bytes: exponential, mean sample_bytes. */
NI static int64_t next_byte_gap(struct tstate *t)
{
	double u = ((double)(rng_next(t) >> 11) + 0.5) / 9007199254740992.0;
	double g = -pr_log(u) * (double)agent.set.sample_bytes;

	return g < 9e18 ? (int64_t)g : INT64_MAX;
}

NI uint32_t heap_sample_bytes(struct tstate *t, uint64_t n)
{
	uint32_t id;

	/* Exponential gaps are memoryless: a fresh one from here is as good
	 * as the rest of the old one, so an allocation sampled because it is
	 * big leaves the gap alone. */
	if (n < agent.set.sample_bytes)
		t->byte_gap = next_byte_gap(t);
	if (!t->sites)
		return 0;
	id = heap_sample_stack(t);
	if (id)
		heap_weights(n, agent.set.sample_bytes, &t->w_count, &t->w_bytes);
	return id;
}

NI uint32_t heap_sample_stack(struct tstate *t)
{
	int saved = errno;
	uint32_t id = 0;

	t->countdown = agent.set.sample_bytes ? ~0ull : next_gap(t);
	if (!image_base || !agent_can_unwind(t))
		return 0; /* before the buffer below takes any stack */
	if (unlikely(__atomic_load_n(&agent.modules_dirty, __ATOMIC_RELAXED)))
		modules_scan(0);
	{
		/* Sized by the depth asked for, not the limit: stack is what
		 * libunwind needs most of (~3 KiB of its own). */
		uint64_t ips[agent.set.max_depth + TRACE_SLACK];

		id = trace_stack_id(t, ips, agent.set.max_depth);
	}
	if (unlikely(t->cpu_deferred))
		cpu_take_deferred(id);
	t->rec->sampled++;
	errno = saved;
	return id;
}

NI void heap_flush(struct tstate *t)
{
	struct sf_process *p = agent.proc;
	int64_t live = __atomic_add_fetch(&p->live_bytes, t->pending, __ATOMIC_RELAXED);

	t->pending = 0;
	agent_peak_raise(&p->peak_bytes, live);
}

NI static struct sf_site *sites_find(struct sf_site *tab, uint32_t mask, uint32_t trace, int *fresh)
{
	for (uint32_t i = sf_trace_slot(trace, mask), probes = 0; probes <= mask; i = (i + 1) & mask, probes++) {
		if (tab[i].trace == trace) {
			*fresh = 0;
			return &tab[i];
		}
		if (!tab[i].trace) {
			*fresh = 1;
			return &tab[i];
		}
	}
	return NULL;
}

/* Lookups of a thread's sites (its allocations and frees), and of one. */
static inline uint64_t site_looks(const struct sf_thread *r)
{
	return r->allocs + r->frees;
}

static inline uint64_t site_weight(const struct sf_site *s)
{
	return s->allocs + s->frees;
}

/*
 * The table laid out anew in cap slots (twice as many, or as many), the
 * sites looked up most placed first: those of a 16th of the most lookups
 * of one or more, then of a 256th, then the rest. A site made after the
 * table filled up finds its first slot taken by an older one, and the
 * hot ones of a program tend to come after its start-up's
 * (Lua: 395 sites, its hottest four 58% of the lookups, two slots on or
 * more). The new table is complete before its offset is published, so a
 * reader (the launcher while the program runs, or after a crash) sees
 * the one or the other; the old one stays in the image, unused.
 */
NI static int sites_layout(struct tstate *t, uint32_t cap)
{
	struct sf_thread *r = t->rec;
	sf_off off = image_alloc((size_t)cap * sizeof(struct sf_site));
	uint64_t most = 0, floor[3];
	struct sf_site *tab;

	if (!off)
		return -ENOSPC;
	tab = image_ptr(off);
	for (uint32_t i = 0; t->sites && i <= t->site_mask; i++)
		if (site_weight(&t->sites[i]) > most)
			most = site_weight(&t->sites[i]);
	floor[0] = most / 16;
	floor[1] = most / 256;
	floor[2] = 0;
	for (unsigned pass = 0; pass < 3; pass++) {
		for (uint32_t i = 0; t->sites && i <= t->site_mask; i++) {
			const struct sf_site *s = &t->sites[i];
			uint64_t w = site_weight(s);
			int fresh;

			if (!s->trace || w < floor[pass] || (pass && w >= floor[pass - 1]))
				continue;
			*sites_find(tab, cap - 1, s->trace, &fresh) = *s;
		}
	}
	r->sites_cap = cap;
	__atomic_store_n(&r->sites, off, __ATOMIC_RELEASE);
	t->sites = tab;
	t->site_mask = cap - 1;
	t->site_far = 0;
	t->site_looks = site_looks(r);
	return 0;
}

/* Double the table (or make the first). */
static int sites_grow(struct tstate *t)
{
	t->site_layouts = 0;
	return sites_layout(t, t->rec->sites_cap ? t->rec->sites_cap * 2 : SITES_INITIAL);
}

/*
 * A lookup went past trace's second slot (heap_site): when one in 16 did
 * since the last layout, lay the table out again, the hot sites of now
 * first (a program's phases have their own). Each layout of a size waits
 * for twice the far lookups of the one before, 4 a slot at first (what a
 * layout costs, in time and in image space, is paid for), and there are
 * at most 8: a table whose hot sites share their first slots stays.
 */
static struct sf_site *sites_far(struct tstate *t, struct sf_site *s)
{
	uint32_t trace = s->trace;
	int fresh;

	if (++t->site_far < (uint64_t)4 * (t->site_mask + 1) << t->site_layouts || t->site_layouts >= 8 ||
	    (uint64_t)t->site_far * 16 < site_looks(t->rec) - t->site_looks)
		return s;
	t->site_layouts++;
	if (sites_layout(t, t->site_mask + 1))
		return s;
	return sites_find(t->sites, t->site_mask, trace, &fresh);
}

NI struct sf_site *heap_site_slow(struct tstate *t, uint32_t trace)
{
	struct sf_thread *r = t->rec;
	struct sf_site *s;
	int fresh;

	if (!trace)
		return &r->nostack;
	if (!t->sites || (r->sites_used + 1) * 4 > (t->site_mask + 1) * 3)
		sites_grow(t);
	if (!t->sites || !(s = sites_find(t->sites, t->site_mask, trace, &fresh))) {
		__atomic_fetch_add(&image_hdr->dropped_sites, 1, __ATOMIC_RELAXED);
		return &r->nostack;
	}
	if (fresh) {
		if ((r->sites_used + 1) * 8 > (t->site_mask + 1) * 7) {
			/* Table full and could not grow: keep the figure, lose the stack. */
			__atomic_fetch_add(&image_hdr->dropped_sites, 1, __ATOMIC_RELAXED);
			return &r->nostack;
		}
		s->trace = trace;
		r->sites_used++;
		return s;
	}
	return sites_far(t, s);
}

NI void heap_on_free_slow(struct tstate *t, struct heap_hdr *h)
{
	if (!heap_hdr_counted(h))
		return;
	if (heap_hdr_ptag(h) == agent.ptag) {
		/* Allocated before the last ptrace_reset(): not a free of the
		 * figures since, but the block is no longer live. */
		uint64_t n = heap_hdr_size(h);

		t->rec->old_frees++;
		t->rec->old_freed_bytes += n;
		t->pending -= (int64_t)n;
		if (t->pending <= -HEAP_FLUSH_BYTES)
			heap_flush(t);
		return;
	}
	/* Allocated by another process image before fork(): not ours to count. */
	__atomic_fetch_add(&agent.proc->inherited_frees, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&agent.proc->inherited_bytes, heap_hdr_size(h), __ATOMIC_RELAXED);
}

NI void heap_thread_setup(struct tstate *t)
{
	struct sf_thread *r = t->rec;

	t->sites = image_ptr(__atomic_load_n(&r->sites, __ATOMIC_ACQUIRE));
	t->site_mask = r->sites_cap ? r->sites_cap - 1 : 0;
	t->site_far = 0;
	t->site_layouts = 0;
	t->site_looks = site_looks(r);
	if (!t->sites)
		sites_grow(t);
	t->pending = 0;
	t->last_alloc = NULL;
	t->countdown = 1;
	t->rng = ((uint64_t)r->tid << 32) ^ (uint64_t)(uintptr_t)r ^ 0x9e3779b97f4a7c15ull;
	t->w_bytes = 0;
	if (agent.set.sample_bytes) {
		t->countdown = ~0ull; /* the byte gap decides */
		t->byte_gap = next_byte_gap(t);
	} else if (agent.set.sample_rate < 1.0) {
		t->countdown = next_gap(t);
	}
}
