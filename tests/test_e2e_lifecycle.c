/*
 * End-to-end process life at its edges (issue 8): fork children of a
 * threaded program that end while another thread held the loader's lock,
 * children exec'd or spawned with an environment of their own, execs
 * that cannot be followed (secure mode), a daemon's parent's end, and the
 * agent inside a set-user-ID program.
 */
#include <sys/mman.h>

#include "session.h"
#include "testutil.h"

/* The program run without ptrace-run: its stdout and exit code. */
static void native(struct tu_run *r, const char *const *argv)
{
	tu_run(r, NULL, argv);
	cr_assert(eq(int, r->timed_out, 0), "the program timed out natively");
}

/*
 * Other threads loop dlopen/dlclose and dl_iterate_phdr while the main
 * thread forks 200 children that end at once (_exit, exit): a child that
 * touched the loader's lock (held for ever by a thread that is gone) at
 * its exit hung. With CPU sampling on, a sample landing in the program's
 * dl_iterate_phdr callback deadlocked the parent too (libunwind takes a
 * lock of its own, then the loader's): such a thread is not unwound.
 */
static void fork_dl_race(const char *cpu_hz)
{
	struct tu_run n, r;

	native(&n, TU_LIST(TU_PROG("fork_dl_race"), TU_PROG("libplugin.so")));
	tu_profile(&r, NULL, TU_LIST("-q", cpu_hz, "--", TU_PROG("fork_dl_race"), TU_PROG("libplugin.so")));
	cr_assert(eq(int, r.exit_code, n.exit_code), "%s: exit code as native; stderr: %s", cpu_hz, r.err);
	cr_assert(eq(str, r.out, n.out), "%s: stdout as native", cpu_hz);
	cr_assert(eq(str, r.out, "children 200, statuses ok\n"), "%s: every child ended with its status", cpu_hz);
	cr_assert(eq(sz, json_array_size(tu_arr(r.json, "processes")), 201), "%s: the program and its 200 children",
		  cpu_hz);
	for (size_t i = 1; i < 201; i++) {
		json_t *p = tu_proc(r.json, i);

		cr_assert(tu_bool(p, "forked"), "%s: processes[%zu] forked", cpu_hz, i);
		cr_assert(eq(i64, tu_int(p, "exit_code"), i < 151 && (i - 1) % 8 == 7 ? 3 : 0),
			  "%s: processes[%zu] exit code", cpu_hz, i);
	}
	tu_run_free(&n);
	tu_run_free(&r);
}

Test(e2e_lifecycle, fork_children_end_while_loader_lock_held, .timeout = 60)
{
	fork_dl_race("--cpu-hz=0");
}

Test(e2e_lifecycle, cpu_samples_inside_dl_iterate_phdr_do_not_deadlock, .timeout = 60)
{
	fork_dl_race("--cpu-hz=1000");
}

/* The exec'd or spawned child is profiled: 8 allocations (7 and stdio's
 * buffer), 3 frees, with the program's own environment intact. */
static void followed(const char *mode)
{
	struct tu_run n, r;
	json_t *c;

	native(&n, TU_LIST(TU_PROG("exec_env"), mode));
	tu_profile(&r, NULL, TU_LIST("-q", "--cpu-hz=0", "--", TU_PROG("exec_env"), mode));
	cr_assert(eq(int, r.exit_code, n.exit_code), "%s: exit code as native; stderr: %s", mode, r.err);
	cr_assert(eq(str, r.out, n.out), "%s: stdout as native", mode);
	cr_assert(eq(str, r.out, "child FOO=bar\n"), "%s: the child's own variable", mode);
	cr_assert(eq(sz, json_array_size(tu_arr(r.json, "processes")), 2), "%s: the program and its child", mode);
	c = tu_proc(r.json, 1);
	cr_assert(eq(str, (char *)tu_str(c, "command.1"), "child"), "%s: processes[1] is the child", mode);
	cr_assert(eq(i64, tu_int(c, "memory.allocations"), 8), "%s: the child's allocations", mode);
	cr_assert(eq(i64, tu_int(c, "memory.frees"), 3), "%s: the child's frees", mode);
	tu_run_free(&n);
	tu_run_free(&r);
}

Test(e2e_lifecycle, execve_with_own_env_is_followed) { followed("execve"); }
Test(e2e_lifecycle, execle_with_own_env_is_followed) { followed("execle"); }
Test(e2e_lifecycle, execvpe_with_own_env_is_followed) { followed("execvpe"); }
Test(e2e_lifecycle, fexecve_with_own_env_is_followed) { followed("fexecve"); }
Test(e2e_lifecycle, execveat_with_own_env_is_followed) { followed("execveat"); }
Test(e2e_lifecycle, posix_spawn_with_own_env_is_followed) { followed("spawn"); }
Test(e2e_lifecycle, posix_spawnp_with_own_env_is_followed) { followed("spawnp"); }

