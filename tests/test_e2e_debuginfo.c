/*
 * End-to-end names for stripped programs (issue 12). tests/progs/debuginfo
 * is a release build (-O2 -g); stripped with strip --strip-all it gets
 * its function, file and line back from a separate debug file found by
 * build-id or by .gnu_debuglink under --debug-dir (or PTRACE_DEBUG_DIR),
 * in the run's report and in ptrace-run report of a profile recorded
 * without; its name (no line) from MiniDebugInfo; names and lines from a
 * local debuginfod server, and then from the client's cache with the
 * server gone. Without any of them a frame is module+offset. A server
 * that never answers costs one DEBUGINFOD_TIMEOUT, not one per module
 * and retry. Everything is made in a directory under /tmp that the
 * suite's end removes, and the end kills the server, whatever failed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "testutil.h"

#define PROG TU_PROG("debuginfo")
#define SRC TU_SRC("debuginfo.c")
#define FN "burn_and_leak"
#define LEAK_BYTES 4097 /* 4096 + argc */
#define MIN_SAMPLES 150 /* of burn_and_leak's 200 ms of CPU at 1000 Hz */

static struct {
	char top[64]; /* this test's directory, "" before it is made */
	pid_t server; /* debuginfod, in a process group of its own; 0: none */
	int hang_fd;  /* a socket that listens and never accepts; -1: none */
} fx = {.hang_fd = -1};

static char paths[16][256]; /* P()'s, used in turn: a path kept longer is copied */
static unsigned paths_next;

static void fx_init(void)
{
	strcpy(fx.top, "/tmp/ptrace-e2e-dbg-XXXXXX");
	cr_assert(not(zero(ptr, mkdtemp(fx.top))), "mkdtemp: %s", strerror(errno));
}

static void server_stop(void)
{
	if (fx.server > 0) {
		kill(-fx.server, SIGKILL);
		kill(fx.server, SIGKILL);
		waitpid(fx.server, NULL, 0);
		fx.server = 0;
	}
}

/* Also after a failed assertion: the server killed, the directory gone. */
static void fx_fini(void)
{
	char cmd[128];

	server_stop();
	if (fx.hang_fd >= 0)
		close(fx.hang_fd);
	fx.hang_fd = -1;
	if (fx.top[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx.top);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", fx.top);
		fx.top[0] = '\0';
	}
}

TestSuite(e2e_debuginfo, .init = fx_init, .fini = fx_fini);

/* TOP/name, in one of 16 buffers used in turn. */
static const char *P(const char *name)
{
	char *p = paths[paths_next++ % 16];

	snprintf(p, sizeof(paths[0]), "%s/%s", fx.top, name);
	return p;
}

/* A shell command that must succeed; its output goes to TOP/sh.log. */
static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char *cmd = NULL, *full = NULL, *log;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	cr_assert(vasprintf(&cmd, fmt, ap) > 0, "vasprintf");
	va_end(ap);
	cr_assert(asprintf(&full, "cd '%s' && { %s ; } >sh.log 2>&1", fx.top, cmd) > 0, "asprintf");
	rc = system(full);
	log = tu_read_file(P("sh.log"), NULL);
	cr_assert(eq(int, rc, 0), "%s: %s", cmd, log ? log : "");
	free(log);
	free(full);
	free(cmd);
}

/* The first line a shell command prints (static buffer), "" when none. */
static const char *sh_line(const char *cmd)
{
	static char line[512];
	FILE *f = popen(cmd, "r");

	cr_assert(not(zero(ptr, f)), "popen %s", cmd);
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	line[strcspn(line, "\n")] = '\0';
	pclose(f);
	return line;
}

/* The GNU build id of file, lowercase hex (static buffer). */
static const char *build_id(const char *file)
{
	char cmd[400];
	const char *id;

	snprintf(cmd, sizeof(cmd), "readelf -n '%s' | sed -n 's/^ *Build ID: *//p'", file);
	id = sh_line(cmd);
	cr_assert(gt(sz, strlen(id), 8), "%s has a build id", file);
	return id;
}

