/*
 * The report model: every figure the text and JSON renderers show, built
 * once from the session image. Renderers only format; they compute nothing.
 */
#ifndef PTRACE_REPORT_H
#define PTRACE_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>

struct symbolizer;
struct sym_frame;
struct series;
struct timeline;
struct suppr;

#include "session.h"
#include "session_format.h"

/* A frame of a stack. A report keeps each once, in its struct rframes:
 * stacks hold 4-byte ids (a million distinct stacks of 44 frames: 176 MB
 * of ids, where 48-byte frames of their own took 2.1 GB). */
struct rframe {
	const char *function;   /* NULL when unknown */
	const char *file;
	const char *module;
	uint64_t address;
	uint64_t offset;
	int line;               /* 0 when unknown */
	int inlined;
};

#define RFRAMES_SHIFT 12u       /* frames a chunk: 1 << RFRAMES_SHIFT */

/* The frames of a report, by id. They never move: a chunk is never
 * reallocated, only the list of chunks. */
struct rframes {
	struct rframe **chunks;
	size_t nchunks, chunks_cap;
	uint32_t n;
};

/* A new, empty store, or NULL (no memory). */
struct rframes *rframes_new(void);
void rframes_free(struct rframes *fs);

/* Keep a copy of f; its id in *id. 0 or -ENOMEM (also past 2^32 frames). */
int rframes_add(struct rframes *fs, const struct rframe *f, uint32_t *id);

static inline const struct rframe *rframes_at(const struct rframes *fs, uint32_t id)
{
	return &fs->chunks[id >> RFRAMES_SHIFT][id & ((1u << RFRAMES_SHIFT) - 1)];
}

struct rstack {
	uint32_t *ids;          /* innermost first; malloc'ed, owned (but see rcpu_tstack) */
	const struct rframes *store; /* where the ids are; NULL when n is 0 */
	unsigned n;
};

/* Frame i of st (i < st->n). */
static inline const struct rframe *rstack_frame(const struct rstack *st, unsigned i)
{
	return rframes_at(st->store, st->ids[i]);
}

struct rsite {
	uint32_t trace;         /* 0: allocations without a stack */
	const char *suppressed_by; /* live at exit but no leak: the rule (cli/suppress.h); NULL */
	uint64_t allocs, bytes, frees, freed_bytes, temporary;
	uint64_t live_blocks, live_bytes;
	/* The leak check's classes of its live blocks (enum sf_leak_class):
	 * exact counts of the blocks found, scaled like the rest when sampled. */
	uint64_t lk_blocks[SF_LEAK_CLASSES], lk_bytes[SF_LEAK_CLASSES];
	struct rstack stack;
};

/* What of a site the leak check found lost: possibly, indirectly and definitely. */
static inline uint64_t rsite_lost_bytes(const struct rsite *x)
{
	return x->lk_bytes[SF_LEAK_POSSIBLE] + x->lk_bytes[SF_LEAK_INDIRECT] + x->lk_bytes[SF_LEAK_DEFINITE];
}
static inline uint64_t rsite_lost_blocks(const struct rsite *x)
{
	return x->lk_blocks[SF_LEAK_POSSIBLE] + x->lk_blocks[SF_LEAK_INDIRECT] + x->lk_blocks[SF_LEAK_DEFINITE];
}

/* A stack that mapped anonymous memory (agent/mmaps.c). */
struct rmsite {
	uint32_t trace;
	uint64_t maps, bytes, unmaps, unmapped_bytes, live_bytes, live_regions, peak_bytes;
	struct rstack stack;
};

/* The program's own anonymous mappings: none of the heap's figures. */
struct rmapped {
	int present;            /* the program mapped anonymous memory itself */
	uint64_t maps, unmaps, remaps, partial;
	uint64_t bytes, unmapped_bytes, live_bytes, peak_bytes;
	uint64_t untracked;     /* regions not recorded (the table was full) */
	struct rmsite *sites;   /* by peak bytes, descending */
	size_t nsites;
};

struct rthread {
	int tid;
	char name[SF_NAME_LEN];
	uint64_t allocs, bytes, frees;
};

