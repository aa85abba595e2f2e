/*
 * End-to-end command line and settings: usage and launch errors, bad
 * settings rejected before the program starts, the agent on its own with a
 * bad setting, and what each setting does to the report.
 */
#include "testutil.h"

#include "session_format.h"

#define HEAP_COUNTS_SRC TU_SRC("heap_counts.c")

/* A launcher run that must fail before starting anything. */
static void run_plain(struct tu_run *r, const char *const *env, const char *const *argv)
{
	struct tu_opts o = {.env = env};

	tu_run(r, &o, argv);
	cr_assert(eq(int, r->timed_out, 0), "the launcher timed out");
}

static int exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/*
 * A bad setting (env entry or launcher options) must give exit 2, exactly one
 * line on stderr that names it, nothing on stdout, and never start the
 * program: marker would have created a file.
 */
static void check_rejected(const char *env_entry, const char *opt, const char *val, const char *name)
{
	char *marker = tu_tmpfile("marker");
	const char *env[] = {env_entry, NULL};
	const char *argv[8];
	size_t n = 0;
	struct tu_run r;

	unlink(marker);
	argv[n++] = TU_LAUNCHER;
	argv[n++] = "-q";
	if (opt)
		argv[n++] = opt;
	if (val)
		argv[n++] = val;
	argv[n++] = "--";
	argv[n++] = TU_PROG("marker");
	argv[n++] = marker;
	argv[n] = NULL;
	run_plain(&r, env_entry ? env : NULL, argv);
	cr_assert(eq(int, r.exit_code, 2), "%s: launcher exit code", name);
	cr_assert(eq(int, tu_count_lines(r.err, r.err_len), 1), "%s: one line on stderr, got: %s", name, r.err);
	cr_assert(strstr(r.err, name) != NULL, "%s: the message names the setting: %s", name, r.err);
	cr_assert(eq(sz, r.out_len, 0), "%s: nothing on stdout", name);
	cr_assert(eq(int, exists(marker), 0), "%s: the program must not have started", name);
	unlink(marker);
	free(marker);
	tu_run_free(&r);
}

Test(e2e_cli, good_setting_starts_the_program)
{
	/* The control for the bad-settings tests: the marker does appear. */
	char *marker = tu_tmpfile("marker");
	struct tu_run r;

	unlink(marker);
	run_plain(&r, TU_LIST("PTRACE_SAMPLE_RATE=0.5"), TU_LIST(TU_LAUNCHER, "-q", "--", TU_PROG("marker"), marker));
	cr_assert(eq(int, r.exit_code, 0), "launcher exit code; stderr: %s", r.err);
	cr_assert(eq(int, exists(marker), 1), "marker created by the program");
	unlink(marker);
	free(marker);
	tu_run_free(&r);
}

Test(e2e_cli, env_sample_rate_abc_is_rejected)
{
	check_rejected("PTRACE_SAMPLE_RATE=abc", NULL, NULL, "PTRACE_SAMPLE_RATE");
}

Test(e2e_cli, env_sample_rate_2_is_rejected)
{
	check_rejected("PTRACE_SAMPLE_RATE=2", NULL, NULL, "PTRACE_SAMPLE_RATE");
}

Test(e2e_cli, env_sample_rate_0_is_rejected)
{
	check_rejected("PTRACE_SAMPLE_RATE=0", NULL, NULL, "PTRACE_SAMPLE_RATE");
}

Test(e2e_cli, env_max_depth_negative_is_rejected)
{
	check_rejected("PTRACE_MAX_DEPTH=-1", NULL, NULL, "PTRACE_MAX_DEPTH");
}

Test(e2e_cli, option_sample_rate_abc_is_rejected)
{
	check_rejected(NULL, "--sample-rate", "abc", "--sample-rate");
}

Test(e2e_cli, option_max_depth_0_is_rejected)
{
	check_rejected(NULL, "--max-depth", "0", "--max-depth");
}

Test(e2e_cli, option_max_depth_257_is_rejected)
{
	check_rejected(NULL, "--max-depth", "257", "--max-depth");
}

