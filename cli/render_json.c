#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "render_func.h"

#define JSON_MAX_SITES 50
#define JSON_MAX_LEAKS 200

/* A JSON string for s, or null. Paths, names and arguments from the
 * program need not be UTF-8; JSON must be: each byte that does not start
 * a valid UTF-8 sequence becomes U+FFFD. */
json_t *render_jstr(const char *s)
{
	json_t *v;
	char *fixed, *o;

	if (!s)
		return json_null();
	if ((v = json_string(s)))
		return v;
	fixed = malloc(strlen(s) * 3 + 1);
	if (!fixed)
		return json_null();
	o = fixed;
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		int len = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3 : (*p >> 3) == 30 ? 4 : 0;
		int ok = len > 0;

		for (int k = 1; ok && k < len; k++)
			ok = (p[k] & 0xc0) == 0x80;
		if (ok) {
			memcpy(o, p, (size_t)len);
			o += len;
			p += len;
			continue;
		}
		memcpy(o, "\xef\xbf\xbd", 3);
		o += 3;
		p++;
	}
	*o = 0;
	v = json_string(fixed); /* overlong forms etc.: jansson may still refuse */
	if (!v) {
		for (o = fixed; *o; o++)
			if ((unsigned char)*o >= 0x80)
				*o = '?';
		v = json_string(fixed);
	}
	free(fixed);
	return v ? v : json_null();
}

#define jstr_or_null render_jstr
#define jstr_n render_jstr

static json_t *j_argv(char **argv)
{
	json_t *a = json_array();

	for (size_t i = 0; argv && argv[i]; i++)
		json_array_append_new(a, jstr_n(argv[i]));
	return a;
}

static json_t *j_stack(const struct rstack *st)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < st->n; i++) {
		const struct rframe *f = rstack_frame(st, i);
		json_array_append_new(a, json_pack("{s:o, s:o, s:o, s:o, s:I, s:I, s:b}", "function",
						   jstr_or_null(f->function), "file", jstr_or_null(f->file), "line",
						   f->line ? json_integer(f->line) : json_null(), "module",
						   jstr_or_null(f->module), "address", (json_int_t)f->address, "offset",
						   (json_int_t)f->offset, "inlined", f->inlined));
	}
	return a;
}

static const char *const j_leak_class[SF_LEAK_CLASSES] = {"still_reachable", "possibly_lost", "indirectly_lost",
							     "definitely_lost"};

/* {"definitely_lost": {"bytes": N, "blocks": N}, ...} */
static json_t *j_classes(const uint64_t *blocks, const uint64_t *bytes)
{
	json_t *o = json_object();

	for (unsigned c = 0; c < SF_LEAK_CLASSES; c++)
		json_object_set_new(o, j_leak_class[c],
				    json_pack("{s:I, s:I}", "bytes", (json_int_t)bytes[c], "blocks", (json_int_t)blocks[c]));
	return o;
}

static json_t *j_leak_site(const struct rmemory *m, const struct rsite *x)
{
	json_t *o = json_pack("{s:I, s:I, s:o}", "bytes", (json_int_t)x->live_bytes, "blocks",
			      (json_int_t)x->live_blocks, "stack", j_stack(&x->stack));

	if (o && m->leak_checked)
		json_object_set_new(o, "classes", j_classes(x->lk_blocks, x->lk_bytes));
	return o;
}

static json_t *j_leak_check(const struct rmemory *m)
{
	json_t *o;

	if (!m->leak_checked) {
		const char *why = m->leak_off ? "off"
				   : (m->leak_flags & SF_LK_THREADS_MISSED) ? "threads not stopped"
				   : (m->leak_flags & SF_LK_NOT_RUN)	    ? "no memory"
				   : m->lk_fork_child			    ? "fork child"
									    : "no exit";
		return json_pack("{s:b, s:s}", "made", 0, "why_not", why);
	}
	o = json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:b}", "made", 1, "blocks_found", (json_int_t)m->lk_found,
		      "scan_ns", (json_int_t)m->lk_scan_ns, "root_bytes", (json_int_t)m->lk_root_bytes, "block_bytes",
		      (json_int_t)m->lk_block_bytes, "threads", (json_int_t)m->lk_threads, "threads_stopped",
		      (json_int_t)m->lk_threads_stopped, "sites_full", !!(m->leak_flags & SF_LK_SITES_FULL));
	if (o)
		json_object_update_new(o, j_classes(m->lk_blocks, m->lk_bytes));
	return o;
}

