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
#define SF_VERSION 9u
/* --sample-bytes: a sampled site's counts are in 1/SF_WEIGHT_ONE units. */
#define SF_WEIGHT_ONE 256u

#define SF_MAX_PROCS 1024u      /* process slots in the first array (sf_header.procs) */
#define SF_PROC_CHUNK 256u      /* slots per further chunk (sf_header.proc_chunks) */
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
#define SF_PF_LEAK_OFF         (1u << 8) /* PTRACE_LEAK_CHECK=off: no leak check at exit */
#define SF_PF_MAP_FULL         (1u << 7) /* the image's mapping could not grow here
                                            (address space limit or layout): detail lost */

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
	sf_off procs;           /* struct sf_process[SF_MAX_PROCS]: slots 0..SF_MAX_PROCS-1 */

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

	uint64_t dropped_samples;  /* atomic: CPU signals whose stack could not be counted (table full) */

	/* Slots from SF_MAX_PROCS on: a list of struct sf_proc_chunk, the
	 * k-th holding slots SF_MAX_PROCS + k * SF_PROC_CHUNK onwards.
	 * Appended by the agent that first needs one (release CAS on the
	 * last next field, or on this head). */
	sf_off proc_chunks;
};

/* SF_PROC_CHUNK more process slots. A slot whose state is SF_PROC_FREE
 * was never filled (its process found no room): skip it. */
struct sf_proc_chunk {
	sf_off next;             /* the next chunk, 0 at the end; release-published */
	uint32_t first;          /* slot index of slots[0] */
	uint32_t cap;            /* SF_PROC_CHUNK */
	uint64_t pad[6];         /* the slots follow, 64-byte aligned: sf_chunk_slots() */
};

/*
 * A stack trace: ips[0] is the innermost frame (the caller of the allocator
 * entry point). The trace id is the record's offset / 8.
 */
struct sf_trace {
	uint32_t hash;          /* low bits of hash64: the table's probe start */
	uint16_t depth;
	uint16_t flags;
	uint64_t hash64;        /* of depth and ips: identity in per-thread caches */
	uint64_t ips[];
};

/* A loaded object, as dl_iterate_phdr saw it. */
struct sf_module {
	sf_off next;            /* older module, 0 at the end */
	uint64_t bias;          /* load bias (dlpi_addr) */
	uint64_t start, end;    /* lowest and highest mapped address of PT_LOADs */
	uint32_t unloaded;      /* dlclose'd while the process ran */
	uint32_t path_len;
	/* Mapped for the process's map generations [gen_loaded, gen_unloaded):
	 * gen_unloaded is valid once unloaded is set. */
	uint32_t gen_loaded, gen_unloaded;
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
	uint32_t walks_repeated; /* of sampled and map_walks, stacks that were a memo's walk
	                            again, known by its trace id (agent/cfi.h);
	                            saturates; 0 in images of before */

	/* Cumulative over every owner of this record. Single writer. */
	uint64_t allocs;
	uint64_t frees;
	uint64_t bytes;          /* requested by allocations */
	uint64_t freed_bytes;
	uint64_t temporary;
	uint64_t failed;         /* allocator returned NULL (not counted) */
	uint64_t old_frees;      /* frees of blocks allocated before the last ptrace_reset() */
	uint64_t old_freed_bytes; /* (not in frees/freed_bytes; still no longer live) */
	uint64_t sampled;        /* allocations whose stack was captured */
	uint64_t map_walks;      /* stacks captured for mappings (agent/mmaps.c) */
	uint64_t unwind_slow;    /* hooks' stacks walked by libunwind (agent/cfi.h) */
	uint64_t unwind_checked; /* PTRACE_UNWIND=check: stacks walked both ways */
	uint64_t unwind_differ;  /* of those, where the two walks differed */
	uint64_t hist[SF_HIST_BUCKETS];

	/* Counters at the moment the current owner claimed the record. */
	uint64_t base_allocs, base_bytes, base_frees;

	/* Allocations without a captured stack (unsampled, or table full). */
	struct sf_site nostack;

	/* Open-addressed site table, replaced by a bigger one when 3/4 full. */
	sf_off sites;            /* struct sf_site[sites_cap]; release-published */
	uint32_t sites_cap;      /* power of two */
	uint32_t sites_used;

