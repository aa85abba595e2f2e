/*
 * Function timing, rendered: the text section of a process (figures, top
 * functions, hotspots with bars, the call tree cut at 1%, callers and
 * callees, slowest calls, threads) and its JSON (function_timing,
 * functions, call_tree, slowest_calls). Both format struct rfuncs only.
 */
#include "render.h"
#include "render_func.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_TOP_FUNCS 20
#define TEXT_HOTSPOTS 10
#define TEXT_EDGES_FUNCS 5 /* functions shown with callers and callees */
#define TEXT_EDGES 5	   /* callers (callees) shown per function */
#define TEXT_SLOWEST 20
#define TEXT_THREADS 20
#define TEXT_TREE_CUT 0.01 /* paths under 1% of the time are left out */
#define TEXT_TREE_DEPTH 40
#define TEXT_TREE_LINES 60
#define TEXT_NAME 48	   /* the name column of the tables, in bytes */
#define TEXT_CUT "..."	   /* after a name cut to the column */
#define TEXT_ROWS 20	   /* most rows of a table with a name column */
_Static_assert(TEXT_TOP_FUNCS <= TEXT_ROWS && TEXT_HOTSPOTS <= TEXT_ROWS && TEXT_SLOWEST <= TEXT_ROWS,
	       "a table has more rows than its name column");
#define BAR_WIDTH 40
#define JSON_TREE_DEPTH 200 /* tree levels; jansson parses 2048 nested values */
#define JSON_TREE_NODES 20000
#define JSON_EDGES 20

#define E render_text_esc
#define N render_text_name

static const char bars[] = "########################################";

static const char *base_name(const char *p)
{
	const char *s = p ? strrchr(p, '/') : NULL;

	return s ? s + 1 : p;
}

/* "name", or "?? (module+0xoff)" when the name is unknown. */
static const char *fn_label(const struct rfunc *fn, char *buf, size_t len)
{
	if (fn->name && fn->region) {
		snprintf(buf, len, "[%s]", E(fn->name));
		return buf;
	}
	if (fn->name)
		return E(N(fn->name));
	if (fn->module)
		snprintf(buf, len, "?? (%s+0x%" PRIx64 ")", E(base_name(fn->module)), fn->offset);
	else
		snprintf(buf, len, "?? (0x%" PRIx64 ")", fn->address);
	return buf;
}

/*
 * A table's name column. A label longer than TEXT_NAME is cut to it,
 * ending in TEXT_CUT, unless the cut would make it look like the label
 * of another function of the table: then both show whole (and the row
 * runs past the column). Rows of one function (the slowest calls) may
 * look alike; rows of two functions whose whole labels differ never do.
 */
struct name_col {
	char *text[TEXT_ROWS];	/* the labels (owned; NULL: out of memory, shown as "??") */
	size_t func[TEXT_ROWS]; /* index into rfuncs.funcs */
	int len[TEXT_ROWS];	/* bytes of text shown */
	int cut[TEXT_ROWS];	/* TEXT_CUT after them */
	size_t n;
};

static int col_same(const struct name_col *c, size_t i, size_t j)
{
	return c->len[i] == c->len[j] && c->cut[i] == c->cut[j] &&
	       !memcmp(c->text[i] ? c->text[i] : "??", c->text[j] ? c->text[j] : "??", (size_t)c->len[i]);
}

