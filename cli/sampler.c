/*
 * The launcher's reader of the live image (sampler.h).
 */
#include "sampler.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "baseline.h"
#include "profile.h"

/* The reader's share of one CPU: a read that took w waits 100 w. */
#define BUDGET_FACTOR 100u

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int modules_known(const struct session *s)
{
	const struct sf_process *p;

	if (!session_nprocs(s))
		return 0;
	p = session_process(s, 0);
	return __atomic_load_n(&p->state, __ATOMIC_ACQUIRE) >= SF_PROC_RUNNING &&
	       __atomic_load_n(&p->modules, __ATOMIC_ACQUIRE);
}

/* Dump requests so far, over every process: each one is a snapshot. */
static uint64_t dumps_of(const struct session *s)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < session_nprocs(s); i++) {
		const struct sf_process *p = session_process(s, i);
		const struct sf_cpu_proc *c;

		if (__atomic_load_n(&p->state, __ATOMIC_ACQUIRE) < SF_PROC_RUNNING)
			continue;
		c = session_at(s, __atomic_load_n(&p->cpu, __ATOMIC_ACQUIRE), sizeof(*c));
		if (c)
			n += __atomic_load_n(&c->dumps, __ATOMIC_RELAXED);
	}
	return n;
}

static void snapshot(struct sampler *sm, const char *label);
static void warm_join(struct sampler *sm);

/* ptrace_snapshot() calls not yet taken, one snapshot each, labelled as
 * the program asked (printable ASCII kept, the rest '?'). */
static void api_snapshots(struct sampler *sm)
{
	const struct session *s = &sm->rd;

	for (uint32_t i = 0; i < session_nprocs(s); i++) {
		const struct sf_process *p = session_process(s, i);
		const struct sf_api *a;
		uint32_t n;

		if (__atomic_load_n(&p->state, __ATOMIC_ACQUIRE) < SF_PROC_RUNNING)
			continue;
		a = session_at(s, __atomic_load_n(&p->api, __ATOMIC_ACQUIRE), sizeof(*a));
		if (!a)
			continue;
		if (i >= sm->napi_seen) {
			size_t ncap = i + 64;
			uint32_t *nv = realloc(sm->api_seen, ncap * sizeof(*nv));

			if (!nv)
				return;
			memset(nv + sm->napi_seen, 0, (ncap - sm->napi_seen) * sizeof(*nv));
			sm->api_seen = nv;
			sm->napi_seen = ncap;
		}
		n = __atomic_load_n(&a->snapshots, __ATOMIC_ACQUIRE);
		/* A burst beyond the labels kept: the last ones. */
		if (n - sm->api_seen[i] > SF_API_LABELS)
			sm->api_seen[i] = n - SF_API_LABELS;
		while (sm->api_seen[i] < n) {
			char label[SF_API_LABEL_LEN];

			session_str(label, sizeof(label), a->labels[sm->api_seen[i] % SF_API_LABELS], SF_API_LABEL_LEN);
			for (char *c = label; *c; c++)
				if (*c < 0x20 || *c > 0x7e)
					*c = '?';
			sm->api_seen[i]++;
			snapshot(sm, label[0] ? label : "ptrace_snapshot");
		}
	}
}

/* A snapshot taken: what the worker makes a record of. */
struct snapjob {
	struct snapjob *next;
	void *img;
	size_t len;
	struct series series;
	int has_series;
	struct timeline part;     /* the timeline's calls since the last part */
	char label[SF_API_LABEL_LEN + 16];
	uint64_t now;
};

#define SNAP_QUEUE 4u /* snapshots waiting for the worker at most; more are dropped, counted */

static void job_free(struct snapjob *j)
{
	profile_image_free(j->img, j->len);
	series_free(&j->series);
	timeline_free(&j->part);
	free(j);
}

