/*
 * Descriptors: the program's alone.
 *
 * libunwind (1.6, x86-64) validates an address before a risky read by
 * write(2)-ing one byte from it into a pipe that it opens once, with
 * pipe2, at the lowest free descriptor numbers, and keeps for the life of
 * the process. The program would see two descriptors it never opened; and
 * once it closes and reuses those numbers, libunwind reads a byte of the
 * program's input and writes a byte of memory into the program's file
 * (and, when its read fails, closes both numbers: the program's now).
 *
 * So libunwind gets no pipe. Its validation then fails safe: the address
 * counts as unreadable and that stack ends there. Validation is only
 * needed past frames without unwind information, at the far end of a
 * stack, so a stack loses at most its outermost frames.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent.h"

#define EXPORT __attribute__((visibility("default"), no_instrument_function))

NI static int from_libunwind(uintptr_t ra)
{
	return ra >= agent.unw_lo && ra < agent.unw_hi;
}

EXPORT int pipe2(int fds[2], int flags)
{
	if (unlikely(from_libunwind((uintptr_t)__builtin_return_address(0)))) {
		errno = EMFILE;
		return -1;
	}
	/* What glibc's pipe2 is: the system call. */
	return (int)syscall(SYS_pipe2, fds, flags);
}

EXPORT int pipe(int fds[2])
{
	if (unlikely(from_libunwind((uintptr_t)__builtin_return_address(0)))) {
		errno = EMFILE;
		return -1;
	}
	return (int)syscall(SYS_pipe2, fds, 0);
}
