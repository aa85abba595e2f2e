/*
 * Threads that allocate before the agent's constructor ran, and dlopen by
 * bare name through the caller's RUNPATH (the dlopen shim must not become
 * the caller).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "testutil.h"

Test(e2e_early, threads_from_a_library_constructor_are_counted_exactly)
{
	int line = tu_marker_line(TU_SRC("plugin/early.c"), "@early:alloc");
	struct tu_run r;
	json_t *m, *site;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("early_threads")));
	cr_assert(eq(int, r.exit_code, 0), "early_threads exit code (3 = dlopen by RUNPATH failed); stderr: %s", r.err);
	m = tu_memory(r.json, 0);
	site = tu_find_frame0_line(tu_arr(m, "sites"), "early_worker", line);
	cr_assert(site != NULL, "a site at early_worker:%d", line);
	cr_assert(eq(i64, tu_int(site, "allocations"), 4000), "4 threads x 1000 allocations");
	cr_assert(eq(i64, tu_int(site, "bytes"), 4000 * 24), "4000 x 24 bytes");
	cr_assert(eq(i64, tu_int(site, "frees"), 4000), "every block freed");
	cr_assert(eq(i64, tu_int(site, "temporary"), 4000), "each freed before the next allocation");
	tu_run_free(&r);
}

Test(e2e_early, dlopen_by_bare_name_uses_the_callers_runpath)
{
	struct tu_run r;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("early_threads")));
	cr_assert(eq(int, r.exit_code, 0), "dlopen(\"libplugin.so\") through RUNPATH $ORIGIN; stderr: %s", r.err);
	tu_run_free(&r);
}
