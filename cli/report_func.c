/*
 * Function timing in the report model: the agent's per-thread function
 * tables and calling-context trees (session_format.h, struct sf_fthread)
 * merged per process, symbolized, filtered and turned into ns.
 *
 * Steps, per process: collect the function entries of every thread
 * record; symbolize each distinct address and merge the addresses that
 * are the same code (same module file and offset: a library loaded twice);
 * sum the figures per function; merge the threads' trees by path; apply
 * --filter/--exclude by folding each hidden function's node into its
 * nearest shown ancestor (its self time and allocations go there, its
 * callees hang from there), as if it had not been instrumented; derive
 * callers and callees from the folded tree.
 *
 * Everything read from the image is checked (session.h): offsets are
 * bounds-checked, each list is counted once (session_list_len: no loop)
 * and walked that many nodes, figures that no run can produce mark the
 * record corrupt and leave it out. A run killed in the middle of an
 * update, or a program that wrote over the image, must not crash the
 * report nor fill it with garbage.
 */
#include "report.h"
#include "timeline.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "symbolize.h"

#define RF_MAX_SYM_FRAMES 8
#define RF_MAX_NS_PER_TICK 1e6    /* a clock tick longer than 1 ms is not one */
#define RF_SLOWEST 20u		    /* slowest calls overall */
#define RF_RECALIBRATE_NS 50000000u /* use the exit calibration over runs this long */

/* u64 -> size_t, open addressing; key 0 is never stored. */
struct umap {
	uint64_t *k;
	size_t *v;
	size_t cap, n;
};

static uint64_t umix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static int umap_grow(struct umap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 256;
	uint64_t *nk = calloc(ncap, sizeof(*nk));
	size_t *nv = calloc(ncap, sizeof(*nv));

	if (!nk || !nv) {
		free(nk);
		free(nv);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++) {
		size_t j;

		if (!m->k[i])
			continue;
		for (j = umix(m->k[i]) & (ncap - 1); nk[j]; j = (j + 1) & (ncap - 1))
			;
		nk[j] = m->k[i];
		nv[j] = m->v[i];
	}
	free(m->k);
	free(m->v);
	m->k = nk;
	m->v = nv;
	m->cap = ncap;
	return 0;
}

/* The value slot of key; with create, a new slot holds SIZE_MAX. NULL:
 * absent (without create) or out of memory. */
static size_t *umap_get(struct umap *m, uint64_t key, int create)
{
	size_t i;

	if (create && (m->n + 1) * 2 > m->cap && umap_grow(m))
		return NULL;
	if (!m->cap)
		return NULL;
	for (i = umix(key) & (m->cap - 1); m->k[i]; i = (i + 1) & (m->cap - 1))
		if (m->k[i] == key)
			return &m->v[i];
	if (!create)
		return NULL;
	m->k[i] = key;
	m->v[i] = SIZE_MAX;
	m->n++;
	return &m->v[i];
}

