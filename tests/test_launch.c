/*
 * Unit tests for cli/launch: PATH resolution, the can-the-agent-load check
 * (on binaries built or crafted here), LD_PRELOAD, spawn, signal
 * forwarding and reaping. Every test runs in its own Criterion worker, so
 * signal handlers, the subreaper flag and environment changes stay there.
 * Needs root for the set-ID and capability cases (chown, setxattr).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/capability.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "launch.h"

#define STATIC_MSG "statically linked: LD_PRELOAD cannot load the agent"
#define SETUID_MSG "set-user-ID binary: the loader ignores LD_PRELOAD"
#define SETGID_MSG "set-group-ID binary: the loader ignores LD_PRELOAD"
#define FCAPS_MSG "file capabilities: the loader ignores LD_PRELOAD"
#define NOBODY 65534

static char tdir[PATH_MAX]; /* canonical, removed after each test */

static void tmp_setup(void)
{
	char tmpl[] = "/tmp/ptrace-run-test-launch.XXXXXX";

	unsetenv("PTRACE_AGENT");
	unsetenv("LD_PRELOAD");
	cr_assert(not(zero(ptr, mkdtemp(tmpl))), "mkdtemp: %s", strerror(errno));
	cr_assert(not(zero(ptr, realpath(tmpl, tdir))), "realpath of the temp dir");
	chmod(tdir, 0755); /* the capability test reads it as nobody */
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static void tmp_teardown(void)
{
	if (tdir[0])
		nftw(tdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(launch, .init = tmp_setup, .fini = tmp_teardown);

/* ------------------------------------------------------------- helpers */

static void tpath(char *buf, const char *name)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s", tdir, name);

	cr_assert(n < PATH_MAX, "temp path for %s fits", name);
}

static void write_file(const char *path, const void *data, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	cr_assert(fd >= 0, "create %s: %s", path, strerror(errno));
	cr_assert(eq(sz, (size_t)write(fd, data, n), n), "write %s", path);
	cr_assert(eq(int, fchmod(fd, mode), 0), "chmod %s", path);
	close(fd);
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	write_file(path, text, strlen(text), mode);
}

static void copy_file(const char *src, const char *dst, mode_t mode)
{
	static char data[4 << 20];
	int fd = open(src, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	cr_assert(fd >= 0, "open %s: %s", src, strerror(errno));
	n = read(fd, data, sizeof(data));
	close(fd);
	cr_assert(n > 0 && n < (ssize_t)sizeof(data), "read all of %s", src);
	write_file(dst, data, (size_t)n, mode);
}

static void make_dir(const char *path)
{
	cr_assert(eq(int, mkdir(path, 0755), 0), "mkdir %s: %s", path, strerror(errno));
}

/* Build a static program at out; 0, or -1 when the toolchain cannot. */
static int build_static(char *out)
{
	char src[PATH_MAX], cmd[3 * PATH_MAX];

	tpath(src, "static.c");
	tpath(out, "static");
	write_text(src, "int main(void) { return 0; }\n", 0644);
	snprintf(cmd, sizeof(cmd), "gcc -static -O0 -o '%s' '%s' 2>/dev/null", out, src);
	return system(cmd) == 0 ? 0 : -1;
}

/* A minimal ELF file: two program headers, the second PT_INTERP or not. */
static void make_elf(const char *path, int cls, unsigned machine, unsigned type, int interp,
		     int truncate)
{
	unsigned char buf[256];
	size_t n;

	memset(buf, 0, sizeof(buf));
	if (cls == ELFCLASS64) {
		Elf64_Ehdr eh = { 0 };
		Elf64_Phdr ph[2] = { { 0 } };

		eh.e_type = (Elf64_Half)type;
		eh.e_machine = (Elf64_Half)machine;
		eh.e_version = EV_CURRENT;
		eh.e_phoff = sizeof(eh);
		eh.e_ehsize = sizeof(eh);
		eh.e_phentsize = sizeof(ph[0]);
		eh.e_phnum = 2;
		ph[0].p_type = PT_LOAD;
		ph[1].p_type = interp ? PT_INTERP : PT_NOTE;
		memcpy(buf, &eh, sizeof(eh));
		memcpy(buf + sizeof(eh), ph, sizeof(ph));
		n = sizeof(eh) + sizeof(ph);
	} else {
		Elf32_Ehdr eh = { 0 };
		Elf32_Phdr ph[2] = { { 0 } };

		eh.e_type = (Elf32_Half)type;
		eh.e_machine = (Elf32_Half)machine;
		eh.e_version = EV_CURRENT;
		eh.e_phoff = sizeof(eh);
		eh.e_ehsize = sizeof(eh);
		eh.e_phentsize = sizeof(ph[0]);
		eh.e_phnum = 2;
		ph[0].p_type = PT_LOAD;
		ph[1].p_type = interp ? PT_INTERP : PT_NOTE;
		memcpy(buf, &eh, sizeof(eh));
		memcpy(buf + sizeof(eh), ph, sizeof(ph));
		n = sizeof(eh) + sizeof(ph);
	}
	memcpy(buf, ELFMAG, SELFMAG);
	buf[EI_CLASS] = (unsigned char)cls;
	buf[EI_DATA] = ELFDATA2LSB;
	buf[EI_VERSION] = EV_CURRENT;
	write_file(path, buf, truncate ? n - 20 : n, 0755);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* 0 once path exists, -1 after 1.5 s. */
static int wait_for_file(const char *path)
{
	for (int i = 0; i < 300; i++) {
		if (!access(path, F_OK))
			return 0;
		sleep_ms(5);
	}
	return -1;
}

static void set_default(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(sig, &sa, NULL);
}

/* Result of launch_check_binary computed in a forked child. */
struct check_out {
	int rc;
	char reason[200];
};

/* Run launch_check_binary(path) in a child that first drops to nobody
 * (as_nobody) and/or sets no_new_privs (nnp). */
static struct check_out check_in_child(const char *path, int as_nobody, int nnp)
{
	struct check_out out = { .rc = -9999 };
	int p[2], st;
	pid_t pid;

	cr_assert(eq(int, pipe(p), 0), "pipe");
	pid = fork();
	cr_assert(pid >= 0, "fork");
	if (pid == 0) {
		struct check_out c = { .rc = -9998 };

		close(p[0]);
		if ((!as_nobody || (!setgid(NOBODY) && !setuid(NOBODY))) &&
		    (!nnp || !prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)))
			c.rc = launch_check_binary(path, c.reason, sizeof(c.reason));
		if (write(p[1], &c, sizeof(c)) != sizeof(c))
			_exit(2);
		_exit(0);
	}
	close(p[1]);
	cr_assert(eq(sz, (size_t)read(p[0], &out, sizeof(out)), sizeof(out)), "child result");
	close(p[0]);
	waitpid(pid, &st, 0);
	return out;
}

/* ------------------------------------------------------------- resolve */

Test(launch, resolve_searches_path_for_a_bare_name)
{
	char path[PATH_MAX];

	setenv("PATH", "/nonexistent-ptrace-dir:/usr/bin:/bin", 1);
	cr_assert(eq(int, launch_resolve("sh", path, sizeof(path)), 0), "sh is found in PATH");
	cr_assert(eq(str, path, "/usr/bin/sh"), "the first PATH entry that has it wins");
}

Test(launch, resolve_with_unset_path_uses_bin_and_usr_bin)
{
	char path[PATH_MAX];

	unsetenv("PATH");
	cr_assert(eq(int, launch_resolve("sh", path, sizeof(path)), 0), "sh found without PATH");
	cr_assert(eq(str, path, "/bin/sh"), "execvp's default search path, /bin first");
}

Test(launch, resolve_missing_program_is_enoent)
{
	char path[PATH_MAX];

	setenv("PATH", "/usr/bin:/bin", 1);
	cr_assert(eq(int, launch_resolve("ptrace-run-no-such-program", path, sizeof(path)), -ENOENT),
		  "a name in no PATH directory");
	cr_assert(eq(int, launch_resolve("/nonexistent-ptrace-dir/prog", path, sizeof(path)), -ENOENT),
		  "a path that does not exist");
	cr_assert(eq(int, launch_resolve("/etc/passwd/x", path, sizeof(path)), -ENOENT),
		  "a path through a regular file (ENOTDIR) counts as missing");
	cr_assert(eq(int, launch_resolve("", path, sizeof(path)), -ENOENT), "an empty name");
}

Test(launch, resolve_skips_non_executable_files_like_execvp)
{
	char a[PATH_MAX], b[PATH_MAX], f[PATH_MAX], env[2 * PATH_MAX + 2], path[PATH_MAX];

	tpath(a, "a");
	tpath(b, "b");
	make_dir(a);
	make_dir(b);
	tpath(f, "a/tool");
	write_text(f, "#!/bin/sh\n", 0644);
	tpath(f, "b/tool");
	write_text(f, "#!/bin/sh\n", 0755);
	snprintf(env, sizeof(env), "%s:%s", a, b);
	setenv("PATH", env, 1);
	cr_assert(eq(int, launch_resolve("tool", path, sizeof(path)), 0), "the executable one is found");
	cr_assert(eq(str, path, f), "a/tool is not executable, b/tool is used");
}

Test(launch, resolve_non_executable_is_eacces)
{
	char a[PATH_MAX], f[PATH_MAX], path[PATH_MAX];

	tpath(a, "a");
	make_dir(a);
	tpath(f, "a/tool");
	write_text(f, "#!/bin/sh\n", 0644);
	setenv("PATH", a, 1);
	cr_assert(eq(int, launch_resolve("tool", path, sizeof(path)), -EACCES),
		  "found in PATH but not executable");
	cr_assert(eq(int, launch_resolve(f, path, sizeof(path)), -EACCES),
		  "a path to a non-executable file");
	cr_assert(eq(int, launch_resolve(a, path, sizeof(path)), -EACCES), "a path to a directory");
	tpath(f, "a/sub");
	make_dir(f);
	setenv("PATH", a, 1);
	cr_assert(eq(int, launch_resolve("sub", path, sizeof(path)), -EACCES),
		  "a directory found in PATH");
}

Test(launch, resolve_path_with_slash_is_used_as_given)
{
	char f[PATH_MAX], path[PATH_MAX];

	tpath(f, "x");
	write_text(f, "#!/bin/sh\n", 0755);
	cr_assert(eq(int, chdir(tdir), 0), "chdir");
	setenv("PATH", "/nonexistent-ptrace-dir", 1);
	cr_assert(eq(int, launch_resolve("./x", path, sizeof(path)), 0), "./x resolves");
	cr_assert(eq(str, path, "./x"), "no PATH search and no rewriting");
	cr_assert(eq(int, launch_resolve("x", path, sizeof(path)), -ENOENT),
		  "a bare name is never looked up in the current directory by default");
}

Test(launch, resolve_empty_path_entry_is_the_current_directory)
{
	char f[PATH_MAX], path[PATH_MAX];

	tpath(f, "tool");
	write_text(f, "#!/bin/sh\n", 0755);
	cr_assert(eq(int, chdir(tdir), 0), "chdir");
	setenv("PATH", "/nonexistent-ptrace-dir::/bin", 1);
	cr_assert(eq(int, launch_resolve("tool", path, sizeof(path)), 0), "found through the empty entry");
	cr_assert(eq(str, path, "./tool"), "returned relative to the current directory");
}

Test(launch, resolve_reports_a_short_buffer)
{
	char path[8];

	setenv("PATH", "/usr/bin", 1);
	cr_assert(eq(int, launch_resolve("sh", path, sizeof(path)), -ENAMETOOLONG),
		  "\"/usr/bin/sh\" does not fit in 8 bytes");
}

/* -------------------------------------------------------- check binary */

Test(launch, check_dynamic_shell_can_load_the_agent)
{
	char reason[200] = "unset";

	cr_assert(eq(int, launch_check_binary("/bin/sh", reason, sizeof(reason)), 1),
		  "/bin/sh is dynamically linked: %s", reason);
	cr_assert(eq(str, reason, ""), "no reason when the agent can load");
}

Test(launch, check_static_binary_cannot)
{
	char bin[PATH_MAX], reason[200];

	if (build_static(bin))
		cr_skip_test("gcc -static failed: no static libc to build the test binary");
	cr_assert(eq(int, launch_check_binary(bin, reason, sizeof(reason)), 0),
		  "a static binary has no PT_INTERP");
	cr_assert(eq(str, reason, STATIC_MSG), "the reason says it is statically linked");
}

Test(launch, check_setuid_binary_of_another_user_cannot)
{
	char bin[PATH_MAX], reason[200];

	if (geteuid() != 0)
		cr_skip_test("needs root to chown a file to nobody");
	tpath(bin, "suid");
	copy_file("/bin/true", bin, 0755);
	cr_assert(eq(int, chown(bin, NOBODY, 0), 0), "chown to nobody: %s", strerror(errno));
	cr_assert(eq(int, chmod(bin, 04755), 0), "chmod 4755");
	cr_assert(eq(int, launch_check_binary(bin, reason, sizeof(reason)), 0),
		  "exec would switch to uid 65534: secure mode");
	cr_assert(eq(str, reason, SETUID_MSG), "the reason names set-user-ID");
}

Test(launch, check_setuid_binary_of_our_own_uid_can)
{
	char bin[PATH_MAX], reason[200];

	tpath(bin, "suid-own");
	copy_file("/bin/true", bin, 0755);
	cr_assert(eq(int, chown(bin, getuid(), getgid()), 0), "chown to ourselves");
	cr_assert(eq(int, chmod(bin, 04755), 0), "chmod 4755");
	cr_assert(eq(int, launch_check_binary(bin, reason, sizeof(reason)), 1),
		  "set-user-ID to our own uid changes nothing: %s", reason);
}

Test(launch, check_setuid_does_not_count_under_no_new_privs)
{
	char bin[PATH_MAX];
	struct check_out c;

	if (geteuid() != 0)
		cr_skip_test("needs root to chown a file to nobody");
	tpath(bin, "suid");
	copy_file("/bin/true", bin, 0755);
	cr_assert(eq(int, chown(bin, NOBODY, 0), 0), "chown to nobody");
	cr_assert(eq(int, chmod(bin, 04755), 0), "chmod 4755");
	c = check_in_child(bin, 0, 1);
	cr_assert(eq(int, c.rc, 1), "no_new_privs: exec ignores the set-user-ID bit (%s)", c.reason);
}

Test(launch, check_setgid_binary_of_another_group_cannot)
{
	char bin[PATH_MAX], reason[200];

	if (geteuid() != 0)
		cr_skip_test("needs root to chgrp a file to nogroup");
	tpath(bin, "sgid");
	copy_file("/bin/true", bin, 0755);
	cr_assert(eq(int, chown(bin, 0, NOBODY), 0), "chgrp to 65534");
	cr_assert(eq(int, chmod(bin, 02755), 0), "chmod 2755");
	cr_assert(eq(int, launch_check_binary(bin, reason, sizeof(reason)), 0),
		  "exec would switch to gid 65534: secure mode");
	cr_assert(eq(str, reason, SETGID_MSG), "the reason names set-group-ID");

	/* S_ISGID without group execute is the mandatory-locking marker. */
	cr_assert(eq(int, chmod(bin, 02745), 0), "chmod 2745");
	cr_assert(eq(int, launch_check_binary(bin, reason, sizeof(reason)), 1),
		  "set-group-ID without g+x is not set-group-ID on exec: %s", reason);
}

Test(launch, check_file_capabilities_count_for_a_non_root_caller)
{
	char bin[PATH_MAX], reason[200];
	struct vfs_cap_data cap;
	struct check_out c;

	if (geteuid() != 0)
		cr_skip_test("needs root to set file capabilities and to become nobody");
	tpath(bin, "fcap");
	copy_file("/bin/true", bin, 0755);
	memset(&cap, 0, sizeof(cap));
	cap.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE;
	cap.data[0].permitted = 1u << CAP_NET_RAW;
	if (setxattr(bin, "security.capability", &cap, XATTR_CAPS_SZ_2, 0))
		cr_skip_test("cannot set security.capability here: %s", strerror(errno));

	cr_assert(eq(int, launch_check_binary(bin, reason, sizeof(reason)), 1),
		  "capabilities do not make a real-root exec secure: %s", reason);
	c = check_in_child(bin, 1, 0);
	cr_assert(eq(int, c.rc, 0), "as nobody the exec would gain CAP_NET_RAW: secure mode");
	cr_assert(eq(str, c.reason, FCAPS_MSG), "the reason names file capabilities");
}

Test(launch, check_script_is_judged_by_its_interpreter)
{
	char script[PATH_MAX], bin[PATH_MAX], text[PATH_MAX + 16], want[PATH_MAX + 100];
	char reason[PATH_MAX + 100];

	tpath(script, "ok.sh");
	write_text(script, "#!/bin/sh\necho hi\n", 0755);
	cr_assert(eq(int, launch_check_binary(script, reason, sizeof(reason)), 1),
		  "a /bin/sh script can load the agent: %s", reason);

	if (build_static(bin))
		cr_skip_test("gcc -static failed: no static libc to build the test interpreter");
	tpath(script, "static.sh");
	snprintf(text, sizeof(text), "#!  %s -x\n", bin);
	write_text(script, text, 0755);
	snprintf(want, sizeof(want), "interpreter %s: " STATIC_MSG, bin);
	cr_assert(eq(int, launch_check_binary(script, reason, sizeof(reason)), 0),
		  "a script run by a static interpreter cannot");
	cr_assert(eq(str, reason, want), "the reason names the interpreter");
}

Test(launch, check_script_interpreter_errors)
{
	char script[PATH_MAX], reason[200];

	tpath(script, "missing.sh");
	write_text(script, "#!/nonexistent-ptrace-dir/interp\n", 0755);
	cr_assert(eq(int, launch_check_binary(script, reason, sizeof(reason)), -ENOENT),
		  "a missing interpreter");
	tpath(script, "empty.sh");
	write_text(script, "#!\n", 0755);
	cr_assert(eq(int, launch_check_binary(script, reason, sizeof(reason)), -ENOEXEC),
		  "a #! line without an interpreter");
}

Test(launch, check_script_nesting_limit_matches_the_kernel)
{
	char prev[PATH_MAX] = "/bin/true", cur[PATH_MAX], text[PATH_MAX + 4], name[16], reason[200];

	/* s1 runs /bin/true, s2 runs s1, ...: the kernel runs s5, not s6. */
	for (int i = 1; i <= 6; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		tpath(cur, name);
		snprintf(text, sizeof(text), "#!%s\n", prev);
		write_text(cur, text, 0755);
		strcpy(prev, cur);
		if (i == 5)
			cr_assert(eq(int, launch_check_binary(cur, reason, sizeof(reason)), 1),
				  "five levels of #! are allowed");
	}
	cr_assert(eq(int, launch_check_binary(cur, reason, sizeof(reason)), -ELOOP),
		  "six levels of #! are too many");
}

Test(launch, check_crafted_elf_headers)
{
	static const struct {
		const char *name;
		int cls;
		unsigned machine, type;
		int interp, truncate, rc;
		const char *reason;
	} cases[] = {
		{ "dyn64", ELFCLASS64, EM_X86_64, ET_DYN, 1, 0, 1, "" },
		{ "exec64", ELFCLASS64, EM_X86_64, ET_EXEC, 1, 0, 1, "" },
		{ "static64", ELFCLASS64, EM_X86_64, ET_EXEC, 0, 0, 0, STATIC_MSG },
		{ "staticpie64", ELFCLASS64, EM_X86_64, ET_DYN, 0, 0, 0, STATIC_MSG },
		{ "dyn32", ELFCLASS32, EM_386, ET_EXEC, 1, 0, 0,
		  "32-bit executable: the 64-bit agent cannot be preloaded into it" },
		{ "static32", ELFCLASS32, EM_386, ET_EXEC, 0, 0, 0, STATIC_MSG },
		{ "arm64", ELFCLASS64, EM_AARCH64, ET_DYN, 1, 0, 0,
		  "executable for another architecture (ELF machine 183): "
		  "the agent cannot be preloaded into it" },
		{ "rel64", ELFCLASS64, EM_X86_64, ET_REL, 0, 0, -ENOEXEC, "" },
		{ "short64", ELFCLASS64, EM_X86_64, ET_DYN, 1, 1, -ENOEXEC, "" },
		{ "short32", ELFCLASS32, EM_386, ET_EXEC, 1, 1, -ENOEXEC, "" },
	};
	char path[PATH_MAX], reason[200];

#if !defined(__x86_64__)
	cr_skip_test("the expected reasons assume an x86-64 launcher");
#endif
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tpath(path, cases[i].name);
		make_elf(path, cases[i].cls, cases[i].machine, cases[i].type, cases[i].interp,
			 cases[i].truncate);
		cr_assert(eq(int, launch_check_binary(path, reason, sizeof(reason)), cases[i].rc),
			  "%s: return value", cases[i].name);
		cr_assert(eq(str, reason, (char *)cases[i].reason), "%s: reason", cases[i].name);
	}
}

Test(launch, check_other_files)
{
	char path[PATH_MAX], reason[200];

	tpath(path, "text");
	write_text(path, "just text\n", 0755);
	cr_assert(eq(int, launch_check_binary(path, reason, sizeof(reason)), 1),
		  "neither ELF nor #!: left to exec");
	tpath(path, "nothing");
	cr_assert(eq(int, launch_check_binary(path, reason, sizeof(reason)), -ENOENT), "a missing file");
	cr_assert(eq(int, launch_check_binary(tdir, reason, sizeof(reason)), -EISDIR), "a directory");
}

/* --------------------------------------------------------------- agent */

Test(launch, find_agent_uses_ptrace_agent)
{
	char lib[PATH_MAX], path[PATH_MAX];

	tpath(lib, "agent.so");
	write_text(lib, "", 0644);
	cr_assert(eq(int, chdir(tdir), 0), "chdir");
	setenv("PTRACE_AGENT", "./agent.so", 1);
	cr_assert(eq(int, launch_find_agent(path, sizeof(path)), 0), "PTRACE_AGENT names a file");
	cr_assert(eq(str, path, lib), "made absolute and canonical");

	setenv("PTRACE_AGENT", "./missing.so", 1);
	cr_assert(eq(int, launch_find_agent(path, sizeof(path)), -ENOENT),
		  "a missing PTRACE_AGENT is an error, not a reason to look elsewhere");
	setenv("PTRACE_AGENT", tdir, 1);
	cr_assert(eq(int, launch_find_agent(path, sizeof(path)), -ENOENT), "a directory is not a library");
}

Test(launch, find_agent_with_empty_variable_searches_near_the_launcher)
{
	char exe[PATH_MAX], want[PATH_MAX], got[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int rc_want, rc_got;

	cr_assert(n > 0, "readlink /proc/self/exe");
	exe[n] = '\0';
	setenv("PTRACE_AGENT", "", 1);
	rc_want = launch_find_agent_near(exe, want, sizeof(want));
	rc_got = launch_find_agent(got, sizeof(got));
	cr_assert(eq(int, rc_got, rc_want), "empty PTRACE_AGENT counts as unset");
	if (!rc_got)
		cr_assert(eq(str, got, want), "same library found");
}

Test(launch, find_agent_near_build_tree_then_install_prefix)
{
	char bin[PATH_MAX], exe[PATH_MAX], build[PATH_MAX], lib[PATH_MAX], inst[PATH_MAX];
	char path[PATH_MAX];

	tpath(bin, "bin");
	make_dir(bin);
	tpath(exe, "bin/ptrace-run");
	cr_assert(eq(int, launch_find_agent_near(exe, path, sizeof(path)), -ENOENT),
		  "no library anywhere");

	tpath(lib, "lib");
	make_dir(lib);
	tpath(lib, "lib/ptrace-run");
	make_dir(lib);
	tpath(inst, "lib/ptrace-run/libptrace-run.so");
	write_text(inst, "", 0644);
	cr_assert(eq(int, launch_find_agent_near(exe, path, sizeof(path)), 0), "install layout");
	cr_assert(eq(str, path, inst), "<dir>/../lib/ptrace-run/libptrace-run.so, canonical");

	tpath(build, "bin/libptrace-run.so");
	write_text(build, "", 0644);
	cr_assert(eq(int, launch_find_agent_near(exe, path, sizeof(path)), 0), "build layout");
	cr_assert(eq(str, path, build), "the library next to the binary wins");

	cr_assert(eq(int, launch_find_agent_near(exe, path, 10), -ENAMETOOLONG), "short buffer");
}

Test(launch, preload_without_user_entries)
{
	cr_assert(eq(int, launch_preload("/opt/p/libptrace-run.so"), 0), "preload succeeds");
	cr_assert(eq(str, getenv("LD_PRELOAD"), "/opt/p/libptrace-run.so"), "only the agent");
}

Test(launch, preload_keeps_user_entries_after_ours)
{
	setenv("LD_PRELOAD", "liba.so libb.so:/x/libc.so", 1);
	cr_assert(eq(int, launch_preload("/opt/p/libptrace-run.so"), 0), "preload succeeds");
	cr_assert(eq(str, getenv("LD_PRELOAD"), "/opt/p/libptrace-run.so:liba.so:libb.so:/x/libc.so"),
		  "agent first, the user's entries in order");
}

Test(launch, preload_drops_duplicates_and_empty_entries)
{
	setenv("LD_PRELOAD", "::/opt/p/libptrace-run.so  liba.so:/opt/p/libptrace-run.so2:", 1);
	cr_assert(eq(int, launch_preload("/opt/p/libptrace-run.so"), 0), "preload succeeds");
	cr_assert(eq(str, getenv("LD_PRELOAD"), "/opt/p/libptrace-run.so:liba.so:/opt/p/libptrace-run.so2"),
		  "our earlier copy and empty entries dropped, a longer name kept");
}

Test(launch, preload_rejects_paths_the_loader_would_split)
{
	setenv("LD_PRELOAD", "liba.so", 1);
	cr_assert(eq(int, launch_preload("/opt/my dir/libptrace-run.so"), -EINVAL), "a space");
	cr_assert(eq(int, launch_preload("/opt/a:b/libptrace-run.so"), -EINVAL), "a colon");
	cr_assert(eq(int, launch_preload(""), -EINVAL), "an empty path");
	cr_assert(eq(str, getenv("LD_PRELOAD"), "liba.so"), "LD_PRELOAD unchanged after a refusal");
}

/* --------------------------------------------------------- spawn, wait */

struct reaped {
	int count;
	pid_t pid;
	int status;
};

static void on_reap(pid_t pid, int status, void *arg)
{
	struct reaped *r = arg;

	r->count++;
	r->pid = pid;
	r->status = status;
}

Test(launch, spawn_and_wait_for_an_exit_code)
{
	char *argv[] = { "sh", "-c", "exit 3", NULL };
	struct launch_result res;
	struct reaped r = { 0 };
	pid_t pid = 0;

	cr_assert(eq(int, launch_init(), 0), "launch_init");
	cr_assert(eq(int, launch_spawn("/bin/sh", argv, &pid), 0), "spawn /bin/sh");
	cr_assert(gt(int, pid, 0), "a child pid");
	cr_assert(eq(int, launch_wait(pid, &res, on_reap, &r), 0), "wait");
	cr_assert(eq(int, WIFEXITED(res.status), 1), "the child exited");
	cr_assert(eq(int, WEXITSTATUS(res.status), 3), "with status 3");
	cr_assert(eq(int, launch_exit_code(res.status), 3), "the launcher exits 3 too");
	cr_assert(eq(int, r.count, 0), "no other process was reaped");
	cr_assert(gt(u64, res.duration_ns, 0), "a duration was measured");
	cr_assert(lt(u64, res.duration_ns, 2000000000ull), "and it is short");
}

Test(launch, spawn_and_wait_for_a_signal_death)
{
	char *argv[] = { "sh", "-c", "kill -TERM $$", NULL };
	struct launch_result res;
	pid_t pid;

	cr_assert(eq(int, launch_init(), 0), "launch_init");
	cr_assert(eq(int, launch_spawn("/bin/sh", argv, &pid), 0), "spawn");
	cr_assert(eq(int, launch_wait(pid, &res, NULL, NULL), 0), "wait");
	cr_assert(eq(int, WIFSIGNALED(res.status), 1), "killed by a signal");
	cr_assert(eq(int, WTERMSIG(res.status), SIGTERM), "by SIGTERM");
	cr_assert(eq(int, launch_exit_code(res.status), 128 + 15), "the launcher exits 143");
}

Test(launch, spawn_reports_exec_errors)
{
	char *argv[] = { "x", NULL };
	char path[PATH_MAX];
	pid_t pid = -7;

	cr_assert(eq(int, launch_init(), 0), "launch_init");
	cr_assert(eq(int, launch_spawn("/nonexistent-ptrace-dir/prog", argv, &pid), -ENOENT),
		  "a missing program: ENOENT from exec");
	cr_assert(eq(int, pid, -7), "no pid on failure");
	tpath(path, "noexec");
	write_text(path, "#!/bin/sh\n", 0644);
	cr_assert(eq(int, launch_spawn(path, argv, &pid), -EACCES), "not executable: EACCES");
	tpath(path, "garbage");
	write_text(path, "\x01\x02\x03 not a program\n", 0755);
	cr_assert(eq(int, launch_spawn(path, argv, &pid), -ENOEXEC), "unknown format: ENOEXEC");
	errno = 0;
	cr_assert(eq(int, waitpid(-1, NULL, WNOHANG), -1), "the failed children were reaped");
	cr_assert(eq(int, errno, ECHILD), "no child remains");
}

Test(launch, exit_codes)
{
	cr_assert(eq(int, launch_exit_code(W_EXITCODE(0, 0)), 0), "exit 0");
	cr_assert(eq(int, launch_exit_code(W_EXITCODE(255, 0)), 255), "exit 255");
	cr_assert(eq(int, launch_exit_code(W_EXITCODE(0, SIGKILL)), 137), "SIGKILL: 128+9");
	cr_assert(eq(int, launch_exit_code(W_EXITCODE(0, SIGSEGV) | 0x80), 139),
		  "SIGSEGV with a core dump: 128+11");
}

struct sender {
	char ready[PATH_MAX]; /* wait for this file first, if set */
	pid_t gone;           /* or for this process to disappear, if set */
	int sig;
};

static void *send_to_self(void *arg)
{
	struct sender *s = arg;

	if (s->ready[0])
		wait_for_file(s->ready);
	if (s->gone) {
		for (int i = 0; i < 300 && kill(s->gone, 0) == 0; i++)
			sleep_ms(5);
	}
	kill(getpid(), s->sig); /* si_code SI_USER, si_pid = us */
	return NULL;
}

Test(launch, signal_sent_to_the_launcher_is_forwarded)
{
	struct sender s = { .sig = SIGTERM };
	char cmd[PATH_MAX + 200];
	char *argv[] = { "sh", "-c", cmd, NULL };
	struct launch_result res;
	pthread_t th;
	pid_t pid;

	set_default(SIGTERM); /* as if started normally, whoever runs the tests */
	tpath(s.ready, "ready");
	snprintf(cmd, sizeof(cmd),
		 "trap 'exit 42' TERM; : > '%s'; i=0; "
		 "while [ $i -lt 50 ]; do sleep 0.02; i=$((i+1)); done; exit 5", s.ready);
	cr_assert(eq(int, launch_init(), 0), "launch_init");
	cr_assert(eq(int, launch_spawn("/bin/sh", argv, &pid), 0), "spawn");
	cr_assert(eq(int, pthread_create(&th, NULL, send_to_self, &s), 0), "helper thread");
	cr_assert(eq(int, launch_wait(pid, &res, NULL, NULL), 0), "wait survives our own SIGTERM");
	pthread_join(th, NULL);
	cr_assert(eq(int, WIFEXITED(res.status), 1), "the child ran its trap");
	cr_assert(eq(int, WEXITSTATUS(res.status), 42), "and exited 42: the signal was forwarded");
}

Test(launch, signal_from_the_child_itself_is_not_sent_back)
{
	char *argv[] = { "sh", "-c",
			 "n=0; trap 'n=$((n+1))' TERM; kill -TERM $PPID; sleep 0.2; exit $n", NULL };
	struct launch_result res;
	pid_t pid;

	set_default(SIGTERM);
	cr_assert(eq(int, launch_init(), 0), "launch_init");
	cr_assert(eq(int, launch_spawn("/bin/sh", argv, &pid), 0), "spawn");
	cr_assert(eq(int, launch_wait(pid, &res, NULL, NULL), 0), "wait survives the child's SIGTERM");
	cr_assert(eq(int, WIFEXITED(res.status), 1), "the child exited");
	cr_assert(eq(int, WEXITSTATUS(res.status), 0), "it never got its own SIGTERM back");
}

/* What the session-leader child of the terminal test saw. */
struct tty_out {
	int step;           /* how far it got: 5 = all done */
	int rc;             /* launch_wait's return */
	int status;         /* the program's wait status */
	int witnesses;      /* other processes reaped */
	int witness_status; /* wait status of the last one */
};

static void on_witness(pid_t pid, int status, void *arg)
{
	struct tty_out *o = arg;

	(void)pid;
	o->witnesses++;
	o->witness_status = status;
}

/*
 * Become a session leader with a pty as controlling terminal, start a
 * witness process in our (foreground) process group, run the program in a
 * session of its own (so the terminal cannot signal it) and type Ctrl-C.
 * The witness dying of SIGINT proves the terminal signalled our group;
 * the program then gets a SIGINT only if the launcher forwarded one. Runs
 * in a forked child: the Criterion worker leads a process group, so it
 * cannot call setsid itself.
 */
static struct tty_out tty_scenario(const char *ready, char **argv)
{
	struct tty_out o = { 0 };
	struct launch_result res;
	struct termios tio;
	int master, slave;
	pid_t pid, witness;

	if (setsid() < 0)
		return o;
	o.step = 1;
	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master))
		return o;
	slave = open(ptsname(master), O_RDWR); /* session leader: our terminal now */
	if (slave < 0 || tcgetpgrp(slave) != getpgrp() || tcgetattr(slave, &tio) ||
	    !(tio.c_lflag & ISIG) || tio.c_cc[VINTR] != 3)
		return o;
	o.step = 2;
	/* Forked before launch_init: SIGINT is SIG_DFL in it from the start. */
	witness = fork();
	if (witness == 0) {
		alarm(3); /* SIGALRM instead of SIGINT: the test says so */
		for (;;)
			pause();
	}
	if (witness < 0 || launch_init() || launch_spawn("/usr/bin/setsid", argv, &pid))
		return o;
	o.step = 3;
	if (wait_for_file(ready) || write(master, "\003", 1) != 1)
		return o;
	o.step = 4;
	o.rc = launch_wait(pid, &res, on_witness, &o);
	o.status = res.status;
	o.step = 5;
	return o;
}

Test(launch, terminal_signal_is_not_forwarded)
{
	char ready[PATH_MAX], cmd[PATH_MAX + 200];
	char *argv[] = { "setsid", "sh", "-c", cmd, NULL };
	struct tty_out o = { .step = -1 };
	int p[2];
	pid_t child;

	if (access("/usr/bin/setsid", X_OK))
		cr_skip_test("needs /usr/bin/setsid (util-linux) to run the program in its own session");
	tpath(ready, "ready");
	snprintf(cmd, sizeof(cmd),
		 "n=0; trap 'n=$((n+1))' INT; : > '%s'; i=0; "
		 "while [ $i -lt 15 ]; do sleep 0.02; i=$((i+1)); done; exit $n", ready);
	cr_assert(eq(int, pipe(p), 0), "pipe");
	child = fork();
	cr_assert(child >= 0, "fork");
	if (child == 0) {
		close(p[0]);
		set_default(SIGINT); /* as if started from an interactive shell */
		o = tty_scenario(ready, argv);
		_exit(write(p[1], &o, sizeof(o)) == sizeof(o) ? 0 : 1);
	}
	close(p[1]);
	cr_assert(eq(sz, (size_t)read(p[0], &o, sizeof(o)), sizeof(o)), "the session child reports");
	close(p[0]);
	waitpid(child, NULL, 0);
	cr_assert(ne(int, o.step, 0), "setsid in a fresh child");
	cr_assert(ne(int, o.step, 1), "a pty as controlling terminal, ISIG on, us in the foreground");
	cr_assert(ne(int, o.step, 2), "launch_init, witness and spawn");
	cr_assert(ne(int, o.step, 3), "the program set its trap and Ctrl-C was typed");
	cr_assert(eq(int, o.step, 5), "launch_wait returned");
	cr_assert(eq(int, o.rc, 0), "launch_wait succeeded: the launcher survived the Ctrl-C");
	cr_assert(eq(int, o.witnesses, 1), "the witness was reaped");
	cr_assert(eq(int, WIFSIGNALED(o.witness_status) ? WTERMSIG(o.witness_status) : 0, SIGINT),
		  "the terminal sent SIGINT to the launcher's process group");
	cr_assert(eq(int, WIFEXITED(o.status), 1), "the program exited");
	cr_assert(eq(int, WEXITSTATUS(o.status), 0), "no SIGINT reached it: the launcher did not forward");
}

Test(launch, orphaned_grandchild_is_reaped)
{
	char *argv[] = { "sh", "-c", "(sleep 0.2; exit 7) & exit 0", NULL };
	struct launch_result res;
	struct reaped r = { 0 };
	pid_t pid;

	cr_assert(eq(int, launch_init(), 0), "launch_init");
	cr_assert(eq(int, launch_spawn("/bin/sh", argv, &pid), 0), "spawn");
	cr_assert(eq(int, launch_wait(pid, &res, on_reap, &r), 0), "wait");
	cr_assert(eq(int, launch_exit_code(res.status), 0), "the main child exited 0");
	cr_assert(eq(int, r.count, 1), "one other process was reaped");
	cr_assert(ne(int, r.pid, pid), "it is not the main child");
	cr_assert(eq(int, WIFEXITED(r.status), 1), "the grandchild exited");
	cr_assert(eq(int, WEXITSTATUS(r.status), 7), "with status 7");
	cr_assert(ge(u64, res.duration_ns, 200000000ull), "the duration runs to the last exit");
}

Test(launch, signal_after_the_main_child_stops_waiting_for_orphans)
{
	struct sender s = { .sig = SIGTERM };
	char pidfile[PATH_MAX], cmd[PATH_MAX + 100], buf[32] = "";
	char *argv[] = { "sh", "-c", cmd, NULL };
	struct launch_result res;
	struct sigaction sa;
	pthread_t th;
	pid_t pid, orphan;
	uint64_t t0;
	FILE *f;

	set_default(SIGTERM);
	tpath(pidfile, "orphan.pid");
	snprintf(cmd, sizeof(cmd), "sleep 5 & echo $! > '%s'; exit 0", pidfile);
	cr_assert(eq(int, launch_init(), 0), "launch_init");
	cr_assert(eq(int, launch_spawn("/bin/sh", argv, &pid), 0), "spawn");
	s.gone = pid;
	t0 = mono_ns();
	cr_assert(eq(int, pthread_create(&th, NULL, send_to_self, &s), 0), "helper thread");
	cr_assert(eq(int, launch_wait(pid, &res, NULL, NULL), 0), "wait");
	pthread_join(th, NULL);
	cr_assert(lt(u64, mono_ns() - t0, 1500000000ull), "the wait ended long before the orphan");
	cr_assert(eq(int, launch_exit_code(res.status), 0), "the main child's status is kept");

	f = fopen(pidfile, "r");
	cr_assert(not(zero(ptr, f)), "the orphan's pid was written");
	cr_assert(not(zero(ptr, fgets(buf, sizeof(buf), f))), "read the orphan's pid");
	fclose(f);
	orphan = (pid_t)atoi(buf);
	cr_assert(eq(int, kill(orphan, 0), 0), "the orphan still runs");
	kill(orphan, SIGKILL);
	waitpid(orphan, NULL, 0);

	sigaction(SIGTERM, NULL, &sa);
	cr_assert(eq(ptr, (void *)sa.sa_handler, (void *)SIG_DFL),
		  "after launch_wait SIGTERM is back to its original disposition");
}

Test(launch, wait_for_a_stranger_is_echild)
{
	struct launch_result res;

	cr_assert(eq(int, launch_init(), 0), "launch_init");
	cr_assert(eq(int, launch_wait(1, &res, NULL, NULL), -ECHILD), "pid 1 is not our child");
}

/* The child sees the launcher's inherited mask and ignored signals, not
 * what the launcher itself changed after launch_init. */
Test(launch, child_gets_the_inherited_signal_state)
{
	char out[PATH_MAX], line[256];
	char *argv[] = { "cat", "/proc/self/status", NULL };
	struct launch_result res;
	struct sigaction sa;
	unsigned long long blk = 0, ign = 0;
	sigset_t set;
	int fd, saved;
	pid_t pid;
	FILE *f;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL);          /* as under nohup */
	set_default(SIGPIPE);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);    /* blocked by our parent */
	cr_assert(eq(int, launch_init(), 0), "launch_init");
	sigaction(SIGPIPE, &sa, NULL);         /* the launcher's own choices */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);

	tpath(out, "status");
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert(fd >= 0, "open the output file");
	fflush(stdout);
	saved = dup(1);
	dup2(fd, 1);
	cr_assert(eq(int, launch_spawn("/bin/cat", argv, &pid), 0), "spawn cat");
	dup2(saved, 1);
	close(saved);
	close(fd);
	cr_assert(eq(int, launch_wait(pid, &res, NULL, NULL), 0), "wait");
	cr_assert(eq(int, launch_exit_code(res.status), 0), "cat succeeded");

	f = fopen(out, "r");
	cr_assert(not(zero(ptr, f)), "read the child's status");
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "SigBlk: %llx", &blk);
		sscanf(line, "SigIgn: %llx", &ign);
	}
	fclose(f);
	cr_assert(eq(ullong, (ign >> (SIGHUP - 1)) & 1, 1), "SIGHUP stays ignored, as inherited");
	cr_assert(eq(ullong, (ign >> (SIGPIPE - 1)) & 1, 0), "SIGPIPE is back to default");
	cr_assert(eq(ullong, (blk >> (SIGUSR2 - 1)) & 1, 1), "SIGUSR2 stays blocked, as inherited");
	cr_assert(eq(ullong, (blk >> (SIGUSR1 - 1)) & 1, 0), "SIGUSR1 is unblocked");
}
