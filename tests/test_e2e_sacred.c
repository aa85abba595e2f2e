/* The program's own state is not ours to change. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "testutil.h"

Test(e2e_sacred, free_keeps_errno_even_when_it_sets_up_a_thread)
{
	struct tu_run r;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("errno_keep")));
	cr_assert(eq(int, r.exit_code, 0), "errno_keep exit code; stderr: %s", r.err);
	cr_assert(eq(str, r.out, "77 55\n"), "errno after free() in a fresh thread and in main");
	tu_run_free(&r);
}
