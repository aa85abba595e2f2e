/* ptrace-run diff: see diff.h. */
#include "diff.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "options.h"
#include "output.h"
#include "profile.h"
#include "render.h"

#define DIFF_INF 1e300

/* --- a name -> index map ----------------------------------------------------- */

struct nmap {
	const char **keys;
	size_t *vals;
	size_t cap, n;
};

/* The index of key, or SIZE_MAX and *slot where it goes (-1: no memory). */
static size_t nmap_find(struct nmap *m, const char *key, size_t *slot)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 64;
		const char **nk = calloc(ncap, sizeof(*nk));
		size_t *nv = calloc(ncap, sizeof(*nv));

		if (!nk || !nv) {
			free(nk);
			free(nv);
			*slot = SIZE_MAX;
			return SIZE_MAX;
		}
		for (size_t k = 0; k < m->cap; k++) {
			if (!m->keys[k])
				continue;
			for (i = bytes_hash_str(m->keys[k]) & (ncap - 1); nk[i]; i = (i + 1) & (ncap - 1))
				;
			nk[i] = m->keys[k];
			nv[i] = m->vals[k];
		}
		free(m->keys);
		free(m->vals);
		m->keys = nk;
		m->vals = nv;
		m->cap = ncap;
	}
	for (i = bytes_hash_str(key) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1))
		if (!strcmp(m->keys[i], key))
			return m->vals[i];
	*slot = i;
	return SIZE_MAX;
}

static void nmap_put(struct nmap *m, size_t slot, const char *key, size_t v)
{
	m->keys[slot] = key;
	m->vals[slot] = v;
	m->n++;
}

