/*
 * The timeline as Chrome's trace event format (JSON object form), read by
 * Perfetto UI (ui.perfetto.dev) and chrome://tracing: one complete event
 * ("ph":"X") per call of the timeline, with its process and thread, a
 * region's metadata as its args; metadata events ("ph":"M") naming each
 * process and thread; the live heap and RSS as counter events ("ph":"C")
 * from the launcher's reads. Timestamps are microseconds since the
 * session started, so the processes of one run line up.
 *
 * Written as a stream (a timeline holds up to a million calls): each
 * name is encoded once, with jansson, which makes any bytes valid JSON.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "view.h"

/* s as a JSON string literal (malloc'd). */
static char *jlit(const char *s)
{
	json_t *j = render_jstr(s ? s : "");
	char *out = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

	json_decref(j);
	return out;
}

/* A region's metadata as args: "meta" whole, and each key=value. */
static void meta_args(FILE *f, const char *meta)
{
	json_t *o = json_object();
	char *copy = strdup(meta), *save = NULL, *out;

	json_object_set_new(o, "meta", render_jstr(meta));
	for (char *tok = copy ? strtok_r(copy, " ", &save) : NULL; tok; tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');

		if (eq && eq != tok) {
			*eq = 0;
			if (strcmp(tok, "meta"))
				json_object_set_new(o, tok, render_jstr(eq + 1));
		}
	}
	free(copy);
	out = json_dumps(o, JSON_COMPACT);
	fprintf(f, ",\"args\":%s", out ? out : "{}");
	free(out);
	json_decref(o);
}

static void us(FILE *f, int64_t ns)
{
	fprintf(f, "%s%" PRId64 ".%03" PRId64, ns < 0 ? "-" : "", (ns < 0 ? -ns : ns) / 1000,
		(ns < 0 ? -ns : ns) % 1000);
}

static int process(const struct rprocess *p, FILE *f, int *first)
{
	const struct rfuncs *F = p->func;
	char **names = NULL, label[256], *pl;

	view_proc_label(p, label, sizeof(label));
	pl = jlit(label);
	fprintf(f, "%s\n{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"args\":{\"name\":%s}}",
		*first ? "" : ",", p->pid, p->pid, pl ? pl : "\"\"");
	*first = 0;
	free(pl);
	if (F) {
		for (size_t i = 0; i < F->nthreads; i++) {
			char *tn = jlit(F->threads[i].name[0] ? F->threads[i].name : "");

			if (F->threads[i].name[0])
				fprintf(f, ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"args\":{\"name\":%s}}",
					p->pid, F->threads[i].tid, tn ? tn : "\"\"");
			free(tn);
		}
		names = calloc(F->nfuncs ? F->nfuncs : 1, sizeof(*names));
		if (!names)
			return -ENOMEM;
		for (size_t i = 0; i < F->nfuncs; i++) {
			char buf[128];

			names[i] = jlit(view_func_name(F, i, buf, sizeof(buf)));
			if (!names[i]) {
				for (size_t k = 0; k < i; k++)
					free(names[k]);
				free(names);
				return -ENOMEM;
			}
		}
		for (size_t i = 0; i < F->ntimeline; i++) {
			const struct rfcall *c = &F->timeline[i];

			fprintf(f, ",\n{\"name\":%s,\"cat\":\"%s\",\"ph\":\"X\",\"ts\":", names[c->func],
				F->funcs[c->func].region ? "region" : "function");
			us(f, (int64_t)p->start_ns + c->start_ns);
			fprintf(f, ",\"dur\":");
			us(f, (int64_t)c->ns);
			fprintf(f, ",\"pid\":%d,\"tid\":%d", p->pid, c->tid);
			if (c->meta)
				meta_args(f, c->meta);
			fputc('}', f);
		}
		for (size_t i = 0; i < F->nfuncs; i++)
			free(names[i]);
		free(names);
	}
	if (p->time)
		for (size_t i = 0; i < p->time->n; i++) {
			const struct rtime_point *x = &p->time->pts[i];

			fprintf(f, ",\n{\"name\":\"heap\",\"ph\":\"C\",\"ts\":");
			us(f, (int64_t)(p->start_ns + x->t_ns));
			fprintf(f, ",\"pid\":%d,\"tid\":%d,\"args\":{\"live_bytes\":%" PRIu64, p->pid, p->pid,
				x->live_bytes);
			if (x->rss_bytes)
				fprintf(f, ",\"rss_bytes\":%" PRIu64, x->rss_bytes);
			fprintf(f, "}}");
		}
	return 0;
}

int render_chrome(const struct report *r, FILE *f, const struct view_opts *o)
{
	int first = 1, rc = 0;
	char *cmd = NULL;

	(void)o;
	fprintf(f, "{\"traceEvents\":[");
	for (size_t i = 0; i < r->nprocs && !rc; i++)
		rc = process(&r->procs[i], f, &first);
	if (rc)
		return rc;
	{
		json_t *a = json_array();

		for (char **v = r->argv; v && *v; v++)
			json_array_append_new(a, render_jstr(*v));
		cmd = json_dumps(a, JSON_COMPACT);
		json_decref(a);
	}
	fprintf(f, "\n],\"displayTimeUnit\":\"ms\",\"otherData\":{\"tool\":\"ptrace-run\",\"version\":\"%s\",\"command\":%s}}\n",
		PTRACE_VERSION, cmd ? cmd : "[]");
	free(cmd);
	return fflush(f) || ferror(f) ? -EIO : 0;
}
