/* A full session image degrades the detail, never the totals or the
 * program. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "testutil.h"

Test(e2e_limits, full_trace_table_drops_stacks_but_totals_stay_exact)
{
	struct tu_run r;
	json_t *m;

	tu_profile(&r, NULL, TU_LIST("-q", "--session-size=16", "--", TU_PROG("many_stacks")));
	cr_assert(eq(int, r.exit_code, 0), "many_stacks exit code; stderr: %s", r.err);
	cr_assert(eq(str, r.out, "done\n"), "the program's output is unchanged");
	m = tu_memory(r.json, 0);
	cr_assert(eq(i64, tu_int(m, "allocations"), 200000), "allocations exact");
	cr_assert(eq(i64, tu_int(m, "frees"), 200000), "frees exact");
	cr_assert(eq(i64, tu_int(m, "bytes_allocated"), 3200000), "bytes exact");
	cr_assert(eq(i64, tu_int(m, "peak_bytes"), 16), "peak exact");
	cr_assert(eq(i64, tu_int(m, "live_blocks"), 0), "nothing live");
	cr_assert(gt(i64, tu_int(r.json, "agent.dropped.traces"), 0), "dropped stacks are counted");
	cr_assert(eq(i64, tu_int(r.json, "agent.events_dropped"),
		     tu_int(r.json, "agent.dropped.traces") + tu_int(r.json, "agent.dropped.sites") +
			     tu_int(r.json, "agent.dropped.threads") + tu_int(r.json, "agent.dropped.processes") +
			     tu_int(r.json, "agent.dropped.samples")),
		  "events_dropped is the sum of its parts");
	tu_run_free(&r);
}

Test(e2e_limits, default_image_keeps_every_stack)
{
	struct tu_run r;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("many_stacks")));
	cr_assert(eq(int, r.exit_code, 0), "many_stacks exit code; stderr: %s", r.err);
	cr_assert(eq(i64, tu_int(r.json, "agent.events_dropped"), 0), "nothing dropped with the default image");
	tu_run_free(&r);
}