static void nmap_free(struct nmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

/* Room for one more element of a growing array. */
static int room(void **arr, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 64;
	void *na = realloc(*arr, ncap * size);

	if (!na)
		return -1;
	memset((char *)na + *cap * size, 0, (ncap - *cap) * size);
	*arr = na;
	*cap = ncap;
	return 0;
}

/* --- gathering ------------------------------------------------------------------ */

struct gather {
	struct diff *d;
	struct nmap fmap, smap, cmap, kmap;
	size_t fcap, scap, ccap, kcap;
	int err;
};

/* The index of name in an array of n elements of size bytes, each
 * starting with its name, adding a zeroed one; SIZE_MAX, g->err set, when
 * out of memory. */
static size_t named(struct gather *g, struct nmap *m, void **arr, size_t *n, size_t *cap, size_t size,
		    const char *name)
{
	size_t slot, i = nmap_find(m, name, &slot);

	if (i != SIZE_MAX)
		return i;
	if (slot == SIZE_MAX || room(arr, *n, cap, size)) {
		g->err = -ENOMEM;
		return SIZE_MAX;
	}
	i = (*n)++;
	*(const char **)((char *)*arr + i * size) = name;
	nmap_put(m, slot, name, i);
	return i;
}

static struct dfunc *func_of(struct gather *g, const char *name)
{
	size_t i = named(g, &g->fmap, (void **)&g->d->funcs, &g->d->nfuncs, &g->fcap, sizeof(struct dfunc), name);

	return i == SIZE_MAX ? NULL : &g->d->funcs[i];
}

static struct dcpu *cpu_of(struct gather *g, const char *name)
{
	size_t i = named(g, &g->cmap, (void **)&g->d->cpu, &g->d->ncpu, &g->ccap, sizeof(struct dcpu), name);

	return i == SIZE_MAX ? NULL : &g->d->cpu[i];
}

/* The names along a stack, innermost first (malloc'ed). */
static char *stack_key(const struct rstack *st)
{
	char *buf = NULL, name[256];
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return NULL;
	if (!st->n)
		fputs("[no stack]", m);
	for (unsigned i = 0; i < st->n; i++)
		fprintf(m, "%s%s", i ? " <- " : "", view_frame_name(rstack_frame(st, i), name, sizeof(name)));
	fclose(m);
	return buf;
}

static struct dsite *site_of(struct gather *g, const struct rstack *st)
{
	char *key = stack_key(st);
	size_t slot, i;

	if (!key) {
		g->err = -ENOMEM;
		return NULL;
	}
	i = nmap_find(&g->smap, key, &slot);
	if (i != SIZE_MAX) {
		free(key);
		return &g->d->sites[i];
	}
	if (slot == SIZE_MAX || room((void **)&g->d->sites, g->d->nsites, &g->scap, sizeof(struct dsite))) {
		free(key);
		g->err = -ENOMEM;
		return NULL;
	}
	i = g->d->nsites++;
	g->d->sites[i].key = key;
	g->d->sites[i].name = st->n ? rstack_frame(st, 0)->function : NULL;
	nmap_put(&g->smap, slot, key, i);
	return &g->d->sites[i];
}

static void add_stack(struct gather *g, const char *line, size_t len, int side)
{
	const char *sp = memrchr(line, ' ', len);
	char *key;
	size_t slot, i;

	if (!sp || sp == line)
		return;
	key = strndup(line, (size_t)(sp - line));
	if (!key) {
		g->err = -ENOMEM;
		return;
	}
	i = nmap_find(&g->kmap, key, &slot);
	if (i == SIZE_MAX) {
		if (slot == SIZE_MAX ||
		    room((void **)&g->d->stacks, g->d->nstacks, &g->kcap, sizeof(*g->d->stacks))) {
			free(key);
			g->err = -ENOMEM;
			return;
		}
		i = g->d->nstacks++;
		g->d->stacks[i].stack = key;
		nmap_put(&g->kmap, slot, key, i);
	} else {
		free(key);
	}
	g->d->stacks[i].v[side] += strtoull(sp + 1, NULL, 10);
}

static void gather(struct gather *g, const struct report *r, int side, enum view_metric metric)
{
	struct dtotals *t = &g->d->tot;
	struct view_opts vo = {.metric = metric, .no_pid = 1};
	char *folded = NULL, name[256];
	size_t flen = 0;
	FILE *m;

	t->duration_ns[side] = r->duration_ns;
	for (size_t k = 0; k < r->nprocs && !g->err; k++) {
		const struct rprocess *p = &r->procs[k];
		const struct rfuncs *F = p->func;

		t->cpu_samples[side] += p->cpu.samples;
		t->allocations[side] += p->mem.allocations;
		t->bytes[side] += p->mem.bytes_allocated;
		t->live_bytes[side] += p->mem.live_bytes;
		if (p->mem.leak_checked) {
			t->leak_checked[side] = 1;
			t->lost_bytes[side] += p->mem.lk_bytes[SF_LEAK_DEFINITE] + p->mem.lk_bytes[SF_LEAK_INDIRECT] +
					       p->mem.lk_bytes[SF_LEAK_POSSIBLE];
		}
		if (p->mem.peak_bytes > t->peak_bytes[side])
			t->peak_bytes[side] = p->mem.peak_bytes;
		if (F) {
			t->calls[side] += F->calls;
			t->func_ns[side] += F->total_ns;
		}
		for (size_t i = 0; F && i < F->nfuncs; i++) {
			const char *fname = view_func_name(F, i, name, sizeof(name));
			/* A name made up in name[] would not outlive this loop. */
			struct dfunc *df = func_of(g, fname == name ? "[unknown]" : fname);

			if (!df)
				return;
			*(side ? &df->in_new : &df->in_base) = 1;
			df->calls[side] += F->funcs[i].calls;
			df->total_ns[side] += F->funcs[i].total_ns;
			df->self_ns[side] += F->funcs[i].self_ns;
			if (F->funcs[i].p95_ns > df->p95_ns[side])
				df->p95_ns[side] = F->funcs[i].p95_ns;
		}
		for (size_t i = 0; i < p->mem.nsites; i++) {
			const struct rsite *s = &p->mem.sites[i];
			struct dsite *ds = site_of(g, &s->stack);

			if (!ds)
				return;
			*(side ? &ds->in_new : &ds->in_base) = 1;
			ds->allocs[side] += s->allocs;
			ds->bytes[side] += s->bytes;
			ds->live_blocks[side] += s->live_blocks;
			ds->live_bytes[side] += s->live_bytes;
		}
		for (size_t i = 0; i < p->cpu.nfns; i++) {
			struct dcpu *dc = cpu_of(g, p->cpu.fns[i].name ? p->cpu.fns[i].name : "??");

			if (!dc)
				return;
			dc->self[side] += p->cpu.fns[i].self;
		}
	}
	/* The folded view's stacks: the report's own folded lines. */
	m = open_memstream(&folded, &flen);
	if (!m) {
		g->err = -ENOMEM;
		return;
	}
	render_folded(r, m, &vo);
	fclose(m);
	for (char *line = folded, *nl; line && *line && !g->err; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			break;
		add_stack(g, line, (size_t)(nl - line), side);
	}
	free(folded);
}

/* --- changes ------------------------------------------------------------------ */

static double pct(double base, double now)
{
	return base > 0 ? (now - base) / base * 100.0 : now > 0 ? DIFF_INF : 0.0;
}

struct clist {
	struct dchange *v;
	size_t n, cap;
};

static int change(struct diff *d, struct clist *reg, struct clist *imp, enum diff_kind kind, const char *name,
		  const char *metric, double base, double now, double floor)
{
	struct clist *l;
	double up = now - base;

	if (fabs(up) < floor || fabs(up) <= 0)
		return 0;
	if (up > 0 && now > base * (1.0 + d->threshold / 100.0))
		l = reg;
	else if (up < 0 && base > now * (1.0 + d->threshold / 100.0))
		l = imp;
	else
		return 0;
	if (room((void **)&l->v, l->n, &l->cap, sizeof(*l->v)))
		return -ENOMEM;
	l->v[l->n++] = (struct dchange){kind, name, metric, base, now, pct(base, now)};
	return 0;
}

static int by_change(const void *a, const void *b)
{
	const struct dchange *x = a, *y = b;
	double cx = fabs(x->change_pct), cy = fabs(y->change_pct);

	if (cx != cy)
		return cx < cy ? 1 : -1;
	return strcmp(x->name, y->name);
}

static int func_cmp(const void *a, const void *b)
{
	const struct dfunc *x = a, *y = b;
	double cx = (double)x->self_ns[1] - (double)x->self_ns[0], cy = (double)y->self_ns[1] - (double)y->self_ns[0];

	return cx < cy ? 1 : cx > cy ? -1 : strcmp(x->name, y->name);
}

static int site_cmp(const void *a, const void *b)
{
	const struct dsite *x = a, *y = b;
	double cx = (double)x->bytes[1] - (double)x->bytes[0], cy = (double)y->bytes[1] - (double)y->bytes[0];

	return cx < cy ? 1 : cx > cy ? -1 : strcmp(x->key, y->key);
}

static int cpu_cmp(const void *a, const void *b)
{
	const struct dcpu *x = a, *y = b;
	double cx = x->share[1] - x->share[0], cy = y->share[1] - y->share[0];

	return cx < cy ? 1 : cx > cy ? -1 : strcmp(x->name, y->name);
}

static int stack_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dstack *)a)->stack, ((const struct dstack *)b)->stack);
}

