/*
 * End-to-end: the launcher's outputs, signals and messages (issue 8, items
 * 10 to 13). Report files are opened once, at start, never through a
 * symlink, private by default; a report that cannot be written is said and
 * turns a success into exit 2; "-" is stdout; every signal sent to the
 * launcher reaches the program and none kills the launcher; a stopped
 * launcher does not inflate the wall time; names from the program are
 * escaped in the text report.
 *
 * These tests need a working directory, a chosen stdout, or signals sent
 * while the launcher runs, so they start it themselves (tu_bg_start /
 * tu_bg_finish) rather than through tu_run.
 */
#include "testutil.h"

#include <limits.h>
#include <sys/stat.h>

static char *abs_path(const char *p)
{
	char *a = realpath(p, NULL);

	cr_assert(a != NULL, "realpath %s: %s", p, strerror(errno));
	return a;
}

/* A new empty directory under /tmp; malloc'ed path. */
static char *tmp_dir(void)
{
	char *d = strdup("/tmp/ptrace-e2e-out-XXXXXX");

	cr_assert(d && mkdtemp(d), "mkdtemp: %s", strerror(errno));
	return d;
}

static char *join(const char *dir, const char *name)
{
	char *p = NULL;

	cr_assert(asprintf(&p, "%s/%s", dir, name) > 0, "asprintf");
	return p;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	cr_assert(fd >= 0, "create %s: %s", path, strerror(errno));
	cr_assert(eq(sz, (size_t)write(fd, text, strlen(text)), strlen(text)), "write %s", path);
	close(fd);
}

static void wait_for_file(const char *path)
{
	long long end = tu_now_ms() + 10000;

	while (access(path, F_OK) && tu_now_ms() < end)
		usleep(2000);
	cr_assert(eq(int, access(path, F_OK), 0), "%s appeared", path);
}

static void run(struct tu_run *t, const char *cwd, const char *const *env, const char *const *argv)
{
	struct tu_bg r;

	tu_bg_start(&r, cwd, env, -1, argv);
	tu_bg_finish(&r, t);
}

static json_t *load_json(const char *path)
{
	json_error_t je;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);

	cr_assert(j != NULL, "%s: valid JSON: line %d: %s", path, je.line, je.text);
	return j;
}

static int one_line(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && s[n - 1] == '\n' && !memchr(s, '\n', n - 1);
}

/* ------------------------------------------------------------ outputs */

/* A symlink planted where the report goes must not be followed: a root
 * run would overwrite whatever it points to. */
static void check_planted_symlink(const char *opt)
{
	char *dir = tmp_dir(), *target = join(dir, "target"), *link = join(dir, "report");
	char *arg = NULL, *text;
	struct tu_run t;
	struct stat st;
	int is_link;

	write_file(target, "secret\n", 0600);
	cr_assert(eq(int, symlink(target, link), 0), "symlink");
	cr_assert(asprintf(&arg, "%s=%s", opt, link) > 0, "asprintf");
	run(&t, NULL, NULL, TU_LIST(TU_LAUNCHER, arg, "--", TU_PROG("exit_code"), "0"));
	cr_assert(eq(int, t.exit_code, 2), "%s through a symlink is refused (rc 2); stderr: %s", opt, t.err);
	cr_assert(one_line(t.err), "one line on stderr: %s", t.err);
	cr_assert(strstr(t.err, "symbolic link") != NULL, "it says why: %s", t.err);
	cr_assert(eq(sz, t.out_len, 0), "the program did not run: %s", t.out);
	text = tu_read_file(target, NULL);
	cr_assert(eq(str, text, "secret\n"), "the symlink's target is untouched");
	cr_assert(eq(int, lstat(link, &st), 0), "lstat");
	is_link = S_ISLNK(st.st_mode);
	cr_assert(is_link, "the symlink is still a symlink");
	free(text);
	unlink(link);
	unlink(target);
	rmdir(dir);
	free(arg);
	free(link);
	free(target);
	free(dir);
	tu_run_free(&t);
}

Test(e2e_output, output_through_a_planted_symlink_is_refused)
{
	check_planted_symlink("--output");
}

Test(e2e_output, json_through_a_planted_symlink_is_refused)
{
	check_planted_symlink("--json");
}

