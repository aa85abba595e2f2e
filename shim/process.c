/*
 * Process and thread identity: exit codes that bypass atexit, and thread
 * names set with pthread_setname_np.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "session_format.h"

#define EXPORT __attribute__((visibility("default"), no_instrument_function))

typedef void (*exit_fn)(int);
typedef int (*setname_fn)(pthread_t, const char *);

EXPORT void _exit(int code)
{
	agent_process_exit(code);
	((exit_fn)agent.real.exit_raw)(code);
	__builtin_unreachable();
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
