/*
 * ptrace_reset(): subtract the baseline the agent copied at the last
 * reset from the image, record by record, so that every figure of the
 * report is what happened after it (cli/baseline.c, docs/api.md). Done
 * once per image (sf_api.baseline_applied), before any report reads it:
 * at the run's end, on a snapshot's copy, on a profile file's image.
 */
#ifndef PTRACE_CLI_BASELINE_H
#define PTRACE_CLI_BASELINE_H

#include "session.h"

/* The processes whose figures it made relative to their reset. */
int baseline_apply(struct session *s);

#endif