/* Rows func[0, n) (n <= TEXT_ROWS). */
static void col_fit(struct name_col *c, const struct rfuncs *F, const size_t *func, size_t n)
{
	char lb[128];
	int again = 1;

	c->n = n;
	for (size_t i = 0; i < n; i++) {
		size_t len, keep = TEXT_NAME - strlen(TEXT_CUT);

		c->func[i] = func[i];
		c->text[i] = strdup(fn_label(&F->funcs[func[i]], lb, sizeof(lb)));
		len = c->text[i] ? strlen(c->text[i]) : 2;
		c->cut[i] = len > TEXT_NAME;
		if (c->cut[i]) /* not inside a UTF-8 sequence */
			while (keep > 0 && ((unsigned char)c->text[i][keep] & 0xc0) == 0x80)
				keep--;
		c->len[i] = (int)(c->cut[i] ? keep : len);
	}
	/* Whole labels never look alike (unless they are the same text), so
	 * each round shows at least one more whole, and it ends. */
	while (again) {
		again = 0;
		for (size_t i = 0; i < n; i++)
			for (size_t j = i + 1; j < n; j++) {
				if (c->func[i] == c->func[j] || !(c->cut[i] || c->cut[j]) || !col_same(c, i, j) ||
				    !c->text[i] || !c->text[j] || !strcmp(c->text[i], c->text[j]))
					continue;
				c->cut[i] = c->cut[j] = 0;
				c->len[i] = (int)strlen(c->text[i]);
				c->len[j] = (int)strlen(c->text[j]);
				again = 1;
			}
	}
}

/* Row i's name, padded to the column when pad. */
static void col_print(FILE *f, const struct name_col *c, size_t i, int pad)
{
	int w = c->len[i] + (c->cut[i] ? (int)strlen(TEXT_CUT) : 0);

	fprintf(f, "%.*s%s", c->len[i], c->text[i] ? c->text[i] : "??", c->cut[i] ? TEXT_CUT : "");
	if (pad && w < TEXT_NAME)
		fprintf(f, "%*s", TEXT_NAME - w, "");
}

static void col_free(struct name_col *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->text[i]);
}

static void fn_where(FILE *f, const struct rfunc *fn)
{
	if (fn->file && fn->line)
		fprintf(f, "  (%s:%d)", E(base_name(fn->file)), fn->line);
	else if (fn->module && fn->name)
		fprintf(f, "  (%s)", E(base_name(fn->module)));
}

static const char *calls_word(uint64_t n)
{
	return n == 1 ? "call" : "calls";
}

