/*
 * The profile file (profile.h, docs/profile-format.md):
 *
 *   magic "\x89PTRPRF\n", u32 version (3), u32 flags (0), u64 0, then
 *   records, each a 32-byte header (u32 "PRRC", u32 kind: snapshot or
 *   end, u64 payload length, u64 frame length, u64 0) and one zstd frame
 *   holding its payload: sections, each a 64-byte header (u32 tag, u32 0,
 *   u64 length, zeros) and its bytes, padded to 64 so every section's
 *   data is 64-byte aligned (the image is read in place): META (JSON: the
 *   command, status, resource usage, settings, the snapshot), SYMS
 *   (symbolizer_save's bytes), IMGR (the session image as runs of the
 *   pages holding data), TIME (the series, when read). Records are
 *   appended and each is written whole with one write, so the file is
 *   valid after each. Version 2 wrote the image whole (IMAGE); version 1
 *   was the file header with a payload length and one frame, no records.
 */
#include "profile.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "baseline.h"
#include "bytes.h"
#include "render.h"
#include "series.h"
#include "timeline.h"

static const unsigned char profile_magic[8] = {0x89, 'P', 'T', 'R', 'P', 'R', 'F', '\n'};

#define PROFILE_HEADER 24
#define RECORD_HEADER 32
#define RECORD_MAGIC 0x43525250u /* "PRRC" */
#define SECTION_HEADER 64
#define TAG_META 0x4154454du  /* "META" */
#define TAG_SYMS 0x534d5953u  /* "SYMS" */
#define TAG_IMAGE 0x47414d49u /* "IMAG" */
#define TAG_IMGR 0x52474d49u  /* "IMGR" */
#define TAG_TIME 0x454d4954u  /* "TIME" */
#define TAG_TIML 0x4c4d4954u  /* "TIML" */

/* A payload no real run makes: 64 GiB (the image is at most 32 GiB). */
#define PROFILE_MAX_PAYLOAD (64ull << 30)
#define RUSAGE_FIELDS 18

static size_t pad64(size_t n)
{
	return (n + 63) & ~(size_t)63;
}

/* --- writing -------------------------------------------------------------- */

struct zout {
	ZSTD_CCtx *cc;
	FILE *f;
	unsigned char buf[1 << 16];
	int err;
};

static void zout_feed(struct zout *z, const void *data, size_t len, ZSTD_EndDirective end)
{
	ZSTD_inBuffer in = {data, len, 0};

	while (!z->err) {
		ZSTD_outBuffer out = {z->buf, sizeof(z->buf), 0};
		size_t left = ZSTD_compressStream2(z->cc, &out, &in, end);

		if (ZSTD_isError(left)) {
			z->err = -ENOMEM;
			return;
		}
		if (out.pos && fwrite(z->buf, 1, out.pos, z->f) != out.pos) {
			z->err = -EIO;
			return;
		}
		if (end == ZSTD_e_end ? left == 0 : in.pos == in.size)
			return;
	}
}

static void zout_section(struct zout *z, uint32_t tag, const void *data, size_t len, const void *head,
			 size_t head_len)
{
	unsigned char h[SECTION_HEADER] = {0}, zeros[64] = {0};
	struct wbuf w = {.p = h, .cap = sizeof(h)};

	wbuf_u32(&w, tag);
	wbuf_u32(&w, 0);
	wbuf_u64(&w, len);
	zout_feed(z, h, sizeof(h), ZSTD_e_continue);
	/* head replaces the first head_len bytes of data (the image header
	 * as the launcher made it). */
	if (head_len)
		zout_feed(z, head, head_len, ZSTD_e_continue);
	zout_feed(z, (const char *)data + head_len, len - head_len, ZSTD_e_continue);
	zout_feed(z, zeros, pad64(len) - len, ZSTD_e_continue);
}

/*
 * The image as runs of the pages that hold data (IMGR): most of a short
 * run's image is tables never touched (the stack hash, process slots),
 * and reading those pages of the memfd would make them (a page each, as
 * the compressor's copies go) only to write zeros. The memfd's holes are
 * found with SEEK_DATA/SEEK_HOLE without touching them; pages made but
 * all zero are left out too. Page 0 (the header) is always in.
 */
#define IMG_PAGE 4096u

struct irun {
	uint64_t off, len;
};

static int page_zero(const unsigned char *p, size_t n)
{
	const uint64_t *w = (const uint64_t *)(const void *)p;
	uint64_t any = 0;

	for (size_t i = 0; i < n / 8; i++)
		any |= w[i];
	for (size_t i = n / 8 * 8; i < n; i++)
		any |= p[i];
	return !any;
}

static int runs_add(struct irun **r, size_t *n, size_t *cap, uint64_t off, uint64_t len)
{
	if (*n && (*r)[*n - 1].off + (*r)[*n - 1].len == off) {
		(*r)[*n - 1].len += len;
		return 0;
	}
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		struct irun *g = realloc(*r, c * sizeof(*g));

		if (!g)
			return -ENOMEM;
		*r = g;
		*cap = c;
	}
	(*r)[(*n)++] = (struct irun){off, len};
	return 0;
}

