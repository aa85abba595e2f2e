/*
 * End-to-end heap figures: ptrace-run on single-threaded programs whose
 * every allocation is known (see the comment at the top of each program in
 * tests/progs/), checked exactly in the JSON report.
 */
#include "testutil.h"

#define HEAP_COUNTS_SRC TU_SRC("heap_counts.c")

static const struct tu_totals heap_counts_totals = {
    .allocations = 1000,
    .frees = 997,
    .bytes_allocated = 62736,
    .peak_bytes = 9000,
    .live_bytes = 3000,
    .live_blocks = 3,
    .temporary_allocations = -1, /* see temporary_allocations_heap_counts */
    .failed_allocations = 0,
    .inherited_frees = 0,
};

/* 1000 x3, then 24 + 8k for k = 0..9: 100 each for k <= 6, 99 for k >= 7. */
static const struct tu_size_count heap_counts_sizes[] = {
    {1000, 3}, {24, 100}, {32, 100}, {40, 100}, {48, 100}, {56, 100},
    {64, 100}, {72, 100}, {80, 99},  {88, 99},	{96, 99},
};

Test(e2e_heap, heap_counts_totals_are_exact)
{
	struct tu_run r;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("heap_counts")));
	cr_assert(eq(int, r.exit_code, 0), "launcher exit code; stderr: %s", r.err);
	cr_assert(eq(sz, json_array_size(tu_arr(r.json, "processes")), 1), "heap_counts is one process");
	tu_assert_totals(tu_memory(r.json, 0), &heap_counts_totals, "heap_counts");
	cr_assert(not(tu_bool(tu_memory(r.json, 0), "sampled")), "memory.sampled at rate 1");
	cr_assert(eq(i64, tu_int(r.json, "agent.events_dropped"), 0), "agent.events_dropped");
	tu_run_free(&r);
}

Test(e2e_heap, heap_counts_leak_points_at_keep_blocks)
{
	int line = tu_marker_line(HEAP_COUNTS_SRC, "@site:leak");
	struct tu_run r;
	json_t *leaks, *leak;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("heap_counts")));
	leaks = tu_live_sites(tu_memory(r.json, 0));
	cr_assert(eq(sz, json_array_size(leaks), 1), "heap_counts leaks from one stack only");
	leak = json_array_get(leaks, 0);
	cr_assert(eq(i64, tu_int(leak, "bytes"), 3000), "leaks[0].bytes");
	cr_assert(eq(i64, tu_int(leak, "blocks"), 3), "leaks[0].blocks");
	tu_assert_frame(tu_frame(leak, 0), "keep_blocks", HEAP_COUNTS_SRC, line, "leaks[0] frame 0");
	cr_assert(tu_frame_is(tu_frame(leak, 1), "main"), "leaks[0] frame 1 is main");
	tu_run_free(&r);
}

Test(e2e_heap, heap_counts_sites_are_exact)
{
	int leak_line = tu_marker_line(HEAP_COUNTS_SRC, "@site:leak");
	int batch_line = tu_marker_line(HEAP_COUNTS_SRC, "@site:batch");
	struct tu_run r;
	json_t *sites, *batch, *keep;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("heap_counts")));
	sites = tu_arr(tu_memory(r.json, 0), "sites");
	cr_assert(eq(sz, json_array_size(sites), 2), "heap_counts allocates from two stacks");

	/* Largest first: the batches (59736 bytes) before the leak (3000). */
	batch = json_array_get(sites, 0);
	tu_assert_frame(tu_frame(batch, 0), "work", HEAP_COUNTS_SRC, batch_line, "sites[0] frame 0");
	cr_assert(eq(i64, tu_int(batch, "allocations"), 997), "work site allocations");
	cr_assert(eq(i64, tu_int(batch, "bytes"), 59736), "work site bytes");
	cr_assert(eq(i64, tu_int(batch, "frees"), 997), "work site frees");
	cr_assert(eq(i64, tu_int(batch, "live_bytes"), 0), "work site live_bytes");
	cr_assert(eq(i64, tu_int(batch, "live_blocks"), 0), "work site live_blocks");

	keep = json_array_get(sites, 1);
	tu_assert_frame(tu_frame(keep, 0), "keep_blocks", HEAP_COUNTS_SRC, leak_line, "sites[1] frame 0");
	cr_assert(eq(i64, tu_int(keep, "allocations"), 3), "keep_blocks site allocations");
	cr_assert(eq(i64, tu_int(keep, "bytes"), 3000), "keep_blocks site bytes");
	cr_assert(eq(i64, tu_int(keep, "frees"), 0), "keep_blocks site frees");
	cr_assert(eq(i64, tu_int(keep, "live_bytes"), 3000), "keep_blocks site live_bytes");
	cr_assert(eq(i64, tu_int(keep, "live_blocks"), 3), "keep_blocks site live_blocks");
	tu_run_free(&r);
}