/* The JSON file is opened before the program starts and kept open: a
 * symlink swapped in while the program runs redirects nothing. */
Test(e2e_output, json_path_swapped_during_the_run_redirects_nothing)
{
	char *dir = tmp_dir(), *target = join(dir, "target"), *json = join(dir, "r.json"), *old = join(dir, "r.json.old");
	char *arg = NULL, *text;
	struct tu_run t;
	json_t *j;

	write_file(target, "secret\n", 0600);
	cr_assert(asprintf(&arg, "--json=%s", json) > 0, "asprintf");
	run(&t, NULL, NULL, TU_LIST(TU_LAUNCHER, "-q", arg, "--", TU_PROG("swap_path"), json, target));
	cr_assert(eq(int, t.exit_code, 0), "the program swapped the path and exited 0; stderr: %s", t.err);
	text = tu_read_file(target, NULL);
	cr_assert(eq(str, text, "secret\n"), "the symlink's target is untouched");
	j = load_json(old);
	cr_assert(eq(i64, tu_int(j, "exit_code"), 0), "the report is in the file opened at start");
	json_decref(j);
	free(text);
	unlink(json);
	unlink(old);
	unlink(target);
	rmdir(dir);
	free(arg);
	free(old);
	free(json);
	free(target);
	free(dir);
	tu_run_free(&t);
}

static unsigned file_mode(const char *path)
{
	struct stat st;

	cr_assert(eq(int, stat(path, &st), 0), "stat %s: %s", path, strerror(errno));
	return (unsigned)st.st_mode & 07777;
}

Test(e2e_output, new_report_files_are_private_unless_asked)
{
	char *dir = tmp_dir(), *txt = join(dir, "r.txt"), *json = join(dir, "r.json");
	struct tu_run t;

	umask(022);
	run(&t, NULL, NULL, TU_LIST(TU_LAUNCHER, "-o", txt, "--json", json, "--", TU_PROG("exit_code"), "0"));
	cr_assert(eq(int, t.exit_code, 0), "rc; stderr: %s", t.err);
	cr_assert(eq(u32, file_mode(txt), 0600), "the text report is created 0600");
	cr_assert(eq(u32, file_mode(json), 0600), "the JSON report is created 0600");
	tu_run_free(&t);
	unlink(txt);
	unlink(json);
	run(&t, NULL, NULL,
	    TU_LIST(TU_LAUNCHER, "--report-mode=640", "-o", txt, "--json", json, "--", TU_PROG("exit_code"), "0"));
	cr_assert(eq(int, t.exit_code, 0), "rc with --report-mode; stderr: %s", t.err);
	cr_assert(eq(u32, file_mode(txt), 0640), "--report-mode=640: the text report");
	cr_assert(eq(u32, file_mode(json), 0640), "--report-mode=640: the JSON report");
	tu_run_free(&t);
	unlink(txt);
	unlink(json);
	rmdir(dir);
	free(txt);
	free(json);
	free(dir);
}

Test(e2e_output, one_file_for_both_reports_is_refused)
{
	char *dir = tmp_dir(), *x = join(dir, "x"), *x2 = join(dir, "./x");
	struct tu_run t;

	run(&t, NULL, NULL, TU_LIST(TU_LAUNCHER, "-o", x, "--json", x2, "--", TU_PROG("exit_code"), "0"));
	cr_assert(eq(int, t.exit_code, 2), "-o X --json=X: rc 2; stderr: %s", t.err);
	cr_assert(one_line(t.err), "one line on stderr: %s", t.err);
	cr_assert(strstr(t.err, "same file") != NULL, "it says why: %s", t.err);
	cr_assert(eq(sz, t.out_len, 0), "the program did not run: %s", t.out);
	cr_assert(ne(int, access(x, F_OK), 0), "no file was left behind");
	tu_run_free(&t);
	rmdir(dir);
	free(x);
	free(x2);
	free(dir);
}