	sf_off func;             /* struct sf_fthread; 0 until its first instrumented call */
	sf_off cpu;              /* struct sf_cpu_thread; 0 until the sampler set it up */
	uint64_t walk_memo;      /* the agent's own: the address, in the owning
	                            process, of its memo of stack walks (struct
	                            cfi_memo, agent/cfi.h, private memory); 0 until
	                            its first walk */
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
	sf_off api;              /* struct sf_api; 0 until the program first called <ptrace-run.h> */
	sf_off leaks;            /* struct sf_leaks: the exit's leak check; 0 none (release) */
	sf_off mmaps;            /* struct sf_mmaps: the program's anonymous mappings; 0 none yet (release CAS) */
	uint64_t sample_bytes;   /* stacks sampled by bytes: the mean gap; 0: by count (sample_rate).
	                            Then a sampled site's allocs, frees, temporary and its
	                            leak blocks are in 1/SF_WEIGHT_ONE of an allocation, each
	                            sampled allocation weighted 1/p (agent/heap.h) */
	uint64_t reserved[12];

	sf_off func;             /* struct sf_fproc; 0 until the first instrumented call */
	sf_off cpu;              /* struct sf_cpu_proc; 0 when the agent set none up */
	/* Map generation: starts at 0, one more after each dlclose that
	 * unmapped a module (atomic). Names an address together with the
	 * module list's gen_loaded/gen_unloaded. */
	uint32_t map_gen;
	uint32_t pad2;
	sf_off unfollowed;       /* atomic list head of struct sf_unfollowed */
};

/*
 * The leak check at exit (agent/leakscan.c, docs/leaks.md): every block of
 * this process and epoch still live, classified by a conservative scan of
 * the roots (writable data of every module, anonymous memory that holds
 * no block, the live part of every thread's stack, every thread's
 * registers) and of the blocks reached from them, as memcheck and
 * LeakSanitizer do:
 *   reachable  a chain of pointers to the block's start leads to it;
 *   possible   only chains through an interior pointer do;
 *   indirect   no chain from a root, but a pointer in a lost block;
 *   definite   nothing points to it but lost blocks of its own cycle
 *              (one block of each such cycle is definite).
 * Figures are exact counts of blocks found, per allocation stack.
 */
enum sf_leak_class { SF_LEAK_REACHABLE = 0, SF_LEAK_POSSIBLE = 1, SF_LEAK_INDIRECT = 2, SF_LEAK_DEFINITE = 3 };
#define SF_LEAK_CLASSES 4

#define SF_LK_THREADS_MISSED (1u << 0) /* a thread did not stop: its registers and stack were not read */
#define SF_LK_NO_ROOM        (1u << 1) /* no memory for the scan's tables: sites may be missing */
#define SF_LK_SITES_FULL     (1u << 2) /* more stacks than the table had room for: the rest in sites[0] */
#define SF_LK_NOT_RUN        (1u << 3) /* no classification (one of the above says why) */

struct sf_leak_site {
	uint32_t trace;          /* 0: blocks without a stack (sampling, or a full table) */
	uint32_t pad;
	uint64_t blocks[SF_LEAK_CLASSES];
	uint64_t bytes[SF_LEAK_CLASSES];
};

struct sf_leaks {
	uint32_t flags;          /* SF_LK_* */
	uint32_t nsites;
	uint32_t threads;        /* other threads running at the check */
	uint32_t threads_stopped;
	uint64_t blocks_found;   /* this process's counted blocks found (= its live blocks) */
	uint64_t nodes;          /* every block with a header found (a parent's too) */
	uint64_t root_bytes;     /* bytes of roots read */
	uint64_t block_bytes;    /* bytes of blocks read */
	uint64_t scan_ns;        /* wall time of the check */
	uint64_t blocks[SF_LEAK_CLASSES];
	uint64_t bytes[SF_LEAK_CLASSES];
	struct sf_leak_site sites[];
};

/*
 * Anonymous mappings the program made (agent/mmaps.c): one table of
 * regions live now, keyed by start address, and one of sites (stacks)
 * with their counters. All figures atomic; any thread updates them.
 */
#define SF_MMAP_REGIONS 16384u /* live regions recorded at once, power of 2 */
#define SF_MMAP_SITES 4096u    /* stacks that map, power of 2 */

