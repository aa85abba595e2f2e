/*
 * The views of a comparison (cli/diff.h): text for a person (totals, the
 * regressions and improvements, then the functions, sites and CPU
 * functions that changed most), JSON for tools, and folded stacks with
 * both values ("stack BASE NEW": differential flame graphs, as
 * flamegraph.pl's difffolded.pl makes them).
 */
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "diff.h"
#include "render.h"

#define TOP 20

static const char *kind_name(enum diff_kind k)
{
	return k == DK_TIME ? "time" : k == DK_MEMORY ? "memory" : "cpu";
}

static void pct_text(char *buf, size_t len, double base, double now)
{
	if (base <= 0)
		snprintf(buf, len, now > 0 ? "new" : "=");
	else
		snprintf(buf, len, "%+.1f%%", (now - base) / base * 100.0);
}

/* A figure of metric for people. */
static const char *figure(char *buf, size_t len, const char *metric, double v)
{
	if (!strcmp(metric, "self_ns") || !strcmp(metric, "ns")) {
		if (v >= 1e9)
			snprintf(buf, len, "%.3f s", v / 1e9);
		else if (v >= 1e6)
			snprintf(buf, len, "%.3f ms", v / 1e6);
		else if (v >= 1e3)
			snprintf(buf, len, "%.1f us", v / 1e3);
		else
			snprintf(buf, len, "%.0f ns", v);
	} else if (!strcmp(metric, "cpu_share")) {
		snprintf(buf, len, "%.2f%%", v);
	} else if (!strcmp(metric, "bytes") || !strcmp(metric, "live_bytes") || !strcmp(metric, "lost_bytes")) {
		report_bytes((uint64_t)v, buf, len);
	} else {
		snprintf(buf, len, "%.0f", v);
	}
	return buf;
}

static void total_line(FILE *f, const char *what, const char *metric, uint64_t base, uint64_t now)
{
	char a[32], b[32], p[32];

	pct_text(p, sizeof(p), (double)base, (double)now);
	fprintf(f, "  %-22s %14s -> %-14s %s\n", what, figure(a, sizeof(a), metric, (double)base),
		figure(b, sizeof(b), metric, (double)now), p);
}

static void changes_text(FILE *f, const char *title, const struct dchange *c, size_t n, unsigned fail_on)
{
	char a[32], b[32], p[32];

	fprintf(f, "\n%s: %zu\n", title, n);
	for (size_t i = 0; i < n; i++) {
		pct_text(p, sizeof(p), c[i].base, c[i].now);
		fprintf(f, "  %-6s %-10s %12s -> %-12s %9s  %s%s\n", kind_name(c[i].kind), c[i].metric,
			figure(a, sizeof(a), c[i].metric, c[i].base), figure(b, sizeof(b), c[i].metric, c[i].now), p,
			render_text_esc(c[i].name), fail_on & c[i].kind ? "" : "  (not in --fail-on)");
	}
}

