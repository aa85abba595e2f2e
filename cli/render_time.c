/*
 * Figures over time in the text and JSON reports: the heap as a
 * sparkline and a table of reads, and what was live at the peak.
 */
#include <inttypes.h>
#include <jansson.h>
#include <string.h>

#include "render.h"

#define SPARK_COLS 60
#define TABLE_ROWS 12
#define PEAK_SITES 10

static const char *const blocks[8] = {"\u2581", "\u2582", "\u2583", "\u2584",
				      "\u2585", "\u2586", "\u2587", "\u2588"};

/* The figure the chart shows: the heap's live bytes, or with memory
 * tracking off (no heap figures at all, not a heap of 0 B) the RSS. */
static uint64_t chart_value(const struct rtime_point *x, int heap)
{
	return heap ? x->live_bytes : x->rss_bytes;
}

/* The rows of the table: the first and last reads, the highest one
 * (peak, of the chart's figure), and evenly spaced ones between, in time
 * order. */
static size_t pick_rows(const struct rtime *t, size_t peak, size_t *rows)
{
	size_t n = 0;

	for (size_t k = 0; k < TABLE_ROWS && t->n; k++) {
		size_t i = t->n == 1 ? 0 : k * (t->n - 1) / (TABLE_ROWS - 1);

		if (n && rows[n - 1] >= i)
			continue;
		if (n && rows[n - 1] < peak && peak < i)
			rows[n++] = peak;
		rows[n++] = i;
	}
	return n;
}

void render_time_text(const struct report *r, const struct rprocess *p, FILE *f)
{
	const struct rtime *t = p->time;
	char b1[32], b2[32], b3[32];
	uint64_t end, max = 0, col[SPARK_COLS] = {0};
	int have[SPARK_COLS] = {0};
	size_t rows[TABLE_ROWS + 1], nrows, top = 0;
	unsigned hz = p->cpu.hz;
	int heap = p->track_memory;

	(void)r;
	if (!t || !t->n)
		return;
	end = t->pts[t->n - 1].t_ns;
	for (size_t i = 0; i < t->n; i++) {
		size_t c = end ? (size_t)((double)t->pts[i].t_ns / (double)end * (SPARK_COLS - 1) + 0.5) : 0;
		uint64_t v = chart_value(&t->pts[i], heap);

		if (c >= SPARK_COLS)
			c = SPARK_COLS - 1;
		if (v > col[c])
			col[c] = v;
		have[c] = 1;
		if (v > max) {
			max = v;
			top = i;
		}
	}
	fprintf(f, "\n  %s over time (%s%zu reads, every %s", heap ? "heap" : "RSS",
		heap ? "" : "memory tracking off: no heap figures; ", t->n, report_ns(t->interval_ns, b1, sizeof(b1)));
	if (t->step_ns > t->interval_ns)
		fprintf(f, "; kept every %s", report_ns(t->step_ns, b2, sizeof(b2)));
	if (!heap && !max)
		return; /* no RSS read either: the CPU profile says the rest */
	/* A column no read fell in holds what the read before it said:
	 * the figure stays until the next read. */
	for (size_t c = 1; c < SPARK_COLS; c++)
		if (!have[c])
			col[c] = col[c - 1];
	fprintf(f, "):\n   %s |", heap ? "live" : " RSS");
	for (size_t c = 0; c < SPARK_COLS; c++)
		fputs(max ? blocks[(size_t)(col[c] * 7 / max)] : blocks[0], f);
	fprintf(f, "| %s at most\n", report_bytes(max, b1, sizeof(b1)));
	fprintf(f, "         0 s%*s%.3f s\n", SPARK_COLS - 6, "", end / 1e9);
	if (heap)
		fprintf(f, "     %10s %10s %10s %10s %10s %8s\n", "time", "live", "blocks", "RSS", "allocs", "CPU");
	else
		fprintf(f, "     %10s %10s %8s\n", "time", "RSS", "CPU");
	nrows = pick_rows(t, top, rows);
	for (size_t k = 0; k < nrows; k++) {
		const struct rtime_point *x = &t->pts[rows[k]];
		uint64_t dt = rows[k] ? x->t_ns - t->pts[rows[k] - 1].t_ns : x->t_ns;
		const char *rss = x->rss_bytes ? report_bytes(x->rss_bytes, b2, sizeof(b2)) : "-";
		char cpu[16] = "-";

		if (hz && dt)
			snprintf(cpu, sizeof(cpu), "%.0f%%", (double)x->cpu_samples / hz / (dt / 1e9) * 100.0);
		if (heap)
			fprintf(f, "     %8.3f s %10s %10" PRIu64 " %10s %10" PRIu64 " %8s%s\n", x->t_ns / 1e9,
				report_bytes(x->live_bytes, b1, sizeof(b1)), x->live_blocks, rss, x->allocs, cpu,
				x->t_ns == t->peak_t_ns && max ? "  <- peak" : "");
		else
			fprintf(f, "     %8.3f s %10s %8s%s\n", x->t_ns / 1e9, rss, cpu,
				rows[k] == top && max ? "  <- highest" : "");
	}
	fprintf(f, heap ? "     (allocs and CPU: since the row's previous read)\n"
			: "     (CPU: since the row's previous read)\n");
	if (!t->ncomp)
		return;
	fprintf(f, "\n  live at the peak (read at %.3f s: %s live; the exact peak, %s, can fall between reads):\n",
		t->comp_t_ns / 1e9, report_bytes(t->comp_live, b1, sizeof(b1)),
		report_bytes(p->mem.peak_bytes, b3, sizeof(b3)));
	for (size_t i = 0; i < t->ncomp && i < PEAK_SITES; i++) {
		const struct rsite *x = &t->comp[i];

		fprintf(f, "   #%zu %s in %" PRIu64 " blocks (%.1f%%): ", i + 1, report_bytes(x->live_bytes, b1, sizeof(b1)),
			x->live_blocks, t->comp_live ? 100.0 * (double)x->live_bytes / (double)t->comp_live : 0.0);
		render_text_site_line(f, &x->stack);
	}
	if (t->ncomp > PEAK_SITES)
		fprintf(f, "   ... %zu more sites (see --json)\n", t->ncomp - PEAK_SITES);
}

