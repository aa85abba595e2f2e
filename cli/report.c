#include "report.h"
#include "series.h"
#include "suppress.h"
#include "timeline.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "symbolize.h"

#define MAX_FRAMES_PER_IP 8

/* --- site aggregation: open addressing on trace id --- */

/* The sites in order of first sight, and a table of their indices: the
 * sites themselves are never rehashed or copied, they become the site
 * list (a million sites: 160 MB, with 8 MB of index, where a table of
 * sites at half load took twice that, and a copy more). */
struct site_map {
	struct rsite *v;
	size_t n, vcap;
	uint32_t *slot;         /* index + 1; 0: empty */
	size_t cap;             /* a power of 2 */
};

static size_t site_slot(const struct site_map *m, uint32_t trace)
{
	size_t i = (trace * 2654435761u) & (m->cap - 1);

	while (m->slot[i] && m->v[m->slot[i] - 1].trace != trace)
		i = (i + 1) & (m->cap - 1);
	return i;
}

/* The site of trace (0: allocations without a stack), new and zeroed
 * but for its trace when first asked; NULL: no memory. */
static struct rsite *site_map_get(struct site_map *m, uint32_t trace)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 256;
		uint32_t *ns = calloc(ncap, sizeof(*ns));

		if (!ns || m->n >= UINT32_MAX) {
			free(ns);
			return NULL;
		}
		free(m->slot);
		m->slot = ns;
		m->cap = ncap;
		for (size_t k = 0; k < m->n; k++)
			m->slot[site_slot(m, m->v[k].trace)] = (uint32_t)(k + 1);
	}
	i = site_slot(m, trace);
	if (m->slot[i])
		return &m->v[m->slot[i] - 1];
	if (m->n == m->vcap) {
		size_t ncap = m->vcap ? m->vcap * 2 : 256;
		struct rsite *nv = realloc(m->v, ncap * sizeof(*nv));

		if (!nv)
			return NULL;
		m->v = nv;
		m->vcap = ncap;
	}
	memset(&m->v[m->n], 0, sizeof(m->v[m->n]));
	m->v[m->n].trace = trace;
	m->slot[i] = (uint32_t)++m->n;
	return &m->v[m->n - 1];
}

static void site_map_free(struct site_map *m)
{
	free(m->v);
	free(m->slot);
	memset(m, 0, sizeof(*m));
}

static void site_add(struct rsite *d, const struct sf_site *s)
{
	d->allocs += s->allocs;
	d->bytes += s->bytes;
	d->frees += s->frees;
	d->freed_bytes += s->freed_bytes;
	d->temporary += s->temporary;
}

static int by_bytes(const void *a, const void *b)
{
	const struct rsite *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	if (x->allocs != y->allocs)
		return x->allocs < y->allocs ? 1 : -1;
	return x->trace < y->trace ? -1 : x->trace > y->trace;
}

static int by_live(const void *a, const void *b)
{
	const struct rsite *x = *(struct rsite *const *)a, *y = *(struct rsite *const *)b;
	if (x->live_bytes != y->live_bytes)
		return x->live_bytes < y->live_bytes ? 1 : -1;
	if (x->live_blocks != y->live_blocks)
		return x->live_blocks < y->live_blocks ? 1 : -1;
	return x->trace < y->trace ? -1 : x->trace > y->trace;
}

static int by_lost(const void *a, const void *b)
{
	const struct rsite *x = *(struct rsite *const *)a, *y = *(struct rsite *const *)b;
	uint64_t lx = rsite_lost_bytes(x), ly = rsite_lost_bytes(y);

	if (lx != ly)
		return lx < ly ? 1 : -1;
	return by_live(a, b);
}

static int by_trace(const void *a, const void *b)
{
	const struct rsite *x = *(struct rsite *const *)a, *y = *(struct rsite *const *)b;

	return x->trace < y->trace ? -1 : x->trace > y->trace;
}

/* --- helpers --- */

const char *report_bytes(uint64_t n, char *buf, size_t len)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	unsigned u = 0;

	if (n < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", n);
		return buf;
	}
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f %s", v, unit[u]);
	return buf;
}

void report_bucket_range(unsigned b, uint64_t *lo, uint64_t *hi)
{
	if (b == 0) {
		*lo = *hi = 0;
		return;
	}
	*lo = 1ull << (b - 1);
	*hi = b >= 64 ? UINT64_MAX : (1ull << b) - 1;
	if (b == SF_HIST_BUCKETS - 1)
		*hi = UINT64_MAX;
}

static char **split_cmd(const char *cmd, size_t len)
{
	size_t n = 0, k = 0;
	char **v;

	for (size_t i = 0; i < len; i++)
		if (!cmd[i] || i + 1 == len)
			n++;
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < len && k < n;) {
		size_t l = strnlen(cmd + i, len - i);
		v[k++] = strndup(cmd + i, l);
		i += l + 1;
	}
	return v;
}

static char **dup_argv(char **argv)
{
	size_t n = 0;
	char **v;

	while (argv && argv[n])
		n++;
	v = calloc(n + 1, sizeof(*v));
	for (size_t i = 0; v && i < n; i++)
		v[i] = strdup(argv[i]);
	return v;
}

static void free_argv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static void set_status(int status, int *has_exit, int *code, int *has_sig, int *sig)
{
	if (WIFEXITED(status)) {
		*has_exit = 1;
		*code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		*has_sig = 1;
		*sig = WTERMSIG(status);
	}
}

/*
 * Symbolization is shared by all processes of the report: each distinct
 * file is handed to the one symbolizer once, at a synthetic base of its
 * own, and a process's address is translated to that file's base through
 * the process's module map. A file's DWARF (libc's is compressed and costs
 * ~0.1 s to read) is then loaded once per report, not once per process.
 *
 * Module paths come from the image: each is copied out (checked: as long
 * as the record says, terminated) and interned here, so the report never
 * points into memory the program can write. Distinct files are capped
 * (SYMCTX_MAX_FILES) and found by hash; a file's range is widened in the
 * symbolizer a bounded number of times.
 */
#define SYNTH_SPACING (1ull << 40)
#define SYMCTX_MAX_FILES 4096u  /* distinct module files symbolized per report */
#define SYMCTX_MAX_WIDEN 16u    /* range widenings handed to the symbolizer per file */
#define MODULE_PATH_MAX 4096u   /* PATH_MAX: a longer module path is not one */
#define PMAP_SCAN 4096u         /* overlapping modules looked through per address */

struct pmod {
	uint64_t bias, start, end;
	uint64_t synth;         /* the file's base in the shared symbolizer; 0: none */
	const char *path;       /* interned in the symctx */
	uint32_t gen_lo, gen_hi; /* mapped for map generations [gen_lo, gen_hi) */
	uint64_t maxend;        /* the highest end of this and every earlier module */
	int runtime;            /* report_runtime_module(path), once per module */
};

/* What one address of a process symbolized to: frames first .. first +
 * n - 1 of the report's store (its inlined calls, then the function).
 * Keyed by the address and how it was looked up (a return address; by
 * the symbol table only). */
struct pframes {
	uint64_t ip;
	uint32_t first;
	uint8_t n;
	uint8_t how;            /* 0: empty slot; else 1 + PF_* */
	uint8_t main;           /* the function is main: the frames below are named from symbols only */
};

#define PF_RETURN 1u
#define PF_SYMTAB 2u

struct pmap {
	struct pmod *m;         /* sorted by start */
	size_t n;
	const struct session *s; /* for the lookup budget */
	const struct sf_process *p;
	struct pframes *seen; /* open addressing, cap a power of 2 */
	size_t nseen, seen_cap;
};

static void pmap_release(struct pmap *pm)
{
	free(pm->m);
	free(pm->seen);
	pm->m = NULL;
	pm->seen = NULL;
	pm->n = pm->nseen = pm->seen_cap = 0;
}

