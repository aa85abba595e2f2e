/*
 * html: one self-contained page (no network: the script and the style are
 * inline, the data is a JSON block in the page) with interactive flame
 * graphs (click to zoom, search, details on hover) for the CPU profile,
 * heap bytes and allocations by stack, bytes live at exit, and
 * instrumented function time; sortable tables of functions, allocation
 * sites and CPU functions; the call tree; a process selector and the
 * threads. The flame graph is drawn by the page's own script (a few
 * hundred lines: positioned boxes, no library), so there is nothing to
 * vendor and nothing that could reach the network. The CPU graph can be
 * narrowed to one thread (each thread's stacks are in the model).
 * The heap over time (when the run read figures over time) is a stacked
 * area chart drawn as SVG by the same script, one band per layer of the
 * model, with the flame graph of what was live at the peak or in a range
 * picked on the chart (the layers' stacks merged by the script as the C
 * side merges the others).
 *
 * The C side only arranges the model's figures: stacks merged into trees
 * (root first; a node's value is the sum of the stacks through it), the
 * call tree as it is, the tables' rows.
 */
#include <inttypes.h>
#include <jansson.h>
#include <string.h>

#include "render.h"
#include "view.h"

extern const char render_html_page_head[], render_html_page_tail[];

/* --- stacks into a tree ------------------------------------------------------ */

struct tnode {
	const char *name;       /* owned by the report, or a copy in owned */
	char *owned;
	uint64_t value;
	struct tnode **kids;
	size_t nkids, cap;
};

static struct tnode *tnode_child(struct tnode *t, const char *name)
{
	struct tnode *k;

	for (size_t i = 0; i < t->nkids; i++)
		if (!strcmp(t->kids[i]->name, name))
			return t->kids[i];
	if (t->nkids == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 4;
		struct tnode **nk = realloc(t->kids, cap * sizeof(*nk));

		if (!nk)
			return NULL;
		t->kids = nk;
		t->cap = cap;
	}
	k = calloc(1, sizeof(*k));
	if (!k || !(k->owned = strdup(name))) {
		free(k);
		return NULL;
	}
	k->name = k->owned;
	t->kids[t->nkids++] = k;
	return k;
}

static int tnode_add(struct tnode *root, const struct rstack *st, uint64_t v)
{
	struct tnode *t = root;
	char buf[256];

	if (!v)
		return 0;
	root->value += v;
	if (!st->n) {
		t = tnode_child(t, "[no stack]");
		if (!t)
			return -1;
		t->value += v;
		return 0;
	}
	for (unsigned i = st->n; i-- > 0;) {
		t = tnode_child(t, view_frame_name(rstack_frame(st, i), buf, sizeof(buf)));
		if (!t)
			return -1;
		t->value += v;
	}
	return 0;
}

static void tnode_free(struct tnode *t)
{
	for (size_t i = 0; i < t->nkids; i++) {
		tnode_free(t->kids[i]);
		free(t->kids[i]);
	}
	free(t->kids);
	free(t->owned);
}

/* {"n": name, "v": value, "c": [...]}, children by value, descending. */
static int kid_cmp(const void *a, const void *b)
{
	const struct tnode *x = *(const struct tnode *const *)a, *y = *(const struct tnode *const *)b;

	return x->value < y->value ? 1 : x->value > y->value ? -1 : strcmp(x->name, y->name);
}

static json_t *tnode_json(struct tnode *t)
{
	json_t *o = json_object(), *c = json_array();

	qsort(t->kids, t->nkids, sizeof(*t->kids), kid_cmp);
	json_object_set_new(o, "n", render_jstr(t->name));
	json_object_set_new(o, "v", json_integer((json_int_t)t->value));
	for (size_t i = 0; i < t->nkids; i++)
		json_array_append_new(c, tnode_json(t->kids[i]));
	json_object_set_new(o, "c", c);
	return o;
}

