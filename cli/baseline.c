/*
 * ptrace_reset(): figures from the reset on (baseline.h, docs/api.md).
 *
 * At the reset the agent copied the image into the image (struct
 * sf_api.baseline). Records never move and are only appended, so a
 * record at offset X of the image was at offset X of the copy if it
 * existed then: subtracting record by record leaves what happened after.
 * Tables that were replaced by bigger ones meanwhile (allocation sites,
 * CPU stacks) are matched by trace id instead. The copy is memory the
 * program could write: it is read only within its bounds, and every
 * difference saturates at 0.
 */
#include "baseline.h"

#include <stddef.h>
#include <string.h>

struct bl {
	const char *base;   /* the copy */
	uint64_t len;
	uint64_t tick;      /* the function clock at the reset */
	/* Earlier baselines the copy left out: image ranges, by offset. */
	uint32_t nholes;
	sf_off hole_off[SF_API_HOLES];
	uint64_t hole_len[SF_API_HOLES];
};

/* The record of image offset off (len bytes) in the copy: past each hole
 * below it, that much lower; NULL in or across a hole, or past the copy. */
static const void *at(const struct bl *b, sf_off off, size_t len)
{
	uint64_t packed = off;

	if (!off || (off & 7))
		return NULL;
	for (uint32_t k = 0; k < b->nholes; k++) {
		if (off + len > b->hole_off[k] && off < b->hole_off[k] + b->hole_len[k])
			return NULL;
		if (b->hole_off[k] + b->hole_len[k] <= off)
			packed -= b->hole_len[k];
	}
	if (packed > b->len || len > b->len - packed)
		return NULL;
	return b->base + packed;
}

static void sub(uint64_t *v, uint64_t by)
{
	*v = *v > by ? *v - by : 0;
}

static void sub_site(struct sf_site *x, const struct sf_site *y)
{
	sub(&x->allocs, y->allocs);
	sub(&x->bytes, y->bytes);
	sub(&x->frees, y->frees);
	sub(&x->freed_bytes, y->freed_bytes);
	sub(&x->temporary, y->temporary);
}

/* The site of trace in a copied table (open addressing as the agent's). */
static const struct sf_site *find_site(const struct sf_site *tab, uint32_t cap, uint32_t trace)
{
	if (!tab || !cap || (cap & (cap - 1)))
		return NULL;
	for (uint32_t i = sf_trace_slot(trace, cap - 1), k = 0; k < cap; i = (i + 1) & (cap - 1), k++) {
		if (tab[i].trace == trace)
			return &tab[i];
		if (!tab[i].trace)
			return NULL;
	}
	return NULL;
}

static void sites(struct session *s, const struct bl *b, const struct sf_process *p, struct sf_thread *t,
		  const struct sf_thread *bt)
{
	uint32_t cap = t->sites_cap, bcap = bt->sites_cap;
	struct sf_site *tab = (struct sf_site *)session_get(s, p, SP_SITES, t->sites, (size_t)cap * sizeof(*tab));
	const struct sf_site *btab = bcap < (1u << 28) ? at(b, bt->sites, (size_t)bcap * sizeof(*btab)) : NULL;

	sub_site(&t->nostack, &bt->nostack);
	for (uint32_t i = 0; tab && i < cap; i++) {
		const struct sf_site *y;

		if (!tab[i].trace)
			continue;
		/* The same table (not replaced since): slot by slot. */
		y = t->sites == bt->sites && i < bcap && btab && btab[i].trace == tab[i].trace
			    ? &btab[i]
			    : find_site(btab, bcap, tab[i].trace);
		if (y)
			sub_site(&tab[i], y);
	}
}