/* The process whose argv[1] is "child", or NULL. */
static json_t *child_proc(json_t *json)
{
	json_t *procs = tu_arr(json, "processes");

	for (size_t i = 0; i < json_array_size(procs); i++) {
		const char *a1 = tu_str(json_array_get(procs, i), "command.1");
		if (a1 && !strcmp(a1, "child"))
			return json_array_get(procs, i);
	}
	return NULL;
}

/* system() and popen() run a shell with the program's environ, which it
 * emptied: followed all the same (the shell, then the child it execs). */
static void shell_followed(const char *mode, const char *want_out)
{
	struct tu_run n, r;
	json_t *c;

	native(&n, TU_LIST(TU_PROG("exec_env"), mode));
	cr_assert(eq(str, n.out, (char *)want_out), "%s: natively", mode);
	tu_profile(&r, NULL, TU_LIST("-q", "--cpu-hz=0", "--", TU_PROG("exec_env"), mode));
	cr_assert(eq(int, r.exit_code, n.exit_code), "%s: exit code as native; stderr: %s", mode, r.err);
	cr_assert(eq(str, r.out, n.out), "%s: stdout as native", mode);
	c = child_proc(r.json);
	cr_assert(c != NULL, "%s: the child is profiled; stderr: %s", mode, r.err);
	cr_assert(eq(i64, tu_int(c, "memory.allocations"), 8), "%s: the child's allocations", mode);
	cr_assert(eq(i64, tu_int(c, "memory.frees"), 3), "%s: the child's frees", mode);
	tu_run_free(&n);
	tu_run_free(&r);
}

Test(e2e_lifecycle, system_with_emptied_environ_is_followed) { shell_followed("system", "child FOO=bar\n"); }
Test(e2e_lifecycle, popen_with_emptied_environ_is_followed) { shell_followed("popen", "popen: child FOO=bar\n"); }

/* With another thread running, environ is not swapped (its getenv and
 * setenv would race): the child is not followed, and the report says so. */
Test(e2e_lifecycle, system_with_emptied_environ_and_threads_is_reported)
{
	struct tu_run n, r;

	native(&n, TU_LIST(TU_PROG("exec_env"), "system-threaded"));
	tu_profile(&r, NULL, TU_LIST("--cpu-hz=0", "--", TU_PROG("exec_env"), "system-threaded"));
	cr_assert(eq(int, r.exit_code, n.exit_code), "exit code as native; stderr: %s", r.err);
	cr_assert(eq(str, r.out, "child FOO=bar\n"), "stdout as native");
	cr_assert(eq(str, r.out, n.out), "stdout as native");
	cr_assert(child_proc(r.json) == NULL, "the child is not profiled");
	cr_assert(strstr(r.err, "through system() or popen() with LD_PRELOAD or PTRACE_SESSION removed") != NULL,
		  "the report says so: %s", r.err);
	tu_run_free(&n);
	tu_run_free(&r);
}

/* A scratch directory others may enter (for nobody), removed by rm_tree. */
static char *scratch_dir(void)
{
	char *d = strdup("/tmp/ptrace-e2e-life-XXXXXX");

	cr_assert(d && mkdtemp(d), "mkdtemp: %s", strerror(errno));
	chmod(d, 0755);
	return d;
}

static int copy_file(const char *from, const char *to, mode_t mode)
{
	size_t len;
	char *data = tu_read_file(from, &len);
	int fd, ok;

	if (!data)
		return -1;
	fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ok = fd >= 0 && write(fd, data, len) == (ssize_t)len;
	if (fd >= 0)
		ok = !fchmod(fd, mode) && ok;
	if (fd >= 0)
		close(fd);
	free(data);
	return ok ? 0 : -1;
}

/* An exec of a program that runs set-user-ID to someone else cannot be
 * followed (the loader ignores LD_PRELOAD): the report says so. */
Test(e2e_lifecycle, setuid_exec_is_reported_not_followed)
{
	char *dir, *prog = NULL, *want = NULL;
	struct tu_run r;
	int ok;

	if (geteuid() != 0) {
		cr_skip_test("needs root: a set-user-ID program owned by nobody");
		return;
	}
	dir = scratch_dir();
	cr_assert(asprintf(&prog, "%s/suid_exit", dir) > 0, "asprintf");
	ok = !copy_file(TU_PROG("exit_code"), prog, 0755) && !chown(prog, 65534, 0) && !chmod(prog, 04755);
	if (ok)
		tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "--cpu-hz=0", "--", TU_PROG("exec_env"), "run", prog));
	unlink(prog);
	rmdir(dir);
	cr_assert(ok, "set-up of %s failed: %s", prog, strerror(errno));
	cr_assert(eq(int, r.timed_out, 0), "timed out");
	cr_assert(eq(int, r.exit_code, 0), "exit code of the set-user-ID program; stderr: %s", r.err);
	cr_assert(eq(str, r.out, "exit_code 0\n"), "its output");
	cr_assert(asprintf(&want, "exec'd %s (set-user-ID): not profiled", prog) > 0, "asprintf");
	cr_assert(strstr(r.err, want) != NULL, "the report names the exec it could not follow: %s", r.err);
	free(want);
	free(prog);
	free(dir);
	tu_run_free(&r);
}