/* stderr, where the text report goes without -o, is the --json file. */
Test(e2e_output, json_to_where_stderr_goes_is_refused)
{
	char *dir = tmp_dir(), *x = join(dir, "x"), *cmd = NULL, *got;
	size_t len = 0;
	struct tu_run t;

	cr_assert(asprintf(&cmd, "exec %s --json %s -- %s 0 2>%s", TU_LAUNCHER, x, TU_PROG("exit_code"), x) > 0,
		  "asprintf");
	run(&t, NULL, NULL, TU_LIST("/bin/sh", "-c", cmd));
	cr_assert(eq(int, t.exit_code, 2), "rc 2; stdout: %s", t.out);
	cr_assert(eq(sz, t.out_len, 0), "the program did not run: %s", t.out);
	got = tu_read_file(x, &len);
	cr_assert(got && one_line(got), "one line in the file stderr went to: %s", got ? got : "(none)");
	cr_assert(strstr(got, "stderr") != NULL, "it says why: %s", got);
	free(got);
	unlink(x);
	tu_run_free(&t);
	rmdir(dir);
	free(cmd);
	free(x);
	free(dir);
}

Test(e2e_output, text_report_to_a_full_device_fails_a_successful_run)
{
	struct tu_run t;

	run(&t, NULL, NULL, TU_LIST(TU_LAUNCHER, "-o", "/dev/full", "--", TU_PROG("exit_code"), "0"));
	cr_assert(eq(int, t.exit_code, 2), "the program exited 0, the report was lost: rc 2; stderr: %s", t.err);
	cr_assert(strstr(t.err, "-o /dev/full: the text report could not be written: No space left on device") != NULL,
		  "said on stderr: %s", t.err);
	cr_assert(eq(str, t.out, "exit_code 0\n"), "the program's output");
	tu_run_free(&t);
}

Test(e2e_output, json_report_to_a_full_device_fails_a_successful_run)
{
	struct tu_run t;

	run(&t, NULL, NULL, TU_LIST(TU_LAUNCHER, "-q", "--json=/dev/full", "--", TU_PROG("exit_code"), "0"));
	cr_assert(eq(int, t.exit_code, 2), "rc 2; stderr: %s", t.err);
	cr_assert(strstr(t.err, "--json /dev/full: the JSON report could not be written: No space left on device") != NULL,
		  "said on stderr: %s", t.err);
	cr_assert(one_line(t.err), "one line: %s", t.err);
	tu_run_free(&t);
}

Test(e2e_output, lost_report_never_masks_a_failing_program)
{
	struct tu_run t;

	run(&t, NULL, NULL, TU_LIST(TU_LAUNCHER, "-q", "--json=/dev/full", "--", TU_PROG("exit_code"), "3"));
	cr_assert(eq(int, t.exit_code, 3), "the program's status 3 is kept; stderr: %s", t.err);
	cr_assert(strstr(t.err, "could not be written") != NULL, "the loss is still said: %s", t.err);
	tu_run_free(&t);
}

Test(e2e_output, dash_is_stdout_and_creates_no_file)
{
	char *dir = tmp_dir(), *dash = join(dir, "-");
	char *launcher = abs_path(TU_LAUNCHER), *prog = abs_path(TU_PROG("exit_code"));
	struct tu_run t;
	json_error_t je;
	json_t *j;
	char *nl;

	run(&t, dir, NULL, TU_LIST(launcher, "-q", "--json=-", "--", prog, "0"));
	cr_assert(eq(int, t.exit_code, 0), "rc; stderr: %s", t.err);
	cr_assert(eq(int, strncmp(t.out, "exit_code 0\n", 12), 0), "the program's output first: %s", t.out);
	nl = t.out + 12;
	j = json_loads(nl, 0, &je);
	cr_assert(j != NULL, "stdout has the JSON report after it: %s: %.200s", je.text, nl);
	cr_assert(eq(i64, tu_int(j, "exit_code"), 0), "the report's exit_code");
	json_decref(j);
	cr_assert(ne(int, access(dash, F_OK), 0), "no file named - was created");
	cr_assert(eq(sz, t.err_len, 0), "stderr (-q): %s", t.err);
	tu_run_free(&t);

	run(&t, dir, NULL, TU_LIST(launcher, "-o", "-", "--", prog, "0"));
	cr_assert(eq(int, t.exit_code, 0), "rc; stderr: %s", t.err);
	cr_assert(strstr(t.out, "== ptrace-run report:") != NULL, "-o -: the text report on stdout: %s", t.out);
	cr_assert(eq(sz, t.err_len, 0), "nothing on stderr: %s", t.err);
	cr_assert(ne(int, access(dash, F_OK), 0), "no file named - was created");
	tu_run_free(&t);
	rmdir(dir);
	free(dash);
	free(launcher);
	free(prog);
	free(dir);
}