Test(e2e_heap, heap_counts_size_histogram_is_exact)
{
	struct tu_run r;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("heap_counts")));
	tu_assert_histogram(tu_memory(r.json, 0), heap_counts_sizes,
			    sizeof heap_counts_sizes / sizeof heap_counts_sizes[0], "heap_counts");
	tu_run_free(&r);
}

Test(e2e_heap, sampling_keeps_totals_exact)
{
	struct tu_run r;
	json_t *m;

	tu_profile(&r, NULL, TU_LIST("-q", "--sample-rate", "0.1", "--", TU_PROG("heap_counts")));
	cr_assert(eq(int, r.exit_code, 0), "launcher exit code; stderr: %s", r.err);
	cr_assert(ieee_ulp_eq(dbl, tu_num(r.json, "agent.sample_rate"), 0.1, 4), "agent.sample_rate");
	m = tu_memory(r.json, 0);
	cr_assert(tu_bool(m, "sampled"), "memory.sampled at rate 0.1");
	tu_assert_totals(m, &heap_counts_totals, "heap_counts sampled at 0.1");
	tu_assert_histogram(m, heap_counts_sizes, sizeof heap_counts_sizes / sizeof heap_counts_sizes[0],
			    "heap_counts sampled at 0.1");
	tu_run_free(&r);
}

Test(e2e_heap, peak_is_exact)
{
	static const struct tu_totals want = {
	    .allocations = 107,
	    .frees = 106,
	    .bytes_allocated = 26001,
	    .peak_bytes = 8001,
	    .live_bytes = 4000,
	    .live_blocks = 1,
	    .temporary_allocations = -1, /* see temporary_allocations_peak */
	    .failed_allocations = 0,
	    .inherited_frees = 0,
	};
	int keep_line = tu_marker_line(TU_SRC("peak.c"), "@site:keep");
	struct tu_run r;
	json_t *m, *leaks;
	struct tu_sum get, scratch;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("peak")));
	cr_assert(eq(int, r.exit_code, 0), "launcher exit code; stderr: %s", r.err);
	m = tu_memory(r.json, 0);
	tu_assert_totals(m, &want, "peak");

	leaks = tu_live_sites(m);
	cr_assert(eq(sz, json_array_size(leaks), 1), "peak leaks from one stack");
	cr_assert(eq(i64, tu_int(json_array_get(leaks, 0), "bytes"), 4000), "leaks[0].bytes");
	tu_assert_frame(tu_frame(json_array_get(leaks, 0), 0), "keep_last", TU_SRC("peak.c"), keep_line,
			"leaks[0] frame 0");

	/* get() is called from six lines of main: six stacks, one per call. */
	get = tu_sum_frame0_fn(tu_arr(m, "sites"), "get");
	tu_assert_sum(&get, &(struct tu_sum){6, 6, 12001, 6, -1, 0, 0}, "sites in get()");
	scratch = tu_sum_frame0_fn(tu_arr(m, "sites"), "scratch");
	tu_assert_sum(&scratch, &(struct tu_sum){1, 100, 10000, 100, -1, 0, 0}, "sites in scratch()");
	tu_run_free(&r);
}

Test(e2e_heap, entry_points_totals_are_exact)
{
	static const struct tu_totals want = {
	    .allocations = 11,
	    .frees = 10,
	    .bytes_allocated = 12282,
	    .peak_bytes = 12232,
	    .live_bytes = 1000,
	    .live_blocks = 1,
	    .temporary_allocations = -1, /* see temporary_allocations_entry_points */
	    .failed_allocations = 2,
	    .inherited_frees = 0,
	};
	static const struct tu_size_count sizes[] = {
	    {100, 1}, {300, 2}, {50, 1}, {200, 1}, {500, 1}, {640, 1}, {8192, 1}, {1000, 2}, {0, 1},
	};
	struct tu_run r;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("entry_points")));
	/* The program checks alignment, zeroing and usable sizes itself. */
	cr_assert(eq(int, r.exit_code, 0), "entry_points exit code; its stderr: %s", r.err);
	tu_assert_totals(tu_memory(r.json, 0), &want, "entry_points");
	tu_assert_histogram(tu_memory(r.json, 0), sizes, sizeof sizes / sizeof sizes[0], "entry_points");
	tu_run_free(&r);
}

