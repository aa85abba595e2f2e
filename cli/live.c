/*
 * The live view: a snapshot of the report model every interval, drawn
 * with ncurses on the controlling terminal. See live.h and docs/live.md.
 *
 * One thread owns the screen and the snapshot; the launcher's main thread
 * only ever sets stop and joins it. The snapshot is the report model
 * itself (report_build over a reader of our own: struct session's reader
 * state is not to be shared between threads), with one symbolization
 * context kept across refreshes so each file's symbols are read once.
 */
#include "live.h"
#include "procfs.h"

#include <ctype.h>
#include <curses.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <term.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "report.h"

enum { SORT_LIVE, SORT_ALLOCS, SORT_BYTES, SORT_N };
enum { CPU_SELF, CPU_TOTAL, CPU_N };

static const char *const site_sort_name[SORT_N] = {"live bytes", "allocations", "bytes allocated"};
static const char *const cpu_sort_name[CPU_N] = {"self", "total"};

#define LIVE_KEY_WAIT_MS 100     /* longest a key waits to be seen */
#define LIVE_END_GRACE_NS 300000000ull /* every process ended for this long: the run is over */
#define LIVE_MAX_PROCS_SHOWN 4   /* pids named in the header */
#define LIVE_STOPPED_NS 1000000000ull /* a key wait that took this long: we were stopped */

/* A row of the sites table: one stack, summed over the processes that
 * have it (a fork's children share their parent's traces). */
struct live_site {
	const struct rsite *x;  /* the first process's: its stack */
	uint64_t allocs, bytes, live_blocks, live_bytes;
};

/* A row of the CPU table: one function, summed over processes. */
struct live_fn {
	const struct rcpu_fn *f;  /* the first process's */
	uint64_t self, total;
};

/* A thread that allocated, or was sampled, or both. */
struct live_thread {
	int tid, pid;
	char name[SF_NAME_LEN];
	uint64_t allocs, bytes;
	uint64_t samples;       /* CPU samples, 0 when none */
};

struct live {
	FILE *tty;              /* the controlling terminal, close-on-exec */
	double interval;        /* s between refreshes */
	int launcher_pid;       /* live PID: the view ends when it is gone; 0 (--live) */
	char **argv;            /* the command (--live); NULL: the image's */
	int stop;               /* atomic: the launcher is done waiting */

	struct session s;       /* a reader of its own over the image */
	int have_session;
	void *map;              /* live PID: our read-only mapping of the image */
	size_t map_len;
	pthread_t thread;
	int started;
	struct symctx *sym;

	/* The snapshot: the model and what the tables show of it. */
	struct report rep;
	int have_rep;
	struct live_site *sites;
	size_t nsites, sites_cap;
	struct live_fn *fns;
	size_t nfns, fns_cap;
	struct live_thread *threads;
	size_t nthreads, threads_cap;
	uint64_t live_bytes, peak_bytes, samples;
	int *pids;              /* running processes */
	size_t npids;
	uint64_t rss;           /* bytes, summed over the running processes */
	double cpu_pct;         /* < 0: not known yet */
	uint64_t last_ticks, last_ns;
	uint64_t snap_ns;       /* CLOCK_MONOTONIC of the snapshot */
	int ended;              /* every process of the run ended */
	uint64_t ended_since;

	/* What the user chose. */
	int site_sort, cpu_sort, paused;
};

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* ---- the terminal ------------------------------------------------------ */

/* The controlling terminal's device number (from /proc/self/stat's
 * tty_nr), 0 when there is none. */
static dev_t ctty_dev(void)
{
	char buf[1024], *p;
	unsigned long long nr = 0;

	if (procfs_read("/proc/self/stat", buf, sizeof(buf)) < 0)
		return 0;
	p = strrchr(buf, ')');
	/* ") S ppid pgrp session tty_nr" */
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %llu", &nr) != 1 || !nr)
		return 0;
	return makedev((unsigned)((nr >> 8) & 0xfff), (unsigned)((nr & 0xff) | ((nr >> 12) & 0xfff00)));
}

/* Is fd the controlling terminal (itself or as /dev/tty)? */
static int is_ctty(int fd, dev_t ctty)
{
	struct stat st;

	if (fstat(fd, &st) || !S_ISCHR(st.st_mode))
		return 0;
	return (ctty && st.st_rdev == ctty) || st.st_rdev == makedev(5, 0);
}

/* Open /dev/tty and check its terminal type; NULL after one line on
 * stderr (prefix names who speaks). */
static FILE *tty_open(const char *prefix)
{
	const char *term = getenv("TERM");
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY), e = 0;
	FILE *f;

	if (fd < 0) {
		fprintf(stderr, "%s: the live view needs a terminal: /dev/tty: %s\n", prefix, strerror(errno));
		return NULL;
	}
	if (!term || !*term) {
		fprintf(stderr, "%s: the live view needs TERM to name the terminal's type\n", prefix);
		close(fd);
		return NULL;
	}
	if (setupterm(NULL, fd, &e) != OK) {
		fprintf(stderr, "%s: TERM=%s: unknown terminal type (no terminfo entry)\n", prefix, term);
		close(fd);
		return NULL;
	}
	del_curterm(cur_term);
	f = fdopen(fd, "r+");
	if (!f) {
		fprintf(stderr, "%s: /dev/tty: %s\n", prefix, strerror(errno));
		close(fd);
	}
	return f;
}