static void umap_free(struct umap *m)
{
	free(m->k);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* Key of a (parent node, function) pair. */
static uint64_t pair_key(size_t parent, size_t func)
{
	return ((uint64_t)(parent + 1) << 32) ^ (uint64_t)(func + 1);
}

/* --- helpers shared with the renderers and tests ------------------------ */

const char *report_ns(uint64_t ns, char *buf, size_t len)
{
	if (ns < 1000)
		snprintf(buf, len, "%llu ns", (unsigned long long)ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.1f us", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.2f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.3f s", ns / 1e9);
	return buf;
}

void report_func_bucket(unsigned b, uint64_t *lo, uint64_t *hi)
{
	unsigned e, sub;

	if (b < SF_FH_SUB) {
		*lo = *hi = b;
		return;
	}
	e = (b >> 4) + 3;
	sub = b & 15;
	*lo = (uint64_t)(16 + sub) << (e - 4);
	*hi = *lo + (1ull << (e - 4)) - 1;
	if (b == SF_FH_BUCKETS - 1)
		*hi = UINT64_MAX;
}

uint64_t report_func_quantile(const uint64_t *hist, double p, uint64_t min, uint64_t max)
{
	uint64_t n = 0, rank, cum = 0, lo, hi, v;

	for (unsigned b = 0; b < SF_FH_BUCKETS; b++)
		n += hist[b];
	if (!n)
		return 0;
	rank = (uint64_t)ceil(p * (double)n);
	if (rank < 1)
		rank = 1;
	if (rank >= n)
		return max; /* the largest value is known exactly */
	for (unsigned b = 0; b < SF_FH_BUCKETS; b++) {
		cum += hist[b];
		if (cum < rank)
			continue;
		report_func_bucket(b, &lo, &hi);
		v = hi == UINT64_MAX ? max : lo + (hi - lo) / 2;
		if (v < min)
			v = min;
		if (v > max)
			v = max;
		return v;
	}
	return max;
}

int report_func_glob_match(const char *globs, const char *name)
{
	/* A C++ name is matched without its return type (names.h). */
	return names_glob_match(globs, name);
}

/* --- symbolization ------------------------------------------------------ */

/* A distinct function entry of the process: an address in one map
 * generation (the same address in two generations is code of two
 * different modules, one unloaded and one mapped over it). */
struct fraw {
	uint64_t addr;
	uint32_t gen;	      /* sf_func.gen */
	struct sym_frame sym; /* module and offset say where it is */
	size_t id;	      /* the merged function */
};

static int str_cmp(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

/* One function: the same module file and offset (a library loaded twice
 * is one function), or the variants of one constructor or destructor
 * (C1 and C2 bodies gcc did not alias: virtual bases) at the same source
 * position. Order: module, then constructors by name, then offset. */
static int fraw_cmp(const void *a, const void *b)
{
	const struct fraw *x = *(const struct fraw *const *)a, *y = *(const struct fraw *const *)b;
	int c = str_cmp(x->sym.module, y->sym.module);

	if (c)
		return c;
	if (!x->sym.entity != !y->sym.entity)
		return x->sym.entity ? -1 : 1;
	if (x->sym.entity) {
		if ((c = strcmp(x->sym.entity, y->sym.entity)) || (c = str_cmp(x->sym.file, y->sym.file)))
			return c;
		if (x->sym.line != y->sym.line)
			return x->sym.line < y->sym.line ? -1 : 1;
		return 0;
	}
	return x->sym.offset < y->sym.offset ? -1 : x->sym.offset > y->sym.offset;
}

/* --- aggregation -------------------------------------------------------- */

struct fagg {
	uint64_t calls, recursive, unwound, total, self, min, max;
	uint64_t allocs, bytes, sallocs, sbytes;
	uint64_t folded_self, folded_allocs, folded_bytes; /* from hidden callees */
	double sumsq;
	uint64_t hist[SF_FH_BUCKETS];
	struct sf_fcall slow[SF_FSLOW_FUNC];
	size_t nslow;
	int shown;
	size_t out; /* index in rfuncs.funcs */
};

/* Keep c among the n longest of v (capacity cap), longest first. */
static void slow_keep(struct sf_fcall *v, size_t *n, size_t cap, const struct sf_fcall *c)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (v[i].ticks == c->ticks && v[i].start == c->start && v[i].tid == c->tid)
			return; /* the same call, seen twice */
	if (*n == cap && v[cap - 1].ticks >= c->ticks)
		return;
	i = *n < cap ? (*n)++ : cap - 1;
	while (i > 0 && v[i - 1].ticks < c->ticks) {
		v[i] = v[i - 1];
		i--;
	}
	v[i] = *c;
}

struct fbuild {
	struct report *r;
	const struct session *s;
	const struct sf_process *p;
	const struct sf_fproc *fp;
	struct rfuncs *F;
	double ratio; /* ns per tick */
	const struct sf_fthread **th;
	const struct sf_thread **rec;
	uint64_t *nfe;       /* per thread: entries of th->funcs to walk */
	uint64_t *nchunks;   /* per thread: chunks of th->nodes to walk */
	size_t nth;
	struct fraw *raw; /* distinct (address, generation) pairs */
	size_t nraw;
	size_t *by_addr;     /* open addressing: raw index + 1 by (addr, gen), 0 empty */
	size_t by_addr_cap;  /* 0 or a power of 2 */
	struct umap by_off;  /* image offset of a struct sf_func -> merged function */
	struct fagg *agg;    /* merged functions */
	size_t nagg;
	size_t *first;	     /* merged function -> its first address in raw */
	struct rfnode *tree; /* merged tree, before filtering */
	size_t ntree, tree_cap;
	struct umap tree_map; /* (parent, function) -> tree node */
	struct umap node_map; /* image offset of a struct sf_fnode -> tree node */
};

/* Keep s (malloc'd) for the model's lifetime: a string F owns. NULL
 * when out of memory (s freed). */
static const char *own(struct rfuncs *F, char *s)
{
	if (!s)
		return NULL;
	if (F->nowned == F->owned_cap) {
		size_t cap = F->owned_cap ? F->owned_cap * 2 : 16;
		char **no = realloc(F->owned, cap * sizeof(*no));

		if (!no) {
			free(s);
			return NULL;
		}
		F->owned = no;
		F->owned_cap = cap;
	}
	return F->owned[F->nowned++] = s;
}

/* The name of region fn of the process, read from its table; NULL when
 * the table does not hold it. */
static const char *region_name(struct fbuild *b, uint64_t fn)
{
	const struct sf_regions *t;
	const struct sf_region *x;
	uint64_t id = (fn - SF_REGION_BASE) >> 4;
	char name[SF_REGION_NAME];

	if (!b->fp || !id || id > SF_REGION_CAP)
		return NULL;
	t = session_get(b->s, b->p, SP_FUNC, __atomic_load_n(&b->fp->regions, __ATOMIC_ACQUIRE), sizeof(*t));
	if (!t)
		return NULL;
	x = session_get(b->s, b->p, SP_FUNC, __atomic_load_n(&t->slots[id - 1], __ATOMIC_ACQUIRE), sizeof(*x));
	if (!x)
		return NULL;
	session_str(name, sizeof(name), x->name, sizeof(x->name));
	return own(b->F, strdup(name));
}

/* The metadata text at offset off of the image, NULL for none. */
static const char *meta_text(struct fbuild *b, sf_off off)
{
	char text[SF_META_LEN];
	const char *src;
	size_t room;

	if (!off || off >= b->s->size)
		return NULL;
	room = b->s->size - off < SF_META_LEN ? b->s->size - off : SF_META_LEN;
	src = session_get(b->s, b->p, SP_FUNC, off & ~(sf_off)7, 8) ? (const char *)b->s->base + off : NULL;
	if (!src)
		return NULL;
	session_str(text, sizeof(text), src, room);
	return own(b->F, strdup(text));
}

static void fraw_symbolize(struct fbuild *b, struct report *r, struct fraw *f, const struct report_modmap *mm)
{
	struct sym_frame fr[RF_MAX_SYM_FRAMES];
	/* An entry address, not a return address; the outermost frame is the
	 * function itself, the others code inlined at its start. */
	int n;

	if (sf_is_region(f->addr)) {
		memset(&f->sym, 0, sizeof(f->sym));
		f->sym.function = region_name(b, f->addr);
		f->sym.offset = f->addr;
		return;
	}
	n = report_modmap_addr(r, mm, f->addr, f->gen, 0, fr, RF_MAX_SYM_FRAMES);
	f->sym = fr[0];
	f->sym.function = fr[n - 1].function;
	f->sym.file = fr[n - 1].file;
	f->sym.line = fr[n - 1].line;
	f->sym.entity = fr[n - 1].entity;
	f->sym.inlined = 0;
}


static uint64_t tick_ns(const struct fbuild *b, uint64_t t)
{
	double v = (double)t * b->ratio + 0.5;

	return v >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)v;
}

static int64_t start_ns(const struct fbuild *b, uint64_t start)
{
	double rel = ((double)start - (double)b->fp->tick0) * b->ratio +
		     ((double)b->fp->mono0 - (double)b->p->start_ns);

	/* Clamped: the image's figures may be anything. */
	if (!(rel > -9.2e18))
		return INT64_MIN;
	if (rel > 9.2e18)
		return INT64_MAX;
	return (int64_t)llround(rel);
}

/* A figure in ns as a double the views can format and turn into u64:
 * finite, in [0, 1e19]. */
static double ns_double(double v)
{
	if (!(v > 0))
		return 0;
	return v < 1e19 ? v : 1e19;
}

/* Can fe be what the agent wrote? */
static int fe_ok(const struct sf_func *fe)
{
	return fe->calls <= SESSION_MAX_COUNT && fe->recursive <= fe->calls && fe->unwound <= SESSION_MAX_COUNT &&
	       isfinite(fe->sumsq) && fe->sumsq >= 0 && fe->incl_allocs <= SESSION_MAX_COUNT &&
	       fe->self_allocs <= SESSION_MAX_COUNT && fe->incl_bytes <= SESSION_MAX_BYTES &&
	       fe->self_bytes <= SESSION_MAX_BYTES && fe->hist_shift < 64;
}

static uint64_t raw_hash(uint64_t addr, uint32_t gen)
{
	return umix(addr ^ ((uint64_t)gen * 0x9e3779b97f4a7c15ull));
}

/* The by_addr slot of (addr, gen): holding its raw index + 1, or 0 where
 * it belongs. by_addr_cap must be > 0. */
static size_t *raw_slot(const struct fbuild *b, uint64_t addr, uint32_t gen)
{
	size_t mask = b->by_addr_cap - 1, i;

	for (i = raw_hash(addr, gen) & mask; b->by_addr[i]; i = (i + 1) & mask) {
		const struct fraw *f = &b->raw[b->by_addr[i] - 1];

		if (f->addr == addr && f->gen == gen)
			break;
	}
	return &b->by_addr[i];
}