/* The call tree of function timing, as it is (values: inclusive ns). */
static json_t *calltree_json(const struct rfuncs *F, size_t v, unsigned depth)
{
	const struct rfnode *n = &F->nodes[v];
	json_t *o = json_object(), *c = json_array();
	char buf[256];

	json_object_set_new(o, "n", render_jstr(v ? view_func_name(F, n->func, buf, sizeof(buf)) : "all"));
	json_object_set_new(o, "v", json_integer((json_int_t)(v ? n->total_ns : F->total_ns)));
	json_object_set_new(o, "calls", json_integer((json_int_t)n->calls));
	json_object_set_new(o, "self", json_integer((json_int_t)n->self_ns));
	/* A page is for people: a path deeper than this is cut (the JSON
	 * and folded views keep it whole). */
	for (size_t i = 0; i < n->nkids && depth < 400; i++)
		json_array_append_new(c, calltree_json(F, n->kids[i], depth + 1));
	json_object_set_new(o, "c", c);
	return o;
}

struct graph_spec {
	const char *key, *title, *unit;
	enum view_metric m;
};

static const struct graph_spec graphs[] = {
	{"cpu", "CPU", "samples", VM_CPU},
	{"alloc_space", "Heap bytes", "bytes", VM_ALLOC_SPACE},
	{"alloc_objects", "Heap allocations", "allocations", VM_ALLOC_OBJECTS},
	{"inuse_space", "Live at exit", "bytes", VM_INUSE_SPACE},
	{"func_ns", "Function time", "ns", VM_FUNC_NS},
};

static json_t *graph_json(const struct rprocess *p, enum view_metric m)
{
	struct tnode root = {.name = "all"};
	json_t *o = NULL;
	int err = 0;

	if (m == VM_FUNC_NS)
		return p->func && p->func->nnodes > 1 ? calltree_json(p->func, 0, 0) : NULL;
	if (m == VM_CPU) {
		for (size_t k = 0; k < p->cpu.nstacks && !err; k++)
			err = tnode_add(&root, &p->cpu.stacks[k].stack, p->cpu.stacks[k].samples);
	} else {
		for (size_t k = 0; k < p->mem.nsites && !err; k++) {
			const struct rsite *s = &p->mem.sites[k];

			err = tnode_add(&root, &s->stack,
					m == VM_ALLOC_SPACE ? s->bytes : m == VM_ALLOC_OBJECTS ? s->allocs : s->live_bytes);
		}
	}
	if (!err && root.value)
		o = tnode_json(&root);
	tnode_free(&root);
	return o;
}

static json_t *stack_str(const struct rstack *st)
{
	char *buf = NULL, name[256];
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	json_t *s;

	if (!m)
		return json_null();
	for (unsigned i = 0; i < st->n; i++) {
		const struct rframe *fr = rstack_frame(st, i);

		fprintf(m, "%s%s", i ? "\n" : "", view_frame_name(fr, name, sizeof(name)));
		if (fr->file && fr->line > 0)
			fprintf(m, "  %s:%d", fr->file, fr->line);
	}
	fclose(m);
	s = render_jstr(buf ? buf : "");
	free(buf);
	return s;
}

/* A stack's frame names, outermost first (the order of tnode_add). */
static json_t *frames_json(const struct rstack *st)
{
	json_t *a = json_array();
	char buf[256];

	if (!st->n)
		json_array_append_new(a, render_jstr("[no stack]"));
	for (unsigned i = st->n; i-- > 0;)
		json_array_append_new(a, render_jstr(view_frame_name(rstack_frame(st, i), buf, sizeof(buf))));
	return a;
}

/* The figures over time as the chart draws them: the points' columns,
 * the highest point, the peak's composition as a tree, and the layers
 * (each with its stack, for the page to merge the layers of a range). */
