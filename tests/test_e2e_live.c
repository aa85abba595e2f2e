/*
 * End-to-end live view (issue 10, item 5): `ptrace-run --live` draws in a
 * tmux pane (its controlling terminal) while the program's output goes to
 * files; `tmux capture-pane` reads the screen back. The program
 * (tests/progs/live_alloc.c) holds a known heap, burns 300 ms of CPU,
 * writes READY and waits for STOP, so every figure on the screen is known
 * once READY exists. Also `ptrace-run live PID` attached from other panes,
 * and the refusals: a terminal shared with the program, no terminal.
 *
 * Deadlines (polled every 50 ms, so a fast machine never waits them out):
 * READY_MS covers the program's start under load (loading, 300 ms of CPU
 * time); SHOW_MS is the 2 s from READY to the screen (the view
 * refreshes every second); KEY_MS from a key to its redraw (read within
 * 100 ms, drawn at once); END_MS from STOP to the launcher's exit (the
 * program's 10 ms poll, then the report).
 */
#include <sys/stat.h>

#include "testutil.h"

#define TMUX "/usr/bin/tmux"
#define POLL_MS 50
#define READY_MS 20000
#define SHOW_MS 2000
#define KEY_MS 2000
#define END_MS 15000

/* One test's files and tmux server (a socket of its own: the tests of
 * this file run in parallel, and never touch the user's tmux). */
struct lt {
	char *dir, *sock, *ready, *stop;
	char *cwd;
};

static struct lt T;

static char *in_dir(const char *name)
{
	char *p = NULL;

	cr_assert(asprintf(&p, "%s/%s", T.dir, name) > 0, "asprintf");
	return p;
}

static void lt_setup(void)
{
	char cwd[4096];

	memset(&T, 0, sizeof(T));
	T.dir = strdup("/tmp/ptrace-e2e-live-XXXXXX");
	cr_assert(T.dir && mkdtemp(T.dir), "mkdtemp: %s", strerror(errno));
	T.sock = in_dir("tmux.sock");
	T.ready = in_dir("ready");
	T.stop = in_dir("stop");
	cr_assert(getcwd(cwd, sizeof(cwd)) != NULL, "getcwd");
	T.cwd = strdup(cwd);
}

static void lt_teardown(void)
{
	char *cmd = NULL;
	int fd;

	if (!T.dir)
		return;
	/* The program ends at STOP (the launcher then exits), then the
	 * server and every pane it still has. */
	fd = open(T.stop, O_WRONLY | O_CREAT, 0600);
	if (fd >= 0)
		close(fd);
	if (T.sock && access(TMUX, X_OK) == 0) {
		struct tu_run r;

		usleep(200000);
		tu_run(&r, NULL, TU_LIST(TMUX, "-S", T.sock, "kill-server"));
		tu_run_free(&r);
	}
	if (asprintf(&cmd, "rm -rf '%s'", T.dir) > 0 && system(cmd) != 0)
		fprintf(stderr, "teardown: %s failed\n", cmd);
	free(cmd);
	free(T.dir);
	free(T.sock);
	free(T.ready);
	free(T.stop);
	free(T.cwd);
	memset(&T, 0, sizeof(T));
}

static void need_tmux(void)
{
	if (access(TMUX, X_OK))
		cr_skip_test("tmux is not installed (scripts/install-deps.sh installs it)");
}

/* A tmux session `name` (160x50) running script (sh) from the repository
 * root; its pane is the script's controlling terminal. */
static void lt_session(const char *name, const char *script)
{
	char *path = NULL, *body = NULL, *cmd = NULL;
	struct tu_run r;
	FILE *f;

	cr_assert(asprintf(&path, "%s/%s.sh", T.dir, name) > 0, "asprintf");
	cr_assert(asprintf(&body, "cd '%s' || exit 99\n%s\n", T.cwd, script) > 0, "asprintf");
	f = fopen(path, "w");
	cr_assert(f && fputs(body, f) >= 0 && fclose(f) == 0, "writing %s", path);
	cr_assert(asprintf(&cmd, "sh '%s'", path) > 0, "asprintf");
	/* A pane whose command ended stays, its last screen readable: set
	 * before the command starts (set after, tmux 3.3 loses the first
	 * line of a pane that died meanwhile). */
	tu_run(&r, NULL,
	       TU_LIST(TMUX, "-S", T.sock, "-f", "/dev/null", "start-server", ";", "set-option", "-g", "remain-on-exit",
		       "on", ";", "new-session", "-d", "-s", name, "-x", "160", "-y", "50", cmd));
	cr_assert(eq(int, r.exit_code, 0), "tmux new-session %s: %s", name, r.err);
	tu_run_free(&r);
	free(path);
	free(body);
	free(cmd);
}