/* Index in raw of (addr, gen), SIZE_MAX when absent. */
static size_t raw_find(const struct fbuild *b, uint64_t addr, uint32_t gen)
{
	size_t v = b->by_addr_cap ? *raw_slot(b, addr, gen) : 0;

	return v ? v - 1 : SIZE_MAX;
}

/* Room for one more entry in by_addr (kept at most half full). */
static int raw_reserve(struct fbuild *b)
{
	size_t cap = b->by_addr_cap ? b->by_addr_cap * 2 : 256, *old = b->by_addr, ocap = b->by_addr_cap;

	if ((b->nraw + 1) * 2 <= b->by_addr_cap)
		return 0;
	b->by_addr = calloc(cap, sizeof(*b->by_addr));
	if (!b->by_addr) {
		b->by_addr = old;
		return -ENOMEM;
	}
	b->by_addr_cap = cap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i])
			*raw_slot(b, b->raw[old[i] - 1].addr, b->raw[old[i] - 1].gen) = old[i];
	free(old);
	return 0;
}

/* The thread records with function timing, and how far each of their
 * lists can be walked (counted once here for every later pass). */
static int collect_threads(struct fbuild *b)
{
	const struct session *s = b->s;
	size_t cap = 0;
	sf_off head = __atomic_load_n(&b->p->threads, __ATOMIC_ACQUIRE);
	uint64_t n = session_list_len(s, b->p, SP_THREADS, head, sizeof(struct sf_thread), offsetof(struct sf_thread, next));

	for (const struct sf_thread *t = session_at(s, head, sizeof(*t)); t && n;
	     t = session_at(s, __atomic_load_n(&t->next, __ATOMIC_ACQUIRE), sizeof(*t)), n--) {
		const struct sf_fthread *th = session_get(s, b->p, SP_FUNC, __atomic_load_n(&t->func, __ATOMIC_ACQUIRE),
							  sizeof(*th));

		if (!th)
			continue;
		if (b->nth == cap) {
			cap = cap ? cap * 2 : 16;
			const struct sf_fthread **nt = realloc(b->th, cap * sizeof(*nt));
			const struct sf_thread **nr = realloc(b->rec, cap * sizeof(*nr));
			uint64_t *nf = realloc(b->nfe, cap * sizeof(*nf));
			uint64_t *nc = realloc(b->nchunks, cap * sizeof(*nc));
			if (nt)
				b->th = nt;
			if (nr)
				b->rec = nr;
			if (nf)
				b->nfe = nf;
			if (nc)
				b->nchunks = nc;
			if (!nt || !nr || !nf || !nc)
				return -ENOMEM;
		}
		b->nfe[b->nth] = session_list_len(s, b->p, SP_FUNC, __atomic_load_n(&th->funcs, __ATOMIC_ACQUIRE),
						  sizeof(struct sf_func), offsetof(struct sf_func, next));
		b->nchunks[b->nth] = session_list_len(s, b->p, SP_CALL_TREE, th->nodes, sizeof(struct sf_fchunk),
						      offsetof(struct sf_fchunk, next));
		b->th[b->nth] = th;
		b->rec[b->nth++] = t;
	}
	return 0;
}

/* The next function entry of a thread's list. */
static const struct sf_func *fe_next(const struct fbuild *b, const struct sf_func *fe)
{
	return session_at(b->s, __atomic_load_n(&fe->next, __ATOMIC_ACQUIRE), sizeof(*fe));
}

static const struct sf_func *fe_first(const struct fbuild *b, size_t t)
{
	return session_at(b->s, __atomic_load_n(&b->th[t]->funcs, __ATOMIC_ACQUIRE), sizeof(struct sf_func));
}

/* Chunk c of a thread's tree, with its nodes in bounds; *used gets how
 * many are written (read once). NULL when it is not a whole chunk. */
static const struct sf_fchunk *chunk_at(const struct fbuild *b, sf_off off, uint32_t *used)
{
	const struct sf_fchunk *c = session_at(b->s, off, sizeof(*c));
	uint32_t u, cap;

	if (!c)
		return NULL;
	u = __atomic_load_n(&c->used, __ATOMIC_ACQUIRE);
	cap = c->cap;
	if (u > cap || !session_at(b->s, off, sizeof(*c) + (size_t)cap * sizeof(c->nodes[0]))) {
		session_corrupt(b->s, b->p, SP_CALL_TREE);
		return NULL;
	}
	*used = u;
	return c;
}

/* Every function entry of every thread: distinct addresses, symbolized,
 * merged into functions. */
static int collect_funcs(struct fbuild *b)
{
	struct report_modmap *mm = NULL;
	size_t cap = 0;
	struct fraw **order = NULL;
	int err = 0;

	for (size_t t = 0; t < b->nth; t++) {
		uint64_t left = b->nfe[t];

		for (const struct sf_func *fe = fe_first(b, t); fe && left; fe = fe_next(b, fe), left--) {
			if (!fe_ok(fe)) {
				session_corrupt(b->s, b->p, SP_FUNC);
				continue;
			}
			if (raw_find(b, fe->addr, fe->gen) != SIZE_MAX)
				continue;
			if (raw_reserve(b))
				return -ENOMEM;
			if (b->nraw == cap) {
				struct fraw *nr = realloc(b->raw, (cap = cap ? cap * 2 : 64) * sizeof(*nr));
				if (!nr)
					return -ENOMEM;
				b->raw = nr;
			}
			b->raw[b->nraw] = (struct fraw){.addr = fe->addr, .gen = fe->gen};
			*raw_slot(b, fe->addr, fe->gen) = ++b->nraw;
		}
	}
	if ((err = report_modmap_new(b->r, b->s, b->p, &mm)))
		goto out;
	for (size_t i = 0; i < b->nraw; i++)
		fraw_symbolize(b, b->r, &b->raw[i], mm);

	/* The same module file and offset is one function, and so are the
	 * variants of one constructor (fraw_cmp). */
	order = calloc(b->nraw ? b->nraw : 1, sizeof(*order));
	b->agg = calloc(b->nraw ? b->nraw : 1, sizeof(*b->agg));
	if (!order || !b->agg) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < b->nraw; i++)
		order[i] = &b->raw[i];
	report_qsort(order, b->nraw, sizeof(*order), fraw_cmp);
	b->first = calloc(b->nraw ? b->nraw : 1, sizeof(*b->first));
	if (!b->first) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < b->nraw; i++) {
		if (i && fraw_cmp(&order[i - 1], &order[i]) == 0) {
			order[i]->id = order[i - 1]->id;
			continue;
		}
		order[i]->id = b->nagg;
		b->first[b->nagg] = (size_t)(order[i] - b->raw);
		b->agg[b->nagg].min = UINT64_MAX;
		b->nagg++;
	}
