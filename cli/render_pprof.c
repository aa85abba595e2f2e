/*
 * pprof: a gzipped profile.proto (github.com/google/pprof, proto/
 * profile.proto), the format go tool pprof reads and Pyroscope and Parca
 * ingest, so a fleet's runs can go to a central profiler. One profile per
 * kind of data, chosen with --metric:
 *
 *   cpu            samples/count, cpu/nanoseconds (period 1/hz s)
 *   alloc_* inuse_* alloc_objects/count, alloc_space/bytes,
 *                  inuse_objects/count, inuse_space/bytes (as Go's heap
 *                  profiles; the one asked for is the default)
 *   func_*         calls/count, wall/nanoseconds: instrumented call paths
 *                  with their calls and self time
 *
 * Locations are per process and address, with their inlined frames as
 * lines (innermost first, the function they were inlined into last);
 * mappings per process and module, with the GNU build id; functions by
 * name and file. With several processes, samples carry labels "pid" and
 * "process". Written by hand: the message is small, and a protobuf
 * library would be a dependency for one encoder.
 */
#include <inttypes.h>
#include <string.h>
#include <zlib.h>

#include "bytes.h"
#include "view.h"

/* --- protobuf ------------------------------------------------------------ */

static void pb_varint(struct wbuf *w, uint64_t v)
{
	unsigned char b[10];
	size_t n = 0;

	do {
		b[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			b[n] |= 0x80;
		n++;
	} while (v);
	wbuf_put(w, b, n);
}

static void pb_uint(struct wbuf *w, unsigned field, uint64_t v)
{
	if (!v)
		return; /* proto3: the default is not written */
	pb_varint(w, (uint64_t)field << 3);
	pb_varint(w, v);
}

static void pb_bytes(struct wbuf *w, unsigned field, const void *p, size_t n)
{
	pb_varint(w, (uint64_t)field << 3 | 2);
	pb_varint(w, n);
	wbuf_put(w, p, n);
}

static void pb_msg(struct wbuf *w, unsigned field, struct wbuf *m)
{
	if (m->err)
		w->err = m->err;
	pb_bytes(w, field, m->p, m->n);
	m->n = 0;
}

/* --- tables -------------------------------------------------------------- */

struct strtab {
	struct wbuf *out;     /* the Profile: each new string goes out as field 6 */
	const char **keys;    /* open addressing; index = value - 1 in vals */
	uint64_t *vals;
	size_t cap, n;
	int err;
};

static int grow(void **keys, uint64_t **vals, size_t *cap, size_t keysz)
{
	size_t ncap = *cap ? *cap * 2 : 256;
	void *nk = calloc(ncap, keysz);
	uint64_t *nv = calloc(ncap, sizeof(*nv));

	if (!nk || !nv) {
		free(nk);
		free(nv);
		return -1;
	}
	*keys = nk;
	*vals = nv;
	*cap = ncap;
	return 0;
}

/* The string table index of s ("" is 0). */
static uint64_t str_id(struct strtab *t, const char *s)
{
	size_t i;

	if (!s || !*s)
		return 0;
	if ((t->n + 1) * 2 > t->cap) {
		const char **ok = t->keys;
		uint64_t *ov = t->vals;
		size_t ocap = t->cap;

		if (grow((void **)&t->keys, &t->vals, &t->cap, sizeof(*t->keys))) {
			t->err = -1;
			return 0;
		}
		for (size_t k = 0; k < ocap; k++) {
			if (!ok[k])
				continue;
			for (i = bytes_hash_str(ok[k]) & (t->cap - 1); t->keys[i]; i = (i + 1) & (t->cap - 1))
				;
			t->keys[i] = ok[k];
			t->vals[i] = ov[k];
		}
		free(ok);
		free(ov);
	}
	for (i = bytes_hash_str(s) & (t->cap - 1); t->keys[i]; i = (i + 1) & (t->cap - 1))
		if (!strcmp(t->keys[i], s))
			return t->vals[i];
	/* A copy: s may be a caller's buffer (a name made up for a frame). */
	if (!(t->keys[i] = strdup(s))) {
		t->err = -1;
		return 0;
	}
	t->vals[i] = ++t->n;
	pb_bytes(t->out, 6, s, strlen(s));
	return t->vals[i];
}

/* A 64-bit key -> id table (locations, functions, mappings). */
struct idtab {
	uint64_t *keys, *vals; /* vals 0: empty */
	size_t cap, n;
};

/* The id of key, or 0 with *slot where a new one goes. */
static uint64_t id_find(struct idtab *t, uint64_t key, size_t *slot)
{
	size_t i;

	if ((t->n + 1) * 2 > t->cap) {
		uint64_t *ok = t->keys, *ov = t->vals;
		size_t ocap = t->cap;

		if (grow((void **)&t->keys, &t->vals, &t->cap, sizeof(*t->keys))) {
			t->keys = ok;
			t->vals = ov;
			*slot = SIZE_MAX;
			return 0;
		}
		for (size_t k = 0; k < ocap; k++) {
			if (!ov[k])
				continue;
			for (i = report_mix64(ok[k]) & (t->cap - 1); t->vals[i]; i = (i + 1) & (t->cap - 1))
				;
			t->keys[i] = ok[k];
			t->vals[i] = ov[k];
		}
		free(ok);
		free(ov);
	}
	for (i = report_mix64(key) & (t->cap - 1); t->vals[i]; i = (i + 1) & (t->cap - 1))
		if (t->keys[i] == key)
			return t->vals[i];
	*slot = i;
	return 0;
}

static uint64_t id_add(struct idtab *t, uint64_t key, size_t slot)
{
	if (slot == SIZE_MAX)
		return 0;
	t->keys[slot] = key;
	t->vals[slot] = ++t->n;
	return t->n;
}

struct mapping {
	int pid;
	const char *module;
	uint64_t lo, hi;
};

struct pp {
	struct wbuf prof, msg, sub;
	struct strtab strs;
	struct idtab locs, funcs, maps;
	struct mapping *mapv;
	size_t nmap, mapcap;
	int err;
};

static uint64_t key_str2(const char *a, const char *b, uint64_t salt)
{
	return report_mix64(bytes_hash_str(a ? a : "") ^ report_mix64(bytes_hash_str(b ? b : "") + salt));
}

static uint64_t mapping_id(struct pp *pp, int pid, const char *module, uint64_t addr)
{
	uint64_t key = key_str2(module, "", (uint64_t)pid), id;
	size_t slot;

	if (!module)
		return 0;
	id = id_find(&pp->maps, key, &slot);
	if (!id) {
		if (pp->nmap == pp->mapcap) {
			size_t cap = pp->mapcap ? pp->mapcap * 2 : 16;
			struct mapping *nm = realloc(pp->mapv, cap * sizeof(*nm));

			if (!nm) {
				pp->err = -1;
				return 0;
			}
			pp->mapv = nm;
			pp->mapcap = cap;
		}
		id = id_add(&pp->maps, key, slot);
		if (!id) {
			pp->err = -1;
			return 0;
		}
		pp->mapv[pp->nmap++] = (struct mapping){pid, module, UINT64_MAX, 0};
	}
	if (!addr)
		return id; /* registered ahead: the program's own, mapping 1 */
	if (addr < pp->mapv[id - 1].lo)
		pp->mapv[id - 1].lo = addr;
	if (addr >= pp->mapv[id - 1].hi)
		pp->mapv[id - 1].hi = addr + 1;
	return id;
}

static uint64_t function_id(struct pp *pp, const char *name, const char *file, int line)
{
	uint64_t key = key_str2(name, file, 0x5eed), id;
	size_t slot;

	id = id_find(&pp->funcs, key, &slot);
	if (id)
		return id;
	id = id_add(&pp->funcs, key, slot);
	if (!id) {
		pp->err = -1;
		return 0;
	}
	pb_uint(&pp->msg, 1, id);
	pb_uint(&pp->msg, 2, str_id(&pp->strs, name));
	pb_uint(&pp->msg, 3, str_id(&pp->strs, name));
	pb_uint(&pp->msg, 4, str_id(&pp->strs, file));
	pb_uint(&pp->msg, 5, line > 0 ? (uint64_t)line : 0);
	pb_msg(&pp->prof, 5, &pp->msg);
	return id;
}

/* The location of frames i..i+n of st (one address: its inlined frames,
 * then the function holding them) in process pid. */
static uint64_t location_id(struct pp *pp, int pid, const struct rstack *st, unsigned i, unsigned n, int leaf)
{
	const struct rframe *f0 = rstack_frame(st, i);
	uint64_t key = report_mix64(f0->address ^ report_mix64((uint64_t)pid << 1 | (uint64_t)leaf)), id, map;
	struct wbuf line = {0};
	char buf[256];
	size_t slot;

	id = id_find(&pp->locs, key, &slot);
	if (id)
		return id;
	id = id_add(&pp->locs, key, slot);
	if (!id) {
		pp->err = -1;
		return 0;
	}
	map = mapping_id(pp, pid, f0->module, f0->address);
	pb_uint(&pp->sub, 1, id);
	pb_uint(&pp->sub, 2, map);
	pb_uint(&pp->sub, 3, f0->address);
	for (unsigned k = 0; k < n; k++) {
		const struct rframe *f = rstack_frame(st, i + k);
		uint64_t fid = function_id(pp, view_frame_name(f, buf, sizeof(buf)), f->file, 0);

		pb_uint(&line, 1, fid);
		pb_uint(&line, 2, f->line > 0 ? (uint64_t)f->line : 0);
		pb_msg(&pp->sub, 4, &line);
	}
	wbuf_free(&line);
	pb_msg(&pp->prof, 4, &pp->sub);
	return id;
}

/* One sample: the stack's locations, leaf first; values; labels. */
static void sample(struct pp *pp, const struct rprocess *p, int labels, const struct rstack *st,
		   const int64_t *values, unsigned nvalues)
{
	struct wbuf ids = {0}, vals = {0}, label = {0};

	for (unsigned i = 0; i < st->n;) {
		unsigned j = i;

		/* One address: its inlined frames and the function after them. */
		while (j + 1 < st->n && rstack_frame(st, j)->inlined &&
		       rstack_frame(st, j + 1)->address == rstack_frame(st, i)->address)
			j++;
		pb_varint(&ids, location_id(pp, p->pid, st, i, j - i + 1, i == 0));
		i = j + 1;
	}
	for (unsigned k = 0; k < nvalues; k++)
		pb_varint(&vals, (uint64_t)values[k]);
	if (ids.n)
		pb_bytes(&pp->msg, 1, ids.p, ids.n);
	pb_bytes(&pp->msg, 2, vals.p, vals.n);
	if (labels) {
		pb_uint(&label, 1, str_id(&pp->strs, "pid"));
		pb_uint(&label, 3, (uint64_t)p->pid);
		pb_msg(&pp->msg, 3, &label);
		pb_uint(&label, 1, str_id(&pp->strs, "process"));
		pb_uint(&label, 2, str_id(&pp->strs, p->exe ? p->exe : p->argv && p->argv[0] ? p->argv[0] : "?"));
		pb_msg(&pp->msg, 3, &label);
	}
	pb_msg(&pp->prof, 2, &pp->msg);
	if (ids.err || vals.err || label.err)
		pp->err = -1;
	wbuf_free(&ids);
	wbuf_free(&vals);
	wbuf_free(&label);
}

/* The frames of F's functions: frame i is function i, at its own
 * address; frame F->nfuncs stands for the hidden ones. NULL: no memory. */
static struct rframes *func_frames(const struct rfuncs *F)
{
	struct rframes *fs = rframes_new();

	for (size_t i = 0; fs && i <= F->nfuncs; i++) {
		const struct rfunc *fn = i < F->nfuncs ? &F->funcs[i] : NULL;
		struct rframe x = fn ? (struct rframe){.function = fn->name ? fn->name : "[unknown]",
						       .file = fn->file,
						       .line = fn->line,
						       .module = fn->module,
						       .address = fn->address,
						       .offset = fn->offset}
				     : (struct rframe){.function = "[hidden]"};
		uint32_t id;

		if (rframes_add(fs, &x, &id)) {
			rframes_free(fs);
			return NULL;
		}
	}
	return fs;
}

/* A call path of instrumented functions as a stack (leaf first) of
 * func_frames' frames fs. */
static int func_stack(const struct rfuncs *F, const struct rframes *fs, size_t v, struct rstack *st, size_t *cap)
{
	st->n = 0;
	st->store = fs;
	for (; v && v < F->nnodes; v = F->nodes[v].parent) {
		size_t fi = F->nodes[v].func < F->nfuncs ? F->nodes[v].func : F->nfuncs;

		if (st->n == *cap) {
			size_t ncap = *cap ? *cap * 2 : 64;
			uint32_t *ni = realloc(st->ids, ncap * sizeof(*ni));

			if (!ni)
				return -1;
			st->ids = ni;
			*cap = ncap;
		}
		st->ids[st->n++] = (uint32_t)fi;
	}
	return 0;
}

static void value_type(struct pp *pp, unsigned field, const char *type, const char *unit)
{
	pb_uint(&pp->msg, 1, str_id(&pp->strs, type));
	pb_uint(&pp->msg, 2, str_id(&pp->strs, unit));
	pb_msg(&pp->prof, field, &pp->msg);
}

static int gzip_out(FILE *f, const unsigned char *p, size_t n)
{
	unsigned char out[1 << 16];
	z_stream z;
	int rc;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	z.next_in = (unsigned char *)p;
	z.avail_in = (uInt)n; /* a profile under 4 GiB: checked by the caller */
	do {
		z.next_out = out;
		z.avail_out = sizeof(out);
		rc = deflate(&z, Z_FINISH);
		if (rc == Z_STREAM_ERROR || fwrite(out, 1, sizeof(out) - z.avail_out, f) != sizeof(out) - z.avail_out) {
			deflateEnd(&z);
			return -1;
		}
	} while (rc != Z_STREAM_END);
	deflateEnd(&z);
	return 0;
}

int render_pprof(const struct report *r, FILE *f, const struct view_opts *o)
{
	enum view_metric m = view_metric_resolve(r, o->metric);
	struct pp pp = {0};
	struct rstack st = {0};
	size_t cap = 0;
	unsigned hz = 0;
	int labels = r->nprocs > 1, rc = 0;

	pp.strs.out = &pp.prof;
	pb_bytes(&pp.prof, 6, "", 0); /* string_table[0] is "" */
	if (m == VM_CPU) {
		value_type(&pp, 1, "samples", "count");
		value_type(&pp, 1, "cpu", "nanoseconds");
	} else if (m == VM_FUNC_NS || m == VM_FUNC_CALLS) {
		value_type(&pp, 1, "calls", "count");
		value_type(&pp, 1, "wall", "nanoseconds");
	} else {
		value_type(&pp, 1, "alloc_objects", "count");
		value_type(&pp, 1, "alloc_space", "bytes");
		value_type(&pp, 1, "inuse_objects", "count");
		value_type(&pp, 1, "inuse_space", "bytes");
	}
	/* pprof takes the first mapping for the program: the executables
	 * first, then libraries as their addresses come. */
	for (size_t i = 0; i < r->nprocs; i++)
		if (r->procs[i].exe && *r->procs[i].exe)
			mapping_id(&pp, r->procs[i].pid, r->procs[i].exe, 0);
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct rprocess *p = &r->procs[i];

		if (m == VM_CPU) {
			uint64_t period;

			if (!p->cpu.hz)
				continue;
			hz = hz ? hz : p->cpu.hz;
			period = 1000000000ull / p->cpu.hz;
			for (size_t k = 0; k < p->cpu.nstacks; k++) {
				int64_t v[2] = {(int64_t)p->cpu.stacks[k].samples,
						(int64_t)(p->cpu.stacks[k].samples * period)};

				sample(&pp, p, labels, &p->cpu.stacks[k].stack, v, 2);
			}
		} else if (m == VM_FUNC_NS || m == VM_FUNC_CALLS) {
			const struct rfuncs *F = p->func;
			struct rframes *fs = F ? func_frames(F) : NULL;

			if (F && !fs)
				pp.err = -1;
			for (size_t v = 1; fs && v < F->nnodes; v++) {
				int64_t val[2] = {(int64_t)F->nodes[v].calls, (int64_t)F->nodes[v].self_ns};

				if (func_stack(F, fs, v, &st, &cap)) {
					pp.err = -1;
					break;
				}
				sample(&pp, p, labels, &st, val, 2);
			}
			rframes_free(fs);
		} else {
			for (size_t k = 0; k < p->mem.nsites; k++) {
				const struct rsite *s = &p->mem.sites[k];
				int64_t v[4] = {(int64_t)s->allocs, (int64_t)s->bytes, (int64_t)s->live_blocks,
						(int64_t)s->live_bytes};

				sample(&pp, p, labels, &s->stack, v, 4);
			}
		}
	}
	/* Mappings, now that their address ranges are known. */
	for (size_t i = 0; i < pp.nmap; i++) {
		const struct mapping *mp = &pp.mapv[i];

		pb_uint(&pp.msg, 1, i + 1);
		pb_uint(&pp.msg, 2, mp->lo <= mp->hi ? mp->lo : 0);
		pb_uint(&pp.msg, 3, mp->lo <= mp->hi ? mp->hi : 0);
		pb_uint(&pp.msg, 5, str_id(&pp.strs, mp->module));
		pb_uint(&pp.msg, 6, str_id(&pp.strs, report_build_id(r, mp->module)));
		pb_uint(&pp.msg, 7, 1);
		pb_uint(&pp.msg, 8, 1);
		pb_uint(&pp.msg, 9, 1);
		pb_uint(&pp.msg, 10, 1);
		pb_msg(&pp.prof, 3, &pp.msg);
	}
	pb_uint(&pp.prof, 9, r->start_time_ns);
	pb_uint(&pp.prof, 10, r->duration_ns);
	if (m == VM_CPU) {
		value_type(&pp, 11, "cpu", "nanoseconds");
		pb_uint(&pp.prof, 12, hz ? 1000000000ull / hz : 0);
	} else if (m == VM_FUNC_NS || m == VM_FUNC_CALLS) {
		value_type(&pp, 11, "wall", "nanoseconds");
		pb_uint(&pp.prof, 12, 1);
		pb_uint(&pp.prof, 14, str_id(&pp.strs, m == VM_FUNC_NS ? "wall" : "calls"));
	} else {
		value_type(&pp, 11, "space", "bytes");
		pb_uint(&pp.prof, 12, 1);
		pb_uint(&pp.prof, 14, str_id(&pp.strs, view_metric_name(m)));
	}
	if (pp.err || pp.strs.err || pp.prof.err || pp.msg.err || pp.sub.err || pp.prof.n > UINT32_MAX)
		rc = -12; /* ENOMEM */
	else if (gzip_out(f, pp.prof.p, pp.prof.n) || fflush(f) || ferror(f))
		rc = -5; /* EIO */
	free(st.ids);
	for (size_t i = 0; i < pp.strs.cap; i++)
		free((char *)pp.strs.keys[i]);
	free(pp.strs.keys);
	free(pp.strs.vals);
	free(pp.locs.keys);
	free(pp.locs.vals);
	free(pp.funcs.keys);
	free(pp.funcs.vals);
	free(pp.maps.keys);
	free(pp.maps.vals);
	free(pp.mapv);
	wbuf_free(&pp.prof);
	wbuf_free(&pp.msg);
	wbuf_free(&pp.sub);
	return rc;
}