/* The screen of session name's pane, as text (malloc'd); with history,
 * also what scrolled off it (a pane's first lines can, as tmux sizes a
 * new session's window). */
static char *lt_capture(const char *name, int history)
{
	struct tu_run r;
	char *s;

	if (history)
		tu_run(&r, NULL, TU_LIST(TMUX, "-S", T.sock, "capture-pane", "-p", "-J", "-S", "-", "-t", name));
	else
		tu_run(&r, NULL, TU_LIST(TMUX, "-S", T.sock, "capture-pane", "-p", "-J", "-t", name));
	s = strdup(r.exit_code == 0 ? r.out : "");
	tu_run_free(&r);
	return s;
}

static char *lt_pane(const char *name)
{
	return lt_capture(name, 0);
}

static void lt_keys(const char *name, const char *keys)
{
	struct tu_run r;

	tu_run(&r, NULL, TU_LIST(TMUX, "-S", T.sock, "send-keys", "-t", name, keys));
	cr_assert(eq(int, r.exit_code, 0), "tmux send-keys %s: %s", keys, r.err);
	tu_run_free(&r);
}

/* The line after the first one containing header (malloc'd, its trailing
 * blanks cut), or NULL. */
static char *line_after(const char *text, const char *header)
{
	const char *h = strstr(text, header), *b, *e;
	char *line;

	if (!h || !(b = strchr(h, '\n')))
		return NULL;
	b++;
	e = strchr(b, '\n');
	line = strndup(b, e ? (size_t)(e - b) : strlen(b));
	for (size_t n = strlen(line); n && line[n - 1] == ' '; n--)
		line[n - 1] = 0;
	return line;
}

/* The first site row, the first CPU row. */
#define SITES_HEADER " LIVE BYTES    BLOCKS    ALLOCS   ALLOCATED  SITE"
#define CPU_HEADER "  SELF%  TOTAL%   SAMPLES  FUNCTION"
#define THREADS_HEADER "     TID  NAME                ALLOCS   ALLOCATED CPU SAMPLES"

/* Poll the pane until it contains want and, when row is given, the line
 * after row_header is row; fails after ms with the last screen. */
static void wait_pane(const char *name, const char *want, const char *row_header, const char *row, int ms,
		      const char *what)
{
	long long deadline = tu_now_ms() + ms;
	char *pane = NULL, *got = NULL;

	for (;;) {
		free(pane);
		free(got);
		pane = lt_pane(name);
		got = row_header ? line_after(pane, row_header) : NULL;
		if ((!want || strstr(pane, want)) && (!row || (got && !strcmp(got, row))))
			break;
		cr_assert(tu_now_ms() < deadline,
			  "%s: not on the screen within %d ms: want \"%s\"%s%s%s, row got \"%s\"; screen:\n%s", what, ms,
			  want ? want : "", row ? " and row \"" : "", row ? row : "", row ? "\"" : "", got ? got : "(none)",
			  pane);
		usleep(POLL_MS * 1000);
	}
	free(pane);
	free(got);
}

/* Wait for path to exist; its contents (malloc'd). */
static char *wait_file(const char *path, int ms, const char *what)
{
	long long deadline = tu_now_ms() + ms;
	char *s;

	while (!(s = tu_read_file(path, NULL))) {
		cr_assert(tu_now_ms() < deadline, "%s: %s did not appear within %d ms", what, path, ms);
		usleep(POLL_MS * 1000);
	}
	return s;
}

/* Launcher exit code from the rc file a script wrote. */
static int wait_rc(const char *rc, int ms, const char *what)
{
	char *s = wait_file(rc, ms, what);
	int v = atoi(s);

	free(s);
	return v;
}

static void touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0600);

	cr_assert(fd >= 0, "create %s: %s", path, strerror(errno));
	close(fd);
}

/* The rows the program's known heap and CPU give. */
static char *hold_row(void)
{
	char *s = NULL;

	cr_assert(asprintf(&s, "    8.0 MiB        64        64     8.0 MiB  live_hold_site (live_alloc.c:%d)",
			   tu_marker_line(TU_SRC("live_alloc.c"), "@live:hold")) > 0,
		  "asprintf");
	return s;
}