out:
	free(order);
	report_modmap_free(mm);
	return err;
}

/* Sum each thread's entries into its function. */
static int sum_funcs(struct fbuild *b)
{
	for (size_t t = 0; t < b->nth; t++) {
		uint64_t left = b->nfe[t];

		for (const struct sf_func *fe = fe_first(b, t); fe && left; fe = fe_next(b, fe), left--) {
			size_t ri, id, *o;
			struct fagg *a;
			unsigned shift = fe->hist_shift < 32 ? fe->hist_shift : 31;

			if (!fe_ok(fe) || (ri = raw_find(b, fe->addr, fe->gen)) == SIZE_MAX)
				continue; /* corrupt, or changed since collect_funcs: a live image */
			id = b->raw[ri].id;
			a = &b->agg[id];

			o = umap_get(&b->by_off, (uint64_t)((const char *)fe - (const char *)b->s->base), 1);
			if (!o)
				return -ENOMEM;
			*o = id;
			a->calls = session_add(a->calls, fe->calls);
			a->recursive = session_add(a->recursive, fe->recursive);
			a->unwound = session_add(a->unwound, fe->unwound);
			a->total = session_add(a->total, fe->total);
			a->self = session_add(a->self, fe->self);
			if (fe->min < a->min)
				a->min = fe->min;
			if (fe->max > a->max)
				a->max = fe->max;
			a->sumsq += fe->sumsq;
			a->allocs = session_add(a->allocs, fe->incl_allocs);
			a->bytes = session_add(a->bytes, fe->incl_bytes);
			a->sallocs = session_add(a->sallocs, fe->self_allocs);
			a->sbytes = session_add(a->sbytes, fe->self_bytes);
			for (unsigned k = 0; k < SF_FH_BUCKETS; k++)
				a->hist[k] = session_add(a->hist[k], (uint64_t)fe->hist[k] << shift);
			for (uint32_t k = 0; k < fe->nslow && k < SF_FSLOW_FUNC; k++)
				slow_keep(a->slow, &a->nslow, SF_FSLOW_FUNC, &fe->slow[k]);
		}
	}
	return 0;
}

static size_t tree_node(struct fbuild *b, size_t parent, size_t func)
{
	size_t *slot = umap_get(&b->tree_map, pair_key(parent, func), 1);

	if (!slot)
		return SIZE_MAX;
	if (*slot != SIZE_MAX)
		return *slot;
	if (b->ntree == b->tree_cap) {
		size_t ncap = b->tree_cap ? b->tree_cap * 2 : 256;
		struct rfnode *nt = realloc(b->tree, ncap * sizeof(*nt));
		if (!nt)
			return SIZE_MAX;
		b->tree = nt;
		b->tree_cap = ncap;
	}
	memset(&b->tree[b->ntree], 0, sizeof(b->tree[0]));
	b->tree[b->ntree].func = func;
	b->tree[b->ntree].parent = parent;
	*slot = b->ntree;
	return b->ntree++;
}

/* Merge the threads' trees by path. A chunk's nodes come after their
 * parents, so one pass in chunk order sees every parent first. */
static int merge_trees(struct fbuild *b)
{
	if (tree_node(b, SIZE_MAX, RF_ROOT) != 0)
		return -ENOMEM;
	for (size_t t = 0; t < b->nth; t++) {
		uint64_t left = b->nchunks[t];
		sf_off coff = b->th[t]->nodes;
		uint32_t used;

		for (const struct sf_fchunk *c = chunk_at(b, coff, &used); c && left; left--) {
			used = (uint32_t)session_charge(b->s, b->p, used);
			for (uint32_t i = 0; i < used; i++) {
				const struct sf_fnode *n = &c->nodes[i];
				uint64_t off = coff + sizeof(*c) + (uint64_t)i * sizeof(*n);
				size_t *slot = umap_get(&b->node_map, off, 1), *ps, *fs, m;

				if (!slot)
					return -ENOMEM;
				if (!n->parent) {
					*slot = 0; /* the thread's root */
					continue;
				}
				ps = umap_get(&b->node_map, n->parent, 0);
				fs = umap_get(&b->by_off, n->func, 0);
				if (!ps || !fs || *ps == SIZE_MAX)
					continue; /* torn: parent or function unknown */
				m = tree_node(b, *ps, *fs);
				if (m == SIZE_MAX)
					return -ENOMEM;
				*slot = m;
				b->tree[m].calls = session_add(b->tree[m].calls, n->calls);
				b->tree[m].total_ns = session_add(b->tree[m].total_ns, n->total); /* ticks until converted */
				b->tree[m].self_ns = session_add(b->tree[m].self_ns, n->self);
				b->tree[m].allocs = session_add(b->tree[m].allocs, n->allocs);
				b->tree[m].bytes = session_add(b->tree[m].bytes, n->bytes);
			}
			coff = __atomic_load_n(&c->next, __ATOMIC_ACQUIRE);
			c = chunk_at(b, coff, &used);
		}
	}
	return 0;
}

static const char *raw_name(const struct fbuild *b, size_t id)
{
	return b->raw[b->first[id]].sym.function;
}

/* --- output ------------------------------------------------------------- */

static struct rfuncs *G; /* for the qsort comparators below */

static int by_self_idx(const void *x, const void *y)
{
	const struct rfunc *a = &G->funcs[*(const size_t *)x], *c = &G->funcs[*(const size_t *)y];

	if (a->self_ns != c->self_ns)
		return a->self_ns < c->self_ns ? 1 : -1;
	if (a->calls != c->calls)
		return a->calls < c->calls ? 1 : -1;
	return a->address < c->address ? -1 : a->address > c->address;
}

static int by_total_idx(const void *x, const void *y)
{
	const struct rfunc *a = &G->funcs[*(const size_t *)x], *c = &G->funcs[*(const size_t *)y];

	if (a->total_ns != c->total_ns)
		return a->total_ns < c->total_ns ? 1 : -1;
	return *(const size_t *)x < *(const size_t *)y ? -1 : 1;
}

static int kid_cmp(const void *x, const void *y)
{
	const struct rfnode *a = &G->nodes[*(const size_t *)x], *c = &G->nodes[*(const size_t *)y];

	if (a->total_ns != c->total_ns)
		return a->total_ns < c->total_ns ? 1 : -1;
	return *(const size_t *)x < *(const size_t *)y ? -1 : 1;
}

static int edge_cmp(const void *x, const void *y)
{
	const struct rfedge *a = x, *c = y;

	if (a->total_ns != c->total_ns)
		return a->total_ns < c->total_ns ? 1 : -1;
	if (a->calls != c->calls)
		return a->calls < c->calls ? 1 : -1;
	return a->func < c->func ? -1 : a->func > c->func;
}

