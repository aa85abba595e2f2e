/*
 * --dump-after: a thread of the launcher sleeps that long, then sends the
 * dump signal to the program. Through a pidfd opened while the program
 * is still our unreaped child, so the signal can never reach a process
 * that got the pid afterwards.
 */
#ifndef PTRACE_DUMP_TIMER_H
#define PTRACE_DUMP_TIMER_H

#include <pthread.h>
#include <sys/types.h>

struct dump_timer {
	pthread_t thread;
	int pidfd;
	int wake[2];          /* a byte here ends the wait early */
	int sig;
	double secs;
	int started;
};

/* Send sig to pid secs seconds from now. Call before pid can be reaped.
 * 0 or -errno (nothing started). */
int dump_timer_start(struct dump_timer *d, pid_t pid, int sig, double secs);

/* Stop waiting (if it still is) and release everything; idempotent. */
void dump_timer_stop(struct dump_timer *d);

#endif
