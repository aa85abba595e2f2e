/* The agent's data structures on their own: block headers, the size
 * histogram, the per-thread site table, peak batching, trace interning,
 * the bump allocator and process registration, all in a real image. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "heap.h"
#include "image.h"
#include "session.h"
#include "trace.h"

static struct session sess;
static struct sf_process *proc;

static void setup(void)
{
	uint32_t idx;

	cr_assert(eq(int, session_create(&sess, 64u << 20), 0), "session image created");
	image_use(sess.base);
	memset(&agent, 0, sizeof(agent));
	agent.set.sample_rate = 1.0;
	agent.set.max_depth = 16;
	proc = image_register_process(getpid(), getppid(), -1, 0, &idx);
	cr_assert(ne(ptr, proc, NULL), "process registered");
	agent.proc = proc;
	agent.proc_index = idx;
	agent.ptag = idx + 1;
	agent.tracking = 1;
	memset(&ts, 0, sizeof(ts));
	ts.rec = image_ptr(image_alloc(sizeof(struct sf_thread)));
	cr_assert(ne(ptr, ts.rec, NULL), "thread record allocated");
	heap_thread_setup(&ts);
	trace_test_depth = 0;
}

static void teardown(void)
{
	session_close(&sess);
}

TestSuite(heap, .init = setup, .fini = teardown);

Test(heap, header_round_trips_every_field)
{
	uint64_t blk[8] __attribute__((aligned(16))) = {0};
	void *user = &blk[2];
	struct heap_hdr *h = heap_hdr_of(user);

	heap_hdr_write(user, 123456789, 12, 1, 0xabc, 0xdeadbeef);
	cr_assert(eq(int, heap_hdr_valid(user), 1), "our header validates");
	cr_assert(eq(u64, heap_hdr_size(h), 123456789), "size kept");
	cr_assert(eq(u32, heap_hdr_shift(h), 12), "shift kept");
	cr_assert(eq(int, heap_hdr_counted(h), 1), "counted flag kept");
	cr_assert(eq(u32, heap_hdr_ptag(h), 0xabc), "process tag kept");
	cr_assert(eq(u32, heap_hdr_trace(h), 0xdeadbeef), "trace kept");
	cr_assert(eq(int, heap_hdr_valid(&blk[4]), 0), "another address does not validate");
	h->w1 = 0;
	cr_assert(eq(int, heap_hdr_valid(user), 0), "a cleared header does not validate");
}

Test(heap, histogram_buckets_are_powers_of_two)
{
	cr_assert(eq(u32, heap_bucket(0), 0), "0 bytes");
	cr_assert(eq(u32, heap_bucket(1), 1), "1 byte");
	cr_assert(eq(u32, heap_bucket(2), 2), "2 bytes");
	cr_assert(eq(u32, heap_bucket(3), 2), "3 bytes");
	cr_assert(eq(u32, heap_bucket(4096), 13), "4096 bytes");
	cr_assert(eq(u32, heap_bucket(~0ull), SF_HIST_BUCKETS - 1), "huge sizes clamp");
}

Test(heap, alloc_and_free_update_totals_sites_and_temporaries)
{
	uint64_t a[4] __attribute__((aligned(16))), b[4] __attribute__((aligned(16)));

	trace_test_ips[0] = 0x1000;
	trace_test_ips[1] = 0x2000;
	trace_test_depth = 2;
	heap_on_alloc(&ts, &a[2], 100, 4);
	heap_on_alloc(&ts, &b[2], 50, 4);
	heap_on_free(&ts, &b[2], heap_hdr_of(&b[2]), 1);  /* latest: temporary */
	heap_on_free(&ts, &a[2], heap_hdr_of(&a[2]), 1);  /* not the latest */
	cr_assert(eq(u64, ts.rec->allocs, 2), "two allocations");
	cr_assert(eq(u64, ts.rec->frees, 2), "two frees");
	cr_assert(eq(u64, ts.rec->bytes, 150), "150 bytes");
	cr_assert(eq(u64, ts.rec->freed_bytes, 150), "150 bytes freed");
	cr_assert(eq(u64, ts.rec->temporary, 1), "one temporary");
	cr_assert(eq(u64, ts.rec->hist[heap_bucket(100)], 1), "100 in its bucket");
	heap_flush(&ts);
	cr_assert(eq(u64, proc->peak_bytes, 150), "peak is both blocks");
	cr_assert(eq(i64, proc->live_bytes, 0), "nothing live");

	uint32_t id = heap_hdr_trace(heap_hdr_of(&a[2]));
	struct sf_site *s = heap_site(&ts, id);
	cr_assert(ne(u32, id, 0), "the stack was interned");
	cr_assert(eq(u64, s->allocs, 2), "both allocations at the one site");
	cr_assert(eq(u64, s->frees, 2), "both frees at the site");
	cr_assert(eq(u64, s->temporary, 1), "temporary counted at the site");
}