static int call_cmp(const void *x, const void *y)
{
	const struct rfcall *a = x, *c = y;

	if (a->ns != c->ns)
		return a->ns < c->ns ? 1 : -1;
	return a->start_ns < c->start_ns ? -1 : a->start_ns > c->start_ns;
}

/* The shown functions, in their final order (by self time). */
static int make_funcs(struct fbuild *b)
{
	struct rfuncs *F = b->F;
	struct rfunc *tmp;
	size_t *order, *fix, n = 0;

	tmp = calloc(b->nagg ? b->nagg : 1, sizeof(*tmp));
	order = calloc(b->nagg ? b->nagg : 1, sizeof(*order));
	fix = calloc(b->nagg ? b->nagg : 1, sizeof(*fix));
	if (!tmp || !order || !fix)
		goto nomem;
	for (size_t id = 0; id < b->nagg; id++) {
		struct fagg *a = &b->agg[id];
		uint64_t outer = a->calls > a->recursive ? a->calls - a->recursive : 0;
		const struct fraw *rw = &b->raw[b->first[id]];
		struct rfunc *f;

		F->calls += a->calls;
		if (!a->shown) {
			F->hidden_calls += a->calls;
			continue;
		}
		a->out = n;
		f = &tmp[n++];
		f->name = rw->sym.function;
		f->file = rw->sym.file;
		f->line = rw->sym.line;
		f->module = rw->sym.module;
		f->address = rw->addr;
		f->offset = rw->sym.offset;
		f->region = sf_is_region(rw->addr);
		f->calls = a->calls;
		f->recursive = a->recursive;
		f->unwound = a->unwound;
		f->total_ns = tick_ns(b, a->total);
		f->self_ns = tick_ns(b, a->self + a->folded_self);
		f->allocs = a->allocs;
		f->bytes = a->bytes;
		f->self_allocs = a->sallocs + a->folded_allocs;
		f->self_bytes = a->sbytes + a->folded_bytes;
		if (outer && a->min != UINT64_MAX) {
			double mean = (double)a->total / (double)outer;
			double var = a->sumsq / (double)outer - mean * mean;

			f->min_ns = tick_ns(b, a->min);
			f->max_ns = tick_ns(b, a->max);
			f->mean_ns = ns_double(mean * b->ratio);
			f->stddev_ns = var > 0 && isfinite(var) ? ns_double(sqrt(var) * b->ratio) : 0;
			f->p50_ns = tick_ns(b, report_func_quantile(a->hist, 0.50, a->min, a->max));
			f->p95_ns = tick_ns(b, report_func_quantile(a->hist, 0.95, a->min, a->max));
			f->p99_ns = tick_ns(b, report_func_quantile(a->hist, 0.99, a->min, a->max));
		}
		for (size_t k = 0; k < a->nslow; k++)
			f->slow[f->nslow++] = (struct rfcall){
			    .tid = a->slow[k].tid,
			    .start_ns = start_ns(b, a->slow[k].start),
			    .ns = tick_ns(b, a->slow[k].ticks),
			    .meta = meta_text(b, a->slow[k].meta),
			};
	}
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	G = F;
	F->funcs = tmp; /* for the comparator */
	report_qsort(order, n, sizeof(*order), by_self_idx);
	F->funcs = calloc(n ? n : 1, sizeof(*F->funcs));
	F->by_total = calloc(n ? n : 1, sizeof(*F->by_total));
	if (!F->funcs || !F->by_total)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		F->funcs[i] = tmp[order[i]];
		fix[order[i]] = i;
		for (size_t k = 0; k < F->funcs[i].nslow; k++)
			F->funcs[i].slow[k].func = i;
	}
	F->nfuncs = n;
	for (size_t id = 0; id < b->nagg; id++)
		if (b->agg[id].shown)
			b->agg[id].out = fix[b->agg[id].out];
	for (size_t i = 0; i < n; i++)
		F->by_total[i] = i;
	report_qsort(F->by_total, n, sizeof(*F->by_total), by_total_idx);
	free(tmp);
	free(order);
	free(fix);
	return 0;
nomem:
	free(tmp);
	free(order);
	free(fix);
	return -ENOMEM;
}

/* The tree as shown: hidden functions folded into their nearest shown
 * ancestor. Fills the functions' folded_* figures (before make_funcs). */
static int fold_tree(struct fbuild *b, size_t **vmap_out)
{
	struct rfuncs *F = b->F;
	struct umap vm = {0};
	size_t *vmap, cap = 256;

	vmap = malloc((b->ntree ? b->ntree : 1) * sizeof(*vmap));
	F->nodes = calloc(cap, sizeof(*F->nodes));
	if (!vmap || !F->nodes) {
		free(vmap);
		return -ENOMEM;
	}
	F->nodes[0] = (struct rfnode){.func = RF_ROOT, .parent = SIZE_MAX};
	F->nnodes = 1;
	vmap[0] = 0;
	for (size_t m = 1; m < b->ntree; m++) {
		const struct rfnode *t = &b->tree[m];
		size_t vp = vmap[t->parent], *slot, v;

		if (!b->agg[t->func].shown) {
			/* Its own time and allocations become its shown caller's. */
			struct rfnode *pv = &F->nodes[vp];

			vmap[m] = vp;
			pv->self_ns += t->self_ns;
			pv->allocs += t->allocs;
			pv->bytes += t->bytes;
			if (pv->func != RF_ROOT) {
				b->agg[pv->func].folded_self += t->self_ns;
				b->agg[pv->func].folded_allocs += t->allocs;
				b->agg[pv->func].folded_bytes += t->bytes;
			}
			continue;
		}
		slot = umap_get(&vm, pair_key(vp, t->func), 1);
		if (!slot) {
			free(vmap);
			umap_free(&vm);
			return -ENOMEM;
		}
		if (*slot == SIZE_MAX) {
			if (F->nnodes == cap) {
				struct rfnode *nn = realloc(F->nodes, (cap *= 2) * sizeof(*nn));
				if (!nn) {
					free(vmap);
					umap_free(&vm);
					return -ENOMEM;
				}
				F->nodes = nn;
			}
			F->nodes[F->nnodes] = (struct rfnode){.func = t->func, .parent = vp};
			*slot = F->nnodes++;
		}
		v = *slot;
		vmap[m] = v;
		F->nodes[v].calls += t->calls;
		F->nodes[v].total_ns += t->total_ns;
		F->nodes[v].self_ns += t->self_ns;
		F->nodes[v].allocs += t->allocs;
		F->nodes[v].bytes += t->bytes;
	}
	umap_free(&vm);
	*vmap_out = vmap;
	return 0;
}