int diff_build(struct diff *d, const struct report *base, const struct report *now, enum view_metric metric)
{
	struct gather g = {.d = d};
	struct clist reg = {0}, imp = {0};
	const struct dtotals *t = &d->tot;
	double fl;
	int err = 0;

	if (metric == VM_AUTO)
		metric = view_metric_resolve(base, VM_AUTO);
	gather(&g, base, 0, metric);
	if (!g.err)
		gather(&g, now, 1, metric);
	nmap_free(&g.fmap);
	nmap_free(&g.smap);
	nmap_free(&g.cmap);
	nmap_free(&g.kmap);
	if (g.err)
		return g.err;
	for (size_t i = 0; i < d->ncpu; i++)
		for (int s = 0; s < 2; s++)
			d->cpu[i].share[s] = t->cpu_samples[s] ? 100.0 * (double)d->cpu[i].self[s] / (double)t->cpu_samples[s]
							       : 0.0;
	/* The floors: min_share of the base's total (of the new one's when
	 * the base has none), and at least one unit. */
	fl = fmax(1.0, d->min_share / 100.0 * (double)(t->func_ns[0] ? t->func_ns[0] : t->func_ns[1]));
	for (size_t i = 0; i < d->nfuncs && !err; i++)
		err = change(d, &reg, &imp, DK_TIME, d->funcs[i].name, "self_ns", (double)d->funcs[i].self_ns[0],
			     (double)d->funcs[i].self_ns[1], fl);
	/* Lost bytes: any rise beyond the threshold regresses, a first leak
	 * too (a CI check for new leaks), when both runs were checked. */
	if (t->leak_checked[0] && t->leak_checked[1])
		err = change(d, &reg, &imp, DK_MEMORY, "(lost at exit)", "lost_bytes", (double)t->lost_bytes[0],
			     (double)t->lost_bytes[1], 1.0);
	for (size_t i = 0; i < d->nsites && !err; i++) {
		const struct dsite *s = &d->sites[i];
		double fb = fmax(1.0, d->min_share / 100.0 * (double)(t->bytes[0] ? t->bytes[0] : t->bytes[1]));
		double fv = fmax(1.0, d->min_share / 100.0 *
					      (double)(t->live_bytes[0] ? t->live_bytes[0] : t->live_bytes[1]));

		err = change(d, &reg, &imp, DK_MEMORY, s->key, "bytes", (double)s->bytes[0], (double)s->bytes[1], fb);
		if (!err)
			err = change(d, &reg, &imp, DK_MEMORY, s->key, "live_bytes", (double)s->live_bytes[0],
				     (double)s->live_bytes[1], fv);
	}
	for (size_t i = 0; i < d->ncpu && !err; i++) {
		/* Shares of sampled CPU carry sampling noise: a change must
		 * also exceed three standard errors of the difference of two
		 * binomial proportions (n samples each run). */
		double p0 = d->cpu[i].share[0] / 100.0, p1 = d->cpu[i].share[1] / 100.0;
		double n0 = (double)(t->cpu_samples[0] ? t->cpu_samples[0] : 1);
		double n1 = (double)(t->cpu_samples[1] ? t->cpu_samples[1] : 1);
		double se = sqrt(p0 * (1 - p0) / n0 + p1 * (1 - p1) / n1) * 100.0;

		err = change(d, &reg, &imp, DK_CPU, d->cpu[i].name, "cpu_share", d->cpu[i].share[0], d->cpu[i].share[1],
			     fmax(fmax(d->min_share, 3.0 * se), 1e-9));
	}
	if (err) {
		free(reg.v);
		free(imp.v);
		return err;
	}
	qsort(reg.v, reg.n, sizeof(*reg.v), by_change);
	qsort(imp.v, imp.n, sizeof(*imp.v), by_change);
	d->regressions = reg.v;
	d->nregressions = reg.n;
	d->improvements = imp.v;
	d->nimprovements = imp.n;
	qsort(d->funcs, d->nfuncs, sizeof(*d->funcs), func_cmp);
	qsort(d->sites, d->nsites, sizeof(*d->sites), site_cmp);
	qsort(d->cpu, d->ncpu, sizeof(*d->cpu), cpu_cmp);
	qsort(d->stacks, d->nstacks, sizeof(*d->stacks), stack_cmp);
	return 0;
}