/* ---- the snapshot ------------------------------------------------------ */

/* RSS (bytes) and CPU time (clock ticks) of pid; 0 when it cannot be read. */
static int proc_usage(int pid, uint64_t *rss, uint64_t *ticks)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	uint64_t r = 0;
	ssize_t n;
	int rc;

	if ((rc = procfs_rss(pid, &r)))
		return rc;
	*rss += r;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((n = procfs_read(path, buf, sizeof(buf))) < 0)
		return (int)n;
	/* After the command: state, then utime and stime are fields 12 and 13. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -EIO;
	*ticks += ut + st;
	return 0;
}

/* Scan the image's process records: the running ones' pids, and whether
 * every process seen has ended. */
static int scan_procs(struct live *lv)
{
	uint32_t n = session_nprocs(&lv->s);
	size_t seen = 0;
	int *pids;

	pids = realloc(lv->pids, (n ? n : 1) * sizeof(*pids));
	if (!pids)
		return -ENOMEM;
	lv->pids = pids;
	lv->npids = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct sf_process *p = session_process(&lv->s, i);
		uint32_t st = __atomic_load_n(&p->state, __ATOMIC_ACQUIRE);
		int pid = __atomic_load_n(&p->pid, __ATOMIC_RELAXED);

		if (st < SF_PROC_RUNNING)
			continue;
		seen++;
		if (st == SF_PROC_RUNNING && !__atomic_load_n(&p->end_ns, __ATOMIC_RELAXED) && pid > 0)
			lv->pids[lv->npids++] = pid;
	}
	lv->ended = seen > 0 && lv->npids == 0;
	return 0;
}

static int grow(void **v, size_t *cap, size_t need, size_t size)
{
	void *nv;

	if (need <= *cap)
		return 0;
	nv = realloc(*v, need * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = need;
	return 0;
}

/* The first frame of the program's own code (not libc's and friends'),
 * else the innermost. */
static const struct rframe *own_frame(const struct rstack *st)
{
	for (unsigned i = 0; i < st->n; i++)
		if (!report_runtime_module(rstack_frame(st, i)->module))
			return rstack_frame(st, i);
	return st->n ? rstack_frame(st, 0) : NULL;
}

static int str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Do two sites of different processes show as one row: the same trace
 * (0: no stack) at the same place of the program's own code? */
static int same_site(const struct rsite *a, const struct rsite *b)
{
	const struct rframe *fa, *fb;

	if (a->trace != b->trace)
		return 0;
	if (!a->trace)
		return 1;
	fa = own_frame(&a->stack);
	fb = own_frame(&b->stack);
	return fa == fb ||
	       (fa && fb && str_eq(fa->function, fb->function) && str_eq(fa->file, fb->file) && fa->line == fb->line &&
		str_eq(fa->module, fb->module));
}

static int site_trace_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct live_site *)a)->x->trace, y = ((const struct live_site *)b)->x->trace;

	return (x > y) - (x < y);
}

/* One row per site, merged over processes: equal traces sort together
 * (the same trace at two different places, from two different programs,
 * may come out as more rows than two, never as one). */
static void merge_sites(struct live *lv)
{
	size_t k = 0;

	report_qsort(lv->sites, lv->nsites, sizeof(*lv->sites), site_trace_cmp);
	for (size_t i = 0; i < lv->nsites; i++) {
		struct live_site *d = k ? &lv->sites[k - 1] : NULL;
		const struct live_site *x = &lv->sites[i];

		if (d && same_site(d->x, x->x)) {
			d->allocs = session_add(d->allocs, x->allocs);
			d->bytes = session_add(d->bytes, x->bytes);
			d->live_blocks = session_add(d->live_blocks, x->live_blocks);
			d->live_bytes = session_add(d->live_bytes, x->live_bytes);
		} else {
			lv->sites[k++] = *x;
		}
	}
	lv->nsites = k;
}

static int fn_name_cmp(const void *a, const void *b)
{
	const struct rcpu_fn *x = ((const struct live_fn *)a)->f, *y = ((const struct live_fn *)b)->f;
	int c = strcmp(x->name ? x->name : "", y->name ? y->name : "");

	return c ? c : strcmp(x->module ? x->module : "", y->module ? y->module : "");
}

/* One row per function (name and module), merged over processes. */
static void merge_fns(struct live *lv)
{
	size_t k = 0;

	report_qsort(lv->fns, lv->nfns, sizeof(*lv->fns), fn_name_cmp);
	for (size_t i = 0; i < lv->nfns; i++) {
		struct live_fn *d = k ? &lv->fns[k - 1] : NULL;

		if (d && !fn_name_cmp(d, &lv->fns[i])) {
			d->self = session_add(d->self, lv->fns[i].self);
			d->total = session_add(d->total, lv->fns[i].total);
		} else {
			lv->fns[k++] = lv->fns[i];
		}
	}
	lv->nfns = k;
}