static int pmod_cmp(const void *a, const void *b)
{
	const struct pmod *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

struct symfile {
	char *path;
	uint64_t lo, hi;        /* file offsets handed to the symbolizer so far */
	unsigned widened;
	int registered;
	int err;                /* what the symbolizer said of it: -EINVAL, not a regular file */
};

struct symctx {
	struct symbolizer *sym;
	int offline;            /* open no file: names stay unknown */
	struct symfile *files;  /* distinct module files; index i at base (i+1) << 40 */
	size_t nfiles, files_cap;
	uint32_t *index;        /* open addressing: file index + 1, 0 empty */
	size_t index_cap;       /* 0 or a power of 2, at least twice nfiles */
};

static int symctx_make(struct symctx **out, int offline)
{
	struct symctx *c = calloc(1, sizeof(*c));

	if (!c || (!offline && symbolizer_new(&c->sym))) {
		free(c);
		return -ENOMEM;
	}
	c->offline = offline;
	*out = c;
	return 0;
}

int symctx_new(struct symctx **out)
{
	return symctx_make(out, 0);
}

int symctx_new_offline(struct symctx **out)
{
	return symctx_make(out, 1);
}

/*
 * A recording's answers are keyed by synthetic addresses: file i of the
 * recording's context at (i + 1) << 40. The replay must give each file
 * the index it had, not the order its own report meets them in (python3's
 * libpython came 18th in one and 3rd in the other: every name was lost).
 * The saved modules say: each one's bias is its file's base. Indices no
 * saved module has are held by names no module path can be.
 */
static size_t symctx_file(struct symctx *c, const char *path);

static int symctx_replay_files(struct symctx *c)
{
	const char *path;
	uint64_t bias, start, end;

	for (size_t want = 0; want < SYMCTX_MAX_FILES; want++) {
		const char *found = NULL;
		uint64_t lo = 0, hi = 0;

		for (size_t k = 0; symbolizer_module(c->sym, k, &path, &bias, &start, &end) == 0; k++)
			if (bias == (want + 1) * SYNTH_SPACING && start >= bias && end > start) {
				if (!found || start - bias < lo)
					lo = start - bias;
				if (!found || end - bias > hi)
					hi = end - bias;
				found = path;
			}
		if (!found) {
			int more = 0;

			for (size_t k = 0; symbolizer_module(c->sym, k, &path, &bias, &start, &end) == 0; k++)
				more |= bias > (want + 1) * SYNTH_SPACING;
			if (!more)
				return 0;
		}
		{
			char hole[32];
			size_t i;

			snprintf(hole, sizeof(hole), "\001%zu", want); /* never a path: not absolute */
			i = symctx_file(c, found ? found : hole);
			if (i == SIZE_MAX)
				return -ENOMEM;
			if (i != want)
				return 0; /* the same file twice: leave the rest to chance */
			if (found) {
				c->files[i].registered = 1;
				c->files[i].lo = lo;
				c->files[i].hi = hi;
			}
		}
	}
	return 0;
}

int symctx_new_replay(struct symctx **out, const void *syms, size_t len)
{
	struct symctx *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	err = symbolizer_load(&c->sym, syms, len);
	if (!err && (err = symctx_replay_files(c)) != 0)
		symctx_free(c);
	else if (err)
		free(c);
	if (err)
		return err;
	*out = c;
	return 0;
}

const char *report_build_id(const struct report *r, const char *module)
{
	if (!module || !r->symctx || !r->symctx->sym)
		return NULL;
	return symbolizer_build_id(r->symctx->sym, module);
}

int symctx_debug_dirs(struct symctx *c, const char *dirs)
{
	return c && c->sym ? symbolizer_debug_dirs(c->sym, dirs) : 0;
}

int symctx_refresh(struct symctx *c, const char *dirs)
{
	int err = symctx_debug_dirs(c, dirs);

	return err ? err : c && c->sym ? symbolizer_refresh(c->sym) : 0;
}

void symctx_record(struct symctx *c)
{
	if (c && c->sym)
		symbolizer_record(c->sym);
}

int symctx_save(struct symctx *c, unsigned char **out, size_t *len)
{
	if (!c || !c->sym)
		return -EINVAL;
	return symbolizer_save(c->sym, out, len);
}

void symctx_free(struct symctx *c)
{
	if (!c)
		return;
	symbolizer_free(c->sym);
	for (size_t i = 0; i < c->nfiles; i++)
		free(c->files[i].path);
	free(c->files);
	free(c->index);
	free(c);
}

static uint64_t path_hash(const char *p)
{
	uint64_t h = 1469598103934665603ull;

	while (*p)
		h = (h ^ (unsigned char)*p++) * 1099511628211ull;
	return h ^ (h >> 29);
}

/* The index of path among the files, adding it; SIZE_MAX when full or
 * out of memory. */
static size_t symctx_file(struct symctx *c, const char *path)
{
	uint64_t h = path_hash(path);
	size_t i;

	if (c->index_cap) {
		for (i = h & (c->index_cap - 1); c->index[i]; i = (i + 1) & (c->index_cap - 1))
			if (!strcmp(c->files[c->index[i] - 1].path, path))
				return c->index[i] - 1;
	}
	if (c->nfiles >= SYMCTX_MAX_FILES)
		return SIZE_MAX;
	if ((c->nfiles + 1) * 2 > c->index_cap) {
		size_t ncap = c->index_cap ? c->index_cap * 2 : 64;
		uint32_t *ni = calloc(ncap, sizeof(*ni));

		if (!ni)
			return SIZE_MAX;
		for (size_t k = 0; k < c->nfiles; k++) {
			for (i = path_hash(c->files[k].path) & (ncap - 1); ni[i]; i = (i + 1) & (ncap - 1))
				;
			ni[i] = (uint32_t)k + 1;
		}
		free(c->index);
		c->index = ni;
		c->index_cap = ncap;
	}
	if (c->nfiles == c->files_cap) {
		size_t ncap = c->files_cap ? c->files_cap * 2 : 32;
		struct symfile *nf = realloc(c->files, ncap * sizeof(*nf));

		if (!nf)
			return SIZE_MAX;
		c->files = nf;
		c->files_cap = ncap;
	}
	memset(&c->files[c->nfiles], 0, sizeof(c->files[0]));
	if (!(c->files[c->nfiles].path = strdup(path)))
		return SIZE_MAX;
	for (i = h & (c->index_cap - 1); c->index[i]; i = (i + 1) & (c->index_cap - 1))
		;
	c->index[i] = (uint32_t)c->nfiles + 1;
	return c->nfiles++;
}

/* Synthetic base of file i, registering it (or widening its range) in the
 * symbolizer; 0 when offline. */
static uint64_t symctx_file_base(struct symctx *c, size_t i, uint64_t start, uint64_t end, uint64_t bias)
{
	struct symfile *f = &c->files[i];
	uint64_t lo = start - bias, hi = end - bias, base = (i + 1) * SYNTH_SPACING;

	if (c->offline)
		return 0;
	if (!f->registered || ((lo < f->lo || hi > f->hi) && f->widened < SYMCTX_MAX_WIDEN)) {
		if (f->registered) {
			lo = lo < f->lo ? lo : f->lo;
			hi = hi > f->hi ? hi : f->hi;
			f->widened++;
		}
		f->lo = lo;
		f->hi = hi;
		f->registered = 1;
		f->err = symbolizer_add_module(c->sym, f->path, base, base + lo, base + hi);
	}
	return base;
}

/* A module record's path, copied out: NULL when the record is corrupt
 * (no terminator where its length says, a NUL inside, too long). */
static int module_path(const struct session *s, const struct sf_module *m, char *buf)
{
	sf_off off = (sf_off)((const char *)m - (const char *)s->base);
	uint32_t len = __atomic_load_n(&m->path_len, __ATOMIC_RELAXED);

	if (len >= MODULE_PATH_MAX || !session_at(s, off, sizeof(*m) + len + 1))
		return -1;
	memcpy(buf, m->path, len + 1);
	if (buf[len] || strlen(buf) != len)
		return -1;
	return 0;
}

/* The modules of process p and of its profiled ancestors (a fork child
 * inherits its parent's mappings). */
static void pmap_build(struct pmap *pm, struct symctx *c, const struct session *s, const struct sf_process *p)
{
	const struct sf_process *me = p;
	char path[MODULE_PATH_MAX];
	size_t cap = 0;

	memset(pm, 0, sizeof(*pm));
	pm->s = s;
	pm->p = p;
	for (int depth = 0; p && depth < 64; depth++) {
		sf_off head = __atomic_load_n(&p->modules, __ATOMIC_ACQUIRE);
		uint64_t n = session_list_len(s, me, SP_MODULES, head, sizeof(struct sf_module),
					      offsetof(struct sf_module, next));
		const struct sf_module *m = session_at(s, head, sizeof(*m));

		for (; m && n; n--, m = session_at(s, __atomic_load_n(&m->next, __ATOMIC_ACQUIRE), sizeof(*m))) {
			struct pmod x = {.bias = m->bias, .start = m->start, .end = m->end, .gen_lo = m->gen_loaded,
					 .gen_hi = m->unloaded ? m->gen_unloaded : UINT32_MAX};
			size_t fi;

			if (x.start >= x.end || x.start < x.bias || x.end - x.bias > SYNTH_SPACING ||
			    module_path(s, m, path)) {
				session_corrupt(s, me, SP_MODULES);
				continue;
			}
			if ((fi = symctx_file(c, path)) == SIZE_MAX)
				continue;
			if (pm->n == cap) {
				struct pmod *nm = realloc(pm->m, (cap = cap ? cap * 2 : 32) * sizeof(*nm));
				if (!nm)
					return;
				pm->m = nm;
			}
			x.path = c->files[fi].path;
			x.runtime = report_runtime_module(x.path);
			x.synth = symctx_file_base(c, fi, x.start, x.end, x.bias);
			/* A loaded module is a mapped regular file: a path naming a
			 * FIFO or a device was written over. */
			if (c->files[fi].err == -EINVAL)
				session_corrupt(s, me, SP_MODULES);
			pm->m[pm->n++] = x;
		}
		if (p->parent_index < 0 || (uint32_t)p->parent_index >= session_nprocs(s) || !(p->flags & SF_PF_FORKED))
			break;
		p = session_process(s, (uint32_t)p->parent_index);
	}
	report_qsort(pm->m, pm->n, sizeof(*pm->m), pmod_cmp);
	for (size_t i = 0; i < pm->n; i++)
		pm->m[i].maxend = i && pm->m[i - 1].maxend > pm->m[i].end ? pm->m[i - 1].maxend : pm->m[i].end;
}

/* The module holding pc, the one starting highest when several do; with
 * use_gen, only one mapped at map generation gen (a library loaded where
 * an unloaded one was must not get the old one's names). Overlaps are
 * looked through up to PMAP_SCAN entries, charged to the budget. */
static const struct pmod *pmap_lookup(const struct pmap *pm, uint64_t pc, uint32_t gen, int use_gen)
{
	size_t lo = 0, hi = pm->n, steps = 0;
	const struct pmod *found = NULL;

	/* lo ends as the first module starting above pc. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pm->m[mid].start <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo-- > 0 && pm->m[lo].maxend > pc && steps < PMAP_SCAN) {
		const struct pmod *m = &pm->m[lo];

		steps++;
		if (pc < m->end && (!use_gen || (m->gen_lo <= gen && gen < m->gen_hi))) {
			found = m;
			break;
		}
	}
	if (steps > 8 && session_charge(pm->s, pm->p, steps) < steps)
		return NULL;
	return found;
}

static const struct pmod *pmap_find(const struct pmap *pm, uint64_t pc)
{
	return pmap_lookup(pm, pc, 0, 0);
}

/* When no module fits the generation (a fork child's generations past
 * what its parent's list says), any module holding pc. */
static const struct pmod *pmap_find_gen(const struct pmap *pm, uint64_t pc, uint32_t gen)
{
	const struct pmod *m = pmap_lookup(pm, pc, gen, 1);

	return m ? m : pmap_find(pm, pc);
}

static int pmap_stack(struct report *r, struct pmap *pm, const struct session *s, uint32_t trace, struct rstack *out);

/* v * scale, rounded, saturating (scale can be large: 1 / a tiny rate). */
static uint64_t scaled(uint64_t v, double scale)
{
	double x = (double)v * scale + 0.5;

	if (!(x > 0)) /* NaN too: 0 * an infinite scale */
		return 0;
	return x >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)x;
}

static uint64_t at_most(uint64_t v, uint64_t cap)
{
	return v < cap ? v : cap;
}

/* A sampled site's estimates, each at most the exact total it is part of
 * (a site's one sampled block of 71 KiB, weighted, must not claim more
 * than all the bytes there were). */
static void scale_site(struct rsite *x, const struct rmemory *m)
{
	x->allocs = at_most(scaled(x->allocs, m->count_scale), m->allocations);
	x->bytes = at_most(scaled(x->bytes, m->scale), m->bytes_allocated);
	/* Frees weighted as their allocations were: capped by those, so
	 * that a site whose blocks were all freed shows none live. */
	x->frees = at_most(scaled(x->frees, m->count_scale), x->allocs);
	x->freed_bytes = at_most(scaled(x->freed_bytes, m->scale), x->bytes);
	x->temporary = at_most(scaled(x->temporary, m->count_scale), x->frees);
}

/* Append a thread's figures to rp->threads (capacity *cap). */
static int thread_push(struct rprocess *rp, size_t *cap, int tid, const char *name, uint64_t allocs, uint64_t bytes,
		       uint64_t frees)
{
	struct rthread *rt;

	if (rp->nthreads == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct rthread *nt = realloc(rp->threads, ncap * sizeof(*nt));
		if (!nt)
			return -ENOMEM;
		rp->threads = nt;
		*cap = ncap;
	}
	rt = &rp->threads[rp->nthreads++];
	rt->tid = tid;
	session_str(rt->name, SF_NAME_LEN, name, SF_NAME_LEN);
	rt->allocs = allocs;
	rt->bytes = bytes;
	rt->frees = frees;
	return 0;
}

/* Can these be a thread's or a site's counters? */
static int counts_ok(uint64_t allocs, uint64_t frees, uint64_t bytes, uint64_t freed)
{
	return allocs <= SESSION_MAX_COUNT && frees <= SESSION_MAX_COUNT && bytes <= SESSION_MAX_BYTES &&
	       freed <= SESSION_MAX_BYTES;
}

static int site_ok(const struct sf_site *x)
{
	return counts_ok(x->allocs, x->frees, x->bytes, x->freed_bytes) && x->temporary <= SESSION_MAX_COUNT;
}

static void site_take(struct site_map *map, uint32_t trace, const struct sf_site *x, const struct session *s,
		      const struct sf_process *p)
{
	struct sf_site v = *x; /* one read of a record the program may be writing */
	struct rsite *d;

	if (!site_ok(&v)) {
		session_corrupt(s, p, SP_SITES);
		return;
	}
	if ((v.allocs || v.frees) && (d = site_map_get(map, trace)))
		site_add(d, &v);
}

/* A thread record's own figures, or -1 when they cannot be real. */
static int thread_ok(const struct sf_thread *t)
{
	uint64_t h = 0;

	if (!counts_ok(t->allocs, t->frees, t->bytes, t->freed_bytes) || t->temporary > SESSION_MAX_COUNT ||
	    t->failed > SESSION_MAX_COUNT || t->base_allocs > t->allocs || t->base_frees > t->frees ||
	    t->base_bytes > t->bytes)
		return 0;
	for (unsigned b = 0; b < SF_HIST_BUCKETS; b++)
		h = session_add(h, t->hist[b]);
	return h <= SESSION_MAX_COUNT;
}

/*
 * The leak check's record (struct sf_leaks): its totals, and each stack's
 * classes onto the site of that trace. 0, or -ENOMEM.
 */
static int leak_take(struct rprocess *rp, const struct session *s, const struct sf_process *p)
{
	struct rmemory *m = &rp->mem;
	sf_off off = __atomic_load_n(&p->leaks, __ATOMIC_ACQUIRE);
	const struct sf_leaks *lk = session_at(s, off, sizeof(*lk));
	struct rsite **by = NULL;

	m->leak_off = !!(p->flags & SF_PF_LEAK_OFF);
	m->lk_fork_child = !!(p->flags & SF_PF_FORKED);
	if (!lk)
		return 0;
	if (!session_at(s, off, sizeof(*lk) + (size_t)lk->nsites * sizeof(lk->sites[0]))) {
		session_corrupt(s, p, SP_HEAP);
		return 0;
	}
	m->leak_flags = lk->flags;
	m->lk_threads = lk->threads;
	m->lk_threads_stopped = lk->threads_stopped;
	m->lk_scan_ns = lk->scan_ns;
	if (lk->flags & SF_LK_NOT_RUN)
		return 0;
	m->leak_checked = 1;
	m->lk_found = lk->blocks_found;
	m->lk_root_bytes = lk->root_bytes;
	m->lk_block_bytes = lk->block_bytes;
	for (unsigned c = 0; c < SF_LEAK_CLASSES; c++) {
		m->lk_blocks[c] = lk->blocks[c];
		m->lk_bytes[c] = lk->bytes[c];
	}
	if (m->nsites) {
		by = malloc(m->nsites * sizeof(*by));
		if (!by)
			return -ENOMEM;
		for (size_t i = 0; i < m->nsites; i++)
			by[i] = &m->sites[i];
		report_qsort(by, m->nsites, sizeof(*by), by_trace);
	}
	for (uint32_t i = 0; i < lk->nsites; i++) {
		const struct sf_leak_site *ls = &lk->sites[i];
		struct rsite key = {.trace = ls->trace}, *kp = &key, **hit;

		if (!ls->trace)
			continue; /* no stack: in the totals only */
		hit = by ? bsearch(&kp, by, m->nsites, sizeof(*by), by_trace) : NULL;
		if (!hit)
			continue;
		for (unsigned c = 0; c < SF_LEAK_CLASSES; c++) {
			(*hit)->lk_blocks[c] = m->sampled ? at_most(scaled(ls->blocks[c], m->count_scale), lk->blocks[c])
							  : ls->blocks[c];
			(*hit)->lk_bytes[c] = m->sampled ? at_most(scaled(ls->bytes[c], m->scale), lk->bytes[c]) : ls->bytes[c];
		}
	}
	free(by);
	return 0;
}

static int by_mpeak(const void *a, const void *b)
{
	const struct rmsite *x = a, *y = b;

	if (x->peak_bytes != y->peak_bytes)
		return x->peak_bytes < y->peak_bytes ? 1 : -1;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return x->trace < y->trace ? -1 : x->trace > y->trace;
}

/* The program's anonymous mappings (struct sf_mmaps); 0 or -ENOMEM. */
static int mapped_take(struct rprocess *rp, const struct session *s, const struct sf_process *p, struct report *r,
		       struct pmap *pm)
{
	struct rmapped *mp = &rp->mapped;
	const struct sf_mmaps *t = session_at(s, __atomic_load_n(&p->mmaps, __ATOMIC_ACQUIRE), sizeof(*t));

	if (!t)
		return 0;
	if (t->live_bytes < 0 || t->maps > SESSION_MAX_COUNT || t->bytes > SESSION_MAX_LIVE * 16) {
		session_corrupt(s, p, SP_HEAP);
		return 0;
	}
	mp->present = 1;
	mp->maps = t->maps;
	mp->unmaps = t->unmaps;
	mp->remaps = t->remaps;
	mp->partial = t->partial;
	mp->bytes = t->bytes;
	mp->unmapped_bytes = t->unmapped_bytes;
	mp->live_bytes = (uint64_t)t->live_bytes;
	mp->peak_bytes = t->peak_bytes;
	mp->untracked = t->untracked;
	mp->sites = calloc(SF_MMAP_SITES, sizeof(*mp->sites));
	if (!mp->sites)
		return -ENOMEM;
	for (uint32_t i = 0; i < SF_MMAP_SITES; i++) {
		const struct sf_msite *x = &t->sites[i];
		struct rmsite *o;

		if ((!x->used && i) || (!x->maps && !x->bytes))
			continue;
		o = &mp->sites[mp->nsites++];
		o->trace = i ? x->trace : 0;
		o->maps = x->maps;
		o->bytes = x->bytes;
		o->unmaps = x->unmaps;
		o->unmapped_bytes = x->unmapped_bytes;
		o->live_bytes = x->live_bytes > 0 ? (uint64_t)x->live_bytes : 0;
		o->live_regions = x->live_regions > 0 ? (uint64_t)x->live_regions : 0;
		o->peak_bytes = x->peak_bytes;
		if (o->trace && pmap_stack(r, pm, s, o->trace, &o->stack))
			return -ENOMEM;
	}
	report_qsort(mp->sites, mp->nsites, sizeof(*mp->sites), by_mpeak);
	return 0;
}

static int build_memory(struct rprocess *rp, const struct session *s, const struct sf_process *p, struct report *r)
{
	struct rmemory *m = &rp->mem;
	struct site_map map = {0};
	struct pmap pm = {0};
	size_t tcap = 0;
	sf_off head = __atomic_load_n(&p->threads, __ATOMIC_ACQUIRE);
	uint64_t n = session_list_len(s, p, SP_THREADS, head, sizeof(struct sf_thread), offsetof(struct sf_thread, next));
	double rate = p->sample_rate;

	m->scale = rate > 0 && rate < 1 ? 1.0 / rate : 1.0;
	if (!(m->scale < 1e300)) /* a denormal rate: a finite scale for the views */
		m->scale = 1e300;
	m->sampled = m->scale != 1.0;
	m->count_scale = m->scale;
	if (p->sample_bytes) {
		m->sample_bytes = p->sample_bytes;
		m->scale = 1.0;
		m->count_scale = 1.0 / SF_WEIGHT_ONE;
		m->sampled = 1;
	}
	for (const struct sf_thread *t = session_at(s, head, sizeof(*t)); t && n;
	     t = session_at(s, __atomic_load_n(&t->next, __ATOMIC_ACQUIRE), sizeof(*t)), n--) {
		uint32_t cap = t->sites_cap;
		const struct sf_site *tab = session_get(s, p, SP_SITES, t->sites, (size_t)cap * sizeof(*tab));

		if (!thread_ok(t)) {
			session_corrupt(s, p, SP_THREADS);
			continue;
		}
		m->allocations = session_add(m->allocations, t->allocs);
		m->frees = session_add(m->frees, t->frees);
		m->bytes_allocated = session_add(m->bytes_allocated, t->bytes);
		m->bytes_freed = session_add(m->bytes_freed, t->freed_bytes);
		m->old_frees = session_add(m->old_frees, t->old_frees);
		m->old_freed_bytes = session_add(m->old_freed_bytes, t->old_freed_bytes);
		m->temporary = session_add(m->temporary, t->temporary);
		m->failed = session_add(m->failed, t->failed);
		m->walks = session_add(session_add(m->walks, t->sampled), t->map_walks);
		m->walks_libunwind = session_add(m->walks_libunwind, t->unwind_slow);
		m->walks_checked = session_add(m->walks_checked, t->unwind_checked);
		m->walks_differ = session_add(m->walks_differ, t->unwind_differ);
		m->walks_repeated = session_add(m->walks_repeated, t->walks_repeated);
		for (unsigned b = 0; b < SF_HIST_BUCKETS; b++)
			m->hist[b] = session_add(m->hist[b], t->hist[b]);
		site_take(&map, 0, &t->nostack, s, p);
		if (tab)
			cap = (uint32_t)session_charge(s, p, cap);
		for (uint32_t i = 0; tab && i < cap; i++) {
			uint32_t trace = tab[i].trace;

			if (trace)
				site_take(&map, trace, &tab[i], s, p);
		}
		/* The current (or last) owner of the record. */
		if ((t->allocs != t->base_allocs || t->frees != t->base_frees) &&
		    thread_push(rp, &tcap, t->tid, t->name, t->allocs - t->base_allocs, t->bytes - t->base_bytes,
				t->frees - t->base_frees)) {
			site_map_free(&map);
			return -ENOMEM;
		}
	}
	head = __atomic_load_n(&p->thread_log, __ATOMIC_ACQUIRE);
	n = session_list_len(s, p, SP_THREAD_LOG, head, sizeof(struct sf_thread_log), offsetof(struct sf_thread_log, next));
	for (const struct sf_thread_log *l = session_at(s, head, sizeof(*l)); l && n;
	     l = session_at(s, __atomic_load_n(&l->next, __ATOMIC_ACQUIRE), sizeof(*l)), n--) {
		if (!counts_ok(l->allocs, l->frees, l->bytes, 0)) {
			session_corrupt(s, p, SP_THREAD_LOG);
			continue;
		}
		if (thread_push(rp, &tcap, l->tid, l->name, l->allocs, l->bytes, l->frees)) {
			site_map_free(&map);
			return -ENOMEM;
		}
	}
	/* Frees of blocks from before a reset the baseline has not taken
	 * out yet (a live image) end them all the same. */
	m->live_blocks = m->allocations > session_add(m->frees, m->old_frees)
				 ? m->allocations - session_add(m->frees, m->old_frees)
				 : 0;
	m->live_bytes = m->bytes_allocated > session_add(m->bytes_freed, m->old_freed_bytes)
				? m->bytes_allocated - session_add(m->bytes_freed, m->old_freed_bytes)
				: 0;
	m->peak_bytes = p->peak_bytes;
	m->inherited_frees = p->inherited_frees;
	if (m->peak_bytes > SESSION_MAX_LIVE || m->inherited_frees > SESSION_MAX_COUNT) {
		session_corrupt(s, p, SP_HEAP);
		m->peak_bytes = 0;
		m->inherited_frees = 0;
	}
	if (m->peak_bytes < m->live_bytes)
		m->peak_bytes = m->live_bytes;

	/* The map's sites become the site list, filtered in place. */
	free(map.slot);
	map.slot = NULL;
	for (size_t i = 0; i < map.n; i++) {
		struct rsite *x = &map.v[i];

		if (!x->allocs && !x->frees)
			continue;
		if (!x->trace && m->sampled) {
			/* Unsampled allocations: exact, but with no stack. */
			m->unsampled_live_blocks = x->allocs > x->frees ? x->allocs - x->frees : 0;
			m->unsampled_live_bytes = x->bytes > x->freed_bytes ? x->bytes - x->freed_bytes : 0;
			continue;
		}
		if (x->trace && m->sampled)
			scale_site(x, m);
		x->live_blocks = x->allocs > x->frees ? x->allocs - x->frees : 0;
		x->live_bytes = x->bytes > x->freed_bytes ? x->bytes - x->freed_bytes : 0;
		if (x->trace && m->sampled) {
			x->live_blocks = at_most(x->live_blocks, m->live_blocks);
			x->live_bytes = at_most(x->live_bytes, m->live_bytes);
		}
		map.v[m->nsites++] = *x;
	}
	if (m->nsites) {
		struct rsite *v = realloc(map.v, m->nsites * sizeof(*v));

		m->sites = v ? v : map.v;
	} else {
		free(map.v);
		m->sites = calloc(1, sizeof(*m->sites));
		if (!m->sites)
			return -ENOMEM;
	}
	map.v = NULL;
	report_qsort(m->sites, m->nsites, sizeof(*m->sites), by_bytes);

	if (!r->symctx) {
		if (symctx_new(&r->symctx))
			return -ENOMEM;
		r->own_symctx = 1;
	}
	pmap_build(&pm, r->symctx, s, p);
	m->leaks = calloc(m->nsites ? m->nsites : 1, sizeof(*m->leaks));
	m->reachable = calloc(m->nsites ? m->nsites : 1, sizeof(*m->reachable));
	if (!m->leaks || !m->reachable) {
		pmap_release(&pm);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->nsites; i++) {
		struct rsite *x = &m->sites[i];
		if (x->trace && pmap_stack(r, &pm, s, x->trace, &x->stack)) {
			pmap_release(&pm);
			return -ENOMEM;
		}
	}
	if (mapped_take(rp, s, p, r, &pm)) {
		pmap_release(&pm);
		return -ENOMEM;
	}
	pmap_release(&pm);
	if (leak_take(rp, s, p))
		return -ENOMEM;
	for (size_t i = 0; i < m->nsites; i++) {
		struct rsite *x = &m->sites[i];

		if (!m->leak_checked) {
			if (x->live_blocks)
				m->leaks[m->nleaks++] = x;
		} else if (rsite_lost_blocks(x) ||
			   (x->live_blocks && !x->lk_blocks[SF_LEAK_REACHABLE] && !rsite_lost_blocks(x))) {
			/* Lost; or live but not found by the scan: not known reachable. */
			m->leaks[m->nleaks++] = x;
		} else if (x->lk_blocks[SF_LEAK_REACHABLE]) {
			m->reachable[m->nreachable++] = x;
		}
	}
	report_qsort(m->leaks, m->nleaks, sizeof(*m->leaks), m->leak_checked ? by_lost : by_live);
	report_qsort(m->reachable, m->nreachable, sizeof(*m->reachable), by_live);
	/* What a suppression names goes apart, still counted. */
	m->suppressed = calloc(m->nleaks ? m->nleaks : 1, sizeof(*m->suppressed));
	if (!m->suppressed)
		return -ENOMEM;
	{
		size_t k = 0;

		for (size_t i = 0; i < m->nleaks; i++) {
			struct rsite *x = m->leaks[i];

			x->suppressed_by = x->trace ? suppr_match(r->suppr, &x->stack) : NULL;
			if (x->suppressed_by) {
				m->suppressed[m->nsuppressed++] = x;
				m->suppressed_bytes += x->live_bytes;
				m->suppressed_blocks += x->live_blocks;
				for (unsigned c = 0; m->leak_checked && c < SF_LEAK_CLASSES; c++) {
					m->lk_blocks[c] -= x->lk_blocks[c] < m->lk_blocks[c] ? x->lk_blocks[c] : m->lk_blocks[c];
					m->lk_bytes[c] -= x->lk_bytes[c] < m->lk_bytes[c] ? x->lk_bytes[c] : m->lk_bytes[c];
				}
			} else {
				m->leaks[k++] = x;
			}
		}
		m->nleaks = k;
	}
	if (rp->execed) {
		/* exec frees every block of the image: none leaked. */
		m->freed_by_exec = 1;
		m->exec_freed_bytes = m->live_bytes;
		m->exec_freed_blocks = m->live_blocks;
		m->live_bytes = m->live_blocks = 0;
		m->unsampled_live_bytes = m->unsampled_live_blocks = 0;
		for (size_t i = 0; i < m->nsites; i++)
			m->sites[i].live_bytes = m->sites[i].live_blocks = 0;
		m->nleaks = 0;
		m->nreachable = 0;
		m->nsuppressed = 0;
		m->suppressed_bytes = m->suppressed_blocks = 0;
		m->leak_checked = 0;
	}
	return 0;
}

/*
 * CPU time can go unsampled for several reasons the image cannot tell
 * apart: a thread that blocks the sampling signal for good (a worker pool
 * that blocks every signal), processes or threads too short to reach one
 * sampling period, programs the agent could not load into, the time
 * before the agent started. Compare what was sampled with what wait4 says
 * the run cost, say how much is missing, and list the causes as possible
 * ones; what is known for sure is how many processes got no sample.
 */
static void report_cpu_coverage(struct report *r)
{
	uint64_t sampled = 0, spent = (uint64_t)r->ru.ru_utime.tv_sec * 1000000000u + (uint64_t)r->ru.ru_utime.tv_usec * 1000u +
				      (uint64_t)r->ru.ru_stime.tv_sec * 1000000000u + (uint64_t)r->ru.ru_stime.tv_usec * 1000u;
	size_t unsampled = 0;
	unsigned hz = 0;
	char w[640];

	for (size_t i = 0; i < r->nprocs; i++) {
		const struct rcpu *c = &r->procs[i].cpu;

		if (!c->hz || !(c->flags & SF_CPU_SAMPLING) || (c->flags & ~(SF_CPU_SAMPLING | SF_CPU_DUMP_TAKEN | SF_CPU_DUMP_BUSY)))
			return; /* not sampled, or stepped aside: said elsewhere */
		sampled += c->samples * (1000000000u / c->hz);
		unsampled += !c->samples;
		hz = c->hz;
	}
	if (!r->nprocs || spent < 200000000u || sampled * 2 >= spent)
		return;
	snprintf(w, sizeof(w),
		 "%.0f%% of the %.2f s of CPU time the run used was not sampled (the profile covers %.2f s; "
		 "%zu of %zu processes have no sample at all); possible causes: processes or threads that each ran "
		 "less than one sampling period (%.3g ms of CPU), threads that block the sampling signal, programs "
		 "the agent could not load into, CPU time before the agent started",
		 100.0 - 100.0 * (double)sampled / (double)spent, spent / 1e9, sampled / 1e9, unsampled, r->nprocs,
		 1000.0 / hz);
	r->cpu_coverage_note = strdup(w);
}

static int find_reaped(const struct report_input *in, int pid, int *status)
{
	for (size_t i = 0; i < in->nreaped; i++)
		if (in->reaped_pid[i] == pid) {
			*status = in->reaped_status[i];
			return 1;
		}
	return 0;
}

static void add_warning(struct report *r, const char *w)
{
	char **nw, *d;

	for (size_t i = 0; i < r->nwarnings; i++)
		if (!strcmp(r->warnings[i], w))
			return;
	nw = realloc(r->warnings, (r->nwarnings + 1) * sizeof(*nw));
	if (!nw)
		return;
	r->warnings = nw;
	if ((d = strdup(w)))
		r->warnings[r->nwarnings++] = d;
}

/* One warning naming the corrupt parts of slot i (pid > 0) or of the
 * session as a whole. */
static void warn_corrupt(struct report *r, const struct session *s, uint32_t i, int pid)
{
	uint32_t bits = session_corrupt_bits(s, i);
	char w[1024];
	size_t n;

	if (!bits)
		return;
	if (i < SF_MAX_PROCS)
		n = (size_t)snprintf(w, sizeof(w), "session image corrupt (the program wrote over it?): process %d:", pid);
	else
		n = (size_t)snprintf(w, sizeof(w), "session image corrupt (the program wrote over it?):");
	for (unsigned k = 0; k < SP_NPARTS && n < sizeof(w); k++)
		if (bits & (1u << k))
			n += (size_t)snprintf(w + n, sizeof(w) - n, "%s %s", n && w[n - 1] == ':' ? "" : ",",
					      session_part_name(k));
	if (n < sizeof(w))
		snprintf(w + n, sizeof(w) - n, "; what was corrupt is left out of the report");
	add_warning(r, w);
}

/* A header counter of what was dropped, or 0 (and the header marked
 * corrupt) when it cannot be one. */
static uint64_t dropped(const struct session *s, uint64_t v)
{
	if (v <= SESSION_MAX_COUNT)
		return v;
	session_corrupt(s, NULL, SP_HEADER);
	return 0;
}

/* The fields of a process record that can be checked; the others are
 * bounded where they are used. 0 when one is impossible. */
static int process_fields_ok(const struct session *s, const struct sf_process *p)
{
	uint32_t st = __atomic_load_n(&p->state, __ATOMIC_ACQUIRE);

	return st <= SF_PROC_DONE && !(p->flags & ~((SF_PF_THREADS_FULL << 1) - 1)) && p->pid > 0 && p->cmd_len <= SF_CMD_LEN && p->parent_index >= -1 &&
	       p->parent_index < (int32_t)s->nslots && p->track_memory <= 1 && p->max_depth <= SF_DEPTH_LIMIT &&
	       (!p->track_memory || (p->sample_rate > 0 && p->sample_rate <= 1));
}

/* Execs the agent knew it could not follow (secure-mode programs), one
 * warning each: such a process is missing from the report, not silent. */
static void add_unfollowed(struct report *r, const struct session *s, const struct sf_process *p)
{
	const struct sf_unfollowed *u = session_at(s, p->unfollowed, sizeof(*u));
	char line[4352], why[64];

	for (int guard = 0; u && guard < 1000; u = session_at(s, u->next, sizeof(*u)), guard++) {
		sf_off at = (sf_off)((const char *)u - (const char *)s->base);

		if (u->path_len > 4096 || !session_at(s, at, sizeof(*u) + u->path_len + 1) || u->path[u->path_len] ||
		    (u->why & SF_UF_FAILED))
			continue;
		snprintf(why, sizeof(why), "%s%s%s", u->why & SF_UF_SETUID ? "set-user-ID, " : "",
			 u->why & SF_UF_SETGID ? "set-group-ID, " : "", u->why & SF_UF_CAPS ? "file capabilities, " : "");
		if (strlen(why) >= 2)
			why[strlen(why) - 2] = 0;
		if (u->why & SF_UF_ENV)
			snprintf(line, sizeof(line),
				 "process %d ran a shell through system() or popen() with LD_PRELOAD or PTRACE_SESSION "
				 "removed from its environment, while other threads ran: not profiled",
				 p->pid);
		else if (u->why & SF_UF_SPAWN)
			snprintf(line, sizeof(line), "process %d (spawned by %d) runs %s (%s): not profiled", u->pid, p->pid,
				 u->path, why);
		else
			snprintf(line, sizeof(line), "process %d exec'd %s (%s): not profiled", u->pid, u->path, why);
		add_warning(r, line);
	}
}

int report_build(struct report *r, const struct session *s, const struct report_input *in)
{
	const struct sf_header *h = s ? s->base : NULL;
	uint32_t n = s ? session_nprocs(s) : 0;
	uint64_t end_ns = s ? s->start_ns + in->duration_ns : 0, now = 0;
	struct timespec ts;
	int err;

	memset(r, 0, sizeof(*r));
	r->argv = dup_argv(in->argv);
	r->symctx = in->symctx;
	/* A snapshot's program was still running: no status yet. */
	if (in->spawned && !in->snapshot)
		set_status(in->status, &r->has_exit, &r->exit_code, &r->has_signal, &r->signal);
	r->duration_ns = in->duration_ns;
	r->start_time_ns = in->start_time_ns;
	r->snapshot = in->snapshot;
	r->snapshot_ns = in->snapshot_ns;
	if (in->snapshot_label && !(r->snapshot_label = strdup(in->snapshot_label)))
		return -ENOMEM;
	r->timeline = in->timeline;
	r->suppr = in->suppr;
	if (in->timeline)
		r->timeline_left_out = in->timeline->left_out;
	if (in->series) {
		r->interval_ns = in->series->interval_ns;
		r->interval_max_ns = in->series->longest_ns;
	}
	r->ru = in->ru;
	r->sample_rate = in->sample_rate;
	r->sample_bytes = in->sample_bytes;
	r->max_depth = in->max_depth;
	r->track_memory = in->track_memory;
	if (h) {
		session_read_begin(s);
		/* The launcher reads its own copy of the layout; a header that
		 * says otherwise was written over. */
		if (h->magic != SF_MAGIC || h->version != SF_VERSION || h->size != s->size || h->procs != s->procs ||
		    h->start_ns != s->start_ns)
			session_corrupt(s, NULL, SP_HEADER);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		r->dropped_traces = dropped(s, h->dropped_traces);
		r->dropped_procs = dropped(s, h->dropped_procs);
		r->dropped_threads = dropped(s, h->dropped_threads);
		r->dropped_sites = dropped(s, h->dropped_sites);
		r->dropped_samples = dropped(s, h->dropped_samples);
		r->events_dropped = r->dropped_traces + r->dropped_procs + r->dropped_threads + r->dropped_sites +
				    r->dropped_samples;
	}
	r->cpu_hz = in->cpu_hz;
	r->dump_signal = in->dump_signal;
	r->func_filter = in->func_filter;
	r->func_exclude = in->func_exclude;
	r->procs = calloc(n ? n : 1, sizeof(*r->procs));
	if (!r->procs)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		const struct sf_process *p = session_process(s, i);
		struct rprocess *rp;
		char cmd[SF_CMD_LEN];
		uint64_t start, end;
		int status, ok;

		if (__atomic_load_n(&p->state, __ATOMIC_ACQUIRE) < SF_PROC_RUNNING)
			continue;
		if (!(ok = process_fields_ok(s, p)))
			session_corrupt(s, p, SP_PROCESS);
		rp = &r->procs[r->nprocs++];
		rp->pid = p->pid;
		rp->ppid = p->ppid;
		rp->start_ns = p->start_ns > s->start_ns ? p->start_ns - s->start_ns : 0;
		/* One copy of what the program may still be writing. */
		memcpy(cmd, p->cmd, sizeof(cmd));
		rp->argv = split_cmd(cmd, p->cmd_len < SF_CMD_LEN ? p->cmd_len : SF_CMD_LEN);
		rp->exe = strndup(p->exe, SF_PATH_LEN);
		rp->forked = !!(p->flags & SF_PF_FORKED);
		rp->execed = !!(p->flags & SF_PF_EXECED);
		rp->track_memory = !!p->track_memory;
		if (!rp->execed) {
			if (in->snapshot)
				;
			else if (in->spawned && p->pid == in->main_pid)
				set_status(in->status, &rp->has_exit, &rp->exit_code, &rp->has_signal, &rp->signal);
			else if (find_reaped(in, p->pid, &status))
				set_status(status, &rp->has_exit, &rp->exit_code, &rp->has_signal, &rp->signal);
			else if (p->flags & SF_PF_EXITED) {
				rp->has_exit = 1;
				rp->exit_code = p->exit_code & 0xff;
			}
		}
		/* A process starts after the session and ends before now. */
		start = p->start_ns;
		end = p->end_ns ? p->end_ns : end_ns;
		if (start < s->start_ns || start > now || (p->end_ns && (p->end_ns < start || p->end_ns > now))) {
			session_corrupt(s, p, SP_PROCESS);
			rp->duration_ns = 0;
		} else {
			rp->duration_ns = end > start ? end - start : 0;
		}
		/* The agent's own warnings, unless its record is garbage. */
		if (ok && (p->flags & SF_PF_BAD_SAMPLE_RATE))
			add_warning(r, "PTRACE_SAMPLE_RATE was invalid; the agent used 1");
		if (ok && (p->flags & SF_PF_BAD_MAX_DEPTH))
			add_warning(r, "PTRACE_MAX_DEPTH was invalid; the agent used 64");
		if (ok && (p->flags & SF_PF_BAD_TRACK_MEMORY))
			add_warning(r, "PTRACE_TRACK_MEMORY was invalid; the agent used 1");
		if (ok && (p->flags & SF_PF_THREADS_FULL))
			add_warning(r, "the session image filled up: some threads were not recorded");
		if (p->flags & SF_PF_MAP_FULL)
			add_warning(r, "a process's address space (its RLIMIT_AS or its mappings) left no room to map more "
				       "of the session image: some detail of it was not recorded");
		add_unfollowed(r, s, p);
		{
			const struct sf_api *a =
				session_get(s, p, SP_PROCESS, __atomic_load_n(&p->api, __ATOMIC_ACQUIRE), sizeof(*a));

			if (a && a->paused_allocs <= SESSION_MAX_COUNT && a->paused_bytes <= SESSION_MAX_BYTES &&
			    a->paused_samples <= SESSION_MAX_COUNT && a->pauses <= SESSION_MAX_COUNT) {
				rp->api.present = 1;
				rp->api.paused_now = !!a->paused;
				rp->api.pauses = a->pauses;
				rp->api.paused_allocs = a->paused_allocs;
				rp->api.paused_bytes = a->paused_bytes;
				rp->api.paused_samples = a->paused_samples;
				rp->api.snapshots = a->snapshots;
				rp->api.resets = a->resets;
				rp->api.refused_resets = a->refused_resets;
				rp->api.reset_ns = a->reset_ns > p->start_ns ? a->reset_ns - p->start_ns : 0;
			} else if (a) {
				session_corrupt(s, p, SP_PROCESS);
			}
		}
		if (rp->track_memory && (err = build_memory(rp, s, p, r)))
			return err;
		if ((err = report_cpu_build(r, rp, s, p)))
			return err;
		if ((err = report_func_build(r, rp, s, p)))
			return err;
		if ((err = report_time_build(r, rp, s, p, i, in->series)))
			return err;
	}
	r->loaded = r->nprocs > 0;
	report_cpu_coverage(r);
	if (s) {
		warn_corrupt(r, s, SF_MAX_PROCS, 0);
		for (uint32_t i = 0; i < n; i++)
			warn_corrupt(r, s, i, session_process(s, i)->pid);
	}
	if (!r->loaded)
		snprintf(r->reason, sizeof(r->reason), "%s",
			 in->not_loaded_reason ? in->not_loaded_reason
					       : in->spawned ? "the program never loaded the agent (LD_PRELOAD was "
							       "cleared, ignored or the program did not start)"
							     : "the program was not started");
	return 0;
}