static json_t *time_json(const struct rtime *t)
{
	json_t *ts = json_array(), *live = json_array(), *rss = json_array(), *other = json_array(),
	       *layers = json_array(), *tree = NULL;
	struct tnode root = {.name = "all"};
	char buf[256];
	int err = 0;

	for (size_t i = 0; i < t->n; i++) {
		json_array_append_new(ts, json_integer((json_int_t)t->pts[i].t_ns));
		json_array_append_new(live, json_integer((json_int_t)t->pts[i].live_bytes));
		json_array_append_new(rss, json_integer((json_int_t)t->pts[i].rss_bytes));
		json_array_append_new(other, json_integer((json_int_t)t->pts[i].other_bytes));
	}
	for (size_t j = 0; j < t->nlayers; j++) {
		const struct rtime_layer *l = &t->layers[j];
		const struct rframe *top = l->stack.n ? rstack_frame(&l->stack, 0) : NULL;
		json_t *lv = json_array();
		char label[512];

		/* Two layers can share a function: the line tells them apart. */
		if (top && top->file && top->line > 0) {
			const char *base = strrchr(top->file, '/');

			snprintf(label, sizeof(label), "%s (%s:%d)", view_frame_name(top, buf, sizeof(buf)),
				 base ? base + 1 : top->file, top->line);
		} else {
			snprintf(label, sizeof(label), "%s",
				 top ? view_frame_name(top, buf, sizeof(buf)) : "[no stack]");
		}
		for (size_t i = 0; i < t->n; i++)
			json_array_append_new(lv, json_integer((json_int_t)l->live[i]));
		json_array_append_new(layers, json_pack("{s:o,s:o,s:o,s:I,s:o}", "name", render_jstr(label), "frames",
							frames_json(&l->stack), "stack", stack_str(&l->stack), "max",
							(json_int_t)l->max, "live", lv));
	}
	for (size_t k = 0; k < t->ncomp && !err; k++)
		err = tnode_add(&root, &t->comp[k].stack, t->comp[k].live_bytes);
	if (!err && root.value)
		tree = tnode_json(&root);
	tnode_free(&root);
	return json_pack("{s:I,s:I,s:o,s:o,s:o,s:o,s:{s:I,s:I},s:{s:I,s:I,s:o},s:o}", "interval_ns",
			 (json_int_t)t->interval_ns, "step_ns", (json_int_t)t->step_ns, "t", ts, "live", live, "rss",
			 rss, "other", other, "highest", "t_ns", (json_int_t)t->peak_t_ns, "live_bytes",
			 (json_int_t)t->peak_live, "at_peak", "t_ns", (json_int_t)t->comp_t_ns, "live_bytes",
			 (json_int_t)t->comp_live, "tree", tree ? tree : json_null(), "layers", layers);
}

/* The timeline's calls as columns (by start, as the model has them):
 * "f" an index into "funcs" (only the functions that have a call there),
 * "tid", "s" start (ns since the process started), "d" duration (ns),
 * "meta" [index, text] of the calls that have metadata. min_ns null: the
 * run kept no timeline (--timeline=0). */
static json_t *timeline_json(const struct report *r, const struct rfuncs *F)
{
	json_t *funcs = json_array(), *threads = json_array(), *f = json_array(), *tid = json_array(),
	       *s = json_array(), *d = json_array(), *meta = json_array();
	size_t *slot = calloc(F->nfuncs ? F->nfuncs : 1, sizeof(*slot)), nused = 0;
	char buf[256];

	if (!slot)
		return NULL;
	for (size_t i = 0; i < F->ntimeline; i++) {
		const struct rfcall *c = &F->timeline[i];

		if (c->func >= F->nfuncs)
			continue;
		if (!slot[c->func]) {
			slot[c->func] = ++nused;
			json_array_append_new(funcs, json_pack("{s:o,s:b}", "n",
							       render_jstr(view_func_name(F, c->func, buf, sizeof(buf))),
							       "region", F->funcs[c->func].region));
		}
		json_array_append_new(f, json_integer((json_int_t)(slot[c->func] - 1)));
		json_array_append_new(tid, json_integer(c->tid));
		json_array_append_new(s, json_integer((json_int_t)c->start_ns));
		json_array_append_new(d, json_integer((json_int_t)c->ns));
		if (c->meta)
			json_array_append_new(meta, json_pack("[I,o]", (json_int_t)json_array_size(f) - 1,
							      render_jstr(c->meta)));
	}
	free(slot);
	for (size_t i = 0; i < F->nthreads; i++)
		json_array_append_new(threads, json_pack("{s:i,s:o}", "tid", F->threads[i].tid, "name",
							 render_jstr(F->threads[i].name)));
	return json_pack("{s:o,s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "min_ns",
			 F->timeline_min_ns == UINT64_MAX ? json_null() : json_integer((json_int_t)F->timeline_min_ns),
			 "dropped", (json_int_t)F->timeline_dropped, "left_out", (json_int_t)r->timeline_left_out,
			 "funcs", funcs, "threads", threads, "f", f, "tid", tid, "s", s, "d", d, "meta", meta);
}

