/*
 * Figures over time: the launcher's reads of the live image, and their
 * serialized form (series.h, docs/time.md).
 */
#include "series.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bytes.h"
#include "procfs.h"

#define SERIES_MAGIC 0x53545250u /* "PRTS" */
#define SERIES_FORMAT 1u
#define POINT_BYTES (7 * 8 + 2 * 4)
#define SITE_BYTES (4 + 8 + 8)
#define PROC_BYTES (6 * 4 + 4 * 8)

static uint64_t cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

void series_init(struct series *sr, uint64_t interval_ns)
{
	memset(sr, 0, sizeof(*sr));
	sr->interval_ns = interval_ns;
	sr->step_ns = interval_ns;
}

/* --- one read ------------------------------------------------------------- */

struct acc {
	uint32_t trace;
	uint32_t used;
	int64_t bytes, blocks;
};

struct accmap {
	struct acc *v;
	size_t cap, n;
	int64_t unit; /* a sampled site's counts per block: SF_WEIGHT_ONE by bytes, else 1 */
};

/* A site's live blocks, in blocks. */
static uint64_t acc_blocks(const struct accmap *m, const struct acc *a)
{
	int64_t u = a->trace && m->unit > 1 ? m->unit : 1;

	return a->blocks > 0 ? (uint64_t)((a->blocks + u / 2) / u) : 0;
}

static struct acc *acc_slot(struct accmap *m, uint32_t trace)
{
	if (m->n * 4 >= m->cap * 3) {
		size_t ncap = m->cap ? m->cap * 2 : 256;
		struct acc *nv = calloc(ncap, sizeof(*nv));

		if (!nv)
			return NULL;
		for (size_t i = 0; i < m->cap; i++) {
			size_t j;

			if (!m->v[i].used)
				continue;
			for (j = sf_trace_slot(m->v[i].trace, (uint32_t)(ncap - 1)); nv[j].used; j = (j + 1) & (ncap - 1))
				;
			nv[j] = m->v[i];
		}
		free(m->v);
		m->v = nv;
		m->cap = ncap;
	}
	for (size_t j = sf_trace_slot(trace, (uint32_t)(m->cap - 1));; j = (j + 1) & (m->cap - 1)) {
		struct acc *a = &m->v[j];

		if (a->used && a->trace == trace)
			return a;
		if (!a->used) {
			a->used = 1;
			a->trace = trace;
			m->n++;
			return a;
		}
	}
}

static void acc_add(struct accmap *m, uint32_t trace, const struct sf_site *x)
{
	uint64_t allocs = __atomic_load_n(&x->allocs, __ATOMIC_RELAXED);
	uint64_t bytes = __atomic_load_n(&x->bytes, __ATOMIC_RELAXED);
	uint64_t frees = __atomic_load_n(&x->frees, __ATOMIC_RELAXED);
	uint64_t freed = __atomic_load_n(&x->freed_bytes, __ATOMIC_RELAXED);
	struct acc *a;

	if (allocs == frees && bytes == freed)
		return;
	if (allocs > SESSION_MAX_COUNT || frees > SESSION_MAX_COUNT || bytes > SESSION_MAX_BYTES ||
	    freed > SESSION_MAX_BYTES)
		return;
	a = acc_slot(m, trace);
	if (!a)
		return;
	/* Signed: a thread frees blocks of a site another thread allocated. */
	a->bytes += (int64_t)(bytes - freed);
	a->blocks += (int64_t)(allocs - frees);
}

static int by_live_desc(const void *a, const void *b)
{
	const struct series_site *x = a, *y = b;

	if (x->live_bytes != y->live_bytes)
		return x->live_bytes < y->live_bytes ? 1 : -1;
	return x->trace < y->trace ? -1 : x->trace > y->trace;
}

static uint64_t rss_of(int pid)
{
	uint64_t rss = 0;

	return procfs_rss(pid, &rss) ? 0 : rss;
}