static double share(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

static void print_bar(FILE *f, uint64_t part, uint64_t whole)
{
	int n = whole ? (int)((double)part * BAR_WIDTH / (double)whole + 0.5) : 0;

	fprintf(f, " %.*s\n", n > 0 ? n : (part ? 1 : 0), bars);
}

static void print_head(FILE *f, const struct rfuncs *F)
{
	char b1[32], b2[32], b3[32];

	fprintf(f, "\n  functions (-finstrument-functions): %" PRIu64 " calls of %zu functions, %s inside them\n",
		F->calls - F->hidden_calls, F->nfuncs, report_ns(F->total_ns, b1, sizeof(b1)));
	fprintf(f, "        hook cost %s per call (enter+exit; %s of it inside the callee), clock %s at %s per read;\n",
		report_ns((uint64_t)(F->hook_ns + 0.5), b1, sizeof(b1)),
		report_ns((uint64_t)(F->inner_ns + 0.5), b2, sizeof(b2)), F->clock,
		report_ns((uint64_t)(F->clock_ns + 0.5), b3, sizeof(b3)));
	if (F->corrected)
		fprintf(f, "        times below have it subtracted (--correct-times=0 for raw times)\n");
	else
		fprintf(f, "        times below are raw: they include it (--correct-times=1 subtracts it)\n");
	fprintf(f,
		"        %" PRIu64 " unmatched exits, %" PRIu64 " frames unwound without exit (longjmp, exit), "
		"deepest stack %u\n",
		F->unmatched_exits, F->unwound, F->max_depth);
	if (F->beyond_depth)
		fprintf(f,
			"        %" PRIu64
			" calls beyond --max-call-depth %u not tracked (their time is their caller's)\n",
			F->beyond_depth, F->max_call_depth);
	if (F->in_hooks)
		fprintf(f, "        %" PRIu64 " calls made inside a hook (signal handlers) not tracked\n", F->in_hooks);
	if (F->paused_calls)
		fprintf(f, "        %" PRIu64 " calls made while recording was paused (ptrace_pause) not timed\n",
			F->paused_calls);
	if (F->unmatched_region_ends)
		fprintf(f, "        %" PRIu64 " ptrace_region_end() calls with no region open: ignored\n",
			F->unmatched_region_ends);
	if (F->regions_full)
		fprintf(f, "        %" PRIu64 " region calls not timed: more than %u region names\n", F->regions_full,
			SF_REGION_CAP);
	if (F->dropped)
		fprintf(f,
			"        %" PRIu64 " functions or call paths lost: the session image is full "
			"(raise --session-size)\n",
			F->dropped);
	if (F->hidden_calls)
		fprintf(f,
			"        %" PRIu64 " calls of functions left out by --filter/--exclude: their self time "
			"counts for their callers\n",
			F->hidden_calls);
	if (F->min_duration_ns)
		fprintf(f, "        calls shorter than %s are not kept as individual calls (--min-duration)\n",
			report_ns(F->min_duration_ns, b1, sizeof(b1)));
}

static void print_table(FILE *f, const struct rfuncs *F)
{
	char b[8][32];
	size_t rows[TEXT_ROWS] = {0}, n = 0;
	struct name_col col;

	fprintf(f, "\n  top functions by self time:\n");
	fprintf(f, "   %10s %10s %10s %10s %10s %10s %10s %10s %10s %8s  %s\n", "calls", "recursive", "total", "self",
		"mean", "p50", "p95", "p99", "max", "allocs", "function");
	for (size_t i = 0; i < F->nfuncs && i < TEXT_TOP_FUNCS; i++)
		rows[n++] = i;
	col_fit(&col, F, rows, n);
	for (size_t i = 0; i < n; i++) {
		const struct rfunc *fn = &F->funcs[i];

		fprintf(f, "   %10" PRIu64 " %10" PRIu64 " %10s %10s %10s %10s %10s %10s %10s %8" PRIu64 "  ",
			fn->calls, fn->recursive, report_ns(fn->total_ns, b[0], 32), report_ns(fn->self_ns, b[1], 32),
			report_ns((uint64_t)(fn->mean_ns + 0.5), b[2], 32), report_ns(fn->p50_ns, b[3], 32),
			report_ns(fn->p95_ns, b[4], 32), report_ns(fn->p99_ns, b[5], 32),
			report_ns(fn->max_ns, b[6], 32), fn->allocs);
		col_print(f, &col, i, 0);
		fn_where(f, fn);
		fputc('\n', f);
	}
	col_free(&col);
	if (F->nfuncs > TEXT_TOP_FUNCS)
		fprintf(f, "   ... %zu more functions (see --json)\n", F->nfuncs - TEXT_TOP_FUNCS);
	fprintf(f,
		"   (total: inclusive, counted once per outermost call; mean, percentiles and max over those calls;\n"
		"    self: outside instrumented callees, every call; allocs: inclusive)\n");
}

static void print_hotspots(FILE *f, const struct rfuncs *F)
{
	char lb[128];
	size_t rows[TEXT_ROWS] = {0}, n = 0;
	struct name_col col;

	if (!F->total_ns)
		return;
	fprintf(f, "\n  hotspots by self time (share of the %s inside instrumented code):\n",
		report_ns(F->total_ns, lb, sizeof(lb)));
	for (size_t i = 0; i < F->nfuncs && i < TEXT_HOTSPOTS && F->funcs[i].self_ns; i++)
		rows[n++] = i;
	col_fit(&col, F, rows, n);
	for (size_t i = 0; i < n; i++) {
		const struct rfunc *fn = &F->funcs[rows[i]];

		fprintf(f, "   ");
		col_print(f, &col, i, 1);
		fprintf(f, " %6.1f%%", share(fn->self_ns, F->total_ns));
		print_bar(f, fn->self_ns, F->total_ns);
	}
	col_free(&col);
	fprintf(f, "\n  hotspots by inclusive time:\n");
	n = 0;
	for (size_t i = 0; i < F->nfuncs && i < TEXT_HOTSPOTS && F->funcs[F->by_total[i]].total_ns; i++)
		rows[n++] = F->by_total[i];
	col_fit(&col, F, rows, n);
	for (size_t i = 0; i < n; i++) {
		const struct rfunc *fn = &F->funcs[rows[i]];

		fprintf(f, "   ");
		col_print(f, &col, i, 1);
		fprintf(f, " %6.1f%%", share(fn->total_ns, F->total_ns));
		print_bar(f, fn->total_ns, F->total_ns);
	}
	col_free(&col);
}

struct tree_ctx {
	FILE *f;
	const struct rfuncs *F;
	uint64_t cut;
	int lines;
};

static void print_tree(struct tree_ctx *c, size_t v, int depth)
{
	const struct rfuncs *F = c->F;
	const struct rfnode *n = &F->nodes[v];
	const struct rfnode *end = n;
	char lb[128], b1[32], b2[32];
	unsigned levels = 1;

	if (c->lines >= TEXT_TREE_LINES) {
		if (c->lines++ == TEXT_TREE_LINES)
			fprintf(c->f, "   ... (more in --json)\n");
		return;
	}
	/* Direct recursion: one line for the whole chain of the function
	 * calling itself, then the chain's last level's callees. */
	while (end->nkids && F->nodes[end->kids[0]].func == n->func && F->nodes[end->kids[0]].total_ns >= c->cut) {
		size_t k = end->kids[0];
		int others = 0;

		for (size_t i = 1; i < end->nkids; i++)
			others += F->nodes[end->kids[i]].total_ns >= c->cut;
		if (others)
			break;
		end = &F->nodes[k];
		levels++;
	}
	fprintf(c->f, "   %6.1f%% %*s%s", share(n->total_ns, F->total_ns), 2 * depth, "",
		fn_label(&F->funcs[n->func], lb, sizeof(lb)));
	if (levels > 1)
		fprintf(c->f, " [recursion, %u levels]", levels);
	fprintf(c->f, "  %" PRIu64 " %s, %s, self %s\n", n->calls, calls_word(n->calls),
		report_ns(n->total_ns, b1, sizeof(b1)), report_ns(n->self_ns, b2, sizeof(b2)));
	c->lines++;
	if (depth + 1 >= TEXT_TREE_DEPTH) {
		if (end->nkids)
			fprintf(c->f, "           %*s... deeper paths in --json\n", 2 * (depth + 1), "");
		return;
	}
	for (size_t i = 0; i < end->nkids; i++) {
		size_t k = end->kids[i];

		if (F->nodes[k].total_ns < c->cut)
			break; /* sorted: the rest are smaller */
		print_tree(c, k, depth + 1);
	}
}

static void print_call_tree(FILE *f, const struct rfuncs *F)
{
	struct tree_ctx c = {.f = f, .F = F, .lines = 0};
	const struct rfnode *root = &F->nodes[0];

	c.cut = (uint64_t)((double)F->total_ns * TEXT_TREE_CUT);
	if (!c.cut)
		c.cut = 1;
	fprintf(f, "\n  call tree (share of the time, calls, inclusive, self; paths under 1%% left out):\n");
	for (size_t i = 0; i < root->nkids; i++) {
		if (F->nodes[root->kids[i]].total_ns < c.cut)
			break;
		print_tree(&c, root->kids[i], 0);
	}
}

static void print_edge(FILE *f, const struct rfuncs *F, const struct rfedge *e)
{
	char lb[128], b1[32];

	fprintf(f, "%s %" PRIu64 "x", e->func == RF_ROOT ? "<thread start>" : fn_label(&F->funcs[e->func], lb, sizeof(lb)),
		e->calls);
	/* A recursive call's time is inside an outer call already counted. */
	if (e->recursive == e->calls)
		fprintf(f, " recursive");
	else if (e->recursive)
		fprintf(f, " %s (%" PRIu64 "x recursive)", report_ns(e->total_ns, b1, sizeof(b1)), e->recursive);
	else
		fprintf(f, " %s", report_ns(e->total_ns, b1, sizeof(b1)));
}

static void print_edges(FILE *f, const struct rfuncs *F)
{
	char lb[128], b1[32];

	fprintf(f, "\n  callers and callees of the top %d functions by inclusive time:\n", TEXT_EDGES_FUNCS);
	for (size_t i = 0; i < F->nfuncs && i < TEXT_EDGES_FUNCS; i++) {
		const struct rfunc *fn = &F->funcs[F->by_total[i]];

		fprintf(f, "   %s: %" PRIu64 " %s, %s", fn_label(fn, lb, sizeof(lb)), fn->calls, calls_word(fn->calls),
			report_ns(fn->total_ns, b1, sizeof(b1)));
		fn_where(f, fn);
		fputc('\n', f);
		fprintf(f, "      called by: ");
		for (size_t k = 0; k < fn->ncallers && k < TEXT_EDGES; k++) {
			fprintf(f, "%s", k ? ", " : "");
			print_edge(f, F, &fn->callers[k]);
		}
		if (fn->ncallers > TEXT_EDGES)
			fprintf(f, ", %zu more", fn->ncallers - TEXT_EDGES);
		fprintf(f, "\n      calls:     ");
		if (!fn->ncallees)
			fprintf(f, "(no instrumented function)");
		for (size_t k = 0; k < fn->ncallees && k < TEXT_EDGES; k++) {
			fprintf(f, "%s", k ? ", " : "");
			print_edge(f, F, &fn->callees[k]);
		}
		if (fn->ncallees > TEXT_EDGES)
			fprintf(f, ", %zu more", fn->ncallees - TEXT_EDGES);
		fputc('\n', f);
	}
}

static const char *thread_name(const struct rfuncs *F, int tid)
{
	for (size_t i = 0; i < F->nthreads; i++)
		if (F->threads[i].tid == tid && F->threads[i].name[0])
			return F->threads[i].name;
	return NULL;
}

static void print_slowest(FILE *f, const struct rfuncs *F)
{
	char b1[32];
	size_t rows[TEXT_ROWS] = {0}, n = 0;
	struct name_col col;

	if (!F->nslowest)
		return;
	fprintf(f, "\n  slowest calls:\n");
	for (size_t i = 0; i < F->nslowest && i < TEXT_SLOWEST; i++)
		rows[n++] = F->slowest[i].func;
	col_fit(&col, F, rows, n);
	for (size_t i = 0; i < n; i++) {
		const struct rfcall *c = &F->slowest[i];
		const char *tn = thread_name(F, c->tid);

		fprintf(f, "   #%-3zu %10s  ", i + 1, report_ns(c->ns, b1, sizeof(b1)));
		col_print(f, &col, i, 1);
		fprintf(f, " thread %d%s%s%s at %+.6f s", c->tid, tn ? " (" : "", tn ? E(tn) : "", tn ? ")" : "",
			c->start_ns / 1e9);
		if (c->meta && *c->meta)
			fprintf(f, "  %s", E(c->meta));
		fputc('\n', f);
	}
	col_free(&col);
}

static void print_threads(FILE *f, const struct rfuncs *F)
{
	char b1[32];

	if (F->nthreads < 2)
		return;
	fprintf(f, "\n  functions per thread (%zu):\n", F->nthreads);
	for (size_t i = 0; i < F->nthreads && i < TEXT_THREADS; i++) {
		const struct rfthread *t = &F->threads[i];

		fprintf(f, "   tid %-8d %-16s %10" PRIu64 " calls %12s\n", t->tid, t->name[0] ? E(t->name) : "-", t->calls,
			report_ns(t->total_ns, b1, sizeof(b1)));
	}
	if (F->nthreads > TEXT_THREADS)
		fprintf(f, "   ... %zu more threads (see --json)\n", F->nthreads - TEXT_THREADS);
}

void render_func_text(const struct report *r, const struct rprocess *p, FILE *f)
{
	const struct rfuncs *F = p->func;

	(void)r;
	if (!F) {
		fprintf(f, "\n  functions: no instrumented code ran; rebuild with -finstrument-functions for exact\n"
			   "        per-function calls and times, the call tree and the slowest calls\n");
		return;
	}
	print_head(f, F);
	if (!F->nfuncs)
		return;
	print_table(f, F);
	print_hotspots(f, F);
	print_call_tree(f, F);
	print_edges(f, F);
	print_slowest(f, F);
	print_threads(f, F);
}

/* --- JSON ----------------------------------------------------------------- */

#define jstr render_jstr

static json_t *j_call(const struct rfuncs *F, const struct rfcall *c, int with_func)
{
	json_t *o = json_pack("{s:i, s:I, s:I}", "tid", c->tid, "start_ns", (json_int_t)c->start_ns, "duration_ns",
			      (json_int_t)c->ns);

	if (o && c->meta)
		json_object_set_new(o, "meta", jstr(c->meta));

	if (o && with_func) {
		json_object_set_new(o, "function", jstr(F->funcs[c->func].name));
		json_object_set_new(o, "function_id", json_integer((json_int_t)c->func));
	}
	return o;
}

static json_t *j_edges(const struct rfuncs *F, const struct rfedge *e, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n && i < JSON_EDGES; i++)
		json_array_append_new(
		    a, json_pack("{s:o, s:o, s:I, s:I, s:I}", "function",
				 e[i].func == RF_ROOT ? json_null() : jstr(F->funcs[e[i].func].name), "function_id",
				 e[i].func == RF_ROOT ? json_null() : json_integer((json_int_t)e[i].func), "calls",
				 (json_int_t)e[i].calls, "recursive_calls", (json_int_t)e[i].recursive, "total_ns",
				 (json_int_t)e[i].total_ns));
	return a;
}