/* The runs of [0, used) holding data into *out (*n of them); 0 or -ENOMEM. */
static int image_runs(const struct session *s, size_t used, struct irun **out, size_t *n)
{
	const unsigned char *base = s->base;
	size_t cap = 0;
	uint64_t at = 0;

	*out = NULL;
	*n = 0;
	while (at < used) {
		uint64_t lo = at, hi = used;

		if (s->fd >= 0) {
			off_t d = lseek(s->fd, (off_t)at, SEEK_DATA), h;

			if (d < 0 && errno == ENXIO)
				break;
			if (d >= 0 && (h = lseek(s->fd, d, SEEK_HOLE)) >= 0) {
				lo = (uint64_t)d & ~(uint64_t)(IMG_PAGE - 1);
				hi = (uint64_t)h < used ? (uint64_t)h : used;
			}
		}
		if (lo >= used)
			break;
		for (uint64_t pg = lo; pg < hi; pg += IMG_PAGE) {
			uint64_t len = hi - pg < IMG_PAGE ? hi - pg : IMG_PAGE;

			if ((pg == 0 || !page_zero(base + pg, len)) && runs_add(out, n, &cap, pg, len)) {
				free(*out);
				*out = NULL;
				return -ENOMEM;
			}
		}
		at = hi > at ? hi : at + IMG_PAGE;
	}
	if (!*n || (*out)[0].off != 0) {
		/* The header's page: always there (a memfd the kernel could not
		 * seek in is read whole). */
		struct irun *r = realloc(*out, (*n + 1) * sizeof(*r));

		if (!r) {
			free(*out);
			*out = NULL;
			return -ENOMEM;
		}
		memmove(r + 1, r, *n * sizeof(*r));
		r[0] = (struct irun){0, used < IMG_PAGE ? used : IMG_PAGE};
		*out = r;
		(*n)++;
	}
	return 0;
}

static uint64_t runs_bytes(const struct irun *r, size_t n)
{
	uint64_t sum = 16 + 16 * (uint64_t)n;

	for (size_t i = 0; i < n; i++)
		sum += r[i].len;
	return sum;
}

/* IMGR: u64 image length, u64 runs, runs x (u64 offset, u64 length), then
 * each run's bytes; head replaces the image's first head_len bytes. */
static void zout_image_runs(struct zout *z, const void *image, size_t used, const struct irun *r, size_t n,
			    const void *head, size_t head_len)
{
	unsigned char h[SECTION_HEADER] = {0}, zeros[64] = {0}, t[16];
	struct wbuf w = {.p = h, .cap = sizeof(h)};
	uint64_t len = runs_bytes(r, n);

	wbuf_u32(&w, TAG_IMGR);
	wbuf_u32(&w, 0);
	wbuf_u64(&w, len);
	zout_feed(z, h, sizeof(h), ZSTD_e_continue);
	w = (struct wbuf){.p = t, .cap = sizeof(t)};
	wbuf_u64(&w, used);
	wbuf_u64(&w, n);
	zout_feed(z, t, sizeof(t), ZSTD_e_continue);
	for (size_t i = 0; i < n; i++) {
		w = (struct wbuf){.p = t, .cap = sizeof(t)};
		wbuf_u64(&w, r[i].off);
		wbuf_u64(&w, r[i].len);
		zout_feed(z, t, sizeof(t), ZSTD_e_continue);
	}
	for (size_t i = 0; i < n; i++) {
		size_t skip = 0;

		if (r[i].off == 0 && head_len <= r[i].len) {
			zout_feed(z, head, head_len, ZSTD_e_continue);
			skip = head_len;
		}
		zout_feed(z, (const char *)image + r[i].off + skip, r[i].len - skip, ZSTD_e_continue);
	}
	zout_feed(z, zeros, pad64(len) - len, ZSTD_e_continue);
}

static json_t *meta_json(const struct report_input *in)
{
	json_t *m = json_object(), *argv = json_array(), *ru = json_array(), *reaped = json_array();
	const struct rusage *r = &in->ru;
	long long f[RUSAGE_FIELDS] = {
		r->ru_utime.tv_sec, r->ru_utime.tv_usec, r->ru_stime.tv_sec, r->ru_stime.tv_usec,
		r->ru_maxrss,       r->ru_ixrss,         r->ru_idrss,        r->ru_isrss,
		r->ru_minflt,       r->ru_majflt,        r->ru_nswap,        r->ru_inblock,
		r->ru_oublock,      r->ru_msgsnd,        r->ru_msgrcv,       r->ru_nsignals,
		r->ru_nvcsw,        r->ru_nivcsw,
	};

	for (char **a = in->argv; a && *a; a++)
		json_array_append_new(argv, json_string(*a));
	for (int i = 0; i < RUSAGE_FIELDS; i++)
		json_array_append_new(ru, json_integer(f[i]));
	for (size_t i = 0; i < in->nreaped; i++)
		json_array_append_new(reaped, json_pack("[ii]", in->reaped_pid[i], in->reaped_status[i]));
	json_object_set_new(m, "ptrace_run", json_string(PTRACE_VERSION));
	json_object_set_new(m, "argv", argv);
	json_object_set_new(m, "status", json_integer(in->status));
	json_object_set_new(m, "spawned", json_integer(in->spawned));
	json_object_set_new(m, "rusage", ru);
	json_object_set_new(m, "duration_ns", json_integer((json_int_t)in->duration_ns));
	json_object_set_new(m, "start_time_ns", json_integer((json_int_t)in->start_time_ns));
	json_object_set_new(m, "not_loaded_reason",
			    in->not_loaded_reason ? json_string(in->not_loaded_reason) : json_null());
	json_object_set_new(m, "sample_rate", json_real(in->sample_rate));
	json_object_set_new(m, "sample_bytes", json_integer((json_int_t)in->sample_bytes));
	json_object_set_new(m, "max_depth", json_integer(in->max_depth));
	json_object_set_new(m, "track_memory", json_integer(in->track_memory));
	json_object_set_new(m, "main_pid", json_integer(in->main_pid));
	json_object_set_new(m, "reaped", reaped);
	json_object_set_new(m, "cpu_hz", json_integer(in->cpu_hz));
	json_object_set_new(m, "dump_signal", json_integer(in->dump_signal));
	json_object_set_new(m, "filter", in->func_filter ? json_string(in->func_filter) : json_null());
	json_object_set_new(m, "exclude", in->func_exclude ? json_string(in->func_exclude) : json_null());
	if (in->snapshot)
		json_object_set_new(m, "snapshot",
				    json_pack("{s:i,s:s,s:I}", "seq", (int)in->snapshot, "label",
					      in->snapshot_label ? in->snapshot_label : "", "t_ns",
					      (json_int_t)in->snapshot_ns));
	return m;
}