void diff_free(struct diff *d)
{
	for (size_t i = 0; i < d->nsites; i++)
		free(d->sites[i].key);
	for (size_t i = 0; i < d->nstacks; i++)
		free(d->stacks[i].stack);
	free(d->funcs);
	free(d->sites);
	free(d->cpu);
	free(d->stacks);
	free(d->regressions);
	free(d->improvements);
}

size_t diff_failures(const struct diff *d)
{
	size_t n = 0;

	for (size_t i = 0; i < d->nregressions; i++)
		n += (d->regressions[i].kind & d->fail_on) != 0;
	return n;
}

/* --- the command ------------------------------------------------------------- */

static void diff_usage(FILE *f)
{
	fprintf(f,
		"Usage: ptrace-run diff [options] BASE NEW\n"
		"\n"
		"Compares two profile files (a run before and after a change) and exits 1\n"
		"when something regressed beyond the threshold, 0 otherwise, 2 on bad input.\n"
		"Functions are matched by name, allocation sites by the names along their\n"
		"stacks, so two builds of a program compare. BASE or NEW written FILE:N is\n"
		"snapshot N of FILE: what grew between two points of one run.\n"
		"\n"
		"  --threshold=PCT         a rise beyond PCT percent regresses (default 10)\n"
		"  --min-share=PCT         ... when it is also at least PCT percent of the\n"
		"                          base run's total of that figure (default 1):\n"
		"                          self time, bytes allocated, bytes live at exit,\n"
		"                          percentage points of CPU samples\n"
		"  --fail-on=LIST          which regressions fail: time, memory, cpu,\n"
		"                          comma-separated (default: all three)\n"
		"  -f, --format=FMT        text (default), json, or folded (stack BASE NEW,\n"
		"                          for differential flame graphs)\n"
		"      --metric=M          what folded counts (as for ptrace-run report)\n"
		"  -o, --output=FILE       write to FILE (default: stdout)\n"
		"      --filter=GLOBS, --exclude=GLOBS   function timing, for both\n"
		"  -h, --help              this help\n");
}

