/*
 * Process-wide agent state and the per-thread state every hook starts
 * from. One initial-exec TLS struct per thread; its `state` byte is the
 * single test on every fast path: anything but TS_READY (not yet set up,
 * already inside a hook, agent off) takes the out-of-line slow path.
 */
#ifndef PTRACE_AGENT_H
#define PTRACE_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "session_format.h"
#include "settings.h"

#define NI __attribute__((no_instrument_function))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

enum agent_state { AGENT_UNINIT = 0, AGENT_INITIALIZING, AGENT_READY, AGENT_OFF };

/* The allocator we sit on top of (RTLD_NEXT). */
struct real_alloc {
	void *(*malloc)(size_t);
	void (*free)(void *);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	void *(*memalign)(size_t, size_t);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t);
	void *(*valloc)(size_t);
	void *(*pvalloc)(size_t);
	size_t (*usable_size)(void *);
	void *(*dlopen)(const char *, int);
	int (*dlclose)(void *);
	void (*exit_raw)(int);
};

#define AGENT_LINEAGE 8 /* ancestors whose module lists a fork child shares */

struct agent {
	int state;                /* enum agent_state, atomic */
	int init_tid;             /* thread running agent_init */
	int tracking;             /* blocks carry our header (decided once): 1; 2 while
	                             recording is paused (agent/api.c); 0 never */
	int pid;
	int trace_pid;            /* whose run of the trace table this image's traces
	                             start in (agent/trace.c): the pid that exec'd it,
	                             kept by fork children */
	uint32_t proc_index;
	uint32_t ptag;            /* 12-bit tag of this process in block headers */
	uint32_t epoch;           /* 0 or 1: flipped by each ptrace_reset() (agent/api.c) */
	struct sf_process *proc;  /* NULL when not registered */
	struct settings set;
	uint64_t self_lo, self_hi;  /* our own text: stack frames to skip */
	int modules_dirty;        /* atomic: a dlopen may have added modules */
	int modules_busy;         /* atomic try-lock for module scans */
	int unloaded;             /* atomic: a dlclose ran (trace_unwind_libunwind) */
	int fork_child;           /* a fork child before exec: only async-signal-safe
	                             work (the loader's lock may be held for ever) */
	struct sf_process *lineage[AGENT_LINEAGE]; /* profiled ancestors, parent first */
	int daemon_tid;           /* atomic: thread inside daemon(), 0 none */
	struct real_alloc real;
};

extern struct agent agent;

#define TS_TCACHE 64 /* entries in the per-thread trace cache (1 KiB: it is in every
                        thread's static TLS, carved out of its stack), power of two */

enum tstate_state { TS_UNINIT = 0, TS_READY = 1, TS_BUSY = 2, TS_OFF = 3 };

#define TS_UNWIND_HOOK 2 /* ts.in_unwind: inside trace_capture */

struct cfi_memo;

