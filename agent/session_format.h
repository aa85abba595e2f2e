/*
 * The session image: the one format shared by the agent (writer) and the
 * launcher (reader). A memfd created by the launcher and mapped MAP_SHARED
 * by every profiled process. Everything is addressed by byte offsets from
 * the start of the image, never by pointers, so the image is position
 * independent: the launcher reads it live, after a crash, or from a file.
 *
 * Concurrency rules: space comes from an atomic bump allocator; records are
 * written fully before their offset is published with a release store (or a
 * release CAS on a list head / table slot); readers load offsets with
 * acquire. Counters in a thread record have a single writer (the thread
 * that owns the record) and are read by the launcher only.
 *
 * Bump SF_VERSION whenever a layout here changes.
 */
#ifndef PTRACE_SESSION_FORMAT_H
#define PTRACE_SESSION_FORMAT_H

#include <stdint.h>

#define SF_MAGIC 0x31736e7372747270ULL /* "prtrsns1" little endian */
#define SF_VERSION 1u

#define SF_MAX_PROCS 1024u      /* process records per session */
#define SF_DEPTH_LIMIT 256u     /* hard cap on PTRACE_MAX_DEPTH */
#define SF_DEFAULT_DEPTH 64u
#define SF_HIST_BUCKETS 48u     /* size histogram: bucket b holds [2^(b-1), 2^b) */
#define SF_NAME_LEN 16u         /* thread names, as in pthread_setname_np */
#define SF_CMD_LEN 512u
#define SF_PATH_LEN 512u

/* Offsets and ids: 0 always means "none". */
typedef uint64_t sf_off;

/* Agent status flags, per process (sf_process.flags). */
#define SF_PF_BAD_SAMPLE_RATE  (1u << 0) /* PTRACE_SAMPLE_RATE invalid: default used */
#define SF_PF_BAD_MAX_DEPTH    (1u << 1) /* PTRACE_MAX_DEPTH invalid: default used */
#define SF_PF_BAD_TRACK_MEMORY (1u << 2) /* PTRACE_TRACK_MEMORY invalid: default used */
#define SF_PF_EXITED           (1u << 3) /* exit()/_exit() seen: exit_code valid */
#define SF_PF_EXECED           (1u << 4) /* image replaced by execve */
#define SF_PF_FORKED           (1u << 5) /* created by fork() from a profiled parent */
#define SF_PF_THREADS_FULL     (1u << 6) /* no space for a thread record */

enum sf_proc_state {
	SF_PROC_FREE = 0,
	SF_PROC_INIT = 1,    /* slot claimed, record being filled */
	SF_PROC_RUNNING = 2,
	SF_PROC_DONE = 3,    /* agent ran its exit path */
};

enum sf_thread_state {
	SF_THREAD_USED = 1,    /* owned by a live thread */
	SF_THREAD_EXITING = 2, /* owner ran its exit path; claimable once the
	                          kernel says that tid is gone */
};

struct sf_header {
	uint64_t magic;
	uint32_t version;
	uint32_t header_size;   /* sizeof(struct sf_header) */
	uint64_t size;          /* bytes in the image */
	uint64_t bump;          /* atomic: next free byte offset */
	uint64_t start_ns;      /* CLOCK_MONOTONIC when the launcher created it */
	int32_t cli_pid;
	uint32_t nprocs;        /* atomic: process slots claimed */
	sf_off procs;           /* struct sf_process[SF_MAX_PROCS] */

	/* Interned stack traces, shared by every process of the session. */
	sf_off trace_slots;     /* uint32_t[trace_cap]: trace id or 0 */
	uint32_t trace_cap;     /* power of two */
	uint32_t trace_count;   /* atomic */

	/* What was lost because the image, a table or a slot array was full. */
	uint64_t dropped_traces;   /* atomic: stacks not interned */
	uint64_t dropped_procs;    /* atomic: processes not registered */
	uint64_t dropped_threads;  /* atomic: threads without a record */
	uint64_t dropped_sites;    /* atomic: site updates lost (table full) */
	uint64_t reserved[16];
};

/*
 * A stack trace: ips[0] is the innermost frame (the caller of the allocator
 * entry point). The trace id is the record's offset / 8.
 */