Test(e2e_cli, unknown_option_is_rejected)
{
	check_rejected(NULL, "--bogus", NULL, "--bogus");
}

Test(e2e_cli, no_program_prints_usage)
{
	struct tu_run r;

	run_plain(&r, NULL, TU_LIST(TU_LAUNCHER));
	cr_assert(eq(int, r.exit_code, 2), "launcher exit code without a program");
	cr_assert(strcasestr(r.err, "usage") != NULL, "usage on stderr: %s", r.err);
	tu_run_free(&r);
}

Test(e2e_cli, missing_program_exits_127)
{
	struct tu_run r;

	run_plain(&r, NULL, TU_LIST(TU_LAUNCHER, "-q", "--", TU_PROG("no-such-program")));
	cr_assert(eq(int, r.exit_code, 127), "launcher exit code; stderr: %s", r.err);
	cr_assert(strstr(r.err, "no-such-program") != NULL, "stderr names the program: %s", r.err);
	tu_run_free(&r);
}

Test(e2e_cli, non_executable_program_exits_126)
{
	char *path = tu_tmpfile("noexec"); /* mode 0600 */
	struct tu_run r;

	run_plain(&r, NULL, TU_LIST(TU_LAUNCHER, "-q", "--", path));
	cr_assert(eq(int, r.exit_code, 126), "launcher exit code; stderr: %s", r.err);
	cr_assert(strstr(r.err, path) != NULL, "stderr names the file: %s", r.err);
	unlink(path);
	free(path);
	tu_run_free(&r);
}

/*
 * Without the launcher, the agent alone gets a bad setting: the program must
 * run exactly as without the agent; at most one warning line on stderr.
 */
Test(e2e_cli, agent_alone_survives_bad_sample_rate)
{
	struct tu_run r;

	cr_assert(eq(int, access(TU_AGENT, R_OK), 0), "%s must be built", TU_AGENT);
	run_plain(&r, TU_LIST("LD_PRELOAD=" TU_AGENT, "PTRACE_SAMPLE_RATE=abc"), TU_LIST(TU_PROG("exit_code"), "4"));
	cr_assert(eq(int, r.exit_code, 4), "program exit code; stderr: %s", r.err);
	cr_assert(eq(str, r.out, "exit_code 4\n"), "program stdout");
	cr_assert(le(int, tu_count_lines(r.err, r.err_len), 1), "at most one warning line: %s", r.err);
	if (r.err_len)
		cr_assert(strstr(r.err, "PTRACE_SAMPLE_RATE") != NULL, "the warning names the setting: %s", r.err);
	tu_run_free(&r);
}

Test(e2e_cli, defaults_in_report)
{
	struct tu_run r;
	json_t *p, *cmd;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("heap_counts")));
	cr_assert(eq(i64, tu_int(r.json, "schema"), 1), "schema");
	cr_assert(eq(str, (char *)tu_str(r.json, "tool"), "ptrace-run"), "tool");
	cmd = tu_arr(r.json, "command");
	cr_assert(eq(sz, json_array_size(cmd), 1), "command has the program only");
	cr_assert(eq(str, (char *)tu_str(r.json, "command.0"), TU_PROG("heap_counts")), "command[0]");
	cr_assert(eq(i64, tu_int(r.json, "exit_code"), 0), "exit_code");
	cr_assert(tu_is_null(r.json, "signal"), "signal is null");
	cr_assert(tu_bool(r.json, "agent.loaded"), "agent.loaded");
	cr_assert(tu_is_null(r.json, "agent.reason"), "agent.reason is null when loaded");
	cr_assert(ieee_ulp_eq(dbl, tu_num(r.json, "agent.sample_rate"), 1.0, 0), "agent.sample_rate");
	cr_assert(eq(i64, tu_int(r.json, "agent.max_depth"), SF_DEFAULT_DEPTH), "agent.max_depth");
	cr_assert(tu_bool(r.json, "agent.track_memory"), "agent.track_memory");
	cr_assert(eq(i64, tu_int(r.json, "agent.events_dropped"), 0), "agent.events_dropped");
	cr_assert(eq(sz, json_array_size(tu_arr(r.json, "agent.warnings")), 0), "agent.warnings");
	p = tu_proc(r.json, 0);
	cr_assert(eq(i64, tu_int(p, "ppid"), r.pid), "processes[0].ppid is the launcher");
	cr_assert(tu_ends_with(tu_str(p, "executable"), "/build/progs/heap_counts"), "processes[0].executable: %s",
		  tu_str(p, "executable"));
	cr_assert(eq(i64, tu_int(p, "exit_code"), 0), "processes[0].exit_code");
	cr_assert(not(tu_bool(p, "forked")), "processes[0].forked");
	cr_assert(not(tu_bool(p, "execed")), "processes[0].execed");
	cr_assert(eq(sz, json_array_size(tu_arr(p, "threads")), 1), "one thread");
	cr_assert(eq(i64, tu_int(p, "threads.0.tid"), tu_int(p, "pid")), "threads[0] is the main thread");
	cr_assert(eq(i64, tu_int(p, "threads.0.allocations"), 1000), "threads[0].allocations");
	cr_assert(eq(i64, tu_int(p, "threads.0.bytes_allocated"), 62736), "threads[0].bytes_allocated");
	cr_assert(eq(i64, tu_int(p, "threads.0.frees"), 997), "threads[0].frees");
	tu_run_free(&r);
}