Test(e2e_heap, entry_points_each_call_is_a_site_at_its_line)
{
	static const struct {
		const char *marker;
		long long bytes, frees, live_blocks;
	} want[] = {
	    {"@ep:malloc", 100, 1, 0},	       {"@ep:calloc", 300, 1, 0},   {"@ep:realloc_null", 50, 1, 0},
	    {"@ep:reallocarray", 200, 1, 0},   {"@ep:realloc", 500, 1, 0},  {"@ep:posix_memalign", 640, 1, 0},
	    {"@ep:aligned_alloc", 8192, 1, 0}, {"@ep:memalign", 300, 1, 0}, {"@ep:valloc", 1000, 1, 0},
	    {"@ep:pvalloc", 1000, 0, 1},       {"@ep:malloc0", 0, 1, 0},
	};
	struct tu_run r;
	json_t *sites;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("entry_points")));
	cr_assert(eq(int, r.exit_code, 0), "entry_points exit code; its stderr: %s", r.err);
	sites = tu_arr(tu_memory(r.json, 0), "sites");
	cr_assert(eq(sz, json_array_size(sites), 11), "one site per successful call");
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		int line = tu_marker_line(TU_SRC("entry_points.c"), want[i].marker);
		json_t *s = tu_find_frame0_line(sites, "main", line);

		cr_assert(s != NULL, "%s: no site with frame 0 main at line %d", want[i].marker, line);
		tu_assert_frame(tu_frame(s, 0), "main", TU_SRC("entry_points.c"), line, want[i].marker);
		cr_assert(eq(i64, tu_int(s, "allocations"), 1), "%s: allocations", want[i].marker);
		cr_assert(eq(i64, tu_int(s, "bytes"), want[i].bytes), "%s: bytes", want[i].marker);
		cr_assert(eq(i64, tu_int(s, "frees"), want[i].frees), "%s: frees", want[i].marker);
		cr_assert(eq(i64, tu_int(s, "live_blocks"), want[i].live_blocks), "%s: live_blocks", want[i].marker);
		cr_assert(eq(i64, tu_int(s, "live_bytes"), want[i].live_blocks ? want[i].bytes : 0), "%s: live_bytes",
			  want[i].marker);
	}
	tu_run_free(&r);
}

/*
 * C++: frame 0 of these sites is libstdc++'s operator new, so a function of
 * the program is found deeper in the stack.
 */
Test(e2e_heap, cxx_new_sites_of_each_function_are_exact)
{
	static const struct {
		const char *function, *marker;
		struct tu_sum want;
	} want[] = {
	    {"make_object", "@cxx:object", {-1, 1, 48, 1, -1, 0, 0}},
	    {"make_array", "@cxx:array", {-1, 1, 1000, 1, -1, 0, 0}},
	    {"make_aligned", "@cxx:aligned", {-1, 1, 128, 1, -1, 0, 0}},
	    {"grow_vector", NULL, {-1, 3, 448, 3, -1, 0, 0}},
	    {"leak_node", "@cxx:leak", {-1, 1, 32, 0, -1, 32, 1}},
	};
	struct tu_run r;
	json_t *sites;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("cxx_new")));
	cr_assert(eq(int, r.exit_code, 0), "cxx_new exit code; its stderr: %s", r.err);
	sites = tu_arr(tu_memory(r.json, 0), "sites");
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		struct tu_sum got = tu_sum_with_frame(sites, want[i].function);

		tu_assert_sum(&got, &want[i].want, want[i].function);
		if (want[i].marker) {
			int line = tu_marker_line(TU_SRC("cxx_new.cc"), want[i].marker);
			json_t *s = tu_find_with_frame(sites, want[i].function);

			tu_assert_frame(tu_frame(s, (size_t)tu_stack_find(s, want[i].function)), want[i].function,
					TU_SRC("cxx_new.cc"), line, want[i].function);
		}
	}
	tu_run_free(&r);
}