static json_t *j_function(const struct rfuncs *F, size_t i)
{
	const struct rfunc *fn = &F->funcs[i];
	json_t *slow = json_array(), *o;

	for (size_t k = 0; k < fn->nslow; k++)
		json_array_append_new(slow, j_call(F, &fn->slow[k], 0));
	o = json_pack("{s:I, s:o, s:o, s:o, s:o, s:I, s:I}", "id", (json_int_t)i, "name", jstr(fn->name), "file",
		      jstr(fn->file), "line", fn->line ? json_integer(fn->line) : json_null(), "module",
		      jstr(fn->module), "address", (json_int_t)fn->address, "offset", (json_int_t)fn->offset);
	if (!o)
		return NULL;
	json_object_set_new(o, "region", json_boolean(fn->region));
	json_object_update_new(
	    o, json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:I, s:I, s:I, s:f}", "calls", (json_int_t)fn->calls,
			 "recursive_calls", (json_int_t)fn->recursive, "unwound_calls", (json_int_t)fn->unwound,
			 "total_ns", (json_int_t)fn->total_ns, "self_ns", (json_int_t)fn->self_ns, "min_ns",
			 (json_int_t)fn->min_ns, "max_ns", (json_int_t)fn->max_ns, "mean_ns", fn->mean_ns, "p50_ns",
			 (json_int_t)fn->p50_ns, "p95_ns", (json_int_t)fn->p95_ns, "p99_ns", (json_int_t)fn->p99_ns,
			 "stddev_ns", fn->stddev_ns));
	json_object_update_new(
	    o, json_pack("{s:I, s:I, s:I, s:I, s:o, s:o, s:o}", "allocations", (json_int_t)fn->allocs, "alloc_bytes",
			 (json_int_t)fn->bytes, "self_allocations", (json_int_t)fn->self_allocs, "self_alloc_bytes",
			 (json_int_t)fn->self_bytes, "slowest", slow, "callers", j_edges(F, fn->callers, fn->ncallers),
			 "callees", j_edges(F, fn->callees, fn->ncallees)));
	return o;
}

