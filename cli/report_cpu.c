/*
 * The CPU profile, crash report and stack dumps of one process, from the
 * image into the report model. Per-thread sample tables are summed per
 * trace, each trace symbolized once; then the functions (self: the
 * function running; total: anywhere on the stack, counted once per stack,
 * so recursion does not inflate it) and the distinct symbolized stacks,
 * which is what a flame graph needs.
 */
#include "report.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DUMPS 1000      /* dumps kept in the model */
#define CPU_FLAGS_KNOWN ((SF_CPU_TIMER_FAILED << 1) - 1)

/* --- trace id -> samples --------------------------------------------------- */

struct tsum {
	uint32_t trace;
	uint64_t samples;
};

struct tmap {
	struct tsum *v;
	size_t cap, n;
};

static uint64_t mix(uint64_t h, uint64_t x)
{
	h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

static int tmap_add(struct tmap *m, uint32_t trace, uint64_t samples)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 256;
		struct tsum *nv = calloc(ncap, sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		for (size_t k = 0; k < m->cap; k++) {
			if (!m->v[k].trace)
				continue;
			for (i = mix(0, m->v[k].trace) & (ncap - 1); nv[i].trace; i = (i + 1) & (ncap - 1))
				;
			nv[i] = m->v[k];
		}
		free(m->v);
		m->v = nv;
		m->cap = ncap;
	}
	for (i = mix(0, trace) & (m->cap - 1); m->v[i].trace && m->v[i].trace != trace; i = (i + 1) & (m->cap - 1))
		;
	if (!m->v[i].trace) {
		m->v[i].trace = trace;
		m->n++;
	}
	m->v[i].samples = session_add(m->v[i].samples, samples);
	return 0;
}

/* --- an index map: hash -> position in a vector, compared by the caller ---- */

struct imap {
	uint32_t *slot;         /* index + 1, 0 empty */
	uint64_t *hash;
	size_t cap, n;
};

/* Find (eq returns 1) or insert index `fresh` for hash h. Returns the
 * index found, or fresh when inserted; SIZE_MAX on ENOMEM. */
static size_t imap_get(struct imap *m, uint64_t h, size_t fresh, int (*eq)(const void *ctx, size_t idx),
		       const void *ctx)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 256;
		uint32_t *ns = calloc(ncap, sizeof(*ns));
		uint64_t *nh = calloc(ncap, sizeof(*nh));

		if (!ns || !nh) {
			free(ns);
			free(nh);
			return SIZE_MAX;
		}
		for (size_t k = 0; k < m->cap; k++) {
			if (!m->slot[k])
				continue;
			for (i = m->hash[k] & (ncap - 1); ns[i]; i = (i + 1) & (ncap - 1))
				;
			ns[i] = m->slot[k];
			nh[i] = m->hash[k];
		}
		free(m->slot);
		free(m->hash);
		m->slot = ns;
		m->hash = nh;
		m->cap = ncap;
	}
	for (i = h & (m->cap - 1); m->slot[i]; i = (i + 1) & (m->cap - 1))
		if (m->hash[i] == h && eq(ctx, m->slot[i] - 1))
			return m->slot[i] - 1;
	m->slot[i] = (uint32_t)fresh + 1;
	m->hash[i] = h;
	m->n++;
	return fresh;
}

static void imap_free(struct imap *m)
{
	free(m->slot);
	free(m->hash);
}

/* --- functions and their hottest line -------------------------------------- */

struct fn {
	struct rcpu_fn f;
	size_t stamp;           /* last stack counted in total, + 1 */
};

struct line {
	size_t fn;
	const char *file;
	int line;
	uint64_t self, total;
	size_t stamp;
};

struct agg {
	struct fn *fns;
	size_t nfns, capfns;
	struct imap fmap;
	struct line *lines;
	size_t nlines, caplines;
	struct imap lmap;
	struct rcpu_stack *stacks;
	size_t nstacks, capstacks;
	struct imap smap;
	/* The key being looked up. */
	const char *kname, *kmodule, *kfile;
	int kline;
	size_t kfn;
	const struct rstack *kstack;
};