Test(e2e_heap, cxx_new_totals_are_the_program_plus_libstdcxx)
{
	struct tu_run r;
	json_t *m, *sites;
	struct tu_sum mine, all;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("cxx_new")));
	m = tu_memory(r.json, 0);
	sites = tu_arr(m, "sites");
	mine = tu_sum_with_file(sites, TU_SRC("cxx_new.cc"));
	tu_assert_sum(&mine, &(struct tu_sum){-1, 7, 1656, 6, -1, 32, 1}, "cxx_new's own sites");

	/* Every other site is libstdc++ allocating for itself. */
	for (size_t i = 0; i < json_array_size(sites); i++) {
		json_t *s = json_array_get(sites, i);
		const char *module = tu_frame_str(tu_frame(s, 0), "module");

		if (tu_stack_find_file(s, TU_SRC("cxx_new.cc")) < 0)
			cr_assert(tu_ends_with(module, "libstdc++.so.6"),
				  "site %zu without a cxx_new.cc frame: frame 0 module %s", i,
				  module ? module : "(null)");
	}
	all = tu_sum_all(sites);
	cr_assert(eq(i64, tu_int(m, "allocations"), all.allocations), "allocations = sum of sites");
	cr_assert(eq(i64, tu_int(m, "bytes_allocated"), all.bytes), "bytes_allocated = sum of sites");
	cr_assert(eq(i64, tu_int(m, "frees"), all.frees), "frees = sum of sites");
	cr_assert(eq(i64, tu_int(m, "live_bytes"), all.live_bytes), "live_bytes = sum of sites");
	cr_assert(eq(i64, tu_int(m, "live_blocks"), all.live_blocks), "live_blocks = sum of sites");
	cr_assert(eq(i64, tu_int(m, "failed_allocations"), 0), "failed_allocations");
	tu_run_free(&r);
}

/*
 * libstdc++ 12 (Debian 12) mallocs its emergency exception pool, 72704
 * bytes, from a static initialiser that runs before main and before any
 * constructor of a preloaded library; it is never freed. The agent must
 * count it like any allocation the program's libraries make.
 */
Test(e2e_heap, cxx_new_counts_libstdcxx_startup_pool)
{
	struct tu_run r;
	json_t *m;
	struct tu_sum all, mine;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("cxx_new")));
	m = tu_memory(r.json, 0);
	all = tu_sum_all(tu_arr(m, "sites"));
	mine = tu_sum_with_file(tu_arr(m, "sites"), TU_SRC("cxx_new.cc"));
	cr_assert(eq(i64, all.allocations - mine.allocations, 1), "allocations outside cxx_new.cc");
	cr_assert(eq(i64, all.bytes - mine.bytes, 72704), "bytes outside cxx_new.cc");
	cr_assert(eq(i64, all.live_blocks - mine.live_blocks, 1), "live blocks outside cxx_new.cc");
	tu_assert_totals(m, &(struct tu_totals){8, 6, 1656 + 72704, 72704 + 1000, 72704 + 32, 2, -1, 0, 0},
			 "cxx_new with the libstdc++ pool");
	tu_run_free(&r);
}

Test(e2e_heap, cxx_new_leak_is_leak_node)
{
	int line = tu_marker_line(TU_SRC("cxx_new.cc"), "@cxx:leak");
	struct tu_run r;
	json_t *leak;
	int depth;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("cxx_new")));
	leak = tu_find_with_frame(tu_live_sites(tu_memory(r.json, 0)), "leak_node");
	cr_assert(leak != NULL, "a leak whose stack has leak_node");
	cr_assert(eq(i64, tu_int(leak, "bytes"), 32), "leak_node leak bytes");
	cr_assert(eq(i64, tu_int(leak, "blocks"), 1), "leak_node leak blocks");
	depth = tu_stack_find(leak, "leak_node");
	tu_assert_frame(tu_frame(leak, (size_t)depth), "leak_node", TU_SRC("cxx_new.cc"), line, "leak_node frame");
	cr_assert(tu_frame_is(tu_frame(leak, (size_t)depth + 1), "main"), "the frame after leak_node is main");
	tu_run_free(&r);
}

