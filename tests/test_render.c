/* Unit tests for the text renderer: escaping of strings from the program,
 * and what the report says about records the image could not hold. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

Test(render, clean_strings_are_printed_as_they_are)
{
	const char *s = "main::{lambda(int)#1} (/usr/src/é.c)";

	cr_assert(eq(ptr, (void *)render_text_esc(s), (void *)s), "no copy when nothing needs escaping");
	cr_assert(zero(ptr, (void *)render_text_esc(NULL)), "NULL stays NULL");
}

Test(render, control_bytes_and_terminal_codes_are_escaped)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "a\nb", "a\\x0ab" },
		{ "\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m" },
		{ "tab\there\r", "tab\\x09here\\x0d" },
		{ "del\x7f", "del\\x7f" },
		{ "csi\xc2\x9b" "2J", "csi\\u009b2J" },         /* C1 CSI as UTF-8 */
		{ "raw\x9b" "2J", "raw\\x9b2J" },               /* C1 CSI as a raw byte */
		{ "rtl\xe2\x80\xae" "cod", "rtl\\u202ecod" },     /* RIGHT-TO-LEFT OVERRIDE */
		{ "ls\xe2\x80\xa8" "x", "ls\\u2028x" },           /* LINE SEPARATOR */
		{ "bad\xff\xfe", "bad\\xff\\xfe" },
		{ "overlong\xc0\xaf", "overlong\\xc0\\xaf" },
		{ "cut\xe2\x82", "cut\\xe2\\x82" },
		{ "ok \xe2\x82\xac \xf0\x9f\x98\x80\n", "ok \xe2\x82\xac \xf0\x9f\x98\x80\\x0a" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_assert(eq(str, (char *)render_text_esc(cases[i].in), (char *)cases[i].out), "case %zu", i);
}

Test(render, escaped_copies_outlive_the_next_calls)
{
	const char *a = render_text_esc("a\n"), *b = render_text_esc("b\n");

	for (int i = 0; i < 6; i++)
		render_text_esc("x\n");
	cr_assert(eq(str, (char *)a, "a\\x0a"), "the first copy is still valid 7 calls later");
	cr_assert(eq(str, (char *)b, "b\\x0a"), "and the second");
}

static char *render(const struct report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert(f != NULL, "open_memstream");
	cr_assert(eq(int, render_text(r, f), 0), "render_text");
	fclose(f);
	return buf;
}

/* Processes beyond the image's process table are missing altogether:
 * the report says how many, that their figures are missing, and does not
 * send the user to --session-size (which does not add process slots). */
Test(render, dropped_processes_are_said_to_be_missing)
{
	char *argv[] = { "prog", NULL };
	struct report r;
	char *text, *line;

	memset(&r, 0, sizeof(r));
	r.argv = argv;
	r.loaded = 1;
	r.has_exit = 1;
	r.dropped_procs = 3;
	r.events_dropped = 3;
	text = render(&r);
	line = strstr(text, "warning: 3 processes were not recorded");
	cr_assert(line != NULL, "how many processes: %s", text);
	cr_assert(strstr(line, "figures are missing from this report") != NULL, "that their figures are missing: %s",
		  text);
	cr_assert(zero(ptr, strstr(text, "totals stay exact")), "no claim that totals are exact: %s", text);
	cr_assert(zero(ptr, strstr(text, "raise --session-size")), "no advice that does not help: %s", text);
	free(text);

	r.dropped_procs = 0;
	r.dropped_traces = 5;
	r.dropped_samples = 2;
	r.events_dropped = 7;
	text = render(&r);
	cr_assert(strstr(text, "warning: 7 events lost their stack (5 stacks, 0 allocation sites, 2 CPU samples") != NULL,
		  "lost stacks: %s", text);
	cr_assert(strstr(text, "the totals count them") != NULL, "their counts are kept: %s", text);
	cr_assert(zero(ptr, strstr(text, "not recorded")), "no process or thread is missing: %s", text);
	free(text);
}
