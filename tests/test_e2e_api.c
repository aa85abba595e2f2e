/*
 * End-to-end <ptrace-run.h> (issue 10): regions with metadata in a
 * program that is not instrumented, built as users build (gcc -O0 and
 * -O2, clang -O2, g++ -O2, and gcc -O2 -finstrument-functions, where
 * regions mix with functions); pause and resume; ptrace_snapshot; and
 * the same program without ptrace-run.
 */
#include "testutil.h"

static const char *const variants[] = {
	TU_PROG("api_regions"),     TU_PROG("api_O2/api_regions"),  TU_PROG("api_clang/api_regions"),
	TU_PROG("api_cxx/api_regions"), TU_PROG("api_fi/api_regions"),
};

/* name, or name with a C++ parameter list: "before_pause(void**)". */
static int fn_is(const char *fn, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(fn, name, n) && (fn[n] == 0 || fn[n] == '(');
}

static json_t *func_named(json_t *proc, const char *name)
{
	json_t *fns = tu_arr(proc, "functions");

	for (size_t i = 0; i < json_array_size(fns); i++)
		if (fn_is(tu_str(json_array_get(fns, i), "name"), name))
			return json_array_get(fns, i);
	return NULL;
}

/* The call-tree node of function name among node's children. */
static json_t *child_named(json_t *node, const char *name)
{
	json_t *kids = tu_arr(node, "children");

	for (size_t i = 0; i < json_array_size(kids); i++) {
		json_t *k = json_array_get(kids, i);

		if (json_is_string(json_object_get(k, "function")) && fn_is(tu_str(k, "function"), name))
			return k;
	}
	return NULL;
}

#define MS 1000000ll

/*
 * Sleeps are at least what was asked (nanosleep never returns early);
 * scheduling on a busy 2-CPU machine adds up to 50 ms per call at most,
 * the bound above.
 */
static void check_between(long long v, long long lo, long long slack, const char *what, const char *prog)
{
	cr_assert(v >= lo && v <= lo + slack, "%s: %s: %lld ns, expected %lld to %lld", prog, what, v, lo, lo + slack);
}