/* burn_and_leak's [lo, hi) in the unstripped program's addresses. */
static void fn_range(unsigned long long *lo, unsigned long long *hi)
{
	unsigned long long size = 0;

	*lo = 0;
	cr_assert(
	    eq(int, sscanf(sh_line("nm -S --defined-only " PROG " | grep ' " FN "$'"), "%llx %llx", lo, &size), 2),
	    "nm finds " FN " in " PROG);
	*hi = *lo + size;
}

/*
 * TOP/bin/stripped (strip --strip-all) and its debug file TOP/work/full.debug
 * (objcopy --only-keep-debug), kept apart: libdwfl looks in the module's
 * own directory, which must not find the debug file by accident.
 */
static void make_stripped(void)
{
	sh("mkdir -p bin work dbg && strip --strip-all -o bin/stripped '%s/%s' && "
	   "objcopy --only-keep-debug '%s/%s' work/full.debug",
	   sh_line("pwd"), PROG, sh_line("pwd"), PROG);
}

/* The debug file at DIR/.build-id/xx/rest.debug for TOP/bin/stripped. */
static void place_by_build_id(const char *dir)
{
	const char *id = build_id(P("bin/stripped"));

	sh("mkdir -p '%s/.build-id/%.2s' && cp work/full.debug '%s/.build-id/%.2s/%s.debug'", dir, id, dir, id, id + 2);
}

static json_t *json_of(const struct tu_run *r, const char *what)
{
	json_error_t e;
	json_t *j = json_loads(r->out ? r->out : "", 0, &e);

	cr_assert(not(zero(ptr, j)), "%s: JSON on stdout: %s; stderr: %s", what, e.text, r->err);
	return j;
}

/* The one leak of a run of debuginfo, 4097 bytes in one block; its frame 0. */
static json_t *leak_frame0(json_t *report, const char *what)
{
	json_t *leaks = tu_arr(tu_memory(report, 0), "leaks"), *leak;

	cr_assert(eq(sz, json_array_size(leaks), 1), "%s: one leak", what);
	leak = json_array_get(leaks, 0);
	cr_assert(eq(i64, tu_int(leak, "bytes"), LEAK_BYTES), "%s: the leak's bytes", what);
	cr_assert(eq(i64, tu_int(leak, "blocks"), 1), "%s: the leak's blocks", what);
	return tu_frame(leak, 0);
}

/* The CPU profile's function named name (NULL: the unnamed one of module
 * suffix), or NULL. */
static json_t *cpu_fn(json_t *report, const char *name, const char *suffix)
{
	json_t *fns = tu_arr(tu_obj(tu_proc(report, 0), "cpu"), "functions");

	for (size_t i = 0; i < json_array_size(fns); i++) {
		json_t *f = json_array_get(fns, i);
		const char *n = json_string_value(json_object_get(f, "name"));
		const char *m = json_string_value(json_object_get(f, "module"));

		if (name ? n && !strcmp(n, name) : !n && m && tu_ends_with(m, suffix))
			return f;
	}
	return NULL;
}

/* burn_and_leak named in the leak and in the CPU table; with lines
 * (DWARF), its file and lines too, else none (MiniDebugInfo). */