Test(heap, single_thread_peak_is_exact)
{
	static uint64_t blocks[64][4] __attribute__((aligned(16)));

	/* Grow to 10 x 1000 bytes, shrink to 2, grow to 9: peak 10000. */
	for (int i = 0; i < 10; i++)
		heap_on_alloc(&ts, &blocks[i][2], 1000, 4);
	for (int i = 2; i < 10; i++)
		heap_on_free(&ts, &blocks[i][2], heap_hdr_of(&blocks[i][2]), 1);
	for (int i = 10; i < 17; i++)
		heap_on_alloc(&ts, &blocks[i][2], 1000, 4);
	heap_flush(&ts);
	cr_assert(eq(u64, proc->peak_bytes, 10000), "peak is the high-water mark");
	cr_assert(eq(i64, proc->live_bytes, 9000), "live is what remains");
}

Test(heap, site_table_grows_and_keeps_counts)
{
	uint64_t blk[4] __attribute__((aligned(16)));
	uint32_t first_cap = ts.rec->sites_cap;

	for (uint32_t t = 1; t <= 5000; t++) {
		struct sf_site *s = heap_site(&ts, t * 8);
		s->allocs += t;
	}
	cr_assert(gt(u32, ts.rec->sites_cap, first_cap), "the table grew");
	cr_assert(eq(u32, ts.rec->sites_used, 5000), "5000 distinct sites");
	for (uint32_t t = 1; t <= 5000; t++)
		cr_assert(eq(u64, heap_site(&ts, t * 8)->allocs, t), "site %u kept its count", t);
	cr_assert(eq(ptr, heap_site(&ts, 0), &ts.rec->nostack), "trace 0 is the no-stack site");
	(void)blk;
}

/* Three traces made first that take hot's first slot and the two after
 * it (in the thread's table as it is), then hot, three slots on. */
static uint32_t crowd_first_slot(uint32_t *slot)
{
	uint32_t mask = ts.site_mask, hot = 100000, n = 0;

	*slot = sf_trace_slot(hot, mask);
	for (uint32_t c = 1; n < 3; c++)
		if (c != hot && sf_trace_slot(c, mask) == *slot + n) {
			heap_site(&ts, c)->allocs = 1;
			n++;
		}
	heap_site(&ts, hot); /* made: not a lookup that went far */
	cr_assert(eq(u32, ts.sites[(*slot + 3) & mask].trace, hot), "hot is three slots on");
	return hot;
}

/* One lookup: what heap_on_alloc counts (the lookups are allocations and
 * frees), looks more ones besides that find their first slot. */
static void look(uint32_t trace, uint64_t more)
{
	heap_site(&ts, trace)->allocs++;
	ts.rec->allocs += 1 + more;
}

