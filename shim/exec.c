/*
 * The exec family and posix_spawn: children are followed whatever
 * environment the program gives them. When the new environment lacks
 * LD_PRELOAD with the agent or a PTRACE_* variable this process started
 * with, the call gets a copy with them put back (agent/follow.c); the
 * program's array and every other entry stay as they were. glibc's
 * execv, execvp, execl... call its internal execve, not ours, so each one
 * is wrapped here.
 *
 * An exec may run in a vfork child (same memory as its parent, which is
 * suspended) or in a fork child of a threaded program: no malloc, no
 * lock. The new environment is built on the stack (mmap for a huge one),
 * and the real functions are resolved at load time.
 *
 * A program that will run in secure mode (set-user-ID or set-group-ID to
 * someone else, file capabilities) cannot be followed: the loader ignores
 * LD_PRELOAD there. Such an exec is noted in the process record first,
 * for the report, and the call goes through untouched.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "agent.h"
#include "sigown.h"
#include "follow.h"
#include "image.h"

#define EXPORT __attribute__((visibility("default"), no_instrument_function))

#define EXEC_STACK_MAX (64 * 1024) /* bytes of environment built on the stack at most */
#define EXEC_ARGS_MAX 4096         /* execl* arguments kept on the stack */

extern char **environ;

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*execvpe_fn)(const char *, char *const[], char *const[]);
typedef int (*fexecve_fn)(int, char *const[], char *const[]);
typedef int (*execveat_fn)(int, const char *, char *const[], char *const[], int);
typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *,
			char *const[], char *const[]);
typedef int (*system_fn)(const char *);
typedef FILE *(*popen_fn)(const char *, const char *);

static struct {
	execve_fn execve;
	execvpe_fn execvpe;
	fexecve_fn fexecve;
	execveat_fn execveat;
	spawn_fn posix_spawn, posix_spawnp;
	system_fn system;
	popen_fn popen;
} real;

/* At load: dlsym takes the loader's lock, which a vfork child must not. */
__attribute__((constructor)) NI static void exec_resolve(void)
{
	real.execve = (execve_fn)dlsym(RTLD_NEXT, "execve");
	real.execvpe = (execvpe_fn)dlsym(RTLD_NEXT, "execvpe");
	real.fexecve = (fexecve_fn)dlsym(RTLD_NEXT, "fexecve");
	real.execveat = (execveat_fn)dlsym(RTLD_NEXT, "execveat");
	real.posix_spawn = (spawn_fn)dlsym(RTLD_NEXT, "posix_spawn");
	real.posix_spawnp = (spawn_fn)dlsym(RTLD_NEXT, "posix_spawnp");
	real.system = (system_fn)dlsym(RTLD_NEXT, "system");
	real.popen = (popen_fn)dlsym(RTLD_NEXT, "popen");
}

#define REAL(name) (real.name ? real.name : (exec_resolve(), real.name))

/* Is this process profiled (so its children should be)? */
NI static int following(void)
{
	return __atomic_load_n(&agent.state, __ATOMIC_ACQUIRE) == AGENT_READY && agent.proc;
}

/* --- secure-mode targets -------------------------------------------------- */

/* path relative to dirfd (AT_FDCWD), or the file open at fd (path NULL). */
NI static uint32_t secure_why(int dirfd, const char *path, int fd, int atflags)
{
	struct stat st;
	struct statfs sf;
	int caps, nnp, rc;

	if (path)
		rc = fstatat(dirfd, path, &st, atflags);
	else
		rc = fstat(fd, &st);
	if (rc || !S_ISREG(st.st_mode))
		return 0;
	if (!(st.st_mode & (S_ISUID | S_ISGID))) {
		/* Only root-less processes gain by file capabilities. */
		if (getuid() == 0)
			return 0;
	}
	nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
	/* A nosuid mount grants nothing either. */
	if ((path ? (dirfd == AT_FDCWD || path[0] == '/' ? statfs(path, &sf) : -1) : fstatfs(fd, &sf)) == 0 &&
	    (sf.f_flags & ST_NOSUID))
		nnp = 1;
	if (path && (dirfd == AT_FDCWD || path[0] == '/'))
		caps = getxattr(path, "security.capability", NULL, 0) > 0;
	else if (!path)
		caps = fgetxattr(fd, "security.capability", NULL, 0) > 0;
	else
		caps = 0;
	return follow_secure_why(&st, caps, nnp, getuid(), geteuid(), getgid(), getegid());
}