static int fn_eq(const void *ctx, size_t i)
{
	const struct agg *a = ctx;
	return a->fns[i].f.name == a->kname && a->fns[i].f.module == a->kmodule;
}

static int line_eq(const void *ctx, size_t i)
{
	const struct agg *a = ctx;
	return a->lines[i].fn == a->kfn && a->lines[i].file == a->kfile && a->lines[i].line == a->kline;
}

/* Frames that are the same place, for merging stacks. Unknown functions
 * stay apart by address. */
static int frame_same(const struct rframe *x, const struct rframe *y)
{
	return x->function == y->function && x->file == y->file && x->line == y->line && x->module == y->module &&
	       x->inlined == y->inlined && (x->function || x->address == y->address);
}

static uint64_t frame_hash(uint64_t h, const struct rframe *f)
{
	h = mix(h, (uintptr_t)f->function);
	h = mix(h, (uintptr_t)f->file);
	h = mix(h, (uint64_t)f->line);
	h = mix(h, (uintptr_t)f->module);
	return mix(h, f->function ? 0 : f->address);
}

static int stack_eq(const void *ctx, size_t i)
{
	const struct agg *a = ctx;
	const struct rstack *x = &a->stacks[i].stack, *y = a->kstack;

	if (x->n != y->n)
		return 0;
	for (unsigned k = 0; k < x->n; k++)
		if (!frame_same(rstack_frame(x, k), rstack_frame(y, k)))
			return 0;
	return 1;
}

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	void *nv;

	if (n < *cap)
		return 0;
	nv = realloc(*v, (*cap ? *cap * 2 : 64) * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = *cap ? *cap * 2 : 64;
	return 0;
}

static size_t fn_of(struct agg *a, const struct rframe *f)
{
	size_t i;

	a->kname = f->function;
	a->kmodule = f->module;
	if (grow((void **)&a->fns, &a->capfns, a->nfns, sizeof(*a->fns)))
		return SIZE_MAX;
	i = imap_get(&a->fmap, mix(mix(0, (uintptr_t)f->function), (uintptr_t)f->module), a->nfns, fn_eq, a);
	if (i == a->nfns) {
		memset(&a->fns[i], 0, sizeof(a->fns[i]));
		a->fns[i].f.name = f->function;
		a->fns[i].f.module = f->module;
		a->nfns++;
	}
	return i;
}

static struct line *line_of(struct agg *a, size_t fn, const struct rframe *f)
{
	size_t i;

	a->kfn = fn;
	a->kfile = f->file;
	a->kline = f->line;
	if (grow((void **)&a->lines, &a->caplines, a->nlines, sizeof(*a->lines)))
		return NULL;
	i = imap_get(&a->lmap, mix(mix(mix(0, fn), (uintptr_t)f->file), (uint64_t)f->line), a->nlines, line_eq, a);
	if (i == SIZE_MAX)
		return NULL;
	if (i == a->nlines) {
		memset(&a->lines[i], 0, sizeof(a->lines[i]));
		a->lines[i].fn = fn;
		a->lines[i].file = f->file;
		a->lines[i].line = f->line;
		a->nlines++;
	}
	return &a->lines[i];
}

/* Count one symbolized stack with its samples; the stack is kept (moved
 * into the model) or freed. stamp numbers the stacks from 1. */