static void assert_named(json_t *report, const char *module, int lines, const char *what)
{
	json_t *f0 = leak_frame0(report, what), *fn = cpu_fn(report, FN, NULL);
	json_t *f1 = tu_frame(json_array_get(tu_arr(tu_memory(report, 0), "leaks"), 0), 1);
	char msg[160];

	snprintf(msg, sizeof(msg), "%s: the leak's frame 0", what);
	if (lines) {
		tu_assert_frame(f0, FN, "/tests/progs/debuginfo.c", tu_marker_line(SRC, "@leak"), msg);
		cr_assert(
		    eq(str, (char *)(tu_frame_str(f1, "function") ? tu_frame_str(f1, "function") : "(null)"), "main"),
		    "%s: the leak's frame 1 is main", what);
	} else {
		cr_assert(eq(str, (char *)(tu_frame_str(f0, "function") ? tu_frame_str(f0, "function") : "(null)"), FN),
			  "%s", msg);
		cr_assert(zero(ptr, (void *)tu_frame_str(f0, "file")), "%s: no file without DWARF", msg);
	}
	cr_assert(tu_ends_with(tu_frame_str(f0, "module"), module), "%s: module %s", msg, tu_frame_str(f0, "module"));
	cr_assert(not(zero(ptr, fn)), "%s: " FN " in the CPU profile's functions", what);
	cr_assert(ge(i64, tu_int(fn, "self_samples"), MIN_SAMPLES), "%s: " FN "'s self samples", what);
	if (lines) {
		cr_assert(tu_ends_with(tu_str(fn, "file"), "/tests/progs/debuginfo.c"), "%s: " FN "'s file", what);
		cr_assert(eq(i64, tu_int(fn, "line"), tu_marker_line(SRC, "@burn")), "%s: " FN "'s hottest line", what);
	}
}

/* No name: the leak's frame 0 is module+offset inside burn_and_leak's
 * code, the text (when given) shows it so, and the CPU profile has the
 * module's unnamed entry where burn_and_leak would be. */
static void assert_unnamed(json_t *report, const char *text, const char *module, const char *what)
{
	json_t *f0 = leak_frame0(report, what), *fn = cpu_fn(report, NULL, module);
	unsigned long long lo, hi, off = (unsigned long long)tu_int(f0, "offset");
	char want[64];

	fn_range(&lo, &hi);
	cr_assert(zero(ptr, (void *)tu_frame_str(f0, "function")), "%s: no name, got %s", what,
		  tu_frame_str(f0, "function"));
	cr_assert(zero(ptr, (void *)tu_frame_str(f0, "file")), "%s: no file", what);
	cr_assert(tu_ends_with(tu_frame_str(f0, "module"), module), "%s: the module", what);
	cr_assert(off >= lo && off < hi, "%s: offset 0x%llx in " FN " [0x%llx, 0x%llx)", what, off, lo, hi);
	cr_assert(zero(ptr, cpu_fn(report, FN, NULL)), "%s: " FN " unknown to the CPU profile", what);
	cr_assert(not(zero(ptr, fn)), "%s: the CPU profile's unnamed entry of the module", what);
	cr_assert(ge(i64, tu_int(fn, "self_samples"), MIN_SAMPLES), "%s: its self samples", what);
	if (text) {
		snprintf(want, sizeof(want), "?? (%s+0x%llx)", module + 1, off);
		cr_assert(not(zero(ptr, strstr(text, want))), "%s: the text shows %s:\n%s", what, want, text);
	}
}

/* ptrace-run [args] on a program; the JSON report and the text report
 * (from -o TOP/run.txt, malloc'd into *text when text is not NULL). */