static char *many_row(void)
{
	char *s = NULL;

	cr_assert(asprintf(&s, "   15.6 KiB      1000      1000    15.6 KiB  live_many_site (live_alloc.c:%d)",
			   tu_marker_line(TU_SRC("live_alloc.c"), "@live:many")) > 0,
		  "asprintf");
	return s;
}

/* The script line running the launcher with opts on live_alloc, its
 * output to files, its exit code to rc (written whole, by rename). */
static char *launcher_script(const char *opts, const char *redirect)
{
	char *s = NULL;

	cr_assert(asprintf(&s,
			   TU_LAUNCHER " --no-profile %s " TU_PROG("live_alloc") " '%s' '%s' %s\n"
				       "echo $? > '%s/rc.tmp' && mv '%s/rc.tmp' '%s/rc'",
			   opts, T.ready, T.stop, redirect, T.dir, T.dir, T.dir) > 0,
		  "asprintf");
	return s;
}

Test(e2e_live, shows_the_heap_the_top_site_cpu_and_threads_and_keys_sort_and_pause, .init = lt_setup,
     .fini = lt_teardown)
{
	char *out = in_dir("out"), *err = in_dir("err"), *rc = in_dir("rc"), *redirect = NULL, *script, *ready, *hold,
	     *many, *text, *thread_row = NULL;
	int pid;

	need_tmux();
	cr_assert(asprintf(&redirect, "> '%s' 2> '%s'", out, err) > 0, "asprintf");
	script = launcher_script("--live", redirect);
	lt_session("view", script);
	ready = wait_file(T.ready, READY_MS, "the program's READY");
	pid = atoi(ready);
	hold = hold_row();
	many = many_row();

	/* The state at READY, on the screen within 2 s. */
	wait_pane("view", "heap now 8.0 MiB (peak 8.0 MiB)", SITES_HEADER, hold, SHOW_MS, "the header and top site");
	{
		char *want = NULL;

		/* The command comes last, cut at the screen's width. */
		cr_assert(asprintf(&want, "%%  pid %d  " TU_PROG("live_alloc") " /tmp/", pid) > 0, "asprintf");
		wait_pane("view", want, NULL, NULL, SHOW_MS, "the pid and the command in the header");
		free(want);
	}
	wait_pane("view", "Allocation sites by live bytes (2 sites)", NULL, NULL, SHOW_MS, "the sites' title");
	/* 300 ms of CPU time in spin(): the top function by self samples. */
	text = lt_pane("view");
	{
		char *cpu = line_after(text, CPU_HEADER);

		cr_assert(cpu && strstr(cpu, "  spin (cpu_spin.h:"), "the top CPU row is spin(): \"%s\"; screen:\n%s",
			  cpu ? cpu : "(none)", text);
		free(cpu);
	}
	/* One thread, the main one, which made the 1064 allocations. */
	cr_assert(strstr(text, "Threads (1)") != NULL, "one thread; screen:\n%s", text);
	cr_assert(asprintf(&thread_row, "%8d  %-16s %9d %11s", pid, "live_alloc", 1064, "8.0 MiB") > 0, "asprintf");
	{
		char *row = line_after(text, THREADS_HEADER);

		cr_assert(row && !strncmp(row, thread_row, strlen(thread_row)), "the thread row: \"%s\", want \"%s...\"",
			  row ? row : "(none)", thread_row);
		free(row);
	}
	free(text);

	/* s: by allocations (live_many_site's 1000 first), then by bytes
	 * allocated (live_hold_site's 8 MiB), then live bytes again. */
	lt_keys("view", "s");
	wait_pane("view", "Allocation sites by allocations (2 sites)", SITES_HEADER, many, KEY_MS, "s: by allocations");
	lt_keys("view", "s");
	wait_pane("view", "Allocation sites by bytes allocated", SITES_HEADER, hold, KEY_MS, "s: by bytes allocated");
	lt_keys("view", "s");
	wait_pane("view", "Allocation sites by live bytes", SITES_HEADER, hold, KEY_MS, "s: by live bytes");
	/* c: CPU by total samples (main and its callers have them all). */
	lt_keys("view", "c");
	wait_pane("view", "Functions by CPU total samples", NULL, NULL, KEY_MS, "c: by total samples");
	/* p: the screen freezes and says so; p again resumes. */
	lt_keys("view", "p");
	wait_pane("view", "ptrace-run live  PAUSED  ", NULL, NULL, KEY_MS, "p: paused");
	lt_keys("view", "p");
	wait_pane("view", "p pause  q quit", NULL, NULL, KEY_MS, "p: resumed");

	/* The end of the program ends the view; the report goes where it
	 * goes without the view (stderr, here a file), not on the screen. */
	touch(T.stop);
	cr_assert(eq(int, wait_rc(rc, END_MS, "the launcher's exit"), 0), "the launcher exits 0");
	text = tu_read_file(err, NULL);
	cr_assert(text && strstr(text, "== ptrace-run report: ") && strstr(text, "live_hold_site"),
		  "the text report on stderr: %s", text ? text : "(none)");
	cr_assert(strchr(text, '\033') == NULL, "nothing of the view in the report file");
	free(text);
	text = tu_read_file(out, NULL);
	cr_assert(text && !*text, "the program's stdout is its own (empty): %s", text ? text : "(none)");
	free(text);

	free(thread_row);
	free(hold);
	free(many);
	free(ready);
	free(script);
	free(redirect);
	free(out);
	free(err);
	free(rc);
}

