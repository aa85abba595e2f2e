/*
 * Figures over time (docs/time.md): while the program runs, the launcher
 * reads the session image's counters every interval and keeps, per
 * process, one point per read: live heap bytes and blocks, RSS, the
 * allocations and CPU samples so far, and the allocation sites holding
 * the most live bytes then. The hooks do nothing for this: every figure
 * is a counter the agent keeps anyway, read from outside.
 *
 * Memory stays bounded however long the program runs: when a process has
 * SERIES_MAX_POINTS points, every other one goes (the heap's highest
 * point always stays) and points are kept half as often from then on.
 * The reads themselves are budgeted: a read that took w makes the next
 * one wait at least 100 w, so the reader takes at most 1% of one CPU
 * (the report says when the interval grew for that).
 *
 * The peak's composition: each time the live heap passes its highest
 * point so far, every site's live bytes are read (within the same
 * budget), so what was live at the peak is known per site, exactly as of
 * that read; its time and live bytes are kept with it, since the agent's
 * own peak (peak_bytes, exact) can fall between two reads.
 *
 * Read back from a profile file, a series is untrusted input:
 * series_parse checks every count, index and figure.
 */
#ifndef PTRACE_CLI_SERIES_H
#define PTRACE_CLI_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "session.h"

#define SERIES_MAX_POINTS 2048u
#define SERIES_TOP_SITES 16u     /* sites kept per point, by live bytes */
#define SERIES_DEFAULT_INTERVAL_NS 10000000ull /* --interval=10ms */

struct series_site {
	uint32_t trace;          /* 0: allocations without a stack */
	uint64_t live_bytes;     /* raw (unscaled by the sample rate) */
	uint64_t live_blocks;
};

struct series_point {
	uint64_t t_ns;           /* since the session started (CLOCK_MONOTONIC) */
	uint64_t live_bytes, live_blocks;
	uint64_t rss_bytes;      /* 0: unknown (the process had gone) */
	uint64_t allocs, alloc_bytes; /* so far */
	uint64_t cpu_samples;    /* so far */
	uint32_t site0, nsites;  /* its top sites: series_proc.sites[site0 .. +nsites) */
};

struct series_proc {
	uint32_t slot;           /* process slot in the image */
	int32_t pid;
	uint32_t flags;          /* 0 (reserved) */
	struct series_point *pts;
	size_t n, cap;
	struct series_site *sites;  /* the points' top sites, pooled */
	size_t nsites, sites_cap;
	/* The highest point of the heap among the points. */
	uint64_t peak_t_ns, peak_live;
	/* Every site at the read nearest the peak (0 sites: none made). */
	uint64_t comp_t_ns, comp_live;
	struct series_site *comp;
	size_t ncomp;
	/* Reader state (not saved). */
	uint64_t step_ns;        /* its points' spacing (0: the interval); doubles at each thinning */
	uint64_t last_kept_ns;
	int done;
};

struct series {
	uint64_t interval_ns;    /* asked for */
	uint64_t longest_ns;     /* the longest wait between reads that the budget imposed */
	uint64_t step_ns;        /* kept points are at least this far apart (grows by thinning) */
	struct series_proc *procs;
	size_t nprocs, cap;
	/* Reader state (not saved): the sites map, reused by every read. */
	void *acc;
	size_t acc_cap, acc_used;
};

void series_init(struct series *sr, uint64_t interval_ns);

/* Read every process of s once, at t_ns since the session started.
 * final: the program has ended (each process gets its last point).
 * Returns the ns the read took (CPU-bound work, for the budget). */
uint64_t series_read(struct series *sr, const struct session *s, uint64_t t_ns, int final);

/* The series of process slot, or NULL. */
const struct series_proc *series_find(const struct series *sr, uint32_t slot, int pid);

/* Serialize into *out (malloc'd). 0 or -ENOMEM. */
int series_save(const struct series *sr, unsigned char **out, size_t *len);

/* Parse what series_save wrote. 0, -EPROTO (malformed), -ENOMEM. */
int series_parse(struct series *sr, const void *data, size_t len);

/* A deep copy (the launcher's live series, for a snapshot). 0, -ENOMEM. */
int series_copy(struct series *dst, const struct series *src);

void series_free(struct series *sr);

#endif