/* Node figures to ns, functions to their final indices, children lists. */
static int finish_tree(struct fbuild *b)
{
	struct rfuncs *F = b->F;
	size_t *count;

	count = calloc(F->nnodes, sizeof(*count));
	if (!count)
		return -ENOMEM;
	for (size_t v = 0; v < F->nnodes; v++) {
		struct rfnode *n = &F->nodes[v];

		n->total_ns = tick_ns(b, n->total_ns);
		n->self_ns = tick_ns(b, n->self_ns);
		if (n->func != RF_ROOT)
			n->func = b->agg[n->func].out;
		if (v)
			count[n->parent]++;
	}
	for (size_t v = 0; v < F->nnodes; v++) {
		F->nodes[v].kids = count[v] ? malloc(count[v] * sizeof(size_t)) : NULL;
		if (count[v] && !F->nodes[v].kids) {
			free(count);
			return -ENOMEM;
		}
	}
	for (size_t v = 1; v < F->nnodes; v++) {
		struct rfnode *p = &F->nodes[F->nodes[v].parent];
		p->kids[p->nkids++] = v;
	}
	G = F;
	for (size_t v = 0; v < F->nnodes; v++) {
		report_qsort(F->nodes[v].kids, F->nodes[v].nkids, sizeof(size_t), kid_cmp);
		if (v)
			continue;
		for (size_t k = 0; k < F->nodes[0].nkids; k++)
			F->nodes[0].total_ns += F->nodes[F->nodes[0].kids[k]].total_ns;
	}
	F->nodes[0].total_ns += F->nodes[0].self_ns;
	free(count);
	return 0;
}

/* nested[v] = 1 when node v's function is already active on v's path
 * (an ancestor node has the same function): its calls are recursive and
 * their time is inside that ancestor's. A depth-first walk keeping how
 * many times each function is on the current path; iterative, since a
 * path can be --max-call-depth deep. */
static int mark_nested(const struct rfuncs *F, unsigned char *nested)
{
	uint32_t *active = calloc(F->nfuncs ? F->nfuncs : 1, sizeof(*active));
	size_t *stack = malloc(F->nnodes * sizeof(*stack)), *next = calloc(F->nnodes, sizeof(*next));
	size_t sp = 0;

	if (!active || !stack || !next) {
		free(active);
		free(stack);
		free(next);
		return -ENOMEM;
	}
	stack[sp++] = 0;
	while (sp) {
		size_t v = stack[sp - 1];
		const struct rfnode *n = &F->nodes[v];

		if (next[v] < n->nkids) {
			size_t k = n->kids[next[v]++];
			size_t fn = F->nodes[k].func;

			nested[k] = active[fn] > 0;
			active[fn]++;
			stack[sp++] = k; /* a tree: each node is pushed once, sp <= nnodes */
			continue;
		}
		if (v)
			active[n->func]--;
		sp--;
	}
	free(active);
	free(stack);
	free(next);
	return 0;
}

/* Callers and callees of each function, from the shown tree. */
static int make_edges(struct rfuncs *F)
{
	struct umap em = {0};
	struct rfedge *e = NULL;
	size_t ne = 0, cap = 0;
	size_t *nin, *nout;
	unsigned char *nested;
	int err = -ENOMEM;

	nin = calloc(F->nfuncs ? F->nfuncs : 1, sizeof(*nin));
	nout = calloc(F->nfuncs ? F->nfuncs : 1, sizeof(*nout));
	nested = calloc(F->nnodes ? F->nnodes : 1, 1);
	if (!nin || !nout || !nested || mark_nested(F, nested))
		goto out;
	/* e[k].func is the callee; caller kept in a parallel array. */
	size_t *from = NULL;
	for (size_t v = 1; v < F->nnodes; v++) {
		const struct rfnode *n = &F->nodes[v];
		size_t caller = F->nodes[n->parent].func, *slot;

		slot = umap_get(&em, pair_key(caller == RF_ROOT ? F->nfuncs : caller, n->func), 1);
		if (!slot)
			goto out_from;
		if (*slot == SIZE_MAX) {
			if (ne == cap) {
				cap = cap ? cap * 2 : 64;
				struct rfedge *ne2 = realloc(e, cap * sizeof(*e));
				size_t *nf = realloc(from, cap * sizeof(*from));
				if (ne2)
					e = ne2;
				if (nf)
					from = nf;
				if (!ne2 || !nf)
					goto out_from;
			}
			e[ne] = (struct rfedge){.func = n->func};
			from[ne] = caller;
			*slot = ne++;
		}
		e[*slot].calls += n->calls;
		/* Like a function's total: an activation's time counts at the
		 * outermost one only, else fib's "called by fib" adds each
		 * level's time again, many times the run's length. */
		if (nested[v])
			e[*slot].recursive += n->calls;
		else
			e[*slot].total_ns += n->total_ns;
	}
	for (size_t k = 0; k < ne; k++) {
		nin[e[k].func]++;
		if (from[k] != RF_ROOT)
			nout[from[k]]++;
	}
	for (size_t f = 0; f < F->nfuncs; f++) {
		F->funcs[f].callers = nin[f] ? calloc(nin[f], sizeof(struct rfedge)) : NULL;
		F->funcs[f].callees = nout[f] ? calloc(nout[f], sizeof(struct rfedge)) : NULL;
		if ((nin[f] && !F->funcs[f].callers) || (nout[f] && !F->funcs[f].callees))
			goto out_from;
	}
	for (size_t k = 0; k < ne; k++) {
		struct rfunc *callee = &F->funcs[e[k].func];

		callee->callers[callee->ncallers++] = e[k];
		callee->callers[callee->ncallers - 1].func = from[k];
		if (from[k] != RF_ROOT) {
			struct rfunc *caller = &F->funcs[from[k]];
			caller->callees[caller->ncallees++] = e[k];
		}
	}
	for (size_t f = 0; f < F->nfuncs; f++) {
		report_qsort(F->funcs[f].callers, F->funcs[f].ncallers, sizeof(struct rfedge), edge_cmp);
		report_qsort(F->funcs[f].callees, F->funcs[f].ncallees, sizeof(struct rfedge), edge_cmp);
	}
	err = 0;
out_from:
	free(from);
out:
	free(e);
	free(nin);
	free(nout);
	free(nested);
	umap_free(&em);
	return err;
}