struct rmemory {
	uint64_t allocations, frees, bytes_allocated, bytes_freed, peak_bytes;
	uint64_t live_bytes, live_blocks, temporary, failed, inherited_frees;
	uint64_t old_frees, old_freed_bytes; /* of blocks from before a ptrace_reset() (live view) */
	/* An image replaced by exec: what was live then went with it (the
	 * kernel frees it all); live_* and the sites' live figures are 0. */
	int freed_by_exec;
	uint64_t exec_freed_bytes, exec_freed_blocks;
	uint64_t hist[SF_HIST_BUCKETS];
	int sampled;            /* per-site figures are scaled estimates */
	double scale;           /* a sampled site's bytes times this: 1 / sample_rate (1 by bytes) */
	double count_scale;     /* its counts: 1 / sample_rate, or 1 / SF_WEIGHT_ONE by bytes */
	uint64_t sample_bytes;  /* --sample-bytes' mean gap; 0: by count */
	/* Stacks the hooks walked (allocations and mappings), how many
	 * libunwind walked (agent/cfi.h), and under PTRACE_UNWIND=check how
	 * many were walked both ways and how many of those differed; how
	 * many were a memo's walk again, known by its trace id. */
	uint64_t walks, walks_libunwind, walks_checked, walks_differ, walks_repeated;
	struct rsite *sites;    /* by bytes allocated, descending */
	size_t nsites;
	/* The leak check at exit (agent/leakscan.c, docs/leaks.md). Made:
	 * leaks are the sites with blocks lost (by lost bytes), reachable
	 * the sites whose live blocks all are still reachable. Not made (off,
	 * a crash, a snapshot): leaks are the sites with live blocks. */
	int leak_checked;
	uint32_t leak_flags;    /* SF_LK_*; with SF_LK_NOT_RUN, why it was not made */
	int leak_off;           /* --leak-check=off */
	int lk_fork_child;      /* a fork child before exec: never checked */
	uint64_t lk_blocks[SF_LEAK_CLASSES], lk_bytes[SF_LEAK_CLASSES]; /* exact; suppressed not included */
	uint64_t lk_found, lk_scan_ns, lk_root_bytes, lk_block_bytes;
	uint32_t lk_threads, lk_threads_stopped;
	struct rsite **reachable;
	size_t nreachable;
	struct rsite **leaks;   /* see above; not suppressed */
	size_t nleaks;
	struct rsite **suppressed; /* sites with live blocks a suppression names, by live bytes */
	size_t nsuppressed;
	uint64_t suppressed_bytes, suppressed_blocks;
	uint64_t unsampled_live_blocks, unsampled_live_bytes;
};

/* A function of the CPU profile (cli/report_cpu.c). */
struct rcpu_fn {
	const char *name;       /* NULL when unknown (then one entry per module) */
	const char *file;       /* of line */
	int line;               /* the line most of its samples were at, 0 unknown */
	const char *module;
	uint64_t self;          /* samples with the function innermost */
	uint64_t total;         /* samples with the function anywhere on the stack */
};

struct rcpu_stack {
	uint64_t samples;
	struct rstack stack;    /* frame 0: the instruction that was running */
};

/* One stack of one thread's samples: the ids are those of a stack in
 * rcpu.stacks (the same trace, symbolized once), not owned. */
struct rcpu_tstack {
	uint64_t samples;
	struct rstack stack; /* not owned: its ids are those of a stack in rcpu.stacks */
};

struct rcpu_thread {
	int tid;
	char name[SF_NAME_LEN];
	uint64_t samples;
	/* Its samples by stack (NULL for a thread logged when its record was
	 * reused: those are in the new owner's). */
	struct rcpu_tstack *stacks;
	size_t nstacks;
	int shared_record;      /* the record had an earlier owner: its stacks are in here too */
};

struct rcpu {
	unsigned hz;            /* samples per second of thread CPU time; 0: not sampled */
	uint32_t flags;         /* SF_CPU_* */
	uint64_t samples;       /* samples / hz = CPU seconds sampled */
	uint64_t signals;       /* timer signals handled: stacks taken */
	uint64_t nostack;       /* samples without a stack */
	uint64_t agent;         /* samples in ptrace-run's own work, charged to its callers */
	uint64_t max_weight;    /* most samples one signal stood for: attribution granularity */
	uint64_t aside_ns;      /* when the sampler stepped aside, since the process started */
	uint64_t timer_failures;
	int signal;             /* the sampling signal; 0: none */
	uint64_t perf_threads;  /* threads sampled through a perf event */
	uint64_t timer_threads; /* through a POSIX timer (the default, --cpu-timer=tick) */
	struct rcpu_fn *fns;    /* by self samples, descending */
	struct rcpu_fn **by_total; /* the same functions by total samples */
	size_t nfns;
	struct rcpu_stack *stacks; /* distinct symbolized stacks, by samples */
	size_t nstacks;
	struct rcpu_thread *threads; /* threads with samples, by samples */
	size_t nthreads;
};