Test(e2e_heap, demo_leak_reports_parse_line)
{
	static const struct tu_totals want = {
	    .allocations = 25,
	    .frees = 18,
	    .bytes_allocated = 515,
	    .peak_bytes = 461,
	    .live_bytes = 115,
	    .live_blocks = 7,
	    .temporary_allocations = -1, /* see temporary_allocations_demo_leak */
	    .failed_allocations = 0,
	    .inherited_frees = 0,
	};
	int line = tu_marker_line(TU_SRC("demo_leak.c"), "@site:copy");
	struct tu_run r;
	json_t *m, *leak;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("demo_leak")));
	cr_assert(eq(int, r.exit_code, 0), "demo_leak exit code; stderr: %s", r.err);
	cr_assert(eq(int, strncmp(r.out, "demo_leak: 7 settings\n", 22), 0), "demo_leak stdout: %s", r.out);
	m = tu_memory(r.json, 0);
	tu_assert_totals(m, &want, "demo_leak");
	cr_assert(eq(sz, json_array_size(tu_arr(m, "leaks")), 1), "demo_leak leaks from one stack");
	leak = json_array_get(tu_arr(m, "leaks"), 0);
	cr_assert(eq(i64, tu_int(leak, "bytes"), 115), "leaks[0].bytes");
	cr_assert(eq(i64, tu_int(leak, "blocks"), 7), "leaks[0].blocks");
	tu_assert_frame(tu_frame(leak, 0), "parse_line", TU_SRC("demo_leak.c"), line, "leaks[0] frame 0");
	cr_assert(tu_frame_is(tu_frame(leak, 1), "parse_config"), "leaks[0] frame 1 is parse_config");
	tu_run_free(&r);
}

/*
 * The plugin is dlclose()d before the program exits: its leak must still
 * be symbolized from the module it came from.
 */
Test(e2e_heap, dlopen_plugin_leak_is_in_the_plugin)
{
	int pline = tu_marker_line(TU_SRC("plugin/plugin.c"), "@plugin:leak");
	int aline = tu_marker_line(TU_SRC("dlopen_plugin.c"), "@site:after");
	struct tu_run r;
	json_t *m, *leak, *site, *after;
	const char *module;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("dlopen_plugin")));
	cr_assert(eq(int, r.exit_code, 0), "dlopen_plugin exit code; its stderr: %s", r.err);
	m = tu_memory(r.json, 0);

	cr_assert(eq(int, tu_count_frame0(tu_live_sites(m), "plugin_leak"), 1), "one leak with frame 0 plugin_leak");
	leak = tu_find_frame0(tu_live_sites(m), "plugin_leak");
	cr_assert(eq(i64, tu_int(leak, "bytes"), 777), "plugin leak bytes");
	cr_assert(eq(i64, tu_int(leak, "blocks"), 1), "plugin leak blocks");
	tu_assert_frame(tu_frame(leak, 0), "plugin_leak", TU_SRC("plugin/plugin.c"), pline, "plugin leak frame 0");
	module = tu_frame_str(tu_frame(leak, 0), "module");
	cr_assert(tu_ends_with(module, "/build/progs/libplugin.so"), "plugin leak frame 0 module: %s",
		  module ? module : "(null)");
	cr_assert(tu_frame_is(tu_frame(leak, 1), "main"), "plugin leak frame 1 is main");

	site = tu_find_frame0(tu_arr(m, "sites"), "plugin_leak");
	cr_assert(site != NULL, "a site with frame 0 plugin_leak");
	cr_assert(eq(i64, tu_int(site, "allocations"), 1), "plugin_leak site allocations");
	cr_assert(eq(i64, tu_int(site, "bytes"), 777), "plugin_leak site bytes");
	cr_assert(eq(i64, tu_int(site, "frees"), 0), "plugin_leak site frees");
	cr_assert(eq(i64, tu_int(site, "live_blocks"), 1), "plugin_leak site live_blocks");

	after = tu_find_frame0(tu_live_sites(m), "after_unload");
	cr_assert(after != NULL, "a leak with frame 0 after_unload");
	cr_assert(eq(i64, tu_int(after, "bytes"), 4242), "after_unload leak bytes");
	cr_assert(eq(i64, tu_int(after, "blocks"), 1), "after_unload leak blocks");
	tu_assert_frame(tu_frame(after, 0), "after_unload", TU_SRC("dlopen_plugin.c"), aline,
			"after_unload leak frame 0");
	tu_run_free(&r);
}

