/*
 * closeout: after the program ended, close the calls its processes left
 * open (killed, aborted, _exit in daemon(), threads inside calls at exit)
 * at each process's end, in the image, before any report reads it.
 */
#ifndef PTRACE_CLI_CLOSEOUT_H
#define PTRACE_CLI_CLOSEOUT_H

#include <stdint.h>

#include "session.h"

/* The process with this pid was reaped at end_ns (CLOCK_MONOTONIC): its
 * last image ended then, unless the agent already said when. */
void closeout_reaped(struct session *s, int pid, uint64_t end_ns);

/* Close p's open calls at its end (p->end_ns, else end_ns). Never fails:
 * what the image does not hold consistently is left as it is. */
void closeout_process(struct session *s, struct sf_process *p, uint64_t end_ns);

/* closeout_process for every process of the session; end_ns for those
 * whose end nobody recorded. Once per image. */
void closeout_session(struct session *s, uint64_t end_ns);

#endif