static json_t *proc_json(const struct report *r, const struct rprocess *p)
{
	json_t *o = json_object(), *g = json_object(), *fns = json_array(), *sites = json_array(),
	       *cfns = json_array(), *threads = json_array(), *sum = json_object();
	char buf[512];

	json_object_set_new(o, "label", render_jstr(view_proc_label(p, buf, sizeof(buf))));
	json_object_set_new(o, "pid", json_integer(p->pid));
	for (size_t i = 0; i < sizeof(graphs) / sizeof(graphs[0]); i++) {
		json_t *t = graph_json(p, graphs[i].m);

		if (t)
			json_object_set_new(g, graphs[i].key, t);
	}
	json_object_set_new(o, "graphs", g);
	if (p->time)
		json_object_set_new(o, "time", time_json(p->time));
	/* None: no instrumented function or region ran. */
	if (p->func) {
		json_t *tl = timeline_json(r, p->func);

		if (!tl) {
			json_decref(o);
			json_decref(fns);
			json_decref(sites);
			json_decref(cfns);
			json_decref(threads);
			json_decref(sum);
			return NULL;
		}
		json_object_set_new(o, "timeline", tl);
	}
	/* The CPU flame graph of each thread, when there are several. */
	if (p->cpu.nthreads > 1) {
		json_t *tg = json_array();

		for (size_t i = 0; i < p->cpu.nthreads; i++) {
			const struct rcpu_thread *t = &p->cpu.threads[i];
			struct tnode root = {.name = "all"};
			char label[128];
			int err = 0;

			if (!t->nstacks)
				continue;
			for (size_t k = 0; k < t->nstacks && !err; k++)
				err = tnode_add(&root, &t->stacks[k].stack, t->stacks[k].samples);
			snprintf(label, sizeof(label), "%s [tid %d]%s", t->name[0] ? t->name : "?", t->tid,
				 t->shared_record ? " (and earlier threads of its record)" : "");
			if (!err && root.value)
				json_array_append_new(tg, json_pack("{s:o,s:i,s:o}", "label", render_jstr(label), "tid",
								    t->tid, "tree", tnode_json(&root)));
			tnode_free(&root);
		}
		json_object_set_new(o, "thread_cpu", tg);
	}
	for (size_t i = 0; p->func && i < p->func->nfuncs; i++) {
		const struct rfunc *fn = &p->func->funcs[i];

		json_array_append_new(
			fns, json_pack("{s:o,s:o,s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "name",
				       render_jstr(view_func_name(p->func, i, buf, sizeof(buf))), "file",
				       render_jstr(fn->file), "line", fn->line, "calls", (json_int_t)fn->calls, "total_ns",
				       (json_int_t)fn->total_ns, "self_ns", (json_int_t)fn->self_ns, "p50_ns",
				       (json_int_t)fn->p50_ns, "p95_ns", (json_int_t)fn->p95_ns, "p99_ns",
				       (json_int_t)fn->p99_ns, "max_ns", (json_int_t)fn->max_ns, "allocations",
				       (json_int_t)fn->allocs, "alloc_bytes", (json_int_t)fn->bytes));
	}
	for (size_t i = 0; i < p->mem.nsites; i++) {
		const struct rsite *s = &p->mem.sites[i];
		const struct rframe *top = s->stack.n ? rstack_frame(&s->stack, 0) : NULL;

		json_array_append_new(
			sites, json_pack("{s:o,s:I,s:I,s:I,s:I,s:I,s:o}", "name",
					 render_jstr(top ? view_frame_name(top, buf, sizeof(buf)) : "[no stack]"),
					 "allocations", (json_int_t)s->allocs, "bytes", (json_int_t)s->bytes, "frees",
					 (json_int_t)s->frees, "live_blocks", (json_int_t)s->live_blocks, "live_bytes",
					 (json_int_t)s->live_bytes, "stack", stack_str(&s->stack)));
	}
	for (size_t i = 0; i < p->cpu.nfns; i++) {
		const struct rcpu_fn *fn = &p->cpu.fns[i];
		const char *base = fn->module ? strrchr(fn->module, '/') : NULL;

		json_array_append_new(cfns, json_pack("{s:o,s:o,s:I,s:I}", "name",
						      render_jstr(fn->name ? fn->name : "??"), "module",
						      render_jstr(base ? base + 1 : fn->module), "self",
						      (json_int_t)fn->self, "total", (json_int_t)fn->total));
	}
	for (size_t i = 0; i < p->cpu.nthreads; i++)
		json_array_append_new(threads, json_pack("{s:i,s:o,s:I}", "tid", p->cpu.threads[i].tid, "name",
							 render_jstr(p->cpu.threads[i].name), "samples",
							 (json_int_t)p->cpu.threads[i].samples));
	json_object_set_new(o, "functions", fns);
	json_object_set_new(o, "sites", sites);
	json_object_set_new(o, "cpu_functions", cfns);
	json_object_set_new(o, "threads", threads);
	json_object_set_new(sum, "duration_ns", json_integer((json_int_t)p->duration_ns));
	json_object_set_new(sum, "allocations", json_integer((json_int_t)p->mem.allocations));
	json_object_set_new(sum, "bytes_allocated", json_integer((json_int_t)p->mem.bytes_allocated));
	json_object_set_new(sum, "peak_bytes", json_integer((json_int_t)p->mem.peak_bytes));
	json_object_set_new(sum, "live_bytes", json_integer((json_int_t)p->mem.live_bytes));
	json_object_set_new(sum, "live_blocks", json_integer((json_int_t)p->mem.live_blocks));
	json_object_set_new(sum, "cpu_samples", json_integer((json_int_t)p->cpu.samples));
	json_object_set_new(sum, "cpu_hz", json_integer(p->cpu.hz));
	json_object_set_new(o, "summary", sum);
	return o;
}

