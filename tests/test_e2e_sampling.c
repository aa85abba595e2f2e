/*
 * Sampling stacks by bytes (--sample-bytes, issue 11): tests/progs/
 * sample_bytes.c has one allocation of 100 MiB among a million small ones
 * at two sites of known sizes. The big one is always sampled, with its
 * exact size; the small sites' estimates are unbiased (their mean over 20
 * runs within 10%: measured within 2%); no estimate exceeds the exact
 * total it is part of; a site whose blocks were all freed shows none live
 * (a free subtracts what its allocation added).
 */
#include "testutil.h"

#define SMALL_A_BYTES (600000ll * 32)
#define SMALL_B_BYTES (400000ll * 64)
#define RUNS 20

/* The site whose innermost frame is fn, or NULL. */
static json_t *site_of(json_t *m, const char *fn)
{
	json_t *sites = json_object_get(m, "sites");

	for (size_t i = 0; i < json_array_size(sites); i++) {
		json_t *s = json_array_get(sites, i);
		const char *f = tu_frame_str(tu_frame(s, 0), "function");

		if (f && !strcmp(f, fn))
			return s;
	}
	return NULL;
}

Test(e2e_sampling, by_bytes_big_exact_small_unbiased, .timeout = 120)
{
	double sum_a = 0, sum_b = 0;

	for (int run = 0; run < RUNS; run++) {
		struct tu_run r;
		json_t *m, *big, *a, *b;

		tu_profile(&r, NULL, TU_LIST("-q", "--no-profile", "--sample-bytes=64K", "--", TU_PROG("sample_bytes")));
		cr_assert(eq(int, r.exit_code, 0), "run %d; stderr: %s", run, r.err);
		cr_assert(eq(str, r.out, "sample_bytes done\n"));
		cr_assert(eq(i64, tu_int(r.json, "agent.sample_bytes"), 65536), "the setting is reported");
		m = tu_memory(r.json, 0);
		cr_assert(tu_bool(m, "sampled"), "figures per site are estimates");
		/* Totals stay exact: 1 + 600000 + 400000, the list, stdout's buffer. */
		cr_assert(eq(i64, tu_int(m, "allocations"), 1000003), "exact total");
		big = site_of(m, "big_one");
		cr_assert(big != NULL, "run %d: the big allocation is always sampled", run);
		cr_assert(eq(i64, tu_int(big, "bytes"), 100ll << 20), "its exact size");
		cr_assert(eq(i64, tu_int(big, "allocations"), 1), "one allocation");
		a = site_of(m, "small_a");
		b = site_of(m, "small_b");
		cr_assert(a && b, "run %d: both small sites sampled (about 300 and 400 samples each)", run);
		cr_assert(eq(i64, tu_int(a, "live_bytes"), 0), "run %d: small_a all freed: %lld live", run,
			  tu_int(a, "live_bytes"));
		cr_assert(eq(i64, tu_int(a, "live_blocks"), 0), "run %d", run);
		cr_assert(eq(i64, tu_int(a, "allocations"), tu_int(a, "frees")), "run %d: as many freed as made", run);
		for (size_t i = 0; i < json_array_size(json_object_get(m, "sites")); i++) {
			json_t *s = json_array_get(json_object_get(m, "sites"), i);

			cr_assert(tu_int(s, "bytes") <= tu_int(m, "bytes_allocated"), "no site above the total");
			cr_assert(tu_int(s, "live_bytes") <= tu_int(m, "live_bytes"), "no site above the live total");
		}
		sum_a += (double)tu_int(a, "bytes");
		sum_b += (double)tu_int(b, "bytes");
		tu_run_free(&r);
	}
	cr_assert(sum_a / RUNS > SMALL_A_BYTES * 0.9 && sum_a / RUNS < SMALL_A_BYTES * 1.1, "small_a: mean %.0f of %lld",
		  sum_a / RUNS, SMALL_A_BYTES);
	cr_assert(sum_b / RUNS > SMALL_B_BYTES * 0.9 && sum_b / RUNS < SMALL_B_BYTES * 1.1, "small_b: mean %.0f of %lld",
		  sum_b / RUNS, SMALL_B_BYTES);
}

Test(e2e_sampling, by_bytes_and_by_rate_are_one_choice)
{
	struct tu_run r;

	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "--sample-bytes=512K", "--sample-rate=0.1", "true"));
	cr_assert(eq(int, r.exit_code, 2));
	cr_assert(eq(str, r.err,
		     "ptrace-run: --sample-bytes and --sample-rate below 1 are two ways of sampling: give one\n"),
		  "one line: %s", r.err);
	tu_run_free(&r);
	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "--sample-bytes=12Q", "true"));
	cr_assert(eq(int, r.exit_code, 2));
	cr_assert(eq(str, r.err,
		     "ptrace-run: --sample-bytes=12Q: expected a size from 1 to 1T: an integer with an optional K, M "
		     "or G, e.g. 512K (0: off)\n"),
		  "one line: %s", r.err);
	tu_run_free(&r);
}