static int parse_pct(const char *v, double *out)
{
	char *end;
	double x;

	if (!v || !*v)
		return -1;
	x = strtod(v, &end);
	if (*end == '%')
		end++;
	if (*end || !(x >= 0 && x <= 1e6))
		return -1;
	*out = x;
	return 0;
}

static int parse_fail_on(const char *v, unsigned *out)
{
	unsigned m = 0;
	char buf[128], *save = NULL;

	if (!v || !*v || strlen(v) >= sizeof(buf))
		return -1;
	strcpy(buf, v);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!strcmp(t, "time"))
			m |= DK_TIME;
		else if (!strcmp(t, "memory"))
			m |= DK_MEMORY;
		else if (!strcmp(t, "cpu"))
			m |= DK_CPU;
		else
			return -1;
	}
	*out = m;
	return m ? 0 : -1;
}

/* --name=V or --name V; NULL when missing. */
static const char *value(int argc, char **argv, int *i, const char *a, size_t n)
{
	if (a[n] == '=')
		return a + n + 1;
	if (a[n])
		return n == 2 ? a + 2 : NULL;
	return *i + 1 < argc ? argv[++*i] : NULL;
}

static int bad(const char *what, const char *v, const char *expect)
{
	fprintf(stderr, "ptrace-run diff: %s=%s: %s\n", what, v ? v : "", expect);
	return 2;
}