Test(e2e_api, regions_with_metadata_pause_and_snapshot, .timeout = 120)
{
	for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
		const char *prog = variants[v];
		char *prof = tu_tmpfile("api");
		struct tu_run r, s;
		json_t *proc, *req, *parse, *store, *slow, *root, *node, *sites;
		int fi = strstr(prog, "api_fi") != NULL;
		long long before_allocs = 0, before_frees = 0, after_allocs = 0, after_bytes = 0;

		tu_profile(&r, NULL, TU_LIST("-q", "-p", prof, "--", prog));
		cr_assert(eq(int, r.exit_code, 0), "%s: the run; stderr: %s", prog, r.err);
		cr_assert(eq(str, r.out, "blocks 110\n"), "%s: its output", prog);
		proc = tu_proc(r.json, 0);
		req = func_named(proc, "request");
		parse = func_named(proc, "parse");
		store = func_named(proc, "store");
		cr_assert(req && parse && store, "%s: the three regions", prog);
		cr_assert(tu_bool(req, "region") && tu_bool(parse, "region") && tu_bool(store, "region"),
			  "%s: marked as regions", prog);
		cr_assert(eq(i64, tu_int(req, "calls"), 3), "%s: 3 requests", prog);
		cr_assert(eq(i64, tu_int(parse, "calls"), 3), "%s: 3 parses", prog);
		cr_assert(eq(i64, tu_int(store, "calls"), 3), "%s: 3 stores", prog);
		check_between(tu_int(parse, "total_ns"), 15 * MS, 150 * MS, "parse's time (3 x 5 ms)", prog);
		check_between(tu_int(store, "total_ns"), 45 * MS, 150 * MS, "store's time (5 + 15 + 25 ms)", prog);
		check_between(tu_int(store, "max_ns"), 25 * MS, 50 * MS, "store's longest (25 ms)", prog);
		cr_assert(tu_int(req, "total_ns") >= tu_int(parse, "total_ns") + tu_int(store, "total_ns"),
			  "%s: request holds parse and store", prog);
		/* The slowest request is the third, 10 ms longer than the next. */
		slow = tu_arr(req, "slowest");
		cr_assert(eq(sz, json_array_size(slow), 3), "%s: three slowest requests", prog);
		cr_assert(eq(str, (char *)tu_str(json_array_get(slow, 0), "meta"), "user_id=102 action=create"),
			  "%s: the slowest request's metadata", prog);
		for (size_t k = 0; k < 3; k++)
			cr_assert(strstr(tu_str(json_array_get(slow, k), "meta"), "action=create") != NULL,
				  "%s: every request has its metadata", prog);
		cr_assert(json_object_get(json_array_get(tu_arr(parse, "slowest"), 0), "meta") == NULL,
			  "%s: parse had none", prog);
		/* The call tree: request -> parse, store (under main when
		 * instrumented). */
		root = tu_obj(proc, "call_tree");
		if (fi)
			root = child_named(root, "main");
		cr_assert(root != NULL, "%s: main in the tree", prog);
		node = child_named(root, "request");
		cr_assert(node != NULL, "%s: request in the tree", prog);
		cr_assert(eq(i64, tu_int(node, "calls"), 3), "%s: its calls", prog);
		cr_assert(child_named(node, "parse") && child_named(node, "store"), "%s: its children", prog);
		cr_assert(eq(i64, tu_int(child_named(node, "store"), "calls"), 3), "%s: store under request", prog);
		cr_assert(eq(i64, tu_int(proc, "function_timing.unmatched_region_ends"), 1), "%s: the stray end", prog);
		if (fi) {
			/* Called while paused: not timed, counted. */
			cr_assert(func_named(proc, "while_paused") == NULL, "%s: while_paused untimed", prog);
			cr_assert(eq(i64, tu_int(proc, "function_timing.paused_calls"), 1), "%s: one paused call", prog);
			cr_assert(eq(i64, tu_int(func_named(proc, "sleep_ms"), "calls"), 7), "%s: sleep_ms", prog);
		}

		/* Pause: 100 allocations of 1000 bytes not counted; the 5 frees
		 * of blocks from before the pause counted. */
		cr_assert(eq(i64, tu_int(proc, "api.pauses"), 1), "%s: one pause", prog);
		cr_assert(eq(i64, tu_int(proc, "api.paused_allocations"), 100), "%s: allocations skipped", prog);
		cr_assert(eq(i64, tu_int(proc, "api.paused_bytes"), 100000), "%s: bytes skipped", prog);
		cr_assert(eq(int, tu_bool(proc, "api.paused_at_end"), 0), "%s: resumed", prog);
		/* By the site's function: unrolled loops make a site per copy. */
		sites = tu_arr(proc, "memory.sites");
		for (size_t i = 0; i < json_array_size(sites); i++) {
			json_t *x = json_array_get(sites, i);
			json_t *st = tu_arr(x, "stack");
			const char *fn = json_array_size(st) ? tu_str(json_array_get(st, 0), "function") : "";

			cr_assert(eq(int, fn_is(fn, "while_paused"), 0), "%s: no site of the paused allocations", prog);
			cr_assert(tu_int(x, "bytes") != 100000, "%s: no 100 x 1000 bytes", prog);
			if (fn_is(fn, "before_pause")) {
				before_allocs += tu_int(x, "allocations");
				before_frees += tu_int(x, "frees");
			}
			if (fn_is(fn, "after_resume")) {
				after_allocs += tu_int(x, "allocations");
				after_bytes += tu_int(x, "bytes");
			}
		}
		cr_assert(eq(i64, before_allocs, 5), "%s: before the pause", prog);
		cr_assert(eq(i64, before_frees, 5), "%s: the frees while paused count", prog);
		cr_assert(eq(i64, after_allocs, 10), "%s: counted after resume", prog);
		cr_assert(eq(i64, after_bytes, 5000), "%s: their bytes", prog);
		tu_run_free(&r);

		/* The snapshot the program asked for: the three requests done. */
		tu_run(&s, NULL, TU_LIST(TU_LAUNCHER, "report", "--format=json", "--snapshot=1", prof));
		cr_assert(eq(int, s.exit_code, 0), "%s: report --snapshot=1; stderr: %s", prog, s.err);
		{
			json_t *j = json_loads(s.out, 0, NULL);

			cr_assert(j != NULL, "%s: snapshot JSON", prog);
			cr_assert(eq(str, (char *)tu_str(j, "snapshot.label"), "after requests"), "%s: its label", prog);
			cr_assert(eq(i64, tu_int(func_named(tu_proc(j, 0), "request"), "calls"), 3),
				  "%s: 3 requests then", prog);
			cr_assert(eq(i64, tu_int(tu_proc(j, 0), "api.paused_allocations"), 0), "%s: not paused yet", prog);
			json_decref(j);
		}
		tu_run_free(&s);

		/* Without ptrace-run: the same output and status. */
		tu_run(&s, NULL, TU_LIST(prog));
		cr_assert(eq(int, s.exit_code, 0), "%s alone: rc", prog);
		cr_assert(eq(str, s.out, "blocks 110\n"), "%s alone: output", prog);
		cr_assert(eq(str, s.err, ""), "%s alone: stderr", prog);
		tu_run_free(&s);
		unlink(prof);
		free(prof);
	}
}