static json_t *j_memory(const struct rmemory *m)
{
	json_t *hist = json_array(), *leaks = json_array(), *sites = json_array();

	for (unsigned b = 0; b < SF_HIST_BUCKETS; b++) {
		uint64_t lo, hi;
		if (!m->hist[b])
			continue;
		report_bucket_range(b, &lo, &hi);
		json_array_append_new(hist, json_pack("{s:I, s:I, s:I}", "min", (json_int_t)lo, "max",
						      (json_int_t)(hi > INT64_MAX ? INT64_MAX : hi), "count",
						      (json_int_t)m->hist[b]));
	}
	for (size_t i = 0; i < m->nleaks && i < JSON_MAX_LEAKS; i++) {
		json_array_append_new(leaks, j_leak_site(m, m->leaks[i]));
	}
	for (size_t i = 0; i < m->nsites && i < JSON_MAX_SITES; i++) {
		const struct rsite *x = &m->sites[i];
		json_array_append_new(sites, json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "bytes",
						       (json_int_t)x->bytes, "allocations", (json_int_t)x->allocs,
						       "frees", (json_int_t)x->frees, "temporary",
						       (json_int_t)x->temporary, "live_bytes",
						       (json_int_t)x->live_bytes, "live_blocks",
						       (json_int_t)x->live_blocks, "stack", j_stack(&x->stack)));
	}
	json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:o, s:o, s:o}", "allocations",
			 (json_int_t)m->allocations, "frees", (json_int_t)m->frees, "bytes_allocated",
			 (json_int_t)m->bytes_allocated, "peak_bytes", (json_int_t)m->peak_bytes, "live_bytes",
			 (json_int_t)m->live_bytes, "live_blocks", (json_int_t)m->live_blocks,
			 "temporary_allocations", (json_int_t)m->temporary, "failed_allocations",
			 (json_int_t)m->failed, "inherited_frees", (json_int_t)m->inherited_frees, "sampled",
			 m->sampled, "size_histogram", hist, "leaks", leaks, "sites", sites);

	if (o) {
		json_t *sup = json_array();

		for (size_t i = 0; i < m->nsuppressed; i++) {
			const struct rsite *x = m->suppressed[i];

			json_t *e = j_leak_site(m, x);

			if (e)
				json_object_set_new(e, "by", render_jstr(x->suppressed_by));
			json_array_append_new(sup, e);
		}
		if (m->leak_checked) {
			json_t *reach = json_array();

			for (size_t i = 0; i < m->nreachable && i < JSON_MAX_LEAKS; i++)
				json_array_append_new(reach, j_leak_site(m, m->reachable[i]));
			json_object_set_new(o, "still_reachable", reach);
		}
		json_object_set_new(o, "leak_check", j_leak_check(m));
		json_object_set_new(o, "stack_walks",
				    json_pack("{s:I, s:I, s:I, s:I, s:I}", "total", (json_int_t)m->walks, "libunwind",
					      (json_int_t)m->walks_libunwind, "repeated", (json_int_t)m->walks_repeated,
					      "checked", (json_int_t)m->walks_checked, "differed",
					      (json_int_t)m->walks_differ));
		json_object_set_new(o, "suppressed", sup);
		json_object_set_new(o, "suppressed_bytes", json_integer((json_int_t)m->suppressed_bytes));
		json_object_set_new(o, "suppressed_blocks", json_integer((json_int_t)m->suppressed_blocks));
	}
	if (o && m->freed_by_exec)
		json_object_update_new(o, json_pack("{s:I, s:I}", "freed_by_exec_bytes", (json_int_t)m->exec_freed_bytes,
						    "freed_by_exec_blocks", (json_int_t)m->exec_freed_blocks));
	return o;
}