Test(e2e_cli, program_arguments_are_not_launcher_options)
{
	struct tu_run r;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("exit_code"), "9", "--json", "-q"));
	cr_assert(eq(int, r.exit_code, 9), "launcher exit code; stderr: %s", r.err);
	cr_assert(eq(str, r.out, "exit_code 9\n"), "program stdout");
	cr_assert(eq(sz, json_array_size(tu_arr(r.json, "command")), 4), "command length");
	cr_assert(eq(str, (char *)tu_str(r.json, "command.2"), "--json"), "command[2]");
	cr_assert(eq(str, (char *)tu_str(r.json, "command.3"), "-q"), "command[3]");
	tu_run_free(&r);
}

Test(e2e_cli, double_dash_is_optional)
{
	struct tu_run r;

	tu_profile(&r, NULL, TU_LIST("-q", TU_PROG("exit_code"), "6"));
	cr_assert(eq(int, r.exit_code, 6), "launcher exit code; stderr: %s", r.err);
	cr_assert(eq(str, r.out, "exit_code 6\n"), "program stdout");
	tu_run_free(&r);
}

Test(e2e_cli, sample_rate_env_is_used)
{
	struct tu_run r;
	json_t *m;

	tu_profile(&r, TU_LIST("PTRACE_SAMPLE_RATE=0.5"), TU_LIST("-q", "--", TU_PROG("heap_counts")));
	cr_assert(eq(int, r.exit_code, 0), "launcher exit code; stderr: %s", r.err);
	cr_assert(ieee_ulp_eq(dbl, tu_num(r.json, "agent.sample_rate"), 0.5, 0), "agent.sample_rate");
	m = tu_memory(r.json, 0);
	cr_assert(tu_bool(m, "sampled"), "memory.sampled");
	tu_assert_totals(m, &(struct tu_totals){1000, 997, 62736, 9000, 3000, 3, -1, 0, 0},
			 "heap_counts sampled at 0.5");
	tu_run_free(&r);
}

static void check_depth(struct tu_run *r, int depth)
{
	int line = tu_marker_line(HEAP_COUNTS_SRC, "@site:leak");
	json_t *m, *leak;

	cr_assert(eq(int, r->exit_code, 0), "launcher exit code; stderr: %s", r->err);
	cr_assert(eq(i64, tu_int(r->json, "agent.max_depth"), depth), "agent.max_depth");
	m = tu_memory(r->json, 0);
	tu_assert_totals(m, &(struct tu_totals){1000, 997, 62736, 9000, 3000, 3, -1, 0, 0},
			 "heap_counts with a short depth");
	leak = json_array_get(tu_live_sites(m), 0);
	/* keep_blocks, main, then libc's start code: deeper than both limits. */
	cr_assert(eq(sz, json_array_size(tu_arr(leak, "stack")), (size_t)depth), "leaks[0].stack is cut at max_depth");
	tu_assert_frame(tu_frame(leak, 0), "keep_blocks", HEAP_COUNTS_SRC, line, "leaks[0] frame 0");
	cr_assert(tu_frame_is(tu_frame(leak, 1), "main"), "leaks[0] frame 1 is main");
}