int render_html(const struct report *r, FILE *f, const struct view_opts *o)
{
	json_t *doc = json_object(), *procs = json_array(), *gs = json_array();
	char *cmd = NULL, *data;
	size_t len = 0;
	FILE *m = open_memstream(&cmd, &len);
	int rc = 0;

	(void)o;
	if (!m)
		return -12;
	for (char **a = r->argv; a && *a; a++)
		fprintf(m, "%s%s", a == r->argv ? "" : " ", *a);
	fclose(m);
	for (size_t i = 0; i < sizeof(graphs) / sizeof(graphs[0]); i++)
		json_array_append_new(gs, json_pack("{s:s,s:s,s:s}", "key", graphs[i].key, "title", graphs[i].title,
						    "unit", graphs[i].unit));
	json_object_set_new(doc, "command", render_jstr(cmd ? cmd : ""));
	json_object_set_new(doc, "version", json_string(PTRACE_VERSION));
	json_object_set_new(doc, "graphs", gs);
	/* 0: the run read no figures over time (--interval=0). */
	json_object_set_new(doc, "interval_ns", json_integer((json_int_t)r->interval_ns));
	for (size_t i = 0; i < r->nprocs; i++) {
		json_t *pj = proc_json(r, &r->procs[i]);

		if (!pj) {
			json_decref(doc);
			json_decref(procs);
			free(cmd);
			return -12; /* ENOMEM */
		}
		json_array_append_new(procs, pj);
	}
	json_object_set_new(doc, "procs", procs);
	/* JSON_ESCAPE_SLASH: no "</script>" can end the data block. */
	data = json_dumps(doc, JSON_COMPACT | JSON_ESCAPE_SLASH);
	json_decref(doc);
	free(cmd);
	if (!data)
		return -12; /* ENOMEM */
	fputs(render_html_page_head, f);
	/* No '<' at all in the data block ("<!--" and "<script" would change
	 * how the HTML parser ends it): it can only stand inside a JSON
	 * string, where \u003c is the same character. */
	for (const char *c = data; *c; c++) {
		if (*c == '<')
			fputs("\\u003c", f);
		else
			fputc(*c, f);
	}
	fputs(render_html_page_tail, f);
	free(data);
	if (fflush(f) || ferror(f))
		rc = -5; /* EIO */
	return rc;
}
