/*
 * End-to-end profile files (issue 9): every run leaves one, `ptrace-run
 * report` renders it again byte for byte (also after the program's binary
 * is gone), report-time options apply, and a corrupt or truncated file
 * gets one clear line and exit status 2.
 */
#include <sys/stat.h>

#include "testutil.h"

#define TU_OPTS(...) (&(struct tu_opts){__VA_ARGS__})

/* A fresh directory under /tmp; malloc'ed path. */
static char *scratch(void)
{
	char *d = strdup("/tmp/ptrace-e2e-prof-XXXXXX");

	cr_assert(d && mkdtemp(d), "mkdtemp: %s", strerror(errno));
	return d;
}

static void rm_dir(const char *dir)
{
	char *cmd = NULL;

	cr_assert(asprintf(&cmd, "rm -rf '%s'", dir) > 0, "asprintf");
	cr_assert(system(cmd) == 0, "%s", cmd);
	free(cmd);
}

static char *path_in(const char *dir, const char *name)
{
	char *p = NULL;

	cr_assert(asprintf(&p, "%s/%s", dir, name) > 0, "asprintf");
	return p;
}

/* Run prog under ptrace-run with -o, --json and -p into dir (plus extra
 * options), then `report` the profile as text and as JSON (with the same
 * extra options): both equal to the run's own, byte for byte. */
static void same_as_run_with(const char *prog, const char *arg, const char *extra)
{
	char *dir = scratch(), *text = path_in(dir, "run.txt"), *json = path_in(dir, "run.json"),
	     *prof = path_in(dir, "run.ptrace");
	char *want_text, *want_json;
	struct tu_run r, rt, rj;

	tu_run(&r, NULL,
	       TU_LIST(TU_LAUNCHER, "-o", text, "--json", json, "-p", prof, extra ? extra : "--cpu-hz=1000", "--", prog, arg));
	cr_assert(eq(int, r.exit_code, 0), "%s: the run; stderr: %s", prog, r.err);
	want_text = tu_read_file(text, NULL);
	want_json = tu_read_file(json, NULL);
	cr_assert(want_text && want_json, "%s: the run's reports", prog);
	tu_run(&rt, NULL, TU_LIST(TU_LAUNCHER, "report", extra ? extra : "--", prof));
	cr_assert(eq(int, rt.exit_code, 0), "%s: report; stderr: %s", prog, rt.err);
	cr_assert(eq(str, rt.out, want_text), "%s: report's text is the run's", prog);
	tu_run(&rj, NULL, TU_LIST(TU_LAUNCHER, "report", "--format=json", extra ? extra : "--", prof));
	cr_assert(eq(int, rj.exit_code, 0), "%s: report --format=json; stderr: %s", prog, rj.err);
	cr_assert(eq(str, rj.out, want_json), "%s: report's JSON is the run's", prog);
	tu_run_free(&r);
	tu_run_free(&rt);
	tu_run_free(&rj);
	free(want_text);
	free(want_json);
	rm_dir(dir);
	free(text);
	free(json);
	free(prof);
	free(dir);
}

static void same_as_run(const char *prog, const char *extra)
{
	same_as_run_with(prog, NULL, extra);
}

Test(e2e_profile, report_reproduces_a_heap_profile) { same_as_run(TU_PROG("demo_leak"), NULL); }
Test(e2e_profile, report_reproduces_function_timing_and_cpu) { same_as_run(TU_PROG("fi_cpu_shares"), NULL); }
Test(e2e_profile, report_reproduces_cxx_names) { same_as_run(TU_PROG("fi_names"), NULL); }
Test(e2e_profile, report_reproduces_threads) { same_as_run(TU_PROG("fi_threads"), NULL); }
Test(e2e_profile, report_reproduces_fork_and_exec) { same_as_run(TU_PROG("fork_exec"), NULL); }
Test(e2e_profile, report_applies_the_same_filter) { same_as_run(TU_PROG("fi_fib"), "--filter=fib"); }
/* A run long enough for the live reader to load the modules' names in
 * its own order, whose sites lie in a library: the replay must find each
 * name where the recording put it (before: 247 lines of "??"). */