Test(e2e_cli, max_depth_option_cuts_stacks)
{
	struct tu_run r;

	tu_profile(&r, NULL, TU_LIST("-q", "--max-depth", "3", "--", TU_PROG("heap_counts")));
	check_depth(&r, 3);
	tu_run_free(&r);
}

Test(e2e_cli, max_depth_env_cuts_stacks)
{
	struct tu_run r;

	tu_profile(&r, TU_LIST("PTRACE_MAX_DEPTH=2"), TU_LIST("-q", "--", TU_PROG("heap_counts")));
	check_depth(&r, 2);
	tu_run_free(&r);
}

static void check_no_memory(struct tu_run *r)
{
	json_t *p = tu_proc(r->json, 0);

	cr_assert(eq(int, r->exit_code, 0), "launcher exit code; stderr: %s", r->err);
	cr_assert(not(tu_bool(r->json, "agent.track_memory")), "agent.track_memory");
	cr_assert(tu_get(p, "memory") == NULL || tu_is_null(p, "memory"),
		  "processes[0].memory is absent or null, got %s", tu_type_name(tu_get(p, "memory")));
	cr_assert(eq(i64, tu_int(p, "exit_code"), 0), "processes[0].exit_code");
}

Test(e2e_cli, track_memory_env_0_omits_memory)
{
	struct tu_run r;

	tu_profile(&r, TU_LIST("PTRACE_TRACK_MEMORY=0"), TU_LIST("-q", "--", TU_PROG("heap_counts")));
	check_no_memory(&r);
	tu_run_free(&r);
}

Test(e2e_cli, no_memory_option_omits_memory)
{
	struct tu_run r;

	tu_profile(&r, NULL, TU_LIST("-q", "--no-memory", "--", TU_PROG("heap_counts")));
	check_no_memory(&r);
	tu_run_free(&r);
}

Test(e2e_cli, quiet_writes_no_text_report)
{
	struct tu_run r;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("heap_counts")));
	cr_assert(eq(int, r.exit_code, 0), "launcher exit code");
	cr_assert(eq(sz, r.err_len, 0), "stderr with -q: %s", r.err);
	cr_assert(eq(sz, r.out_len, 0), "stdout: %s", r.out);
	tu_run_free(&r);
}

/* The text report names the leaking function, on stderr or in the -o file. */
Test(e2e_cli, text_report_goes_to_stderr_by_default)
{
	struct tu_run r;

	tu_profile(&r, NULL, TU_LIST("--", TU_PROG("heap_counts")));
	cr_assert(eq(int, r.exit_code, 0), "launcher exit code");
	cr_assert(strstr(r.err, "keep_blocks") != NULL, "stderr report names keep_blocks: %s", r.err);
	cr_assert(eq(sz, r.out_len, 0), "stdout: %s", r.out);
	tu_run_free(&r);
}

Test(e2e_cli, text_report_goes_to_output_file)
{
	char *path = tu_tmpfile("report");
	struct tu_run r;
	char *text;

	tu_profile(&r, NULL, TU_LIST("-o", path, "--", TU_PROG("heap_counts")));
	cr_assert(eq(int, r.exit_code, 0), "launcher exit code");
	cr_assert(eq(sz, r.err_len, 0), "stderr with -o: %s", r.err);
	text = tu_read_file(path, NULL);
	cr_assert(text != NULL, "report file %s", path);
	cr_assert(strstr(text, "keep_blocks") != NULL, "report file names keep_blocks: %s", text);
	unlink(path);
	free(path);
	free(text);
	tu_run_free(&r);
}
