/*
 * follow: the environment a child gets back (LD_PRELOAD with the agent,
 * the PTRACE_* variables), built without touching the program's array;
 * which execs run in secure mode; and the /proc/self/maps line parser the
 * async-signal-safe module scan uses.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <string.h>

#include "follow.h"
#include "modules.h"
#include "session_format.h"
#include "settings.h"

#define AG "/opt/pr/libptrace-run.so"

static char *const start_env[] = {"HOME=/root", "LD_PRELOAD=" AG ":/usr/lib/libextra.so", "PTRACE_SESSION=/proc/9/fd/3",
				  "PTRACE_CPU_HZ=100", "PATH=/bin", NULL};

/* The child's environment for envp, as a NULL-terminated array of n. */
static char **build(char *const *envp, size_t *n, char *buf, char **ptrs)
{
	size_t np, nb;

	follow_save_as(start_env, AG);
	if (!follow_env_need(envp, &np, &nb))
		return NULL;
	cr_assert(le(sz, np, 16), "pointers needed");
	cr_assert(le(sz, nb, 512), "bytes needed");
	*n = np - 1;
	return follow_env_build(envp, ptrs, buf);
}

Test(follow, own_env_gets_the_variables_back)
{
	char *const envp[] = {"FOO=bar", NULL};
	char buf[512], *ptrs[16], **e;
	size_t n;

	e = build(envp, &n, buf, ptrs);
	cr_assert(e != NULL, "an environment without ours needs a new one");
	cr_assert(eq(sz, n, 4), "FOO and the three saved variables");
	cr_assert(eq(str, e[0], "FOO=bar"), "the program's own first");
	cr_assert(eq(str, e[1], "LD_PRELOAD=" AG ":/usr/lib/libextra.so"), "LD_PRELOAD as the launcher set it");
	cr_assert(eq(str, e[2], "PTRACE_SESSION=/proc/9/fd/3"), "the session");
	cr_assert(eq(str, e[3], "PTRACE_CPU_HZ=100"), "the settings");
	cr_assert(eq(ptr, e[4], NULL), "terminated");
	cr_assert(eq(str, envp[0], "FOO=bar"), "the program's array is unchanged");
	cr_assert(eq(ptr, envp[1], NULL), "the program's array is unchanged");
}

Test(follow, complete_env_is_passed_as_it_is)
{
	size_t np, nb;

	follow_save_as(start_env, AG);
	cr_assert(eq(int, follow_env_need(start_env, &np, &nb), 0), "nothing lacking: no copy");
}

Test(follow, present_variables_are_not_duplicated)
{
	char *const envp[] = {"PTRACE_SESSION=/other", "LD_PRELOAD=" AG, "X=1", NULL};
	char buf[512], *ptrs[16], **e;
	size_t n;

	e = build(envp, &n, buf, ptrs);
	cr_assert(e != NULL, "PTRACE_CPU_HZ is missing");
	cr_assert(eq(sz, n, 4), "only the missing one added");
	cr_assert(eq(str, e[0], "PTRACE_SESSION=/other"), "the program's value kept");
	cr_assert(eq(str, e[1], "LD_PRELOAD=" AG), "LD_PRELOAD kept, it has the agent");
	cr_assert(eq(str, e[2], "X=1"), "other entries intact");
	cr_assert(eq(str, e[3], "PTRACE_CPU_HZ=100"), "the missing setting");
}

Test(follow, program_preload_keeps_its_libraries_after_ours)
{
	char *const envp[] = {"LD_PRELOAD=/lib/libmine.so", "PTRACE_SESSION=/proc/9/fd/3", "PTRACE_CPU_HZ=100", NULL};
	char *const empty[] = {"LD_PRELOAD=", "PTRACE_SESSION=/proc/9/fd/3", "PTRACE_CPU_HZ=100", NULL};
	char buf[512], *ptrs[16], **e;
	size_t n;

	e = build(envp, &n, buf, ptrs);
	cr_assert(e != NULL, "a new environment");
	cr_assert(eq(sz, n, 3), "the same entries");
	cr_assert(eq(str, e[0], "LD_PRELOAD=" AG ":/lib/libmine.so"), "ours first, the program's after");
	e = build(empty, &n, buf, ptrs);
	cr_assert(e != NULL, "a new environment");
	cr_assert(eq(str, e[0], "LD_PRELOAD=" AG), "an empty LD_PRELOAD becomes ours");
}

