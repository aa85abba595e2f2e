/*
 * mmap, munmap and mremap, interposed for agent/mmaps.c: the call is
 * made as glibc makes it (the system call, glibc's checks first), then
 * recorded. The program sees the same result and errno.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent.h"
#include "mmaps.h"

#define EXPORT __attribute__((visibility("default"), no_instrument_function))

NI static void thread_ready(void)
{
	if (ts.state == TS_UNINIT && __atomic_load_n(&agent.state, __ATOMIC_ACQUIRE) == AGENT_READY) {
		int saved = errno;
		agent_thread_init();
		errno = saved;
	}
}

NI static void *raw_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	/* glibc's own check: an offset must be a multiple of the page. */
	if (off & 4095) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p = raw_mmap(addr, len, prot, flags, fd, off);

	if (p != MAP_FAILED && (flags & MAP_ANONYMOUS)) {
		thread_ready();
		if (ts.state == TS_READY)
			mmaps_on_map(p, len, flags);
	}
	return p;
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mmap(addr, len, prot, flags, fd, off);
}

EXPORT int munmap(void *addr, size_t len)
{
	int r = (int)syscall(SYS_munmap, addr, len);

	if (!r && ts.state == TS_READY)
		mmaps_on_unmap(addr, len);
	return r;
}

EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	void *want = NULL, *p;

	if (flags & MREMAP_FIXED) {
		va_list ap;

		va_start(ap, flags);
		want = va_arg(ap, void *);
		va_end(ap);
	}
	p = (void *)syscall(SYS_mremap, old, old_len, new_len, flags, want);
	if (p != MAP_FAILED && ts.state == TS_READY)
		mmaps_on_remap(old, old_len, p, new_len);
	return p;
}