/* The text report: regions by name in brackets, the metadata on the
 * slowest calls, the pause said. */
Test(e2e_api, the_text_report_names_regions_and_the_pause)
{
	struct tu_run r;

	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "--no-profile", "--", TU_PROG("api_regions")));
	cr_assert(eq(int, r.exit_code, 0), "the run; stderr: %s", r.err);
	cr_assert(strstr(r.err, "recording paused 1 time (ptrace_pause): 100 allocations (97.7 KiB) and 0 CPU "
				"samples not recorded\n") != NULL,
		  "the pause: %s", r.err);
	cr_assert(strstr(r.err, "[request]") != NULL && strstr(r.err, "[store]") != NULL, "regions: %s", r.err);
	cr_assert(strstr(r.err, "  user_id=102 action=create\n") != NULL, "metadata: %s", r.err);
	cr_assert(strstr(r.err, "1 ptrace_region_end() calls with no region open: ignored\n") != NULL, "stray end");
	cr_assert(strstr(r.err, "ptrace-run: a snapshot was asked for, but no profile file is written (--no-profile)\n") !=
			  NULL,
		  "the snapshot could not be kept: %s", r.err);
	tu_run_free(&r);
}

/*
 * ptrace_reset(): only what follows counts. api_reset keeps 50 x 100
 * bytes and frees 10 x 200 bytes allocated before the reset (after it),
 * runs region "old" 5 times before and "new" 3 times after, and keeps
 * 20 x 300 bytes after: the report has exactly those 20 allocations,
 * 6000 bytes live, "new" 3 times, no "old", and says since when.
 */
Test(e2e_api, reset_counts_only_what_follows, .timeout = 60)
{
	char *prof = tu_tmpfile("reset");
	struct tu_run r, t;
	json_t *proc, *sites;

	tu_profile(&r, NULL, TU_LIST("-q", "-p", prof, "--", TU_PROG("api_reset")));
	cr_assert(eq(int, r.exit_code, 0), "the run; stderr: %s", r.err);
	cr_assert(eq(str, r.out, "start\n"), "its output");
	proc = tu_proc(r.json, 0);
	cr_assert(eq(i64, tu_int(proc, "api.resets"), 1), "one reset");
	cr_assert(tu_int(proc, "api.reset_ns") > 0, "its time");
	cr_assert(eq(i64, tu_int(proc, "memory.allocations"), 20), "the allocations since");
	cr_assert(eq(i64, tu_int(proc, "memory.bytes_allocated"), 6000), "their bytes");
	cr_assert(eq(i64, tu_int(proc, "memory.frees"), 0), "frees of older blocks are none of the figures since");
	cr_assert(eq(i64, tu_int(proc, "memory.live_bytes"), 6000), "live: the blocks since");
	cr_assert(eq(i64, tu_int(proc, "memory.peak_bytes"), 6000), "the peak since");
	sites = tu_arr(proc, "memory.sites");
	cr_assert(eq(sz, json_array_size(sites), 1), "one site");
	cr_assert(eq(str, (char *)tu_str(json_array_get(tu_arr(json_array_get(sites, 0), "stack"), 0), "function"),
		     "after_reset"),
		  "after_reset's");
	cr_assert(eq(i64, tu_int(func_named(proc, "new"), "calls"), 3), "new: 3 calls");
	cr_assert(func_named(proc, "old") == NULL, "old: none since");
	tu_run_free(&r);

	/* The profile file renders the same figures, and the text says so. */
	tu_run(&t, NULL, TU_LIST(TU_LAUNCHER, "report", prof));
	cr_assert(eq(int, t.exit_code, 0), "report; stderr: %s", t.err);
	cr_assert(strstr(t.out, "  figures since ptrace_reset() at ") != NULL, "the text says since when: %s", t.out);
	cr_assert(strstr(t.out, "  heap: 20 allocations, 0 frees, 5.9 KiB allocated, peak 5.9 KiB\n") != NULL, "heap: %s",
		  t.out);
	tu_run_free(&t);

	tu_run(&t, NULL, TU_LIST(TU_PROG("api_reset")));
	cr_assert(eq(int, t.exit_code, 0), "alone: rc");
	cr_assert(eq(str, t.out, "start\n"), "alone: output");
	tu_run_free(&t);
	unlink(prof);
	free(prof);
}

