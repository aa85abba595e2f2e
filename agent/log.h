/*
 * A tiny logger for the agent: write(2) to stderr, no allocation, no stdio,
 * rate limited so a misbehaving setting can never flood the program's
 * stderr. Each message is prefixed "ptrace-run agent: ".
 */
#ifndef PTRACE_LOG_H
#define PTRACE_LOG_H

/* Print one line (msg parts concatenated); dropped past the rate limit. */
void log_warn(const char *a, const char *b, const char *c);

#endif