Test(e2e_profile, report_reproduces_names_in_dlopened_libraries, .timeout = 60)
{
	same_as_run_with(TU_PROG("dlopen_cxx"), "20000", NULL);
}

/* The names of processes[0].functions in a JSON report, sorted, joined
 * with commas (static buffer). */
static const char *fn_names(const char *json_text)
{
	static char buf[1024];
	json_error_t jerr;
	json_t *j = json_loads(json_text, 0, &jerr), *fns;
	const char *names[64];
	size_t n = 0;

	cr_assert(j != NULL, "JSON: %s", jerr.text);
	fns = tu_arr(tu_proc(j, 0), "functions");
	for (size_t i = 0; i < json_array_size(fns) && n < 64; i++)
		names[n++] = json_string_value(json_object_get(json_array_get(fns, i), "name"));
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && strcmp(names[k - 1], names[k]) > 0; k--) {
			const char *t = names[k];
			names[k] = names[k - 1];
			names[k - 1] = t;
		}
	buf[0] = 0;
	for (size_t i = 0; i < n; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? "," : "", names[i]);
	json_decref(j);
	return buf;
}

/* The filter is the report's: without it the same file shows every function. */
Test(e2e_profile, report_time_filter_is_the_reports)
{
	char *dir = scratch(), *prof = path_in(dir, "fib.ptrace");
	struct tu_run r, all, fib;

	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "-q", "-p", prof, "--", TU_PROG("fi_fib")));
	cr_assert(eq(int, r.exit_code, 0), "the run; stderr: %s", r.err);
	tu_run(&all, NULL, TU_LIST(TU_LAUNCHER, "report", "--format=json", prof));
	tu_run(&fib, NULL, TU_LIST(TU_LAUNCHER, "report", "--format=json", "--filter=fib", prof));
	cr_assert(eq(int, all.exit_code, 0), "report; stderr: %s", all.err);
	cr_assert(eq(int, fib.exit_code, 0), "report --filter; stderr: %s", fib.err);
	cr_assert(eq(str, (char *)fn_names(all.out), "fib,leaf,loop,main"), "without a filter every function");
	cr_assert(eq(str, (char *)fn_names(fib.out), "fib"), "--filter=fib: fib alone");
	tu_run_free(&r);
	tu_run_free(&all);
	tu_run_free(&fib);
	rm_dir(dir);
	free(prof);
	free(dir);
}

/* The names were resolved at record time: the binary can go. */
Test(e2e_profile, report_after_the_binary_is_deleted)
{
	char *dir = scratch(), *bin = path_in(dir, "demo_leak"), *text = path_in(dir, "run.txt"),
	     *prof = path_in(dir, "run.ptrace"), *cmd = NULL, *want;
	struct tu_run r, rt;

	cr_assert(asprintf(&cmd, "cp %s '%s'", TU_PROG("demo_leak"), bin) > 0 && system(cmd) == 0, "copy");
	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "-o", text, "-p", prof, "--", bin));
	cr_assert(eq(int, r.exit_code, 0), "the run; stderr: %s", r.err);
	cr_assert(unlink(bin) == 0, "rm the binary");
	want = tu_read_file(text, NULL);
	cr_assert(want && strstr(want, "parse_line") != NULL, "the run names parse_line");
	tu_run(&rt, NULL, TU_LIST(TU_LAUNCHER, "report", prof));
	cr_assert(eq(int, rt.exit_code, 0), "report; stderr: %s", rt.err);
	cr_assert(eq(str, rt.out, want), "the same text without the binary");
	tu_run_free(&r);
	tu_run_free(&rt);
	free(want);
	free(cmd);
	rm_dir(dir);
	free(bin);
	free(text);
	free(prof);
	free(dir);
}