/* A reader that went away: the launcher says so and exits 2, instead of
 * dying of SIGPIPE with the program's status lost. */
Test(e2e_output, report_to_a_closed_pipe_is_an_error_not_a_death)
{
	struct tu_run t;
	struct tu_bg r;
	int p[2];

	cr_assert(eq(int, pipe2(p, O_CLOEXEC), 0), "pipe");
	close(p[0]);
	tu_bg_start(&r, NULL, NULL, p[1], TU_LIST(TU_LAUNCHER, "-q", "--json=-", "--", TU_PROG("sleep_ms"), "0"));
	close(p[1]);
	tu_bg_finish(&r, &t);
	cr_assert(eq(int, t.signal, 0), "the launcher was not killed (by SIGPIPE); stderr: %s", t.err);
	cr_assert(eq(int, t.exit_code, 2), "rc 2: the program exited 0, the report was lost; stderr: %s", t.err);
	cr_assert(strstr(t.err, "--json -: the JSON report could not be written: Broken pipe") != NULL, "said: %s", t.err);
	tu_run_free(&t);
}

/* ------------------------------------------------------------ signals */

static void send_signals(pid_t to)
{
	static const int sigs[] = { SIGUSR1, SIGALRM, SIGPIPE, SIGURG, SIGWINCH, SIGVTALRM, SIGTSTP };
	union sigval v = { .sival_int = 42 };

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		cr_assert(eq(int, kill(to, sigs[i]), 0), "kill %d", sigs[i]);
		usleep(20000);
	}
	cr_assert(eq(int, sigqueue(to, SIGUSR2, v), 0), "sigqueue USR2");
}

static const char sig_expected[] = "SIGUSR1 1\nSIGUSR2 1 value 42\nSIGPIPE 1\nSIGALRM 1\nSIGTSTP 1\n"
				   "SIGURG 1\nSIGVTALRM 1\nSIGWINCH 1\n";

Test(e2e_output, every_signal_sent_to_the_launcher_reaches_the_program)
{
	char *dir = tmp_dir(), *ready = join(dir, "ready"), *json = join(dir, "r.json");
	struct tu_run alone, prof;
	struct tu_bg r;
	json_t *j;

	tu_bg_start(&r, NULL, NULL, -1, TU_LIST(TU_PROG("sig_count"), ready, "8"));
	wait_for_file(ready);
	send_signals(r.pid);
	tu_bg_finish(&r, &alone);
	cr_assert(eq(str, alone.out, (char *)sig_expected), "the program alone counts each signal once");
	unlink(ready);

	tu_bg_start(&r, NULL, NULL, -1, TU_LIST(TU_LAUNCHER, "-q", "--json", json, "--", TU_PROG("sig_count"), ready, "8"));
	wait_for_file(ready);
	send_signals(r.pid);
	tu_bg_finish(&r, &prof);
	cr_assert(eq(int, prof.signal, 0), "the launcher survived the signals");
	cr_assert(eq(int, prof.exit_code, 0), "and exited 0; stderr: %s", prof.err);
	cr_assert(eq(str, prof.out, alone.out), "the program's output equals a run without ptrace-run");
	j = load_json(json);
	cr_assert(eq(i64, tu_int(j, "exit_code"), 0), "the report was written");
	json_decref(j);
	tu_run_free(&alone);
	tu_run_free(&prof);
	unlink(ready);
	unlink(json);
	rmdir(dir);
	free(ready);
	free(json);
	free(dir);
}

/* /proc/PID/stat's state letter, or 0 when gone. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

static int wait_state(pid_t pid, char want)
{
	long long end = tu_now_ms() + 5000;

	while (proc_state(pid) != want && tu_now_ms() < end)
		usleep(2000);
	return proc_state(pid) == want;
}

/* The program's pid: the one child of the launcher. */
static pid_t child_of(pid_t parent)
{
	char path[96], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)parent, (int)parent);
	f = fopen(path, "r");
	cr_assert(f != NULL, "open %s", path);
	cr_assert(fgets(buf, sizeof(buf), f) != NULL, "the launcher has a child");
	fclose(f);
	return (pid_t)atoi(buf);
}