/*
 * The snapshot itself, in the reader's thread: a copy of the image, the
 * series and the timeline's new calls, all as of now. Its report and its
 * record (the symbolizer's work: the first one waits for the debug info)
 * are the worker's, so the reads go on meanwhile.
 */
static void snapshot(struct sampler *sm, const char *label)
{
	struct snapjob *j = calloc(1, sizeof(*j));

	if (!j || profile_image_copy(sm->live, &j->img, &j->len)) {
		free(j);
		sm->failed++;
		return;
	}
	j->now = mono_ns();
	snprintf(j->label, sizeof(j->label), "%s", label);
	if (sm->interval_ns && series_copy(&j->series, &sm->sr) == 0)
		j->has_series = 1;
	timeline_drain(&sm->tl, &sm->rd);
	if (timeline_copy_from(&j->part, &sm->tl, sm->tl_written) == 0)
		sm->tl_written = sm->tl.n;
	pthread_mutex_lock(&sm->lock);
	if (sm->queued >= SNAP_QUEUE) {
		pthread_mutex_unlock(&sm->lock);
		sm->failed++;
		job_free(j);
		return;
	}
	j->next = NULL;
	*sm->tail = j;
	sm->tail = &j->next;
	sm->queued++;
	pthread_cond_signal(&sm->cond);
	pthread_mutex_unlock(&sm->lock);
}

/* The report of the copy resolves every name the snapshot needs (the
 * recording symbolizer keeps them for the record); then the record. */
static void snapshot_write(struct sampler *sm, struct snapjob *j)
{
	struct report_input in = sm->base;
	struct session cs;
	struct report rep;
	FILE *f;
	int rc;

	if (session_use(&cs, j->img, j->len)) {
		__atomic_fetch_add(&sm->failed, 1, __ATOMIC_RELAXED);
		return;
	}
	baseline_apply(&cs);
	if (j->has_series)
		in.series = &j->series;
	in.timeline = &j->part;
	in.snapshot = sm->snapshots + 1;
	in.snapshot_label = j->label;
	in.snapshot_ns = j->now - sm->live->start_ns;
	in.duration_ns = j->now > sm->spawn_ns ? j->now - sm->spawn_ns : 0;
	in.symctx = sm->ctx;
	rc = report_build(&rep, &cs, &in);
	if (rc == 0)
		report_free(&rep);
	f = rc == 0 ? sm->open_profile(sm->open_arg) : NULL;
	/* The calls since the last part first: the snapshot's timeline is
	 * every part before it. */
	if (f && profile_timeline(f, &j->part, 0) == 0 && profile_record(f, &cs, &in) == 0)
		sm->snapshots++;
	else
		__atomic_fetch_add(&sm->failed, 1, __ATOMIC_RELAXED);
	session_close(&cs);
}

static void *worker_main(void *arg)
{
	struct sampler *sm = arg;

	for (;;) {
		struct snapjob *j;

		pthread_mutex_lock(&sm->lock);
		while (!sm->head && !sm->quit)
			pthread_cond_wait(&sm->cond, &sm->lock);
		j = sm->head;
		if (j) {
			sm->head = j->next;
			if (!sm->head)
				sm->tail = &sm->head;
			sm->queued--;
		}
		pthread_mutex_unlock(&sm->lock);
		if (!j)
			break;
		/* The symbolizer is the warm thread's until it is done. */
		warm_join(sm);
		snapshot_write(sm, j);
		job_free(j);
	}
	return NULL;
}

/* The symbolizer warmed in a thread of its own: reading libc's DWARF
 * takes 0.1 s and more, which the reads must not wait for. */
/* Let the worker write what is queued, then end it. */
static void worker_stop(struct sampler *sm)
{
	if (!sm->working)
		return;
	pthread_mutex_lock(&sm->lock);
	sm->quit = 1;
	pthread_cond_signal(&sm->cond);
	pthread_mutex_unlock(&sm->lock);
	pthread_join(sm->worker, NULL);
	sm->working = 0;
}