static json_t *j_mapped(const struct rmapped *mp)
{
	json_t *sites = json_array();

	for (size_t i = 0; i < mp->nsites && i < JSON_MAX_SITES; i++) {
		const struct rmsite *x = &mp->sites[i];

		json_array_append_new(sites, json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "maps",
						       (json_int_t)x->maps, "bytes", (json_int_t)x->bytes, "unmaps",
						       (json_int_t)x->unmaps, "unmapped_bytes",
						       (json_int_t)x->unmapped_bytes, "live_bytes",
						       (json_int_t)x->live_bytes, "live_regions",
						       (json_int_t)x->live_regions, "peak_bytes",
						       (json_int_t)x->peak_bytes, "stack", j_stack(&x->stack)));
	}
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "maps", (json_int_t)mp->maps, "unmaps",
			 (json_int_t)mp->unmaps, "remaps", (json_int_t)mp->remaps, "partial_unmaps",
			 (json_int_t)mp->partial, "bytes", (json_int_t)mp->bytes, "unmapped_bytes",
			 (json_int_t)mp->unmapped_bytes, "live_bytes", (json_int_t)mp->live_bytes, "peak_bytes",
			 (json_int_t)mp->peak_bytes, "untracked", (json_int_t)mp->untracked, "sites", sites);
}

static json_t *j_process(const struct report *r, const struct rprocess *p)
{
	json_t *threads = json_array();
	json_t *o;

	for (size_t i = 0; i < p->nthreads; i++) {
		const struct rthread *t = &p->threads[i];
		json_array_append_new(threads, json_pack("{s:i, s:o, s:I, s:I, s:I}", "tid", t->tid, "name",
							 t->name[0] ? jstr_n(t->name) : json_null(), "allocations",
							 (json_int_t)t->allocs, "bytes_allocated", (json_int_t)t->bytes,
							 "frees", (json_int_t)t->frees));
	}
	o = json_pack("{s:i, s:i, s:o, s:o, s:o, s:o, s:b, s:b, s:I, s:o}", "pid", p->pid, "ppid", p->ppid, "command",
		      j_argv(p->argv), "executable", jstr_n(p->exe), "exit_code",
		      p->has_exit ? json_integer(p->exit_code) : json_null(), "signal",
		      p->has_signal ? json_integer(p->signal) : json_null(), "forked", p->forked, "execed",
		      p->execed, "duration_ns", (json_int_t)p->duration_ns, "threads", threads);
	if (o && p->track_memory)
		json_object_set_new(o, "memory", j_memory(&p->mem));
	if (o && p->track_memory)
		json_object_set_new(o, "mapped", j_mapped(&p->mapped));
	if (o)
		render_cpu_json(p, o);
	if (o)
		render_func_json(p, o);
	if (o)
		render_time_json(r, p, o);
	if (o)
		json_object_set_new(o, "api",
				    p->api.present
					? json_pack("{s:I,s:b,s:I,s:I,s:I,s:i,s:i,s:i,s:o}", "pauses", (json_int_t)p->api.pauses,
						    "paused_at_end", p->api.paused_now, "paused_allocations",
						    (json_int_t)p->api.paused_allocs, "paused_bytes",
						    (json_int_t)p->api.paused_bytes, "paused_cpu_samples",
						    (json_int_t)p->api.paused_samples, "snapshots", (int)p->api.snapshots,
						    "resets", (int)p->api.resets, "refused_resets", (int)p->api.refused_resets,
						    "reset_ns",
						    p->api.resets ? json_integer((json_int_t)p->api.reset_ns) : json_null())
					: json_null());
	return o;
}

json_t *render_json_stack(const struct rstack *st)
{
	return j_stack(st);
}

static json_int_t tv_ns(struct timeval tv)
{
	return (json_int_t)tv.tv_sec * 1000000000 + (json_int_t)tv.tv_usec * 1000;
}

/* Compact, one line and a newline: reports with many processes run to
 * tens of megabytes, half of it indentation. `jq .` or `python3 -m
 * json.tool` pretty-print it. */