void report_free(struct report *r)
{
	free_argv(r->argv);
	for (size_t i = 0; i < r->nprocs; i++) {
		struct rprocess *p = &r->procs[i];
		free_argv(p->argv);
		free(p->exe);
		for (size_t k = 0; k < p->mem.nsites; k++)
			free(p->mem.sites[k].stack.ids);
		free(p->mem.sites);
		free(p->mem.leaks);
		free(p->mem.reachable);
		for (size_t k = 0; k < p->mapped.nsites; k++)
			free(p->mapped.sites[k].stack.ids);
		free(p->mapped.sites);
		free(p->mem.suppressed);
		free(p->threads);
		report_cpu_free(p);
		report_time_free(p);
	}
	report_func_free(r);
	free(r->snapshot_label);
	free(r->procs);
	for (size_t i = 0; i < r->nwarnings; i++)
		free(r->warnings[i]);
	free(r->warnings);
	if (r->own_symctx)
		symctx_free(r->symctx);
	rframes_free(r->frames);
	free(r->cpu_coverage_note);
	memset(r, 0, sizeof(*r));
}

void symctx_warm(struct symctx *c, const struct session *s)
{
	uint32_t n = session_nprocs(s);
	uint64_t exe_addr = 0;
	char exe[SF_PATH_LEN];

	session_read_begin(s);
	for (uint32_t i = 0; i < n; i++) {
		const struct sf_process *p = session_process(s, i);
		struct pmap pm;

		if (__atomic_load_n(&p->state, __ATOMIC_ACQUIRE) < SF_PROC_RUNNING)
			continue;
		session_str(exe, sizeof(exe), p->exe, sizeof(p->exe));
		pmap_build(&pm, c, s, p);
		for (size_t k = 0; k < pm.n && !exe_addr; k++)
			if (pm.m[k].synth && !strcmp(pm.m[k].path, exe))
				exe_addr = pm.m[k].synth + (pm.m[k].start - pm.m[k].bias);
		pmap_release(&pm);
	}
	/* Symbol tables of everything, DWARF of the program itself: other
	 * libraries' DWARF is read only if a stack needs it. */
	if (c->sym)
		symbolizer_warm(c->sym, exe_addr);
}