int render_diff_text(const struct diff *d, FILE *f)
{
	const struct dtotals *t = &d->tot;
	char a[32], b[32], p[32];
	size_t n;

	fprintf(f, "== ptrace-run diff: %s -> %s ==\n", render_text_esc(d->base_name), render_text_esc(d->new_name));
	fprintf(f, "threshold %.4g%%, at least %.4g%% of the base's total; failing on:%s%s%s\n", d->threshold,
		d->min_share, d->fail_on & DK_TIME ? " time" : "", d->fail_on & DK_MEMORY ? " memory" : "",
		d->fail_on & DK_CPU ? " cpu" : "");
	fprintf(f, "\ntotals:\n");
	total_line(f, "wall time", "ns", t->duration_ns[0], t->duration_ns[1]);
	total_line(f, "CPU samples", "count", t->cpu_samples[0], t->cpu_samples[1]);
	total_line(f, "instrumented calls", "count", t->calls[0], t->calls[1]);
	total_line(f, "instrumented time", "ns", t->func_ns[0], t->func_ns[1]);
	total_line(f, "allocations", "count", t->allocations[0], t->allocations[1]);
	total_line(f, "bytes allocated", "bytes", t->bytes[0], t->bytes[1]);
	total_line(f, "heap peak", "bytes", t->peak_bytes[0], t->peak_bytes[1]);
	total_line(f, "live at exit", "bytes", t->live_bytes[0], t->live_bytes[1]);
	if (t->leak_checked[0] && t->leak_checked[1])
		total_line(f, "lost at exit", "bytes", t->lost_bytes[0], t->lost_bytes[1]);
	changes_text(f, "regressions", d->regressions, d->nregressions, d->fail_on);
	changes_text(f, "improvements", d->improvements, d->nimprovements, ~0u);
	if (d->nfuncs) {
		fprintf(f, "\nfunctions (self time, largest rise first):\n");
		fprintf(f, "  %12s %12s %9s %10s %10s  %s\n", "self before", "self after", "change", "calls before",
			"calls after", "function");
		for (size_t i = 0, n2 = 0; i < d->nfuncs && n2 < TOP; i++, n2++) {
			const struct dfunc *x = &d->funcs[i];

			pct_text(p, sizeof(p), (double)x->self_ns[0], (double)x->self_ns[1]);
			fprintf(f, "  %12s %12s %9s %10" PRIu64 " %10" PRIu64 "  %s%s\n",
				figure(a, sizeof(a), "ns", (double)x->self_ns[0]),
				figure(b, sizeof(b), "ns", (double)x->self_ns[1]), x->in_base ? p : "new", x->calls[0],
				x->calls[1], render_text_esc(x->name), x->in_new ? "" : "  (gone)");
		}
	}
	if (d->nsites) {
		fprintf(f, "\nallocation sites (bytes, largest rise first):\n");
		n = d->nsites < TOP ? d->nsites : TOP;
		for (size_t i = 0; i < n; i++) {
			const struct dsite *s = &d->sites[i];
			char la[32], lb[32];

			pct_text(p, sizeof(p), (double)s->bytes[0], (double)s->bytes[1]);
			fprintf(f, "  %10s -> %-10s %9s  live %s -> %s  %s\n", report_bytes(s->bytes[0], a, sizeof(a)),
				report_bytes(s->bytes[1], b, sizeof(b)), p, report_bytes(s->live_bytes[0], la, sizeof(la)),
				report_bytes(s->live_bytes[1], lb, sizeof(lb)), render_text_esc(s->key));
		}
	}
	if (d->ncpu) {
		fprintf(f, "\nCPU (share of samples, largest rise first):\n");
		n = d->ncpu < TOP ? d->ncpu : TOP;
		for (size_t i = 0; i < n; i++)
			if (d->cpu[i].self[0] || d->cpu[i].self[1])
				fprintf(f, "  %7.2f%% -> %7.2f%%  %+.2f pp  %s\n", d->cpu[i].share[0], d->cpu[i].share[1],
					d->cpu[i].share[1] - d->cpu[i].share[0], render_text_esc(d->cpu[i].name));
	}
	fprintf(f, "\n%s\n", diff_failures(d) ? "result: REGRESSED" : "result: ok");
	return fflush(f) || ferror(f) ? -5 : 0;
}

static json_t *pair(uint64_t a, uint64_t b)
{
	return json_pack("[II]", (json_int_t)a, (json_int_t)b);
}

static json_t *changes_json(const struct dchange *c, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s,s:o,s:s,s:f,s:f,s:o}", "kind", kind_name(c[i].kind), "name",
						   render_jstr(c[i].name), "metric", c[i].metric, "base", c[i].base,
						   "new", c[i].now, "change_pct",
						   c[i].base > 0 ? json_real(c[i].change_pct) : json_null()));
	return a;
}