struct jtree {
	const struct rfuncs *F;
	size_t nodes;
};

static json_t *j_node(struct jtree *t, size_t v, int depth)
{
	const struct rfnode *n = &t->F->nodes[v];
	json_t *kids = json_array(), *o;
	int truncated = 0;

	t->nodes++;
	for (size_t i = 0; i < n->nkids; i++) {
		if (depth + 1 >= JSON_TREE_DEPTH || t->nodes >= JSON_TREE_NODES) {
			truncated = 1;
			break;
		}
		json_array_append_new(kids, j_node(t, n->kids[i], depth + 1));
	}
	o = json_pack("{s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:o}", "function",
		      n->func == RF_ROOT ? json_null() : jstr(t->F->funcs[n->func].name), "function_id",
		      n->func == RF_ROOT ? json_null() : json_integer((json_int_t)n->func), "calls",
		      (json_int_t)n->calls, "total_ns", (json_int_t)n->total_ns, "self_ns", (json_int_t)n->self_ns,
		      "allocations", (json_int_t)n->allocs, "alloc_bytes", (json_int_t)n->bytes, "children", kids);
	if (o && truncated)
		json_object_set_new(o, "truncated", json_true());
	return o;
}

void render_func_json(const struct rprocess *p, struct json_t *proc)
{
	const struct rfuncs *F = p->func;
	json_t *funcs, *slowest, *threads, *timing;
	struct jtree t = {.F = F};

	if (!F || !proc)
		return;
	funcs = json_array();
	slowest = json_array();
	threads = json_array();
	for (size_t i = 0; i < F->nfuncs; i++)
		json_array_append_new(funcs, j_function(F, i));
	for (size_t i = 0; i < F->nslowest; i++)
		json_array_append_new(slowest, j_call(F, &F->slowest[i], 1));
	for (size_t i = 0; i < F->nthreads; i++)
		json_array_append_new(threads, json_pack("{s:i, s:o, s:I, s:I}", "tid", F->threads[i].tid, "name",
							 F->threads[i].name[0] ? jstr(F->threads[i].name) : json_null(),
							 "calls", (json_int_t)F->threads[i].calls, "total_ns",
							 (json_int_t)F->threads[i].total_ns));
	timing = json_pack("{s:s, s:f, s:f, s:f, s:f, s:b, s:I, s:I, s:I, s:I}", "clock", F->clock, "ns_per_tick",
			   F->ns_per_tick, "hook_ns", F->hook_ns, "hook_inner_ns", F->inner_ns, "clock_read_ns",
			   F->clock_ns, "corrected", F->corrected, "calls", (json_int_t)F->calls, "hidden_calls",
			   (json_int_t)F->hidden_calls, "total_ns", (json_int_t)F->total_ns, "functions",
			   (json_int_t)F->nfuncs);
	if (timing)
		json_object_update_new(
		    timing, json_pack("{s:I, s:I, s:I, s:I, s:I, s:i, s:i, s:I, s:o}", "unmatched_exits",
				      (json_int_t)F->unmatched_exits, "unwound_frames", (json_int_t)F->unwound,
				      "calls_beyond_max_depth", (json_int_t)F->beyond_depth, "calls_in_hooks",
				      (json_int_t)F->in_hooks, "dropped", (json_int_t)F->dropped, "max_depth",
				      (int)F->max_depth, "max_call_depth", (int)F->max_call_depth, "min_duration_ns",
				      (json_int_t)F->min_duration_ns, "threads", threads));
	if (timing)
		json_object_update_new(timing, json_pack("{s:I, s:I, s:I, s:o, s:I, s:I}", "paused_calls",
							 (json_int_t)F->paused_calls, "unmatched_region_ends",
							 (json_int_t)F->unmatched_region_ends, "regions_not_timed",
							 (json_int_t)F->regions_full, "timeline_min_ns",
							 F->timeline_min_ns == UINT64_MAX ? json_null()
											  : json_integer((json_int_t)F->timeline_min_ns),
							 "timeline_calls", (json_int_t)F->ntimeline, "timeline_dropped",
							 (json_int_t)F->timeline_dropped));
	json_object_set_new(proc, "function_timing", timing ? timing : json_null());
	json_object_set_new(proc, "functions", funcs);
	json_object_set_new(proc, "call_tree", F->nnodes ? j_node(&t, 0, 0) : json_null());
	json_object_set_new(proc, "slowest_calls", slowest);
}

void render_func_agent_json(const struct report *r, struct json_t *agent)
{
	uint64_t unmatched = 0;

	if (!agent)
		return;
	for (size_t i = 0; i < r->nprocs; i++)
		if (r->procs[i].func)
			unmatched += r->procs[i].func->unmatched_exits;
	json_object_set_new(agent, "unmatched_exits", json_integer((json_int_t)unmatched));
	json_object_set_new(agent, "function_filter", r->func_filter ? jstr(r->func_filter) : json_null());
	json_object_set_new(agent, "function_exclude", r->func_exclude ? jstr(r->func_exclude) : json_null());
}