struct rcrash {
	int present;
	int signal, code, tid;
	int has_address;
	uint64_t address;
	uint64_t time_ns;       /* since the process started */
	char thread[SF_NAME_LEN];
	int pc_only;            /* crashed inside the unwinder: one frame */
	struct rstack stack;    /* from the innermost frame of the program's own code */
	struct rstack runtime;  /* the frames inside it, in libc and friends (abort, raise) */
};

struct rdump_thread {
	int tid;
	char name[SF_NAME_LEN];
	int requester;          /* received the signal */
	int pc_only;
	struct rstack stack;
};

struct rdump {
	unsigned seq;
	uint64_t time_ns;       /* since the process started */
	unsigned asked;         /* threads asked for their stack */
	struct rdump_thread *threads; /* main thread first, then by tid */
	size_t nthreads;
};

/* What the program asked through <ptrace-run.h>. */
struct rapi {
	int present;            /* it called it */
	int paused_now;         /* recording was paused at the end (or the snapshot) */
	uint64_t pauses;        /* ptrace_pause() calls */
	uint64_t paused_allocs, paused_bytes; /* allocations not counted: paused */
	uint64_t paused_samples; /* CPU samples dropped: paused */
	unsigned snapshots;     /* ptrace_snapshot() calls */
	unsigned resets;        /* ptrace_reset() calls: the figures are since the last */
	unsigned refused_resets; /* not taken: no room in the image, another thread's meanwhile, or 16 made */
	uint64_t reset_ns;      /* when the last one was, since the process started */
};

struct rprocess {
	int pid, ppid;
	uint64_t start_ns;      /* when it started, since the session started */
	char **argv;            /* NULL-terminated */
	char *exe;
	int has_exit, exit_code;
	int has_signal, signal;
	int forked, execed;
	uint64_t duration_ns;
	int track_memory;
	struct rmemory mem;
	struct rmapped mapped;
	struct rthread *threads;
	size_t nthreads;
	struct rcpu cpu;        /* report_cpu.c from here on */
	struct rcrash crash;
	struct rdump *dumps;    /* by dump number */
	size_t ndumps;
	struct rfuncs *func;    /* function timing (report_func.c); NULL: no instrumented call ran */
	struct rtime *time;     /* figures over time (report_time.c); NULL: none were read */
	struct rapi api;
};

struct report_input {
	char **argv;            /* the command as given */
	int status;             /* wait status of the main program */
	int spawned;            /* 0: never ran (no status) */
	struct rusage ru;
	uint64_t duration_ns;
	const char *not_loaded_reason;  /* from the binary check, or NULL */
	double sample_rate;
	uint64_t sample_bytes;  /* --sample-bytes; 0: off */
	unsigned max_depth;
	int track_memory;
	int main_pid;
	/* Symbolization state made (and warmed) beforehand, or NULL. */
	struct symctx *symctx;
	/* Exit statuses of other processes we reaped. */
	const int *reaped_pid, *reaped_status;
	size_t nreaped;
	/* --filter / --exclude: comma-separated globs on function names, or NULL. */
	const char *func_filter, *func_exclude;
	unsigned cpu_hz;        /* PTRACE_CPU_HZ given to the agent */
	int dump_signal;        /* PTRACE_DUMP_SIGNAL given to the agent, 0 none */
	uint64_t start_time_ns; /* CLOCK_REALTIME when the program started; 0 unknown */
	/* Figures over time (cli/series.h), or NULL. */
	const struct series *series;
	/* Leak suppressions (cli/suppress.h); NULL: the built-in ones. */
	const struct suppr *suppr;
	/* The timeline's calls (cli/timeline.h), or NULL. */
	const struct timeline *timeline;
	/* A snapshot taken while the program ran (0: the run's end). */
	unsigned snapshot;      /* its number in the profile file, 1 on */
	const char *snapshot_label; /* what asked for it: "every 60s", "signal", or the program's label */
	uint64_t snapshot_ns;   /* since the session started */
};

