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

/*
 * libunwind finds a frame's unwind tables with dl_iterate_phdr, which
 * takes the loader's lock. Inside a signal handler (a CPU sample, a crash
 * or dump) that can deadlock: the thread the signal interrupted may hold a
 * lock (a malloc arena, mid-fork; a mutex of the program) that a thread
 * inside dlopen or dlclose, holding the loader's lock, waits for. So while
 * the agent unwinds (ts.in_unwind), the lookup goes through
 * _dl_find_object instead, which glibc makes lock-free and async-signal-
 * safe for unwinders: the one object holding the address, described as
 * dl_iterate_phdr would (its program headers read from its own mapping).
 * The address is the first field of libunwind's callback data (its
 * dwarf_callback_data: ip, then the rest); a callback that looks for
 * something else finds nothing in the one object offered, and the stack
 * ends there, never worse.
 *
 * Outside our unwinding, the call is counted per thread (ts.in_dl): a
 * thread inside it holds the loader's lock, and is not unwound at all.
 */
typedef int (*iterate_fn)(int (*)(struct dl_phdr_info *, size_t, void *), void *);

NI static int dl_find_one(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data)
{
	struct dl_find_object fo;
	struct dl_phdr_info info;
	const ElfW(Ehdr) *eh;
	uintptr_t lo, hi, ph;

	if (!data || _dl_find_object((void *)*(const uintptr_t *)data, &fo) != 0 || !fo.dlfo_link_map)
		return 0;
	lo = (uintptr_t)fo.dlfo_map_start;
	hi = (uintptr_t)fo.dlfo_map_end;
	eh = (const ElfW(Ehdr) *)lo;
	if (hi - lo < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_phentsize != sizeof(ElfW(Phdr)))
		return 0;
	ph = lo + eh->e_phoff;
	if (eh->e_phoff >= hi - lo || (uint64_t)eh->e_phnum * sizeof(ElfW(Phdr)) > hi - ph)
		return 0;
	memset(&info, 0, sizeof(info));
	info.dlpi_addr = fo.dlfo_link_map->l_addr;
	info.dlpi_name = fo.dlfo_link_map->l_name;
	info.dlpi_phdr = (const ElfW(Phdr) *)ph;
	info.dlpi_phnum = eh->e_phnum;
	/* Without dlpi_adds and dlpi_subs: a caller caching by them (as
	 * libgcc's does) must not take these zeros for a generation. */
	return cb(&info, offsetof(struct dl_phdr_info, dlpi_adds), data);
}

EXPORT int dl_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data)
{
	static iterate_fn real;
	iterate_fn r = __atomic_load_n(&real, __ATOMIC_RELAXED);
	int ret;

	if (ts.in_unwind)
		return dl_find_one(cb, data);
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
