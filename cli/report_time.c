/*
 * Figures over time in the report model: the launcher's reads of a
 * process (cli/series.h) as points, the composition of the heap at its
 * peak with symbolized stacks, and the layers of the heap-over-time chart.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "series.h"

static uint64_t scaled_bytes(uint64_t v, double scale)
{
	double x = (double)v * scale + 0.5;

	if (!(x > 0))
		return 0;
	return x >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)x;
}

static int by_max(const void *a, const void *b)
{
	const struct rtime_layer *x = a, *y = b;

	if (x->max != y->max)
		return x->max < y->max ? 1 : -1;
	return x->trace < y->trace ? -1 : x->trace > y->trace;
}

/* The site's bytes as the report shows them: scaled when sampled (the
 * allocations without a stack are exact). */
static uint64_t site_bytes(const struct rprocess *rp, uint32_t trace, uint64_t v)
{
	return trace && rp->mem.sampled ? scaled_bytes(v, rp->mem.scale) : v;
}

static int build_layers(struct report *r, struct rtime *t, const struct series_proc *sp, struct rprocess *rp,
			struct report_modmap *mm, const struct session *s)
{
	struct rtime_layer *all = NULL;
	size_t nall = 0, cap = 0;

	/* Every site that was among some point's top: its highest. */
	for (size_t i = 0; i < sp->n; i++) {
		const struct series_point *p = &sp->pts[i];

		for (uint32_t k = 0; k < p->nsites; k++) {
			const struct series_site *x = &sp->sites[p->site0 + k];
			uint64_t b = site_bytes(rp, x->trace, x->live_bytes);
			size_t j;

			for (j = 0; j < nall && all[j].trace != x->trace; j++)
				;
			if (j == nall) {
				if (nall == cap) {
					size_t ncap = cap ? cap * 2 : 32;
					struct rtime_layer *nv = realloc(all, ncap * sizeof(*nv));

					if (!nv) {
						free(all);
						return -ENOMEM;
					}
					all = nv;
					cap = ncap;
				}
				memset(&all[nall], 0, sizeof(all[0]));
				all[nall++].trace = x->trace;
			}
			if (b > all[j].max)
				all[j].max = b;
		}
	}
	report_qsort(all, nall, sizeof(*all), by_max);
	if (nall > RTIME_LAYERS)
		nall = RTIME_LAYERS;
	for (size_t j = 0; j < nall; j++) {
		all[j].live = calloc(t->n ? t->n : 1, sizeof(uint64_t));
		if (!all[j].live || (all[j].trace && report_modmap_stack(r, mm, s, all[j].trace, &all[j].stack))) {
			t->layers = all;
			t->nlayers = j + 1;
			return -ENOMEM;
		}
	}
	t->layers = all;
	t->nlayers = nall;
	for (size_t i = 0; i < sp->n; i++) {
		const struct series_point *p = &sp->pts[i];
		uint64_t in_layers = 0;

		for (uint32_t k = 0; k < p->nsites; k++) {
			const struct series_site *x = &sp->sites[p->site0 + k];

			for (size_t j = 0; j < nall; j++)
				if (all[j].trace == x->trace) {
					all[j].live[i] = site_bytes(rp, x->trace, x->live_bytes);
					in_layers += all[j].live[i];
					break;
				}
		}
		t->pts[i].other_bytes = t->pts[i].live_bytes > in_layers ? t->pts[i].live_bytes - in_layers : 0;
	}
	return 0;
}

int report_time_build(struct report *r, struct rprocess *rp, const struct session *s, const struct sf_process *p,
		      uint32_t slot, const struct series *sr)
{
	const struct series_proc *sp = series_find(sr, slot, p->pid);
	struct report_modmap *mm = NULL;
	struct rtime *t;
	uint64_t off;
	int err;

	if (!sp || !sp->n)
		return 0;
	t = rp->time = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->pts = calloc(sp->n, sizeof(*t->pts));
	if (!t->pts)
		return -ENOMEM;
	/* Times since the process started: the series counts from the
	 * session's start. */
	off = p->start_ns > s->start_ns ? p->start_ns - s->start_ns : 0;
	t->n = sp->n;
	t->interval_ns = sr->interval_ns;
	t->step_ns = sr->step_ns;
	for (size_t i = 0; i < sp->n; i++) {
		const struct series_point *x = &sp->pts[i], *prev = i ? &sp->pts[i - 1] : NULL;
		struct rtime_point *y = &t->pts[i];

		y->t_ns = x->t_ns > off ? x->t_ns - off : 0;
		y->live_bytes = x->live_bytes;
		y->live_blocks = x->live_blocks;
		y->rss_bytes = x->rss_bytes;
		y->allocs = prev && x->allocs >= prev->allocs ? x->allocs - prev->allocs : x->allocs;
		y->alloc_bytes = prev && x->alloc_bytes >= prev->alloc_bytes ? x->alloc_bytes - prev->alloc_bytes
									      : x->alloc_bytes;
		y->cpu_samples = prev && x->cpu_samples >= prev->cpu_samples ? x->cpu_samples - prev->cpu_samples
									      : x->cpu_samples;
	}
	t->peak_t_ns = sp->peak_t_ns > off ? sp->peak_t_ns - off : 0;
	t->peak_live = sp->peak_live;
	t->comp_t_ns = sp->comp_t_ns > off ? sp->comp_t_ns - off : 0;
	t->comp_live = sp->comp_live;
	if ((err = report_modmap_new(r, s, p, &mm)))
		return err;
	if (sp->ncomp) {
		t->comp = calloc(sp->ncomp, sizeof(*t->comp));
		if (!t->comp) {
			report_modmap_free(mm);
			return -ENOMEM;
		}
		for (size_t i = 0; i < sp->ncomp; i++) {
			const struct series_site *x = &sp->comp[i];
			struct rsite *y = &t->comp[t->ncomp++];

			y->trace = x->trace;
			y->live_bytes = site_bytes(rp, x->trace, x->live_bytes);
			y->live_blocks = x->trace && rp->mem.sampled ? scaled_bytes(x->live_blocks, rp->mem.scale)
								     : x->live_blocks;
			if (x->trace && (err = report_modmap_stack(r, mm, s, x->trace, &y->stack))) {
				report_modmap_free(mm);
				return err;
			}
		}
	}
	err = build_layers(r, t, sp, rp, mm, s);
	report_modmap_free(mm);
	return err;
}

void report_time_free(struct rprocess *rp)
{
	struct rtime *t = rp->time;

	if (!t)
		return;
	for (size_t i = 0; i < t->ncomp; i++)
		free(t->comp[i].stack.ids);
	for (size_t j = 0; j < t->nlayers; j++) {
		free(t->layers[j].live);
		free(t->layers[j].stack.ids);
	}
	free(t->comp);
	free(t->layers);
	free(t->pts);
	free(t);
	rp->time = NULL;
}
