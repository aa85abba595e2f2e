/*
 * CPU sampling. Every thread gets a CPU-time timer of its own, so a
 * thread is sampled in proportion to the CPU it burns, whatever the others
 * do: a software task-clock perf event of the thread (perf_event_open,
 * its overflow signalled to the thread through fasync), or where perf
 * events are not allowed a POSIX timer on CLOCK_THREAD_CPUTIME_ID with
 * SIGEV_THREAD_ID. Both signal the sampling signal, one the program does
 * not use, chosen at start (SIGPROF and ITIMER_PROF stay the program's).
 * Each signal counts the periods of the thread's CPU time since the last
 * one, and the handler unwinds the interrupted thread with libunwind,
 * interns the stack and adds the periods to the thread's table in the
 * image.
 *
 * The handler is async-signal-safe: no malloc, no locks; memory comes from
 * the image's bump allocator. A thread interrupted inside libunwind (a
 * heap hook capturing a stack) is not unwound again: its sample keeps the
 * interrupted PC only.
 *
 * The sampler steps aside for good (every timer disarmed) when the program
 * shows it uses the sampling signal itself: a handler of its own, SIG_IGN,
 * a timer signalling it, a wait for it alone, or one from elsewhere.
 */
#ifndef PTRACE_CPU_H
#define PTRACE_CPU_H

#include <signal.h>
#include <stdint.h>

#include "agent.h"

#define CPU_TABLE_INITIAL 64u      /* slots in a thread's first sample table */
#define CPU_TABLE_MAX (1u << 20)   /* slots: past this, samples lose their stack */

/* Once per process, from agent_init: the process record, the sampling
 * signal and its handler. Leaves sampling off when PTRACE_CPU_HZ is 0 or
 * no candidate signal is free (recorded in the process's flags). */
void cpu_init(void);

/* The sampling signal; 0 when none was claimed. Async-signal-safe. */
int cpu_signal(void);

/* The process's CPU record (made on first use, also in a fork child);
 * NULL when the agent has no process record. Async-signal-safe. */
struct sf_cpu_proc *cpu_proc(void);

/* Arm the calling thread's timer; r is its (new) record. Run with
 * ts.state == TS_BUSY: it may allocate (libunwind's first use). */
void cpu_thread_init(struct sf_thread *r);

/* The calling thread is exiting: disarm its timer, keep its name. */
void cpu_thread_exit(struct sf_thread *r);

/* Record f (SF_CPU_*) in this process's CPU record, and in those of fork
 * children to come. Async-signal-safe. */
void cpu_flag(uint32_t f);

/* Does a new thread need to be set up at its start (sampler armed)? */
int cpu_sampling(void);

/* Disarm every timer of the process for good; why is an SF_CPU_ASIDE_*
 * flag. Async-signal-safe. */
void cpu_step_aside(uint32_t why);

/* The program set its RLIMIT_SIGPENDING (shim/process.c): without room
 * for our POSIX timers, every thread on one moves to a perf event. */
void cpu_sigpending_changed(void);

/* Is si a signal of our own timers (to be hidden from sigwait)? */
int cpu_own_signal(const siginfo_t *si);

/* Room cpu_capture needs beyond max: the handler's own frames. */
#define CPU_CAPTURE_SLACK 32u

/*
 * The interrupted thread's stack, from a handler's ucontext, into ips
 * (room for max + CPU_CAPTURE_SLACK entries): ips[0] is the interrupted
 * instruction, then return addresses. Returns the depth, at most max;
 * *pc_only is set when the thread was inside the unwinder already (then
 * ips[0] alone: unwinding again would corrupt libunwind's caches).
 */
unsigned cpu_capture(const void *uc, uint64_t *ips, unsigned max, int *pc_only);

/* Add samples to trace in c's table; -ENOSPC when no slot could be had
 * (the caller counts them without a stack). Owner thread only. */
int cpu_table_add(struct sf_cpu_thread *c, uint32_t trace, uint64_t samples);

/*
 * After a hook's stack capture (trace id, 0 if none was stored): the CPU
 * samples that landed inside it (ts.cpu_deferred) go to that stack, the
 * program's that called the hook: the agent's time is charged to its
 * caller, and counted as the agent's (sf_cpu_thread.agent).
 */
void cpu_take_deferred(uint32_t id);

#ifdef PR_UNIT_TEST
/* Unit tests: what cpu_capture returns. */
extern uint64_t cpu_test_ips[SF_DEPTH_LIMIT];
extern unsigned cpu_test_depth;
#endif

#endif
