/*
 * Process and thread identity: exits that bypass atexit (_exit, _Exit,
 * quick_exit, the parent's end inside daemon()), and thread names set
 * with pthread_setname_np.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent.h"
#include "session_format.h"

#define EXPORT __attribute__((visibility("default"), no_instrument_function))

typedef void (*exit_fn)(int);
typedef int (*daemon_fn)(int, int);
typedef int (*setname_fn)(pthread_t, const char *);

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