/* The file execvp would run: the first executable regular file along
 * PATH (glibc's default when unset); 0 and the path in buf, or -ENOENT. */
NI static int path_search(const char *file, char *buf, size_t cap)
{
	const char *path = getenv("PATH"), *p;
	size_t fl = strlen(file);

	if (strchr(file, '/')) {
		if (fl >= cap)
			return -ENOENT;
		memcpy(buf, file, fl + 1);
		return 0;
	}
	if (!path)
		path = "/bin:/usr/bin";
	for (p = path;; p++) {
		const char *end = strchr(p, ':');
		size_t dl = end ? (size_t)(end - p) : strlen(p);
		struct stat st;

		if (dl + 1 + fl < cap) {
			memcpy(buf, p, dl);
			if (!dl)
				buf[dl++] = '.';
			buf[dl] = '/';
			memcpy(buf + dl + 1, file, fl + 1);
			if (!stat(buf, &st) && S_ISREG(st.st_mode) && (st.st_mode & 0111))
				return 0;
		}
		if (!end)
			return -ENOENT;
		p = end;
	}
}

/* Note an exec of a secure-mode target (none: NULL). errno is kept. */
NI static struct sf_unfollowed *note_secure(int dirfd, const char *path, int fd, int atflags, int search,
					   uint32_t extra)
{
	char buf[4096];
	int saved = errno;
	struct sf_unfollowed *u = NULL;
	uint32_t why;

	if (search) {
		if (path_search(path, buf, sizeof(buf)))
			goto out;
		path = buf;
	}
	why = secure_why(dirfd, path, fd, atflags);
	if (why) {
		char fdpath[32] = "/dev/fd/";

		if (!path) {
			/* fexecve: the descriptor is all there is. */
			size_t n = strlen(fdpath), k = 0;
			char d[12];
			unsigned v = (unsigned)fd;

			do
				d[k++] = (char)('0' + v % 10);
			while ((v /= 10) && k < sizeof(d));
			while (k)
				fdpath[n++] = d[--k];
			fdpath[n] = 0;
			path = fdpath;
		}
		u = follow_note(path, why | extra, extra & SF_UF_SPAWN ? 0 : getpid());
	}
out:
	errno = saved;
	return u;
}

/* --- the environment -------------------------------------------------------- */

typedef int (*env_call)(void *ctx, char *const *envp);