int diff_main(int argc, char **argv)
{
	const char *files[2] = {NULL, NULL}, *output = NULL, *filter = NULL, *exclude = NULL, *v;
	enum { TEXT, JSON, FOLDED } format = TEXT;
	struct profile prof[2];
	struct report rep[2];
	struct diff d = {.threshold = 10, .min_share = 1, .fail_on = DK_TIME | DK_MEMORY | DK_CPU};
	struct output out = {.fd = -1};
	enum view_metric metric = VM_AUTO;
	char err[256];
	int nfiles = 0, rc, built = 0;
	FILE *f = stdout;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		size_t n = strcspn(a, "=");

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			diff_usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--") || a[0] != '-' || !a[1]) {
			for (i += !strcmp(a, "--"); i < argc; i++) {
				if (nfiles == 2) {
					fprintf(stderr, "ptrace-run diff: two profile files, BASE and NEW (%s is a third)\n",
						argv[i]);
					return 2;
				}
				files[nfiles++] = argv[i];
				if (strcmp(a, "--"))
					break; /* one positional; options may follow */
			}
			continue;
		}
		if (n == 11 && !strncmp(a, "--threshold", 11)) {
			if (parse_pct(v = value(argc, argv, &i, a, 11), &d.threshold))
				return bad("--threshold", v, "expected a percentage, e.g. 10 or 2.5");
		} else if (n == 11 && !strncmp(a, "--min-share", 11)) {
			if (parse_pct(v = value(argc, argv, &i, a, 11), &d.min_share))
				return bad("--min-share", v, "expected a percentage, e.g. 1 or 0.5");
		} else if (n == 9 && !strncmp(a, "--fail-on", 9)) {
			if (parse_fail_on(v = value(argc, argv, &i, a, 9), &d.fail_on))
				return bad("--fail-on", v, "expected time, memory and/or cpu, comma-separated");
		} else if ((n == 8 && !strncmp(a, "--format", 8)) || (a[1] == 'f' && a[1] != '-')) {
			v = value(argc, argv, &i, a, a[1] == 'f' ? 2 : 8);
			if (v && !strcmp(v, "text"))
				format = TEXT;
			else if (v && !strcmp(v, "json"))
				format = JSON;
			else if (v && !strcmp(v, "folded"))
				format = FOLDED;
			else
				return bad("--format", v, "expected text, json or folded");
		} else if (n == 8 && !strncmp(a, "--metric", 8)) {
			if (!(v = value(argc, argv, &i, a, 8)) || view_metric_parse(v, &metric)) {
				fprintf(stderr, "ptrace-run diff: --metric=%s: expected one of %s\n", v ? v : "",
					view_metric_names());
				return 2;
			}
		} else if ((n == 8 && !strncmp(a, "--output", 8)) || (a[1] == 'o' && a[1] != '-')) {
			if (!(output = value(argc, argv, &i, a, a[1] == 'o' ? 2 : 8)) || !*output)
				return bad("--output", output, "expected a file name");
		} else if (n == 8 && !strncmp(a, "--filter", 8)) {
			if (!(filter = value(argc, argv, &i, a, 8)) || options_check_globs(filter))
				return bad("--filter", filter, "expected comma-separated globs on function names");
		} else if (n == 9 && !strncmp(a, "--exclude", 9)) {
			if (!(exclude = value(argc, argv, &i, a, 9)) || options_check_globs(exclude))
				return bad("--exclude", exclude, "expected comma-separated globs on function names");
		} else {
			fprintf(stderr, "ptrace-run diff: unknown option %.*s (see ptrace-run diff --help)\n", (int)n, a);
			return 2;
		}
	}
	if (nfiles != 2) {
		fprintf(stderr, "ptrace-run diff: two profile files needed (usage: ptrace-run diff [options] BASE NEW)\n");
		return 2;
	}
	for (int k = 0; k < 2; k++) {
		if (profile_read_spec(files[k], 0, &prof[k], err, sizeof(err))) {
			fprintf(stderr, "ptrace-run diff: %s: %s\n", files[k], err);
			if (k)
				profile_free(&prof[0]);
			return 2;
		}
	}
	rc = 2;
	for (int k = 0; k < 2; k++) {
		prof[k].in.func_filter = filter;
		prof[k].in.func_exclude = exclude;
		if (report_build(&rep[k], &prof[k].s, &prof[k].in)) {
			fprintf(stderr, "ptrace-run diff: out of memory building the report of %s\n", files[k]);
			goto out;
		}
		built++;
	}
	d.base_name = files[0];
	d.new_name = files[1];
	if (diff_build(&d, &rep[0], &rep[1], metric)) {
		fprintf(stderr, "ptrace-run diff: out of memory comparing the reports\n");
		goto out_diff;
	}
	if (output && strcmp(output, "-")) {
		if (output_open(&out, output, OUTPUT_DEFAULT_MODE, err, sizeof(err)) || output_ready(&out)) {
			fprintf(stderr, "ptrace-run diff: -o %s: %s\n", output, out.fd < 0 ? err : strerror(EIO));
			output_discard(&out);
			goto out_diff;
		}
		f = out.f;
	}
	rc = format == JSON ? render_diff_json(&d, f) : format == FOLDED ? render_diff_folded(&d, f)
									   : render_diff_text(&d, f);
	if (out.f) {
		int crc = output_close(&out);
		rc = rc ? rc : crc;
	} else if (fflush(stdout)) {
		rc = -EIO;
	}
	if (rc) {
		fprintf(stderr, "ptrace-run diff: writing the comparison: %s\n", strerror(rc < 0 ? -rc : EIO));
		rc = 2;
	} else {
		rc = diff_failures(&d) ? 1 : 0;
	}
out_diff:
	diff_free(&d);
out:
	for (int k = 0; k < built; k++)
		report_free(&rep[k]);
	profile_free(&prof[0]);
	profile_free(&prof[1]);
	return rc;
}