enum sf_mregion_state { SF_MR_FREE = 0, SF_MR_BUSY = 1, SF_MR_LIVE = 2, SF_MR_GONE = 3 };

struct sf_mregion {
	uint64_t start;
	uint64_t len;            /* page-rounded */
	uint32_t trace;          /* 0: no stack */
	uint32_t state;          /* enum sf_mregion_state, atomic */
};

struct sf_msite {
	uint32_t trace;          /* the key; the slot is taken by CAS from 0 on used */
	uint32_t used;           /* 1 once the slot is this trace's */
	uint64_t maps;           /* mmap calls (and mremaps that moved in here) */
	uint64_t bytes;          /* bytes mapped in all */
	uint64_t unmaps;         /* regions ended (munmap, or replaced by MAP_FIXED) */
	uint64_t unmapped_bytes;
	int64_t live_bytes;      /* mapped now */
	int64_t live_regions;
	uint64_t peak_bytes;     /* the most this site had mapped at once */
};

struct sf_mmaps {
	uint64_t maps, unmaps, remaps;
	uint64_t bytes, unmapped_bytes;
	int64_t live_bytes;
	uint64_t peak_bytes;
	uint64_t untracked;      /* regions not recorded: the region table was full */
	uint64_t partial;        /* munmaps of part of a region */
	struct sf_mregion regions[SF_MMAP_REGIONS];
	struct sf_msite sites[SF_MMAP_SITES]; /* sites[0]: no stack, or the table full */
};

/* sf_unfollowed.why */
#define SF_UF_SETUID  (1u << 0)  /* set-user-ID to another user */
#define SF_UF_SETGID  (1u << 1)  /* set-group-ID to another group */
#define SF_UF_CAPS    (1u << 2)  /* file capabilities */
#define SF_UF_ENV     (1u << 3)  /* system()/popen() with our variables gone from environ */
#define SF_UF_SPAWN   (1u << 29) /* posix_spawn: pid is the spawned child's */
#define SF_UF_FAILED  (1u << 31) /* the exec failed: nothing was left unprofiled */

/*
 * An exec the agent knew it could not follow, recorded by the process that
 * made it before making it: the new image runs in secure-execution mode
 * (AT_SECURE), where the dynamic loader ignores LD_PRELOAD (and the agent
 * stays off), so it is missing from the report.
 */
struct sf_unfollowed {
	sf_off next;
	int32_t pid;             /* the process that exec'd (or was spawned) */
	uint32_t why;            /* SF_UF_* */
	uint32_t path_len;
	uint32_t pad;
	char path[];             /* NUL-terminated */
};
static inline struct sf_process *sf_chunk_slots(const struct sf_proc_chunk *c)
{
	return (struct sf_process *)(void *)((char *)(void *)c + sizeof(*c));
}

/* Bytes of a chunk with its slots. */
#define SF_PROC_CHUNK_BYTES (sizeof(struct sf_proc_chunk) + (uint64_t)SF_PROC_CHUNK * sizeof(struct sf_process))


/*
 * CPU sampling, crash and stack dumps (agent/cpu.c, agent/crash.c).
 *
 * A sample is one period of a thread's CPU-time timer (a perf event or a
 * POSIX timer): 1/hz s of that thread's CPU time. A signal that arrives
 * late carries the periods it missed (the thread's CPU clock since the
 * last one, or the timer's overruns), so samples add up to CPU time even
 * where the kernel delivers fewer signals than hz.
 * Stacks are interned in the trace table; ips[0] of a CPU, dump or crash
 * trace is the interrupted instruction itself, not a return address.
 */

