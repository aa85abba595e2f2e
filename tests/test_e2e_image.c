/*
 * The session image is memory the program can write: a program that
 * writes over it (tests/progs/image_scribble.c) must not crash, hang or
 * starve the launcher. Each run: the launcher exits with the program's
 * status, in bounded time, with a valid JSON report whose warnings name
 * what was corrupt, and no garbage figures.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "testutil.h"

#define CORRUPT "session image corrupt (the program wrote over it?)"

/* Profile image_scribble with args; the launcher exits with want (-1:
 * the status the report says the program had). */
static void scribble(struct tu_run *r, int want, const char *const *args)
{
	const char *argv[8] = {"--", TU_PROG("image_scribble")};
	size_t n = 2;

	for (size_t i = 0; args[i] && n < 7; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	tu_profile(r, NULL, argv);
	cr_assert(eq(int, r->signal, 0), "the launcher was killed by signal %d; stderr: %.2000s", r->signal, r->err);
	if (want < 0) {
		/* Whatever the program's own agent made of its scribbles (it
		 * follows the image too): the status the report gives. */
		json_t *sig = tu_get(r->json, "signal");

		want = json_is_integer(sig) ? 128 + (int)json_integer_value(sig) : (int)tu_int(r->json, "exit_code");
	}
	cr_assert(eq(int, r->exit_code, want), "the launcher exits with the program's status; stderr: %.2000s", r->err);
}

static size_t nwarnings_with(json_t *report, const char *what)
{
	json_t *w = tu_get(report, "agent.warnings");
	size_t n = 0;

	for (size_t i = 0; i < json_array_size(w); i++) {
		const char *s = json_string_value(json_array_get(w, i));
		if (s && strstr(s, CORRUPT) && strstr(s, what))
			n++;
	}
	return n;
}

Test(e2e_image, header_procs_offset_overwritten)
{
	struct tu_run r;

	scribble(&r, 7, TU_LIST("procs"));
	cr_assert(strstr(r.err, "warning: " CORRUPT ": header") != NULL, "the text report says the header is corrupt: %s",
		  r.err);
	cr_assert(eq(sz, nwarnings_with(r.json, "header"), 1), "so does the JSON");
	/* The launcher keeps its own layout: the process is still all there. */
	cr_assert(eq(sz, json_array_size(tu_get(r.json, "processes")), 1), "one process");
	cr_assert(ge(i64, tu_int(tu_memory(r.json, 0), "allocations"), 64), "its 64 allocations are counted");
	tu_run_free(&r);
}

Test(e2e_image, self_referencing_thread_list)
{
	struct tu_run r;
	long long t0 = tu_now_ms();

	scribble(&r, 128 + 9, TU_LIST("loop"));
	cr_assert(lt(i64, tu_now_ms() - t0, 15000), "the loop is cut at once, not walked for minutes");
	cr_assert(eq(sz, nwarnings_with(r.json, "thread list"), 1), "the thread list is named corrupt: %s", r.err);
	/* The one record, counted once. */
	cr_assert(le(i64, tu_int(tu_memory(r.json, 0), "allocations"), 1000), "no figure multiplied by the loop");
	cr_assert(lt(sz, r.err_len, 100000), "a text report of ordinary size (%zu bytes)", r.err_len);
	tu_run_free(&r);
}

Test(e2e_image, huge_counts_do_not_reach_the_report)
{
	struct tu_run r;

	scribble(&r, 7, TU_LIST("counts"));
	cr_assert(eq(i64, tu_int(r.json, "agent.events_dropped"), 0), "a dropped count no run can have is not shown");
	cr_assert(strstr(r.err, "18446744073709551") == NULL, "no wrapped counter in the text: %s", r.err);
	cr_assert(strstr(r.err, "TiB") == NULL, "no impossible peak in the text: %s", r.err);
	cr_assert(le(i64, tu_int(tu_memory(r.json, 0), "peak_bytes"), 1 << 20), "peak: no garbage");
	cr_assert(eq(sz, nwarnings_with(r.json, "header"), 1), "header named corrupt: %s", r.err);
	cr_assert(ge(sz, nwarnings_with(r.json, "heap counters"), 1), "heap counters named corrupt: %s", r.err);
	cr_assert(ge(sz, nwarnings_with(r.json, "process record"), 1), "process record named corrupt: %s", r.err);
	tu_run_free(&r);
}

Test(e2e_image, module_path_naming_a_fifo)
{
	struct tu_run r;
	char fifo[64];

	snprintf(fifo, sizeof(fifo), "/tmp/ptrace-e2e-fifo-%d", (int)getpid());
	unlink(fifo);
	scribble(&r, 7, TU_LIST("fifo", fifo));
	unlink(fifo);
	cr_assert(ge(sz, nwarnings_with(r.json, "module list"), 1), "the FIFO is named as a corrupt module: %s", r.err);
	tu_run_free(&r);
}

Test(e2e_image, truncating_the_image_is_refused)
{
	struct tu_run r;

	scribble(&r, 7, TU_LIST("truncate"));
	cr_assert(eq(str, r.out, "ftruncate: Operation not permitted\n"), "the image is sealed against shrinking");
	cr_assert(eq(sz, json_array_size(tu_get(r.json, "processes")), 1), "the report is whole");
	tu_run_free(&r);
}

Test(e2e_image, random_scribbles)
{
	const char *counts[] = {"200", "2000", "20000"};

	for (size_t i = 0; i < 3; i++) {
		struct tu_run r;

		scribble(&r, -1, TU_LIST("random", counts[i]));
		cr_assert(ge(int, r.exit_code, 128 + 9), "killed (by itself, or by its agent's fault)");
		/* Fewer writes may all land where nothing can tell. */
		if (i == 2)
			cr_assert(strstr(r.err, "warning: " CORRUPT) != NULL, "%s writes: corruption reported: %.2000s",
				  counts[i], r.err);
		tu_run_free(&r);
	}
}