Test(heap, a_hot_site_made_late_is_laid_out_in_its_first_slot)
{
	uint32_t slot, hot = crowd_first_slot(&slot), mask = ts.site_mask;
	sf_off before = ts.rec->sites;

	/* The first layout waits for 4 far lookups a slot: 1024 of 256. */
	for (int i = 0; i < 1023; i++)
		look(hot, 0);
	cr_assert(eq(u32, ts.sites[(slot + 3) & mask].trace, hot), "not yet laid out");
	cr_assert(eq(u64, ts.rec->sites, before), "the same table");
	look(hot, 0);
	cr_assert(eq(u32, ts.sites[slot].trace, hot), "laid out: hot in its first slot");
	cr_assert(ne(u64, ts.rec->sites, before), "a new table, published");
	cr_assert(eq(u32, ts.rec->sites_cap, mask + 1), "of the same size");
	cr_assert(eq(u32, ts.rec->sites_used, 4), "the same four sites");
	cr_assert(eq(u64, heap_site(&ts, hot)->allocs, 1024), "hot kept its count");
	for (uint32_t i = 1; i <= 3; i++)
		cr_assert(eq(u64, ts.sites[(slot + i) & mask].allocs, 1), "a crowding site kept its count");
}

Test(heap, a_table_whose_lookups_mostly_find_their_first_slot_stays)
{
	uint32_t slot, hot = crowd_first_slot(&slot), mask = ts.site_mask;
	sf_off before = ts.rec->sites;

	/* 16 other lookups for each far one: one in 17 went far, fewer than
	 * one in 16. */
	for (int i = 0; i < 4096; i++)
		look(hot, 16);
	cr_assert(eq(u64, ts.rec->sites, before), "the same table");
	cr_assert(eq(u32, ts.sites[(slot + 3) & mask].trace, hot), "hot where it was");
}

Test(heap, foreign_process_tag_counts_as_inherited)
{
	uint64_t blk[4] __attribute__((aligned(16)));

	heap_hdr_write(&blk[2], 77, 4, 1, agent.ptag + 1, 0);
	heap_on_free(&ts, &blk[2], heap_hdr_of(&blk[2]), 1);
	cr_assert(eq(u64, ts.rec->frees, 0), "not a free of ours");
	cr_assert(eq(u64, proc->inherited_frees, 1), "counted as inherited");
	cr_assert(eq(u64, proc->inherited_bytes, 77), "with its size");
}

Test(heap, sampling_captures_about_rate_of_allocations)
{
	static uint64_t blk[4] __attribute__((aligned(16)));
	uint64_t n = 200000;

	agent.set.sample_rate = 0.01;
	heap_thread_setup(&ts);
	trace_test_ips[0] = 0x4000;
	trace_test_depth = 1;
	for (uint64_t i = 0; i < n; i++) {
		heap_on_alloc(&ts, &blk[2], 8, 4);
		heap_on_free(&ts, &blk[2], heap_hdr_of(&blk[2]), 1);
	}
	/* Geometric gaps: the count is binomial-like, sd = sqrt(2000) ~ 45;
	 * 5 sd either side cannot fail by chance in practice. */
	cr_assert(ge(u64, ts.rec->sampled, 2000 - 225), "sampled %lu of 200000", ts.rec->sampled);
	cr_assert(le(u64, ts.rec->sampled, 2000 + 225), "sampled %lu of 200000", ts.rec->sampled);
	cr_assert(eq(u64, ts.rec->allocs, n), "totals stay exact under sampling");
	cr_assert(eq(u64, ts.rec->nostack.allocs + ts.rec->sampled, n),
		  "every allocation is either sampled or in the no-stack site");
}

Test(heap, trace_intern_dedups_and_separates)
{
	uint64_t a[] = {1, 2, 3}, b[] = {1, 2, 4}, c[] = {1, 2};
	uint32_t ia = trace_intern(&ts, a, 3), ib = trace_intern(&ts, b, 3), ic = trace_intern(&ts, c, 2);

	cr_assert(ne(u32, ia, 0), "stored");
	cr_assert(eq(u32, trace_intern(&ts, a, 3), ia), "same stack, same id");
	cr_assert(ne(u32, ia, ib), "different frame, different id");
	cr_assert(ne(u32, ia, ic), "prefix is a different stack");
	const struct sf_trace *t = session_trace(&sess, ib);
	cr_assert(ne(ptr, (void *)t, NULL), "readable by the launcher");
	cr_assert(eq(u32, t->depth, 3), "depth kept");
	cr_assert(eq(u64, t->ips[2], 4), "frames kept");
	cr_assert(eq(u32, ((struct sf_header *)sess.base)->trace_count, 3), "three distinct traces");
}