/* sf_cpu_proc.flags */
#define SF_CPU_SAMPLING      (1u << 0)  /* the sampler was armed in this process */
/* "The sampling signal" is the one the agent chose at start (signal). */
#define SF_CPU_ASIDE_HANDLER (1u << 1)  /* stepped aside: the program took the sampling signal (handler or SIG_IGN) */
#define SF_CPU_ASIDE_TIMER   (1u << 2)  /* stepped aside: the program armed a timer with the sampling signal */
#define SF_CPU_ASIDE_SIGNAL  (1u << 3)  /* stepped aside: a sampling signal not from the sampler arrived */
#define SF_CPU_ASIDE_WAIT    (1u << 4)  /* stepped aside: the program waits for the sampling signal itself */
#define SF_CPU_NOT_DEFAULT   (1u << 5)  /* no candidate signal was free (SIG_DFL, unblocked) at start: not sampled */
#define SF_CPU_BAD_HZ        (1u << 6)  /* PTRACE_CPU_HZ invalid: default used */
#define SF_CPU_BAD_DUMP      (1u << 7)  /* PTRACE_DUMP_SIGNAL invalid: no dumps */
#define SF_CPU_DUMP_TAKEN    (1u << 8)  /* the program took the dump signal over: no more dumps */
#define SF_CPU_DUMP_BUSY     (1u << 9)  /* the dump signal was not SIG_DFL at start: no dumps */
#define SF_CPU_TIMER_FAILED  (1u << 10) /* a thread's timer could not be created */
#define SF_CPU_ASIDE_MASK    (SF_CPU_ASIDE_HANDLER | SF_CPU_ASIDE_TIMER | SF_CPU_ASIDE_SIGNAL | SF_CPU_ASIDE_WAIT)

#define SF_DEFAULT_CPU_HZ 1000u /* PTRACE_CPU_HZ default */
#define SF_MAX_CPU_HZ 10000u

struct sf_cpu_proc {
	uint32_t hz;             /* timer periods per second of thread CPU time; 0: off */
	uint32_t flags;          /* SF_CPU_*, atomic or */
	int32_t dump_signal;     /* 0: none */
	uint32_t dumps;          /* atomic: dump requests so far (sequence numbers 1..dumps) */
	uint64_t aside_ns;       /* CLOCK_MONOTONIC when the sampler stepped aside; 0: never */
	uint64_t timer_failures; /* atomic: threads left unsampled (timer_create failed) */
	sf_off owners;           /* atomic list head of struct sf_cpu_owner */
	sf_off stacks;           /* atomic list head of struct sf_cpu_stack (dumps) */
	sf_off crash;            /* struct sf_crash; set once (CAS from 0) */
	int32_t signal;          /* the sampling signal chosen at start; 0: none free */
	uint32_t pad3;
	uint64_t perf_threads;   /* atomic: threads sampled through a perf event */
	uint64_t timer_threads;  /* atomic: threads sampled through a POSIX timer */
	uint64_t reserved[5];
};

/* Per thread record (sf_thread.cpu), cumulative over the record's owners. */
struct sf_cpu_thread {
	uint64_t samples;        /* timer periods seen; written by the owner's handler only */
	uint64_t signals;        /* timer signals handled (stacks taken) */
	uint64_t nostack;        /* samples without a stack (see docs) */
	uint64_t base;           /* samples when the current owner claimed the record */
	int32_t owner_tid;       /* current (or last) owner */
	int32_t timer;           /* atomic: kernel timer id + 1 of the owner's timer, 0 none */
	char owner_name[SF_NAME_LEN]; /* the owner's comm, set when it exits */
	sf_off table;            /* struct sf_cpu_table; replaced when 3/4 full, release-published */
	uint64_t max_weight;     /* most samples one signal stood for (1 + overruns) */
	uint64_t perf_page;      /* atomic: the owner's perf event mapping, 0 none */
	uint64_t agent;          /* of samples, those that landed in ptrace-run's own
	                            work (a hook's stack capture, our code): each
	                            charged to the program's stack that called it */
};

/* Samples per stack, open addressing on trace id (0 = empty slot). */
struct sf_cpu_site {
	uint32_t trace;
	uint32_t pad;
	uint64_t samples;
};

struct sf_cpu_table {
	uint32_t cap;            /* power of two */
	uint32_t used;
	struct sf_cpu_site slots[];
};

/* A previous owner of a thread record, with its samples. */
struct sf_cpu_owner {
	sf_off next;
	int32_t tid;
	char name[SF_NAME_LEN];
	uint32_t pad;
	uint64_t samples;
};

/* sf_cpu_stack.flags */
#define SF_STACK_REQUESTER (1u << 0) /* the thread that received the dump signal */
#define SF_STACK_PC_ONLY   (1u << 1) /* interrupted inside the unwinder: its PC only */

/* One thread's stack at a dump. */
struct sf_cpu_stack {
	sf_off next;
	uint32_t seq;            /* dump number, 1..dumps */
	int32_t tid;
	uint64_t ns;             /* CLOCK_MONOTONIC when taken */
	char name[SF_NAME_LEN];  /* the thread's comm */
	uint32_t trace;          /* 0: no stack */
	uint32_t flags;          /* SF_STACK_* */
	uint32_t threads;        /* requester only: threads asked, itself included */
	uint32_t pad;
};