Test(e2e_live, q_ends_the_view_and_the_run_goes_on_to_its_report, .init = lt_setup, .fini = lt_teardown)
{
	char *err = in_dir("err"), *rc = in_dir("rc"), *redirect = NULL, *script, *ready, *hold, *text;
	long long deadline;

	need_tmux();
	cr_assert(asprintf(&redirect, "> /dev/null 2> '%s'", err) > 0, "asprintf");
	script = launcher_script("--live", redirect);
	lt_session("view", script);
	ready = wait_file(T.ready, READY_MS, "the program's READY");
	hold = hold_row();
	wait_pane("view", "heap now 8.0 MiB", SITES_HEADER, hold, SHOW_MS, "the top site");
	lt_keys("view", "q");
	/* The terminal is given back (the view's screen is gone) ... */
	deadline = tu_now_ms() + KEY_MS;
	for (;;) {
		text = lt_pane("view");
		if (!strstr(text, "ptrace-run live"))
			break;
		cr_assert(tu_now_ms() < deadline, "q: the view still on the screen after %d ms:\n%s", KEY_MS, text);
		free(text);
		usleep(POLL_MS * 1000);
	}
	free(text);
	/* ... while the program runs on and the launcher waits for it. */
	usleep(500000);
	cr_assert(access(rc, F_OK) != 0, "the launcher still waits for the program after q");
	touch(T.stop);
	cr_assert(eq(int, wait_rc(rc, END_MS, "the launcher's exit"), 0), "the launcher exits 0");
	text = tu_read_file(err, NULL);
	cr_assert(text && strstr(text, "== ptrace-run report: ") && strstr(text, "live_hold_site"),
		  "the report at the end: %s", text ? text : "(none)");
	free(text);
	free(hold);
	free(ready);
	free(script);
	free(redirect);
	free(err);
	free(rc);
}

/* ptrace-run live PID from two other terminals, one given the launcher's
 * pid (as --live-remote prints it), one the program's. */
