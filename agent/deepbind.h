/*
 * dlopen(RTLD_DEEPBIND): a library opened so binds its references to its
 * own dependencies first, libc's malloc and free among them, before the
 * global scope where ours are. Our blocks carry a header glibc does not
 * know, so such a library freeing or reallocating the program's blocks
 * would crash. After the real dlopen, the allocator imports of every
 * object it loaded are pointed at ours (see deepbind.c).
 */
#ifndef PTRACE_DEEPBIND_H
#define PTRACE_DEEPBIND_H

/* dlopen(file, mode) as called from caller (the program's return
 * address): the library is found as glibc would find it for that caller,
 * then its allocator imports that bind to the allocator we sit on are
 * redirected to ours. Returns what dlopen returns. */
void *deepbind_open(const char *file, int mode, const void *caller);

#endif