static int agg_stack(struct agg *a, struct rstack *st, uint64_t samples, size_t stamp, size_t *where)
{
	uint64_t h = 0;
	size_t i;

	for (unsigned k = 0; k < st->n; k++) {
		const struct rframe *f = rstack_frame(st, k);
		size_t fi = fn_of(a, f);
		struct line *l;

		if (fi == SIZE_MAX)
			return -ENOMEM;
		if (k == 0)
			a->fns[fi].f.self = session_add(a->fns[fi].f.self, samples);
		if (a->fns[fi].stamp != stamp) {
			a->fns[fi].stamp = stamp;
			a->fns[fi].f.total = session_add(a->fns[fi].f.total, samples);
		}
		if (!(l = line_of(a, fi, f)))
			return -ENOMEM;
		if (k == 0)
			l->self = session_add(l->self, samples);
		if (l->stamp != stamp) {
			l->stamp = stamp;
			l->total = session_add(l->total, samples);
		}
		h = frame_hash(h, f);
	}
	a->kstack = st;
	if (grow((void **)&a->stacks, &a->capstacks, a->nstacks, sizeof(*a->stacks)))
		return -ENOMEM;
	i = imap_get(&a->smap, h, a->nstacks, stack_eq, a);
	if (i == SIZE_MAX)
		return -ENOMEM;
	if (i == a->nstacks) {
		a->stacks[i].samples = samples;
		a->stacks[i].stack = *st;
		a->nstacks++;
	} else {
		a->stacks[i].samples = session_add(a->stacks[i].samples, samples);
		free(st->ids);
	}
	st->ids = NULL;
	st->n = 0;
	*where = i;
	return 0;
}

static int by_self(const void *x, const void *y)
{
	const struct rcpu_fn *a = x, *b = y;

	if (a->self != b->self)
		return a->self < b->self ? 1 : -1;
	if (a->total != b->total)
		return a->total < b->total ? 1 : -1;
	if (!a->name != !b->name)
		return a->name ? -1 : 1;
	return a->name ? strcmp(a->name, b->name) : 0;
}

static int by_total(const void *x, const void *y)
{
	const struct rcpu_fn *a = *(struct rcpu_fn *const *)x, *b = *(struct rcpu_fn *const *)y;

	if (a->total != b->total)
		return a->total < b->total ? 1 : -1;
	return by_self(a, b);
}

static int by_samples(const void *x, const void *y)
{
	const struct rcpu_stack *a = x, *b = y;

	if (a->samples != b->samples)
		return a->samples < b->samples ? 1 : -1;
	if (a->stack.n != b->stack.n)
		return a->stack.n < b->stack.n ? -1 : 1;
	return 0;
}

static int thread_by_samples(const void *x, const void *y)
{
	const struct rcpu_thread *a = x, *b = y;

	if (a->samples != b->samples)
		return a->samples < b->samples ? 1 : -1;
	return a->tid - b->tid;
}

/* Is line x hotter than y: more self samples, then more samples, then
 * the earlier line (so the choice never depends on hash order). */
static int hotter(const struct line *x, const struct line *y)
{
	if (x->self != y->self)
		return x->self > y->self;
	if (x->total != y->total)
		return x->total > y->total;
	return x->line < y->line;
}

/* Move the aggregate into the model. */
static int agg_finish(struct agg *a, struct rcpu *c)
{
	c->fns = calloc(a->nfns ? a->nfns : 1, sizeof(*c->fns));
	c->by_total = calloc(a->nfns ? a->nfns : 1, sizeof(*c->by_total));
	if (!c->fns || !c->by_total)
		return -ENOMEM;
	/* fns[].stamp now holds the index + 1 of the function's hottest line. */
	for (size_t i = 0; i < a->nfns; i++)
		a->fns[i].stamp = 0;
	for (size_t i = 0; i < a->nlines; i++) {
		struct fn *f = &a->fns[a->lines[i].fn];

		if (a->lines[i].line && (!f->stamp || hotter(&a->lines[i], &a->lines[f->stamp - 1])))
			f->stamp = i + 1;
	}
	for (size_t i = 0; i < a->nfns; i++) {
		c->fns[i] = a->fns[i].f;
		if (a->fns[i].stamp) {
			c->fns[i].file = a->lines[a->fns[i].stamp - 1].file;
			c->fns[i].line = a->lines[a->fns[i].stamp - 1].line;
		}
	}
	c->nfns = a->nfns;
	report_qsort(c->fns, c->nfns, sizeof(*c->fns), by_self);
	for (size_t i = 0; i < c->nfns; i++)
		c->by_total[i] = &c->fns[i];
	report_qsort(c->by_total, c->nfns, sizeof(*c->by_total), by_total);
	c->stacks = a->stacks;
	c->nstacks = a->nstacks;
	a->stacks = NULL;
	a->nstacks = 0;
	report_qsort(c->stacks, c->nstacks, sizeof(*c->stacks), by_samples);
	return 0;
}

