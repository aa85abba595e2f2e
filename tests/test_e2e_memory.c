/*
 * The allocator and the address space as the program knows them: blocks
 * that reach glibc by other names or through a deep-bound library, a
 * program that caps its own address space, aligned blocks' cost and
 * failures, and process slots past the first array. Each compares with a
 * run of the same program without the profiler where it can.
 */
#define TU_TIMEOUT_S 120 /* fork_many: 5000 processes on a loaded machine */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "testutil.h"

/* Run argv natively (no launcher), then under the launcher with -q and
 * --json; both must exit 0 with the same stdout. r gets the profiled run. */
static void run_both(struct tu_run *r, const char *const *argv)
{
	struct tu_run native;
	const char *args[16];
	size_t n = 0;

	tu_run(&native, NULL, argv);
	cr_assert(eq(int, native.exit_code, 0), "%s natively: exit %d, stdout: %s", argv[0], native.exit_code,
		  native.out);
	args[n++] = "-q";
	args[n++] = "--";
	for (size_t i = 0; argv[i] && n < 15; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	tu_profile(r, NULL, args);
	cr_assert(eq(int, r->exit_code, 0), "%s profiled: exit %d (signal %d); stdout: %s; stderr: %s", argv[0],
		  r->exit_code, r->signal, r->out, r->err);
	cr_assert(eq(str, r->out, native.out), "%s: stdout as natively", argv[0]);
	tu_run_free(&native);
}

Test(e2e_memory, libc_names_reach_our_allocator)
{
	struct tu_run r;
	struct tu_sum s;

	run_both(&r, TU_LIST(TU_PROG("deepbind"), "libc"));
	cr_assert(eq(str, r.out, "__libc_realloc kept: malloc block\n__libc_* ok\n"), "every step ran");
	s = tu_sum_frame0_fn(tu_arr(tu_memory(r.json, 0), "sites"), "libc_names");
	cr_assert(eq(i64, s.allocations, 5), "malloc, __libc_malloc, __libc_realloc, __libc_memalign: 5");
	cr_assert(eq(i64, s.frees, 5), "all 5 freed, by free, __libc_free and __libc_realloc");
	tu_run_free(&r);
}

Test(e2e_memory, libc_names_and_a_deepbind_plugin_share_the_allocator)
{
	struct tu_run r;
	json_t *sites;
	struct tu_sum s;

	run_both(&r, TU_LIST(TU_PROG("deepbind")));
	cr_assert(eq(int, strstr(r.out, "which: plugin\n") != NULL, 1), "the plugin binds deeply: %s", r.out);
	cr_assert(eq(int, strstr(r.out, "__libc_* ok\n") != NULL, 1), "every step ran: %s", r.out);
	sites = tu_arr(tu_memory(r.json, 0), "sites");
	s = tu_sum_frame0_fn(sites, "main");
	cr_assert(eq(i64, s.allocations, 4), "main's 4 allocations");
	cr_assert(eq(i64, s.frees, 4), "all 4 freed: by main, by the plugin");
	s = tu_sum_frame0_fn(sites, "libc_names");
	cr_assert(eq(i64, s.allocations, 5), "libc_names' 5");
	cr_assert(eq(i64, s.frees, 5), "all 5 freed");
	s = tu_sum_frame0_fn(sites, "deep_realloc");
	cr_assert(eq(i64, s.allocations, 1), "the plugin's realloc is ours");
	cr_assert(eq(i64, s.frees, 1), "and its block freed by the plugin");
	s = tu_sum_frame0_fn(sites, "deep_malloc");
	cr_assert(eq(i64, s.allocations, 1), "the plugin's malloc is ours");
	cr_assert(eq(i64, s.frees, 1), "and its block reallocated by the program");
	tu_run_free(&r);
}

Test(e2e_memory, rlimit_as_64_mib_set_by_the_program)
{
	struct tu_run r;

	run_both(&r, TU_LIST(TU_PROG("rlimit_as"), "64"));
	cr_assert(eq(str, r.out, "malloc(10 MB): ok\npthread_create: ok\nthread malloc: ok\n"), "all of it works");
	cr_assert(eq(i64, tu_int(r.json, "agent.events_dropped"), 0), "and is recorded");
	tu_run_free(&r);
}

Test(e2e_memory, rlimit_as_512_mib_set_by_the_program)
{
	struct tu_run r;

	run_both(&r, TU_LIST(TU_PROG("rlimit_as"), "512"));
	cr_assert(eq(str, r.out, "malloc(10 MB): ok\npthread_create: ok\nthread malloc: ok\n"), "all of it works");
	cr_assert(eq(i64, tu_int(r.json, "agent.events_dropped"), 0), "and is recorded");
	tu_run_free(&r);
}

Test(e2e_memory, aligned_failures_leave_errno_as_glibc_does)
{
	struct tu_run r;

	run_both(&r, TU_LIST(TU_PROG("aligned_fail")));
	cr_assert(eq(int, strstr(r.out, "posix_memalign(16, SIZE_MAX/2): ret 12 errno 12\n") != NULL, 1),
		  "posix_memalign's failure leaves ENOMEM in errno: %s", r.out);
	tu_run_free(&r);
}

/* A page-aligned block costs what it costs natively: its stride (8 KiB:
 * the block and glibc's alignment gap) and its resident pages (2), both
 * rounded per block over 20000 blocks. A header in front of the block
 * cost a third page (12 KiB, 3 pages). */
Test(e2e_memory, page_aligned_blocks_cost_no_extra_page)
{
	struct tu_run r;

	run_both(&r, TU_LIST(TU_PROG("page_aligned"), "20000"));
	cr_assert(eq(str, r.out, "stride 8 KiB\npages per block 2\n"), "8 KiB and 2 pages per block");
	cr_assert(eq(i64, tu_int(tu_memory(r.json, 0), "allocations") >= 20000, 1), "the blocks are counted");
	tu_run_free(&r);
}

Test(e2e_memory, five_thousand_fork_children_are_all_recorded, .timeout = 150)
{
	struct tu_run r;
	json_t *procs;
	long long allocs = 0, frees = 0, bytes = 0, live = 0, forked = 0;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("fork_many"), "5000"));
	cr_assert(eq(int, r.exit_code, 0), "fork_many exit; stderr: %.2000s", r.err);
	cr_assert(eq(str, r.out, "5000 children\n"), "the program's output");
	cr_assert(eq(i64, tu_int(r.json, "agent.dropped.processes"), 0), "no process dropped");
	procs = tu_arr(r.json, "processes");
	cr_assert(eq(sz, json_array_size(procs), 5001), "the parent and 5000 children");
	for (size_t i = 0; i < json_array_size(procs); i++) {
		json_t *p = json_array_get(procs, i), *m;

		if (!tu_bool(p, "forked"))
			continue;
		forked++;
		m = tu_obj(p, "memory");
		allocs += tu_int(m, "allocations");
		frees += tu_int(m, "frees");
		bytes += tu_int(m, "bytes_allocated");
		live += tu_int(m, "live_bytes");
		cr_assert(eq(i64, tu_int(m, "allocations"), 2), "child %zu: 2 allocations", i);
	}
	cr_assert(eq(i64, forked, 5000), "5000 forked processes");
	cr_assert(eq(i64, allocs, 10000), "2 allocations per child");
	cr_assert(eq(i64, frees, 5000), "1 free per child");
	cr_assert(eq(i64, bytes, 5000 * 123), "123 bytes per child");
	cr_assert(eq(i64, live, 5000 * 23), "23 bytes live per child");
	tu_run_free(&r);
}