/* Call fn with envp completed, built in this frame (or an mmap). */
NI static int with_env(char *const *envp, env_call fn, void *ctx)
{
	size_t nptrs, nbytes, need, room;
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	void *m;
	int ret, saved;

	if (!follow_env_need(envp, &nptrs, &nbytes))
		return fn(ctx, envp);
	need = nptrs * sizeof(char *) + nbytes;
	/* The thread's own stack, with room to spare for the call itself;
	 * any other (a coroutine's, a signal stack) may be small: mapped. */
	room = ts.stack_hi && sp > ts.stack_lo && sp < ts.stack_hi ? sp - ts.stack_lo : 0;
	if (need <= EXEC_STACK_MAX && need + 24 * 1024 <= room) {
		char *area[(need + sizeof(char *) - 1) / sizeof(char *)];

		return fn(ctx, follow_env_build(envp, area, (char *)(area + nptrs)));
	}
	/* A huge environment: mapped, and unmapped if the call returns (in
	 * a vfork child whose exec succeeds it stays in the parent). */
	m = mmap(NULL, need, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return fn(ctx, envp); /* unprofiled rather than failed */
	ret = fn(ctx, follow_env_build(envp, m, (char *)m + nptrs * sizeof(char *)));
	saved = errno;
	munmap(m, need);
	errno = saved;
	return ret;
}

struct exec_args {
	int dirfd, fd, flags;
	const char *path;
	char *const *argv;
	pid_t *pid;
	const posix_spawn_file_actions_t *fa;
	const posix_spawnattr_t *attr;
};

NI static int call_execve(void *c, char *const *envp)
{
	struct exec_args *a = c;

	return REAL(execve)(a->path, a->argv, envp);
}

NI static int call_execvpe(void *c, char *const *envp)
{
	struct exec_args *a = c;

	return REAL(execvpe)(a->path, a->argv, envp);
}

NI static int call_fexecve(void *c, char *const *envp)
{
	struct exec_args *a = c;

	return REAL(fexecve)(a->fd, a->argv, envp);
}

NI static int call_execveat(void *c, char *const *envp)
{
	struct exec_args *a = c;

	return REAL(execveat)(a->dirfd, a->path, a->argv, envp, a->flags);
}

NI static int call_spawn(void *c, char *const *envp)
{
	struct exec_args *a = c;

	return REAL(posix_spawn)(a->pid, a->path, a->fa, a->attr, a->argv, envp);
}

NI static int call_spawnp(void *c, char *const *envp)
{
	struct exec_args *a = c;

	return REAL(posix_spawnp)(a->pid, a->path, a->fa, a->attr, a->argv, envp);
}

/* An exec: the target noted when it cannot be followed, else the
 * environment completed. Returns only on failure, like exec. */
NI static int do_exec(struct exec_args *a, char *const *envp, env_call fn, int search)
{
	struct sf_unfollowed *u;
	int ret, saved, masked = sigmask_exec(); /* the new image gets the program's mask */

	if (!following()) {
		ret = fn(a, envp);
		saved = errno;
		sigmask_exec_failed(masked);
		errno = saved;
		return ret;
	}
	u = note_secure(a->dirfd, a->path, a->fd, a->flags & AT_SYMLINK_NOFOLLOW, search, 0);
	ret = u ? fn(a, envp) : with_env(envp, fn, a);
	saved = errno;
	follow_note_failed(u);
	sigmask_exec_failed(masked);
	errno = saved;
	return ret;
}

NI static int do_spawn(struct exec_args *a, char *const *envp, env_call fn, int search)
{
	struct sf_unfollowed *u;
	posix_spawnattr_t masked;
	sigset_t mask;
	short flags = 0;
	int ret;

	/* The child starts with the program's mask, not the real one, which
	 * lacks the sampling signal (sigown.h); a mask the program gave
	 * (POSIX_SPAWN_SETSIGMASK) is the child's already. */
	if ((!a->attr || (posix_spawnattr_getflags(a->attr, &flags) == 0 && !(flags & POSIX_SPAWN_SETSIGMASK))) &&
	    sigmask_child(&mask)) {
		if (a->attr)
			masked = *a->attr;
		else
			posix_spawnattr_init(&masked);
		posix_spawnattr_setsigmask(&masked, &mask);
		posix_spawnattr_setflags(&masked, (short)(flags | POSIX_SPAWN_SETSIGMASK));
		a->attr = &masked;
	}
	if (!following())
		return fn(a, envp);
	u = note_secure(AT_FDCWD, a->path, -1, 0, search, SF_UF_SPAWN);
	ret = u ? fn(a, envp) : with_env(envp, fn, a);
	if (u) {
		if (ret)
			follow_note_failed(u);
		else if (a->pid)
			__atomic_store_n(&u->pid, *a->pid, __ATOMIC_RELAXED);
	}
	return ret;
}

/* --- the entry points --------------------------------------------------------- */

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	struct exec_args a = {.dirfd = AT_FDCWD, .fd = -1, .path = path, .argv = argv};

	return do_exec(&a, envp, call_execve, 0);
}

EXPORT int execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	struct exec_args a = {.dirfd = AT_FDCWD, .fd = -1, .path = file, .argv = argv};

	return do_exec(&a, envp, call_execvpe, 1);
}

EXPORT int execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	struct exec_args a = {.dirfd = AT_FDCWD, .fd = fd, .argv = argv};

	return do_exec(&a, envp, call_fexecve, 0);
}

EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
	struct exec_args a = {.dirfd = dirfd, .fd = dirfd, .path = path, .argv = argv, .flags = flags};

	const char *p = path;

	/* Declared nonnull, but a NULL must fail in the kernel, not here. */
	__asm__("" : "+r"(p));
	/* AT_EMPTY_PATH with "": the descriptor itself. */
	if ((flags & AT_EMPTY_PATH) && p && !*p)
		a.path = NULL;
	return do_exec(&a, envp, call_execveat, 0);
}

/* execl and friends: the arguments as an array on the stack, as glibc
 * builds it; more than EXEC_ARGS_MAX fail with E2BIG. */
NI static size_t va_count(const char *arg0, va_list ap)
{
	size_t n = 0;
	va_list c;

	if (!arg0)
		return 0;
	va_copy(c, ap);
	for (n = 1; va_arg(c, const char *) && n <= EXEC_ARGS_MAX; n++)
		;
	va_end(c);
	return n;
}