/*
 * daemon() in a child the program waits for itself: the child ends inside
 * daemon (glibc's internal _exit), the launcher never reaps it; its
 * duration is its own, not the daemon's 0.8 s; the daemon was forked
 * from it, not from whoever reaped it.
 */
Test(e2e_lifecycle, daemon_parent_duration_is_its_own)
{
	struct tu_run r;
	json_t *c, *d;

	tu_profile(&r, NULL, TU_LIST("-q", "--cpu-hz=0", "--", TU_PROG("daemon_child")));
	cr_assert(eq(int, r.exit_code, 0), "exit code; stderr: %s", r.err);
	cr_assert(eq(sz, json_array_size(tu_arr(r.json, "processes")), 3), "main, the child, the daemon");
	c = tu_proc(r.json, 1);
	d = tu_proc(r.json, 2);
	cr_assert(eq(i64, tu_int(d, "ppid"), tu_int(c, "pid")), "the daemon was forked from the child");
	cr_assert(eq(i64, tu_int(c, "exit_code"), 0), "the child's exit code");
	cr_assert(lt(i64, tu_int(c, "duration_ns"), 400000000), "the child ended inside daemon(), before the daemon's sleep");
	cr_assert(ge(i64, tu_int(d, "duration_ns"), 800000000), "the daemon slept 0.8 s");
	tu_run_free(&r);
}

/* A valid session image in a regular file only root may write. */
static int write_image(const char *path, char **bytes, size_t *len)
{
	struct session s;
	int fd, ok;

	if (session_create(&s, 16u << 20))
		return -1;
	*len = s.size;
	*bytes = malloc(s.size);
	memcpy(*bytes, s.base, s.size);
	session_close(&s);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ok = fd >= 0 && write(fd, *bytes, *len) == (ssize_t)*len;
	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

/*
 * A set-user-ID root program run by nobody, with the agent preloaded the
 * way the loader allows in secure mode (a set-user-ID library in a
 * standard directory, named without a slash), PTRACE_SESSION naming a
 * root-only image and bad settings: the agent stays off. The image is
 * untouched, nothing is printed, the program works.
 */
Test(e2e_lifecycle, setuid_program_agent_reads_nothing)
{
	char *dir, *prog = NULL, *image = NULL, *lib = NULL, *libname = NULL, *env_pre = NULL, *env_ses = NULL;
	char *before = NULL, *after = NULL;
	size_t len = 0, alen = 0;
	struct tu_run r;
	int ok;

	if (geteuid() != 0) {
		cr_skip_test("needs root: runs a set-user-ID root program as nobody");
		return;
	}
	if (access("/usr/bin/setpriv", X_OK)) {
		cr_skip_test("needs setpriv (util-linux)");
		return;
	}
	dir = scratch_dir();
	cr_assert(asprintf(&prog, "%s/secure_probe", dir) > 0 && asprintf(&image, "%s/image", dir) > 0 &&
			  asprintf(&libname, "libptrace-run-e2e-%d.so", (int)getpid()) > 0 &&
			  asprintf(&lib, "/usr/lib/x86_64-linux-gnu/%s", libname) > 0 &&
			  asprintf(&env_pre, "LD_PRELOAD=%s", libname) > 0 &&
			  asprintf(&env_ses, "PTRACE_SESSION=%s", image) > 0,
		  "asprintf");
	ok = !copy_file(TU_PROG("secure_probe"), prog, 04755) && !write_image(image, &before, &len) &&
	     !copy_file(TU_AGENT, lib, 04755);
	if (ok)
		/* The variables for the program only (env sets them at its
		 * exec): setpriv itself is not secure and would load us. */
		tu_run(&r, NULL,
		       TU_LIST("/usr/bin/setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups", "--",
			       "/usr/bin/env", env_pre, env_ses, "PTRACE_SAMPLE_RATE=bogus", "PTRACE_CPU_HZ=bogus",
			       "PTRACE_MAX_DEPTH=0", prog));
	after = tu_read_file(image, &alen);
	/* Before any assertion: no system file is left behind. */
	unlink(lib);
	unlink(prog);
	unlink(image);
	rmdir(dir);
	cr_assert(ok, "set-up failed: %s", strerror(errno));
	cr_assert(eq(int, r.timed_out, 0), "timed out");
	cr_assert(eq(int, r.exit_code, 0), "the program's exit code; stderr: %s", r.err);
	cr_assert(eq(str, r.out, "hello\nagent mapped\nsecure 1\n"), "the program ran, with the agent loaded, in secure mode");
	cr_assert(eq(str, r.err, ""), "nothing printed");
	cr_assert(after && alen == len && !memcmp(after, before, len), "the image is untouched");
	free(before);
	free(after);
	free(prog);
	free(image);
	free(lib);
	free(libname);
	free(env_pre);
	free(env_ses);
	free(dir);
	tu_run_free(&r);
}