/* The slowest calls overall: the threads' lists and the functions' own. */
static int make_slowest(struct fbuild *b)
{
	struct rfuncs *F = b->F;
	struct sf_fcall top[RF_SLOWEST];
	size_t ntop = 0, fidx[RF_SLOWEST];

	/* Keep (call, function) pairs; the function rides in .func. */
	for (size_t t = 0; t < b->nth; t++) {
		const struct sf_fthread *th = b->th[t];

		for (uint32_t k = 0; k < th->nslow && k < SF_FSLOW_THREAD; k++) {
			struct sf_fcall c = th->slow[k];
			size_t *fs = umap_get(&b->by_off, c.func, 0);

			if (!fs || !b->agg[*fs].shown)
				continue;
			c.func = *fs;
			slow_keep(top, &ntop, RF_SLOWEST, &c);
		}
	}
	for (size_t id = 0; id < b->nagg; id++) {
		if (!b->agg[id].shown)
			continue;
		for (size_t k = 0; k < b->agg[id].nslow; k++) {
			struct sf_fcall c = b->agg[id].slow[k];

			c.func = id;
			slow_keep(top, &ntop, RF_SLOWEST, &c);
		}
	}
	F->slowest = calloc(ntop ? ntop : 1, sizeof(*F->slowest));
	if (!F->slowest)
		return -ENOMEM;
	for (size_t k = 0; k < ntop; k++) {
		fidx[k] = b->agg[top[k].func].out;
		F->slowest[k] = (struct rfcall){.func = fidx[k],
						.tid = top[k].tid,
						.start_ns = start_ns(b, top[k].start),
						.ns = tick_ns(b, top[k].ticks),
						.meta = meta_text(b, top[k].meta)};
	}
	F->nslowest = ntop;
	report_qsort(F->slowest, F->nslowest, sizeof(*F->slowest), call_cmp);
	return 0;
}

