/*
 * libFuzzer target: the launcher's image reader and report builder over a
 * hostile session image. The input is the image itself; its header gets
 * the fields session_use checks (magic, version, size, where the process
 * slots are), everything else is the fuzzer's: process records, offsets,
 * counts, lists, strings. Then what the launcher does after a run:
 * closeout (it writes into the image), symbol warm-up, report_build, the
 * text and JSON views. A crash, a sanitizer report (ASan, UBSan), a hang
 * or a JSON view that fails is a bug.
 *
 * Symbolization is offline (symctx_new_offline): module paths in a fuzz
 * input must not make the fuzzer open files. The file-opening side is
 * covered by the end-to-end tests (a module path naming a FIFO).
 *
 * Build and run: make fuzz (short, part of make test), bench/fuzz (long).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "closeout.h"
#include "render.h"
#include "report.h"
#include "session.h"

static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t hdr = (sizeof(struct sf_header) + 63) & ~(size_t)63, n = size;
	char *argv[] = {"./app", "arg", NULL};
	struct report_input in = {0};
	struct session s;
	struct sf_header *h;
	struct report r;
	void *buf;

	if (!devnull && !(devnull = fopen("/dev/null", "w")))
		abort();
	/* At least the header and one process slot; exactly n bytes, so
	 * ASan sees a read past the image's end. */
	if (n < hdr + sizeof(struct sf_process))
		n = hdr + sizeof(struct sf_process);
	n = (n + 7) & ~(size_t)7;
	if (posix_memalign(&buf, 64, n))
		return 0;
	memset(buf, 0, n);
	memcpy(buf, data, size);
	h = buf;
	h->magic = SF_MAGIC;
	h->version = SF_VERSION;
	h->header_size = sizeof(*h);
	h->size = n;
	h->procs = hdr;
	if (session_use(&s, buf, n))
		abort(); /* the header was made valid above */

	closeout_reaped(&s, 100, 800000);
	closeout_session(&s, s.start_ns + 1000000);

	in.argv = argv;
	in.status = 3 << 8;
	in.spawned = 1;
	in.duration_ns = 1000000;
	in.sample_rate = 1;
	in.max_depth = 64;
	in.track_memory = 1;
	in.main_pid = 100;
	in.cpu_hz = 1000;
	in.dump_signal = 12;
	if (symctx_new_offline(&in.symctx))
		abort();
	symctx_warm(in.symctx, &s);
	if (report_build(&r, &s, &in) == 0) {
		render_text(&r, devnull);
		if (render_json(&r, devnull))
			abort(); /* a model the JSON view cannot write */
	}
	report_free(&r);
	symctx_free(in.symctx);
	session_close(&s);
	free(buf);
	return 0;
}