/* Job control as for the program alone: SIGTSTP to the launcher stops the
 * program, and the launcher with it (the shell sees the job stopped);
 * SIGCONT to the launcher continues both. */
Test(e2e_output, tstp_and_cont_to_the_launcher_stop_and_continue_the_program)
{
	char *dir = tmp_dir(), *ready = join(dir, "ready");
	struct tu_run t;
	struct tu_bg r;
	pid_t prog;

	tu_bg_start(&r, NULL, NULL, -1, TU_LIST(TU_LAUNCHER, "-q", "--", TU_PROG("sleep_ms"), "700", ready));
	wait_for_file(ready);
	prog = child_of(r.pid);
	kill(r.pid, SIGTSTP);
	cr_assert(wait_state(prog, 'T'), "the program is stopped");
	cr_assert(wait_state(r.pid, 'T'), "the launcher is stopped too");
	kill(r.pid, SIGCONT);
	cr_assert(wait_state(prog, 'S') || proc_state(prog) == 'R' || proc_state(prog) == 0, "the program runs again");
	tu_bg_finish(&r, &t);
	cr_assert(eq(int, t.exit_code, 0), "both finished; stderr: %s", t.err);
	tu_run_free(&t);
	unlink(ready);
	rmdir(dir);
	free(ready);
	free(dir);
}

/* A stop aimed at the program alone and undone by a SIGCONT to it alone
 * (a freezer, a debugger's kill) must not leave the launcher stopped: the
 * run ends as without ptrace-run. (A guard for the rule above: the
 * launcher mirrors only stops that reached it too.) */
Test(e2e_output, stop_and_cont_of_the_program_alone_leave_the_launcher_running)
{
	char *dir = tmp_dir(), *ready = join(dir, "ready");
	struct tu_run t;
	struct tu_bg r;
	pid_t prog;

	tu_bg_start(&r, NULL, NULL, -1, TU_LIST(TU_LAUNCHER, "-q", "--", TU_PROG("sleep_ms"), "300", ready));
	wait_for_file(ready);
	prog = child_of(r.pid);
	kill(prog, SIGSTOP);
	cr_assert(wait_state(prog, 'T'), "the program is stopped");
	usleep(100000);
	kill(prog, SIGCONT);
	tu_bg_finish(&r, &t);
	cr_assert(eq(int, t.exit_code, 0), "the launcher finished with the program; stderr: %s", t.err);
	tu_run_free(&t);
	unlink(ready);
	rmdir(dir);
	free(ready);
	free(dir);
}

/*
 * The program sleeps 200 ms; the launcher is stopped for 1 s meanwhile, so
 * it reaps the program at least 1 s after its start. The wall time must
 * be the program's: about 0.2 s plus start-up. The bound of 1 s leaves
 * 0.8 s for a loaded machine, yet any figure counting the stop is above it.
 */
Test(e2e_output, stopping_the_launcher_does_not_inflate_the_wall_time)
{
	char *dir = tmp_dir(), *ready = join(dir, "ready"), *json = join(dir, "r.json");
	struct tu_run t;
	struct tu_bg r;
	json_t *j;

	tu_bg_start(&r, NULL, NULL, -1, TU_LIST(TU_LAUNCHER, "-q", "--json", json, "--", TU_PROG("sleep_ms"), "200", ready));
	wait_for_file(ready);
	kill(r.pid, SIGSTOP);
	usleep(1000000);
	kill(r.pid, SIGCONT);
	tu_bg_finish(&r, &t);
	cr_assert(eq(int, t.exit_code, 0), "rc; stderr: %s", t.err);
	j = load_json(json);
	cr_assert(ge(i64, tu_int(j, "duration_ns"), 200000000), "the wall time covers the 200 ms sleep");
	cr_assert(lt(i64, tu_int(j, "duration_ns"), 1000000000), "and not the 1 s the launcher was stopped");
	json_decref(j);
	tu_run_free(&t);
	unlink(ready);
	unlink(json);
	rmdir(dir);
	free(ready);
	free(json);
	free(dir);
}

/* ----------------------------------------------------------- messages */