/* argv[0..n] from arg0 and ap (argv[n] = NULL); ap is left after the NULL. */
NI static void va_fill(char **argv, const char *arg0, size_t n, va_list *ap)
{
	argv[0] = (char *)arg0;
	for (size_t i = 1; i <= n && arg0; i++)
		argv[i] = va_arg(*ap, char *);
	argv[n] = NULL;
}

#define EXEC_L(first, arg, call, with_env)                                                                     	do {                                                                                                   		va_list ap;                                                                                    		size_t n;                                                                                                                                                                                                     		va_start(ap, arg);                                                                             		n = va_count(arg, ap);                                                                         		if (n > EXEC_ARGS_MAX) {                                                                       			va_end(ap);                                                                            			errno = E2BIG;                                                                         			return -1;                                                                             		}                                                                                              		{                                                                                              			char *argv[n + 1];                                                                     			char *const *envp = environ;                                                                                                                                                                          			va_fill(argv, arg, n, &ap);                                                            			if (with_env)                                                                          				envp = va_arg(ap, char *const *);                                              			va_end(ap);                                                                            			return call(first, argv, envp);                                                        		}                                                                                              	} while (0)

EXPORT int execl(const char *path, const char *arg, ...)
{
	EXEC_L(path, arg, execve, 0);
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
	EXEC_L(file, arg, execvpe, 0);
}

EXPORT int execle(const char *path, const char *arg, ...)
{
	EXEC_L(path, arg, execve, 1);
}

EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
		       const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	struct exec_args a = {.dirfd = AT_FDCWD, .fd = -1, .path = path, .argv = argv, .pid = pid, .fa = fa,
			      .attr = attr};

	return do_spawn(&a, envp, call_spawn, 0);
}

EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
			const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	struct exec_args a = {.dirfd = AT_FDCWD, .fd = -1, .path = file, .argv = argv, .pid = pid, .fa = fa,
			      .attr = attr};

	return do_spawn(&a, envp, call_spawnp, 1);
}

/*
 * system() and popen() spawn `sh -c` with glibc's internal posix_spawn,
 * the program's environ and the thread's real signal mask. So:
 * - the mask: the sampling signal is blocked for real around the call
 *   when the program has it blocked (sigown.h), so the shell inherits the
 *   program's mask (this thread waits in system() meanwhile; popen
 *   returns at once);
 * - the environment: when environ lacks our variables (the program
 *   removed them) and the process has one thread, environ points to a
 *   completed copy for the call; with other threads running that would
 *   race with their getenv/setenv, so the child is not followed and the
 *   report says so.
 */
struct shell_args {
	const char *cmd, *mode;
	int ret;
	FILE *f;
	int is_popen;
};

NI static void call_shell_plain(struct shell_args *a)
{
	if (a->is_popen)
		a->f = REAL(popen)(a->cmd, a->mode);
	else
		a->ret = REAL(system)(a->cmd);
}

NI static int call_shell(void *c, char *const *envp)
{
	struct shell_args *a = c;
	char **saved = environ;

	environ = (char **)envp;
	call_shell_plain(a);
	environ = saved;
	return 0;
}

/* 1 when this process has no thread but the caller (/proc/self/status). */
NI static int single_threaded(void)
{
	char buf[2048];
	size_t n = image_read_file("/proc/self/status", buf, sizeof(buf) - 1);
	const char *t;

	buf[n] = 0;
	t = strstr(buf, "\nThreads:\t");
	return t && t[10] == '1' && t[11] == '\n';
}

NI static void run_shell(struct shell_args *a)
{
	size_t nptrs, nbytes;
	int masked = a->cmd ? sigmask_exec() : 0, saved;

	if (!a->cmd || !following() || !follow_env_need(environ, &nptrs, &nbytes)) {
		call_shell_plain(a);
	} else if (single_threaded()) {
		with_env(environ, call_shell, a);
	} else {
		struct sf_unfollowed *u = follow_note("/bin/sh", SF_UF_ENV | SF_UF_SPAWN, 0);

		call_shell_plain(a);
		if (u && (a->is_popen ? !a->f : a->ret == -1))
			follow_note_failed(u);
	}
	saved = errno;
	sigmask_exec_failed(masked);
	errno = saved;
}

EXPORT int system(const char *cmd)
{
	struct shell_args a = {.cmd = cmd};

	run_shell(&a);
	return a.ret;
}

EXPORT FILE *popen(const char *cmd, const char *mode)
{
	struct shell_args a = {.cmd = cmd, .mode = mode, .is_popen = 1};

	run_shell(&a);
	return a.f;
}
