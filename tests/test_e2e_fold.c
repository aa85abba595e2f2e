/*
 * End-to-end (issue 12): the text report shows a leak's stack with the
 * program's own frames first, the standard library's folded into the
 * line of the library call the program made; the JSON keeps every frame.
 */
#include "testutil.h"

Test(e2e_fold, library_frames_fold_into_the_call_the_program_made)
{
	int line = tu_marker_line(TU_SRC("stl_leak.cc"), "@site:push");
	char *json = tu_tmpfile("fold"), want[64], *at, *next, *end, fill[256];
	struct tu_run r;
	json_t *j, *leaks, *stack = NULL;
	size_t push = SIZE_MAX;
	json_error_t jerr;

	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "--no-profile", "--json", json, "--", TU_PROG("stl_leak")));
	cr_assert(eq(int, r.exit_code, 0), "the run; stderr: %s", r.err);
	j = json_load_file(json, 0, &jerr);
	cr_assert(j != NULL, "JSON: %s", jerr.text);
	/* The JSON: every frame, push_back's callees (the allocator's
	 * templates, operator new) included. */
	leaks = tu_arr(tu_proc(j, 0), "memory.leaks");
	for (size_t i = 0; i < json_array_size(leaks) && !stack; i++) {
		json_t *st = tu_arr(json_array_get(leaks, i), "stack");

		for (size_t k = 0; k + 1 < json_array_size(st); k++) {
			const char *fn = json_string_value(json_object_get(json_array_get(st, k), "function"));
			const char *caller = json_string_value(json_object_get(json_array_get(st, k + 1), "function"));

			if (fn && caller && strstr(fn, "push_back(int const&)") && !strcmp(caller, "fill_vector()")) {
				stack = st;
				push = k;
			}
		}
	}
	cr_assert(stack != NULL, "a leak through push_back in the JSON");
	cr_assert(push >= 2, "push_back has library frames inside it (%zu)", push);
	cr_assert(eq(str, (char *)tu_str(json_array_get(stack, 0), "function"), "operator new(unsigned long)"),
		  "the JSON starts at operator new");
	/* The text: push_back's line says how many frames it holds, then
	 * the program's frame that called it. */
	snprintf(want, sizeof(want), "  [+%zu library frames inside]\n", push);
	at = strstr(r.err, want);
	cr_assert(at != NULL, "the folded line (%s): %s", want, r.err);
	end = at;
	while (at > r.err && at[-1] != '\n')
		at--;
	cr_assert(strstr(at, "push_back(int const&)") != NULL && strstr(at, "push_back(int const&)") < end,
		  "it is push_back's: %.200s", at);
	next = strchr(end, '\n') + 1;
	snprintf(fill, sizeof(fill), "        fill_vector() (");
	cr_assert(eq(int, strncmp(next, fill, strlen(fill)), 0), "then fill_vector: %.200s", next);
	snprintf(fill, sizeof(fill), "stl_leak.cc:%d)", line);
	cr_assert(strstr(next, fill) != NULL && strstr(next, fill) < strchr(next, '\n'), "at its line %d: %.200s", line,
		  next);
	cr_assert(strstr(r.err, "std::__new_allocator<int>::allocate") == NULL, "the allocator's frames folded");
	/* --max-depth counts machine frames: the text says so. */
	cr_assert(strstr(r.err, ", max depth 64 machine frames (inlined ones besides); ") != NULL, "the agent line: %s",
		  r.err);
	/* The one-line form (by count): the library call and its caller. */
	cr_assert(strstr(r.err, "push_back(int const&) <- fill_vector() (stl_leak.cc:") != NULL, "by count: %s", r.err);
	json_decref(j);
	tu_run_free(&r);
	unlink(json);
	free(json);
}
