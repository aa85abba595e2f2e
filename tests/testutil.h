/* Shared helpers for the Criterion tests. */
#ifndef PTRACE_TESTUTIL_H
#define PTRACE_TESTUTIL_H
#endif
