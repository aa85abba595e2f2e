/*
 * Brendan Gregg's collapsed stacks ("folded"), one metric per file: a line
 * per stack, root first, frames joined by ';', then a space and the value:
 *
 *   main;parse_config;parse_line;malloc 115
 *
 * read by flamegraph.pl, inferno, speedscope and Pyroscope's ingest.
 * Inlined frames are frames of their own (as the text report shows them).
 * With several processes each stack starts with the process ("prog [pid
 * 123]"). The values add up to the report's totals: CPU samples, bytes or
 * allocations per allocation stack (the sites' figures: estimates when
 * stacks were sampled), bytes or blocks live at exit, or for instrumented
 * functions each call path's self time or calls (a flame graph then
 * shows inclusive time as width).
 */
#include <inttypes.h>
#include <string.h>

#include "view.h"

/* One frame name, with what would break the format (';', a newline,
 * control bytes) replaced. */
static void put_frame(FILE *f, const char *name)
{
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		fputc(*p == ';' ? ':' : *p < 0x20 || *p == 0x7f ? '?' : *p, f);
}

static void put_sep(FILE *f, int *first)
{
	if (!*first)
		fputc(';', f);
	*first = 0;
}

static void put_stack(FILE *f, const char *label, const struct rstack *st, uint64_t value)
{
	char buf[256];
	int first = 1;

	if (!value)
		return;
	if (label) {
		put_sep(f, &first);
		put_frame(f, label);
	}
	if (!st->n) {
		put_sep(f, &first);
		put_frame(f, "[no stack]");
	}
	for (unsigned i = st->n; i-- > 0;) {
		put_sep(f, &first);
		put_frame(f, view_frame_name(rstack_frame(st, i), buf, sizeof(buf)));
	}
	fprintf(f, " %" PRIu64 "\n", value);
}

/* The path of call-tree node v, root excluded, root first. */
static void put_path(FILE *f, const struct rfuncs *F, size_t v, int *first)
{
	char buf[256];

	if (!v || v >= F->nnodes)
		return;
	put_path(f, F, F->nodes[v].parent, first);
	put_sep(f, first);
	put_frame(f, view_func_name(F, F->nodes[v].func, buf, sizeof(buf)));
}

static void put_funcs(FILE *f, const char *label, const struct rfuncs *F, int calls)
{
	/* Iterative over nodes: a path's depth is bounded by the tree, and
	 * put_path recurses once per level (the agent's call depth cap). */
	for (size_t v = 1; v < F->nnodes; v++) {
		uint64_t value = calls ? F->nodes[v].calls : F->nodes[v].self_ns;
		int first = 1;

		if (!value)
			continue;
		if (label) {
			put_sep(f, &first);
			put_frame(f, label);
		}
		put_path(f, F, v, &first);
		fprintf(f, " %" PRIu64 "\n", value);
	}
}

int render_folded(const struct report *r, FILE *f, const struct view_opts *o)
{
	enum view_metric m = view_metric_resolve(r, o->metric);
	char lbuf[512];

	for (size_t i = 0; i < r->nprocs; i++) {
		const struct rprocess *p = &r->procs[i];
		const char *label = r->nprocs > 1 ? view_proc_label_opt(p, o->no_pid, lbuf, sizeof(lbuf)) : NULL;

		switch (m) {
		case VM_CPU:
			for (size_t k = 0; k < p->cpu.nstacks; k++)
				put_stack(f, label, &p->cpu.stacks[k].stack, p->cpu.stacks[k].samples);
			break;
		case VM_ALLOC_SPACE:
		case VM_ALLOC_OBJECTS:
		case VM_INUSE_SPACE:
		case VM_INUSE_OBJECTS:
			for (size_t k = 0; k < p->mem.nsites; k++) {
				const struct rsite *s = &p->mem.sites[k];

				put_stack(f, label, &s->stack,
					  m == VM_ALLOC_SPACE     ? s->bytes
					  : m == VM_ALLOC_OBJECTS ? s->allocs
					  : m == VM_INUSE_SPACE   ? s->live_bytes
								  : s->live_blocks);
			}
			break;
		case VM_FUNC_NS:
		case VM_FUNC_CALLS:
			if (p->func)
				put_funcs(f, label, p->func, m == VM_FUNC_CALLS);
			break;
		case VM_AUTO:
			break;
		}
	}
	if (fflush(f) || ferror(f))
		return -5; /* EIO */
	return 0;
}
