/*
 * The heap over time in valgrind massif's output format (massif.out.N),
 * read by ms_print and massif-visualizer: one snapshot per read of the
 * launcher (cli/series.h), each a tree of its top allocation sites (the
 * chart's layers), the peak's read ("heap_tree=peak") with every site
 * live then. Massif files hold one process: the first with figures over
 * time (--pid picks another); -ENODATA, writing nothing, when none has.
 *
 * A tree node is "n<children>: <bytes> <label>", indented one space per
 * level; the root's children are the functions that called the
 * allocator, their children those functions' callers, down to main. A
 * node's bytes are the sum of its children's; sites that are no layer
 * make one "in N places" leaf.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "view.h"

/* One site's stack, innermost first, cut after main. */
struct mstack {
	const struct rstack *st;
	unsigned n;
	uint64_t bytes;
};

static unsigned depth_to_main(const struct rstack *st)
{
	for (unsigned i = 0; i < st->n; i++) {
		const struct rframe *fr = rstack_frame(st, i);

		if (fr->function && !strcmp(fr->function, "main") && !fr->inlined)
			return i + 1;
	}
	return st->n;
}

static void label(FILE *f, const struct rframe *fr)
{
	char buf[64];

	fprintf(f, "0x%" PRIx64 ": %s", fr->address, view_frame_name(fr, buf, sizeof(buf)));
	if (fr->file && fr->line) {
		const char *b = strrchr(fr->file, '/');

		fprintf(f, " (%s:%d)", b ? b + 1 : fr->file, fr->line);
	} else if (fr->module) {
		const char *b = strrchr(fr->module, '/');

		fprintf(f, " (in %s)", b ? b + 1 : fr->module);
	}
}

static int same_frame(const struct rframe *a, const struct rframe *b)
{
	return a->address == b->address && a->inlined == b->inlined &&
	       ((!a->function && !b->function) || (a->function && b->function && !strcmp(a->function, b->function)));
}

/* The subtree of stacks v[0..n) at level lvl (all share frames 0..lvl-1):
 * grouped by frame lvl, each group a node. */
static void tree(FILE *f, struct mstack *v, size_t n, unsigned lvl)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i + 1, kids = 0;
		uint64_t sum = v[i].bytes;

		if (lvl >= v[i].n) {
			i++;
			continue;
		}
		while (j < n && lvl < v[j].n && same_frame(rstack_frame(v[j].st, lvl), rstack_frame(v[i].st, lvl)))
			sum += v[j++].bytes;
		/* Its children: the distinct frames at lvl + 1. */
		for (size_t k = i; k < j; k++)
			if (lvl + 1 < v[k].n && (k == i || lvl + 1 >= v[k - 1].n ||
						 !same_frame(rstack_frame(v[k].st, lvl + 1), rstack_frame(v[k - 1].st, lvl + 1))))
				kids++;
		fprintf(f, "%*sn%zu: %" PRIu64 " ", (int)lvl + 1, "", kids, sum);
		label(f, rstack_frame(v[i].st, lvl));
		fputc('\n', f);
		tree(f, v + i, j - i, lvl + 1);
		i = j;
	}
}

/* Group stacks by frames, outermost decisions last: sorting on the frame
 * sequence puts equal prefixes next to each other. */
static int by_frames(const void *a, const void *b)
{
	const struct mstack *x = a, *y = b;

	for (unsigned i = 0; i < x->n && i < y->n; i++) {
		const struct rframe *p = rstack_frame(x->st, i), *q = rstack_frame(y->st, i);

		if (p->address != q->address)
			return p->address < q->address ? -1 : 1;
		if (p->inlined != q->inlined)
			return p->inlined < q->inlined ? -1 : 1;
		if (p->function || q->function) {
			int c = strcmp(p->function ? p->function : "", q->function ? q->function : "");

			if (c)
				return c;
		}
	}
	return x->n < y->n ? -1 : x->n > y->n;
}