static void cpu(struct session *s, const struct bl *b, const struct sf_process *p, const struct sf_thread *t)
{
	struct sf_cpu_thread *c = (struct sf_cpu_thread *)session_get(s, p, SP_CPU, t->cpu, sizeof(*c));
	const struct sf_cpu_thread *bc = at(b, t->cpu, sizeof(*bc));
	struct sf_cpu_table *tab;
	const struct sf_cpu_table *btab;

	if (!c || !bc)
		return;
	sub(&c->samples, bc->samples);
	sub(&c->signals, bc->signals);
	sub(&c->nostack, bc->nostack);
	sub(&c->agent, bc->agent);
	/* base: the samples when the current owner claimed the record. */
	sub(&c->base, bc->samples);
	tab = (struct sf_cpu_table *)session_get(s, p, SP_CPU, c->table, sizeof(*tab));
	btab = at(b, bc->table, sizeof(*btab));
	if (!tab || !btab || !tab->cap || tab->cap > (1u << 28) || !btab->cap || btab->cap > (1u << 28) ||
	    (btab->cap & (btab->cap - 1)) || !session_get(s, p, SP_CPU, c->table, sizeof(*tab) + (size_t)tab->cap * sizeof(tab->slots[0])) ||
	    !at(b, bc->table, sizeof(*btab) + (size_t)btab->cap * sizeof(btab->slots[0])))
		return;
	for (uint32_t i = 0; i < tab->cap; i++) {
		uint32_t tr = tab->slots[i].trace, m = btab->cap - 1;

		if (!tr)
			continue;
		for (uint32_t j = sf_trace_slot(tr, m), k = 0; k <= m; j = (j + 1) & m, k++) {
			if (btab->slots[j].trace == tr) {
				sub(&tab->slots[i].samples, btab->slots[j].samples);
				break;
			}
			if (!btab->slots[j].trace)
				break;
		}
	}
}

/* Keep the calls that started after the reset. */
static void slow_filter(struct sf_fcall *v, uint32_t *n, uint32_t cap, uint64_t tick)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < *n && i < cap; i++)
		if (v[i].start >= tick)
			v[k++] = v[i];
	*n = k;
}

