/*
 * Anonymous memory the program maps itself (mmap, munmap, mremap): its
 * own arenas (pymalloc's, a custom allocator's, a JIT's), which the heap
 * figures never see. Each mapping is recorded with the stack that made
 * it, in a process-wide table of regions in the image; its site's
 * counters are atomic (maps are rare next to mallocs), so a region
 * unmapped by another thread than the one that mapped it is simple.
 * glibc's own mappings (malloc's arenas and large blocks, the loader's)
 * use its internal entry points and are not seen: they are the heap's.
 */
#ifndef PTRACE_MMAPS_H
#define PTRACE_MMAPS_H

#include <stddef.h>
#include <stdint.h>

/* After a successful mmap(addr, len, prot, flags, ...) that returned p. */
void mmaps_on_map(void *p, size_t len, int flags);

/* After a successful munmap(addr, len): what was recorded there ends. */
void mmaps_on_unmap(void *addr, size_t len);

/* After a successful mremap(old, old_len, new_len) that returned p. */
void mmaps_on_remap(void *old, size_t old_len, void *p, size_t new_len);

#endif
