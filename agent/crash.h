/*
 * Where a program died, and where its threads are on request.
 *
 * Crash: for SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGABRT left at SIG_DFL,
 * a handler records the signal, the faulting address and the crashing
 * thread's stack in the image, then lets the signal do what SIG_DFL does:
 * the handler is SA_RESETHAND, a fault returns to the faulting instruction
 * (which faults again, now with the default action) and a sent signal is
 * sent again. The program dies by the same signal, with the same core
 * dump and exit status. A program that installs its own handler gets it
 * installed for real (sigown.h), and then no crash report.
 *
 * Dump (PTRACE_DUMP_SIGNAL): the thread that receives the signal records
 * its stack and passes the request on to every other thread of the
 * process with rt_tgsigqueueinfo (tagged so that it is not taken for a new
 * request); each records its own. The program goes on running. Handlers
 * are SA_RESTART: a system call the request interrupts is restarted where
 * the kernel allows it.
 */
#ifndef PTRACE_CRASH_H
#define PTRACE_CRASH_H

#include <signal.h>

/* Once per process, from agent_init, after cpu_init. */
void crash_init(void);

/* Is si a dump request passed on between our threads (to be hidden from
 * sigwait)? */
int crash_own_signal(const siginfo_t *si);

/* The dump signal while dumps are on, else 0. */
int crash_dump_signal(void);

/* The program waits for the dump signal itself (signalfd): no more dumps. */
void crash_dump_taken(void);

/* Forget the slabs inherited from the parent (fork child). */
void crash_after_fork(void);

#endif