/*
 * Temporary allocations: freed by the same thread before that thread
 * allocated anything else (frees in between do not matter). Kept apart so
 * that a different reading of the rule fails these tests and no other.
 */
Test(e2e_heap, temporary_allocations_heap_counts)
{
	struct tu_run r;
	json_t *sites;

	/* Each batch of blocks is freed in allocation order: the last block of
	 * a batch is freed after the others, with no allocation in between. */
	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("heap_counts")));
	sites = tu_arr(tu_memory(r.json, 0), "sites");
	cr_assert(eq(i64, tu_int(tu_find_frame0(sites, "work"), "temporary"), 10),
		  "work site temporary: the last block of each of the 10 batches");
	cr_assert(eq(i64, tu_int(tu_find_frame0(sites, "keep_blocks"), "temporary"), 0), "keep_blocks site temporary");
	cr_assert(eq(i64, tu_int(tu_memory(r.json, 0), "temporary_allocations"), 10),
		  "heap_counts temporary_allocations");
	tu_run_free(&r);

	tu_profile(&r, NULL, TU_LIST("-q", "--sample-rate", "0.1", "--", TU_PROG("heap_counts")));
	cr_assert(eq(i64, tu_int(tu_memory(r.json, 0), "temporary_allocations"), 10),
		  "heap_counts temporary_allocations sampled at 0.1");
	tu_run_free(&r);
}

Test(e2e_heap, temporary_allocations_peak)
{
	struct tu_run r;
	json_t *m;
	struct tu_sum get, scratch;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("peak")));
	m = tu_memory(r.json, 0);
	cr_assert(eq(i64, tu_int(m, "temporary_allocations"), 101), "peak temporary_allocations");
	get = tu_sum_frame0_fn(tu_arr(m, "sites"), "get");
	scratch = tu_sum_frame0_fn(tu_arr(m, "sites"), "scratch");
	cr_assert(eq(i64, get.temporary, 1), "get() sites temporary: g, freed at once");
	cr_assert(eq(i64, scratch.temporary, 100), "scratch() site temporary");
	tu_run_free(&r);
}

Test(e2e_heap, temporary_allocations_entry_points)
{
	int line = tu_marker_line(TU_SRC("entry_points.c"), "@ep:malloc0");
	struct tu_run r;
	json_t *m, *s;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("entry_points")));
	m = tu_memory(r.json, 0);
	cr_assert(eq(i64, tu_int(m, "temporary_allocations"), 1), "entry_points temporary_allocations");
	s = tu_find_frame0_line(tu_arr(m, "sites"), "main", line);
	cr_assert(s != NULL, "a site for malloc(0)");
	cr_assert(eq(i64, tu_int(s, "temporary"), 1), "malloc(0) site temporary");
	tu_run_free(&r);
}

Test(e2e_heap, temporary_allocations_cxx_new)
{
	static const struct {
		const char *function;
		long long temporary;
	} want[] = {
	    {"make_object", 1},
	    {"make_array", 1},
	    {"make_aligned", 1},
	    /* the last buffer (256 bytes) is freed after the one it replaced */
	    {"grow_vector", 1},
	    {"leak_node", 0},
	};
	struct tu_run r;
	json_t *sites;
	struct tu_sum mine;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("cxx_new")));
	sites = tu_arr(tu_memory(r.json, 0), "sites");
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		struct tu_sum got = tu_sum_with_frame(sites, want[i].function);

		cr_assert(eq(i64, got.temporary, want[i].temporary), "%s temporary", want[i].function);
	}
	mine = tu_sum_with_file(sites, TU_SRC("cxx_new.cc"));
	cr_assert(eq(i64, mine.temporary, 4), "cxx_new.cc sites temporary");
	tu_run_free(&r);
}

Test(e2e_heap, temporary_allocations_demo_leak)
{
	struct tu_run r;
	json_t *m;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("demo_leak")));
	m = tu_memory(r.json, 0);
	cr_assert(eq(i64, tu_int(m, "temporary_allocations"), 4), "demo_leak temporary_allocations");
	cr_assert(eq(i64, tu_sum_frame0_fn(tu_arr(m, "sites"), "parse_line").temporary, 3),
		  "parse_line temporary: the comment and blank lines");
	cr_assert(eq(i64, tu_sum_frame0_fn(tu_arr(m, "sites"), "dup_range").temporary, 1),
		  "dup_range temporary: the last value, freed last");
	tu_run_free(&r);
}