struct sf_trace {
	uint32_t hash;
	uint16_t depth;
	uint16_t flags;
	uint64_t ips[];
};

/* A loaded object, as dl_iterate_phdr saw it. */
struct sf_module {
	sf_off next;            /* older module, 0 at the end */
	uint64_t bias;          /* load bias (dlpi_addr) */
	uint64_t start, end;    /* lowest and highest mapped address of PT_LOADs */
	uint32_t unloaded;      /* dlclose'd while the process ran */
	uint32_t path_len;
	char path[];            /* NUL-terminated absolute path */
};

/* Per allocation stack, per thread. Keyed by trace id; 0 = no stack. */
struct sf_site {
	uint32_t trace;
	uint32_t pad;
	uint64_t allocs;        /* allocations made here by this thread */
	uint64_t bytes;         /* bytes requested by those */
	uint64_t frees;         /* frees by this thread of blocks from trace */
	uint64_t freed_bytes;
	uint64_t temporary;     /* frees counted as temporary (see docs) */
};

/* Summary left behind by a thread whose record went back to the pool. */
struct sf_thread_log {
	sf_off next;
	int32_t tid;
	char name[SF_NAME_LEN];
	uint32_t pad;
	uint64_t allocs;
	uint64_t bytes;
	uint64_t frees;
};

struct sf_thread {
	sf_off next;            /* immutable once published */
	uint32_t state;         /* enum sf_thread_state, atomic */
	int32_t tid;            /* current owner */
	char name[SF_NAME_LEN];
	uint32_t generation;    /* owners so far */
	uint32_t pad;

	/* Cumulative over every owner of this record. Single writer. */
	uint64_t allocs;
	uint64_t frees;
	uint64_t bytes;          /* requested by allocations */
	uint64_t freed_bytes;
	uint64_t temporary;
	uint64_t failed;         /* allocator returned NULL (not counted) */
	uint64_t sampled;        /* allocations whose stack was captured */
	uint64_t hist[SF_HIST_BUCKETS];

	/* Counters at the moment the current owner claimed the record. */
	uint64_t base_allocs, base_bytes, base_frees;

	/* Allocations without a captured stack (unsampled, or table full). */
	struct sf_site nostack;

	/* Open-addressed site table, replaced by a bigger one when 3/4 full. */
	sf_off sites;            /* struct sf_site[sites_cap]; release-published */
	uint32_t sites_cap;      /* power of two */
	uint32_t sites_used;
};

struct sf_process {
	uint32_t state;          /* enum sf_proc_state, atomic */
	uint32_t flags;          /* SF_PF_*, atomic or */
	int32_t pid;
	int32_t ppid;
	int32_t parent_index;    /* process slot of the profiled parent, -1 none */
	int32_t exit_code;       /* valid with SF_PF_EXITED */
	uint64_t start_ns, end_ns; /* CLOCK_MONOTONIC */

	/* Effective settings in this process. */
	uint32_t track_memory;
	uint32_t max_depth;
	double sample_rate;

	/* Heap totals flushed from threads (per-thread batching, see docs). */
	int64_t live_bytes;      /* atomic */
	uint64_t peak_bytes;     /* atomic max */
	uint64_t inherited_frees;   /* atomic: frees of blocks a parent allocated */
	uint64_t inherited_bytes;   /* atomic */
	uint64_t foreign_frees;     /* atomic: frees of blocks we did not allocate */

	sf_off threads;          /* atomic list head of struct sf_thread */
	sf_off thread_log;       /* atomic list head of struct sf_thread_log */
	sf_off modules;          /* atomic list head of struct sf_module */
	uint32_t nthreads;       /* atomic: records created */
	uint32_t nthreads_seen;  /* atomic: threads that ever claimed a record */

	char exe[SF_PATH_LEN];
	uint32_t cmd_len;        /* bytes used in cmd: NUL-separated argv */
	char cmd[SF_CMD_LEN];
	uint64_t reserved[16];
};

static inline void *sf_ptr(void *base, sf_off off)
{
	return off ? (char *)base + off : (void *)0;
}

static inline struct sf_trace *sf_trace_get(void *base, uint32_t id)
{
	return id ? (struct sf_trace *)((char *)base + ((sf_off)id << 3)) : (void *)0;
}

#endif