static void run_prog(struct tu_run *r, const char *const *env, const char *const *args, char **text)
{
	const char *argv[32];
	size_t n = 0;

	argv[n++] = "-o";
	argv[n++] = P("run.txt");
	for (size_t i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	tu_profile(r, env, argv);
	cr_assert(eq(int, r->exit_code, 0), "the run's exit code; stderr: %s", r->err);
	if (text)
		cr_assert(not(zero(ptr, *text = tu_read_file(P("run.txt"), NULL))), "the text report");
}

/* ptrace-run report --format=json [args] PROFILE. */
static json_t *report_json(const char *const *env, const char *const *args, const char *what)
{
	const char *argv[16];
	struct tu_opts o = {.env = env};
	struct tu_run r;
	size_t n = 0;
	json_t *j;

	argv[n++] = TU_LAUNCHER;
	argv[n++] = "report";
	argv[n++] = "--format=json";
	for (size_t i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	tu_run(&r, &o, argv);
	cr_assert(eq(int, r.exit_code, 0), "%s: exit code; stderr: %s", what, r.err);
	j = json_of(&r, what);
	tu_run_free(&r);
	return j;
}

Test(e2e_debuginfo, a_stripped_program_shows_module_and_offset)
{
	struct tu_run r;
	char *text;

	make_stripped();
	run_prog(&r, NULL, TU_LIST("--", P("bin/stripped")), &text);
	assert_unnamed(r.json, text, "/stripped", "stripped, no debug file");
	free(text);
	tu_run_free(&r);
}

Test(e2e_debuginfo, debug_dir_finds_the_debug_file_by_build_id)
{
	struct tu_run r;
	char *text, want[600];

	make_stripped();
	place_by_build_id(P("dbg"));
	run_prog(&r, NULL, TU_LIST("--debug-dir", P("dbg"), "--", P("bin/stripped")), &text);
	assert_named(r.json, "/stripped", 1, "--debug-dir, by build-id");
	snprintf(want, sizeof(want), FN " (%s/" SRC ":%d)", sh_line("pwd"), tu_marker_line(SRC, "@leak"));
	cr_assert(not(zero(ptr, strstr(text, want))), "the text's leak names %s:\n%s", want, text);
	free(text);
	tu_run_free(&r);
	/* The variable says the same. */
	snprintf(want, sizeof(want), "PTRACE_DEBUG_DIR=%s", P("dbg"));
	run_prog(&r, TU_LIST(want), TU_LIST("--", P("bin/stripped")), NULL);
	assert_named(r.json, "/stripped", 1, "PTRACE_DEBUG_DIR, by build-id");
	tu_run_free(&r);
}

Test(e2e_debuginfo, debug_dir_finds_the_debug_file_by_debuglink)
{
	struct tu_run r;
	char sub[300];

	make_stripped();
	/* A .gnu_debuglink naming full.debug, which is then only at
	 * DIR/<the module's directory>/full.debug. */
	sh("objcopy --add-gnu-debuglink=work/full.debug bin/stripped bin/linked");
	snprintf(sub, sizeof(sub), "dbg%s", P("bin"));
	sh("mkdir -p '%s' && mv work/full.debug '%s/'", sub, sub);
	run_prog(&r, NULL, TU_LIST("--", P("bin/linked")), NULL);
	assert_unnamed(r.json, NULL, "/linked", "a debuglink, no --debug-dir");
	tu_run_free(&r);
	run_prog(&r, TU_LIST("PTRACE_DEBUG_DIR=/nonexistent-ptrace-dir"),
		 TU_LIST("--debug-dir", P("dbg"), "--", P("bin/linked")), NULL);
	assert_named(r.json, "/linked", 1, "--debug-dir, by debuglink (the flag wins over the variable)");
	tu_run_free(&r);
}

Test(e2e_debuginfo, report_with_a_debug_dir_names_a_profile_recorded_without)
{
	char prof[300], env[300], *text;
	struct tu_run r, t;
	json_t *j;

	snprintf(prof, sizeof(prof), "%s", P("run.ptrace"));
	make_stripped();
	place_by_build_id(P("dbg"));
	run_prog(&r, NULL, TU_LIST("-p", prof, "--", P("bin/stripped")), &text);
	assert_unnamed(r.json, text, "/stripped", "the run");
	tu_run_free(&r);
	/* Without a debug source, report opens no file: the run's report. */
	tu_run(&t, NULL, TU_LIST(TU_LAUNCHER, "report", prof));
	cr_assert(eq(int, t.exit_code, 0), "report; stderr: %s", t.err);
	cr_assert(eq(str, t.out, text), "report without --debug-dir is the run's text");
	tu_run_free(&t);
	j = report_json(NULL, TU_LIST("--debug-dir", P("dbg"), prof), "report --debug-dir");
	assert_named(j, "/stripped", 1, "report --debug-dir");
	json_decref(j);
	snprintf(env, sizeof(env), "PTRACE_DEBUG_DIR=%s", P("dbg"));
	j = report_json(TU_LIST(env), TU_LIST(prof), "PTRACE_DEBUG_DIR=DIR report");
	assert_named(j, "/stripped", 1, "PTRACE_DEBUG_DIR=DIR report");
	json_decref(j);
	/* A file replaced since the run (another build id) is not believed. */
	sh("cp '%s/%s' bin/stripped.new && mv bin/stripped.new bin/stripped && strip bin/stripped", sh_line("pwd"),
	   TU_PROG("heap_counts"));
	j = report_json(NULL, TU_LIST("--debug-dir", P("dbg"), prof), "report --debug-dir, the file replaced");
	assert_unnamed(j, NULL, "/stripped", "report --debug-dir, the file replaced");
	json_decref(j);
	free(text);
}

/* Bad values: one line naming them, exit 2, before anything runs. */
Test(e2e_debuginfo, a_bad_debug_dir_is_one_line_and_exit_2)
{
	static const char *const want_run =
	    "ptrace-run: --debug-dir=/nonexistent-ptrace-dir: /nonexistent-ptrace-dir: No such file or directory "
	    "(expected existing directories, separated by ':')\n";
	char want[600], env[300];
	struct tu_run r;

	make_stripped();
	tu_run(&r, NULL,
	       TU_LIST(TU_LAUNCHER, "-p", P("never.ptrace"), "--debug-dir=/nonexistent-ptrace-dir", "--",
		       P("bin/stripped")));
	cr_assert(eq(int, r.exit_code, 2), "exit code");
	cr_assert(eq(str, r.err, (char *)want_run), "one line naming the directory");
	cr_assert(eq(int, access(P("never.ptrace"), F_OK), -1), "the program never ran: no profile file");
	tu_run_free(&r);

	snprintf(env, sizeof(env), "PTRACE_DEBUG_DIR=%s", P("bin/stripped"));
	tu_run(&r, &(struct tu_opts){.env = TU_LIST(env)}, TU_LIST(TU_LAUNCHER, "--", P("bin/stripped")));
	snprintf(want, sizeof(want),
		 "ptrace-run: %s: %s: not a directory (expected existing directories, separated by ':')\n", env,
		 P("bin/stripped"));
	cr_assert(eq(int, r.exit_code, 2), "exit code");
	cr_assert(eq(str, r.err, want), "one line naming the variable");
	tu_run_free(&r);

	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "report", "--debug-dir=/nonexistent-ptrace-dir", P("none.ptrace")));
	cr_assert(eq(int, r.exit_code, 2), "report: exit code");
	cr_assert(eq(str, r.err,
		     "ptrace-run report: --debug-dir=/nonexistent-ptrace-dir: /nonexistent-ptrace-dir: No such file or "
		     "directory (expected existing directories, separated by ':')\n"),
		  "report: one line naming the directory");
	tu_run_free(&r);
}

