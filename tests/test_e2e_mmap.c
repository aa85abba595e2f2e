/*
 * The program's anonymous mappings (issue 12): tests/progs/mmap_regions.c
 * maps three regions of known sizes from three functions, unmaps one,
 * trims another and moves the third with mremap; every figure is exact.
 */
#include "testutil.h"

static json_t *msite(json_t *mapped, const char *fn)
{
	json_t *sites = tu_arr(mapped, "sites");

	for (size_t i = 0; i < json_array_size(sites); i++)
		if (tu_frame_is(tu_frame(json_array_get(sites, i), 0), fn))
			return json_array_get(sites, i);
	return NULL;
}

Test(e2e_mmap, regions_of_known_sizes_from_known_functions, .timeout = 60)
{
	struct tu_run r;
	json_t *mp, *x;

	tu_profile(&r, NULL, TU_LIST("-q", "--no-profile", "--", TU_PROG("mmap_regions")));
	cr_assert(eq(int, r.exit_code, 0), "the run; stderr: %s", r.err);
	cr_assert(eq(str, r.out, "mmap_regions done\n"), "its output");
	mp = tu_obj(tu_proc(r.json, 0), "mapped");
	cr_assert(eq(i64, tu_int(mp, "maps"), 3), "three anonymous maps (the file's is no one's)");
	cr_assert(eq(i64, tu_int(mp, "unmaps"), 1), "one region unmapped whole");
	cr_assert(eq(i64, tu_int(mp, "partial_unmaps"), 1), "one in part");
	cr_assert(eq(i64, tu_int(mp, "remaps"), 1), "one mremap");
	cr_assert(eq(i64, tu_int(mp, "bytes"), (64 << 10) + (3 << 20) + (256 << 10) + (64 << 10)), "mapped in all");
	cr_assert(eq(i64, tu_int(mp, "unmapped_bytes"), (256 << 10) + (1 << 20)), "unmapped");
	cr_assert(eq(i64, tu_int(mp, "peak_bytes"), (64 << 10) + (3 << 20) + (256 << 10)), "the peak");
	cr_assert(eq(i64, tu_int(mp, "live_bytes"), (128 << 10) + (2 << 20)), "live at exit");
	cr_assert(eq(i64, tu_int(mp, "untracked"), 0), "all recorded");

	x = msite(mp, "map_big");
	cr_assert(x != NULL, "map_big's site");
	tu_assert_frame(tu_frame(x, 0), "map_big", TU_SRC("mmap_regions.c"),
			tu_marker_line(TU_SRC("mmap_regions.c"), "@site:big"), "map_big frame 0");
	cr_assert(tu_frame_is(tu_frame(x, 1), "main"), "called by main");
	cr_assert(eq(i64, tu_int(x, "bytes"), 3 << 20), "3 MiB");
	cr_assert(eq(i64, tu_int(x, "peak_bytes"), 3 << 20), "its peak");
	cr_assert(eq(i64, tu_int(x, "live_bytes"), 2 << 20), "2 MiB left after the trim");
	cr_assert(eq(i64, tu_int(x, "live_regions"), 1), "one region");
	x = msite(mp, "map_gone");
	cr_assert(x != NULL, "map_gone's site");
	cr_assert(eq(i64, tu_int(x, "bytes"), 256 << 10), "256 KiB");
	cr_assert(eq(i64, tu_int(x, "live_bytes"), 0), "gone");
	cr_assert(eq(i64, tu_int(x, "unmaps"), 1), "unmapped once");
	x = msite(mp, "map_small");
	cr_assert(x != NULL, "map_small's site: the moved region keeps its stack");
	cr_assert(eq(i64, tu_int(x, "live_bytes"), 128 << 10), "grown to 128 KiB");
	cr_assert(eq(i64, tu_int(x, "maps"), 1), "one map");
	cr_assert(eq(sz, json_array_size(tu_arr(mp, "sites")), 3), "three sites");
	/* The heap knows nothing of them. */
	cr_assert(tu_int(tu_memory(r.json, 0), "peak_bytes") < (64 << 10), "not in the heap's figures");
	tu_run_free(&r);

	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "--no-profile", "--", TU_PROG("mmap_regions")));
	cr_assert(strstr(r.err, "\n  mapped memory (the program's anonymous mmap): 3 maps, 1 unmaps, 3.4 MiB mapped, peak "
				"3.3 MiB, 2.1 MiB live at exit\n   #1 peak 3.0 MiB, 3.0 MiB mapped in 1 maps, 2.0 MiB live "
				"in 1 regions\n        map_big (") != NULL,
		  "the text: %s", r.err);
	cr_assert(strstr(r.err, "\n  resident memory: max RSS ") != NULL, "RSS beside: %s", r.err);
	tu_run_free(&r);
}
