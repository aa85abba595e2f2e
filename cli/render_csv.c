/*
 * CSV (RFC 4180), one table for spreadsheets and scripts: a header row,
 * then one row per instrumented function (kind "function": calls, times,
 * percentiles, memory), per allocation site (kind "site": its figures and
 * its stack) and per function of the CPU profile (kind "cpu_function":
 * self and total samples), for every process. Columns that do not apply
 * to a kind are empty. A field with a comma, quote or line break is
 * quoted, its quotes doubled.
 */
#include <inttypes.h>
#include <string.h>

#include "view.h"

static const char header[] =
	"kind,pid,name,file,line,module,calls,recursive_calls,total_ns,self_ns,min_ns,p50_ns,p95_ns,p99_ns,max_ns,"
	"mean_ns,allocations,alloc_bytes,self_allocations,self_alloc_bytes,frees,freed_bytes,temporary,live_blocks,"
	"live_bytes,cpu_self_samples,cpu_total_samples,stack\n";

#define NCOLS 28

struct row {
	const char *s[NCOLS];   /* text columns (kind, name, file, module, stack) */
	int has[NCOLS];         /* numeric column set */
	uint64_t u[NCOLS];
	double d[NCOLS];        /* mean_ns */
	int is_double[NCOLS];
};

enum {
	C_KIND, C_PID, C_NAME, C_FILE, C_LINE, C_MODULE, C_CALLS, C_RECURSIVE, C_TOTAL, C_SELF, C_MIN, C_P50, C_P95,
	C_P99, C_MAX, C_MEAN, C_ALLOCS, C_BYTES, C_SELF_ALLOCS, C_SELF_BYTES, C_FREES, C_FREED, C_TEMP, C_LIVE_BLOCKS,
	C_LIVE_BYTES, C_CPU_SELF, C_CPU_TOTAL, C_STACK
};

static void put_field(FILE *f, const char *s)
{
	if (!s)
		return;
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void put_row(FILE *f, const struct row *r)
{
	for (int c = 0; c < NCOLS; c++) {
		if (c)
			fputc(',', f);
		if (r->s[c])
			put_field(f, r->s[c]);
		else if (r->is_double[c])
			fprintf(f, "%.1f", r->d[c]);
		else if (r->has[c])
			fprintf(f, "%" PRIu64, r->u[c]);
	}
	fputc('\n', f);
}

static void set(struct row *r, int c, uint64_t v)
{
	r->has[c] = 1;
	r->u[c] = v;
}

/* A stack as one field: frames innermost first, joined by " <- ". */
static char *stack_text(const struct rstack *st)
{
	char *buf = NULL, name[256];
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return NULL;
	for (unsigned i = 0; i < st->n; i++) {
		const struct rframe *fr = rstack_frame(st, i);

		fprintf(m, "%s%s", i ? " <- " : "", view_frame_name(fr, name, sizeof(name)));
		if (fr->file && fr->line > 0)
			fprintf(m, " (%s:%d)", fr->file, fr->line);
	}
	fclose(m);
	return buf;
}

int render_csv(const struct report *r, FILE *f, const struct view_opts *o)
{
	char pid[16], line[16];

	(void)o;
	fputs(header, f);
	for (size_t k = 0; k < r->nprocs; k++) {
		const struct rprocess *p = &r->procs[k];

		snprintf(pid, sizeof(pid), "%d", p->pid);
		for (size_t i = 0; p->func && i < p->func->nfuncs; i++) {
			const struct rfunc *fn = &p->func->funcs[i];
			struct row row = {0};
			char name[256];

			row.s[C_KIND] = "function";
			row.s[C_PID] = pid;
			row.s[C_NAME] = view_func_name(p->func, i, name, sizeof(name));
			row.s[C_FILE] = fn->file;
			if (fn->line > 0)
				set(&row, C_LINE, (uint64_t)fn->line);
			row.s[C_MODULE] = fn->module;
			set(&row, C_CALLS, fn->calls);
			set(&row, C_RECURSIVE, fn->recursive);
			set(&row, C_TOTAL, fn->total_ns);
			set(&row, C_SELF, fn->self_ns);
			set(&row, C_MIN, fn->min_ns);
			set(&row, C_P50, fn->p50_ns);
			set(&row, C_P95, fn->p95_ns);
			set(&row, C_P99, fn->p99_ns);
			set(&row, C_MAX, fn->max_ns);
			row.is_double[C_MEAN] = 1;
			row.d[C_MEAN] = fn->mean_ns;
			set(&row, C_ALLOCS, fn->allocs);
			set(&row, C_BYTES, fn->bytes);
			set(&row, C_SELF_ALLOCS, fn->self_allocs);
			set(&row, C_SELF_BYTES, fn->self_bytes);
			put_row(f, &row);
		}
		for (size_t i = 0; i < p->mem.nsites; i++) {
			const struct rsite *s = &p->mem.sites[i];
			const struct rframe *top = s->stack.n ? rstack_frame(&s->stack, 0) : NULL;
			struct row row = {0};
			char name[256];
			char *st = stack_text(&s->stack);

			row.s[C_KIND] = "site";
			row.s[C_PID] = pid;
			row.s[C_NAME] = top ? view_frame_name(top, name, sizeof(name)) : "[no stack]";
			row.s[C_FILE] = top ? top->file : NULL;
			if (top && top->line > 0)
				set(&row, C_LINE, (uint64_t)top->line);
			row.s[C_MODULE] = top ? top->module : NULL;
			set(&row, C_ALLOCS, s->allocs);
			set(&row, C_BYTES, s->bytes);
			set(&row, C_FREES, s->frees);
			set(&row, C_FREED, s->freed_bytes);
			set(&row, C_TEMP, s->temporary);
			set(&row, C_LIVE_BLOCKS, s->live_blocks);
			set(&row, C_LIVE_BYTES, s->live_bytes);
			row.s[C_STACK] = st ? st : "";
			put_row(f, &row);
			free(st);
		}
		for (size_t i = 0; i < p->cpu.nfns; i++) {
			const struct rcpu_fn *fn = &p->cpu.fns[i];
			struct row row = {0};
			const char *base = fn->module ? strrchr(fn->module, '/') : NULL;
			char name[256];

			if (!fn->name)
				snprintf(name, sizeof(name), "?? %s", base ? base + 1 : fn->module ? fn->module : "");
			row.s[C_KIND] = "cpu_function";
			row.s[C_PID] = pid;
			row.s[C_NAME] = fn->name ? fn->name : name;
			row.s[C_FILE] = fn->file;
			if (fn->line > 0) {
				snprintf(line, sizeof(line), "%d", fn->line);
				row.s[C_LINE] = line;
			}
			row.s[C_MODULE] = fn->module;
			set(&row, C_CPU_SELF, fn->self);
			set(&row, C_CPU_TOTAL, fn->total);
			put_row(f, &row);
		}
	}
	if (fflush(f) || ferror(f))
		return -5; /* EIO */
	return 0;
}
