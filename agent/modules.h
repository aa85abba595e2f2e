/*
 * The module map the launcher symbolizes with: every loaded ELF object
 * with its load bias and address range, kept in the process record.
 *
 * Two ways to read it. dl_iterate_phdr is cheap but takes the loader's
 * lock: it is only used where the program itself could take that lock
 * (start, dlclose, the allocator's stack capture) and never in a fork
 * child, where the lock may be held for ever by a thread that did not
 * survive the fork. /proc/self/maps costs a read of the kernel's map but
 * takes no lock and allocates nothing: it is what exit paths, signal
 * handlers and fork children use. Scans never block on each other: a scan
 * already running elsewhere makes this one a no-op that stays pending.
 */
#ifndef PTRACE_MODULES_H
#define PTRACE_MODULES_H

#include <stddef.h>
#include <stdint.h>

/* Record objects not yet in the map. With mark_unloaded, also flag the
 * recorded objects that are no longer loaded. Not async-signal-safe in
 * the parent (dl_iterate_phdr); in a fork child it is modules_scan_maps. */
void modules_scan(int mark_unloaded);

/* The same from /proc/self/maps: async-signal-safe (no lock, no malloc),
 * for exit paths, signal handlers and fork children. */
void modules_scan_maps(int mark_unloaded);

/* modules_scan_maps(0) from a copy of /proc/self/maps read just now
 * (the leak scan's, at exit: one read of it, not two). */
void modules_scan_maps_text(const char *text, size_t len);

/* Range of the object containing addr, as dl_iterate_phdr sees it. */
int modules_range_of(const void *addr, uint64_t *lo, uint64_t *hi);

/*
 * One line of /proc/<pid>/maps: its range, whether it is executable, its
 * file offset, device and inode, and its path (NUL-terminated in place,
 * " (deleted)" cut off). 0, or -EINVAL for a line that is not a mapping.
 * Exposed for the unit tests.
 */
struct modules_line {
	uint64_t start, end, offset, inode;
	uint32_t dev;
	int exec;
	char *path;  /* NULL: anonymous or [special] */
};
int modules_parse_line(char *line, struct modules_line *out);

#endif