int profile_begin(FILE *f)
{
	unsigned char hdr[PROFILE_HEADER];
	struct wbuf w = {.p = hdr, .cap = sizeof(hdr)};

	memcpy(hdr, profile_magic, sizeof(profile_magic));
	w.n = sizeof(profile_magic);
	wbuf_u32(&w, PROFILE_VERSION);
	wbuf_u32(&w, 0);
	wbuf_u64(&w, 0);
	if (fwrite(hdr, 1, sizeof(hdr), f) != sizeof(hdr) || fflush(f))
		return -EIO;
	return 0;
}

/* The image in use: the bump pointer, which the program can write,
 * clamped to the mapping; the header's layout fields the launcher's. */
static size_t image_head(const struct session *s, struct sf_header *head)
{
	const struct sf_header *live = s->base;
	size_t used = __atomic_load_n(&live->bump, __ATOMIC_ACQUIRE);

	if (used > s->size || used < s->procs + (size_t)s->nslots * sizeof(struct sf_process))
		used = s->size;
	used = pad64(used) <= s->size ? pad64(used) : s->size;
	memcpy(head, live, sizeof(*head));
	head->magic = SF_MAGIC;
	head->version = SF_VERSION;
	head->header_size = sizeof(*head);
	head->size = used;
	head->bump = used;
	head->start_ns = s->start_ns;
	head->procs = s->procs;
	return used;
}