static void funcs(struct session *s, const struct bl *b, const struct sf_process *p, const struct sf_thread *t)
{
	struct sf_fthread *th = (struct sf_fthread *)session_get(s, p, SP_FUNC, t->func, sizeof(*th));
	const struct sf_fthread *bth = at(b, t->func, sizeof(*bth));
	uint64_t n;

	if (!th)
		return;
	slow_filter(th->slow, &th->nslow, SF_FSLOW_THREAD, b->tick);
	if (bth) {
		sub(&th->unmatched_exits, bth->unmatched_exits);
		sub(&th->unwound, bth->unwound);
		sub(&th->beyond_depth, bth->beyond_depth);
		sub(&th->in_hooks, bth->in_hooks);
		sub(&th->dropped, bth->dropped);
		sub(&th->paused_calls, bth->paused_calls);
		sub(&th->unmatched_region_ends, bth->unmatched_region_ends);
	}
	n = session_list_len(s, p, SP_FUNC, th->funcs, sizeof(struct sf_func), offsetof(struct sf_func, next));
	for (struct sf_func *fe = (struct sf_func *)session_at(s, th->funcs, sizeof(*fe)); fe && n;
	     fe = (struct sf_func *)session_at(s, fe->next, sizeof(*fe)), n--) {
		const struct sf_func *bf = at(b, (sf_off)((const char *)fe - (const char *)s->base), sizeof(*bf));
		unsigned lo = SF_FH_BUCKETS, hi = 0;

		slow_filter(fe->slow, &fe->nslow, SF_FSLOW_FUNC, b->tick);
		if (!bf || bf->addr != fe->addr)
			continue;
		sub(&fe->calls, bf->calls);
		sub(&fe->recursive, bf->recursive);
		sub(&fe->total, bf->total);
		sub(&fe->self, bf->self);
		sub(&fe->incl_allocs, bf->incl_allocs);
		sub(&fe->incl_bytes, bf->incl_bytes);
		sub(&fe->self_allocs, bf->self_allocs);
		sub(&fe->self_bytes, bf->self_bytes);
		sub(&fe->unwound, bf->unwound);
		fe->sumsq = fe->sumsq > bf->sumsq ? fe->sumsq - bf->sumsq : 0;
		for (unsigned k = 0; k < SF_FH_BUCKETS; k++) {
			/* Counts in units of 2^hist_shift: the copy's in its own. */
			uint64_t by = bf->hist_shift <= fe->hist_shift && fe->hist_shift - bf->hist_shift < 32
					      ? bf->hist[k] >> (fe->hist_shift - bf->hist_shift)
					      : 0;

			fe->hist[k] = fe->hist[k] > by ? fe->hist[k] - (uint32_t)by : 0;
			if (fe->hist[k]) {
				lo = k < lo ? k : lo;
				hi = k;
			}
		}
		/* min and max of the calls since: their buckets' bounds (the
		 * exact ones are of the whole run). */
		if (lo == SF_FH_BUCKETS) {
			fe->min = UINT64_MAX;
			fe->max = 0;
		} else {
			uint64_t l = lo < SF_FH_SUB ? lo : (uint64_t)(SF_FH_SUB + (lo & 15)) << ((lo >> 4) - 1);
			uint64_t h = hi < SF_FH_SUB ? hi : ((uint64_t)(SF_FH_SUB + (hi & 15) + 1) << ((hi >> 4) - 1)) - 1;

			if (fe->min < l)
				fe->min = l;
			if (fe->max > h)
				fe->max = h;
			if (fe->min > fe->max)
				fe->min = fe->max;
		}
	}
	/* The call tree: chunks in order, nodes by index. */
	n = session_list_len(s, p, SP_CALL_TREE, th->nodes, sizeof(struct sf_fchunk), offsetof(struct sf_fchunk, next));
	for (struct sf_fchunk *c = (struct sf_fchunk *)session_at(s, th->nodes, sizeof(*c)); c && n;
	     c = (struct sf_fchunk *)session_at(s, c->next, sizeof(*c)), n--) {
		sf_off off = (sf_off)((const char *)c - (const char *)s->base);
		const struct sf_fchunk *bc = at(b, off, sizeof(*bc));
		uint32_t used = c->used < c->cap ? c->used : c->cap, bused;

		if (!bc || !session_at(s, off, sizeof(*c) + (size_t)used * sizeof(c->nodes[0])))
			continue;
		bused = bc->used < used ? bc->used : used;
		if (!at(b, off, sizeof(*bc) + (size_t)bused * sizeof(bc->nodes[0])))
			continue;
		for (uint32_t i = 0; i < bused; i++) {
			sub(&c->nodes[i].calls, bc->nodes[i].calls);
			sub(&c->nodes[i].total, bc->nodes[i].total);
			sub(&c->nodes[i].self, bc->nodes[i].self);
			sub(&c->nodes[i].allocs, bc->nodes[i].allocs);
			sub(&c->nodes[i].bytes, bc->nodes[i].bytes);
		}
	}
	/* Owners logged before the reset are all before it. */
	n = session_list_len(s, p, SP_FUNC, th->owners, sizeof(struct sf_fowner), offsetof(struct sf_fowner, next));
	for (struct sf_fowner *o = (struct sf_fowner *)session_at(s, th->owners, sizeof(*o)); o && n;
	     o = (struct sf_fowner *)session_at(s, o->next, sizeof(*o)), n--)
		if (at(b, (sf_off)((const char *)o - (const char *)s->base), sizeof(*o)))
			o->calls = o->ticks = 0;
}

