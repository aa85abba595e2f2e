/* The program's own state is not ours to change. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

Test(e2e_sacred, free_keeps_errno_even_when_it_sets_up_a_thread)
{
	struct tu_run r;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("errno_keep")));
	cr_assert(eq(int, r.exit_code, 0), "errno_keep exit code; stderr: %s", r.err);
	cr_assert(eq(str, r.out, "77 55\n"), "errno after free() in a fresh thread and in main");
	tu_run_free(&r);
}

Test(e2e_sacred, non_utf8_program_name_still_gives_valid_json)
{
	char dir[] = "/tmp/ptrace-utf8-XXXXXX", link[128], target[4096];
	struct tu_run r;
	const char *cmd0;

	cr_assert(ne(ptr, mkdtemp(dir), NULL), "temp dir");
	cr_assert(ne(ptr, realpath(TU_PROG("exit_code"), target), NULL), "exit_code program exists");
	snprintf(link, sizeof(link), "%s/ex\xff\xfeit", dir);
	cr_assert(eq(int, symlink(target, link), 0), "symlink with a non-UTF-8 name");
	tu_profile(&r, NULL, TU_LIST("-q", "--", link, "3"));
	cr_assert(eq(int, r.exit_code, 3), "exit code passes through");
	cmd0 = tu_str(r.json, "command.0");
	cr_assert(ne(ptr, (void *)cmd0, NULL), "command[0] is a string");
	cr_assert(ne(ptr, strstr(cmd0, "ex\xef\xbf\xbd\xef\xbf\xbdit"), NULL),
		  "invalid bytes became U+FFFD: %s", cmd0);
	unlink(link);
	rmdir(dir);
	tu_run_free(&r);
}

Test(e2e_sacred, no_descriptor_is_added_to_the_program)
{
	struct tu_opts plain = {0};
	struct tu_run a, b;

	tu_run(&a, &plain, TU_LIST(TU_PROG("fd_list")));
	cr_assert(eq(int, a.exit_code, 0), "fd_list alone");
	tu_profile(&b, NULL, TU_LIST("-q", "--", TU_PROG("fd_list")));
	cr_assert(eq(int, b.exit_code, 0), "fd_list profiled; stderr: %s", b.err);
	cr_assert(eq(str, b.out, a.out), "the same open descriptors with and without ptrace-run");
	tu_run_free(&a);
	tu_run_free(&b);
}

Test(e2e_sacred, report_file_is_not_inherited)
{
	struct tu_opts plain = {0};
	char *path = tu_tmpfile("report");
	struct tu_run a, b;

	tu_run(&a, &plain, TU_LIST(TU_PROG("fd_list")));
	tu_run(&b, &plain, TU_LIST(TU_LAUNCHER, "-o", path, "--", TU_PROG("fd_list")));
	cr_assert(eq(int, b.exit_code, 0), "fd_list profiled with -o");
	cr_assert(eq(str, b.out, a.out), "-o FILE is not among the program's descriptors");
	unlink(path);
	free(path);
	tu_run_free(&a);
	tu_run_free(&b);
}

Test(e2e_sacred, errno_is_zero_at_main_and_thread_start)
{
	struct tu_run r;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("errno_start")));
	cr_assert(eq(int, r.exit_code, 0), "errno_start exit code; stderr: %s", r.err);
	cr_assert(eq(str, r.out, "0 0\n"), "errno at the start of main and of a thread");
	tu_run_free(&r);
}

Test(e2e_sacred, a_16k_stack_thread_still_starts)
{
	struct tu_run r;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("small_stack_thread")));
	cr_assert(eq(str, r.out, "ok\n"), "pthread_create with glibc's minimum stack; stderr: %s", r.err);
	cr_assert(eq(int, r.exit_code, 0), "small_stack_thread exit code");
	tu_run_free(&r);
}

Test(e2e_sacred, children_past_the_first_process_slots_leave_the_parent_alone, .timeout = 30)
{
	struct tu_run r;
	json_t *m, *leaks;
	long long bytes = 0, blocks = 0;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("many_forks")));
	cr_assert(eq(int, r.exit_code, 0), "many_forks exit code; stderr: %s", r.err);
	/* Slots grow with the image: the 16 children past the first 1024
	 * are recorded too (they were dropped before). */
	cr_assert(eq(i64, tu_int(r.json, "agent.dropped.processes"), 0), "every child found a slot");
	cr_assert(eq(sz, json_array_size(tu_arr(r.json, "processes")), 1041), "1 parent and 1040 children");
	m = tu_memory(r.json, 0);
	leaks = tu_live_sites(m);
	for (size_t i = 0; i < json_array_size(leaks); i++) {
		json_t *l = json_array_get(leaks, i);
		cr_assert(eq(int, tu_stack_find(l, "child_leaf"), -1), "parent leak %zu has a child's stack", i);
		if (tu_stack_find(l, "parent_leaf") >= 0) {
			bytes += tu_int(l, "bytes");
			blocks += tu_int(l, "blocks");
		}
	}
	cr_assert(eq(i64, bytes, 10000), "the parent's 10 x 1000 bytes in parent_leaf");
	cr_assert(eq(i64, blocks, 10), "10 blocks");
	tu_run_free(&r);
}

Test(e2e_sacred, cxx_library_loaded_locally_by_a_c_program_catches)
{
	struct tu_run r;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("dlopen_cxx")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	cr_assert(eq(str, r.out, "caught=100\n"), "the library's own catch handlers ran");
	tu_run_free(&r);
}

/*
 * The library's throws unwind with libunwind's _Unwind_* (libgcc_s is not
 * in the global scope, libunwind is), which holds its cache's lock while
 * it steps. A sample landing inside that window used to unwind into the
 * same lock and wait for itself: 5000 throws at 10 kHz hung every run.
 * libunwind's mask calls now block the sampling signal for real.
 */
Test(e2e_sacred, samples_never_land_inside_the_programs_own_libunwind)
{
	struct tu_run r;

	tu_profile(&r, NULL, TU_LIST("-q", "--cpu-hz=10000", "--", TU_PROG("dlopen_cxx"), "5000"));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	cr_assert(eq(str, r.out, "caught=5000\n"));
	tu_run_free(&r);
}