/* --- stacks for report_cpu.c ---------------------------------------------- */

struct report_modmap {
	struct pmap pm;
};

int report_modmap_new(struct report *r, const struct session *s, const struct sf_process *p,
		      struct report_modmap **out)
{
	struct report_modmap *mm;

	if (!r->symctx) {
		if (symctx_new(&r->symctx))
			return -ENOMEM;
		r->own_symctx = 1;
	}
	mm = calloc(1, sizeof(*mm));
	if (!mm)
		return -ENOMEM;
	pmap_build(&mm->pm, r->symctx, s, p);
	*out = mm;
	return 0;
}

/* The slot of (ip, how1) in tab[cap]: its own, or the empty one it takes. */
static size_t pframes_slot(const struct pframes *tab, size_t cap, uint64_t ip, uint8_t how1)
{
	size_t i = report_mix64(ip ^ how1) & (cap - 1);

	while (tab[i].how && (tab[i].ip != ip || tab[i].how != how1))
		i = (i + 1) & (cap - 1);
	return i;
}

/* The frames of address ip, looked up as how says (PF_*): from pm's cache
 * or symbolized now and added to the report's store. *below_main is set
 * when the frame is main's. 0 or -ENOMEM. */
static int pmap_frames(struct report *r, struct pmap *pm, uint64_t ip, unsigned how, const struct pframes **out,
		       int *below_main)
{
	struct sym_frame f[MAX_FRAMES_PER_IP];
	const struct pmod *m;
	struct pframes *e;
	size_t i;
	int n = 1;

	if (pm->nseen * 2 >= pm->seen_cap) {
		size_t ncap = pm->seen_cap ? pm->seen_cap * 2 : 256;
		struct pframes *ns = calloc(ncap, sizeof(*ns));

		if (!ns)
			return -ENOMEM;
		for (size_t k = 0; k < pm->seen_cap; k++)
			if (pm->seen[k].how)
				ns[pframes_slot(ns, ncap, pm->seen[k].ip, pm->seen[k].how)] = pm->seen[k];
		free(pm->seen);
		pm->seen = ns;
		pm->seen_cap = ncap;
	}
	i = pframes_slot(pm->seen, pm->seen_cap, ip, (uint8_t)(how + 1));
	if (pm->seen[i].how)
		goto found;
	m = pmap_find(pm, how & PF_RETURN && ip ? ip - 1 : ip);
	memset(f, 0, sizeof(f[0]));
	if (m && m->synth)
		n = symbolizer_lookup_flags(r->symctx->sym, m->synth + (ip - m->bias), !!(how & PF_RETURN),
					    how & PF_SYMTAB || m->runtime ? SYM_SYMTAB_ONLY : 0, f, MAX_FRAMES_PER_IP);
	else if (m)
		f[0].module = m->path;
	if (n < 1)
		n = 1; /* the symbolizer answers >= 1; a frame of its own regardless */
	if (!r->frames && !(r->frames = rframes_new()))
		return -ENOMEM;
	e = &pm->seen[i];
	e->first = r->frames->n;
	for (int k = 0; k < n; k++) {
		struct rframe x = {
		    .function = f[k].function,
		    .file = f[k].file,
		    .line = f[k].line,
		    .module = f[k].module,
		    .address = ip,
		    .offset = ip - (m ? m->bias : 0),
		    .inlined = f[k].inlined,
		};
		uint32_t id;

		if (rframes_add(r->frames, &x, &id))
			return -ENOMEM;
	}
	e->ip = ip;
	e->n = (uint8_t)n;
	e->how = (uint8_t)(how + 1);
	e->main = !f[n - 1].inlined && f[n - 1].function && !strcmp(f[n - 1].function, "main");
	pm->nseen++;
found:
	e = &pm->seen[i];
	if (e->main)
		*below_main = 1;
	*out = e;
	return 0;
}