/* The threads of rp: those with heap figures, then those only sampled. */
static void add_threads(struct live *lv, const struct rprocess *rp)
{
	for (size_t k = 0; k < rp->nthreads; k++) {
		struct live_thread *t = &lv->threads[lv->nthreads++];

		t->tid = rp->threads[k].tid;
		t->pid = rp->pid;
		session_str(t->name, sizeof(t->name), rp->threads[k].name, sizeof(rp->threads[k].name));
		t->allocs = rp->threads[k].allocs;
		t->bytes = rp->threads[k].bytes;
		t->samples = 0;
		for (size_t c = 0; c < rp->cpu.nthreads; c++)
			if (rp->cpu.threads[c].tid == t->tid)
				t->samples += rp->cpu.threads[c].samples;
	}
	for (size_t c = 0; c < rp->cpu.nthreads; c++) {
		const struct rcpu_thread *ct = &rp->cpu.threads[c];
		struct live_thread *t;
		size_t k;

		for (k = 0; k < rp->nthreads && rp->threads[k].tid != ct->tid; k++)
			;
		if (k < rp->nthreads)
			continue;
		t = &lv->threads[lv->nthreads++];
		memset(t, 0, sizeof(*t));
		t->tid = ct->tid;
		t->pid = rp->pid;
		session_str(t->name, sizeof(t->name), ct->name, sizeof(ct->name));
		t->samples = ct->samples;
	}
}

/* The tables' rows, over every process of the model. */
static int collect(struct live *lv)
{
	const struct report *r = &lv->rep;
	size_t ns = 0, nf = 0, nt = 0;

	for (size_t i = 0; i < r->nprocs; i++) {
		ns += r->procs[i].mem.nsites;
		nf += r->procs[i].cpu.nfns;
		nt += r->procs[i].nthreads + r->procs[i].cpu.nthreads;
	}
	if (grow((void **)&lv->sites, &lv->sites_cap, ns, sizeof(*lv->sites)) ||
	    grow((void **)&lv->fns, &lv->fns_cap, nf, sizeof(*lv->fns)) ||
	    grow((void **)&lv->threads, &lv->threads_cap, nt, sizeof(*lv->threads)))
		return -ENOMEM;
	lv->nsites = lv->nfns = lv->nthreads = 0;
	lv->live_bytes = lv->peak_bytes = lv->samples = 0;
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct rprocess *rp = &r->procs[i];

		lv->live_bytes += rp->mem.live_bytes;
		lv->peak_bytes += rp->mem.peak_bytes;
		lv->samples += rp->cpu.samples;
		for (size_t k = 0; k < rp->mem.nsites; k++) {
			const struct rsite *x = &rp->mem.sites[k];

			lv->sites[lv->nsites++] =
				(struct live_site){x, x->allocs, x->bytes, x->live_blocks, x->live_bytes};
		}
		for (size_t k = 0; k < rp->cpu.nfns; k++)
			lv->fns[lv->nfns++] = (struct live_fn){&rp->cpu.fns[k], rp->cpu.fns[k].self, rp->cpu.fns[k].total};
		add_threads(lv, rp);
	}
	merge_sites(lv);
	merge_fns(lv);
	return 0;
}

static int live_snapshot(struct live *lv)
{
	struct report_input in;
	struct report rep;
	uint64_t now = mono_ns(), rss = 0, ticks = 0;
	int err;

	memset(&in, 0, sizeof(in));
	in.argv = lv->argv;
	in.duration_ns = now > lv->s.start_ns ? now - lv->s.start_ns : 0;
	in.sample_rate = 1;
	in.max_depth = SF_DEFAULT_DEPTH;
	in.track_memory = 1;
	in.symctx = lv->sym;
	if ((err = scan_procs(lv)))
		return err;
	if ((err = report_build(&rep, &lv->s, &in))) {
		report_free(&rep);
		return err;
	}
	if (lv->have_rep)
		report_free(&lv->rep);
	lv->rep = rep;
	lv->have_rep = 1;
	if ((err = collect(lv)))
		return err;
	for (size_t i = 0; i < lv->npids; i++)
		proc_usage(lv->pids[i], &rss, &ticks);
	lv->rss = rss;
	if (lv->last_ns && now > lv->last_ns && ticks >= lv->last_ticks)
		lv->cpu_pct = (double)(ticks - lv->last_ticks) / (double)sysconf(_SC_CLK_TCK) * 1e9 /
			      (double)(now - lv->last_ns) * 100.0;
	else
		lv->cpu_pct = -1;
	lv->last_ticks = ticks;
	lv->last_ns = now;
	lv->snap_ns = now;
	return 0;
}

/* ---- sorting ----------------------------------------------------------- */

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? 1 : a > b ? -1 : 0; /* descending */
}

