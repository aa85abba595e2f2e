/*
 * The report outputs (-o and --json): each is opened once, before the
 * program starts, and kept open to the end, so that nothing another user
 * does to the path meanwhile (swapping a symlink in) can redirect a report.
 *
 * What a name may be:
 *   "-"                       the launcher's stdout
 *   /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N
 *                             the launcher's descriptor 1, 2 or N (dup'ed;
 *                             these are magic symlinks, never opened as paths)
 *   any other path            opened with O_NOFOLLOW (a symlink as the last
 *                             component is refused; directories above it are
 *                             followed as usual) and O_NONBLOCK (a FIFO
 *                             without a reader is refused instead of
 *                             blocking), then by what fstat says it is:
 *                             - a regular file: truncated (created with the
 *                               given mode, 0600 by default, when missing);
 *                             - a character device (/dev/null, a terminal):
 *                               written as is;
 *                             - a FIFO with a reader: written as is;
 *                             - anything else (a block device...): refused.
 * The descriptor is O_CLOEXEC and above 2: the program never inherits it,
 * and a launcher started with a closed stdio descriptor does not fill it.
 */
#ifndef PTRACE_OUTPUT_H
#define PTRACE_OUTPUT_H

#include <stdio.h>
#include <sys/types.h>

#define OUTPUT_DEFAULT_MODE 0600

struct output {
	const char *name;       /* as given, for messages */
	FILE *f;                /* NULL when not open; writes go through the cookie */
	int fd;                 /* ours, O_CLOEXEC, > 2; -1 when closed */
	int dup;                /* a copy of one of the launcher's descriptors */
	dev_t dev;
	ino_t ino;
	mode_t type;            /* S_IFMT bits of what was opened */
	int created;            /* we created the file (removed by output_discard) */
	int err;                /* first write error seen (negative errno), 0 none */
};

/*
 * Open name as described above, without truncating it yet. 0; -errno with
 * one line in err (no newline, without the option's name): "is a symbolic
 * link: not followed", "a FIFO that no process reads", "not a regular
 * file, character device or FIFO", or strerror.
 */
int output_open(struct output *o, const char *name, unsigned mode, char *err, size_t errlen);

/* 1 when a and b (both open) would write into the same file: one regular
 * file or FIFO, or both the same pipe or socket. Two character devices
 * (/dev/null twice, one terminal) are not the same: writes there do not
 * overwrite each other. */
int output_same(const struct output *a, const struct output *b);

/* Truncate a regular file, switch the descriptor back to blocking writes.
 * 0 or -errno. */
int output_ready(struct output *o);

/* Flush and close; 0, or the -errno of the first write that failed (the
 * bytes did not all reach the file: EIO, ENOSPC, EPIPE...). Idempotent. */
int output_close(struct output *o);

/* Close without writing, and remove the file if output_open created it. */
void output_discard(struct output *o);

#endif