/*
 * One symbolized stack of a trace: frame 0 as the address given, the
 * others as return addresses (looked up at address - 1). Frames in the
 * C/C++ runtime (libc, ld.so, libstdc++, libgcc_s: report_runtime_module)
 * and below main are named from the symbol table only: CPU samples and heap
 * stacks land in libc all the time (memcpy, strdup, malloc's insides),
 * and reading libc's compressed DWARF for their glibc-source lines costs
 * the report ~0.1 s, more than the profiling itself on a short program.
 * Each frame is charged to the reading budget. An address is symbolized
 * once a process (pm's cache); its frames are kept once, in the report's
 * store, and the stack holds their ids.
 */
static int pmap_stack(struct report *r, struct pmap *pm, const struct session *s, uint32_t trace, struct rstack *out)
{
	unsigned depth;
	const struct sf_trace *t = session_trace_depth(s, trace, &depth);
	size_t cap = 0;
	int below_main = 0;

	out->ids = NULL;
	out->store = NULL;
	out->n = 0;
	if (!t) {
		session_corrupt(s, pm->p, SP_TRACES);
		return 0;
	}
	depth = (unsigned)session_charge(s, pm->p, depth);
	/* One frame per address but for inlined calls: sized by the depth,
	 * grown only for those, trimmed at the end (a million stacks' ids
	 * are most of a report's memory). */
	cap = depth + 4;
	out->ids = malloc(cap * sizeof(*out->ids));
	if (!out->ids)
		return -ENOMEM;
	for (unsigned i = 0; i < depth; i++) {
		const struct pframes *e;

		if (pmap_frames(r, pm, t->ips[i], (i > 0 ? PF_RETURN : 0) | (below_main ? PF_SYMTAB : 0), &e,
				&below_main))
			return -ENOMEM;
		for (unsigned k = 0; k < e->n; k++) {
			if (out->n == cap) {
				uint32_t *ni = realloc(out->ids, (cap *= 2) * sizeof(*ni));
				if (!ni)
					return -ENOMEM;
				out->ids = ni;
			}
			out->ids[out->n++] = e->first + k;
		}
	}
	if (out->n && out->n < cap) {
		uint32_t *ni = realloc(out->ids, out->n * sizeof(*ni));

		if (ni)
			out->ids = ni;
	} else if (!out->n) {
		free(out->ids);
		out->ids = NULL;
	}
	out->store = r->frames;
	return 0;
}