/* By default: ptrace-run.<program>.<pid>.ptrace in the current directory,
 * made once the program has exited (ls lists the directory empty), 0600. */
Test(e2e_profile, default_file_appears_after_the_program_exits)
{
	char *dir = scratch(), *json = tu_tmpfile("profjson"), *cmd = NULL, *name = NULL, *path;
	struct tu_run r;
	struct stat st;
	json_t *j;
	json_error_t jerr;
	long long pid;

	cr_assert(asprintf(&cmd, "cd '%s' && exec %s/build/ptrace-run -q --json='%s' -- ls -a", dir,
			   getcwd((char[4096]){0}, 4096), json) > 0,
		  "asprintf");
	tu_run(&r, TU_OPTS(.env = TU_LIST("PTRACE_SAVE_PROFILE=1")), TU_LIST("/bin/sh", "-c", cmd));
	cr_assert(eq(int, r.exit_code, 0), "the run; stderr: %s", r.err);
	cr_assert(eq(str, r.out, ".\n..\n"), "the program saw no profile file");
	j = json_load_file(json, 0, &jerr);
	cr_assert(j != NULL, "the JSON: %s", jerr.text);
	pid = tu_int(tu_proc(j, 0), "pid");
	cr_assert(asprintf(&name, "ptrace-run.ls.%lld.ptrace", pid) > 0, "asprintf");
	path = path_in(dir, name);
	cr_assert(stat(path, &st) == 0, "%s exists", name);
	cr_assert(eq(int, st.st_mode & 0777, 0600), "mode 0600");
	json_decref(j);
	tu_run_free(&r);
	unlink(json);
	rm_dir(dir);
	free(path);
	free(name);
	free(cmd);
	free(json);
	free(dir);
}

/* --no-profile and PTRACE_SAVE_PROFILE=0: no file at all. */
Test(e2e_profile, no_profile_writes_none)
{
	char *dir = scratch(), *cmd = NULL, cwd[4096];
	struct tu_run a, ls;

	cr_assert(getcwd(cwd, sizeof(cwd)) != NULL, "getcwd");
	cr_assert(asprintf(&cmd, "cd '%s' && %s/build/ptrace-run -q --no-profile -- true && "
				 "PTRACE_SAVE_PROFILE=0 %s/build/ptrace-run -q -- true",
			   dir, cwd, cwd) > 0,
		  "asprintf");
	tu_run(&a, TU_OPTS(.env = TU_LIST("PTRACE_SAVE_PROFILE=1")), TU_LIST("/bin/sh", "-c", cmd));
	cr_assert(eq(int, a.exit_code, 0), "the runs; stderr: %s", a.err);
	tu_run(&ls, NULL, TU_LIST("/bin/ls", "-A", dir));
	cr_assert(eq(str, ls.out, ""), "no file: %s", ls.out);
	tu_run_free(&a);
	tu_run_free(&ls);
	rm_dir(dir);
	free(cmd);
	free(dir);
}

/* A profile that cannot be written: one warning, the program's status. */
Test(e2e_profile, unwritable_profile_warns_and_the_run_goes_on)
{
	char cwd[4096], *cmd = NULL;
	struct tu_run r;

	cr_assert(getcwd(cwd, sizeof(cwd)) != NULL, "getcwd");
	cr_assert(asprintf(&cmd, "cd /proc && exec %s/build/ptrace-run -q -- %s/build/progs/exit_code 3", cwd, cwd) >
			  0,
		  "asprintf");
	tu_run(&r, TU_OPTS(.env = TU_LIST("PTRACE_SAVE_PROFILE=1")), TU_LIST("/bin/sh", "-c", cmd));
	cr_assert(eq(int, r.exit_code, 3), "the program's exit status; stderr: %s", r.err);
	cr_assert(strstr(r.err, "ptrace-run: cannot write the profile ptrace-run.exit_code.") == r.err,
		  "one warning: %s", r.err);
	cr_assert(eq(int, (int)(strchr(r.err, '\n') - r.err + 1), (int)strlen(r.err)), "one line: %s", r.err);
	tu_run_free(&r);
	free(cmd);
}

