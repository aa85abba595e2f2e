/*
 * callgrind: the profile format of valgrind's callgrind, read by
 * KCachegrind and callgrind_annotate, for instrumented function timing.
 * Costs are nanoseconds of self time (events "ns"), and the function's
 * own allocations and bytes; every caller -> callee edge carries its call
 * count and the inclusive time of those calls. A function's costs are at
 * the line it starts on (the hooks see entries, not lines), and so are
 * its calls. Functions of several processes go to one file, merged by
 * name as callgrind_annotate merges them.
 */
#include <inttypes.h>
#include <string.h>

#include "render.h"
#include "view.h"

/* A name or path with what would end its line replaced. */
static void put_name(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, f);
}

static void put_fn(FILE *f, const char *key, const struct rfuncs *F, size_t i)
{
	char buf[256];

	fprintf(f, "%s=", key);
	put_name(f, view_func_name(F, i, buf, sizeof(buf)));
	fputc('\n', f);
}

static void put_fl(FILE *f, const char *key, const struct rfuncs *F, size_t i)
{
	const char *file = i < F->nfuncs && F->funcs[i].file ? F->funcs[i].file : "???";

	fprintf(f, "%s=", key);
	put_name(f, file);
	fputc('\n', f);
}

static int line_of(const struct rfuncs *F, size_t i)
{
	return i < F->nfuncs && F->funcs[i].line > 0 ? F->funcs[i].line : 0;
}

int render_callgrind(const struct report *r, FILE *f, const struct view_opts *o)
{
	int part = 0;

	(void)o;
	fprintf(f, "# callgrind format\nversion: 1\ncreator: ptrace-run %s\n", PTRACE_VERSION);
	fprintf(f, "cmd:");
	for (char **a = r->argv; a && *a; a++) {
		fputc(' ', f);
		put_name(f, *a);
	}
	/* ns: self time in nanoseconds; allocs, bytes: the function's own. */
	fprintf(f, "\npositions: line\nevents: ns allocs bytes\n");
	for (size_t k = 0; k < r->nprocs; k++) {
		const struct rprocess *p = &r->procs[k];
		const struct rfuncs *F = p->func;

		if (!F || !F->nfuncs)
			continue;
		/* callgrind_annotate takes no "part:" or "pid:" lines: a comment. */
		fprintf(f, "\n# process %d\n", p->pid);
		part++;
		for (size_t i = 0; i < F->nfuncs; i++) {
			const struct rfunc *fn = &F->funcs[i];

			fputc('\n', f);
			put_fl(f, "fl", F, i);
			put_fn(f, "fn", F, i);
			fprintf(f, "%d %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", line_of(F, i), fn->self_ns, fn->self_allocs,
				fn->self_bytes);
			for (size_t e = 0; e < fn->ncallees; e++) {
				const struct rfedge *c = &fn->callees[e];

				if (c->func == RF_ROOT)
					continue;
				put_fl(f, "cfi", F, c->func);
				put_fn(f, "cfn", F, c->func);
				fprintf(f, "calls=%" PRIu64 " %d\n", c->calls, line_of(F, c->func));
				fprintf(f, "%d %" PRIu64 "\n", line_of(F, i), c->total_ns);
			}
		}
	}
	if (!part)
		fprintf(f, "\n# no instrumented function ran (build with -finstrument-functions)\n");
	if (fflush(f) || ferror(f))
		return -5; /* EIO */
	return 0;
}