static void *warm_main(void *arg)
{
	struct sampler *sm = arg;

	for (int i = 0; i < 200 && !__atomic_load_n(&sm->stop, __ATOMIC_ACQUIRE); i++) {
		struct timespec until;

		if (modules_known(&sm->wrd)) {
			/* Also records each module's build id for the profile. */
			symctx_warm(sm->ctx, &sm->wrd);
			break;
		}
		/* 10 ms, or until the run ends: the end joins this thread, and
		 * a sleep would hold a short program's report back. */
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += 10000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_mutex_lock(&sm->lock);
		while (!__atomic_load_n(&sm->stop, __ATOMIC_ACQUIRE) &&
		       pthread_cond_timedwait(&sm->warm_cond, &sm->lock, &until) != ETIMEDOUT)
			;
		pthread_mutex_unlock(&sm->lock);
	}
	return NULL;
}

/* Before the symbolizer is used here: the warm thread is done with it. */
static void warm_join(struct sampler *sm)
{
	if (sm->warming) {
		/* Wake it from its wait: stop is set by now. */
		pthread_mutex_lock(&sm->lock);
		pthread_cond_broadcast(&sm->warm_cond);
		pthread_mutex_unlock(&sm->lock);
		pthread_join(sm->warm, NULL);
		sm->warming = 0;
	}
}

static void *sampler_main(void *arg)
{
	struct sampler *sm = arg;
	uint64_t start = mono_ns(), next_read = start, next_snap = sm->every_ns ? start + sm->every_ns : 0;
	uint64_t dumps = 0;

	for (;;) {
		uint64_t now = mono_ns(), due = UINT64_MAX;
		struct pollfd pfd = {.fd = sm->wake[0], .events = POLLIN};
		char buf[64];
		int asked;

		if (__atomic_load_n(&sm->stop, __ATOMIC_ACQUIRE))
			break;
		if (sm->interval_ns && now >= next_read) {
			uint64_t w = series_read(&sm->sr, &sm->rd, now - sm->live->start_ns, 0);
			uint64_t wait = w * BUDGET_FACTOR > sm->interval_ns ? w * BUDGET_FACTOR : sm->interval_ns;

			if (wait > sm->sr.longest_ns)
				sm->sr.longest_ns = wait;
			next_read = now + wait;
		}
		/* The rings every read, and at least every 50 ms. */
		timeline_drain(&sm->tl, &sm->rd);
		asked = __atomic_exchange_n(&sm->asked, 0, __ATOMIC_ACQ_REL);
		{
			uint64_t d = dumps_of(&sm->rd);

			if (d > dumps) {
				dumps = d;
				snapshot(sm, "dump signal");
			}
		}
		if (asked)
			snapshot(sm, "signal");
		api_snapshots(sm);
		if (next_snap && now >= next_snap) {
			char label[48];

			snprintf(label, sizeof(label), "every %.3g s", (double)sm->every_ns / 1e9);
			snapshot(sm, label);
			while (next_snap <= mono_ns())
				next_snap += sm->every_ns;
		}
		if (sm->interval_ns)
			due = next_read;
		if (next_snap && next_snap < due)
			due = next_snap;
		/* Dump and snapshot requests are looked for every 50 ms. */
		if (now + 50000000ull < due)
			due = now + 50000000ull;
		now = mono_ns();
		if (poll(&pfd, 1, due > now ? (int)((due - now + 999999) / 1000000) : 0) > 0)
			while (read(sm->wake[0], buf, sizeof(buf)) > 0)
				;
	}
	return NULL;
}