static struct series_proc *proc_for(struct series *sr, uint32_t slot, int pid)
{
	for (size_t i = 0; i < sr->nprocs; i++)
		if (sr->procs[i].slot == slot && sr->procs[i].pid == pid)
			return &sr->procs[i];
	if (sr->nprocs == sr->cap) {
		size_t ncap = sr->cap ? sr->cap * 2 : 8;
		struct series_proc *np = realloc(sr->procs, ncap * sizeof(*np));

		if (!np)
			return NULL;
		sr->procs = np;
		sr->cap = ncap;
	}
	memset(&sr->procs[sr->nprocs], 0, sizeof(sr->procs[0]));
	sr->procs[sr->nprocs].slot = slot;
	sr->procs[sr->nprocs].pid = pid;
	return &sr->procs[sr->nprocs++];
}

/* Every other point goes, the highest one and the last one stay; their
 * sites are compacted with them. */
static void thin(struct series_proc *sp)
{
	size_t keep = 0, ns = 0, hi = 0;

	for (size_t i = 1; i < sp->n; i++)
		if (sp->pts[i].live_bytes > sp->pts[hi].live_bytes)
			hi = i;
	for (size_t i = 0; i < sp->n; i++) {
		struct series_point p = sp->pts[i];

		if (i % 2 && i != hi && i != sp->n - 1)
			continue;
		memmove(&sp->sites[ns], &sp->sites[p.site0], p.nsites * sizeof(*sp->sites));
		p.site0 = (uint32_t)ns;
		ns += p.nsites;
		sp->pts[keep++] = p;
	}
	sp->n = keep;
	sp->nsites = ns;
}