Test(heap, trace_table_full_drops_and_counts)
{
	struct sf_header *h = sess.base;
	uint32_t limit = h->trace_cap / 4 * 3, stored = 0;

	for (uint64_t i = 1; i <= limit + 10; i++)
		stored += trace_intern(&ts, &i, 1) != 0;
	cr_assert(eq(u32, stored, limit), "stores up to 3/4 of the table");
	cr_assert(eq(u64, h->dropped_traces, 10), "the rest is counted as dropped");
}

Test(heap, image_alloc_fails_cleanly_when_full)
{
	struct sf_header *h = sess.base;
	sf_off a = image_alloc(1000);

	cr_assert(ne(u64, a, 0), "space available");
	cr_assert(eq(u64, a % 64, 0), "64-byte aligned");
	cr_assert(eq(u64, image_alloc(h->size), 0), "more than the image: refused");
	cr_assert(eq(u64, image_alloc(64), 0), "and the image stays full");
}

Test(heap, exec_replaces_record_with_same_pid)
{
	uint32_t idx;
	struct sf_process *p2 = image_register_process(getpid(), getppid(), -1, 0, &idx);

	cr_assert(ne(ptr, p2, NULL), "second image registered");
	cr_assert(eq(u32, proc->flags & SF_PF_EXECED, SF_PF_EXECED), "first marked as exec'd");
	cr_assert(eq(u32, proc->state, SF_PROC_DONE), "first is done");
	cr_assert(eq(u32, p2->state, SF_PROC_RUNNING), "second runs");
}

/* The sampler's own log, log1p and expm1 (agent/fmath.h) against libm's,
 * over the ranges the agent uses them on: within 4 ulps (relative 2^-50),
 * the same input always the same output. */
static void near_libm(const char *what, double ours, double libm, double x)
{
	double err = fabs(ours - libm), tol = fabs(libm) * 0x1p-50;

	cr_assert(err <= tol, "%s(%.17g): %.17g, libm %.17g", what, x, ours, libm);
}

Test(heap, own_log_log1p_expm1_match_libm)
{
	uint64_t r = 0x9e3779b97f4a7c15ull;

	for (int i = 0; i < 200000; i++) {
		double u, rate, x;

		r ^= r >> 12, r ^= r << 25, r ^= r >> 27;
		/* As next_gap and next_byte_gap draw u: (k + 0.5) / 2^53. */
		u = ((double)((r * 0x2545f4914f6cdd1dull) >> 11) + 0.5) / 9007199254740992.0;
		near_libm("log", pr_log(u), log(u), u);
		rate = i % 2 ? u : ldexp(u, -(i % 60)); /* rates down to 2^-60 */
		near_libm("log1p", pr_log1p(-rate), log1p(-rate), -rate);
		x = -u; /* -n / mean, n < mean */
		near_libm("expm1", pr_expm1(x), expm1(x), x);
		cr_assert(eq(dbl, pr_expm1(x), pr_expm1(x)), "the same every time");
	}
	for (int e = -1074 + 52; e <= 1023; e += 7) { /* log over every binade of normal doubles */
		double v = ldexp(1.2345, e);

		near_libm("log", pr_log(v), log(v), v);
	}
	cr_assert(eq(dbl, pr_log(1.0), 0.0), "log 1");
	cr_assert(eq(dbl, pr_log1p(-0x1p-60), -0x1p-60), "log1p of a tiny x is x");
	cr_assert(eq(dbl, pr_expm1(0.0), 0.0), "expm1 0");
	near_libm("expm1", pr_expm1(-1.0), expm1(-1.0), -1.0);
}