void render_time_json(const struct report *r, const struct rprocess *p, json_t *proc)
{
	const struct rtime *t = p->time;
	json_t *o, *pts, *comp, *layers;

	(void)r;
	if (!t) {
		json_object_set_new(proc, "time", json_null());
		return;
	}
	pts = json_array();
	for (size_t i = 0; i < t->n; i++) {
		const struct rtime_point *x = &t->pts[i];

		json_array_append_new(pts, json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "t_ns", (json_int_t)x->t_ns,
						     "live_bytes", (json_int_t)x->live_bytes, "live_blocks",
						     (json_int_t)x->live_blocks, "rss_bytes", (json_int_t)x->rss_bytes,
						     "allocations", (json_int_t)x->allocs, "bytes_allocated",
						     (json_int_t)x->alloc_bytes, "cpu_samples", (json_int_t)x->cpu_samples,
						     "other_bytes", (json_int_t)x->other_bytes));
	}
	comp = json_array();
	for (size_t i = 0; i < t->ncomp; i++) {
		const struct rsite *x = &t->comp[i];

		json_array_append_new(comp, json_pack("{s:I,s:I,s:o}", "live_bytes", (json_int_t)x->live_bytes,
						      "live_blocks", (json_int_t)x->live_blocks, "stack",
						      render_json_stack(&x->stack)));
	}
	layers = json_array();
	for (size_t j = 0; j < t->nlayers; j++) {
		const struct rtime_layer *l = &t->layers[j];
		json_t *live = json_array();

		for (size_t i = 0; i < t->n; i++)
			json_array_append_new(live, json_integer((json_int_t)l->live[i]));
		json_array_append_new(layers, json_pack("{s:I,s:o,s:o}", "max_bytes", (json_int_t)l->max, "stack",
							render_json_stack(&l->stack), "live_bytes", live));
	}
	o = json_pack("{s:I,s:I,s:o,s:{s:I,s:I},s:{s:I,s:I,s:o},s:o}", "interval_ns", (json_int_t)t->interval_ns,
		      "step_ns", (json_int_t)t->step_ns, "points", pts, "highest", "t_ns", (json_int_t)t->peak_t_ns,
		      "live_bytes", (json_int_t)t->peak_live, "at_peak", "t_ns", (json_int_t)t->comp_t_ns, "live_bytes",
		      (json_int_t)t->comp_live, "sites", comp, "layers", layers);
	json_object_set_new(proc, "time", o);
}
