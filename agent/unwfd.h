/*
 * Keep libunwind off the program's descriptors (see unwfd.c).
 */
#ifndef PTRACE_UNWFD_H
#define PTRACE_UNWFD_H

/* Redirect libunwind's pipe2/read/write/syscall/close imports to our
 * emulation. Call before libunwind's first use. 0 or -errno (then
 * libunwind is left as it is). */
int unwfd_install(const void *addr_in_libunwind);

#endif
