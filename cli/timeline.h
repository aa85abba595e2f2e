/*
 * The timeline (docs/time.md): the individual calls of at least
 * --timeline-min that the agent put into each thread's ring in the image
 * (struct sf_ring), drained by the launcher while the program runs and
 * once more at its end, kept here, saved in the profile file (TIML).
 *
 * A ring is memory the program can write: every record is checked as it
 * is read (size, bounds, the function's offset is the report's to check),
 * and a ring that fails a check is skipped to its head, never trusted
 * further. The launcher keeps at most TIMELINE_MAX_EVENTS; beyond that it
 * counts what it left out.
 */
#ifndef PTRACE_CLI_TIMELINE_H
#define PTRACE_CLI_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#include "session.h"

#define TIMELINE_MAX_EVENTS (1u << 20)

struct tl_event {
	uint32_t slot;           /* process slot */
	int32_t tid;
	uint64_t start, ticks;   /* the process's clock ticks */
	sf_off func;             /* struct sf_func of the call */
	uint32_t meta;           /* offset into timeline.text; meta_len 0: none */
	uint32_t meta_len;
};

struct timeline {
	struct tl_event *ev;
	size_t n, cap;
	char *text;              /* metadata, not NUL-terminated: (meta, meta_len) */
	size_t ntext, text_cap;
	uint64_t left_out;       /* events beyond TIMELINE_MAX_EVENTS */
	uint64_t bad_rings;      /* rings skipped: a record failed a check */
};

/* Take every complete record of every ring of s, moving each ring's
 * tail past them (s must be the live, writable image). Returns the
 * records taken. */
size_t timeline_drain(struct timeline *tl, const struct session *s);

/* The events from index from on (a part: the profile file holds the
 * timeline as parts, each with the calls since the previous one). 0 or
 * -ENOMEM. */
int timeline_save(const struct timeline *tl, size_t from, unsigned char **out, size_t *len);
/* Parse a part into tl (timeline_parse: a new one; timeline_append:
 * after what tl holds). 0, -EPROTO, -ENOMEM; tl is freed on failure. */
int timeline_parse(struct timeline *tl, const void *data, size_t len);
int timeline_append(struct timeline *tl, const void *data, size_t len);
/* A new timeline of src's events from index from on (a part). 0, -ENOMEM. */
int timeline_copy_from(struct timeline *dst, const struct timeline *src, size_t from);
void timeline_free(struct timeline *tl);

#endif