/* sf_crash.flags */
#define SF_CRASH_ADDRESS (1u << 0) /* address is valid (a fault, not a kill) */
#define SF_CRASH_PC_ONLY (1u << 1) /* crashed inside the unwinder: its PC only */

/* The first fatal signal of a process. */
struct sf_crash {
	int32_t signal;
	int32_t code;            /* si_code */
	int32_t tid;
	uint32_t flags;          /* SF_CRASH_* */
	uint64_t address;        /* si_addr */
	uint64_t ns;             /* CLOCK_MONOTONIC */
	char name[SF_NAME_LEN];  /* the thread's comm */
	uint32_t trace;          /* release-stored once the stack is interned; 0: none */
	uint32_t pad;
};

/*
 * Function timing (programs built with -finstrument-functions). One
 * struct sf_fproc per process; one struct sf_fthread per thread record,
 * holding that record's function entries (a list of struct sf_func) and
 * its calling-context tree (struct sf_fnode in chunks, each node written
 * after its parent). Durations are clock ticks: sf_fproc says how to turn
 * them into ns. Single writer throughout: the thread owning the record.
 */
#define SF_FH_SUB 16u            /* histogram sub-buckets per power of two */
#define SF_FH_BUCKETS 656u       /* ticks: exact below 16, then 16 per octave up to 2^44 */
#define SF_FSLOW_FUNC 10u        /* slowest calls kept per function (per thread record) */
#define SF_FSLOW_THREAD 20u      /* slowest calls kept per thread record, any function */
#define SF_FDEFAULT_CALL_DEPTH 65536u
#define SF_FMAX_CALL_DEPTH 16777216u

enum sf_fclock { SF_FCLOCK_TSC = 1, SF_FCLOCK_MONOTONIC = 2 };

/* sf_fproc.flags: a setting the agent rejected (default used instead). */
#define SF_FF_BAD_CALL_DEPTH   (1u << 0)
#define SF_FF_BAD_MIN_DURATION (1u << 1)
#define SF_FF_BAD_CORRECT      (1u << 2)
#define SF_FF_BAD_TIMELINE     (1u << 3)

struct sf_fproc {
	uint32_t clock;          /* enum sf_fclock; MONOTONIC ticks are ns */
	uint32_t corrected;      /* 1: every duration had the hook cost subtracted */
	uint32_t max_call_depth; /* frames tracked per thread */
	uint32_t flags;          /* SF_FF_* */
	uint64_t min_duration_ns; /* shorter calls are not kept as slowest calls */
	/* ns = mono0 + (ticks - tick0) * ns_per_tick. ns_per_tick comes from
	 * a ~2 ms calibration at start; tick1/mono1 (at exit, else 0) give a
	 * finer ratio over the whole run. */
	uint64_t tick0, mono0;
	uint64_t tick1, mono1;
	double ns_per_tick;
	uint64_t hook_ticks;     /* an enter+exit pair, as the caller's clock sees it */
	uint64_t inner_ticks;    /* the part of it inside the callee's own interval */
	uint64_t clock_ticks;    /* one clock read */
	uint64_t image_base;     /* the image's address in this process (struct sf_fframe) */
	sf_off regions;          /* struct sf_regions; 0 until the first region */
	uint64_t timeline_min_ns; /* calls this long go into the timeline; UINT64_MAX: none */
	uint64_t reserved[5];
};

/*
 * One call on a thread's shadow stack, kept in the image so that calls a
 * dying process left open are not lost: the launcher closes them at the
 * process's end (SIGKILL, abort, _exit inside daemon(), threads still
 * running at exit). sf_fthread.frames[0] is the root; the open calls are
 * frames[1..k], up to the first whose fn is 0 (a frame being pushed has
 * fn written last, a popped one gets 0). fe and node are addresses in the
 * process: less sf_fproc.image_base, offsets.
 */
#define SF_FN_HIDDEN (1ull << 63) /* in fn: deeper calls were beyond the depth cap */