static int sort_mode; /* qsort has no argument: set just before sorting, one thread */

static int site_cmp(const void *a, const void *b)
{
	const struct live_site *x = a, *y = b;
	int c = 0;

	switch (sort_mode) {
	case SORT_LIVE: c = cmp_u64(x->live_bytes, y->live_bytes); break;
	case SORT_ALLOCS: c = cmp_u64(x->allocs, y->allocs); break;
	case SORT_BYTES: c = cmp_u64(x->bytes, y->bytes); break;
	}
	if (!c)
		c = cmp_u64(x->bytes, y->bytes);
	return c ? c : cmp_u64(y->x->trace, x->x->trace);
}

static int fn_cmp(const void *a, const void *b)
{
	const struct live_fn *x = a, *y = b;
	int c = sort_mode == CPU_SELF ? cmp_u64(x->self, y->self) : cmp_u64(x->total, y->total);

	if (!c)
		c = sort_mode == CPU_SELF ? cmp_u64(x->total, y->total) : cmp_u64(x->self, y->self);
	return c ? c : fn_name_cmp(a, b);
}

static int thread_cmp(const void *a, const void *b)
{
	const struct live_thread *x = a, *y = b;
	int c = cmp_u64(x->samples, y->samples);

	if (!c)
		c = cmp_u64(x->bytes, y->bytes);
	if (!c)
		c = (x->pid > y->pid) - (x->pid < y->pid);
	return c ? c : (x->tid > y->tid) - (x->tid < y->tid);
}

/* ---- drawing ----------------------------------------------------------- */

/* Text at (y, x), cut at the right edge; attr for the whole line when
 * fill is set. */