static int by_start(const void *a, const void *b)
{
	const struct rfcall *x = a, *y = b;

	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

/* The timeline's calls of this process, drained by the launcher. */
static int make_timeline(struct fbuild *b)
{
	const struct timeline *tl = b->r->timeline;
	struct rfuncs *F = b->F;
	uint32_t slot = session_slot_of(b->s, b->p);
	size_t n = 0;

	F->timeline_min_ns = b->fp->timeline_min_ns;
	for (size_t t = 0; t < b->nth; t++) {
		const struct sf_ring *r = session_at(b->s, b->th[t]->ring, sizeof(*r));

		if (r)
			F->timeline_dropped = session_add(F->timeline_dropped, r->dropped);
	}
	if (!tl)
		return 0;
	for (size_t i = 0; i < tl->n; i++)
		n += tl->ev[i].slot == slot;
	F->timeline = calloc(n ? n : 1, sizeof(*F->timeline));
	if (!F->timeline)
		return -ENOMEM;
	for (size_t i = 0; i < tl->n; i++) {
		const struct tl_event *e = &tl->ev[i];
		size_t *id;
		struct rfcall *c;

		if (e->slot != slot || !(id = umap_get(&b->by_off, e->func, 0)) || !b->agg[*id].shown)
			continue;
		c = &F->timeline[F->ntimeline++];
		c->func = b->agg[*id].out;
		c->tid = e->tid;
		c->start_ns = start_ns(b, e->start);
		c->ns = tick_ns(b, e->ticks);
		if (e->meta_len && !(c->meta = own(F, strndup(tl->text + e->meta, e->meta_len))))
			return -ENOMEM;
	}
	report_qsort(F->timeline, F->ntimeline, sizeof(*F->timeline), by_start);
	return 0;
}

static struct rfthread *thread_add(struct rfuncs *F, size_t *cap)
{
	if (F->nthreads == *cap) {
		struct rfthread *nt = realloc(F->threads, (*cap = *cap ? *cap * 2 : 16) * sizeof(*nt));

		if (!nt)
			return NULL;
		F->threads = nt;
	}
	return memset(&F->threads[F->nthreads++], 0, sizeof(F->threads[0]));
}

/* Per thread: the earlier owners of each record (logged at their exit),
 * then its current owner, whose figures are the record's less theirs.
 * An owner logs itself when it starts to exit, and the program's TSD
 * destructors may run instrumented code after that: those trailing calls
 * are the record's, past every log. When the record's owner has exited
 * (state EXITING: no one claimed it since) and the latest log is that
 * owner's tid, they are the same thread's and go to its row. A record
 * claimed again (USED) has a new owner, even one whose tid the kernel
 * reused: then the rest is the new owner's. */
static int make_threads(struct fbuild *b)
{
	struct rfuncs *F = b->F;
	size_t cap = 0;

	for (size_t t = 0; t < b->nth; t++) {
		const struct sf_fthread *th = b->th[t];
		const struct sf_fchunk *c;
		uint64_t calls = 0, ticks = 0, ocalls = 0, oticks = 0;
		sf_off root = th->nodes + sizeof(*c);
		struct rfthread *rt;
		size_t latest = SIZE_MAX;
		uint64_t left = b->nfe[t];
		sf_off head = __atomic_load_n(&th->owners, __ATOMIC_ACQUIRE);
		uint32_t used;

		for (const struct sf_func *fe = fe_first(b, t); fe && left; fe = fe_next(b, fe), left--)
			if (fe_ok(fe))
				calls = session_add(calls, fe->calls);
		/* Top-level time: the root's children, in whatever chunk. The
		 * nodes were charged by merge_trees. */
		left = b->nchunks[t];
		for (sf_off coff = th->nodes; (c = chunk_at(b, coff, &used)) && left; coff = c->next, left--)
			for (uint32_t i = 0; i < used; i++)
				if (c->nodes[i].parent == root)
					ticks = session_add(ticks, c->nodes[i].total);
		left = session_list_len(b->s, b->p, SP_FUNC, head, sizeof(struct sf_fowner), offsetof(struct sf_fowner, next));
		for (const struct sf_fowner *o = session_at(b->s, head, sizeof(*o)); o && left;
		     o = session_at(b->s, __atomic_load_n(&o->next, __ATOMIC_ACQUIRE), sizeof(*o)), left--) {
			if (o->calls > SESSION_MAX_COUNT) {
				session_corrupt(b->s, b->p, SP_FUNC);
				continue;
			}
			if (!(rt = thread_add(F, &cap)))
				return -ENOMEM;
			if (latest == SIZE_MAX)
				latest = F->nthreads - 1;
			rt->tid = o->tid;
			session_str(rt->name, SF_NAME_LEN, o->name, SF_NAME_LEN);
			rt->calls = o->calls;
			rt->total_ns = tick_ns(b, o->ticks);
			ocalls = session_add(ocalls, o->calls);
			oticks = session_add(oticks, o->ticks);
		}
		if (calls <= ocalls)
			continue;
		if (latest != SIZE_MAX && F->threads[latest].tid == b->rec[t]->tid &&
		    __atomic_load_n(&b->rec[t]->state, __ATOMIC_ACQUIRE) == SF_THREAD_EXITING) {
			rt = &F->threads[latest];
			rt->calls += calls - ocalls;
			rt->total_ns += tick_ns(b, ticks > oticks ? ticks - oticks : 0);
			continue;
		}
		if (!(rt = thread_add(F, &cap)))
			return -ENOMEM;
		rt->tid = b->rec[t]->tid;
		session_str(rt->name, SF_NAME_LEN, b->rec[t]->name, SF_NAME_LEN);
		rt->calls = calls - ocalls;
		rt->total_ns = tick_ns(b, ticks > oticks ? ticks - oticks : 0);
	}
	return 0;
}

static void rfuncs_free(struct rfuncs *F)
{
	if (!F)
		return;
	for (size_t i = 0; i < F->nfuncs; i++) {
		free(F->funcs[i].callers);
		free(F->funcs[i].callees);
	}
	for (size_t v = 0; v < F->nnodes; v++)
		free(F->nodes[v].kids);
	free(F->funcs);
	free(F->by_total);
	free(F->nodes);
	free(F->slowest);
	free(F->timeline);
	free(F->threads);
	for (size_t i = 0; i < F->nowned; i++)
		free(F->owned[i]);
	free(F->owned);
	free(F);
}

void report_func_free(struct report *r)
{
	for (size_t i = 0; i < r->nprocs; i++) {
		rfuncs_free(r->procs[i].func);
		r->procs[i].func = NULL;
	}
}

static void build_free(struct fbuild *b)
{
	free(b->th);
	free(b->rec);
	free(b->nfe);
	free(b->nchunks);
	free(b->raw);
	free(b->agg);
	free(b->first);
	free(b->tree);
	free(b->by_addr);
	umap_free(&b->by_off);
	umap_free(&b->tree_map);
	umap_free(&b->node_map);
}

double report_func_ns_per_tick(const struct sf_fproc *fp)
{
	double ratio;

	/* A ratio over the whole run beats the 2 ms one taken at start. */
	if (fp->clock == SF_FCLOCK_TSC && fp->mono0 < UINT64_MAX - RF_RECALIBRATE_NS &&
	    fp->mono1 > fp->mono0 + RF_RECALIBRATE_NS && fp->tick1 > fp->tick0) {
		ratio = (double)(fp->mono1 - fp->mono0) / (double)(fp->tick1 - fp->tick0);
		if (ratio > 0 && ratio < RF_MAX_NS_PER_TICK)
			return ratio;
	}
	return fp->ns_per_tick;
}

int report_func_build(struct report *r, struct rprocess *rp, const struct session *s, const struct sf_process *p)
{
	const struct sf_fproc *fp =
		s ? session_get(s, p, SP_FUNC, __atomic_load_n(&p->func, __ATOMIC_ACQUIRE), sizeof(*fp)) : NULL;
	struct fbuild b = {.r = r, .s = s, .p = p, .fp = fp};
	struct rfuncs *F;
	size_t *vmap = NULL;
	int err;

	rp->func = NULL;
	if (!fp)
		return 0;
	/* Without a clock there is no time to show. */
	if ((fp->clock != SF_FCLOCK_TSC && fp->clock != SF_FCLOCK_MONOTONIC) || !(fp->ns_per_tick > 0) ||
	    !(fp->ns_per_tick < RF_MAX_NS_PER_TICK) || fp->max_call_depth > SF_FMAX_CALL_DEPTH) {
		session_corrupt(s, p, SP_FUNC);
		return 0;
	}
	F = b.F = calloc(1, sizeof(*F));
	if (!F)
		return -ENOMEM;
	rp->func = F;
	b.ratio = report_func_ns_per_tick(fp);
	F->clock = fp->clock == SF_FCLOCK_TSC ? "tsc" : "monotonic";
	F->ns_per_tick = b.ratio;
	F->hook_ns = ns_double((double)fp->hook_ticks * b.ratio);
	F->inner_ns = ns_double((double)fp->inner_ticks * b.ratio);
	F->clock_ns = ns_double((double)fp->clock_ticks * b.ratio);
	F->corrected = !!fp->corrected;
	F->max_call_depth = fp->max_call_depth;
	F->min_duration_ns = fp->min_duration_ns;
	F->flags = fp->flags;

	{
		const struct sf_regions *t = session_get(s, p, SP_FUNC, __atomic_load_n(&fp->regions, __ATOMIC_ACQUIRE),
							 sizeof(*t));

		if (t)
			F->regions_full = t->full;
	}
	if ((err = collect_threads(&b)) || (err = collect_funcs(&b)) || (err = sum_funcs(&b)) ||
	    (err = merge_trees(&b)))
		goto out;
	for (size_t t = 0; t < b.nth; t++) {
		const struct sf_fthread *th = b.th[t];

		F->unmatched_exits = session_add(F->unmatched_exits, th->unmatched_exits);
		F->unwound = session_add(F->unwound, th->unwound);
		F->beyond_depth = session_add(F->beyond_depth, th->beyond_depth);
		F->in_hooks = session_add(F->in_hooks, th->in_hooks);
		F->dropped = session_add(F->dropped, th->dropped);
		F->paused_calls = session_add(F->paused_calls, th->paused_calls);
		F->unmatched_region_ends = session_add(F->unmatched_region_ends, th->unmatched_region_ends);
		if (th->max_depth > F->max_depth)
			F->max_depth = th->max_depth;
	}
	for (size_t id = 0; id < b.nagg; id++) {
		const char *name = raw_name(&b, id);

		b.agg[id].shown = (!r->func_filter || report_func_glob_match(r->func_filter, name)) &&
				  !report_func_glob_match(r->func_exclude, name);
		/* After a ptrace_reset(), a function with no call since is not
		 * one of the figures since. */
		if (rp->api.resets && !b.agg[id].calls && !b.agg[id].unwound)
			b.agg[id].shown = 0;
		/* Region 0: regions whose name found no room, counted apart. */
		if (b.raw[b.first[id]].addr == SF_REGION_FN(0)) {
			F->regions_full = session_add(F->regions_full, b.agg[id].calls);
			b.agg[id].shown = 0;
		}
	}
	for (size_t m = 1; m < b.ntree; m++)
		if (b.tree[m].parent == 0)
			F->total_ns = session_add(F->total_ns, b.tree[m].total_ns);
	F->total_ns = tick_ns(&b, F->total_ns);
	if ((err = fold_tree(&b, &vmap)) || (err = make_funcs(&b)) || (err = finish_tree(&b)) ||
	    (err = make_edges(F)) || (err = make_slowest(&b)) || (err = make_threads(&b)) || (err = make_timeline(&b)))
		goto out;
	/* No function takes more than the time inside all of them (the views
	 * draw shares of it); only an image written over breaks that. */
	for (size_t i = 0; i < F->nfuncs; i++)
		if (F->funcs[i].total_ns > F->total_ns || F->funcs[i].self_ns > F->total_ns) {
			session_corrupt(s, p, SP_FUNC);
			F->total_ns = F->funcs[i].total_ns > F->funcs[i].self_ns ? F->funcs[i].total_ns : F->funcs[i].self_ns;
		}
	/* Nothing ran after all (the hooks were called, no call completed). */
	if (!F->calls && !F->unmatched_exits && !F->beyond_depth && !F->in_hooks && !F->nthreads) {
		rfuncs_free(F);
		rp->func = NULL;
	}
out:
	free(vmap);
	build_free(&b);
	return err;
}