struct report {
	char **argv;
	int has_exit, exit_code, has_signal, signal;
	uint64_t duration_ns;
	uint64_t start_time_ns; /* wall clock at the start (report_input's) */
	struct rusage ru;
	int loaded;
	char reason[256];
	uint64_t dropped_traces, dropped_procs, dropped_threads, dropped_sites;
	uint64_t events_dropped;
	double sample_rate;
	uint64_t sample_bytes;  /* --sample-bytes; 0: off */
	unsigned max_depth;
	int track_memory;
	char **warnings;
	size_t nwarnings;
	struct rprocess *procs;
	size_t nprocs;
	char *cpu_coverage_note;   /* set when most CPU time went unsampled */
	struct symctx *symctx;     /* owns the strings in the stacks */
	struct rframes *frames;	 /* every stack's frames (NULL until the first) */
	int own_symctx;
	const char *func_filter, *func_exclude; /* as in report_input; not owned */
	unsigned cpu_hz;           /* as in report_input */
	int dump_signal;
	uint64_t dropped_samples;  /* CPU samples whose stack was lost (in events_dropped) */
	unsigned snapshot;         /* as in report_input: 0 the run's end */
	char *snapshot_label;
	uint64_t snapshot_ns;
	uint64_t interval_ns;      /* the series' interval asked for; 0: no series */
	uint64_t interval_max_ns;  /* the longest wait between reads the 1% budget imposed */
	const struct timeline *timeline; /* as in report_input, for report_func.c; not owned */
	const struct suppr *suppr;       /* as in report_input; not owned */
	uint64_t timeline_left_out; /* calls the launcher could not keep (its limit) */
};

/* A 64-bit finalizer (MurmurHash3's fmix64), for hash tables of the views. */
static inline uint64_t report_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

/* qsort, for n possibly 0 with base NULL (qsort's base must not be NULL). */
static inline void report_qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

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

/* A context that opens no file: every name stays unknown, modules keep
 * their paths (for images whose module paths are not to be trusted with
 * the file system: tests, the fuzzer). -ENOMEM. */
int symctx_new_offline(struct symctx **out);

/* A context answering from symbols saved by symctx_save (a profile
 * file's): opens no file. 0, -EPROTO (malformed), -ENOMEM. */
int symctx_new_replay(struct symctx **out, const void *syms, size_t len);

/* Separate debug files also in dirs (symbolizer_debug_dirs; "": none).
 * 0 or -ENOMEM; an offline context ignores it. */
int symctx_debug_dirs(struct symctx *c, const char *dirs);

/* A replay context looks again, in the files on disk, at the names and
 * lines its recording lacks (symbolizer_refresh), also in dirs. 0 or
 * -ENOMEM; other contexts: symctx_debug_dirs only. */
int symctx_refresh(struct symctx *c, const char *dirs);

/* The GNU build id (hex) of module, as the symbolizer read it; NULL. */
const char *report_build_id(const struct report *r, const char *module);

/* Keep every answer from now on, for symctx_save. */
void symctx_record(struct symctx *c);

/* The answers kept, as bytes (malloc'd). 0, -EINVAL (offline), -ENOMEM. */
int symctx_save(struct symctx *c, unsigned char **out, size_t *len);

/* Register and read the debug info of every module recorded so far. */
void symctx_warm(struct symctx *c, const struct session *s);

void symctx_free(struct symctx *c);

/*
 * Stacks for the other parts of the model (report_cpu.c): the module map
 * of process p, made once, then one symbolized stack per trace id (frame
 * 0 looked up as an exact address, the others as return addresses).
 */
struct report_modmap;

/* 0 or -ENOMEM. */
int report_modmap_new(struct report *r, const struct session *s, const struct sf_process *p,
		      struct report_modmap **out);

/* out->ids is malloc'ed (NULL when the trace is unknown). 0 or -ENOMEM. */
int report_modmap_stack(struct report *r, struct report_modmap *mm, const struct session *s,
			uint32_t trace, struct rstack *out);

/* Symbolize one address of the process, seen at map generation gen
 * (sf_process.map_gen), in the module mapped there then: inlined frames
 * first, the containing function last; out[0].module/offset say where it
 * is (module NULL, offset = addr when in no module). Returns >= 1 frames. */
int report_modmap_addr(struct report *r, const struct report_modmap *mm, uint64_t addr, uint32_t gen, int is_return,
		       struct sym_frame *out, int max);

