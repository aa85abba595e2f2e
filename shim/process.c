/*
 * Process and thread identity: exits that bypass atexit (_exit, _Exit,
 * quick_exit, the parent's end inside daemon()), and thread names set
 * with pthread_setname_np.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent.h"
#include "cpu.h"
#include "session_format.h"

#define EXPORT __attribute__((visibility("default"), no_instrument_function))

typedef void (*exit_fn)(int);
typedef int (*daemon_fn)(int, int);
typedef int (*setname_fn)(pthread_t, const char *);
typedef int (*setrlimit_fn)(__rlimit_resource_t, const struct rlimit *);
typedef int (*prlimit_fn)(pid_t, __rlimit_resource_t, const struct rlimit *, struct rlimit *);

/* Async-signal-safe, as _exit itself (see agent_process_exit). */
EXPORT void _exit(int code)
{
	exit_fn real = agent.real.exit_raw;

	agent_process_exit(code);
	if (real)
		real(code);
	/* Before the agent knew libc's (an _exit from a constructor that ran
	 * before ours): what libc's does. */
	for (;;) {
		syscall(SYS_exit_group, code);
		syscall(SYS_exit, code);
	}
}

/* The at_quick_exit handlers run, then glibc's internal _exit. */
EXPORT void quick_exit(int code)
{
	static exit_fn real;

	if (!real)
		real = (exit_fn)dlsym(RTLD_NEXT, "quick_exit");
	agent_process_exit(code);
	real(code);
	__builtin_unreachable();
}

/* The parent ends inside daemon(), by glibc's internal _exit. */
EXPORT int daemon(int nochdir, int noclose)
{
	static daemon_fn real;
	int ret;

	if (!real)
		real = (daemon_fn)dlsym(RTLD_NEXT, "daemon");
	agent_daemon_enter();
	ret = real(nochdir, noclose);
	agent_daemon_leave(ret);
	return ret;
}

EXPORT void _Exit(int code)
{
	_exit(code);
}

EXPORT int pthread_setname_np(pthread_t thread, const char *name)
{
	static setname_fn real;
	int ret;

	if (!real)
		real = (setname_fn)dlsym(RTLD_NEXT, "pthread_setname_np");
	ret = real(thread, name);
	if (ret == 0 && pthread_equal(thread, pthread_self()) && ts.state == TS_READY && ts.rec) {
		size_t n = strlen(name);
		if (n > SF_NAME_LEN - 1)
			n = SF_NAME_LEN - 1;
		memset(ts.rec->name, 0, SF_NAME_LEN);
		memcpy(ts.rec->name, name, n);
	}
	return ret;
}

/*
 * RLIMIT_SIGPENDING lowered by the program: the sampler's POSIX timers
 * each hold one queued signal of it, so when it leaves them no room they
 * move to perf events (agent/cpu.c), before the call returns. Other
 * limits, and other processes' (prlimit with a pid), pass untouched.
 */
NI static void limit_set(int ret, pid_t pid, int resource, const struct rlimit *lim)
{
	if (ret == 0 && lim && resource == RLIMIT_SIGPENDING && (pid == 0 || pid == agent.pid) &&
	    agent.pid == getpid())
		cpu_sigpending_changed();
}

EXPORT int setrlimit(__rlimit_resource_t resource, const struct rlimit *lim)
{
	static setrlimit_fn real;
	int ret;

	if (!real)
		real = (setrlimit_fn)dlsym(RTLD_NEXT, "setrlimit");
	ret = real(resource, lim);
	limit_set(ret, 0, (int)resource, lim);
	return ret;
}

/* On x86-64 struct rlimit64 is struct rlimit, and glibc's *64 calls are
 * the same functions. */
EXPORT int setrlimit64(__rlimit_resource_t resource, const struct rlimit64 *lim)
{
	return setrlimit(resource, (const struct rlimit *)lim);
}

EXPORT int prlimit(pid_t pid, __rlimit_resource_t resource, const struct rlimit *lim, struct rlimit *old)
{
	static prlimit_fn real;
	int ret;

	if (!real)
		real = (prlimit_fn)dlsym(RTLD_NEXT, "prlimit");
	ret = real(pid, resource, lim, old);
	limit_set(ret, pid, (int)resource, lim);
	return ret;
}

EXPORT int prlimit64(pid_t pid, __rlimit_resource_t resource, const struct rlimit64 *lim, struct rlimit64 *old)
{
	return prlimit(pid, resource, (const struct rlimit *)lim, (struct rlimit *)old);
}