/*
 * MiniDebugInfo, as Fedora makes it (gdb's manual, "MiniDebugInfo"): the
 * function symbols .dynsym lacks, xz-compressed into .gnu_debugdata of
 * the stripped file. libdwfl reads it when no other symbol table is
 * found: a name, no file or line.
 */
Test(e2e_debuginfo, minidebuginfo_gives_the_name_without_a_line)
{
	struct tu_run r;

	make_stripped();
	sh("nm -D '%1$s/%2$s' --format=posix --defined-only | awk '{ print $1 }' | sort > work/dynsyms && "
	   "nm '%1$s/%2$s' --format=posix --defined-only | awk '{ if ($2 == \"T\" || $2 == \"t\" || $2 == \"D\") print "
	   "$1 }' "
	   "| sort > work/funcsyms && comm -13 work/dynsyms work/funcsyms > work/keep && "
	   "objcopy -S --remove-section .gdb_index --remove-section .comment --keep-symbols=work/keep work/full.debug "
	   "work/mini && xz work/mini && cp bin/stripped bin/mini && "
	   "objcopy --add-section .gnu_debugdata=work/mini.xz bin/mini",
	   sh_line("pwd"), PROG);
	run_prog(&r, NULL, TU_LIST("--", P("bin/mini")), NULL);
	assert_named(r.json, "/mini", 0, "MiniDebugInfo");
	tu_run_free(&r);
}