static void put(int y, int x, int attr, int fill, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void put(int y, int x, int attr, int fill, const char *fmt, ...)
{
	char buf[1024];
	size_t n, want;
	va_list ap;
	int r;

	if (y < 0 || y >= LINES || x >= COLS)
		return;
	va_start(ap, fmt);
	r = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	n = (size_t)r < sizeof(buf) ? (size_t)r : sizeof(buf) - 1;
	want = (size_t)(COLS - x) < sizeof(buf) - 1 ? (size_t)(COLS - x) : sizeof(buf) - 1;
	if (fill && n < want) {
		memset(buf + n, ' ', want - n);
		buf[want] = 0;
	}
	attron(attr);
	mvaddnstr(y, x, buf, COLS - x);
	attroff(attr);
}

static const char *base_name(const char *p)
{
	const char *s = p ? strrchr(p, '/') : NULL;

	return s ? s + 1 : p;
}

/* "function (file:line)", else "function (module+0xoffset)"; the
 * offset left out when there is none (a CPU function's: several). */
static const char *frame_text(const struct rframe *f, int has_offset, char *buf, size_t len)
{
	if (!f)
		snprintf(buf, len, "<no stack>");
	else if (f->file && f->line)
		snprintf(buf, len, "%s (%s:%d)", f->function ? f->function : "??", base_name(f->file), f->line);
	else if (f->module && !has_offset)
		snprintf(buf, len, "%s (%s)", f->function ? f->function : "??", base_name(f->module));
	else if (f->module)
		snprintf(buf, len, "%s (%s+0x%" PRIx64 ")", f->function ? f->function : "??", base_name(f->module),
			 f->offset);
	else
		snprintf(buf, len, "%s (0x%" PRIx64 ")", f->function ? f->function : "??", f->address);
	return buf;
}

static void elapsed(uint64_t ns, char *buf, size_t len)
{
	uint64_t s = ns / 1000000000u;

	if (s >= 3600)
		snprintf(buf, len, "%" PRIu64 ":%02u:%02u", s / 3600, (unsigned)(s / 60 % 60), (unsigned)(s % 60));
	else
		snprintf(buf, len, "%u:%02u", (unsigned)(s / 60), (unsigned)(s % 60));
}

static void draw_header(struct live *lv)
{
	char cmd[256] = "", pids[96] = "", t[32], now[32], peak[32], rss[32], cpu[32];
	const struct report *r = &lv->rep;
	char **argv = lv->argv ? lv->argv : r->nprocs ? r->procs[0].argv : NULL;
	size_t off = 0;

	/* snprintf's result may pass the end: the loop stops there. */
	for (size_t i = 0; argv && argv[i] && off + 1 < sizeof(cmd); i++)
		off += (size_t)snprintf(cmd + off, sizeof(cmd) - off, "%s%s", i ? " " : "", argv[i]);
	off = 0;
	for (size_t i = 0; i < lv->npids && i < LIVE_MAX_PROCS_SHOWN; i++)
		off += (size_t)snprintf(pids + off, sizeof(pids) - off, "%s%d", i ? "," : "", lv->pids[i]);
	if (lv->npids > LIVE_MAX_PROCS_SHOWN)
		snprintf(pids + off, sizeof(pids) - off, " +%zu", lv->npids - LIVE_MAX_PROCS_SHOWN);
	elapsed(lv->snap_ns > lv->s.start_ns ? lv->snap_ns - lv->s.start_ns : 0, t, sizeof(t));
	if (lv->cpu_pct < 0)
		snprintf(cpu, sizeof(cpu), "-");
	else
		snprintf(cpu, sizeof(cpu), "%.0f%%", lv->cpu_pct);
	/* The command last: it is the longest, and what the width cuts. */
	put(0, 0, A_REVERSE, 1, "ptrace-run live%s  %s  heap now %s (peak %s)  RSS %s  CPU %s  pid%s %s  %s",
	    lv->paused ? "  PAUSED" : lv->ended ? "  ENDED" : "", t, report_bytes(lv->live_bytes, now, sizeof(now)),
	    report_bytes(lv->peak_bytes, peak, sizeof(peak)), report_bytes(lv->rss, rss, sizeof(rss)), cpu,
	    lv->npids > 1 ? "s" : "", lv->npids ? pids : "-", cmd);
	put(1, 0, A_NORMAL, 0, "keys: s sort sites (%s)  c sort CPU (%s)  p %s  q quit", site_sort_name[lv->site_sort],
	    cpu_sort_name[lv->cpu_sort], lv->paused ? "resume" : "pause");
}

static int draw_sites(struct live *lv, int y, int rows)
{
	char live[32], alloc[32], where[512];

	sort_mode = lv->site_sort;
	report_qsort(lv->sites, lv->nsites, sizeof(*lv->sites), site_cmp);
	put(y++, 0, A_BOLD, 0, "Allocation sites by %s (%zu site%s)", site_sort_name[lv->site_sort], lv->nsites,
	    lv->nsites == 1 ? "" : "s");
	put(y++, 0, A_NORMAL, 0, "%11s %9s %9s %11s  %s", "LIVE BYTES", "BLOCKS", "ALLOCS", "ALLOCATED", "SITE");
	if (!lv->nsites)
		put(y++, 0, A_NORMAL, 0, "%11s", "(none yet)");
	for (size_t i = 0; i < lv->nsites && (int)i < rows; i++) {
		const struct live_site *x = &lv->sites[i];

		put(y++, 0, A_NORMAL, 0, "%11s %9" PRIu64 " %9" PRIu64 " %11s  %s", report_bytes(x->live_bytes, live, sizeof(live)),
		    x->live_blocks, x->allocs, report_bytes(x->bytes, alloc, sizeof(alloc)),
		    x->x->trace ? frame_text(own_frame(&x->x->stack), 1, where, sizeof(where)) : "<no stack captured>");
	}
	return y;
}

static int draw_cpu(struct live *lv, int y, int rows)
{
	char where[512];
	double all = lv->samples ? (double)lv->samples : 1;

	sort_mode = lv->cpu_sort;
	report_qsort(lv->fns, lv->nfns, sizeof(*lv->fns), fn_cmp);
	put(y++, 0, A_BOLD, 0, "Functions by CPU %s samples (%" PRIu64 " samples)", cpu_sort_name[lv->cpu_sort],
	    lv->samples);
	put(y++, 0, A_NORMAL, 0, "%7s %7s %9s  %s", "SELF%", "TOTAL%", "SAMPLES", "FUNCTION");
	if (!lv->nfns)
		put(y++, 0, A_NORMAL, 0, "%7s", "(none yet)");
	for (size_t i = 0; i < lv->nfns && (int)i < rows; i++) {
		const struct live_fn *x = &lv->fns[i];
		const struct rcpu_fn *f = x->f;
		struct rframe fr = {.function = f->name, .file = f->file, .line = f->line, .module = f->module};

		put(y++, 0, A_NORMAL, 0, "%6.1f%% %6.1f%% %9" PRIu64 "  %s", 100.0 * (double)x->self / all,
		    100.0 * (double)x->total / all, lv->cpu_sort == CPU_SELF ? x->self : x->total,
		    f->name || f->module ? frame_text(&fr, 0, where, sizeof(where)) : "??");
	}
	return y;
}

/* A running thread's name from /proc, for one the image has none for
 * (the kernel's: the program's name for its main thread). */
static void thread_comm(int pid, int tid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
}

static int draw_threads(struct live *lv, int y, int rows)
{
	char bytes[32];

	report_qsort(lv->threads, lv->nthreads, sizeof(*lv->threads), thread_cmp);
	put(y++, 0, A_BOLD, 0, "Threads (%zu)", lv->nthreads);
	put(y++, 0, A_NORMAL, 0, "%8s  %-16s %9s %11s %11s", "TID", "NAME", "ALLOCS", "ALLOCATED", "CPU SAMPLES");
	for (size_t i = 0; i < lv->nthreads && (int)i < rows; i++) {
		const struct live_thread *t = &lv->threads[i];
		char name[SF_NAME_LEN];

		memcpy(name, t->name, sizeof(name));
		if (!name[0])
			thread_comm(t->pid, t->tid, name, sizeof(name));
		put(y++, 0, A_NORMAL, 0, "%8d  %-16s %9" PRIu64 " %11s %11" PRIu64, t->tid, name[0] ? name : "-", t->allocs,
		    report_bytes(t->bytes, bytes, sizeof(bytes)), t->samples);
	}
	return y;
}

static void draw(struct live *lv)
{
	/* Three sections of a title and a column line each, a blank line
	 * between them: what is left goes to the rows, sites first. */
	int avail = LINES - 3 - 8, y = 3, site_rows, cpu_rows, thread_rows;

	erase();
	if (!lv->have_rep) {
		put(0, 0, A_REVERSE, 1, "ptrace-run live  waiting for the program");
		refresh();
		return;
	}
	draw_header(lv);
	if (avail < 3)
		avail = 3;
	site_rows = (int)lv->nsites < avail / 2 ? (int)lv->nsites : avail / 2;
	if (site_rows < 1)
		site_rows = 1;
	cpu_rows = (int)lv->nfns < (avail - site_rows) * 2 / 3 ? (int)lv->nfns : (avail - site_rows) * 2 / 3;
	if (cpu_rows < 1)
		cpu_rows = 1;
	thread_rows = avail - site_rows - cpu_rows;
	y = draw_sites(lv, y, site_rows);
	y = draw_cpu(lv, y + 1, cpu_rows);
	draw_threads(lv, y + 1, thread_rows);
	refresh();
}

/* ---- the loop ---------------------------------------------------------- */

static int launcher_gone(int pid)
{
	return pid > 0 && kill(pid, 0) < 0 && errno == ESRCH;
}

/* Draw until q, stop, or the end of the run. 0 or -errno. */
static int live_run(struct live *lv)
{
	SCREEN *scr;
	uint64_t next = 0, last_turn = 0;
	int dirty = 1, err = 0;

	if (!lv->sym && (err = symctx_new(&lv->sym)))
		return err;
	scr = newterm(NULL, lv->tty, lv->tty);
	if (!scr)
		return -ENOTTY;
	set_term(scr);
	cbreak(); /* not raw: Ctrl-C still reaches the program */
	noecho();
	nonl();
	curs_set(0);
	wtimeout(stdscr, LIVE_KEY_WAIT_MS);
	while (!__atomic_load_n(&lv->stop, __ATOMIC_ACQUIRE)) {
		uint64_t now = mono_ns(), t0;
		struct termios tm;
		struct winsize ws;
		int ch;

		if (!lv->paused && now >= next) {
			if (live_snapshot(lv) == 0)
				dirty = 1;
			next = now + (uint64_t)(lv->interval * 1e9);
			if (lv->ended) {
				if (!lv->ended_since)
					lv->ended_since = now;
			} else {
				lv->ended_since = 0;
			}
		}
		if (lv->ended_since && now - lv->ended_since >= LIVE_END_GRACE_NS)
			break;
		if (launcher_gone(lv->launcher_pid))
			break;
		/* Back from a stop (Ctrl-Z, then fg): the shell had the
		 * terminal meanwhile, its modes and its screen. */
		if (last_turn && now - last_turn > LIVE_STOPPED_NS) {
			reset_prog_mode();
			clearok(curscr, TRUE);
			dirty = 1;
		} else if (tcgetattr(fileno(lv->tty), &tm) == 0 && (tm.c_lflag & (ICANON | ECHO))) {
			reset_prog_mode();
			dirty = 1;
		}
		/* SIGWINCH goes to the launcher's handler, not to ncurses':
		 * look at the size instead. */
		if (ioctl(fileno(lv->tty), TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col &&
		    (ws.ws_row != LINES || ws.ws_col != COLS)) {
			resizeterm(ws.ws_row, ws.ws_col);
			dirty = 1;
		}
		if (dirty) {
			draw(lv);
			dirty = 0;
		}
		t0 = last_turn = mono_ns();
		ch = wgetch(stdscr);
		switch (ch) {
		case 'q':
		case 'Q':
			goto out;
		case 's':
		case 'S':
			lv->site_sort = (lv->site_sort + 1) % SORT_N;
			dirty = 1;
			break;
		case 'c':
		case 'C':
			lv->cpu_sort = (lv->cpu_sort + 1) % CPU_N;
			dirty = 1;
			break;
		case 'p':
		case 'P':
		case ' ':
			lv->paused = !lv->paused;
			next = 0;
			dirty = 1;
			break;
		case KEY_RESIZE:
		case 12: /* Ctrl-L */
			clearok(curscr, TRUE);
			dirty = 1;
			break;
		case ERR:
			/* A terminal that reads nothing (EIO: a background job
			 * whose thread blocks SIGTTIN) must not spin. */
			if (mono_ns() - t0 < LIVE_KEY_WAIT_MS * 500000ull)
				usleep(LIVE_KEY_WAIT_MS * 1000);
			break;
		default:
			break;
		}
	}
out:
	endwin();
	delscreen(scr);
	return err;
}

static void live_free(struct live *lv)
{
	if (lv->have_rep)
		report_free(&lv->rep);
	symctx_free(lv->sym);
	if (lv->have_session)
		session_close(&lv->s);
	if (lv->map)
		munmap(lv->map, lv->map_len);
	if (lv->tty)
		fclose(lv->tty);
	free(lv->sites);
	free(lv->fns);
	free(lv->threads);
	free(lv->pids);
	free(lv);
}

/* ---- --live: a thread of the launcher ---------------------------------- */

int live_prepare(struct live **out, const struct options *o)
{
	struct live *lv;
	dev_t ctty;
	FILE *tty;

	*out = NULL;
	if (o->live) {
		ctty = ctty_dev();
		if (is_ctty(1, ctty) || is_ctty(2, ctty)) {
			fprintf(stderr, "ptrace-run: --live needs a terminal of its own: redirect the program's output "
					"(stdout and stderr), or use --live-remote and run `ptrace-run live PID` in "
					"another terminal\n");
			return 2;
		}
		if (!(tty = tty_open("ptrace-run: --live")))
			return 2;
		lv = calloc(1, sizeof(*lv));
		if (!lv) {
			fclose(tty);
			fprintf(stderr, "ptrace-run: --live: %s\n", strerror(ENOMEM));
			return 2;
		}
		lv->tty = tty;
		lv->interval = o->live_interval > 0 ? o->live_interval : 1.0;
		*out = lv;
	}
	if (o->live_remote)
		fprintf(stderr, "ptrace-run: live view: ptrace-run live %d\n", (int)getpid());
	return 0;
}

static void *live_thread_main(void *arg)
{
	struct live *lv = arg;
	int err = live_run(lv);

	/* stderr is not the terminal under --live (live_prepare saw to it). */
	if (err)
		fprintf(stderr, "ptrace-run: --live: the view could not start: %s\n", strerror(-err));
	return NULL;
}

void live_start(struct live *lv, const struct session *s, char **argv)
{
	sigset_t all, old;
	int err;

	if (!lv)
		return;
	lv->argv = argv;
	if ((err = session_reader(&lv->s, s)) == 0) {
		lv->have_session = 1;
		err = symctx_new(&lv->sym);
	}
	if (!err) {
		/* Signals are for the main thread's wait loop. */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		err = -pthread_create(&lv->thread, NULL, live_thread_main, lv);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (err)
		fprintf(stderr, "ptrace-run: --live: the view could not start: %s\n", strerror(-err));
	else
		lv->started = 1;
}

void live_finish(struct live *lv)
{
	if (!lv)
		return;
	if (lv->started) {
		__atomic_store_n(&lv->stop, 1, __ATOMIC_RELEASE);
		pthread_join(lv->thread, NULL);
	}
	live_free(lv);
}

/* ---- ptrace-run live PID ----------------------------------------------- */

/* Map the image open at fd read-only into lv: a sealed file (it cannot
 * shrink under the mapping) holding a valid header. 0 or -EPROTO. */
static int attach_fd(struct live *lv, int fd)
{
	struct sf_header h;
	struct stat st;
	int seals = fcntl(fd, F_GET_SEALS);
	size_t size;
	void *base;

	if (seals < 0 || !(seals & F_SEAL_SHRINK) || fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) || h.magic != SF_MAGIC || h.size > (uint64_t)st.st_size ||
	    h.size < sizeof(h))
		return -EPROTO;
	size = (size_t)h.size;
	base = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		return -errno;
	if (session_validate(base, size) || session_use(&lv->s, base, size)) {
		munmap(base, size);
		return -EPROTO;
	}
	lv->map = base;
	lv->map_len = size;
	lv->have_session = 1;
	return 0;
}

/* The launcher's session memfd among /proc/pid/fd. 0, or -errno. */
static int attach_fds(struct live *lv, int pid)
{
	char dir[64], path[384], link[256];
	struct dirent *e;
	int err = -ENOENT;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	if (!(d = opendir(dir)))
		return -errno;
	while (err && (e = readdir(d))) {
		ssize_t n;
		int fd;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = 0;
		if (strncmp(link, "/memfd:ptrace-run-session", 25))
			continue;
		if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) < 0 &&
		    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
			continue;
		if (attach_fd(lv, fd) == 0) {
			lv->launcher_pid = pid;
			err = 0;
		}
		close(fd);
	}
	closedir(d);
	return err;
}

/* A profiled process's PTRACE_SESSION (/proc/L/fd/N, L the launcher).
 * The environment is the program's to change: only that exact form is
 * taken. 0, or -errno. */
static int attach_environ(struct live *lv, int pid)
{
	enum { ENV_MAX = 1 << 20 }; /* bytes of environment read: far more than a real one */
	char path[64], *buf, *p, *end;
	size_t len = 0;
	ssize_t n;
	int fd, err = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (!(buf = malloc(ENV_MAX + 1))) {
		close(fd);
		return -ENOMEM;
	}
	while (len < ENV_MAX && (n = read(fd, buf + len, ENV_MAX - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = 0;
	for (p = buf, end = buf + len; p < end; p += strlen(p) + 1) {
		int lpid, lfd, used = 0;

		if (strncmp(p, "PTRACE_SESSION=", 15))
			continue;
		if (sscanf(p + 15, "/proc/%d/fd/%d%n", &lpid, &lfd, &used) != 2 || p[15 + used] || lpid <= 0 || lfd < 0)
			break;
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", lpid, lfd);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
			err = -errno;
			break;
		}
		err = attach_fd(lv, fd);
		close(fd);
		if (!err)
			lv->launcher_pid = lpid;
		break;
	}
	free(buf);
	return err;
}

static void live_usage(FILE *f)
{
	fprintf(f, "Usage: ptrace-run live [--interval=SECS] PID\n"
		   "\n"
		   "Shows the live view of a run of ptrace-run in this terminal: PID is the\n"
		   "launcher's (ptrace-run --live-remote prints it) or any profiled process's.\n"
		   "The program is not disturbed; the view ends with q or when the run ends.\n"
		   "Keys: s sort sites (live bytes, allocations, bytes allocated), c sort CPU\n"
		   "(self, total), p pause, q quit.\n"
		   "  --interval=SECS  refresh every SECS seconds, %.1f to %.0f (default 1)\n",
		OPTIONS_MIN_LIVE_INTERVAL, OPTIONS_MAX_LIVE_INTERVAL);
}

static int parse_interval(const char *s, double *out)
{
	char *end;
	double v;

	if (!*s || strspn(s, "0123456789.") != strlen(s))
		return -EINVAL;
	v = strtod(s, &end);
	if (*end || !(v >= OPTIONS_MIN_LIVE_INTERVAL && v <= OPTIONS_MAX_LIVE_INTERVAL))
		return -EINVAL;
	*out = v;
	return 0;
}

int live_main(int argc, char **argv)
{
	struct live *lv;
	const char *pid_arg = NULL;
	double interval = 1.0;
	long pid;
	char *end;
	int err, saved_err;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			live_usage(stdout);
			return 0;
		}
		if (!strncmp(a, "--interval=", 11))
			v = a + 11;
		else if (!strcmp(a, "--interval")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "ptrace-run live: --interval: missing value (seconds, %.1f to %.0f)\n",
					OPTIONS_MIN_LIVE_INTERVAL, OPTIONS_MAX_LIVE_INTERVAL);
				return 2;
			}
			v = argv[++i];
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "ptrace-run live: unknown option %s (see ptrace-run live --help)\n", a);
			return 2;
		} else if (pid_arg) {
			fprintf(stderr, "ptrace-run live: one PID expected, got %s and %s\n", pid_arg, a);
			return 2;
		} else {
			pid_arg = a;
		}
		if (v && parse_interval(v, &interval)) {
			fprintf(stderr, "ptrace-run live: --interval=%s: expected a number of seconds from %.1f to %.0f\n",
				v, OPTIONS_MIN_LIVE_INTERVAL, OPTIONS_MAX_LIVE_INTERVAL);
			return 2;
		}
	}
	if (!pid_arg) {
		fprintf(stderr, "ptrace-run live: no PID given\nusage: ptrace-run live [--interval=SECS] PID\n");
		return 2;
	}
	errno = 0;
	pid = strtol(pid_arg, &end, 10);
	if (*end || end == pid_arg || pid <= 0 || pid > 4194304 || !isdigit((unsigned char)pid_arg[0])) {
		fprintf(stderr, "ptrace-run live: %s: expected a process id\n", pid_arg);
		return 2;
	}
	if (kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
		fprintf(stderr, "ptrace-run live: %ld: no such process\n", pid);
		return 2;
	}
	if (!(lv = calloc(1, sizeof(*lv)))) {
		fprintf(stderr, "ptrace-run live: %s\n", strerror(ENOMEM));
		return 2;
	}
	lv->interval = interval;
	err = attach_fds(lv, (int)pid);
	if (err)
		err = attach_environ(lv, (int)pid);
	if (err) {
		if (err == -EACCES || err == -EPERM)
			fprintf(stderr, "ptrace-run live: %ld: permission denied (run it as the program's user)\n", pid);
		else
			fprintf(stderr, "ptrace-run live: %ld: not a run of ptrace-run (no session image in its descriptors "
					"or its environment)\n",
				pid);
		live_free(lv);
		return 2;
	}
	if (!(lv->tty = tty_open("ptrace-run live"))) {
		live_free(lv);
		return 2;
	}
	/* Nothing may write on the screen under the view: a library's
	 * message on stderr (the terminal, here) waits until it ends. */
	fflush(stderr);
	saved_err = dup(2);
	if (saved_err >= 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		if (null >= 0) {
			dup2(null, 2);
			close(null);
		}
	}
	err = live_run(lv);
	if (saved_err >= 0) {
		dup2(saved_err, 2);
		close(saved_err);
	}
	live_free(lv);
	if (err) {
		fprintf(stderr, "ptrace-run live: the view could not start: %s\n", strerror(-err));
		return 2;
	}
	return 0;
}
