/*
 * The module map the launcher symbolizes with: every loaded ELF object
 * with its load bias and address range, kept in the process record.
 * Scans are rare (start, dlopen, dlclose, exit) and never block: a scan
 * already running elsewhere makes this one a no-op that stays pending.
 */
#ifndef PTRACE_MODULES_H
#define PTRACE_MODULES_H

#include <stdint.h>

/* Record objects not yet in the map. With mark_unloaded, also flag the
 * recorded objects that are no longer loaded. */
void modules_scan(int mark_unloaded);

/* Range of the object containing addr, as dl_iterate_phdr sees it. */
int modules_range_of(const void *addr, uint64_t *lo, uint64_t *hi);

#endif