Test(e2e_live, live_pid_attaches_by_the_launchers_or_the_programs_pid, .init = lt_setup, .fini = lt_teardown)
{
	char *err = in_dir("err"), *rc = in_dir("rc"), *redirect = NULL, *script, *ready, *hold, *text, *want = NULL,
	     *view = NULL, *rc1 = in_dir("rc1"), *rc2 = in_dir("rc2"), ppid_path[64], stat[512];
	int pid, launcher = 0;
	FILE *f;

	need_tmux();
	cr_assert(asprintf(&redirect, "> /dev/null 2> '%s'", err) > 0, "asprintf");
	script = launcher_script("--live-remote", redirect);
	lt_session("run", script);
	ready = wait_file(T.ready, READY_MS, "the program's READY");
	pid = atoi(ready);
	snprintf(ppid_path, sizeof(ppid_path), "/proc/%d/stat", pid);
	f = fopen(ppid_path, "r");
	cr_assert(f && fgets(stat, sizeof(stat), f), "read %s", ppid_path);
	fclose(f);
	cr_assert(sscanf(strrchr(stat, ')') + 1, " %*c %d", &launcher) == 1, "the program's parent: %s", stat);
	text = tu_read_file(err, NULL);
	cr_assert(asprintf(&want, "ptrace-run: live view: ptrace-run live %d\n", launcher) > 0, "asprintf");
	cr_assert(text && !strcmp(text, want), "--live-remote says how to attach: \"%s\", want \"%s\"", text, want);
	free(text);

	cr_assert(asprintf(&view, TU_LAUNCHER " live %d; echo $? > '%s.tmp' && mv '%s.tmp' '%s'", launcher, rc1, rc1,
			   rc1) > 0,
		  "asprintf");
	lt_session("by_launcher", view);
	free(view);
	cr_assert(asprintf(&view, TU_LAUNCHER " live %d; echo $? > '%s.tmp' && mv '%s.tmp' '%s'", pid, rc2, rc2, rc2) > 0,
		  "asprintf");
	lt_session("by_program", view);
	free(view);
	hold = hold_row();
	wait_pane("by_launcher", "heap now 8.0 MiB (peak 8.0 MiB)", SITES_HEADER, hold, SHOW_MS,
		  "live <launcher pid>: the top site");
	wait_pane("by_program", "heap now 8.0 MiB (peak 8.0 MiB)", SITES_HEADER, hold, SHOW_MS,
		  "live <program pid>: the top site");
	lt_keys("by_program", "s");
	wait_pane("by_program", "Allocation sites by allocations", NULL, NULL, KEY_MS, "live PID: s sorts");

	/* The run's end ends both views, exit 0; the launcher's report is as
	 * without them. */
	touch(T.stop);
	cr_assert(eq(int, wait_rc(rc, END_MS, "the launcher's exit"), 0), "the launcher exits 0");
	cr_assert(eq(int, wait_rc(rc1, END_MS, "live <launcher pid> exits"), 0), "live <launcher pid>: exit 0");
	cr_assert(eq(int, wait_rc(rc2, END_MS, "live <program pid> exits"), 0), "live <program pid>: exit 0");
	text = tu_read_file(err, NULL);
	cr_assert(text && strstr(text, "== ptrace-run report: ") && strstr(text, "live_hold_site"), "the report: %s",
		  text ? text : "(none)");
	free(text);
	free(want);
	free(hold);
	free(ready);
	free(script);
	free(redirect);
	free(err);
	free(rc);
	free(rc1);
	free(rc2);
}

/* Three forked children with 1 MiB each from one site: one row, summed
 * over the processes; the header names the four pids. */
Test(e2e_live, sums_a_site_over_the_processes_of_the_run, .init = lt_setup, .fini = lt_teardown)
{
	char *rc = in_dir("rc"), *script = NULL, *row = NULL;

	need_tmux();
	cr_assert(asprintf(&script,
			   TU_LAUNCHER " --no-profile --live " TU_PROG("live_fork") " '%s' '%s' > /dev/null 2>&1\n"
						    "echo $? > '%s/rc.tmp' && mv '%s/rc.tmp' '%s/rc'",
			   T.ready, T.stop, T.dir, T.dir, T.dir) > 0,
		  "asprintf");
	lt_session("fork", script);
	free(wait_file(T.ready, READY_MS, "the program's READY"));
	cr_assert(asprintf(&row, "    3.0 MiB        48        48     3.0 MiB  live_child_site (live_fork.c:%d)",
			   tu_marker_line(TU_SRC("live_fork.c"), "@live:child")) > 0,
		  "asprintf");
	wait_pane("fork", "heap now 3.0 MiB (peak 3.0 MiB)", SITES_HEADER, row, SHOW_MS, "the site of three processes");
	wait_pane("fork", "Allocation sites by live bytes (1 site)", NULL, NULL, SHOW_MS, "one row");
	{
		char *pane = lt_pane("fork"), *p = strstr(pane, "  pids ");
		int n = 0;

		for (p = p ? p + 7 : NULL; p && *p >= '0' && *p <= '9'; n++) {
			p += strspn(p, "0123456789");
			if (*p == ',')
				p++;
		}
		cr_assert(eq(int, n, 4), "the header names the four processes' pids; screen:\n%s", pane);
		free(pane);
	}
	touch(T.stop);
	cr_assert(eq(int, wait_rc(rc, END_MS, "the launcher's exit"), 0), "the launcher exits 0");
	free(row);
	free(script);
	free(rc);
}

#define REFUSAL                                                                                                    \
	"ptrace-run: --live needs a terminal of its own: redirect the program's output (stdout and stderr), or use " \
	"--live-remote and run `ptrace-run live PID` in another terminal\n"

/* The program's stdout, then its stderr, on the view's terminal: one
 * line, exit 2, the program never started. */
