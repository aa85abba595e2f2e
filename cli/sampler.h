/*
 * The launcher's reader of the live image (docs/time.md): one thread that
 * runs alongside the program and never after it. It
 *   - has a second thread read the debug info of the modules the program
 *     loaded, so the report is ready sooner after the program ends
 *     (libc's DWARF alone takes ~0.1 s to decompress);
 *   - reads the figures over time every interval (cli/series.h), within
 *     a budget of 1% of one CPU;
 *   - takes snapshots: every --snapshot-every, when the snapshot signal
 *     reaches the launcher, when the program got its dump signal, and
 *     when the program calls ptrace_snapshot(); each one is a copy of the
 *     image with the series so far, taken in this thread, and a third
 *     thread (the worker) builds its report, which records the names it
 *     needs, and appends it to the profile file as one record, so that
 *     the reads go on meanwhile.
 */
#ifndef PTRACE_CLI_SAMPLER_H
#define PTRACE_CLI_SAMPLER_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "report.h"
#include "series.h"
#include "timeline.h"
#include "session.h"

/* The profile file to append a snapshot to, its header written; NULL
 * when it cannot be (said once by the callee). */
typedef FILE *(*sampler_open_fn)(void *arg);

struct sampler {
	pthread_t thread;
	int started;
	struct session rd;        /* a reader of its own over the live image */
	const struct session *live;
	struct series sr;
	struct timeline tl;       /* the rings' calls, drained every read */
	size_t tl_written;        /* of them, in the profile file's timeline records */
	struct symctx *ctx;       /* recording: every name a report resolved */
	uint64_t interval_ns;
	uint64_t every_ns;        /* 0: no periodic snapshots */
	uint64_t spawn_ns;        /* CLOCK_MONOTONIC when the program was spawned */
	struct report_input base; /* argv and settings for the snapshots' reports */
	sampler_open_fn open_profile;
	void *open_arg;
	int wake[2];              /* a byte: look now (a snapshot asked for, or stop) */
	int stop;                 /* atomic */
	int asked;                /* atomic: snapshots asked for by signal */
	unsigned snapshots;       /* written so far (by the worker) */
	unsigned failed;          /* could not be taken or written (atomic) */
	pthread_t warm;           /* reads the modules' debug info meanwhile */
	int warming;              /* the warm thread was started and not joined */
	struct session wrd;       /* its reader */
	uint32_t *api_seen;       /* per process slot: ptrace_snapshot() calls taken */
	/* Snapshots taken, for the worker thread to write (sampler.c). */
	pthread_t worker;
	int working;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_cond_t warm_cond; /* the warm thread's wait, cut short by stop */
	struct snapjob *head, **tail;
	unsigned queued;
	int quit;
	size_t napi_seen;
};

/* Start the thread. ctx: the recording symbolizer (owned by the caller;
 * the thread uses it until sampler_stop). 0 or -errno. */
int sampler_start(struct sampler *sm, const struct session *live, struct symctx *ctx, uint64_t interval_ns,
		  uint64_t every_ns, uint64_t spawn_ns, const struct report_input *base, sampler_open_fn open_profile,
		  void *open_arg);

/* Ask for a snapshot (from the launcher's wait loop; not a signal
 * handler). */
void sampler_ask(void *sm);

/* Stop the thread and wait for it (a snapshot being written finishes),
 * then read each process's last point (the program has ended). */
void sampler_stop(struct sampler *sm);

/* The series read so far (after sampler_stop: the whole run); NULL when
 * no interval was set. */
const struct series *sampler_series(const struct sampler *sm);

/* The timeline drained so far (after sampler_stop: the whole run). */
const struct timeline *sampler_timeline(const struct sampler *sm);

void sampler_free(struct sampler *sm);

#endif
