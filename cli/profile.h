/*
 * The profile file: what a run leaves behind for `ptrace-run report` and
 * `ptrace-run diff` (docs/profile-format.md). It holds the session image
 * as the run ended (after the launcher closed what dead processes left
 * open), the symbols the run's report resolved (so it renders the same
 * names anywhere, after the binaries changed or went away), and what the
 * launcher knew besides (the command, exit status, resource usage, wall
 * time, the settings given to the agent), compressed with zstd.
 *
 * Read back, it is untrusted input like the image: the container is
 * checked here (magic, version, sizes, sections), the symbols by
 * symbolizer_load, the image by session_use and the checked reads of
 * cli/session.c that the live report uses too.
 */
#ifndef PTRACE_CLI_PROFILE_H
#define PTRACE_CLI_PROFILE_H

#include <stddef.h>
#include <stdio.h>

#include "report.h"
#include "session.h"

#define PROFILE_VERSION 1u

/* Write the profile of a run to f: the image of s, the symbols of
 * in->symctx (recording since before the report was built), and in's
 * other fields. 0, or -errno (-EIO: a write failed). */
int profile_write(FILE *f, const struct session *s, const struct report_input *in);

/* A profile file read back. */
struct profile {
	void *payload;            /* decompressed, mapped */
	size_t payload_len;
	struct session s;         /* over the image inside payload */
	struct report_input in;   /* argv, status, ...; symctx from the file */
	char **argv;              /* owned */
	int *reaped_pid, *reaped_status;
	char *not_loaded_reason;
	char *func_filter, *func_exclude; /* the run's, for reference */
	char *version;            /* ptrace-run version that wrote it */
};

/* Read path into p. 0; -errno with one line in err (no newline): "not a
 * ptrace-run profile", "a profile of format version N (this ptrace-run
 * reads 1)", "truncated", "corrupt: ...", or strerror. */
int profile_read(const char *path, struct profile *p, char *err, size_t errlen);

/* Same, from bytes in memory (the fuzzer). */
int profile_parse(const void *data, size_t len, struct profile *p, char *err, size_t errlen);

void profile_free(struct profile *p);

/* The default file name for a run of argv0 as pid, into buf:
 * "ptrace-run.<program>.<pid>.ptrace", the program's base name with
 * anything but letters, digits, '-', '_' and '.' as '_'. */
void profile_default_name(char *buf, size_t len, const char *argv0, int pid);

#endif
