/* The per-executable summary: see summary.h. */
#include "summary.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "render.h"
#include "view.h"

static const char *exe_of(const struct rprocess *p)
{
	if (p->exe && *p->exe)
		return p->exe;
	return p->argv && p->argv[0] ? p->argv[0] : "?";
}

/* A name -> sum table, small and linear: a summary line shows the top 5. */
struct acc {
	struct sum_fn *v;
	size_t n, cap;
};

static int acc_add(struct acc *a, const char *name, uint64_t value)
{
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->v[i].name, name)) {
			a->v[i].value += value;
			return 0;
		}
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 32;
		struct sum_fn *nv = realloc(a->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		a->v = nv;
		a->cap = cap;
	}
	a->v[a->n++] = (struct sum_fn){name, value};
	return 0;
}

static int fn_cmp(const void *x, const void *y)
{
	const struct sum_fn *a = x, *b = y;

	return a->value < b->value ? 1 : a->value > b->value ? -1 : strcmp(a->name, b->name);
}

static void acc_top(struct acc *a, struct sum_fn *out, size_t *n)
{
	qsort(a->v, a->n, sizeof(*a->v), fn_cmp);
	*n = 0;
	for (size_t i = 0; i < a->n && *n < SUMMARY_TOP; i++)
		if (a->v[i].value)
			out[(*n)++] = a->v[i];
	free(a->v);
	memset(a, 0, sizeof(*a));
}

static int exe_cmp(const void *x, const void *y)
{
	const struct sum_exe *a = x, *b = y;

	if (a->cpu_samples != b->cpu_samples)
		return a->cpu_samples < b->cpu_samples ? 1 : -1;
	if (a->wall_ns != b->wall_ns)
		return a->wall_ns < b->wall_ns ? 1 : -1;
	return strcmp(a->exe, b->exe);
}

int summary_build(struct summary *s, const struct report *r)
{
	memset(s, 0, sizeof(*s));
	s->nprocs = r->nprocs;
	s->exes = calloc(r->nprocs ? r->nprocs : 1, sizeof(*s->exes));
	if (!s->exes)
		return -ENOMEM;
	for (size_t i = 0; i < r->nprocs; i++) {
		const char *exe = exe_of(&r->procs[i]);
		struct sum_exe *e = NULL;
		struct acc cpu = {0}, func = {0};
		char buf[256];

		for (size_t k = 0; k < s->nexes && !e; k++)
			if (!strcmp(s->exes[k].exe, exe))
				e = &s->exes[k];
		if (e)
			continue; /* merged when its first process was seen */
		e = &s->exes[s->nexes++];
		e->exe = exe;
		for (size_t k = i; k < r->nprocs; k++) {
			const struct rprocess *p = &r->procs[k];
			int err = 0;

			if (strcmp(exe_of(p), exe))
				continue;
			e->procs++;
			e->wall_ns += p->duration_ns;
			e->cpu_samples += p->cpu.samples;
			e->hz = e->hz ? e->hz : p->cpu.hz;
			e->allocations += p->mem.allocations;
			e->bytes += p->mem.bytes_allocated;
			e->live_bytes += p->mem.live_bytes;
			if (p->mem.peak_bytes > e->peak_bytes)
				e->peak_bytes = p->mem.peak_bytes;
			for (size_t f = 0; f < p->cpu.nfns && !err; f++)
				err = acc_add(&cpu, p->cpu.fns[f].name ? p->cpu.fns[f].name : "??", p->cpu.fns[f].self);
			for (size_t f = 0; p->func && f < p->func->nfuncs && !err; f++) {
				const char *n = view_func_name(p->func, f, buf, sizeof(buf));
				err = acc_add(&func, n == buf ? "[unknown]" : n, p->func->funcs[f].self_ns);
			}
			if (err) {
				free(cpu.v);
				free(func.v);
				summary_free(s);
				return err;
			}
		}
		acc_top(&cpu, e->cpu, &e->ncpu);
		acc_top(&func, e->func, &e->nfunc);
	}
	qsort(s->exes, s->nexes, sizeof(*s->exes), exe_cmp);
	return 0;
}

void summary_free(struct summary *s)
{
	free(s->exes);
	memset(s, 0, sizeof(*s));
}

int render_summary_text(const struct summary *s, const struct report *r, FILE *f)
{
	char b1[32], b2[32], b3[32];

	fprintf(f, "== ptrace-run report:");
	for (char **a = r->argv; a && *a; a++)
		fprintf(f, " %s", render_text_esc(*a));
	fprintf(f, " ==\n%zu processes of %zu executables, by CPU samples:\n", s->nprocs, s->nexes);
	for (size_t i = 0; i < s->nexes; i++) {
		const struct sum_exe *e = &s->exes[i];

		fprintf(f, "\n  %s: %zu process%s, wall %.3f s", render_text_esc(e->exe), e->procs, e->procs == 1 ? "" : "es",
			(double)e->wall_ns / 1e9);
		if (e->hz)
			fprintf(f, ", CPU %.3f s (%" PRIu64 " samples)", (double)e->cpu_samples / e->hz, e->cpu_samples);
		fprintf(f, "\n    heap: %" PRIu64 " allocations, %s allocated, peak %s (one process), %s live at exit\n",
			e->allocations, report_bytes(e->bytes, b1, sizeof(b1)), report_bytes(e->peak_bytes, b2, sizeof(b2)),
			report_bytes(e->live_bytes, b3, sizeof(b3)));
		if (e->ncpu) {
			fprintf(f, "    CPU:");
			for (size_t k = 0; k < e->ncpu; k++)
				fprintf(f, "%s %s %" PRIu64, k ? "," : "", render_text_esc(e->cpu[k].name), e->cpu[k].value);
			fputc('\n', f);
		}
		if (e->nfunc) {
			fprintf(f, "    self time:");
			for (size_t k = 0; k < e->nfunc; k++)
				fprintf(f, "%s %s %.3f ms", k ? "," : "", render_text_esc(e->func[k].name),
					(double)e->func[k].value / 1e6);
			fputc('\n', f);
		}
	}
	fprintf(f, "\nOne process or executable: ptrace-run report --pid=PID or --exe=NAME; every section: --all\n");
	return fflush(f) || ferror(f) ? -5 : 0;
}