static void process(struct session *s, struct sf_process *p, struct sf_api *a)
{
	const struct sf_fproc *fp = session_get(s, p, SP_FUNC, p->func, sizeof(*fp));
	struct bl b = {.base = NULL, .len = a->baseline_len, .tick = a->reset_tick};
	uint64_t below = 0;
	const struct sf_process *bp;
	const struct sf_api *ba;
	sf_off head;
	uint64_t n;

	(void)fp;
	if (!a->baseline_len || !session_get(s, p, SP_PROCESS, a->baseline, a->baseline_len))
		return;
	b.base = (const char *)s->base + a->baseline;
	/* The holes below the copy, in order, not overlapping: else it is
	 * not a copy this reader understands. */
	for (uint32_t k = 0; k < a->nholes && k < SF_API_HOLES; k++) {
		if (a->hole_off[k] >= a->baseline)
			break;
		if (a->hole_off[k] < below || a->hole_len[k] > a->baseline - a->hole_off[k]) {
			session_corrupt(s, p, SP_PROCESS);
			return;
		}
		b.hole_off[b.nholes] = a->hole_off[k];
		b.hole_len[b.nholes++] = a->hole_len[k];
		below = a->hole_off[k] + a->hole_len[k];
	}
	bp = at(&b, (sf_off)((const char *)p - (const char *)s->base), sizeof(*bp));
	head = p->threads;
	n = session_list_len(s, p, SP_THREADS, head, sizeof(struct sf_thread), offsetof(struct sf_thread, next));
	for (struct sf_thread *t = (struct sf_thread *)session_at(s, head, sizeof(*t)); t && n;
	     t = (struct sf_thread *)session_at(s, t->next, sizeof(*t)), n--) {
		const struct sf_thread *bt = at(&b, (sf_off)((const char *)t - (const char *)s->base), sizeof(*bt));

		/* Frees of blocks from before are no frees of the figures
		 * since (they were counted apart). */
		t->old_frees = t->old_freed_bytes = 0;
		funcs(s, &b, p, t);
		if (!bt)
			continue;
		sub(&t->allocs, bt->allocs);
		sub(&t->frees, bt->frees);
		sub(&t->bytes, bt->bytes);
		sub(&t->freed_bytes, bt->freed_bytes);
		sub(&t->temporary, bt->temporary);
		sub(&t->failed, bt->failed);
		sub(&t->sampled, bt->sampled);
		sub(&t->base_allocs, bt->allocs);
		sub(&t->base_bytes, bt->bytes);
		sub(&t->base_frees, bt->frees);
		for (unsigned k = 0; k < SF_HIST_BUCKETS; k++)
			sub(&t->hist[k], bt->hist[k]);
		sites(s, &b, p, t, bt);
		cpu(s, &b, p, t);
	}
	n = session_list_len(s, p, SP_THREAD_LOG, p->thread_log, sizeof(struct sf_thread_log),
			     offsetof(struct sf_thread_log, next));
	for (struct sf_thread_log *l = (struct sf_thread_log *)session_at(s, p->thread_log, sizeof(*l)); l && n;
	     l = (struct sf_thread_log *)session_at(s, l->next, sizeof(*l)), n--)
		if (at(&b, (sf_off)((const char *)l - (const char *)s->base), sizeof(*l)))
			l->allocs = l->bytes = l->frees = 0;
	{
		struct sf_cpu_proc *cp = (struct sf_cpu_proc *)session_get(s, p, SP_CPU, p->cpu, sizeof(*cp));

		n = cp ? session_list_len(s, p, SP_CPU, cp->owners, sizeof(struct sf_cpu_owner),
					  offsetof(struct sf_cpu_owner, next))
		       : 0;
		for (struct sf_cpu_owner *o = cp ? (struct sf_cpu_owner *)session_at(s, cp->owners, sizeof(*o)) : NULL; o && n;
		     o = (struct sf_cpu_owner *)session_at(s, o->next, sizeof(*o)), n--)
			if (at(&b, (sf_off)((const char *)o - (const char *)s->base), sizeof(*o)))
				o->samples = 0;
	}
	if (bp) {
		/* The peak since: of every block, less what was live then. */
		uint64_t live = bp->live_bytes > 0 ? (uint64_t)bp->live_bytes : 0;

		sub(&p->peak_bytes, live);
		sub(&p->inherited_frees, bp->inherited_frees);
		sub(&p->inherited_bytes, bp->inherited_bytes);
		sub(&p->foreign_frees, bp->foreign_frees);
	}
	ba = at(&b, (sf_off)((const char *)a - (const char *)s->base), sizeof(*ba));
	if (ba) {
		sub(&a->paused_allocs, ba->paused_allocs);
		sub(&a->paused_bytes, ba->paused_bytes);
		sub(&a->paused_samples, ba->paused_samples);
	}
}

int baseline_apply(struct session *s)
{
	int n = 0;

	if (!s || !s->base)
		return 0;
	session_read_begin(s);
	for (uint32_t i = 0; i < session_nprocs(s); i++) {
		struct sf_process *p = (struct sf_process *)session_process(s, i);
		struct sf_api *a;

		if (__atomic_load_n(&p->state, __ATOMIC_ACQUIRE) < SF_PROC_RUNNING)
			continue;
		a = (struct sf_api *)session_get(s, p, SP_PROCESS, p->api, sizeof(*a));
		if (!a || !a->baseline || a->baseline_applied)
			continue;
		process(s, p, a);
		a->baseline_applied = 1;
		n++;
	}
	return n;
}
