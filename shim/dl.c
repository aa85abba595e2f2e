/*
 * dlopen/dlclose: keep the module map current for symbolization.
 *
 * dlopen looks at its return address to find the calling object (for its
 * RUNPATH and $ORIGIN), so our wrapper must not be a new caller: it only
 * raises a flag and tail-calls the real dlopen. The map is rescanned at the
 * next stack capture, at dlclose and at exit.
 */
#include <dlfcn.h>
#include <link.h>
#include <stddef.h>
#include <string.h>

#include "agent.h"
#include "cfi.h"

#define UNW_LOCAL_ONLY
#include <libunwind.h>
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

/* After a dlclose: another library may be mapped where it was, with
 * other unwind rules at the same addresses. */
NI static void dl_forget_rules(void)
{
	cfi_forget();
	__atomic_store_n(&agent.unloaded, 1, __ATOMIC_RELAXED);
	unw_flush_cache(unw_local_addr_space, 0, 0);
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
		dl_forget_rules();
		/* The destructors may have set this thread up meanwhile. */
		saved = ts.state;
		if (saved != TS_BUSY) {
			ts.state = TS_BUSY;
			modules_scan(1);
			ts.state = saved;
		}
		return ret;
	}
	ret = real(handle);
	dl_forget_rules();
	return ret;
}

/*
 * A thread inside dl_iterate_phdr holds the loader's lock, and is not
 * unwound at all: the call is counted per thread (ts.in_dl). libunwind's
 * own calls, while the agent unwinds, never come here: agent/unwfd.c
 * points libunwind's GOT entry at a lock-free lookup (_dl_find_object).
 */
typedef int (*iterate_fn)(int (*)(struct dl_phdr_info *, size_t, void *), void *);

EXPORT int dl_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data)
{
	static iterate_fn real;
	iterate_fn r = __atomic_load_n(&real, __ATOMIC_RELAXED);
	int ret;

	if (unlikely(!r)) {
		r = (iterate_fn)dlsym(RTLD_NEXT, "dl_iterate_phdr");
		__atomic_store_n(&real, r, __ATOMIC_RELAXED);
	}
	ts.in_dl++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	ret = r(cb, data);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	ts.in_dl--;
	return ret;
}