int profile_image_copy(const struct session *s, void **out, size_t *len)
{
	struct sf_header head;
	struct irun *runs;
	size_t used, nruns;
	void *buf;

	if (!s->base || s->size < sizeof(head))
		return -EINVAL;
	used = image_head(s, &head);
	/* Only the pages that hold data are copied: the rest of a fresh
	 * mapping reads as zero, and reading the memfd's holes would make
	 * them (see image_runs). */
	if (image_runs(s, used, &runs, &nruns))
		return -ENOMEM;
	buf = mmap(NULL, used, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (buf == MAP_FAILED) {
		free(runs);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nruns; i++)
		memcpy((char *)buf + runs[i].off, (const char *)s->base + runs[i].off, runs[i].len);
	free(runs);
	memcpy(buf, &head, sizeof(head));
	*out = buf;
	*len = used;
	return 0;
}

void profile_image_free(void *img, size_t len)
{
	if (img)
		munmap(img, len);
}

int profile_record(FILE *f, const struct session *s, const struct report_input *in)
{
	struct sf_header head;
	unsigned char rh[RECORD_HEADER], *syms = NULL, *series = NULL;
	size_t syms_len = 0, series_len = 0, used, total, frame_len = 0;
	struct wbuf w = {.p = rh, .cap = sizeof(rh)};
	struct zout *z;
	struct irun *runs;
	size_t nruns;
	json_t *meta;
	char *meta_txt, *frame = NULL;
	int err;

	if (!s->base || s->size < sizeof(head))
		return -EINVAL;
	err = symctx_save(in->symctx, &syms, &syms_len);
	if (err)
		return err;
	if (in->series && (err = series_save(in->series, &series, &series_len))) {
		free(syms);
		return err;
	}
	meta = meta_json(in);
	meta_txt = meta ? json_dumps(meta, JSON_COMPACT) : NULL;
	json_decref(meta);
	if (!meta_txt) {
		free(syms);
		free(series);
		return -ENOMEM;
	}
	used = image_head(s, &head);
	if (image_runs(s, used, &runs, &nruns)) {
		free(syms);
		free(series);
		free(meta_txt);
		return -ENOMEM;
	}
	total = SECTION_HEADER + pad64(strlen(meta_txt)) + SECTION_HEADER + pad64(syms_len) + SECTION_HEADER +
		pad64(runs_bytes(runs, nruns)) + (series ? SECTION_HEADER + pad64(series_len) : 0);
	z = calloc(1, sizeof(*z));
	if (!z || !(z->cc = ZSTD_createCCtx()) || !(z->f = open_memstream(&frame, &frame_len))) {
		if (z)
			ZSTD_freeCCtx(z->cc);
		free(z);
		free(syms);
		free(series);
		free(meta_txt);
		free(runs);
		return -ENOMEM;
	}
	ZSTD_CCtx_setParameter(z->cc, ZSTD_c_compressionLevel, 3);
	ZSTD_CCtx_setParameter(z->cc, ZSTD_c_checksumFlag, 1);
	/* Two threads where the library has them; none is fine too. */
	ZSTD_CCtx_setParameter(z->cc, ZSTD_c_nbWorkers, 2);
	ZSTD_CCtx_setPledgedSrcSize(z->cc, total);
	zout_section(z, TAG_META, meta_txt, strlen(meta_txt), NULL, 0);
	zout_section(z, TAG_SYMS, syms, syms_len, NULL, 0);
	zout_image_runs(z, s->base, used, runs, nruns, &head, sizeof(head));
	free(runs);
	if (series)
		zout_section(z, TAG_TIME, series, series_len, NULL, 0);
	zout_feed(z, NULL, 0, ZSTD_e_end);
	err = z->err;
	if (fclose(z->f) && !err)
		err = -ENOMEM;
	ZSTD_freeCCtx(z->cc);
	free(z);
	free(syms);
	free(series);
	free(meta_txt);
	/* The record whole, in one write: a reader (or a SIGKILL) sees it
	 * all or not at all but for its last bytes. */
	if (!err) {
		wbuf_u32(&w, RECORD_MAGIC);
		wbuf_u32(&w, in->snapshot ? PROFILE_SNAPSHOT : PROFILE_END);
		wbuf_u64(&w, total);
		wbuf_u64(&w, frame_len);
		wbuf_u64(&w, 0);
		if (fwrite(rh, 1, sizeof(rh), f) != sizeof(rh) || fwrite(frame, 1, frame_len, f) != frame_len ||
		    fflush(f))
			err = -EIO;
	}
	free(frame);
	return err;
}

int profile_timeline(FILE *f, const struct timeline *tl, size_t from)
{
	unsigned char rh[RECORD_HEADER], sh[SECTION_HEADER] = {0}, *body = NULL, *payload, *frame;
	struct wbuf w = {.p = rh, .cap = sizeof(rh)}, h = {.p = sh, .cap = sizeof(sh)};
	size_t len, total, bound, flen;
	int err;

	if (from >= tl->n && !tl->left_out && !tl->bad_rings)
		return 0;
	if ((err = timeline_save(tl, from, &body, &len)))
		return err;
	total = SECTION_HEADER + pad64(len);
	payload = calloc(1, total);
	bound = ZSTD_compressBound(total);
	frame = malloc(bound);
	if (!payload || !frame) {
		free(body);
		free(payload);
		free(frame);
		return -ENOMEM;
	}
	wbuf_u32(&h, TAG_TIML);
	wbuf_u32(&h, 0);
	wbuf_u64(&h, len);
	memcpy(payload, sh, sizeof(sh));
	memcpy(payload + SECTION_HEADER, body, len);
	free(body);
	{
		ZSTD_CCtx *cc = ZSTD_createCCtx();

		flen = cc ? ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1), ZSTD_compress2(cc, frame, bound, payload, total)
			  : (size_t)-1;
		ZSTD_freeCCtx(cc);
	}
	free(payload);
	if (ZSTD_isError(flen)) {
		free(frame);
		return -ENOMEM;
	}
	wbuf_u32(&w, RECORD_MAGIC);
	wbuf_u32(&w, PROFILE_TIMELINE);
	wbuf_u64(&w, total);
	wbuf_u64(&w, flen);
	wbuf_u64(&w, 0);
	err = fwrite(rh, 1, sizeof(rh), f) != sizeof(rh) || fwrite(frame, 1, flen, f) != flen || fflush(f) ? -EIO : 0;
	free(frame);
	return err;
}

int profile_write(FILE *f, const struct session *s, const struct report_input *in)
{
	int err = profile_begin(f);

	return err ? err : profile_record(f, s, in);
}

void profile_default_name(char *buf, size_t len, const char *argv0, int pid)
{
	const char *base = argv0 ? strrchr(argv0, '/') : NULL;
	char prog[65];
	size_t n = 0;

	base = base ? base + 1 : argv0 ? argv0 : "";
	for (; *base && n < sizeof(prog) - 1; base++) {
		char c = *base;

		prog[n++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
					    c == '_' || c == '.'
				    ? c
				    : '_';
	}
	prog[n] = 0;
	snprintf(buf, len, "ptrace-run.%s.%d.ptrace", n ? prog : "program", pid);
}

/* --- reading -------------------------------------------------------------- */

static void say(char *err, size_t errlen, const char *what)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", what);
}

static int meta_int(json_t *m, const char *key, long long lo, long long hi, long long *out)
{
	json_t *v = json_object_get(m, key);

	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return -1;
	*out = json_integer_value(v);
	return 0;
}

static int meta_str(json_t *m, const char *key, char **out)
{
	json_t *v = json_object_get(m, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || !(*out = strdup(json_string_value(v))))
		return -1;
	return 0;
}