struct sf_fframe {
	uint64_t fn;             /* this_fn; 0: not in use */
	uint64_t csp;            /* the enter hook's frame address */
	uint64_t start;          /* ticks */
	uint64_t adj;            /* callees' raw ticks plus their hooks' cost outside them */
	uint64_t sub;            /* callees' corrected ticks */
	uint64_t fe, node;       /* struct sf_func, struct sf_fnode (process addresses) */
	uint64_t allocs, bytes;  /* made inside this call so far, callees' included */
};

/* One individual call. */
struct sf_fcall {
	uint64_t start;          /* ticks at entry */
	uint64_t ticks;          /* duration */
	sf_off func;             /* struct sf_func (in sf_fthread.slow only) */
	int32_t tid;
	uint32_t pad;
	sf_off meta;             /* a region's metadata: NUL-terminated text; 0 none */
};

struct sf_func {
	sf_off next;             /* the thread's previous entry, 0 at the end */
	uint64_t addr;           /* the function's entry address (this_fn) */
	uint64_t calls;          /* completed calls, recursive ones included */
	uint64_t recursive;      /* calls made while the function was already active */
	uint64_t total;          /* ticks, inclusive, outermost calls only */
	uint64_t self;           /* ticks outside tracked callees, every call */
	uint64_t min, max;       /* ticks, outermost calls (min starts at UINT64_MAX) */
	double sumsq;            /* sum of squared outermost durations, ticks^2 */
	uint64_t incl_allocs, incl_bytes; /* made inside its outermost calls */
	uint64_t self_allocs, self_bytes; /* made by the function itself */
	uint64_t unwound;        /* calls closed without their exit hook */
	uint32_t active;         /* agent: activations on the stack now */
	uint32_t hist_shift;     /* hist[] counts are in units of 2^hist_shift */
	uint64_t slow_thr;       /* agent: shortest duration that enters slow[] */
	uint32_t nslow;
	uint32_t gen;            /* sf_process.map_gen when the entry was made: addr is
	                            the code of the module mapped at that generation */
	struct sf_fcall slow[SF_FSLOW_FUNC]; /* outermost calls, unordered */
	uint32_t hist[SF_FH_BUCKETS];        /* outermost durations, log-linear */
};

struct sf_fnode {
	sf_off parent;           /* 0 only for the thread's root node */
	sf_off func;             /* struct sf_func; 0 for the root */
	uint64_t calls;
	uint64_t total;          /* ticks, every call on this path */
	uint64_t self;           /* ticks */
	uint64_t allocs, bytes;  /* made by this node's function itself */
};

struct sf_fchunk {
	sf_off next;             /* release-published */
	uint32_t used;           /* nodes written; release-published */
	uint32_t cap;
	struct sf_fnode nodes[];
};

/* An earlier owner of a thread record (the record outlives threads). */
struct sf_fowner {
	sf_off next;
	int32_t tid;
	char name[SF_NAME_LEN];
	uint32_t pad;
	uint64_t calls;
	uint64_t ticks;          /* inclusive time of its top-level calls */
};

struct sf_fthread {
	sf_off funcs;            /* list head of struct sf_func, release-published */
	sf_off nodes;            /* first struct sf_fchunk; its node 0 is the root */
	sf_off owners;           /* list head of struct sf_fowner */
	uint64_t unmatched_exits; /* exit hooks with no matching frame: ignored */
	uint64_t unwound;        /* frames closed without their exit hook */
	uint64_t beyond_depth;   /* calls not tracked: the shadow stack was full */
	uint64_t in_hooks;       /* calls not tracked: made while inside a hook (signal) */
	uint64_t dropped;        /* function entries or nodes lost: image full */
	uint32_t max_depth;      /* deepest tracked stack */
	uint32_t nslow;
	uint64_t slow_thr;       /* agent */
	struct sf_fcall slow[SF_FSLOW_THREAD];
	sf_off index;            /* agent: open-addressed sf_off[index_cap], by addr */
	uint32_t index_cap, nfuncs;
	uint64_t priv;           /* agent-private address; meaningless to readers */
	sf_off edges;            /* agent: open-addressed sf_off[edges_cap] of nodes, by (parent, func) */
	uint64_t edges_cap, nedges;
	sf_off frames;           /* struct sf_fframe[frames_cap]; replaced when it grows, release-published */
	uint32_t frames_cap;
	uint32_t pad;
	sf_off stacks;           /* list head of struct sf_fstack: coroutines' shadow stacks */
	uint64_t paused_calls;   /* calls made while recording was paused: not timed */
	uint64_t meta_bytes;     /* agent: region metadata copied into the image so far */
	uint64_t unmatched_region_ends; /* ptrace_region_end() with no region open */
	sf_off ring;             /* struct sf_ring: the timeline's calls; 0 until the first */
	uint64_t reserved[1];
};

