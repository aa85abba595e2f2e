/*
 * The leak check at exit: what is still live, classified by a
 * conservative scan of the process's memory (session_format.h, struct
 * sf_leaks; docs/leaks.md).
 */
#ifndef PTRACE_LEAKSCAN_H
#define PTRACE_LEAKSCAN_H

#include <signal.h>

/* Run the check once, from the exit path (agent_process_exit), before the
 * process's record is ended. No malloc, no locks of the program's.
 * Returns 1 when it also brought the module map up to date (from the
 * /proc/self/maps it read). */
int leakscan_run(void);

/* From the sampling signal's handler: a stop request of the check
 * (rt_tgsigqueueinfo from the checking thread)? Then the thread saves its
 * registers, waits until the check is done, and 1 is returned. */
int leakscan_stop_here(const siginfo_t *si, void *uc);

#endif
