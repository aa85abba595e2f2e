/*
 * The launcher's side of the session image: create the memfd, lay out the
 * header, tables and process slots; then read it back (live, after the
 * program ended, or from a saved file).
 */
#ifndef PTRACE_CLI_SESSION_H
#define PTRACE_CLI_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "session_format.h"

struct session {
	int fd;               /* memfd, CLOEXEC: the program never sees it */
	void *base;
	size_t size;
	char path[64];        /* /proc/<pid>/fd/<n>, handed to the agent */
};

/* Create an image of size bytes (sparse). 0 or -errno. */
int session_create(struct session *s, size_t size);

/* Unmap and close. */
void session_close(struct session *s);

/* Check an image's header; 0, or -EPROTO when it is not a valid image. */
int session_validate(const void *base, size_t size);

/* Pointer at offset off of at least len bytes inside the image, or NULL
 * when off is 0 or the range is outside the image (a torn or hostile
 * image must not crash the reader). */
const void *session_at(const struct session *s, sf_off off, size_t len);

/* Process slot i (i < session_nprocs): in the first array or a chunk; an
 * empty (SF_PROC_FREE) record when its chunk is missing. */
const struct sf_process *session_process(const struct session *s, uint32_t i);

/* Number of process slots claimed, as far as slots exist. */
uint32_t session_nprocs(const struct session *s);

/* The trace with this id, or NULL when invalid. */
const struct sf_trace *session_trace(const struct session *s, uint32_t id);

#endif