/*
 * The timeline: every call of at least sf_fproc.timeline_min_ns goes into
 * its thread record's ring, one producer (the thread), one consumer (the
 * launcher, which drains it while the program runs). head and tail count
 * bytes ever written and consumed; a record is at head % cap and may wrap
 * around the end. The producer publishes head with a release store after
 * the record's bytes; the launcher publishes tail likewise once it copied
 * them. A record that does not fit is dropped and counted: the program
 * never waits.
 */
#define SF_RING_BYTES (256u << 10)

struct sf_tevent {
	uint64_t start;          /* ticks */
	uint64_t ticks;          /* duration, as the call's (corrected) time */
	sf_off func;             /* struct sf_func */
	int32_t tid;
	uint16_t meta_len;       /* bytes of metadata text following (no NUL) */
	uint16_t size;           /* bytes of the whole record, a multiple of 8 */
};

struct sf_ring {
	uint64_t head;           /* producer */
	uint64_t pad0[7];
	uint64_t tail;           /* consumer (the launcher) */
	uint64_t pad1[7];
	uint32_t cap;            /* bytes of data, a power of two */
	uint32_t pad2;
	uint64_t events;         /* producer: records written */
	uint64_t dropped;        /* producer: records that did not fit */
	uint64_t pad3[5];
	/* cap bytes of data follow */
};

/*
 * The shadow stack of a context made with makecontext (a coroutine), on
 * the thread that runs it. While suspended (swapped out), its open calls'
 * clocks stop: they are closed at `suspended` if the process ends then.
 */
struct sf_fstack {
	sf_off next;             /* immutable once published */
	sf_off frames;           /* struct sf_fframe[cap], as sf_fthread.frames */
	uint32_t cap;
	uint32_t pad;
	uint64_t suspended;      /* ticks when last swapped out; 0 while it runs */
};

/*
 * Regions (<ptrace-run.h>: ptrace_region_begin/_end): timed as functions
 * whose address is SF_REGION_FN(id), outside any user address, id the
 * 1-based slot of the region's name in the process's table; id 0 is a
 * region not timed (no room for its name): on the stack so that its end
 * pairs, counted nowhere. Names are
 * interned once (the table is open-addressed by hash; a slot is claimed
 * with a release CAS of the name's record offset).
 */
#define SF_REGION_BASE 0x00fffe0000000000ull /* non-canonical: no code is there; bit 63 (SF_FN_HIDDEN) clear */
#define SF_REGION_FN(id) (SF_REGION_BASE + ((uint64_t)(id) << 4))
#define SF_REGION_CAP 4096u      /* distinct region names per process */
#define SF_REGION_NAME 128u      /* bytes of a name kept, NUL included */
#define SF_META_LEN 256u         /* bytes of a call's metadata kept, NUL included */
#define SF_META_BUDGET (1u << 20) /* metadata bytes per thread record */

static inline int sf_is_region(uint64_t fn)
{
	return fn >= SF_REGION_BASE && fn < SF_REGION_BASE + ((uint64_t)(SF_REGION_CAP + 1) << 4) && !(fn & 15);
}

struct sf_region {
	uint64_t hash;
	uint32_t len;            /* bytes of name, NUL excluded */
	uint32_t pad;
	char name[SF_REGION_NAME];
};

struct sf_regions {
	uint32_t cap;            /* SF_REGION_CAP */
	uint32_t count;          /* atomic: names interned */
	uint64_t full;           /* atomic: region calls not timed: the table was full */
	sf_off slots[SF_REGION_CAP]; /* struct sf_region, release-published */
};

/*
 * What the program asked through <ptrace-run.h> (agent/api.c), per process.
 */
#define SF_API_LABELS 8u
#define SF_API_HOLES 16u         /* ptrace_reset() calls a process can make */
#define SF_API_LABEL_LEN 64u