int sampler_start(struct sampler *sm, const struct session *live, struct symctx *ctx, uint64_t interval_ns,
		  uint64_t every_ns, uint64_t spawn_ns, const struct report_input *base, sampler_open_fn open_profile,
		  void *open_arg)
{
	sigset_t all, old;
	int err;

	memset(sm, 0, sizeof(*sm));
	sm->wake[0] = sm->wake[1] = -1;
	sm->live = live;
	sm->ctx = ctx;
	sm->interval_ns = interval_ns;
	sm->every_ns = every_ns;
	sm->spawn_ns = spawn_ns;
	sm->base = *base;
	sm->open_profile = open_profile;
	sm->open_arg = open_arg;
	series_init(&sm->sr, interval_ns);
	/* A reader of its own: the checks keep per-reader state. */
	if (session_reader(&sm->rd, live))
		return -ENOMEM;
	if (session_reader(&sm->wrd, live)) {
		session_close(&sm->rd);
		return -ENOMEM;
	}
	if (pipe2(sm->wake, O_CLOEXEC | O_NONBLOCK)) {
		err = -errno;
		session_close(&sm->rd);
		session_close(&sm->wrd);
		sm->wake[0] = sm->wake[1] = -1;
		return err;
	}
	/* Signals are for the main thread's wait loop. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	/* The warm thread first: the worker's first snapshot joins it. */
	pthread_mutex_init(&sm->lock, NULL);
	pthread_cond_init(&sm->cond, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&sm->warm_cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	sm->tail = &sm->head;
	sm->warming = pthread_create(&sm->warm, NULL, warm_main, sm) == 0;
	err = pthread_create(&sm->worker, NULL, worker_main, sm);
	sm->working = !err;
	if (!err)
		err = pthread_create(&sm->thread, NULL, sampler_main, sm);
	if (err) {
		__atomic_store_n(&sm->stop, 1, __ATOMIC_RELEASE);
		worker_stop(sm);
		warm_join(sm);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		close(sm->wake[0]);
		close(sm->wake[1]);
		sm->wake[0] = sm->wake[1] = -1;
		session_close(&sm->rd);
		session_close(&sm->wrd);
		return -err;
	}
	sm->started = 1;
	return 0;
}

void sampler_ask(void *arg)
{
	struct sampler *sm = arg;
	char c = 1;

	__atomic_store_n(&sm->asked, 1, __ATOMIC_RELEASE);
	if (sm->wake[1] >= 0 && write(sm->wake[1], &c, 1) < 0) {
		/* Full: a wake-up is pending anyway. */
	}
}

void sampler_stop(struct sampler *sm)
{
	char c = 1;

	if (!sm->started)
		return;
	__atomic_store_n(&sm->stop, 1, __ATOMIC_RELEASE);
	if (write(sm->wake[1], &c, 1) < 0) {
		/* Full: the thread wakes anyway. */
	}
	pthread_join(sm->thread, NULL);
	/* The snapshots asked for are written before the end. */
	worker_stop(sm);
	warm_join(sm);
	sm->started = 0;
	if (sm->interval_ns)
		series_read(&sm->sr, &sm->rd, mono_ns() - sm->live->start_ns, 1);
	timeline_drain(&sm->tl, &sm->rd);
}

const struct timeline *sampler_timeline(const struct sampler *sm)
{
	return &sm->tl;
}

const struct series *sampler_series(const struct sampler *sm)
{
	return sm->interval_ns ? &sm->sr : NULL;
}

void sampler_free(struct sampler *sm)
{
	if (sm->started)
		sampler_stop(sm);
	if (sm->wake[0] >= 0)
		close(sm->wake[0]);
	if (sm->wake[1] >= 0)
		close(sm->wake[1]);
	sm->wake[0] = sm->wake[1] = -1;
	if (sm->rd.rd)
		session_close(&sm->rd);
	if (sm->wrd.rd)
		session_close(&sm->wrd);
	if (sm->tail) {
		pthread_mutex_destroy(&sm->lock);
		pthread_cond_destroy(&sm->cond);
		pthread_cond_destroy(&sm->warm_cond);
		sm->tail = NULL;
	}
	series_free(&sm->sr);
	timeline_free(&sm->tl);
	free(sm->api_seen);
	sm->api_seen = NULL;
}
