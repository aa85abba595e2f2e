/*
 * libFuzzer target: the profile file reader (cli/profile.c) and the report
 * built from what it read. Two kinds of input, by the first byte:
 *   0xff: the rest is a whole file, given to profile_parse as it is (the
 *         container: magic, version, sizes, the zstd frame);
 *   else: u32 length and bytes of META, SYMS, TIME and TIML (0: none),
 *         then a session image; the harness lays them out as a profile
 *         file of one record (the image's header made valid as
 *         tests/fuzz_report.c does; an odd-sized input's image as runs of
 *         its nonzero blocks, IMGR), so the fuzzer's mutations reach the
 *         JSON, symbol, series and timeline readers and the report
 *         instead of dying at the frame's checksum.
 * Then report_build and every view. A crash, a sanitizer report, a hang,
 * or a report the JSON view cannot write is a bug. Seeds: real runs'
 * META and SYMS with the image seeds of fuzz_seed (fuzz_profile_seed.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "bytes.h"
#include "profile.h"
#include "render.h"
#include "view.h"

static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void section(struct wbuf *w, uint32_t tag, const void *p, size_t n)
{
	static const unsigned char zeros[64];

	wbuf_u32(w, tag);
	wbuf_u32(w, 0);
	wbuf_u64(w, n);
	wbuf_put(w, zeros, 48);
	wbuf_put(w, p, n);
	wbuf_put(w, zeros, ((n + 63) & ~(size_t)63) - n);
}

static void run(const void *file, size_t len)
{
	struct profile prof;
	struct report r;
	char err[256];

	if (profile_parse(file, len, &prof, err, sizeof(err))) {
		if (!err[0] || strchr(err, '\n'))
			abort(); /* every refusal is one line */
		return;
	}
	if (report_build(&r, &prof.s, &prof.in) == 0) {
		struct view_opts o = {0};

		render_text(&r, devnull);
		if (render_json(&r, devnull))
			abort();
		render_massif(&r, devnull, &o);
		render_chrome(&r, devnull, &o);
	}
	report_free(&r);
	profile_free(&prof);
}

/* The image as the writer lays it out (IMGR): runs of the 64-byte blocks
 * that hold a nonzero byte, block 0 always, then their bytes. */
static void section_runs(struct wbuf *w, const unsigned char *img, size_t len)
{
	static const unsigned char zeros[64];
	struct wbuf t = {0}, d = {0};
	uint64_t nruns = 0, run_off = 0, run_len = 0;

	for (size_t b = 0; b < len; b += 64) {
		size_t n = len - b < 64 ? len - b : 64;

		if (b && !memcmp(img + b, zeros, n))
			continue;
		if (run_len && run_off + run_len == b) {
			run_len += n;
		} else {
			if (run_len) {
				wbuf_u64(&t, run_off);
				wbuf_u64(&t, run_len);
				nruns++;
			}
			run_off = b;
			run_len = n;
		}
		wbuf_put(&d, img + b, n);
	}
	wbuf_u64(&t, run_off);
	wbuf_u64(&t, run_len);
	nruns++;
	wbuf_u32(w, 0x52474d49u);
	wbuf_u32(w, 0);
	wbuf_u64(w, 16 + t.n + d.n);
	wbuf_put(w, zeros, 48);
	wbuf_u64(w, len);
	wbuf_u64(w, nruns);
	wbuf_put(w, t.p, t.n);
	wbuf_put(w, d.p, d.n);
	wbuf_put(w, zeros, ((16 + t.n + d.n + 63) & ~(size_t)63) - (16 + t.n + d.n));
	if (t.err || d.err)
		w->err = -12;
	wbuf_free(&t);
	wbuf_free(&d);
}

/* A record of kind holding payload, appended to file. */
static void record(struct wbuf *file, uint32_t kind, const struct wbuf *payload)
{
	size_t bound = ZSTD_compressBound(payload->n), csize;
	unsigned char *frame = malloc(bound);

	if (!frame || payload->err) {
		free(frame);
		file->err = -12;
		return;
	}
	csize = ZSTD_compress(frame, bound, payload->p, payload->n, 1);
	if (ZSTD_isError(csize)) {
		free(frame);
		file->err = -12;
		return;
	}
	wbuf_u32(file, 0x43525250u);
	wbuf_u32(file, kind);
	wbuf_u64(file, payload->n);
	wbuf_u64(file, csize);
	wbuf_u64(file, 0);
	wbuf_put(file, frame, csize);
	free(frame);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rbuf in = {.p = data, .n = size};
	struct wbuf payload = {0}, file = {0};
	const unsigned char *meta, *syms, *time, *tl;
	uint32_t meta_len, syms_len, time_len, tl_len;
	size_t hdr = (sizeof(struct sf_header) + 63) & ~(size_t)63, img_len;
	unsigned char *img;
	struct sf_header *h;

	if (!devnull && !(devnull = fopen("/dev/null", "w")))
		abort();
	if (size && data[0] == 0xff) {
		run(data + 1, size - 1);
		return 0;
	}
	meta_len = rbuf_u32(&in);
	meta = rbuf_take(&in, meta_len);
	syms_len = rbuf_u32(&in);
	syms = rbuf_take(&in, syms_len);
	time_len = rbuf_u32(&in);
	time = rbuf_take(&in, time_len);
	tl_len = rbuf_u32(&in);
	tl = rbuf_take(&in, tl_len);
	if (in.err)
		return 0;
	/* The image: the rest, with room for the header and one slot. */
	img_len = size - in.off;
	if (img_len < hdr + sizeof(struct sf_process))
		img_len = hdr + sizeof(struct sf_process);
	img_len = (img_len + 63) & ~(size_t)63;
	img = calloc(1, img_len);
	if (!img)
		return 0;
	memcpy(img, data + in.off, size - in.off);
	h = (struct sf_header *)img;
	h->magic = SF_MAGIC;
	h->version = SF_VERSION;
	h->header_size = sizeof(*h);
	h->size = img_len;
	h->procs = hdr;
	section(&payload, 0x4154454du, meta, meta_len);
	section(&payload, 0x534d5953u, syms, syms_len);
	/* Odd sizes go as runs (IMGR), even ones whole (IMAGE): both readers. */
	if (size & 1)
		section_runs(&payload, img, img_len);
	else
		section(&payload, 0x47414d49u, img, img_len);
	if (time_len)
		section(&payload, 0x454d4954u, time, time_len);
	free(img);
	wbuf_put(&file, "\x89PTRPRF\n", 8);
	wbuf_u32(&file, PROFILE_VERSION);
	wbuf_u32(&file, 0);
	wbuf_u64(&file, 0);
	/* The timeline as the writer keeps it: a record of its own, before
	 * the end. */
	if (tl_len) {
		struct wbuf tp = {0};

		section(&tp, 0x4c4d4954u, tl, tl_len);
		record(&file, PROFILE_TIMELINE, &tp);
		wbuf_free(&tp);
	}
	record(&file, PROFILE_END, &payload);
	if (!payload.err && !file.err)
		run(file.p, file.n);
	wbuf_free(&payload);
	wbuf_free(&file);
	return 0;
}
