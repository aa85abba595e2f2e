/*
 * The report model: every figure the text and JSON renderers show, built
 * once from the session image. Renderers only format; they compute nothing.
 */
#ifndef PTRACE_REPORT_H
#define PTRACE_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>

struct symbolizer;

#include "session.h"
#include "session_format.h"

struct rframe {
	const char *function;   /* NULL when unknown */
	const char *file;
	int line;               /* 0 when unknown */
	const char *module;
	uint64_t address;
	uint64_t offset;
	int inlined;
};

struct rstack {
	struct rframe *frames;  /* innermost first */
	unsigned n;
};

struct rsite {
	uint32_t trace;         /* 0: allocations without a stack */
	uint64_t allocs, bytes, frees, freed_bytes, temporary;
	uint64_t live_blocks, live_bytes;
	struct rstack stack;
};

struct rthread {
	int tid;
	char name[SF_NAME_LEN];
	uint64_t allocs, bytes, frees;
};

struct rmemory {
	uint64_t allocations, frees, bytes_allocated, bytes_freed, peak_bytes;
	uint64_t live_bytes, live_blocks, temporary, failed, inherited_frees;
	uint64_t hist[SF_HIST_BUCKETS];
	int sampled;            /* per-site figures are scaled estimates */
	double scale;           /* 1 / sample_rate */
	struct rsite *sites;    /* by bytes allocated, descending */
	size_t nsites;
	struct rsite **leaks;   /* sites with live blocks, by live bytes */
	size_t nleaks;
	uint64_t unsampled_live_blocks, unsampled_live_bytes;
};

struct rprocess {
	int pid, ppid;
	char **argv;            /* NULL-terminated */
	char *exe;
	int has_exit, exit_code;
	int has_signal, signal;
	int forked, execed;
	uint64_t duration_ns;
	int track_memory;
	struct rmemory mem;
	struct rthread *threads;
	size_t nthreads;
};

struct report_input {
	char **argv;            /* the command as given */
	int status;             /* wait status of the main program */
	int spawned;            /* 0: never ran (no status) */
	struct rusage ru;
	uint64_t duration_ns;
	const char *not_loaded_reason;  /* from the binary check, or NULL */
	double sample_rate;
	unsigned max_depth;
	int track_memory;
	int main_pid;
	/* Symbolization state made (and warmed) beforehand, or NULL. */
	struct symctx *symctx;
	/* Exit statuses of other processes we reaped. */
	const int *reaped_pid, *reaped_status;
	size_t nreaped;
};

struct report {
	char **argv;
	int has_exit, exit_code, has_signal, signal;
	uint64_t duration_ns;
	struct rusage ru;
	int loaded;
	char reason[256];
	uint64_t dropped_traces, dropped_procs, dropped_threads, dropped_sites;
	uint64_t events_dropped;
	double sample_rate;
	unsigned max_depth;
	int track_memory;
	char **warnings;
	size_t nwarnings;
	struct rprocess *procs;
	size_t nprocs;
	struct symctx *symctx;     /* owns the strings in the stacks */
	int own_symctx;
};

/* Build the model. s may be NULL (no session: nothing was recorded).
 * 0 or -ENOMEM. */
int report_build(struct report *r, const struct session *s, const struct report_input *in);

void report_free(struct report *r);

/*
 * Symbolization shared by every process of a report: each distinct file is
 * read once. It can be made before the program ends and warmed while it
 * runs (symctx_warm), which takes DWARF loading off the report's time.
 */
struct symctx;

/* New context; -ENOMEM. */
int symctx_new(struct symctx **out);

/* Register and read the debug info of every module recorded so far. */
void symctx_warm(struct symctx *c, const struct session *s);

void symctx_free(struct symctx *c);

/* Format a byte count for people: "812 B", "12.3 KiB", "4.0 MiB". */
const char *report_bytes(uint64_t n, char *buf, size_t len);

/* Lower and upper bound of histogram bucket b. */
void report_bucket_range(unsigned b, uint64_t *lo, uint64_t *hi);

#endif