static void snapshot_tree(FILE *f, struct mstack *v, size_t n, uint64_t total, uint64_t other, size_t nother)
{
	size_t kids = 0;

	qsort(v, n, sizeof(*v), by_frames);
	for (size_t k = 0; k < n; k++)
		if (v[k].n &&
		    (k == 0 || !v[k - 1].n || !same_frame(rstack_frame(v[k].st, 0), rstack_frame(v[k - 1].st, 0))))
			kids++;
	fprintf(f, "n%zu: %" PRIu64 " (heap allocation functions) malloc/new/new[], --alloc-fns, etc.\n",
		kids + (other ? 1 : 0), total);
	tree(f, v, n, 0);
	if (other)
		fprintf(f, " n0: %" PRIu64 " in %zu place%s, below the chart's top sites\n", other, nother,
			nother == 1 ? "" : "s");
}

int render_massif(const struct report *r, FILE *f, const struct view_opts *o)
{
	const struct rprocess *p = NULL;
	const struct rtime *t;
	struct mstack *v;
	size_t peak = SIZE_MAX, cap;
	char cmd[4096] = "";

	(void)o;
	for (size_t i = 0; i < r->nprocs && !p; i++)
		if (r->procs[i].time && r->procs[i].time->n)
			p = &r->procs[i];
	if (!p)
		return -ENODATA;
	t = p->time;
	for (size_t i = 0; i < t->n; i++)
		if (t->ncomp && t->pts[i].t_ns == t->comp_t_ns)
			peak = i;
	cap = t->nlayers > t->ncomp ? t->nlayers : t->ncomp;
	v = calloc(cap ? cap : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (char **a = p->argv; a && *a; a++) {
		size_t len = strlen(cmd);

		snprintf(cmd + len, sizeof(cmd) - len, "%s%s", len ? " " : "", *a);
	}
	for (char *c = cmd; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	fprintf(f, "desc: ptrace-run, process %d (every %" PRIu64 " us)\n", p->pid, t->interval_ns / 1000);
	fprintf(f, "cmd: %s\n", cmd[0] ? cmd : "(unknown)");
	fprintf(f, "time_unit: ms\n");
	for (size_t i = 0; i < t->n; i++) {
		const struct rtime_point *x = &t->pts[i];
		size_t n = 0;
		uint64_t sum = 0, other;

		fprintf(f, "#-----------\nsnapshot=%zu\n#-----------\n", i);
		fprintf(f, "time=%" PRIu64 "\n", x->t_ns / 1000000);
		if (i == peak) {
			for (size_t k = 0; k < t->ncomp; k++) {
				unsigned d = depth_to_main(&t->comp[k].stack);

				if (!d || !t->comp[k].live_bytes)
					continue;
				v[n++] = (struct mstack){&t->comp[k].stack, d, t->comp[k].live_bytes};
				sum += t->comp[k].live_bytes;
			}
			other = x->live_bytes > sum ? x->live_bytes - sum : 0;
			fprintf(f, "mem_heap_B=%" PRIu64 "\nmem_heap_extra_B=0\nmem_stacks_B=0\n", sum + other);
			fprintf(f, "heap_tree=peak\n");
			snapshot_tree(f, v, n, sum + other, other, t->ncomp - n);
			continue;
		}
		for (size_t j = 0; j < t->nlayers; j++) {
			unsigned d = depth_to_main(&t->layers[j].stack);

			if (!d || !t->layers[j].live[i])
				continue;
			v[n++] = (struct mstack){&t->layers[j].stack, d, t->layers[j].live[i]};
			sum += t->layers[j].live[i];
		}
		other = x->live_bytes > sum ? x->live_bytes - sum : 0;
		/* The sites' reads can run ahead of the total's: the tree's
		 * sum is the snapshot's size, as ms_print checks. */
		fprintf(f, "mem_heap_B=%" PRIu64 "\nmem_heap_extra_B=0\nmem_stacks_B=0\n", sum + other);
		/* As massif: every tenth snapshot detailed (and the last). */
		if ((!sum && !other) || (i % 10 && i != t->n - 1)) {
			fprintf(f, "heap_tree=empty\n");
			continue;
		}
		fprintf(f, "heap_tree=detailed\n");
		snapshot_tree(f, v, n, sum + other, other, other ? 1 : 0);
	}
	free(v);
	return fflush(f) || ferror(f) ? -EIO : 0;
}