/* --- the frame store --------------------------------------------------------- */

struct rframes *rframes_new(void)
{
	return calloc(1, sizeof(struct rframes));
}

void rframes_free(struct rframes *fs)
{
	if (!fs)
		return;
	for (size_t i = 0; i < fs->nchunks; i++)
		free(fs->chunks[i]);
	free(fs->chunks);
	free(fs);
}

int rframes_add(struct rframes *fs, const struct rframe *f, uint32_t *id)
{
	size_t c = fs->n >> RFRAMES_SHIFT;

	if (fs->n == UINT32_MAX)
		return -ENOMEM;
	if (c == fs->nchunks) {
		if (fs->nchunks == fs->chunks_cap) {
			size_t ncap = fs->chunks_cap ? fs->chunks_cap * 2 : 16;
			struct rframe **nc = realloc(fs->chunks, ncap * sizeof(*nc));

			if (!nc)
				return -ENOMEM;
			fs->chunks = nc;
			fs->chunks_cap = ncap;
		}
		if (!(fs->chunks[c] = malloc(sizeof(struct rframe) << RFRAMES_SHIFT)))
			return -ENOMEM;
		fs->nchunks++;
	}
	fs->chunks[c][fs->n & ((1u << RFRAMES_SHIFT) - 1)] = *f;
	*id = fs->n++;
	return 0;
}

int report_modmap_stack(struct report *r, struct report_modmap *mm, const struct session *s, uint32_t trace,
			struct rstack *out)
{
	return pmap_stack(r, &mm->pm, s, trace, out);
}

int report_modmap_addr(struct report *r, const struct report_modmap *mm, uint64_t addr, uint32_t gen, int is_return,
		       struct sym_frame *out, int max)
{
	const struct pmod *m = pmap_find_gen(&mm->pm, is_return && addr ? addr - 1 : addr, gen);
	int n = 0;

	if (m && m->synth && max > 0)
		n = symbolizer_lookup(r->symctx->sym, m->synth + (addr - m->bias), is_return, out, max);
	if (n <= 0) {
		memset(out, 0, sizeof(*out));
		out->module = m ? m->path : NULL;
		n = 1;
	}
	for (int k = 0; k < n; k++) {
		out[k].address = addr;
		out[k].offset = addr - (m ? m->bias : 0);
		if (!out[k].module && m)
			out[k].module = m->path;
	}
	return n;
}

void report_modmap_free(struct report_modmap *mm)
{
	if (mm)
		pmap_release(&mm->pm);
	free(mm);
}
