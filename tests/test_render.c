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

/*
 * The function tables' names: C++ names short (std::string), but two
 * functions that would show alike in full; names longer than the column
 * cut with "...", but two that the cut would make alike whole.
 */
#define R_STR "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >"
#define R_OLD_STR "std::basic_string<char, std::char_traits<char>, std::allocator<char> >"

Test(render, function_names_short_cut_and_never_alike)
{
	static const char *const names[] = {
	    "geo::a_function_with_a_rather_long_shared_prefix_one(int)",
	    "geo::a_function_with_a_rather_long_shared_prefix_two(int)",
	    "geo::another_function_whose_name_is_long_enough_to_be_cut(double)",
	    "f(" R_STR ")",
	    "f(" R_OLD_STR ")",
	    "g(std::vector<int, std::allocator<int> >)",
	};
	static const uint64_t self[] = {400, 300, 200, 50, 30, 20};
	enum { NF = sizeof(names) / sizeof(names[0]) };
	char *argv[] = {"prog", NULL};
	struct rfunc funcs[NF];
	size_t by_total[NF];
	struct rfnode root = {.func = RF_ROOT};
	struct rfuncs F = {.clock = "tsc", .total_ns = 1000, .funcs = funcs, .nfuncs = NF, .by_total = by_total,
			   .nodes = &root, .nnodes = 1};
	struct rprocess p = {.pid = 1, .func = &F};
	struct report r = {.argv = argv, .loaded = 1, .has_exit = 1, .procs = &p, .nprocs = 1};
	char *text, *hot;

	memset(funcs, 0, sizeof(funcs));
	for (size_t i = 0; i < NF; i++) {
		funcs[i].name = names[i];
		funcs[i].calls = 1;
		funcs[i].self_ns = funcs[i].total_ns = self[i];
		by_total[i] = i;
	}
	text = render(&r);
	hot = strstr(text, "hotspots by self time");
	cr_assert(not(zero(ptr, hot)), "hotspots: %s", text);
	/* Cut alike: both whole, past the column. */
	cr_assert(not(zero(ptr, strstr(hot, "\n   geo::a_function_with_a_rather_long_shared_prefix_one(int)   40.0% "))),
		  "one, whole: %s", hot);
	cr_assert(not(zero(ptr, strstr(hot, "\n   geo::a_function_with_a_rather_long_shared_prefix_two(int)   30.0% "))),
		  "two, whole: %s", hot);
	/* Cut alone: to the column, marked. */
	cr_assert(not(zero(ptr, strstr(hot, "\n   geo::another_function_whose_name_is_long_enou...   20.0% "))),
		  "cut to 48 columns: %s", hot);
	/* Short alike: both in full, then cut where they still differ. */
	cr_assert(not(zero(ptr, strstr(hot, "\n   f(std::__cxx11::basic_string<char, std::char_...    5.0% "))),
		  "new-ABI f in full, cut: %s", hot);
	cr_assert(not(zero(ptr, strstr(hot, "\n   f(std::basic_string<char, std::char_traits<ch...    3.0% "))),
		  "old-ABI f in full, cut: %s", hot);
	/* Short alone, padded to the column. */
	cr_assert(not(zero(ptr, strstr(hot, "\n   g(std::vector<int>)                                 2.0% "))),
		  "g short: %s", hot);
	cr_assert(zero(ptr, strstr(text, "f(std::string)")), "f never short: %s", text);
	/* The top table: the same labels, unpadded, before the location. */
	cr_assert(not(zero(ptr, strstr(text, "  geo::another_function_whose_name_is_long_enou...\n"))), "table: cut: %s",
		  text);
	cr_assert(not(zero(ptr, strstr(text, "  geo::a_function_with_a_rather_long_shared_prefix_two(int)\n"))),
		  "table: whole: %s", text);
	free(text);
}