/* make install: the header and ptrace-run.pc; a program built with
 * `pkg-config --cflags --libs ptrace-run` links nothing of ours and has
 * its regions timed by the installed ptrace-run. */
Test(e2e_api, make_install_and_pkg_config, .timeout = 120)
{
	char *dir = tu_tmpfile("inst"), *prefix = NULL, *pc = NULL, *cmd = NULL, *bin = NULL, *launcher = NULL;
	struct tu_run r;

	unlink(dir);
	cr_assert(mkdir(dir, 0700) == 0, "mkdir");
	cr_assert(asprintf(&prefix, "PREFIX=%s/usr", dir) > 0 && asprintf(&pc, "%s/usr/lib/pkgconfig", dir) > 0 &&
			  asprintf(&bin, "%s/app", dir) > 0 && asprintf(&launcher, "%s/usr/bin/ptrace-run", dir) > 0,
		  "asprintf");
	tu_run(&r, NULL, TU_LIST("/usr/bin/make", "-s", "install", prefix));
	cr_assert(eq(int, r.exit_code, 0), "make install; stderr: %s", r.err);
	tu_run_free(&r);
	cr_assert(asprintf(&cmd, "cc -O2 -o %s tests/progs/api_regions.c $(PKG_CONFIG_PATH=%s pkg-config --cflags --libs ptrace-run)",
			   bin, pc) > 0,
		  "asprintf");
	tu_run(&r, NULL, TU_LIST("/bin/sh", "-c", cmd));
	cr_assert(eq(int, r.exit_code, 0), "built with pkg-config; stderr: %s", r.err);
	tu_run_free(&r);
	free(cmd);
	cr_assert(asprintf(&cmd, "PKG_CONFIG_PATH=%s pkg-config --libs ptrace-run", pc) > 0, "asprintf");
	tu_run(&r, NULL, TU_LIST("/bin/sh", "-c", cmd));
	cr_assert(eq(str, r.out, "\n"), "--libs: nothing to link");
	tu_run_free(&r);
	cr_assert(asprintf(&cmd, "readelf -d %s | grep -c NEEDED; readelf -d %s | grep ptrace", bin, bin) > 0, "asprintf");
	tu_run(&r, NULL, TU_LIST("/bin/sh", "-c", cmd));
	cr_assert(strstr(r.out, "ptrace") == NULL, "no library of ours needed: %s", r.out);
	tu_run_free(&r);
	{
		const char *argv[] = {launcher, "-q", "--no-profile", "--json=-", "--", bin, NULL};
		struct tu_opts o = {.json = 0};

		tu_run(&r, &o, argv);
	}
	cr_assert(eq(int, r.exit_code, 0), "the installed ptrace-run; stderr: %s", r.err);
	cr_assert(strstr(r.out, "\"name\": \"request\"") != NULL || strstr(r.out, "\"name\":\"request\"") != NULL,
		  "the region in the report: %.500s", r.out);
	tu_run_free(&r);
	free(cmd);
	cr_assert(asprintf(&cmd, "rm -rf %s", dir) > 0, "asprintf");
	tu_run(&r, NULL, TU_LIST("/bin/sh", "-c", cmd));
	tu_run_free(&r);
	free(cmd);
	free(dir);
	free(prefix);
	free(pc);
	free(bin);
	free(launcher);
}

/* Five resets: the figures since the last one; each baseline leaves the
 * earlier ones out of its copy (else the image would double each time). */
Test(e2e_api, many_resets_count_from_the_last, .timeout = 60)
{
	struct tu_run r;
	json_t *proc;

	tu_profile(&r, NULL, TU_LIST("-q", "--no-profile", "--", TU_PROG("api_resets")));
	cr_assert(eq(int, r.exit_code, 0), "the run; stderr: %s", r.err);
	proc = tu_proc(r.json, 0);
	cr_assert(eq(i64, tu_int(proc, "api.resets"), 5), "five resets");
	cr_assert(eq(i64, tu_int(proc, "memory.allocations"), 3), "the allocations since the last");
	cr_assert(eq(i64, tu_int(proc, "memory.bytes_allocated"), 30), "their bytes");
	cr_assert(eq(i64, tu_int(proc, "memory.live_bytes"), 30), "live: those");
	cr_assert(eq(sz, json_array_size(tu_arr(proc, "memory.sites")), 1), "one site");
	tu_run_free(&r);
}