Test(e2e_profile, profile_and_report_file_cannot_be_one)
{
	char *f = tu_tmpfile("same");
	struct tu_run r;

	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "-o", f, "-p", f, "--", "true"));
	cr_assert(eq(int, r.exit_code, 2), "refused; stderr: %s", r.err);
	cr_assert(strstr(r.err, "is also a report file") != NULL, "says why: %s", r.err);
	tu_run_free(&r);
	unlink(f);
	free(f);
}

/* `report` on something that is not a good profile: one line, rc 2. */
static void bad_profile(const char *path, const char *why)
{
	struct tu_run r;
	char *want = NULL;

	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "report", path));
	cr_assert(eq(int, r.exit_code, 2), "%s: rc 2; stderr: %s", why, r.err);
	cr_assert(eq(str, r.out, ""), "%s: nothing on stdout", why);
	cr_assert(asprintf(&want, "ptrace-run report: %s: %s\n", path, why) > 0, "asprintf");
	cr_assert(eq(str, r.err, want), "%s: the line", why);
	tu_run_free(&r);
	free(want);
}

static void write_bytes(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	cr_assert(fd >= 0 && write(fd, data, len) == (ssize_t)len, "write %s", path);
	close(fd);
}

Test(e2e_profile, corrupt_and_truncated_profiles_get_one_line)
{
	char *dir = scratch(), *prof = path_in(dir, "good.ptrace"), *bad = path_in(dir, "bad.ptrace");
	struct tu_run r;
	unsigned char *data;
	size_t len;

	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "-q", "-p", prof, "--", TU_PROG("demo_leak")));
	cr_assert(eq(int, r.exit_code, 0), "the run; stderr: %s", r.err);
	data = (unsigned char *)tu_read_file(prof, &len);
	cr_assert(data && len > 200, "the profile");

	write_bytes(bad, "", 0);
	bad_profile(bad, "not a ptrace-run profile");
	write_bytes(bad, "hello, world\n", 13);
	bad_profile(bad, "not a ptrace-run profile");
	write_bytes(bad, data, 12);
	bad_profile(bad, "truncated");
	write_bytes(bad, data, 24);
	bad_profile(bad, "truncated");
	write_bytes(bad, data, len / 2);
	bad_profile(bad, "truncated");
	write_bytes(bad, data, len - 1);
	bad_profile(bad, "truncated");
	data[len / 2] ^= 0x40; /* the frame's checksum catches it */
	write_bytes(bad, data, len);
	bad_profile(bad, "corrupt: the compressed data does not decompress");
	data[len / 2] ^= 0x40;
	data[8] = 7; /* format version */
	write_bytes(bad, data, len);
	bad_profile(bad, "a profile of format version 7 (this ptrace-run reads 1 to 3)");
	bad_profile(dir, "not a regular file");
	bad_profile("/nonexistent/x.ptrace", "No such file or directory");
	cr_assert(mkfifo(bad, 0600) == 0 || (unlink(bad) == 0 && mkfifo(bad, 0600) == 0), "mkfifo");
	bad_profile(bad, "not a regular file");
	tu_run_free(&r);
	free(data);
	rm_dir(dir);
	free(prof);
	free(bad);
	free(dir);
}