int render_diff_json(const struct diff *d, FILE *f)
{
	const struct dtotals *t = &d->tot;
	json_t *o = json_object(), *tot = json_object(), *fns = json_array(), *sites = json_array(),
	       *cpu = json_array();
	int rc = 0;

	json_object_set_new(o, "schema", json_integer(1));
	json_object_set_new(o, "base", render_jstr(d->base_name));
	json_object_set_new(o, "new", render_jstr(d->new_name));
	json_object_set_new(o, "threshold_pct", json_real(d->threshold));
	json_object_set_new(o, "min_share_pct", json_real(d->min_share));
	json_object_set_new(o, "fail_on", json_pack("{s:b,s:b,s:b}", "time", (d->fail_on & DK_TIME) != 0, "memory",
						   (d->fail_on & DK_MEMORY) != 0, "cpu", (d->fail_on & DK_CPU) != 0));
	json_object_set_new(o, "regressed", json_boolean(diff_failures(d) != 0));
	json_object_set_new(tot, "duration_ns", pair(t->duration_ns[0], t->duration_ns[1]));
	json_object_set_new(tot, "cpu_samples", pair(t->cpu_samples[0], t->cpu_samples[1]));
	json_object_set_new(tot, "calls", pair(t->calls[0], t->calls[1]));
	json_object_set_new(tot, "function_ns", pair(t->func_ns[0], t->func_ns[1]));
	json_object_set_new(tot, "allocations", pair(t->allocations[0], t->allocations[1]));
	json_object_set_new(tot, "bytes_allocated", pair(t->bytes[0], t->bytes[1]));
	json_object_set_new(tot, "peak_bytes", pair(t->peak_bytes[0], t->peak_bytes[1]));
	json_object_set_new(tot, "live_bytes", pair(t->live_bytes[0], t->live_bytes[1]));
	if (t->leak_checked[0] && t->leak_checked[1])
		json_object_set_new(tot, "lost_bytes", pair(t->lost_bytes[0], t->lost_bytes[1]));
	json_object_set_new(o, "totals", tot);
	json_object_set_new(o, "regressions", changes_json(d->regressions, d->nregressions));
	json_object_set_new(o, "improvements", changes_json(d->improvements, d->nimprovements));
	for (size_t i = 0; i < d->nfuncs; i++) {
		const struct dfunc *x = &d->funcs[i];

		json_array_append_new(fns, json_pack("{s:o,s:b,s:b,s:o,s:o,s:o,s:o}", "name", render_jstr(x->name),
						     "in_base", x->in_base, "in_new", x->in_new, "calls",
						     pair(x->calls[0], x->calls[1]), "total_ns",
						     pair(x->total_ns[0], x->total_ns[1]), "self_ns",
						     pair(x->self_ns[0], x->self_ns[1]), "p95_ns",
						     pair(x->p95_ns[0], x->p95_ns[1])));
	}
	for (size_t i = 0; i < d->nsites; i++) {
		const struct dsite *s = &d->sites[i];

		json_array_append_new(sites, json_pack("{s:o,s:b,s:b,s:o,s:o,s:o,s:o}", "stack", render_jstr(s->key),
						       "in_base", s->in_base, "in_new", s->in_new, "allocations",
						       pair(s->allocs[0], s->allocs[1]), "bytes",
						       pair(s->bytes[0], s->bytes[1]), "live_blocks",
						       pair(s->live_blocks[0], s->live_blocks[1]), "live_bytes",
						       pair(s->live_bytes[0], s->live_bytes[1])));
	}
	for (size_t i = 0; i < d->ncpu; i++)
		json_array_append_new(cpu, json_pack("{s:o,s:o,s:[ff]}", "name", render_jstr(d->cpu[i].name),
						     "self_samples", pair(d->cpu[i].self[0], d->cpu[i].self[1]),
						     "share_pct", d->cpu[i].share[0], d->cpu[i].share[1]));
	json_object_set_new(o, "functions", fns);
	json_object_set_new(o, "sites", sites);
	json_object_set_new(o, "cpu", cpu);
	if (json_dumpf(o, f, JSON_INDENT(2)) || fputc('\n', f) == EOF || fflush(f) || ferror(f))
		rc = -5;
	json_decref(o);
	return rc;
}

int render_diff_folded(const struct diff *d, FILE *f)
{
	for (size_t i = 0; i < d->nstacks; i++)
		fprintf(f, "%s %" PRIu64 " %" PRIu64 "\n", d->stacks[i].stack, d->stacks[i].v[0], d->stacks[i].v[1]);
	return fflush(f) || ferror(f) ? -5 : 0;
}