static int push_point(struct series *sr, struct series_proc *sp, const struct series_point *pt,
		      const struct series_site *top, size_t ntop)
{
	struct series_point p = *pt;

	if (sp->n == SERIES_MAX_POINTS) {
		thin(sp);
		sp->step_ns = (sp->step_ns ? sp->step_ns : sr->interval_ns) * 2;
		if (sp->step_ns > sr->step_ns)
			sr->step_ns = sp->step_ns;
	}
	if (sp->n == sp->cap) {
		size_t ncap = sp->cap ? sp->cap * 2 : 64;
		struct series_point *np = realloc(sp->pts, ncap * sizeof(*np));

		if (!np)
			return -ENOMEM;
		sp->pts = np;
		sp->cap = ncap;
	}
	if (sp->nsites + ntop > sp->sites_cap) {
		size_t ncap = sp->sites_cap ? sp->sites_cap * 2 : 256;
		struct series_site *ns;

		while (ncap < sp->nsites + ntop)
			ncap *= 2;
		ns = realloc(sp->sites, ncap * sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		sp->sites = ns;
		sp->sites_cap = ncap;
	}
	p.site0 = (uint32_t)sp->nsites;
	p.nsites = (uint32_t)ntop;
	memcpy(&sp->sites[sp->nsites], top, ntop * sizeof(*top));
	sp->nsites += ntop;
	sp->pts[sp->n++] = p;
	return 0;
}

/* The sites of process p: every thread's table summed by trace. */
static int read_sites(const struct session *s, const struct sf_process *p, struct accmap *m)
{
	sf_off head = __atomic_load_n(&p->threads, __ATOMIC_ACQUIRE);
	uint64_t n = session_list_len(s, p, SP_THREADS, head, sizeof(struct sf_thread), offsetof(struct sf_thread, next));

	m->unit = p->sample_bytes ? SF_WEIGHT_ONE : 1;
	for (const struct sf_thread *t = session_at(s, head, sizeof(*t)); t && n;
	     t = session_at(s, __atomic_load_n(&t->next, __ATOMIC_ACQUIRE), sizeof(*t)), n--) {
		uint32_t cap = __atomic_load_n(&t->sites_cap, __ATOMIC_ACQUIRE);
		sf_off off = __atomic_load_n(&t->sites, __ATOMIC_ACQUIRE);
		const struct sf_site *tab;

		acc_add(m, 0, &t->nostack);
		if (!cap || cap > (1u << 28))
			continue;
		tab = session_at(s, off, (size_t)cap * sizeof(*tab));
		if (!tab)
			continue;
		cap = (uint32_t)session_charge(s, p, cap);
		for (uint32_t i = 0; i < cap; i++) {
			uint32_t trace = __atomic_load_n(&tab[i].trace, __ATOMIC_RELAXED);

			if (trace)
				acc_add(m, trace, &tab[i]);
		}
	}
	return 0;
}

/* m's sites with live bytes, by live bytes, into *out (malloc'd). */
static size_t sites_of(const struct accmap *m, struct series_site **out)
{
	struct series_site *v = malloc((m->n ? m->n : 1) * sizeof(*v));
	size_t k = 0;

	*out = v;
	if (!v)
		return 0;
	for (size_t i = 0; i < m->cap; i++) {
		const struct acc *a = &m->v[i];

		if (!a->used || (a->bytes <= 0 && a->blocks <= 0))
			continue;
		v[k].trace = a->trace;
		v[k].live_bytes = a->bytes > 0 ? (uint64_t)a->bytes : 0;
		v[k].live_blocks = acc_blocks(m, a);
		if (v[k].live_bytes > SESSION_MAX_LIVE)
			v[k].live_bytes = SESSION_MAX_LIVE;
		if (v[k].live_blocks > SESSION_MAX_COUNT)
			v[k].live_blocks = SESSION_MAX_COUNT;
		k++;
	}
	if (k > 1)
		qsort(v, k, sizeof(*v), by_live_desc);
	return k;
}

/* The SERIES_TOP_SITES sites of m with the most live bytes, sorted, in
 * top: one pass, no sort of the rest. */
static size_t top_of(const struct accmap *m, struct series_site *top)
{
	size_t k = 0;

	for (size_t i = 0; i < m->cap; i++) {
		const struct acc *a = &m->v[i];
		struct series_site x;
		size_t j;

		if (!a->used || (a->bytes <= 0 && a->blocks <= 0))
			continue;
		x = (struct series_site){.trace = a->trace,
					 .live_bytes = a->bytes > 0 ? (uint64_t)a->bytes : 0,
					 .live_blocks = acc_blocks(m, a)};
		if (x.live_bytes > SESSION_MAX_LIVE)
			x.live_bytes = SESSION_MAX_LIVE;
		if (x.live_blocks > SESSION_MAX_COUNT)
			x.live_blocks = SESSION_MAX_COUNT;
		if (k == SERIES_TOP_SITES && by_live_desc(&x, &top[k - 1]) >= 0)
			continue;
		j = k < SERIES_TOP_SITES ? k++ : k - 1;
		while (j > 0 && by_live_desc(&x, &top[j - 1]) < 0) {
			top[j] = top[j - 1];
			j--;
		}
		top[j] = x;
	}
	return k;
}

static void read_proc(struct series *sr, const struct session *s, uint32_t slot, const struct sf_process *p,
		      uint64_t t_ns, int last)
{
	struct series_proc *sp = proc_for(sr, slot, p->pid);
	struct series_point pt = {.t_ns = t_ns};
	sf_off head;
	uint64_t n;
	struct accmap m = {.v = sr->acc, .cap = sr->acc_cap};
	struct series_site *all = NULL, top[SERIES_TOP_SITES];
	size_t nall = 0, ntop = 0;
	int want_sites, new_high;

	if (!sp || sp->done)
		return;
	/* A process's last point is at its end, when it said. */
	if (last) {
		uint64_t end = __atomic_load_n(&p->end_ns, __ATOMIC_RELAXED);

		if (end > s->start_ns && end - s->start_ns <= t_ns && end - s->start_ns >= sp->last_kept_ns)
			t_ns = end - s->start_ns;
	}
	/* Between two kept points, at least step_ns (thinning doubles it);
	 * a process's last point always counts. */
	if (sp->n && !last && t_ns - sp->last_kept_ns < (sp->step_ns ? sp->step_ns : sr->interval_ns))
		return;
	head = __atomic_load_n(&p->threads, __ATOMIC_ACQUIRE);
	n = session_list_len(s, p, SP_THREADS, head, sizeof(struct sf_thread), offsetof(struct sf_thread, next));
	{
		uint64_t allocs = 0, frees = 0, bytes = 0, freed = 0, samples = 0, ofrees = 0, ofreed = 0;

		for (const struct sf_thread *t = session_at(s, head, sizeof(*t)); t && n;
		     t = session_at(s, __atomic_load_n(&t->next, __ATOMIC_ACQUIRE), sizeof(*t)), n--) {
			const struct sf_cpu_thread *c =
				session_at(s, __atomic_load_n(&t->cpu, __ATOMIC_ACQUIRE), sizeof(*c));

			allocs = session_add(allocs, __atomic_load_n(&t->allocs, __ATOMIC_RELAXED));
			frees = session_add(frees, __atomic_load_n(&t->frees, __ATOMIC_RELAXED));
			bytes = session_add(bytes, __atomic_load_n(&t->bytes, __ATOMIC_RELAXED));
			freed = session_add(freed, __atomic_load_n(&t->freed_bytes, __ATOMIC_RELAXED));
			ofrees = session_add(ofrees, __atomic_load_n(&t->old_frees, __ATOMIC_RELAXED));
			ofreed = session_add(ofreed, __atomic_load_n(&t->old_freed_bytes, __ATOMIC_RELAXED));
			if (c)
				samples = session_add(samples, __atomic_load_n(&c->samples, __ATOMIC_RELAXED));
		}
		/* Sums of counters the program can write: within what a
		 * profile file's reader accepts. */
		pt.allocs = allocs < SESSION_MAX_COUNT ? allocs : SESSION_MAX_COUNT;
		pt.alloc_bytes = bytes < SESSION_MAX_BYTES ? bytes : SESSION_MAX_BYTES;
		/* Frees of blocks from before a ptrace_reset() count apart. */
		freed = session_add(freed, ofreed);
		frees = session_add(frees, ofrees);
		pt.live_bytes = bytes > freed ? bytes - freed : 0;
		pt.live_blocks = allocs > frees ? allocs - frees : 0;
		if (pt.live_bytes > SESSION_MAX_LIVE)
			pt.live_bytes = 0;
		pt.cpu_samples = samples < SESSION_MAX_COUNT ? samples : SESSION_MAX_COUNT;
		if (pt.live_blocks > SESSION_MAX_COUNT)
			pt.live_blocks = SESSION_MAX_COUNT;
	}
	pt.rss_bytes = last ? 0 : rss_of(p->pid);
	/* Sites: at every kept point while reads are cheap (the budget is
	 * the caller's), and every site when the heap is at a new high. */
	want_sites = !sp->n || pt.live_bytes > 0;
	new_high = pt.live_bytes > sp->comp_live || !sp->comp;
	/* The scratch map of the last read, emptied (or dropped when a big
	 * process made it far larger than this one needs). */
	if (m.cap > 4096 && sr->acc_used < m.cap / 16) {
		free(m.v);
		m.v = NULL;
		m.cap = 0;
	} else if (m.v) {
		memset(m.v, 0, m.cap * sizeof(*m.v));
	}
	if (want_sites && !read_sites(s, p, &m)) {
		/* Every site only at a new high; the top ones otherwise. */
		if (new_high) {
			nall = sites_of(&m, &all);
			ntop = nall < SERIES_TOP_SITES ? nall : SERIES_TOP_SITES;
			if (all)
				memcpy(top, all, ntop * sizeof(*top));
		} else {
			ntop = top_of(&m, top);
		}
	}
	sr->acc = m.v;
	sr->acc_cap = m.cap;
	sr->acc_used = m.n;
	if (pt.live_bytes >= sp->peak_live || !sp->n) {
		if (pt.live_bytes > sp->peak_live || !sp->n) {
			sp->peak_live = pt.live_bytes;
			sp->peak_t_ns = t_ns;
		}
		if (all && (pt.live_bytes > sp->comp_live || !sp->comp)) {
			free(sp->comp);
			sp->comp = malloc((nall ? nall : 1) * sizeof(*sp->comp));
			if (sp->comp) {
				memcpy(sp->comp, all, nall * sizeof(*all));
				sp->ncomp = nall;
				sp->comp_t_ns = t_ns;
				sp->comp_live = pt.live_bytes;
			}
		}
	}
	push_point(sr, sp, &pt, top, ntop);
	free(all);
	sp->last_kept_ns = t_ns;
	if (last)
		sp->done = 1;
}

uint64_t series_read(struct series *sr, const struct session *s, uint64_t t_ns, int final)
{
	uint64_t c0 = cpu_ns();
	uint32_t np = session_nprocs(s);

	session_read_begin(s);
	for (uint32_t i = 0; i < np; i++) {
		const struct sf_process *p = session_process(s, i);
		uint32_t st = __atomic_load_n(&p->state, __ATOMIC_ACQUIRE);

		if (st < SF_PROC_RUNNING || p->pid <= 0)
			continue;
		read_proc(sr, s, i, p, t_ns, final || st == SF_PROC_DONE);
	}
	return cpu_ns() - c0;
}

const struct series_proc *series_find(const struct series *sr, uint32_t slot, int pid)
{
	for (size_t i = 0; sr && i < sr->nprocs; i++)
		if (sr->procs[i].slot == slot && sr->procs[i].pid == pid)
			return &sr->procs[i];
	return NULL;
}

/* --- saving and parsing --------------------------------------------------- */

static void put_site(struct wbuf *w, const struct series_site *x)
{
	wbuf_u32(w, x->trace);
	wbuf_u64(w, x->live_bytes);
	wbuf_u64(w, x->live_blocks);
}

int series_save(const struct series *sr, unsigned char **out, size_t *len)
{
	struct wbuf w = {0};

	wbuf_u32(&w, SERIES_MAGIC);
	wbuf_u32(&w, SERIES_FORMAT);
	wbuf_u64(&w, sr->interval_ns);
	wbuf_u64(&w, sr->step_ns);
	wbuf_u64(&w, sr->longest_ns);
	wbuf_u32(&w, (uint32_t)sr->nprocs);
	for (size_t i = 0; i < sr->nprocs; i++) {
		const struct series_proc *sp = &sr->procs[i];

		wbuf_u32(&w, sp->slot);
		wbuf_u32(&w, (uint32_t)sp->pid);
		wbuf_u32(&w, sp->flags);
		wbuf_u32(&w, (uint32_t)sp->n);
		wbuf_u32(&w, (uint32_t)sp->nsites);
		wbuf_u32(&w, (uint32_t)sp->ncomp);
		wbuf_u64(&w, sp->peak_t_ns);
		wbuf_u64(&w, sp->peak_live);
		wbuf_u64(&w, sp->comp_t_ns);
		wbuf_u64(&w, sp->comp_live);
		for (size_t k = 0; k < sp->n; k++) {
			const struct series_point *p = &sp->pts[k];

			wbuf_u64(&w, p->t_ns);
			wbuf_u64(&w, p->live_bytes);
			wbuf_u64(&w, p->live_blocks);
			wbuf_u64(&w, p->rss_bytes);
			wbuf_u64(&w, p->allocs);
			wbuf_u64(&w, p->alloc_bytes);
			wbuf_u64(&w, p->cpu_samples);
			wbuf_u32(&w, p->site0);
			wbuf_u32(&w, p->nsites);
		}
		for (size_t k = 0; k < sp->nsites; k++)
			put_site(&w, &sp->sites[k]);
		for (size_t k = 0; k < sp->ncomp; k++)
			put_site(&w, &sp->comp[k]);
	}
	if (w.err) {
		wbuf_free(&w);
		return -ENOMEM;
	}
	*out = w.p;
	*len = w.n;
	return 0;
}

static int get_sites(struct rbuf *r, struct series_site **out, size_t n)
{
	struct series_site *v;

	if (n > (r->n - r->off) / SITE_BYTES)
		return -EPROTO;
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t k = 0; k < n; k++) {
		v[k].trace = rbuf_u32(r);
		v[k].live_bytes = rbuf_u64(r);
		v[k].live_blocks = rbuf_u64(r);
		if (v[k].live_bytes > SESSION_MAX_LIVE || v[k].live_blocks > SESSION_MAX_COUNT) {
			free(v);
			return -EPROTO;
		}
	}
	*out = v;
	return 0;
}