static int meta_read(struct profile *p, const char *txt, size_t len)
{
	json_error_t jerr;
	json_t *m = json_loadb(txt, len, JSON_REJECT_DUPLICATES, &jerr), *a, *ru, *reaped;
	struct report_input *in = &p->in;
	long long v, f[RUSAGE_FIELDS];
	int rc = -1;

	if (!json_is_object(m))
		goto out;
	a = json_object_get(m, "argv");
	ru = json_object_get(m, "rusage");
	reaped = json_object_get(m, "reaped");
	if (!json_is_array(a) || !json_array_size(a) || json_array_size(a) > (1u << 20) || !json_is_array(ru) ||
	    json_array_size(ru) != RUSAGE_FIELDS || !json_is_array(reaped) || json_array_size(reaped) > (1u << 24))
		goto out;
	if (!(p->argv = calloc(json_array_size(a) + 1, sizeof(char *))))
		goto out;
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *s = json_array_get(a, i);

		if (!json_is_string(s) || !(p->argv[i] = strdup(json_string_value(s))))
			goto out;
	}
	for (int i = 0; i < RUSAGE_FIELDS; i++) {
		json_t *x = json_array_get(ru, (size_t)i);

		if (!json_is_integer(x))
			goto out;
		f[i] = json_integer_value(x);
	}
	in->ru.ru_utime.tv_sec = f[0];
	in->ru.ru_utime.tv_usec = f[1];
	in->ru.ru_stime.tv_sec = f[2];
	in->ru.ru_stime.tv_usec = f[3];
	in->ru.ru_maxrss = f[4];
	in->ru.ru_ixrss = f[5];
	in->ru.ru_idrss = f[6];
	in->ru.ru_isrss = f[7];
	in->ru.ru_minflt = f[8];
	in->ru.ru_majflt = f[9];
	in->ru.ru_nswap = f[10];
	in->ru.ru_inblock = f[11];
	in->ru.ru_oublock = f[12];
	in->ru.ru_msgsnd = f[13];
	in->ru.ru_msgrcv = f[14];
	in->ru.ru_nsignals = f[15];
	in->ru.ru_nvcsw = f[16];
	in->ru.ru_nivcsw = f[17];
	p->reaped_pid = calloc(json_array_size(reaped) + 1, sizeof(int));
	p->reaped_status = calloc(json_array_size(reaped) + 1, sizeof(int));
	if (!p->reaped_pid || !p->reaped_status)
		goto out;
	for (size_t i = 0; i < json_array_size(reaped); i++) {
		json_t *e = json_array_get(reaped, i), *x = json_array_get(e, 0), *y = json_array_get(e, 1);

		if (json_array_size(e) != 2 || !json_is_integer(x) || !json_is_integer(y) ||
		    json_integer_value(x) < 0 || json_integer_value(x) > INT32_MAX ||
		    json_integer_value(y) < INT32_MIN || json_integer_value(y) > INT32_MAX)
			goto out;
		p->reaped_pid[i] = (int)json_integer_value(x);
		p->reaped_status[i] = (int)json_integer_value(y);
	}
	in->nreaped = json_array_size(reaped);
	if (meta_int(m, "status", INT32_MIN, INT32_MAX, &v))
		goto out;
	in->status = (int)v;
	if (meta_int(m, "spawned", 0, 1, &v))
		goto out;
	in->spawned = (int)v;
	if (meta_int(m, "duration_ns", 0, INT64_MAX, &v))
		goto out;
	in->duration_ns = (uint64_t)v;
	/* Optional: 0 when unknown. */
	if (json_object_get(m, "start_time_ns") && meta_int(m, "start_time_ns", 0, INT64_MAX, &v))
		goto out;
	in->start_time_ns = json_object_get(m, "start_time_ns") ? (uint64_t)v : 0;
	if (meta_int(m, "max_depth", 1, SF_DEPTH_LIMIT, &v))
		goto out;
	in->max_depth = (unsigned)v;
	if (meta_int(m, "track_memory", 0, 1, &v))
		goto out;
	in->track_memory = (int)v;
	if (meta_int(m, "main_pid", 0, INT32_MAX, &v))
		goto out;
	in->main_pid = (int)v;
	if (meta_int(m, "cpu_hz", 0, SF_MAX_CPU_HZ, &v))
		goto out;
	in->cpu_hz = (unsigned)v;
	if (meta_int(m, "dump_signal", 0, 64, &v))
		goto out;
	in->dump_signal = (int)v;
	a = json_object_get(m, "sample_rate");
	if (!json_is_number(a) || !(json_number_value(a) > 0.0 && json_number_value(a) <= 1.0))
		goto out;
	in->sample_rate = json_number_value(a);
	if (json_object_get(m, "sample_bytes")) {
		if (meta_int(m, "sample_bytes", 0, 1ll << 40, &v))
			goto out;
		in->sample_bytes = (uint64_t)v;
	}
	a = json_object_get(m, "snapshot");
	if (a) {
		json_t *seq = json_object_get(a, "seq"), *label = json_object_get(a, "label"),
		       *t = json_object_get(a, "t_ns");

		if (!json_is_integer(seq) || json_integer_value(seq) < 1 || json_integer_value(seq) > (1 << 24) ||
		    !json_is_string(label) || !json_is_integer(t) || json_integer_value(t) < 0 ||
		    !(p->snapshot_label = strdup(json_string_value(label))))
			goto out;
		in->snapshot = (unsigned)json_integer_value(seq);
		in->snapshot_ns = (uint64_t)json_integer_value(t);
	}
	if (meta_str(m, "not_loaded_reason", &p->not_loaded_reason) || meta_str(m, "filter", &p->func_filter) ||
	    meta_str(m, "exclude", &p->func_exclude) || meta_str(m, "ptrace_run", &p->version))
		goto out;
	rc = 0;
out:
	json_decref(m);
	return rc;
}

/* An IMGR section (zout_image_runs) made whole again, in a mapping of
 * p's: the pages between runs are zero, and made only if read. */