/* --- debuginfod ----------------------------------------------------------- */

static int loopback_socket(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert(ge(int, fd, 0), "socket: %s", strerror(errno));
	cr_assert(eq(int, bind(fd, (struct sockaddr *)&a, sizeof(a)), 0), "bind: %s", strerror(errno));
	cr_assert(eq(int, getsockname(fd, (struct sockaddr *)&a, &len), 0), "getsockname");
	*port = ntohs(a.sin_port);
	return fd;
}

/* The HTTP status of GET path from 127.0.0.1:port; -1 when none came. */
static int http_status(int port, const char *path)
{
	struct sockaddr_in a = {
	    .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct timeval tv = {2, 0};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), code = -1;
	char buf[64];
	ssize_t n;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    dprintf(fd, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path) > 0 &&
	    (n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		if (sscanf(buf, "HTTP/%*s %d", &code) != 1)
			code = -1;
	}
	close(fd);
	return code;
}

/* debuginfod -F over dir on a free port, once it serves id's debug info
 * (a bounded wait); its port. It dies with this test (process group,
 * parent-death signal, the suite's end). */
static int server_start(const char *dir, const char *id)
{
	char port_s[16], path[160], *log;
	long long end = tu_now_ms() + 10000;
	int port, fd = loopback_socket(&port), st;

	close(fd); /* free now; debuginfod binds it next (all addresses: 0.188 has no option for one) */
	snprintf(port_s, sizeof(port_s), "%d", port);
	fx.server = fork();
	cr_assert(ge(int, fx.server, 0), "fork: %s", strerror(errno));
	if (fx.server == 0) {
		int out = open(P("server.log"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600),
		    in = open("/dev/null", O_RDONLY | O_CLOEXEC);

		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (out < 0 || in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
			_exit(125);
		execlp("debuginfod", "debuginfod", "-F", "-p", port_s, "-d", P("server.sqlite"), "-t", "0", dir,
		       (char *)NULL);
		dprintf(2, "debuginfod: %s (scripts/install-deps.sh installs the debuginfod package)\n",
			strerror(errno));
		_exit(127);
	}
	setpgid(fx.server, fx.server);
	snprintf(path, sizeof(path), "/buildid/%s/debuginfo", id);
	while (tu_now_ms() < end) {
		if (waitpid(fx.server, &st, WNOHANG) == fx.server) {
			fx.server = 0;
			log = tu_read_file(P("server.log"), NULL);
			cr_assert(0, "debuginfod exited (status 0x%x): %s", st, log ? log : "");
		}
		if (http_status(port, path) == 200)
			return port;
		usleep(100000);
	}
	log = tu_read_file(P("server.log"), NULL);
	cr_assert(0, "debuginfod did not serve %s within 10 s: %s", path, log ? log : "");
	return -1;
}

static long long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

Test(e2e_debuginfo, debuginfod_names_the_run_and_report_then_its_cache_does, .timeout = 60)
{
	char url[64], cache[300], cache2[300], empty[300], cached[400], prof[300];
	struct tu_run r;
	const char *id;
	json_t *j;
	int port;

	snprintf(prof, sizeof(prof), "%s", P("offline.ptrace"));
	make_stripped();
	sh("mkdir srv && cp '%s/%s' srv/", sh_line("pwd"), PROG);
	id = build_id(P("bin/stripped"));
	snprintf(cached, sizeof(cached), "%s/cache/%s/debuginfo", fx.top, id);
	port = server_start(P("srv"), id);
	snprintf(url, sizeof(url), "DEBUGINFOD_URLS=http://127.0.0.1:%d", port);
	snprintf(cache, sizeof(cache), "DEBUGINFOD_CACHE_PATH=%s", P("cache"));
	snprintf(cache2, sizeof(cache2), "DEBUGINFOD_CACHE_PATH=%s", P("cache2"));
	snprintf(empty, sizeof(empty), "DEBUGINFOD_CACHE_PATH=%s", P("empty"));

	/* The run: the executable's own debug file, through our find_debuginfo. */
	run_prog(&r, TU_LIST(url, cache), TU_LIST("--", P("bin/stripped")), NULL);
	assert_named(r.json, "/stripped", 1, "the run with DEBUGINFOD_URLS");
	tu_run_free(&r);
	cr_assert(gt(i64, file_size(cached), 0), "the debug file is in the client cache: %s", cached);

	/* A profile recorded offline, named by report through the server... */
	run_prog(&r, NULL, TU_LIST("-p", prof, "--", P("bin/stripped")), NULL);
	assert_unnamed(r.json, NULL, "/stripped", "recorded without debuginfod");
	tu_run_free(&r);
	j = report_json(TU_LIST(url, cache2), TU_LIST(prof), "report with DEBUGINFOD_URLS");
	assert_named(j, "/stripped", 1, "report with DEBUGINFOD_URLS");
	json_decref(j);
	/* ...then by its cache, the server gone; an empty cache names nothing. */
	server_stop();
	j = report_json(TU_LIST(url, cache2), TU_LIST(prof), "report, the server gone, from the cache");
	assert_named(j, "/stripped", 1, "report, the server gone, from the cache");
	json_decref(j);
	j = report_json(TU_LIST(url, empty), TU_LIST(prof), "report, the server gone, an empty cache");
	assert_unnamed(j, NULL, "/stripped", "report, the server gone, an empty cache");
	json_decref(j);
}

/* A server that accepts connections and never answers: libdebuginfod
 * alone would wait DEBUGINFOD_TIMEOUT three times for every module. */
Test(e2e_debuginfo, a_debuginfod_server_that_never_answers_costs_one_timeout, .timeout = 60)
{
	static const char *const warning = "ptrace-run: debuginfod: no answer for 2 s (DEBUGINFOD_TIMEOUT): this "
					   "report asks DEBUGINFOD_URLS no more\n";
	char url[64], cache[300], negative[400], prof[300];
	long long t0, ms;
	struct tu_run r;
	struct tu_opts o;
	int port;

	snprintf(prof, sizeof(prof), "%s", P("run.ptrace"));
	make_stripped();
	fx.hang_fd = loopback_socket(&port);
	cr_assert(eq(int, listen(fx.hang_fd, 64), 0), "listen");
	snprintf(url, sizeof(url), "DEBUGINFOD_URLS=http://127.0.0.1:%d", port);
	snprintf(cache, sizeof(cache), "DEBUGINFOD_CACHE_PATH=%s", P("cache"));
	snprintf(negative, sizeof(negative), "%s/cache/%s", fx.top, build_id(P("bin/stripped")));

	t0 = tu_now_ms();
	run_prog(&r, TU_LIST(url, cache, "DEBUGINFOD_TIMEOUT=2"), TU_LIST("-p", prof, "--", P("bin/stripped")), NULL);
	ms = tu_now_ms() - t0;
	assert_unnamed(r.json, NULL, "/stripped", "the run, the server silent");
	cr_assert(eq(str, r.err, (char *)warning), "one line on stderr");
	cr_assert(lt(i64, ms, 7000), "one timeout of 2 s, not one per module and retry: took %lld ms", ms);
	cr_assert(eq(int, access(negative, F_OK), -1), "no miss recorded in the cache for a query cut short");
	tu_run_free(&r);

	o = (struct tu_opts){.env = TU_LIST(url, cache, "DEBUGINFOD_TIMEOUT=2")};
	t0 = tu_now_ms();
	tu_run(&r, &o, TU_LIST(TU_LAUNCHER, "report", "--format=json", prof));
	ms = tu_now_ms() - t0;
	cr_assert(eq(int, r.exit_code, 0), "report: exit code; stderr: %s", r.err);
	cr_assert(eq(str, r.err, (char *)warning), "report: one line on stderr");
	cr_assert(lt(i64, ms, 6000), "report: one timeout of 2 s: took %lld ms", ms);
	tu_run_free(&r);
}
