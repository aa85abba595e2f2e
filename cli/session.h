/*
 * The launcher's side of the session image: create the memfd, lay out the
 * header, tables and process slots; then read it back (live, after the
 * program ended, or from a saved file).
 *
 * The image is memory the profiled program can write, so to the launcher
 * it is untrusted input. The layout the launcher made (where the process
 * slots are, how many, when the session started) is kept here, outside
 * the image, and never read back from the header. Everything else is
 * checked as it is read: offsets (in bounds, below the bump pointer,
 * aligned), lists (session_list_len: no loop, no bad link), and the total
 * work of one report (session_charge: proportional to the image in use),
 * so a hostile image costs time and memory in proportion to its size.
 * What fails a check is recorded per process slot (session_corrupt) for
 * the report to say which part was corrupt.
 */
#ifndef PTRACE_CLI_SESSION_H
#define PTRACE_CLI_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "session_format.h"

/* Parts of the image a check can find corrupt (bits of session_corrupt). */
enum session_part {
	SP_HEADER,      /* the header: its layout or counters */
	SP_PROCESS,     /* a process record's own fields */
	SP_THREADS,     /* the thread list or a thread record */
	SP_THREAD_LOG,  /* the exited threads' log */
	SP_SITES,       /* an allocation-site table */
	SP_HEAP,        /* heap counters */
	SP_MODULES,     /* the module list or a module path (e.g. not a regular file) */
	SP_TRACES,      /* a stack trace */
	SP_CPU,         /* CPU sampling records */
	SP_CRASH,       /* the crash record */
	SP_DUMPS,       /* stack dumps */
	SP_FUNC,        /* function timing records */
	SP_CALL_TREE,   /* the calling-context tree */
	SP_OPEN_CALLS,  /* shadow stacks closed at a process's end */
	SP_CUT,         /* the report's reading budget ran out */
	SP_NPARTS
};

/* Name of a part, for the report's warning ("thread list"). */
const char *session_part_name(unsigned part);

/* Plausibility limits for figures read from the image: a count above
 * SESSION_MAX_COUNT (7e16 events) or a cumulative byte count above
 * SESSION_MAX_BYTES (1 EiB) cannot come from a real run; a live or peak
 * heap above SESSION_MAX_LIVE exceeds the x86-64 user address space. */
#define SESSION_MAX_COUNT (1ull << 56)
#define SESSION_MAX_BYTES (1ull << 60)
#define SESSION_MAX_LIVE (1ull << 47)

struct session_read;

struct session {
	int fd;               /* memfd, CLOEXEC: the program never sees it; -1 for a buffer */
	void *base;
	size_t size;
	char path[64];        /* /proc/<pid>/fd/<n>, handed to the agent */
	/* The layout, as the launcher made it (never re-read from the image). */
	sf_off procs;         /* struct sf_process[nslots] */
	uint32_t nslots;
	uint64_t start_ns;    /* CLOCK_MONOTONIC at creation */
	int mapped;           /* base was mapped by session_create */
	struct session_read *rd; /* what the checks found; mutable state of a reader */
};

/* Create an image of size bytes (sparse), sealed against shrinking (a
 * truncated image would kill every process mapping it with SIGBUS).
 * 0 or -errno. */
int session_create(struct session *s, size_t size);

/* Read the image held in buf (size bytes, 64-byte aligned; a saved image
 * or a test's): 0, -EPROTO when the header is not a valid image's, or
 * -ENOMEM. The buffer stays the caller's. */
int session_use(struct session *s, void *buf, size_t size);

/* Unmap and close. */
void session_close(struct session *s);

/* A second reader of src's image (the same mapping, the layout copied)
 * with reader state of its own, for another thread: session_close on it
 * frees only that state. 0 or -ENOMEM. */
int session_reader(struct session *dst, const struct session *src);

/* Check an image's header; 0, or -EPROTO when it is not a valid image. */
int session_validate(const void *base, size_t size);

/* Pointer at offset off of at least len bytes inside the part of the
 * image in use, 8-byte aligned; NULL when off is 0 or the range is not
 * (a torn or hostile image must not crash the reader). */
const void *session_at(const struct session *s, sf_off off, size_t len);

/* session_at, and a nonzero offset that fails marks part of process p
 * (NULL: the session) corrupt. */
const void *session_get(const struct session *s, const struct sf_process *p, unsigned part, sf_off off,
			size_t len);

/* Nodes of the list that starts at head (records of len bytes whose next
 * offset is at next_at) that can be visited: each distinct, in bounds and
 * aligned. A loop or a bad link ends the count there and marks part of p
 * corrupt. Also charged to the reading budget (session_charge). */
uint64_t session_list_len(const struct session *s, const struct sf_process *p, unsigned part, sf_off head,
			  size_t len, size_t next_at);

/* Take n units of work (list nodes, table slots, stack frames) from the
 * budget of the current report; returns how many may be done (< n when it
 * ran out: then SP_CUT is marked for p). */
uint64_t session_charge(const struct session *s, const struct sf_process *p, uint64_t n);

/* Start a report's reading: the budget becomes proportional to the bytes
 * of the image in use. Corruption found so far is kept. */
void session_read_begin(const struct session *s);

/* Mark part of process p (NULL: the session as a whole) corrupt. */
void session_corrupt(const struct session *s, const struct sf_process *p, unsigned part);

/* The corrupt parts of process slot i (SF_MAX_PROCS: the session as a
 * whole), as bits 1 << SP_*. */
uint32_t session_corrupt_bits(const struct session *s, uint32_t i);

/* Slot index of process record p, or SF_MAX_PROCS when it is none. */
uint32_t session_slot_of(const struct session *s, const struct sf_process *p);

/* Process slot i (i < session_nprocs): in the first array or a chunk; an
 * empty (SF_PROC_FREE) record when its chunk is missing. Corruption found
 * in a chunk's process is marked for the session as a whole. */
const struct sf_process *session_process(const struct session *s, uint32_t i);

/* Number of process slots claimed, as far as slots exist. */
uint32_t session_nprocs(const struct session *s);

/* The trace with this id, or NULL when invalid; *depth gets its depth,
 * read once (a live image may change it) and checked. */
const struct sf_trace *session_trace(const struct session *s, uint32_t id);
const struct sf_trace *session_trace_depth(const struct session *s, uint32_t id, unsigned *depth);

/* Copy the string at src (at most cap bytes, not necessarily terminated)
 * into dst[dstlen], NUL-terminated. Returns dst. */
char *session_str(char *dst, size_t dstlen, const char *src, size_t cap);

/* a + b, saturating at UINT64_MAX. */
static inline uint64_t session_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

#endif