struct json_sink {
	FILE *f;
	size_t n;
	char buf[1 << 16];
};

static int json_sink_flush(struct json_sink *k)
{
	if (k->n && fwrite(k->buf, 1, k->n, k->f) != k->n)
		return -1;
	k->n = 0;
	return 0;
}

/* jansson hands its output over token by token: through a buffer of our
 * own, not a locked stdio call each (a 4 MB report: ~500k of them). */
static int json_sink_add(const char *p, size_t len, void *data)
{
	struct json_sink *k = data;

	if (len > sizeof(k->buf) - k->n && json_sink_flush(k))
		return -1;
	if (len > sizeof(k->buf))
		return fwrite(p, 1, len, k->f) == len ? 0 : -1;
	memcpy(k->buf + k->n, p, len);
	k->n += len;
	return 0;
}

static int json_write(json_t *root, FILE *f)
{
	struct json_sink *k = malloc(sizeof(*k));
	int bad;

	if (!k)
		return -ENOMEM;
	k->f = f;
	k->n = 0;
	bad = json_dump_callback(root, json_sink_add, k, JSON_COMPACT | JSON_PRESERVE_ORDER) || json_sink_flush(k);
	free(k);
	if (bad || fputc('\n', f) == EOF || fflush(f))
		return -EIO;
	return ferror(f) ? -EIO : 0;
}

int render_json(const struct report *r, FILE *f)
{
	json_t *procs = json_array(), *warnings = json_array(), *root;
	int err = 0;

	for (size_t i = 0; i < r->nprocs; i++)
		json_array_append_new(procs, j_process(r, &r->procs[i]));
	for (size_t i = 0; i < r->nwarnings; i++)
		json_array_append_new(warnings, render_jstr(r->warnings[i]));
	root = json_pack(
		"{s:i, s:s, s:s, s:o, s:o, s:o, s:I, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}, "
		"s:{s:b, s:o, s:I, s:f, s:I, s:i, s:b, s:{s:I, s:I, s:I, s:I}, s:o}, s:o}",
		"schema", RENDER_SCHEMA, "tool", "ptrace-run", "version", PTRACE_VERSION, "command", j_argv(r->argv),
		"exit_code", r->has_exit ? json_integer(r->exit_code) : json_null(), "signal",
		r->has_signal ? json_integer(r->signal) : json_null(), "duration_ns", (json_int_t)r->duration_ns,
		"rusage", "user_ns", tv_ns(r->ru.ru_utime), "sys_ns", tv_ns(r->ru.ru_stime), "max_rss_kb",
		(json_int_t)r->ru.ru_maxrss, "minor_faults", (json_int_t)r->ru.ru_minflt, "major_faults",
		(json_int_t)r->ru.ru_majflt, "voluntary_switches", (json_int_t)r->ru.ru_nvcsw, "involuntary_switches",
		(json_int_t)r->ru.ru_nivcsw, "agent", "loaded", r->loaded, "reason",
		r->loaded ? json_null() : render_jstr(r->reason), "events_dropped", (json_int_t)r->events_dropped,
		"sample_rate", r->sample_rate, "sample_bytes", (json_int_t)r->sample_bytes, "max_depth", (int)r->max_depth, "track_memory", r->track_memory,
		"dropped", "traces", (json_int_t)r->dropped_traces, "processes", (json_int_t)r->dropped_procs,
		"threads", (json_int_t)r->dropped_threads, "sites", (json_int_t)r->dropped_sites, "warnings",
		warnings, "processes", procs);
	if (!root)
		return -ENOMEM;
	json_object_set_new(root, "snapshot",
			    r->snapshot ? json_pack("{s:i,s:o,s:I}", "number", (int)r->snapshot, "label",
						    render_jstr(r->snapshot_label ? r->snapshot_label : ""), "t_ns",
						    (json_int_t)r->snapshot_ns)
					: json_null());
	render_cpu_agent_json(r, json_object_get(root, "agent"));
	render_func_agent_json(r, json_object_get(root, "agent"));
	err = json_write(root, f);
	json_decref(root);
	return err;
}
