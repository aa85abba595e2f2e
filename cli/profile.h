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
#include "series.h"
#include "timeline.h"
#include "session.h"

#define PROFILE_VERSION 3u

/* Record kinds. */
#define PROFILE_SNAPSHOT 1u  /* taken while the program ran */
#define PROFILE_END 2u       /* the run's end */
#define PROFILE_TIMELINE 3u  /* the timeline's calls since the previous such record */

/* Start a profile file: its header. 0 or -EIO. */
int profile_begin(FILE *f);

/* Append one record: the image of s, the symbols of in->symctx
 * (recording since before the report was built), in->series, and in's
 * other fields; a snapshot when in->snapshot, else the run's end.
 * Compressed in memory first, then written with one fwrite and flushed.
 * 0, or -errno (-EIO: a write failed). */
int profile_record(FILE *f, const struct session *s, const struct report_input *in);

/* Append a record of the timeline's calls from index from on (none
 * when there are none). Written before each snapshot and the end, so
 * that a record's timeline is every such record before it. 0 or -errno. */
int profile_timeline(FILE *f, const struct timeline *tl, size_t from);

/* profile_begin and one record. */
int profile_write(FILE *f, const struct session *s, const struct report_input *in);

/* A copy of the image of s in use (page-aligned, mapped: free it with
 * profile_image_free), its header the launcher's layout: for
 * session_use. 0, -EINVAL, -ENOMEM. */
int profile_image_copy(const struct session *s, void **out, size_t *len);
void profile_image_free(void *img, size_t len);

/* A profile file read back. */
struct profile {
	void *payload;            /* decompressed, mapped */
	size_t payload_len;
	void *image_map;          /* the image made whole from runs (IMGR), mapped */
	size_t image_map_len;
	struct session s;         /* over the image inside payload */
	struct report_input in;   /* argv, status, ...; symctx from the file */
	char **argv;              /* owned */
	int *reaped_pid, *reaped_status;
	char *not_loaded_reason;
	char *func_filter, *func_exclude; /* the run's, for reference */
	char *version;            /* ptrace-run version that wrote it */
	char *snapshot_label;
	struct series series;     /* in.series points here when has_series */
	int has_series;
	struct timeline timeline; /* in.timeline points here when it has one */
	/* The file's records: */
	unsigned nsnapshots;      /* snapshots in the file */
	int has_end;              /* it holds the run's end */
	unsigned chosen;          /* the record read: snapshot number, 0 the end */
	size_t cut_bytes;         /* bytes of a last record cut short, left out */
};

/* Read path into p. 0; -errno with one line in err (no newline): "not a
 * ptrace-run profile", "a profile of format version N (this ptrace-run
 * reads 1)", "truncated", "corrupt: ...", or strerror. */
int profile_read(const char *path, struct profile *p, char *err, size_t errlen);

/* Read one record: which = 0 the run's end (the last snapshot when the
 * run never ended: the launcher was killed), N >= 1 snapshot N. -ENOENT
 * with "no snapshot N: the profile holds K" when there is none; the
 * record counts stay in p then. */
int profile_read_at(const char *path, unsigned which, struct profile *p, char *err, size_t errlen);

/* A file as the user named it: "FILE" (which: 0 or N as above) or
 * "FILE:N", snapshot N of FILE (when no file is named "FILE:N"). */
int profile_read_spec(const char *spec, unsigned which, struct profile *p, char *err, size_t errlen);

/* Same, from bytes in memory (the fuzzer). */
int profile_parse(const void *data, size_t len, struct profile *p, char *err, size_t errlen);
int profile_parse_at(const void *data, size_t len, unsigned which, struct profile *p, char *err, size_t errlen);

void profile_free(struct profile *p);

/* The default file name for a run of argv0 as pid, into buf:
 * "ptrace-run.<program>.<pid>.ptrace", the program's base name with
 * anything but letters, digits, '-', '_' and '.' as '_'. */
void profile_default_name(char *buf, size_t len, const char *argv0, int pid);

#endif
