#include "trace.h"

#include <string.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "image.h"

#define SLAB_MIN 4096u
#define SLAB_MAX 65536u

NI uint32_t trace_hash(const uint64_t *ips, unsigned n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;

	for (unsigned i = 0; i < n; i++) {
		h ^= ips[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return (uint32_t)(h ^ (h >> 29)) | 1u; /* never 0 */
}

#ifdef PR_UNIT_TEST
/* Unit tests set the "stack" the next captures return. */
uint64_t trace_test_ips[SF_DEPTH_LIMIT];
unsigned trace_test_depth;

unsigned trace_capture(uint64_t *ips, unsigned max)
{
	unsigned n = trace_test_depth < max ? trace_test_depth : max;

	memcpy(ips, trace_test_ips, n * sizeof(uint64_t));
	return n;
}
#else
NI unsigned trace_capture(uint64_t *ips, unsigned max)
{
	void *buf[SF_DEPTH_LIMIT + 16];
	int n = unw_backtrace(buf, (int)(max + 16 < SF_DEPTH_LIMIT + 16 ? max + 16 : SF_DEPTH_LIMIT + 16));
	unsigned skip = 0, out = 0;

	/* Drop the agent's own frames, whatever inlining did to them. */
	while ((int)skip < n && (uint64_t)buf[skip] >= agent.self_lo && (uint64_t)buf[skip] < agent.self_hi)
		skip++;
	for (int i = (int)skip; i < n && out < max; i++)
		ips[out++] = (uint64_t)buf[i];
	return out;
}
#endif

/* Carve a trace record out of the thread's slab; 0 when the image is full. */
NI static sf_off trace_store(struct tstate *t, uint32_t h, const uint64_t *ips, unsigned n)
{
	size_t len = sizeof(struct sf_trace) + n * sizeof(uint64_t);
	struct sf_trace *tr;

	if (t->slab_left < len) {
		size_t want = t->slab_next ? t->slab_next : SLAB_MIN;
		sf_off off;

		if (want < len)
			want = len;
		off = image_alloc(want);
		if (!off)
			return 0;
		t->slab = image_ptr(off);
		t->slab_left = want;
		t->slab_next = want * 2 > SLAB_MAX ? SLAB_MAX : want * 2;
	}
	tr = (struct sf_trace *)t->slab;
	tr->hash = h;
	tr->depth = (uint16_t)n;
	tr->flags = 0;
	memcpy(tr->ips, ips, n * sizeof(uint64_t));
	t->slab += (len + 7) & ~(size_t)7;
	t->slab_left -= len < t->slab_left ? (len + 7) & ~(size_t)7 : t->slab_left;
	return image_off(tr);
}

NI static int trace_equal(const struct sf_trace *tr, uint32_t h, const uint64_t *ips, unsigned n)
{
	return tr->hash == h && tr->depth == n && !memcmp(tr->ips, ips, n * sizeof(uint64_t));
}

NI uint32_t trace_intern(struct tstate *t, const uint64_t *ips, unsigned n)
{
	struct sf_header *hdr = image_hdr;
	uint32_t *slots = image_ptr(hdr->trace_slots);
	uint32_t mask = hdr->trace_cap - 1;
	uint32_t h = trace_hash(ips, n);
	uint32_t *c = t->tcache[h & (TS_TCACHE - 1)];
	sf_off mine = 0;

	/* The shared table is large and sparse: a lookup there is a cache
	 * miss. Hot stacks repeat, so remember them per thread. */
	if (c[0] == h && trace_equal(sf_trace_get(image_base, c[1]), h, ips, n))
		return c[1];

	for (uint32_t i = h & mask, probes = 0; probes <= mask; i = (i + 1) & mask, probes++) {
		/* Acquire pairs with the release CAS below: a visible id means a
		 * fully written record. */
		uint32_t id = __atomic_load_n(&slots[i], __ATOMIC_ACQUIRE);

		if (!id) {
			if (__atomic_load_n(&hdr->trace_count, __ATOMIC_RELAXED) >= hdr->trace_cap / 4 * 3)
				break;
			if (!mine && !(mine = trace_store(t, h, ips, n)))
				break;
			if (__atomic_compare_exchange_n(&slots[i], &id, (uint32_t)(mine >> 3), 0, __ATOMIC_RELEASE,
							__ATOMIC_ACQUIRE)) {
				__atomic_fetch_add(&hdr->trace_count, 1, __ATOMIC_RELAXED);
				c[0] = h;
				c[1] = (uint32_t)(mine >> 3);
				return c[1];
			}
			/* Lost the race: id now holds the winner; compare it. */
		}
		if (trace_equal(sf_trace_get(image_base, id), h, ips, n)) {
			c[0] = h;
			c[1] = id;
			return id;
		}
	}
	__atomic_fetch_add(&hdr->dropped_traces, 1, __ATOMIC_RELAXED);
	return 0;
}