static int image_unrun(struct profile *p, const unsigned char *body, uint64_t slen, void **image, size_t *len)
{
	struct rbuf r = {.p = body, .n = slen};
	uint64_t used = rbuf_u64(&r), n = rbuf_u64(&r), data, end = 0;
	const unsigned char *src;
	unsigned char *m;

	if (r.err || used < sizeof(struct sf_header) || used > PROFILE_MAX_PAYLOAD || n == 0 ||
	    n > (slen - 16) / 16)
		return -EPROTO;
	data = 16 + 16 * n;
	src = body + data;
	for (uint64_t i = 0; i < n; i++) {
		struct rbuf e = {.p = body + 16 + 16 * i, .n = 16};
		uint64_t off = rbuf_u64(&e), l = rbuf_u64(&e);

		if (off < end || (i == 0 && off != 0) || l == 0 || l > used - off || l > slen - data)
			return -EPROTO;
		end = off + l;
		data += l;
	}
	if (data != slen)
		return -EPROTO;
	m = mmap(NULL, used, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return -ENOMEM;
	for (uint64_t i = 0; i < n; i++) {
		struct rbuf e = {.p = body + 16 + 16 * i, .n = 16};
		uint64_t off = rbuf_u64(&e), l = rbuf_u64(&e);

		memcpy(m + off, src, l);
		src += l;
	}
	p->image_map = m;
	p->image_map_len = used;
	*image = m;
	*len = used;
	return 0;
}

/* The payload's sections into p. 0, or -errno with err said. */
static int parse_payload(struct profile *p, char *err, size_t errlen)
{
	struct rbuf r = {.p = p->payload, .n = p->payload_len};
	const void *meta = NULL, *syms = NULL, *time = NULL;
	void *image = NULL;
	size_t meta_len = 0, syms_len = 0, image_len = 0, time_len = 0;
	int rc;

	while (r.off < r.n) {
		const unsigned char *h = rbuf_take(&r, SECTION_HEADER), *body;
		struct rbuf hr = {.p = h, .n = SECTION_HEADER};
		uint32_t tag;
		uint64_t slen;

		if (!h)
			break;
		tag = rbuf_u32(&hr);
		rbuf_u32(&hr);
		slen = rbuf_u64(&hr);
		if (slen > r.n - r.off || !(body = rbuf_take(&r, pad64(slen) <= r.n - r.off ? pad64(slen) : slen))) {
			r.err = -EPROTO;
			break;
		}
		if (tag == TAG_META && !meta) {
			meta = body;
			meta_len = slen;
		} else if (tag == TAG_SYMS && !syms) {
			syms = body;
			syms_len = slen;
		} else if (tag == TAG_IMAGE && !image) {
			image = (void *)body;
			image_len = slen;
		} else if (tag == TAG_IMGR && !image) {
			rc = image_unrun(p, body, slen, &image, &image_len);
			if (rc) {
				say(err, errlen, rc == -ENOMEM ? strerror(ENOMEM) : "corrupt: the session image (IMGR) is not valid");
				return rc;
			}
		} else if (tag == TAG_TIME && !time) {
			time = body;
			time_len = slen;
		}
		/* Other tags (a later version's): skipped. The timeline is in
		 * records of its own (timeline_part). */
	}
	if (r.err || !meta || !syms || !image) {
		say(err, errlen, "corrupt: a section is missing or cut short");
		return -EPROTO;
	}
	if (meta_read(p, meta, meta_len)) {
		say(err, errlen, "corrupt: the run's description (META) is not valid");
		return -EPROTO;
	}
	rc = symctx_new_replay(&p->in.symctx, syms, syms_len);
	if (rc) {
		say(err, errlen, rc == -ENOMEM ? strerror(ENOMEM) : "corrupt: the symbol table (SYMS) is not valid");
		return rc;
	}
	if (time) {
		rc = series_parse(&p->series, time, time_len);
		if (rc) {
			say(err, errlen, rc == -ENOMEM ? strerror(ENOMEM) : "corrupt: the figures over time (TIME) are not valid");
			return rc;
		}
		p->has_series = 1;
		p->in.series = &p->series;
	}
	rc = session_use(&p->s, image, image_len);
	if (rc) {
		const struct sf_header *h = image;

		if (rc == -EPROTO && image_len >= sizeof(*h) && h->magic == SF_MAGIC && h->version != SF_VERSION) {
			if (err && errlen)
				snprintf(err, errlen, "a profile of image version %u (this ptrace-run reads %u)",
					 h->version, SF_VERSION);
		} else {
			say(err, errlen, rc == -ENOMEM ? strerror(ENOMEM) : "corrupt: the session image is not valid");
		}
		return rc;
	}
	/* A writer older than the baseline's subtraction, or a file made
	 * by hand: subtract it now (a no-op once done). */
	baseline_apply(&p->s);
	p->in.argv = p->argv;
	p->in.reaped_pid = p->reaped_pid;
	p->in.reaped_status = p->reaped_status;
	p->in.not_loaded_reason = p->not_loaded_reason;
	p->in.snapshot_label = p->snapshot_label;
	return 0;
}

/* Decompress the frame at d (len bytes available) holding total bytes
 * into p->payload. 0, or -errno with err said. */
static int unpack(struct profile *p, const unsigned char *d, size_t len, uint64_t total, char *err, size_t errlen)
{
	uint64_t content = ZSTD_getFrameContentSize(d, len);
	size_t got;

	if (content == ZSTD_CONTENTSIZE_ERROR || content == ZSTD_CONTENTSIZE_UNKNOWN) {
		say(err, errlen, len == 0 ? "truncated" : "corrupt: not a zstd frame");
		return -EPROTO;
	}
	if (content != total || total > PROFILE_MAX_PAYLOAD || total < 3 * SECTION_HEADER) {
		say(err, errlen, "corrupt: sizes disagree");
		return -EPROTO;
	}
	/* Every byte of it is written: a payload that cannot fit in memory is
	 * refused (a small file can claim gigabytes of zeros). */
	{
		long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);

		if (pages > 0 && psize > 0 && total / 2 > (uint64_t)pages / 4 * (uint64_t)psize) {
			if (err && errlen)
				snprintf(err, errlen, "the profile holds %llu MiB uncompressed, more than half this "
						      "machine's memory",
					 (unsigned long long)(total >> 20));
			return -ENOMEM;
		}
	}
	p->payload = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p->payload == MAP_FAILED) {
		p->payload = NULL;
		say(err, errlen, strerror(ENOMEM));
		return -ENOMEM;
	}
	p->payload_len = total;
	got = ZSTD_findFrameCompressedSize(d, len);
	if (ZSTD_isError(got)) {
		say(err, errlen,
		    ZSTD_getErrorCode(got) == ZSTD_error_srcSize_wrong ? "truncated" : "corrupt: not a zstd frame");
		return -EPROTO;
	}
	got = ZSTD_decompress(p->payload, total, d, len);
	if (ZSTD_isError(got) || got != total) {
		say(err, errlen,
		    ZSTD_isError(got) && ZSTD_getErrorCode(got) == ZSTD_error_srcSize_wrong ? "truncated"
		    : ZSTD_isError(got) ? "corrupt: the compressed data does not decompress"
					: "corrupt: sizes disagree");
		return -EPROTO;
	}
	return 0;
}