struct tstate {
	uint8_t state;            /* enum tstate_state */
	uint8_t saved;            /* state to restore after a nested slow path */
	uint8_t paused;           /* ptrace_pause(1): this thread's allocations and
	                             samples are not recorded (agent/api.c) */
	uint32_t site_mask;       /* site table capacity - 1 */
	struct sf_thread *rec;    /* this thread's record in the image */
	struct sf_site *sites;    /* rec->sites, NULL when no table */
	/* Lookups that went past a site's second slot since the table was
	 * laid out, and the lookups (allocations and frees) by then. */
	uint32_t site_far, site_layouts;
	uint64_t site_looks;
	int64_t pending;          /* live bytes not yet flushed to the process */
	void *last_alloc;         /* for temporary allocations */
	uint64_t countdown;       /* allocations until the next sampled stack */
	int64_t byte_gap;         /* --sample-bytes: bytes until the next sample */
	uint64_t w_count, w_bytes; /* the weights of the allocation just sampled by
	                             bytes (heap_sample_bytes); w_bytes 0: none */
	uint64_t rng;
	struct {
		uint64_t hash64;
		uint32_t id;
		uint32_t depth;
	} tcache[TS_TCACHE];      /* recent traces, direct mapped by hash */
	char *slab;               /* trace records are carved from here */
	size_t slab_left;
	size_t slab_next;         /* size of the next slab */
	uintptr_t stack_lo, stack_hi; /* the thread's own stack; 0: unknown */
	uint8_t in_unwind;        /* inside libunwind: a signal handler must not
	                             unwind this thread again. TS_UNWIND_HOOK:
	                             a hook's own stack capture (trace_capture),
	                             whose stack a CPU sample landing there then
	                             takes (cpu_deferred) */
	uint8_t in_dl;            /* inside dl_iterate_phdr (shim/dl.c): holds the
	                             loader's lock, so no unwinding (libunwind
	                             takes its own lock, then the loader's) */
	uint64_t cpu_deferred;    /* CPU samples that landed in a hook's capture,
	                             waiting for its stack (cpu_take_deferred) */
	uint32_t captures;        /* stacks unwound by this thread (trace.h: the
	                             first ones take libunwind's slow path) */
	struct cfi_memo *memo;    /* rec->walk_memo, NULL until the first walk
	                             (trace_memo) */
	uint8_t mask_view;        /* the program has the sampling signal blocked in
	                             this thread; for real it is not (shim/signal.c) */
};

extern __thread struct tstate ts;

/* Raise the atomic *peak to live when live is higher (any thread). */
static inline void agent_peak_raise(uint64_t *peak, int64_t live)
{
	uint64_t seen = __atomic_load_n(peak, __ATOMIC_RELAXED);

	while (live > 0 && (uint64_t)live > seen &&
	       !__atomic_compare_exchange_n(peak, &seen, (uint64_t)live, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* Is an allocation of this thread to be counted now? (Not while paused.) */
static inline int agent_counting(void)
{
	return likely(ts.state == TS_READY) && likely(agent.tracking == 1) && likely(!ts.paused);
}

/* agent/api.c: an allocation of n bytes or w CPU samples not counted
 * because recording was paused. */
void api_note_paused_alloc(size_t n);
void api_note_paused_sample(uint64_t w);

/* Initialise the agent once per process; safe to call from any hook.
 * Returns the resulting enum agent_state. */
int agent_init(void);

/* Give the calling thread its record; sets ts.state to TS_READY, or
 * TS_OFF when the agent does not record in this process. */
void agent_thread_init(void);

/* The calling thread is exiting (pthread key destructor). */
void agent_thread_exit(void);

/* Record the exit code and the end; from on_exit and the _exit and
 * quick_exit shims. Async-signal-safe. */
void agent_process_exit(int code);

/* Around the real daemon(): its parent's end is stamped at the fork
 * (glibc ends it by an internal _exit); ret < 0 takes that back. */
void agent_daemon_enter(void);
void agent_daemon_leave(int ret);

int agent_gettid(void);

/*
 * Room to unwind here? libunwind needs several KiB of stack. Code running
 * on a stack that is not the thread's own (a coroutine's, from makecontext;
 * a signal stack) may have far less, and an overflow there would kill the
 * program: such stacks are not unwound (the sample or allocation is
 * counted without a stack). Nor is a thread inside dl_iterate_phdr: it
 * holds the loader's lock, which libunwind takes after a lock of its own
 * that another thread may hold while it waits for the loader's.
 */
#define AGENT_UNWIND_ROOM (16 * 1024)
static inline int agent_can_unwind(const struct tstate *t)
{
#ifdef PR_UNIT_TEST
	(void)t;
	return 1; /* the tests' trace_capture does not unwind */
#else
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);

	return t->stack_hi && !t->in_dl && sp > t->stack_lo + AGENT_UNWIND_ROOM && sp < t->stack_hi;
#endif
}

/* Function timing: needs ts above; heap.h calls func_note_alloc. */
#include "func.h"

#endif