Test(e2e_live, refuses_a_terminal_shared_with_the_program, .init = lt_setup, .fini = lt_teardown)
{
	char *err = in_dir("err"), *rc = in_dir("rc"), *redirect = NULL, *script, *text, *pane;
	long long deadline;

	need_tmux();
	/* stdout is the terminal */
	cr_assert(asprintf(&redirect, "2> '%s'", err) > 0, "asprintf");
	script = launcher_script("--live", redirect);
	lt_session("stdout_tty", script);
	cr_assert(eq(int, wait_rc(rc, END_MS, "the launcher's exit"), 2), "exit 2 when stdout is the terminal");
	text = tu_read_file(err, NULL);
	cr_assert(eq(str, text ? text : "", REFUSAL), "the one line");
	cr_assert(access(T.ready, F_OK) != 0, "the program never started");
	free(text);
	free(script);
	free(redirect);
	unlink(rc);

	/* stderr is the terminal: the line is on the screen */
	script = launcher_script("--live", "> /dev/null");
	lt_session("stderr_tty", script);
	cr_assert(eq(int, wait_rc(rc, END_MS, "the launcher's exit"), 2), "exit 2 when stderr is the terminal");
	deadline = tu_now_ms() + KEY_MS;
	for (;;) {
		pane = lt_capture("stderr_tty", 1);
		if (strstr(pane, "ptrace-run: --live needs a terminal of its own: redirect the program's output"))
			break;
		cr_assert(tu_now_ms() < deadline, "the refusal on the screen:\n%s", pane);
		free(pane);
		usleep(POLL_MS * 1000);
	}
	free(pane);
	cr_assert(access(T.ready, F_OK) != 0, "the program never started");
	free(script);
	free(err);
	free(rc);
}

/* Without a controlling terminal (setsid) there is nowhere to draw. */
Test(e2e_live, refuses_without_a_terminal, .init = lt_setup, .fini = lt_teardown)
{
	struct tu_run r;

	if (access("/usr/bin/setsid", X_OK))
		cr_skip_test("setsid is not installed");
	tu_run(&r, NULL,
	       TU_LIST("/usr/bin/setsid", "-w", TU_LAUNCHER, "--live", TU_PROG("live_alloc"), T.ready, T.stop));
	cr_assert(eq(int, r.exit_code, 2), "exit 2; stderr: %s", r.err);
	cr_assert(eq(str, r.err, "ptrace-run: --live: the live view needs a terminal: /dev/tty: No such device or address\n"),
		  "one line");
	cr_assert(access(T.ready, F_OK) != 0, "the program never started");
	tu_run_free(&r);
}

Test(e2e_live, live_pid_refuses_bad_input_in_one_line)
{
	static const struct {
		const char *arg, *err;
	} cases[] = {
		{ NULL, "ptrace-run live: no PID given\nusage: ptrace-run live [--interval=SECS] PID\n" },
		{ "abc", "ptrace-run live: abc: expected a process id\n" },
		{ "0", "ptrace-run live: 0: expected a process id\n" },
		{ "--interval=0.01", "ptrace-run live: --interval=0.01: expected a number of seconds from 0.1 to 3600\n" },
		{ "--bogus", "ptrace-run live: unknown option --bogus (see ptrace-run live --help)\n" },
	};
	char self[32], want[256];
	struct tu_run r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].arg)
			tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "live", cases[i].arg));
		else
			tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "live"));
		cr_assert(eq(int, r.exit_code, 2), "live %s: exit 2", cases[i].arg ? cases[i].arg : "");
		cr_assert(eq(str, r.err, (char *)cases[i].err), "live %s: the line", cases[i].arg ? cases[i].arg : "");
		tu_run_free(&r);
	}
	/* A process that is no run of ptrace-run: this test. */
	snprintf(self, sizeof(self), "%d", (int)getpid());
	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "live", self));
	snprintf(want, sizeof(want),
		 "ptrace-run live: %s: not a run of ptrace-run (no session image in its descriptors or its environment)\n",
		 self);
	cr_assert(eq(int, r.exit_code, 2), "live <not a run>: exit 2");
	cr_assert(eq(str, r.err, want), "live <not a run>: the line");
	tu_run_free(&r);
	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "live", "--help"));
	cr_assert(eq(int, r.exit_code, 0), "live --help: exit 0");
	cr_assert(strstr(r.out, "Usage: ptrace-run live [--interval=SECS] PID") != NULL, "live --help: usage");
	tu_run_free(&r);
}