Test(e2e_profile, report_usage_errors)
{
	struct tu_run r;

	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "report"));
	cr_assert(eq(int, r.exit_code, 2), "no file: rc 2");
	cr_assert(eq(str, r.err,
		     "ptrace-run report: no profile file given (usage: ptrace-run report [options] PROFILE)\n"),
		  "no file: the line");
	tu_run_free(&r);
	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "report", "--format=svg", "x.ptrace"));
	cr_assert(eq(int, r.exit_code, 2), "bad format: rc 2");
	cr_assert(eq(str, r.err, "ptrace-run report: --format=svg: expected text, json, csv, folded, pprof, callgrind, massif, chrome or html\n"), "bad format: the line");
	tu_run_free(&r);
	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "report", "--frobnicate", "x.ptrace"));
	cr_assert(eq(int, r.exit_code, 2), "unknown option: rc 2");
	cr_assert(eq(str, r.err, "ptrace-run report: unknown option --frobnicate (see ptrace-run report --help)\n"),
		  "unknown option: the line");
	tu_run_free(&r);
}

/* Many processes: text starts as a summary per executable; --pid, --exe
 * and --all pick. short_procs 12 100: the parent and 12 fork children. */
Test(e2e_profile, many_processes_summary_and_selection, .timeout = 60)
{
	char *dir = scratch(), *prof = path_in(dir, "many.ptrace"), *text = path_in(dir, "run.txt"), *want;
	struct tu_run r, s, all, one, bad;
	json_error_t jerr;
	json_t *j;
	long long pid1;

	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "-o", text, "-p", prof, "--cpu-hz=0", "--", TU_PROG("short_procs"), "12", "100"));
	cr_assert(eq(int, r.exit_code, 0), "the run; stderr: %s", r.err);
	tu_run(&s, NULL, TU_LIST(TU_LAUNCHER, "report", prof));
	cr_assert(eq(int, s.exit_code, 0), "report; stderr: %s", s.err);
	cr_assert(strstr(s.out, "\n13 processes of 1 executables, by CPU samples:\n") != NULL, "the summary: %s", s.out);
	cr_assert(strstr(s.out, "short_procs: 13 processes, wall ") != NULL, "one line for them: %s", s.out);
	cr_assert(strstr(s.out, "-- process ") == NULL, "no process section");
	tu_run(&all, NULL, TU_LIST(TU_LAUNCHER, "report", "--all", prof));
	want = tu_read_file(text, NULL);
	cr_assert(eq(str, all.out, want), "--all: the run's own text");
	tu_run(&one, NULL, TU_LIST(TU_LAUNCHER, "report", "--format=json", "--exe=short_procs", prof));
	j = json_loads(one.out, 0, &jerr);
	cr_assert(j != NULL, "--exe: JSON");
	cr_assert(eq(sz, json_array_size(tu_arr(j, "processes")), 13), "--exe: all 13");
	pid1 = tu_int(tu_proc(j, 1), "pid");
	json_decref(j);
	tu_run_free(&one);
	{
		char *sel = NULL;

		cr_assert(asprintf(&sel, "--pid=%lld", pid1) > 0, "asprintf");
		tu_run(&one, NULL, TU_LIST(TU_LAUNCHER, "report", "--format=json", sel, prof));
		free(sel);
	}
	j = json_loads(one.out, 0, &jerr);
	cr_assert(j != NULL, "--pid: JSON");
	cr_assert(eq(sz, json_array_size(tu_arr(j, "processes")), 1), "--pid: one process");
	cr_assert(eq(i64, tu_int(tu_proc(j, 0), "pid"), pid1), "--pid: that one");
	json_decref(j);
	tu_run(&bad, NULL, TU_LIST(TU_LAUNCHER, "report", "--exe=nosuch", prof));
	cr_assert(eq(int, bad.exit_code, 2), "--exe matching nothing: rc 2");
	cr_assert(strstr(bad.err, "no process matches --pid/--exe (it has 13)") != NULL, "says so: %s", bad.err);
	tu_run_free(&r);
	tu_run_free(&s);
	tu_run_free(&all);
	tu_run_free(&one);
	tu_run_free(&bad);
	free(want);
	rm_dir(dir);
	free(prof);
	free(text);
	free(dir);
}