void report_modmap_free(struct report_modmap *mm);

/* The CPU profile, crash and dumps of process p into rp (report_cpu.c).
 * 0 or -ENOMEM. */
int report_cpu_build(struct report *r, struct rprocess *rp, const struct session *s, const struct sf_process *p);

/* Release what report_cpu_build allocated in rp. */
void report_cpu_free(struct rprocess *rp);

/* Is module (a path) part of the C/C++ runtime (libc, ld.so, libstdc++,
 * libgcc_s, the agent) rather than the program's own code? */
int report_runtime_module(const char *module);

/* Format a byte count for people: "812 B", "12.3 KiB", "4.0 MiB". */
const char *report_bytes(uint64_t n, char *buf, size_t len);

/* Lower and upper bound of histogram bucket b. */
void report_bucket_range(unsigned b, uint64_t *lo, uint64_t *hi);

/* ---- Figures over time (cli/report_time.c) ----------------------------- */

/* One read of the process by the launcher (cli/series.h). */
struct rtime_point {
	uint64_t t_ns;          /* since the process started */
	uint64_t live_bytes, live_blocks;
	uint64_t rss_bytes;     /* 0: unknown */
	uint64_t allocs, alloc_bytes; /* since the previous point */
	uint64_t cpu_samples;   /* since the previous point */
	uint64_t other_bytes;   /* live bytes of sites that are no layer */
};

/* A site of the heap-over-time chart: its live bytes at every point. */
struct rtime_layer {
	uint32_t trace;
	struct rstack stack;
	uint64_t *live;         /* [rtime.n]: 0 where it was not among a point's top sites */
	uint64_t max;           /* its highest */
};

#define RTIME_LAYERS 10u

struct rtime {
	struct rtime_point *pts;
	size_t n;
	uint64_t interval_ns;   /* asked for */
	uint64_t step_ns;       /* the kept points' spacing, at least (grows for long runs) */
	uint64_t peak_t_ns, peak_live;   /* the highest point */
	/* What was live per site, read at comp_t_ns (the read nearest the
	 * peak: exact as of then), comp_live bytes in all; by live bytes. */
	uint64_t comp_t_ns, comp_live;
	struct rsite *comp;
	size_t ncomp;
	struct rtime_layer *layers; /* the sites with the most live bytes at any point, by max */
	size_t nlayers;
};

/* rp->time from the series of process slot (NULL series: left NULL).
 * 0 or -ENOMEM. */
int report_time_build(struct report *r, struct rprocess *rp, const struct session *s, const struct sf_process *p,
		      uint32_t slot, const struct series *sr);

void report_time_free(struct rprocess *rp);

/* ---- Function timing (cli/report_func.c) ------------------------------ */

#define RF_ROOT SIZE_MAX        /* rfnode.func of the root; rfedge.func of "no caller" */

/* One individual call. */
struct rfcall {
	size_t func;            /* index into rfuncs.funcs */
	int tid;
	int64_t start_ns;       /* since the process started (negative: before a fork) */
	uint64_t ns;            /* duration */
	const char *meta;       /* a region's metadata ("key=value ..."), or NULL */
};

/* A caller or callee of a function, summed over the call tree. */
struct rfedge {
	size_t func;            /* index into rfuncs.funcs, RF_ROOT: called from no
	                           instrumented function */
	uint64_t calls;
	uint64_t recursive;     /* of those calls, made while the callee was already
	                           active on the path (a recursive edge when > 0) */
	uint64_t total_ns;      /* time of the other calls: a callee's activation
	                           counts once, at its outermost call, as in
	                           rfunc.total_ns */
};

struct rfunc {
	const char *name;       /* demangled; NULL when unknown */
	const char *file;       /* of line: where the function starts */
	int line;
	const char *module;
	uint64_t address;       /* in the process (the first seen, when several) */
	uint64_t offset;        /* address - module load bias */
	int region;             /* a region of <ptrace-run.h>, named by the program */
	uint64_t calls;         /* every completed call */
	uint64_t recursive;     /* calls made while the function was already active */
	uint64_t unwound;       /* calls closed without their exit hook (longjmp, ...) */
	uint64_t total_ns;      /* inclusive, outermost calls only */
	uint64_t self_ns;       /* every call, outside instrumented callees */
	/* Over the outermost calls (calls - recursive of them): */
	uint64_t min_ns, max_ns, p50_ns, p95_ns, p99_ns;
	double mean_ns, stddev_ns;
	uint64_t allocs, bytes;           /* inclusive (outermost calls) */
	uint64_t self_allocs, self_bytes; /* by the function itself */
	struct rfcall slow[SF_FSLOW_FUNC]; /* slowest outermost calls, longest first */
	size_t nslow;
	struct rfedge *callers, *callees;  /* by total_ns, descending */
	size_t ncallers, ncallees;
};

