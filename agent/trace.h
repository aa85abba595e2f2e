/*
 * Stack traces: capture with libunwind's fast path, then intern into the
 * session-wide lock-free trace table. Ids are stable for the session.
 */
#ifndef PTRACE_TRACE_H
#define PTRACE_TRACE_H

#include <stdint.h>

#include "agent.h"

/* Capture up to max frames above the agent's own frames into ips;
 * returns the depth (0 when nothing could be unwound). */
unsigned trace_capture(uint64_t *ips, unsigned max);

/* Id of the trace ips[0..n); 0 when it could not be stored (table or
 * image full: counted in dropped_traces). */
uint32_t trace_intern(struct tstate *t, const uint64_t *ips, unsigned n);

/* 64-bit hash of a stack (exposed for tests); never 0. */
uint64_t trace_hash(const uint64_t *ips, unsigned n);

#ifdef PR_UNIT_TEST
extern uint64_t trace_test_ips[SF_DEPTH_LIMIT];
extern unsigned trace_test_depth;
#endif

#endif