struct sf_api {
	uint32_t paused;         /* atomic: 1 while recording is paused process-wide */
	uint32_t snapshots;      /* atomic: ptrace_snapshot() calls so far */
	uint64_t paused_allocs;  /* atomic: allocations not counted: recording was paused */
	uint64_t paused_bytes;   /* atomic */
	uint64_t paused_samples; /* atomic: CPU samples dropped: recording was paused */
	uint64_t pauses;         /* atomic: ptrace_pause() calls */
	/* The last ptrace_reset(): a copy of the image then, made in the
	 * image by the calling thread (the baseline the report subtracts). */
	sf_off baseline;         /* 0: none (also while a reset replaces it) */
	uint64_t baseline_len;   /* bytes of the copy */
	uint64_t reset_ns;       /* CLOCK_MONOTONIC of the reset */
	uint64_t reset_tick;     /* the function clock then (sf_fproc's ticks) */
	uint32_t resets;         /* atomic: ptrace_reset() calls taken */
	uint32_t baseline_applied; /* the launcher subtracted it (set in a copy, never live) */
	uint32_t refused_resets; /* resets not taken: the image had no room, or SF_API_HOLES were made */
	uint32_t nholes;         /* earlier baselines, which this one's copy leaves out */
	uint32_t resetting;      /* atomic: a thread is making a baseline (another one's reset is refused) */
	uint32_t pad;
	/* The image ranges of earlier baselines, by offset: the copy is the
	 * image [0, its length + the holes) without them, packed (an offset
	 * past a hole is that much lower in the copy). */
	sf_off hole_off[SF_API_HOLES];
	uint64_t hole_len[SF_API_HOLES];
	/* Label of snapshot request k (1 on) at [(k - 1) % SF_API_LABELS],
	 * written before snapshots is incremented. */
	char labels[SF_API_LABELS][SF_API_LABEL_LEN];
};

/*
 * The function histogram's bucket of a duration in ticks: v itself below
 * 16, then 16 buckets per power of two, each [lo, lo + lo/16) wide at
 * most, the last one open-ended (>= 2^44 ticks).
 */
static inline unsigned sf_fh_bucket(uint64_t v)
{
	unsigned e, b;

	if (v < SF_FH_SUB)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v);
	b = ((e - 3u) << 4) + (unsigned)((v >> (e - 4u)) & 15u);
	return b < SF_FH_BUCKETS ? b : SF_FH_BUCKETS - 1;
}

/* Keep rec among the slowest calls v[*n] (capacity cap), replacing the
 * shortest when full; *thr becomes the shortest duration that would
 * enter next time (at least min_ticks, the shortest kept at all). */
static inline void sf_fslow_put(struct sf_fcall *v, uint32_t *n, uint32_t cap, uint64_t *thr,
				const struct sf_fcall *rec, uint64_t min_ticks)
{
	uint32_t k = 0;
	uint64_t lo;

	if (*n < cap) {
		v[(*n)++] = *rec;
		if (*n < cap)
			return;
	} else {
		for (uint32_t i = 1; i < cap; i++)
			if (v[i].ticks < v[k].ticks)
				k = i;
		v[k] = *rec;
	}
	lo = v[0].ticks;
	for (uint32_t i = 1; i < cap; i++)
		if (v[i].ticks < lo)
			lo = v[i].ticks;
	*thr = lo + 1 > min_ticks ? lo + 1 : min_ticks;
}

static inline void *sf_ptr(void *base, sf_off off)
{
	return off ? (char *)base + off : (void *)0;
}

/*
 * The first slot of trace id in an open-addressed table of mask + 1
 * slots, linear probing on from it: the agent's site and CPU tables, and
 * the launcher reading them. An id is an image offset / 8 of records of
 * 2 + depth words, so ids made one after another step by about the
 * depth: their low bits, times an odd number, repeat (Lua's 395 sites
 * took 46% of lookups past their first slot, in a table 39% full). The
 * high half of the product is folded into the low.
 */
static inline uint32_t sf_trace_slot(uint32_t trace, uint32_t mask)
{
	uint32_t h = trace * 0x9e3779b1u;

	return (h ^ (h >> 16)) & mask;
}

static inline struct sf_trace *sf_trace_get(void *base, uint32_t id)
{
	return id ? (struct sf_trace *)((char *)base + ((sf_off)id << 3)) : (void *)0;
}

#endif