int series_parse(struct series *sr, const void *data, size_t len)
{
	struct rbuf r = {.p = data, .n = len};
	uint32_t np;
	int rc = -EPROTO;

	memset(sr, 0, sizeof(*sr));
	if (rbuf_u32(&r) != SERIES_MAGIC || rbuf_u32(&r) != SERIES_FORMAT)
		return -EPROTO;
	sr->interval_ns = rbuf_u64(&r);
	sr->step_ns = rbuf_u64(&r);
	sr->longest_ns = rbuf_u64(&r);
	np = rbuf_u32(&r);
	if (r.err || np > (r.n - r.off) / PROC_BYTES)
		return -EPROTO;
	sr->procs = calloc(np ? np : 1, sizeof(*sr->procs));
	if (!sr->procs)
		return -ENOMEM;
	sr->cap = np;
	for (uint32_t i = 0; i < np; i++) {
		struct series_proc *sp = &sr->procs[sr->nprocs++];
		uint32_t npts, nsites, ncomp;
		uint64_t prev = 0;

		sp->slot = rbuf_u32(&r);
		sp->pid = (int32_t)rbuf_u32(&r);
		sp->flags = rbuf_u32(&r);
		npts = rbuf_u32(&r);
		nsites = rbuf_u32(&r);
		ncomp = rbuf_u32(&r);
		sp->peak_t_ns = rbuf_u64(&r);
		sp->peak_live = rbuf_u64(&r);
		sp->comp_t_ns = rbuf_u64(&r);
		sp->comp_live = rbuf_u64(&r);
		if (r.err || sp->slot >= (1u << 24) || npts > SERIES_MAX_POINTS || npts > (r.n - r.off) / POINT_BYTES ||
		    sp->peak_live > SESSION_MAX_LIVE || sp->comp_live > SESSION_MAX_LIVE)
			goto fail;
		sp->pts = calloc(npts ? npts : 1, sizeof(*sp->pts));
		if (!sp->pts) {
			rc = -ENOMEM;
			goto fail;
		}
		sp->cap = npts;
		for (uint32_t k = 0; k < npts; k++) {
			struct series_point *p = &sp->pts[k];

			p->t_ns = rbuf_u64(&r);
			p->live_bytes = rbuf_u64(&r);
			p->live_blocks = rbuf_u64(&r);
			p->rss_bytes = rbuf_u64(&r);
			p->allocs = rbuf_u64(&r);
			p->alloc_bytes = rbuf_u64(&r);
			p->cpu_samples = rbuf_u64(&r);
			p->site0 = rbuf_u32(&r);
			p->nsites = rbuf_u32(&r);
			if (p->t_ns < prev || p->live_bytes > SESSION_MAX_LIVE || p->rss_bytes > SESSION_MAX_LIVE ||
			    p->live_blocks > SESSION_MAX_COUNT || p->allocs > SESSION_MAX_COUNT ||
			    p->alloc_bytes > SESSION_MAX_BYTES || p->cpu_samples > SESSION_MAX_COUNT ||
			    p->nsites > SERIES_TOP_SITES || p->site0 > nsites || p->nsites > nsites - p->site0)
				goto fail;
			prev = p->t_ns;
		}
		sp->n = npts;
		if ((rc = get_sites(&r, &sp->sites, nsites)))
			goto fail;
		sp->nsites = sp->sites_cap = nsites;
		if ((rc = get_sites(&r, &sp->comp, ncomp)))
			goto fail;
		sp->ncomp = ncomp;
		sp->done = 1;
		rc = -EPROTO;
	}
	if (r.err || r.off != r.n)
		goto fail;
	return 0;
fail:
	series_free(sr);
	return rc;
}

int series_copy(struct series *dst, const struct series *src)
{
	unsigned char *b;
	size_t n;
	int rc = series_save(src, &b, &n);

	if (rc)
		return rc;
	rc = series_parse(dst, b, n);
	free(b);
	return rc;
}

void series_free(struct series *sr)
{
	for (size_t i = 0; i < sr->nprocs; i++) {
		free(sr->procs[i].pts);
		free(sr->procs[i].sites);
		free(sr->procs[i].comp);
	}
	free(sr->procs);
	free(sr->acc);
	memset(sr, 0, sizeof(*sr));
}