/* Calling-context tree, merged over threads: one node per call path. */
struct rfnode {
	size_t func;            /* RF_ROOT for nodes[0] */
	size_t parent;
	uint64_t calls, total_ns, self_ns;
	uint64_t allocs, bytes; /* by the node's function itself */
	size_t *kids;           /* by total_ns, descending */
	size_t nkids;
};

struct rfthread {
	int tid;
	char name[SF_NAME_LEN];
	uint64_t calls;
	uint64_t total_ns;      /* inclusive time of its top-level instrumented calls */
};

struct rfuncs {
	const char *clock;      /* "tsc" or "monotonic" */
	double ns_per_tick;
	double hook_ns;         /* an enter+exit pair, as a caller sees it */
	double inner_ns;        /* the part of it inside the callee's own time */
	double clock_ns;        /* one clock read */
	int corrected;          /* hook cost subtracted from every duration */
	unsigned max_call_depth;
	uint64_t min_duration_ns;
	unsigned flags;         /* SF_FF_*: settings the agent rejected */
	uint64_t calls;         /* completed calls of every function, hidden ones too */
	uint64_t hidden_calls;  /* of functions --filter/--exclude leave out */
	uint64_t total_ns;      /* time inside top-level instrumented calls, all threads */
	uint64_t unmatched_exits, unwound, beyond_depth, in_hooks, dropped;
	uint64_t paused_calls;  /* made while recording was paused: not timed */
	uint64_t unmatched_region_ends; /* ptrace_region_end() with no region open */
	uint64_t regions_full;  /* region calls not timed: more than SF_REGION_CAP names */
	unsigned max_depth;     /* deepest stack tracked */
	struct rfunc *funcs;    /* shown functions, by self time, descending */
	size_t nfuncs;
	size_t *by_total;       /* indices into funcs by total_ns, descending */
	struct rfnode *nodes;   /* nodes[0] is the root */
	size_t nnodes;
	struct rfcall *slowest; /* slowest calls overall, longest first */
	size_t nslowest;
	/* The timeline: every call of at least timeline_min_ns, by start. */
	struct rfcall *timeline;
	size_t ntimeline;
	uint64_t timeline_min_ns;  /* UINT64_MAX: no timeline was kept */
	uint64_t timeline_dropped; /* calls the rings had no room for */
	struct rfthread *threads;
	size_t nthreads;
	char **owned;           /* region names and metadata */
	size_t nowned, owned_cap;
};

/* Function timing of process p into rp->func, left NULL when no
 * instrumented call ran. 0 or -ENOMEM. */
/* ns per clock tick of process timing fp, as every figure of the report
 * uses it (the whole run's ratio when it is long enough and sane). */
double report_func_ns_per_tick(const struct sf_fproc *fp);

int report_func_build(struct report *r, struct rprocess *rp, const struct session *s, const struct sf_process *p);

/* Free what report_func_build made, for every process of r. */
void report_func_free(struct report *r);

/* Format a duration for people: "812 ns", "12.3 us", "4.56 ms", "1.234 s". */
const char *report_ns(uint64_t ns, char *buf, size_t len);

/* Ticks [lo, hi] of bucket b of a function histogram (agent/func.h). */
void report_func_bucket(unsigned b, uint64_t *lo, uint64_t *hi);

/* The p-quantile (0 < p <= 1, nearest rank) of the durations counted in
 * hist[SF_FH_BUCKETS], in ticks: the bucket's midpoint, within 1/32 of the
 * exact value, clamped to [min, max]; max itself for the last rank. 0 when
 * hist is empty. */
uint64_t report_func_quantile(const uint64_t *hist, double p, uint64_t min, uint64_t max);

/* 1 when name matches one of the comma-separated globs (fnmatch); a C++
 * name without its return type, with or without its parameter list. */
int report_func_glob_match(const char *globs, const char *name);

#endif