static void agg_free(struct agg *a)
{
	for (size_t i = 0; i < a->nstacks; i++)
		free(a->stacks[i].stack.ids);
	free(a->stacks);
	free(a->fns);
	free(a->lines);
	imap_free(&a->fmap);
	imap_free(&a->lmap);
	imap_free(&a->smap);
}

/* --- threads ---------------------------------------------------------------- */

static int add_thread(struct rcpu *c, size_t *cap, int tid, const char *name, const char *alt, uint64_t samples)
{
	struct rcpu_thread *t;

	if (!samples)
		return 0;
	if (grow((void **)&c->threads, cap, c->nthreads, sizeof(*c->threads)))
		return -ENOMEM;
	t = &c->threads[c->nthreads++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	/* Both may be image bytes: copied, bounded, terminated. */
	session_str(t->name, SF_NAME_LEN, name && name[0] ? name : alt, SF_NAME_LEN);
	t->samples = samples;
	return 0;
}

/* --- the runtime's frames ---------------------------------------------------- */

int report_runtime_module(const char *module)
{
	static const char *const prefix[] = {"libc.so",    "libc-",    "ld-linux", "ld-2.",        "libpthread",
					      "libstdc++", "libgcc_s", "libm.so",  "libptrace-run", "libunwind"};
	const char *base = module ? strrchr(module, '/') : NULL;

	base = base ? base + 1 : module;
	if (!base)
		return 0;
	for (size_t i = 0; i < sizeof(prefix) / sizeof(prefix[0]); i++)
		if (!strncmp(base, prefix[i], strlen(prefix[i])))
			return 1;
	return 0;
}

/* Split a crash stack at the innermost frame of the program's own code. */
static int split_crash(struct rcrash *k, struct rstack *all)
{
	unsigned i = 0;

	while (i < all->n && report_runtime_module(rstack_frame(all, i)->module))
		i++;
	if (i == all->n || i == 0) {
		k->stack = *all; /* all runtime, or none: keep it whole */
		return 0;
	}
	k->runtime.ids = malloc(i * sizeof(*all->ids));
	if (!k->runtime.ids)
		return -ENOMEM;
	memcpy(k->runtime.ids, all->ids, i * sizeof(*all->ids));
	k->runtime.n = i;
	k->runtime.store = all->store;
	memmove(all->ids, all->ids + i, (all->n - i) * sizeof(*all->ids));
	all->n -= i;
	k->stack = *all;
	return 0;
}

/* --- dumps ------------------------------------------------------------------ */

static int dump_thread_cmp(const void *x, const void *y)
{
	const struct rdump_thread *a = x, *b = y;

	return a->tid < b->tid ? -1 : a->tid > b->tid;
}

static int build_dumps(struct report *r, struct rprocess *rp, const struct session *s, const struct sf_process *p,
		       const struct sf_cpu_proc *cp, struct report_modmap *mm)
{
	unsigned n = cp->dumps < MAX_DUMPS ? cp->dumps : MAX_DUMPS;
	sf_off head = __atomic_load_n(&cp->stacks, __ATOMIC_ACQUIRE);
	uint64_t left;
	size_t *caps;

	if (!n || cp->dump_signal < 1 || cp->dump_signal > 64)
		return 0; /* without a dump signal, a dump count is garbage */
	rp->dumps = calloc(n, sizeof(*rp->dumps));
	caps = calloc(n, sizeof(*caps));
	if (!rp->dumps || !caps) {
		free(caps);
		return -ENOMEM;
	}
	rp->ndumps = n;
	for (unsigned i = 0; i < n; i++) {
		rp->dumps[i].seq = i + 1;
		rp->dumps[i].time_ns = UINT64_MAX;
	}
	left = session_list_len(s, p, SP_DUMPS, head, sizeof(struct sf_cpu_stack), offsetof(struct sf_cpu_stack, next));
	for (const struct sf_cpu_stack *st = session_at(s, head, sizeof(*st)); st && left;
	     st = session_at(s, __atomic_load_n(&st->next, __ATOMIC_ACQUIRE), sizeof(*st)), left--) {
		uint32_t seq = st->seq;
		struct rdump *d;
		struct rdump_thread *t;

		if (seq < 1 || seq > n) {
			if (seq < 1 || seq > cp->dumps)
				session_corrupt(s, p, SP_DUMPS);
			continue;
		}
		d = &rp->dumps[seq - 1];
		if (grow((void **)&d->threads, &caps[seq - 1], d->nthreads, sizeof(*d->threads))) {
			free(caps);
			return -ENOMEM;
		}
		t = &d->threads[d->nthreads++];
		memset(t, 0, sizeof(*t));
		t->tid = st->tid;
		session_str(t->name, SF_NAME_LEN, st->name, SF_NAME_LEN);
		t->requester = !!(st->flags & SF_STACK_REQUESTER);
		t->pc_only = !!(st->flags & SF_STACK_PC_ONLY);
		if (t->requester)
			d->asked = st->threads;
		if (st->ns >= p->start_ns && st->ns - p->start_ns < d->time_ns)
			d->time_ns = st->ns - p->start_ns;
		if (st->trace && report_modmap_stack(r, mm, s, st->trace, &t->stack)) {
			free(caps);
			return -ENOMEM;
		}
	}
	free(caps);
	for (unsigned i = 0; i < n; i++) {
		struct rdump *d = &rp->dumps[i];

		if (d->time_ns == UINT64_MAX)
			d->time_ns = 0;
		report_qsort(d->threads, d->nthreads, sizeof(*d->threads), dump_thread_cmp);
		/* The main thread first. */
		for (size_t k = 0; k < d->nthreads; k++)
			if (d->threads[k].tid == rp->pid && k > 0) {
				struct rdump_thread m = d->threads[k];
				memmove(&d->threads[1], &d->threads[0], k * sizeof(m));
				d->threads[0] = m;
				break;
			}
	}
	return 0;
}

/* --- the process -------------------------------------------------------------- */

static int build_samples(struct report *r, struct rprocess *rp, const struct session *s,
			 const struct sf_process *p, const struct sf_cpu_proc *cp, struct report_modmap *mm)
{
	struct rcpu *c = &rp->cpu;
	struct tmap tm = {0};
	struct agg a = {0};
	struct pair { size_t thread; uint32_t trace; uint64_t samples; } *pairs = NULL;
	size_t tcap = 0, stamp = 0, npairs = 0, pcap = 0;
	int err = -ENOMEM;
	sf_off head = __atomic_load_n(&p->threads, __ATOMIC_ACQUIRE);
	uint64_t n = session_list_len(s, p, SP_THREADS, head, sizeof(struct sf_thread), offsetof(struct sf_thread, next));

	for (const struct sf_thread *t = session_at(s, head, sizeof(*t)); t && n;
	     t = session_at(s, __atomic_load_n(&t->next, __ATOMIC_ACQUIRE), sizeof(*t)), n--) {
		const struct sf_cpu_thread *ct = session_get(s, p, SP_CPU, t->cpu, sizeof(*ct));
		const struct sf_cpu_table *tab;
		uint64_t samples, base;
		uint32_t cap;

		if (!ct)
			continue;
		samples = ct->samples;
		base = ct->base;
		if (samples > SESSION_MAX_COUNT || ct->signals > SESSION_MAX_COUNT || ct->nostack > SESSION_MAX_COUNT ||
		    ct->agent > samples || ct->max_weight > SESSION_MAX_COUNT || base > samples) {
			session_corrupt(s, p, SP_CPU);
			continue;
		}
		c->samples = session_add(c->samples, samples);
		c->signals = session_add(c->signals, ct->signals);
		c->nostack = session_add(c->nostack, ct->nostack);
		c->agent = session_add(c->agent, ct->agent);
		if (ct->max_weight > c->max_weight)
			c->max_weight = ct->max_weight;
		if (add_thread(c, &tcap, t->tid, t->name, ct->owner_name, samples - base))
			goto out;
		if (samples > base)
			c->threads[c->nthreads - 1].shared_record = base > 0;
		tab = session_get(s, p, SP_CPU, __atomic_load_n(&ct->table, __ATOMIC_ACQUIRE), sizeof(*tab));
		if (!tab)
			continue;
		cap = tab->cap; /* read once: the program may be writing it */
		if (!session_get(s, p, SP_CPU, (sf_off)((const char *)tab - (const char *)s->base),
				 sizeof(*tab) + (size_t)cap * sizeof(tab->slots[0])))
			continue;
		cap = (uint32_t)session_charge(s, p, cap);
		for (uint32_t i = 0; i < cap; i++) {
			struct sf_cpu_site x = tab->slots[i];

			if (!x.trace || !x.samples)
				continue;
			if (x.samples > SESSION_MAX_COUNT) {
				session_corrupt(s, p, SP_CPU);
				continue;
			}
			if (tmap_add(&tm, x.trace, x.samples))
				goto out;
			/* This thread's share, for its own stacks. */
			if (samples > base) {
				if (grow((void **)&pairs, &pcap, npairs, sizeof(*pairs)))
					goto out;
				pairs[npairs++] = (struct pair){c->nthreads - 1, x.trace, x.samples};
			}
		}
	}
	head = __atomic_load_n(&cp->owners, __ATOMIC_ACQUIRE);
	n = session_list_len(s, p, SP_CPU, head, sizeof(struct sf_cpu_owner), offsetof(struct sf_cpu_owner, next));
	for (const struct sf_cpu_owner *o = session_at(s, head, sizeof(*o)); o && n;
	     o = session_at(s, __atomic_load_n(&o->next, __ATOMIC_ACQUIRE), sizeof(*o)), n--) {
		if (o->samples > SESSION_MAX_COUNT) {
			session_corrupt(s, p, SP_CPU);
			continue;
		}
		if (add_thread(c, &tcap, o->tid, o->name, "", o->samples))
			goto out;
	}

	for (size_t i = 0; i < tm.cap; i++) {
		struct rstack st = {0};
		size_t where;

		if (!tm.v[i].trace)
			continue;
		if (report_modmap_stack(r, mm, s, tm.v[i].trace, &st))
			goto out;
		if (!st.n) {
			/* An unreadable trace: its samples are without a stack. */
			free(st.ids);
			c->nostack = session_add(c->nostack, tm.v[i].samples);
			tm.v[i].samples = 0;
			continue;
		}
		if (agg_stack(&a, &st, tm.v[i].samples, ++stamp, &where)) {
			free(st.ids);
			goto out;
		}
		/* Which merged stack this trace became (its index until
		 * agg_finish sorts them): tm's count is used up, its slot
		 * keeps that instead. */
		tm.v[i].samples = where + 1;
	}
	/* Each thread's samples by stack, pointing at the merged stacks'
	 * ids (taken before agg_finish moves the array; the ids
	 * themselves never move). */
	for (size_t k = 0; k < npairs; k++) {
		struct rcpu_thread *th = &c->threads[pairs[k].thread];
		size_t i, idx;

		for (i = mix(0, pairs[k].trace) & (tm.cap - 1); tm.v[i].trace && tm.v[i].trace != pairs[k].trace;
		     i = (i + 1) & (tm.cap - 1))
			;
		if (tm.v[i].trace != pairs[k].trace || !tm.v[i].samples)
			continue; /* an unreadable trace */
		idx = tm.v[i].samples - 1;
		if (th->nstacks % 16 == 0) {
			struct rcpu_tstack *ns = realloc(th->stacks, (th->nstacks + 16) * sizeof(*ns));

			if (!ns)
				goto out;
			th->stacks = ns;
		}
		th->stacks[th->nstacks++] = (struct rcpu_tstack){pairs[k].samples, a.stacks[idx].stack};
	}
	report_qsort(c->threads, c->nthreads, sizeof(*c->threads), thread_by_samples);
	err = agg_finish(&a, c);
out:
	free(tm.v);
	free(pairs);
	agg_free(&a);
	return err;
}

int report_cpu_build(struct report *r, struct rprocess *rp, const struct session *s, const struct sf_process *p)
{
	const struct sf_cpu_proc *cp = session_get(s, p, SP_CPU, __atomic_load_n(&p->cpu, __ATOMIC_ACQUIRE), sizeof(*cp));
	const struct sf_crash *k;
	struct report_modmap *mm = NULL;
	int err;

	if (!cp)
		return 0;
	rp->cpu.hz = cp->hz;
	rp->cpu.flags = cp->flags;
	rp->cpu.timer_failures = cp->timer_failures;
	rp->cpu.signal = cp->signal > 0 && cp->signal < 65 ? cp->signal : 0;
	rp->cpu.perf_threads = cp->perf_threads;
	rp->cpu.timer_threads = cp->timer_threads;
	if (rp->cpu.hz > SF_MAX_CPU_HZ || (rp->cpu.flags & ~CPU_FLAGS_KNOWN) || rp->cpu.timer_failures > SESSION_MAX_COUNT) {
		/* Not figures the agent writes: no CPU profile from them. */
		session_corrupt(s, p, SP_CPU);
		rp->cpu.hz = 0;
		rp->cpu.flags &= CPU_FLAGS_KNOWN & ~SF_CPU_SAMPLING;
		rp->cpu.timer_failures = 0;
	}
	if (cp->aside_ns)
		rp->cpu.aside_ns = cp->aside_ns > p->start_ns ? cp->aside_ns - p->start_ns : 0;
	k = session_get(s, p, SP_CRASH, __atomic_load_n(&cp->crash, __ATOMIC_ACQUIRE), sizeof(*k));
	if (k && (k->signal < 1 || k->signal > 64)) {
		session_corrupt(s, p, SP_CRASH);
		k = NULL;
	}
	if (cp->dumps && (cp->dump_signal < 1 || cp->dump_signal > 64))
		session_corrupt(s, p, SP_DUMPS); /* dumps without a signal: read with care */
	if (!rp->cpu.hz && !k && !cp->dumps)
		return 0;
	if ((err = report_modmap_new(r, s, p, &mm)))
		return err;
	if (rp->cpu.hz && (err = build_samples(r, rp, s, p, cp, mm)))
		goto out;
	if (k) {
		struct rstack all = {0};
		struct rcrash *c = &rp->crash;

		c->present = 1;
		c->signal = k->signal;
		c->code = k->code;
		c->tid = k->tid;
		c->has_address = !!(k->flags & SF_CRASH_ADDRESS);
		c->address = k->address;
		c->pc_only = !!(k->flags & SF_CRASH_PC_ONLY);
		c->time_ns = k->ns > p->start_ns ? k->ns - p->start_ns : 0;
		session_str(c->thread, SF_NAME_LEN, k->name, SF_NAME_LEN);
		if (k->trace && ((err = report_modmap_stack(r, mm, s, k->trace, &all)) || (err = split_crash(c, &all)))) {
			free(all.ids);
			goto out;
		}
	}
	err = build_dumps(r, rp, s, p, cp, mm);
out:
	report_modmap_free(mm);
	return err;
}

void report_cpu_free(struct rprocess *rp)
{
	struct rcpu *c = &rp->cpu;

	for (size_t i = 0; i < c->nstacks; i++)
		free(c->stacks[i].stack.ids);
	free(c->stacks);
	free(c->fns);
	free(c->by_total);
	for (size_t i = 0; i < c->nthreads; i++)
		free(c->threads[i].stacks);
	free(c->threads);
	free(rp->crash.stack.ids);
	free(rp->crash.runtime.ids);
	for (size_t i = 0; i < rp->ndumps; i++) {
		for (size_t k = 0; k < rp->dumps[i].nthreads; k++)
			free(rp->dumps[i].threads[k].stack.ids);
		free(rp->dumps[i].threads);
	}
	free(rp->dumps);
	memset(c, 0, sizeof(*c));
}