/* One timeline part (a record of kind PROFILE_TIMELINE): its TIML
 * section appended to p->timeline. */
static int timeline_part(struct profile *p, const unsigned char *frame, size_t flen, uint64_t total, char *err,
			 size_t errlen)
{
	unsigned char *buf;
	size_t got;
	struct rbuf r;
	const unsigned char *h;
	uint64_t slen;
	int rc;

	if (total < SECTION_HEADER || total > (256ull << 20) || ZSTD_getFrameContentSize(frame, flen) != total) {
		say(err, errlen, "corrupt: a timeline record's sizes disagree");
		return -EPROTO;
	}
	buf = malloc((size_t)total);
	if (!buf) {
		say(err, errlen, strerror(ENOMEM));
		return -ENOMEM;
	}
	got = ZSTD_decompress(buf, (size_t)total, frame, flen);
	r = (struct rbuf){.p = buf, .n = (size_t)total};
	h = rbuf_take(&r, SECTION_HEADER);
	if (ZSTD_isError(got) || got != total || !h || (uint32_t)(h[0] | h[1] << 8 | h[2] << 16 | (uint32_t)h[3] << 24) != TAG_TIML) {
		free(buf);
		say(err, errlen, "corrupt: a timeline record does not decompress");
		return -EPROTO;
	}
	{
		struct rbuf hr = {.p = h + 8, .n = 8};

		slen = rbuf_u64(&hr);
	}
	if (slen > total - SECTION_HEADER) {
		free(buf);
		say(err, errlen, "corrupt: a timeline record is cut short");
		return -EPROTO;
	}
	rc = timeline_append(&p->timeline, buf + SECTION_HEADER, (size_t)slen);
	free(buf);
	if (rc) {
		say(err, errlen, rc == -ENOMEM ? strerror(ENOMEM) : "corrupt: the timeline (TIML) is not valid");
		return rc;
	}
	p->in.timeline = &p->timeline;
	return 0;
}