/* The line of s that contains needle, as a new string without its '\n'. */
static char *line_with(const char *s, const char *needle)
{
	const char *p = strstr(s, needle), *b, *e;

	if (!p)
		return NULL;
	for (b = p; b > s && b[-1] != '\n'; b--)
		;
	e = strchrnul(p, '\n');
	return strndup(b, (size_t)(e - b));
}

Test(e2e_output, control_bytes_from_the_program_are_escaped_in_the_text)
{
	struct tu_run t;
	char *head, *thread;

	tu_profile(&t, NULL, TU_LIST("--", TU_PROG("ctl_names"), "x\n\x1b[31my"));
	cr_assert(eq(int, t.exit_code, 0), "rc; stderr: %s", t.err);
	cr_assert(memchr(t.err, 0x1b, t.err_len) == NULL, "no raw ESC in the text report: %s", t.err);
	head = line_with(t.err, "== ptrace-run report:");
	cr_assert(head != NULL, "the report's first line: %s", t.err);
	cr_assert(tu_ends_with(head, " x\\x0a\\x1b[31my =="), "argv[1] escaped on the same line: %s", head);
	thread = line_with(t.err, "t\\x0a\\x1b[31mred");
	cr_assert(thread != NULL, "the thread's name escaped: %s", t.err);
	cr_assert(strstr(thread, "3 allocations") != NULL, "on its own row with its figures: %s", thread);
	/* JSON escapes by itself: the name stays exact there. */
	cr_assert(tu_thread_named(tu_proc(t.json, 0), "t\n\x1b[31mred") != NULL, "JSON keeps the raw name");
	free(head);
	free(thread);
	tu_run_free(&t);
}

Test(e2e_output, missing_ptrace_agent_names_the_variable)
{
	struct tu_run t;

	run(&t, NULL, TU_LIST("PTRACE_AGENT=/nonexistent-dir/libptrace-run.so"),
	    TU_LIST(TU_LAUNCHER, "--", TU_PROG("exit_code"), "0"));
	cr_assert(eq(int, t.exit_code, 2), "rc 2; stderr: %s", t.err);
	cr_assert(one_line(t.err), "one line: %s", t.err);
	cr_assert(strstr(t.err, "PTRACE_AGENT=/nonexistent-dir/libptrace-run.so: No such file or directory") != NULL,
		  "names the variable and its value: %s", t.err);
	cr_assert(strstr(t.err, "next to the launcher") == NULL, "not where it did not look: %s", t.err);
	tu_run_free(&t);
}

/* A run of many processes each too short for one sample: the warning says
 * how much CPU was not sampled and how many processes have no sample, and
 * does not blame threads blocking signals. */
Test(e2e_output, cpu_coverage_warning_says_what_is_known)
{
	struct tu_run t;
	const char *note, *p;
	long long procs;
	int k = -1, m = -1;

	tu_profile(&t, NULL, TU_LIST("-q", "--", TU_PROG("short_procs"), "400", "600"));
	cr_assert(eq(int, t.exit_code, 0), "rc; stderr: %s", t.err);
	note = tu_str(t.json, "agent.cpu_coverage_note");
	procs = (long long)json_array_size(tu_arr(t.json, "processes"));
	cr_assert(eq(i64, procs, 401), "the parent and its 400 children");
	cr_assert(strstr(note, "of the CPU time the run used was not sampled") != NULL ||
		      strstr(note, "s of CPU time the run used was not sampled") != NULL,
		  "how much was not sampled: %s", note);
	p = strstr(note, " processes have no sample at all");
	cr_assert(p != NULL, "how many processes have no sample: %s", note);
	while (p > note && p[-1] != ';')
		p--;
	cr_assert(eq(int, sscanf(p, " %d of %d", &k, &m), 2), "K of M: %s", note);
	cr_assert(eq(int, m, 401), "of every process");
	/* Each child runs 0.6 ms of CPU, under the 1 ms sampling period with
	 * the agent's own work; on a busy machine (tests running beside it)
	 * some take longer: 400 of 400 here alone, 387 once in CI. */
	cr_assert(ge(int, k, 360), "almost all the children have none (each ran 0.6 ms of CPU): %d", k);
	cr_assert(strstr(note, "less than one sampling period") != NULL, "the likely cause is listed: %s", note);
	cr_assert(strstr(note, "threads that block SIGPROF (e.g.") == NULL, "no blame stated as fact: %s", note);
	tu_run_free(&t);
}
