/*
 * The program's anonymous mappings (agent/mmaps.h): every table is in the
 * image, taken once per process; every update is an atomic operation on
 * it. No lock, no allocation beyond the image.
 */
#include "mmaps.h"

#include <errno.h>
#include <sys/mman.h>

#include "agent.h"
#include "cpu.h"
#include "image.h"
#include "modules.h"
#include "trace.h"

#define PAGE 4096ul

static struct sf_mmaps *mm; /* this process's tables; NULL until the first mapping */
static int mm_pid;

NI static struct sf_mmaps *tables(int create)
{
	struct sf_process *p = agent.proc;
	sf_off off, want = 0;

	if (mm && mm_pid == agent.pid)
		return mm;
	if (!p)
		return NULL;
	off = __atomic_load_n(&p->mmaps, __ATOMIC_ACQUIRE);
	if (!off) {
		if (!create)
			return NULL;
		want = image_alloc(sizeof(struct sf_mmaps));
		if (!want)
			return NULL;
		/* Another thread may have made them meanwhile: its win. */
		if (!__atomic_compare_exchange_n(&p->mmaps, &off, want, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			; /* off is the winner's; ours stays unused in the image */
		else
			off = want;
	}
	mm = image_reach(off, sizeof(struct sf_mmaps));
	mm_pid = agent.pid;
	return mm;
}

static inline uint32_t slot_of(uint64_t start, uint32_t cap)
{
	return (uint32_t)((start / PAGE) * 0x9e3779b97f4a7c15ull >> 40) & (cap - 1);
}

NI static struct sf_msite *site_of(struct sf_mmaps *t, uint32_t trace)
{
	for (uint32_t i = sf_trace_slot(trace, SF_MMAP_SITES - 1), n = 0; trace && n < SF_MMAP_SITES;
	     i = (i + 1) & (SF_MMAP_SITES - 1), n++) {
		struct sf_msite *s = &t->sites[i];
		uint32_t used = __atomic_load_n(&s->used, __ATOMIC_ACQUIRE), zero = 0;

		if (used && __atomic_load_n(&s->trace, __ATOMIC_RELAXED) == trace)
			return s;
		if (used || i == 0)
			continue; /* slot 0 is the stackless row */
		/* Free: claim its key first, then mark it used. */
		if (__atomic_compare_exchange_n(&s->trace, &zero, trace, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&s->used, 1, __ATOMIC_RELEASE);
			return s;
		}
		if (zero == trace) {
			while (!__atomic_load_n(&s->used, __ATOMIC_ACQUIRE))
				;
			return s;
		}
	}
	return &t->sites[0];
}

NI static void site_add(struct sf_mmaps *t, uint32_t trace, int64_t bytes, int regions, int maps)
{
	struct sf_msite *s = site_of(t, trace);
	int64_t live = __atomic_add_fetch(&s->live_bytes, bytes, __ATOMIC_RELAXED);

	__atomic_add_fetch(&s->live_regions, regions, __ATOMIC_RELAXED);
	if (bytes > 0) {
		__atomic_add_fetch(&s->bytes, (uint64_t)bytes, __ATOMIC_RELAXED);
		__atomic_add_fetch(&s->maps, (uint64_t)maps, __ATOMIC_RELAXED);
	} else if (bytes < 0) {
		__atomic_add_fetch(&s->unmapped_bytes, (uint64_t)-bytes, __ATOMIC_RELAXED);
		if (regions < 0 && !maps) /* maps -1: a region moved by mremap */
			__atomic_add_fetch(&s->unmaps, 1, __ATOMIC_RELAXED);
	}
	agent_peak_raise(&s->peak_bytes, live);
}

NI static void total_add(struct sf_mmaps *t, int64_t bytes)
{
	int64_t live = __atomic_add_fetch(&t->live_bytes, bytes, __ATOMIC_RELAXED);

	if (bytes > 0)
		__atomic_add_fetch(&t->bytes, (uint64_t)bytes, __ATOMIC_RELAXED);
	else
		__atomic_add_fetch(&t->unmapped_bytes, (uint64_t)-bytes, __ATOMIC_RELAXED);
	agent_peak_raise(&t->peak_bytes, live);
}

/* Record [start, start + len) for trace; 0, or -1 when the table is full. */
NI static int region_put(struct sf_mmaps *t, uint64_t start, uint64_t len, uint32_t trace)
{
	for (uint32_t i = slot_of(start, SF_MMAP_REGIONS), n = 0; n < SF_MMAP_REGIONS;
	     i = (i + 1) & (SF_MMAP_REGIONS - 1), n++) {
		struct sf_mregion *r = &t->regions[i];
		uint32_t st = __atomic_load_n(&r->state, __ATOMIC_ACQUIRE);

		if (st != SF_MR_FREE && st != SF_MR_GONE)
			continue;
		if (!__atomic_compare_exchange_n(&r->state, &st, SF_MR_BUSY, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			continue;
		r->start = start;
		r->len = len;
		r->trace = trace;
		__atomic_store_n(&r->state, SF_MR_LIVE, __ATOMIC_RELEASE);
		return 0;
	}
	return -1;
}

/* Take the live region starting at start out of the table: 1 and *out, or 0. */
NI static int region_take(struct sf_mmaps *t, uint64_t start, struct sf_mregion *out)
{
	for (uint32_t i = slot_of(start, SF_MMAP_REGIONS), n = 0; n < SF_MMAP_REGIONS;
	     i = (i + 1) & (SF_MMAP_REGIONS - 1), n++) {
		struct sf_mregion *r = &t->regions[i];
		uint32_t st = __atomic_load_n(&r->state, __ATOMIC_ACQUIRE);

		if (st == SF_MR_FREE)
			return 0;
		if (st != SF_MR_LIVE || r->start != start)
			continue;
		*out = *r;
		if (__atomic_compare_exchange_n(&r->state, &st, SF_MR_GONE, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return 1;
	}
	return 0;
}

/* The stack of the mapping being made (every one: they are few), or 0. */
NI static uint32_t map_stack(void)
{
	uint32_t id = 0;

	if (!image_base || !agent_can_unwind(&ts))
		return 0;
	if (unlikely(__atomic_load_n(&agent.modules_dirty, __ATOMIC_RELAXED)))
		modules_scan(0);
	{
		uint64_t ips[agent.set.max_depth + TRACE_SLACK];

		id = trace_stack_id(&ts, ips, agent.set.max_depth);
	}
	ts.rec->map_walks++;
	if (unlikely(ts.cpu_deferred))
		cpu_take_deferred(id);
	return id;
}

static inline int tracking_here(void)
{
	return agent_counting() && agent.proc;
}

NI static void region_end(struct sf_mmaps *t, const struct sf_mregion *r, uint64_t lo, uint64_t hi, int unmap)
{
	/* [lo, hi) of region r is gone; the rest stays recorded. */
	uint64_t end = r->start + r->len;
	int whole = lo <= r->start && hi >= end;

	if (!whole) {
		__atomic_add_fetch(&t->partial, 1, __ATOMIC_RELAXED);
		if (r->start < lo && region_put(t, r->start, lo - r->start, r->trace))
			__atomic_add_fetch(&t->untracked, 1, __ATOMIC_RELAXED);
		if (end > hi && region_put(t, hi, end - hi, r->trace))
			__atomic_add_fetch(&t->untracked, 1, __ATOMIC_RELAXED);
	}
	{
		uint64_t a = lo > r->start ? lo : r->start, b = hi < end ? hi : end;
		site_add(t, r->trace, -(int64_t)(b - a), whole ? -1 : (r->start < lo && end > hi) ? 1 : 0, unmap ? 0 : -1);
		total_add(t, -(int64_t)(b - a));
	}
	if (whole && unmap)
		__atomic_add_fetch(&t->unmaps, 1, __ATOMIC_RELAXED);
}

/* Every recorded region that overlaps [lo, hi) loses that part. */
NI static void range_end(struct sf_mmaps *t, uint64_t lo, uint64_t hi)
{
	struct sf_mregion r;

	/* The common case: a whole region, by its start. */
	if (region_take(t, lo, &r)) {
		region_end(t, &r, lo, hi, 1);
		if (r.start + r.len >= hi)
			return;
	}
	for (uint32_t i = 0; i < SF_MMAP_REGIONS; i++) {
		struct sf_mregion *x = &t->regions[i];
		uint32_t st = __atomic_load_n(&x->state, __ATOMIC_ACQUIRE);

		if (st != SF_MR_LIVE || x->start >= hi || x->start + x->len <= lo)
			continue;
		r = *x;
		if (__atomic_compare_exchange_n(&x->state, &st, SF_MR_GONE, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			region_end(t, &r, lo, hi, 1);
	}
}

NI void mmaps_on_map(void *p, size_t len, int flags)
{
	struct sf_mmaps *t;
	uint64_t lo = (uint64_t)(uintptr_t)p, n = (len + PAGE - 1) & ~(PAGE - 1);
	int saved = errno;
	uint32_t trace;

	if (!tracking_here() || !(flags & MAP_ANONYMOUS) || !n)
		return;
	ts.state = TS_BUSY;
	t = tables(1);
	if (t) {
		if (flags & MAP_FIXED)
			range_end(t, lo, lo + n); /* what was mapped there is gone */
		ts.state = TS_READY;
		trace = map_stack();
		ts.state = TS_BUSY;
		__atomic_add_fetch(&t->maps, 1, __ATOMIC_RELAXED);
		if (region_put(t, lo, n, trace)) {
			__atomic_add_fetch(&t->untracked, 1, __ATOMIC_RELAXED);
		} else {
			site_add(t, trace, (int64_t)n, 1, 1);
			total_add(t, (int64_t)n);
		}
	}
	ts.state = TS_READY;
	errno = saved;
}

NI void mmaps_on_unmap(void *addr, size_t len)
{
	struct sf_mmaps *t;
	uint64_t lo = (uint64_t)(uintptr_t)addr, n = (len + PAGE - 1) & ~(PAGE - 1);

	if (!tracking_here() || !n || !(t = tables(0)))
		return;
	ts.state = TS_BUSY;
	range_end(t, lo, lo + n);
	ts.state = TS_READY;
}

NI void mmaps_on_remap(void *old, size_t old_len, void *p, size_t new_len)
{
	struct sf_mmaps *t;
	struct sf_mregion r;
	uint64_t lo = (uint64_t)(uintptr_t)old, to = (uint64_t)(uintptr_t)p;
	uint64_t on = (old_len + PAGE - 1) & ~(PAGE - 1), nn = (new_len + PAGE - 1) & ~(PAGE - 1);

	if (!tracking_here() || !(t = tables(0)))
		return;
	ts.state = TS_BUSY;
	__atomic_add_fetch(&t->remaps, 1, __ATOMIC_RELAXED);
	if (region_take(t, lo, &r)) {
		if (r.len == on) {
			/* The whole region moves or changes size: its stack
			 * stays, its figures change by the difference. */
			if (region_put(t, to, nn, r.trace)) {
				__atomic_add_fetch(&t->untracked, 1, __ATOMIC_RELAXED);
				site_add(t, r.trace, -(int64_t)on, -1, 0);
				total_add(t, -(int64_t)on);
			} else if (nn != on) {
				site_add(t, r.trace, (int64_t)nn - (int64_t)on, 0, 0);
				total_add(t, (int64_t)nn - (int64_t)on);
			}
		} else {
			/* Its head moves: the rest of the region stays. */
			region_end(t, &r, lo, lo + on, 0);
			if (region_put(t, to, nn, r.trace)) {
				__atomic_add_fetch(&t->untracked, 1, __ATOMIC_RELAXED);
			} else {
				site_add(t, r.trace, (int64_t)nn, 1, 0);
				total_add(t, (int64_t)nn);
			}
		}
	}
	ts.state = TS_READY;
}
