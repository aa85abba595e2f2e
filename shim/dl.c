/*
 * dlopen/dlclose: keep the module map current for symbolization.
 *
 * dlopen looks at its return address to find the calling object (for its
 * RUNPATH and $ORIGIN), so our wrapper must not be a new caller: it only
 * raises a flag and tail-calls the real dlopen. The map is rescanned at the
 * next stack capture, at dlclose and at exit.
 */
#include <dlfcn.h>

#include "agent.h"
#include "deepbind.h"
#include "modules.h"

#define EXPORT __attribute__((visibility("default"), no_instrument_function))

typedef void *(*dlopen_fn)(const char *, int);
typedef int (*dlclose_fn)(void *);

EXPORT void *dlopen(const char *file, int mode)
{
	dlopen_fn real = agent.real.dlopen;

	__atomic_store_n(&agent.modules_dirty, 1, __ATOMIC_RELAXED);
	if (unlikely(!real)) {
		agent_init();
		real = agent.real.dlopen;
		if (!real)
			real = (dlopen_fn)dlsym(RTLD_NEXT, "dlopen");
	}
	/* Our blocks must not reach a libc that such a library binds to
	 * directly: see agent/deepbind.c. */
	if (unlikely((mode & RTLD_DEEPBIND) && file && agent.tracking && agent.real.dlopen))
		return deepbind_open(file, mode, __builtin_return_address(0));
	return real(file, mode); /* a sibling call: see the comment above */
}

EXPORT int dlclose(void *handle)
{
	dlclose_fn real = agent.real.dlclose;
	int ret;

	if (unlikely(!real)) {
		agent_init();
		real = agent.real.dlclose ? agent.real.dlclose : (dlclose_fn)dlsym(RTLD_NEXT, "dlclose");
	}
	if (agent.proc && ts.state != TS_BUSY) {
		uint8_t saved = ts.state;

		/* Busy only around our own work: the library's destructors run
		 * inside the real dlclose and are the program's code. */
		ts.state = TS_BUSY;
		modules_scan(0); /* record what is about to go before it goes */
		ts.state = saved;
		ret = real(handle);
		/* The destructors may have set this thread up meanwhile. */
		saved = ts.state;
		if (saved != TS_BUSY) {
			ts.state = TS_BUSY;
			modules_scan(1);
			ts.state = saved;
		}
		return ret;
	}
	return real(handle);
}