int profile_parse_at(const void *data, size_t len, unsigned which, struct profile *p, char *err, size_t errlen)
{
	const unsigned char *d = data;
	struct rbuf r = {.p = data, .n = len};
	uint64_t total;
	uint32_t version;
	size_t pick = 0, pick_len = 0, off;
	uint64_t pick_total = 0;
	unsigned snaps = 0;
	int rc, found = 0;

	memset(p, 0, sizeof(*p));
	p->s.fd = -1;
	if (len < sizeof(profile_magic) || memcmp(d, profile_magic, sizeof(profile_magic))) {
		say(err, errlen, "not a ptrace-run profile");
		return -EPROTO;
	}
	if (len < PROFILE_HEADER) {
		say(err, errlen, "truncated");
		return -EPROTO;
	}
	rbuf_take(&r, sizeof(profile_magic));
	version = rbuf_u32(&r);
	rbuf_u32(&r);
	total = rbuf_u64(&r);
	if (version == 1) {
		/* One frame, no records: the run's end. */
		if (which) {
			if (err && errlen)
				snprintf(err, errlen, "no snapshot %u: the profile holds none", which);
			return -ENOENT;
		}
		p->has_end = 1;
		rc = unpack(p, d + PROFILE_HEADER, len - PROFILE_HEADER, total, err, errlen);
		goto payload;
	}
	if (version != 2 && version != PROFILE_VERSION) {
		if (err && errlen)
			snprintf(err, errlen, "a profile of format version %u (this ptrace-run reads 1 to %u)", version,
				 PROFILE_VERSION);
		return -EPROTO;
	}
	/* The records: a last one cut short (the launcher was killed while
	 * writing it) is left out, and said. */
	for (off = PROFILE_HEADER; off < len;) {
		struct rbuf h = {.p = d + off, .n = len - off};
		uint32_t magic, kind;
		uint64_t rtotal, flen;

		if (len - off < RECORD_HEADER) {
			p->cut_bytes = len - off;
			break;
		}
		magic = rbuf_u32(&h);
		kind = rbuf_u32(&h);
		rtotal = rbuf_u64(&h);
		flen = rbuf_u64(&h);
		if (magic != RECORD_MAGIC || (kind != PROFILE_SNAPSHOT && kind != PROFILE_END && kind != PROFILE_TIMELINE)) {
			say(err, errlen, "corrupt: not a record where one should start");
			return -EPROTO;
		}
		if (flen > len - off - RECORD_HEADER) {
			p->cut_bytes = len - off;
			break;
		}
		if (kind == PROFILE_TIMELINE) {
			/* Read below, once the record wanted is known. */
			off += RECORD_HEADER + (size_t)flen;
			continue;
		}
		if (kind == PROFILE_SNAPSHOT)
			snaps++;
		else
			p->has_end = 1;
		if ((which && kind == PROFILE_SNAPSHOT && snaps == which) || (!which && (kind == PROFILE_END || !p->has_end))) {
			pick = off + RECORD_HEADER;
			pick_len = (size_t)flen;
			pick_total = rtotal;
			found = 1;
			p->chosen = kind == PROFILE_SNAPSHOT ? snaps : 0;
		}
		off += RECORD_HEADER + (size_t)flen;
	}
	p->nsnapshots = snaps;
	if (!found) {
		if (err && errlen) {
			if (which)
				snprintf(err, errlen, "no snapshot %u: the profile holds %u", which, snaps);
			else
				snprintf(err, errlen, "truncated");
		}
		return which ? -ENOENT : -EPROTO;
	}
	rc = unpack(p, d + pick, pick_len, pick_total, err, errlen);
payload:
	if (!rc)
		rc = parse_payload(p, err, errlen);
	/* The timeline: the parts written before the record read. */
	for (off = PROFILE_HEADER; !rc && version != 1 && off + RECORD_HEADER <= pick;) {
		struct rbuf h = {.p = d + off, .n = len - off};
		uint32_t kind;
		uint64_t rtotal, flen;

		rbuf_u32(&h);
		kind = rbuf_u32(&h);
		rtotal = rbuf_u64(&h);
		flen = rbuf_u64(&h);
		if (kind == PROFILE_TIMELINE)
			rc = timeline_part(p, d + off + RECORD_HEADER, (size_t)flen, rtotal, err, errlen);
		off += RECORD_HEADER + (size_t)flen;
	}
	if (!rc && p->in.snapshot != p->chosen && version != 1) {
		say(err, errlen, "corrupt: a record's number disagrees with its place");
		rc = -EPROTO;
	}
	if (rc) {
		unsigned n = p->nsnapshots;
		int end = p->has_end;

		profile_free(p);
		p->nsnapshots = n;
		p->has_end = end;
	}
	return rc;
}

int profile_parse(const void *data, size_t len, struct profile *p, char *err, size_t errlen)
{
	return profile_parse_at(data, len, 0, p, err, errlen);
}

int profile_read_at(const char *path, unsigned which, struct profile *p, char *err, size_t errlen)
{
	struct stat st;
	unsigned char *data;
	size_t got = 0;
	int fd, rc;

	memset(p, 0, sizeof(*p));
	p->s.fd = -1;
	/* O_NONBLOCK: a FIFO is refused below, never waited on. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		say(err, errlen, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		say(err, errlen, "not a regular file");
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > PROFILE_MAX_PAYLOAD) {
		close(fd);
		say(err, errlen, "corrupt: larger than any profile");
		return -EPROTO;
	}
	/* Read, not mapped: a file cut short meanwhile must not SIGBUS us. */
	data = malloc((size_t)st.st_size + 1);
	if (!data) {
		close(fd);
		say(err, errlen, strerror(ENOMEM));
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			close(fd);
			free(data);
			say(err, errlen, strerror(-rc));
			return rc;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	rc = profile_parse_at(data, got, which, p, err, errlen);
	free(data);
	return rc;
}

int profile_read(const char *path, struct profile *p, char *err, size_t errlen)
{
	return profile_read_at(path, 0, p, err, errlen);
}

int profile_read_spec(const char *spec, unsigned which, struct profile *p, char *err, size_t errlen)
{
	const char *colon = strrchr(spec, ':');
	struct stat st;

	if (!which && colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1) &&
	    stat(spec, &st) != 0) {
		char *path = strndup(spec, (size_t)(colon - spec));
		unsigned long n = strtoul(colon + 1, NULL, 10);
		int rc;

		if (!path) {
			say(err, errlen, strerror(ENOMEM));
			return -ENOMEM;
		}
		if (n < 1 || n > (1u << 24)) {
			free(path);
			say(err, errlen, "snapshots are numbered from 1");
			return -EINVAL;
		}
		rc = profile_read_at(path, (unsigned)n, p, err, errlen);
		free(path);
		return rc;
	}
	return profile_read_at(spec, which, p, err, errlen);
}

void profile_free(struct profile *p)
{
	session_close(&p->s);
	symctx_free(p->in.symctx);
	if (p->payload)
		munmap(p->payload, p->payload_len);
	if (p->image_map)
		munmap(p->image_map, p->image_map_len);
	for (char **a = p->argv; a && *a; a++)
		free(*a);
	free(p->argv);
	free(p->reaped_pid);
	free(p->reaped_status);
	free(p->not_loaded_reason);
	free(p->func_filter);
	free(p->func_exclude);
	free(p->version);
	free(p->snapshot_label);
	series_free(&p->series);
	timeline_free(&p->timeline);
	memset(p, 0, sizeof(*p));
	p->s.fd = -1;
}