Test(follow, null_env_gets_the_variables)
{
	char buf[512], *ptrs[16], **e;
	size_t n;

	e = build(NULL, &n, buf, ptrs);
	cr_assert(e != NULL, "a new environment");
	cr_assert(eq(sz, n, 3), "the three saved variables");
	cr_assert(eq(str, e[0], "LD_PRELOAD=" AG ":/usr/lib/libextra.so"), "LD_PRELOAD");
}

Test(follow, secure_targets)
{
	struct stat st = {.st_mode = S_IFREG | 04755, .st_uid = 0, .st_gid = 0};

	cr_assert(eq(u32, follow_secure_why(&st, 0, 0, 1000, 1000, 1000, 1000), SF_UF_SETUID), "setuid root, run by a user");
	cr_assert(eq(u32, follow_secure_why(&st, 0, 0, 0, 0, 0, 0), 0), "setuid root, run by root: not secure");
	cr_assert(eq(u32, follow_secure_why(&st, 0, 1, 1000, 1000, 1000, 1000), 0), "no_new_privs: nothing granted");
	st.st_mode = S_IFREG | 02755;
	st.st_gid = 42;
	cr_assert(eq(u32, follow_secure_why(&st, 0, 0, 1000, 1000, 1000, 1000), SF_UF_SETGID), "setgid");
	st.st_mode = S_IFREG | 02745;
	cr_assert(eq(u32, follow_secure_why(&st, 0, 0, 1000, 1000, 1000, 1000), 0), "setgid without group x: locking");
	st.st_mode = S_IFREG | 0755;
	cr_assert(eq(u32, follow_secure_why(&st, 1, 0, 1000, 1000, 1000, 1000), SF_UF_CAPS), "file capabilities");
	cr_assert(eq(u32, follow_secure_why(&st, 1, 0, 0, 0, 0, 0), 0), "file capabilities, root");
	cr_assert(eq(u32, follow_secure_why(&st, 0, 0, 1000, 1000, 1000, 1000), 0), "a plain program");
}

Test(follow, secure_mode_reads_no_variable)
{
	extern int settings_test_secure;
	char *const envp[] = {"PTRACE_SESSION=/etc/shadow", "PTRACE_SAMPLE_RATE=bogus", NULL};
	struct settings s;

	settings_test_secure = 1;
	settings_load(&s, envp);
	settings_test_secure = -1;
	cr_assert(eq(ptr, (void *)s.session, NULL), "no session under AT_SECURE");
	cr_assert(eq(u32, s.bad, 0), "the bad value was not even read");
	settings_load(&s, envp);
	cr_assert(s.session != NULL, "read when not secure");
	cr_assert(eq(str, (char *)s.session, "/etc/shadow"), "read when not secure");
}

Test(modules, maps_line)
{
	char a[] = "7f12a000-7f12b000 r-xp 00001000 fe:01 1234567                    /usr/lib/x86_64-linux-gnu/libc.so.6";
	char b[] = "55d0c000-55d0d000 rw-p 00000000 00:00 0                          [heap]";
	char c[] = "7f00-8f00 r--p 00000000 08:11 99 /tmp/my lib.so (deleted)";
	char d[] = "garbage";
	struct modules_line l;

	cr_assert(eq(int, modules_parse_line(a, &l), 0), "a mapping");
	cr_assert(eq(u64, l.start, 0x7f12a000), "start");
	cr_assert(eq(u64, l.end, 0x7f12b000), "end");
	cr_assert(eq(u64, l.offset, 0x1000), "offset");
	cr_assert(eq(u64, l.inode, 1234567), "inode");
	cr_assert(eq(u32, l.dev, 0xfe01), "device");
	cr_assert(eq(int, l.exec, 1), "executable");
	cr_assert(eq(str, l.path, "/usr/lib/x86_64-linux-gnu/libc.so.6"), "path");
	cr_assert(eq(int, modules_parse_line(b, &l), 0), "an anonymous mapping");
	cr_assert(eq(ptr, l.path, NULL), "no file");
	cr_assert(eq(int, modules_parse_line(c, &l), 0), "a deleted file");
	cr_assert(eq(str, l.path, "/tmp/my lib.so"), "spaces kept, (deleted) cut");
	cr_assert(eq(int, l.exec, 0), "not executable");
	cr_assert(eq(int, modules_parse_line(d, &l), -EINVAL), "not a mapping");
}
