/*
 * The hooks' own stack walker (agent/cfi.h) against libunwind: under
 * PTRACE_UNWIND=check every allocation's stack is walked both ways (the
 * reference is libunwind's unw_step walk) and the differences counted
 * (memory.stack_walks in the JSON report). The programs have every common
 * frame shape, built as users build them; the real ones are Debian's
 * python3 and sqlite3.
 */
#include "testutil.h"

/* A run under PTRACE_UNWIND=mode; its memory figures of process 0. */
static json_t *walk_run(struct tu_run *r, const char *mode, const char *const *args)
{
	char env[64];

	snprintf(env, sizeof(env), "PTRACE_UNWIND=%s", mode);
	tu_profile(r, TU_LIST(env), args);
	cr_assert(eq(int, r->exit_code, 0), "exit %d; stderr: %s", r->exit_code, r->err);
	return tu_memory(r->json, 0);
}

/* tests/progs/walk_shapes.c: every walk ours but the handler's (its
 * signal frame is libunwind's), and each the same as libunwind's. */
static void check_shapes(const char *prog, const char *depth)
{
	struct tu_run r;
	json_t *m = walk_run(&r, "check", TU_LIST("-q", "--no-profile", depth, "--", prog));
	int handler = -1;

	cr_assert(eq(int, sscanf(r.out, "handler allocations %d", &handler), 1), "%s: stdout %s", prog, r.out);
	cr_assert(eq(int, handler, 94), "%s: one raise every 32 of 3000 rounds", prog);
	cr_assert(eq(i64, tu_int(m, "stack_walks.total"), tu_int(m, "allocations")), "%s: a walk per allocation",
		  prog);
	cr_assert(eq(i64, tu_int(m, "stack_walks.libunwind"), tu_int(m, "allocations")),
		  "%s: a check walks each with libunwind", prog);
	cr_assert(eq(i64, tu_int(m, "stack_walks.checked"), tu_int(m, "allocations") - handler),
		  "%s: ours walked all but the signal handler's", prog);
	cr_assert(eq(i64, tu_int(m, "stack_walks.differed"), 0), "%s: no walk differed from libunwind's", prog);
	tu_run_free(&r);
}

Test(e2e_unwind, every_frame_shape_walks_as_libunwind_at_O0, .timeout = 60)
{
	check_shapes(TU_PROG("walk_shapes"), "--max-depth=64");
}

Test(e2e_unwind, every_frame_shape_walks_as_libunwind_at_O2, .timeout = 60)
{
	check_shapes(TU_PROG("walk_O2/walk_shapes"), "--max-depth=64");
}

Test(e2e_unwind, every_frame_shape_walks_as_libunwind_by_clang, .timeout = 60)
{
	check_shapes(TU_PROG("walk_clang/walk_shapes"), "--max-depth=64");
}

/* A walk that is one its memo set holds is known by that walk's trace
 * id, no frame copied (agent/cfi.h): each site keeps exactly its own
 * allocations, and under a check every id agrees with libunwind's
 * frames. The counts are tests/progs/walk_repeat.c's. */
static void check_repeats(const char *prog)
{
	static const struct {
		const char *fn;
		long long allocs, size;
	} want[] = {{"site_a", 1000, 24}, {"site_a", 500, 24}, {"site_b", 500, 40}, {"site_b", 1000, 40},
		    {"site_a", 100, 24},  {"site_b", 100, 40}, {"site_c", 100, 56}, {"site_d", 100, 72},
		    {"site_e", 100, 88}};
	enum { NWANT = sizeof(want) / sizeof(want[0]) };
	static const char *const modes[] = {"cfi", "check"};

	for (size_t k = 0; k < 2; k++) {
		struct tu_run r;
		json_t *m = walk_run(&r, modes[k], TU_LIST("-q", "--no-profile", "--", prog));
		json_t *sites = json_object_get(m, "sites");
		int seen[NWANT] = {0};

		cr_assert(eq(i64, tu_int(m, "stack_walks.total"), 3500), "%s %s: a walk per allocation", prog,
			  modes[k]);
		cr_assert(eq(i64, tu_int(m, "stack_walks.repeated"), 2996),
			  "%s %s: all but the first of each run and of the pairs repeat; of five taking turns in "
			  "four ways none",
			  prog, modes[k]);
		cr_assert(eq(i64, tu_int(m, "stack_walks.differed"), 0), "%s %s: no id differed", prog, modes[k]);
		cr_assert(eq(sz, json_array_size(sites), NWANT), "%s %s: a site per call line", prog, modes[k]);
		for (size_t i = 0; i < json_array_size(sites); i++) {
			json_t *s = json_array_get(sites, i);
			long long n = tu_int(s, "allocations");

			for (size_t w = 0; w < NWANT; w++)
				if (!seen[w] && tu_frame_is(tu_frame(s, 0), want[w].fn) && n == want[w].allocs) {
					seen[w] = 1;
					cr_assert(eq(i64, tu_int(s, "bytes"), n * want[w].size), "%s: %s's bytes", prog,
						  want[w].fn);
					cr_assert(tu_frame_is(tu_frame(s, 1), "main"), "%s: called from main", prog);
					break;
				}
		}
		for (size_t w = 0; w < NWANT; w++)
			cr_assert(seen[w], "%s %s: a site of %lld allocations in %s", prog, modes[k], want[w].allocs,
				  want[w].fn);
		tu_run_free(&r);
	}
}

Test(e2e_unwind, repeated_walks_keep_their_sites_at_O0, .timeout = 60)
{
	check_repeats(TU_PROG("walk_repeat"));
}

Test(e2e_unwind, repeated_walks_keep_their_sites_at_O2, .timeout = 60)
{
	check_repeats(TU_PROG("walk_O2/walk_repeat"));
}

Test(e2e_unwind, repeated_walks_keep_their_sites_by_clang, .timeout = 60)
{
	check_repeats(TU_PROG("walk_clang/walk_repeat"));
}

/* Stacks cut at a small depth, and deeper than a thread's memo holds
 * (96 frames: walks there keep none). */
Test(e2e_unwind, walks_cut_short_or_deeper_than_the_memo, .timeout = 60)
{
	check_shapes(TU_PROG("walk_O2/walk_shapes"), "--max-depth=6");
	check_shapes(TU_PROG("walk_O2/walk_shapes"), "--max-depth=200");
}

/* C++ at -O2: templates, virtual calls, std::function, and exceptions
 * thrown through allocating frames between walks. Every walk is ours,
 * libstdc++'s emergency exception pool's (72704 bytes) too: it is made in
 * the loader's _dl_init, whose caller _dl_start_user has no unwind
 * information and an rbp of 0, the end of the stack for libunwind as for
 * us. */
static void check_cxx(const char *prog)
{
	struct tu_run r;
	json_t *m = walk_run(&r, "check", TU_LIST("-q", "--no-profile", "--", prog));
	long long total = tu_int(m, "stack_walks.total");

	cr_assert(eq(str, r.out, "total 12004221 caught 2000\n"), "%s", prog);
	cr_assert(total > 100000, "%s: %lld walks", prog, total);
	cr_assert(eq(i64, tu_int(m, "stack_walks.checked"), total), "%s: all ours", prog);
	cr_assert(eq(i64, tu_int(m, "stack_walks.differed"), 0), "%s", prog);
	tu_run_free(&r);
}

Test(e2e_unwind, cxx_with_exceptions_walks_as_libunwind_gcc, .timeout = 60)
{
	check_cxx(TU_PROG("walk_O2/walk_shapes_cxx"));
}

Test(e2e_unwind, cxx_with_exceptions_walks_as_libunwind_clang, .timeout = 60)
{
	check_cxx(TU_PROG("walk_clang/walk_shapes_cxx"));
}

/* The report is the one libunwind alone gives: every site (its frames'
 * functions) with the same allocations and bytes. */
Test(e2e_unwind, the_report_is_libunwinds, .timeout = 60)
{
	struct tu_run a, b;
	json_t *ma = walk_run(&a, "cfi", TU_LIST("-q", "--no-profile", "--", TU_PROG("walk_O2/walk_shapes")));
	json_t *mb = walk_run(&b, "libunwind", TU_LIST("-q", "--no-profile", "--", TU_PROG("walk_O2/walk_shapes")));
	json_t *sa = json_object_get(ma, "sites"), *sb = json_object_get(mb, "sites");
	json_t *seen = json_object();

	cr_assert(json_array_size(sa) > 10, "%zu sites", json_array_size(sa));
	cr_assert(eq(sz, json_array_size(sa), json_array_size(sb)), "as many sites");
	for (int side = 0; side < 2; side++) {
		json_t *sites = side ? sb : sa;

		for (size_t i = 0; i < json_array_size(sites); i++) {
			json_t *s = json_array_get(sites, i), *st = json_object_get(s, "stack");
			char key[4096] = "";
			char val[64];

			/* Functions and offsets in their modules: a function
			 * can call another from two places. */
			for (size_t f = 0; f < json_array_size(st); f++) {
				json_t *fr = json_array_get(st, f);
				const char *fn = tu_frame_str(fr, "function");
				char one[256];

				snprintf(one, sizeof(one), "%s+%lld;", fn ? fn : "??", tu_int(fr, "offset"));
				strncat(key, one, sizeof(key) - strlen(key) - 1);
			}
			snprintf(val, sizeof(val), "%lld/%lld", tu_int(s, "allocations"), tu_int(s, "bytes"));
			if (!side) {
				json_object_set_new(seen, key, json_string(val));
			} else {
				json_t *v = json_object_get(seen, key);

				cr_assert(v != NULL, "libunwind's site %s is ours too", key);
				cr_assert(eq(str, (char *)json_string_value(v), val), "site %s", key);
			}
		}
	}
	json_decref(seen);
	tu_run_free(&a);
	tu_run_free(&b);
}

/* A library loaded into the hole another left, with other unwind rules at
 * the same return address: the walk must not use the old ones (nor may
 * libunwind, whose caches are flushed at dlclose). */
Test(e2e_unwind, a_library_where_another_was, .timeout = 60)
{
	struct tu_run r;
	json_t *m = walk_run(&r, "check", TU_LIST("-q", "--no-profile", "--", TU_PROG("walk_reuse")));
	json_t *sites;
	int found = 0;

	cr_assert(eq(str, r.out, "reuse same-base\n"), "B was mapped where A was");
	cr_assert(eq(i64, tu_int(m, "stack_walks.checked"), tu_int(m, "stack_walks.total")), "all ours");
	cr_assert(eq(i64, tu_int(m, "stack_walks.differed"), 0), "none as A's rules would make B's");
	tu_run_free(&r);

	m = walk_run(&r, "cfi", TU_LIST("-q", "--no-profile", "--", TU_PROG("walk_reuse")));
	sites = json_object_get(m, "sites");
	for (size_t i = 0; i < json_array_size(sites); i++) {
		json_t *s = json_array_get(sites, i);

		if (!tu_frame_is(tu_frame(s, 0), "walk_entry"))
			continue;
		found++;
		cr_assert(eq(i64, tu_int(s, "allocations"), 50));
		cr_assert(tu_frame_is(tu_frame(s, 1), "use"), "frame 1 of %s's walk_entry: use",
			  tu_frame_str(tu_frame(s, 0), "module"));
		cr_assert(tu_frame_is(tu_frame(s, 2), "main"));
	}
	cr_assert(eq(int, found, 2), "one site in A, one in B");
	tu_run_free(&r);
}

/* Real programs, as Debian builds them (-O2, no frame pointers). */
static void check_real(const char *const *args, const char *what)
{
	struct tu_run r;
	json_t *m = walk_run(&r, "check", args);
	long long total = tu_int(m, "stack_walks.total"), checked = tu_int(m, "stack_walks.checked");

	cr_assert(total > 10000, "%s: %lld walks", what, total);
	cr_assert(checked * 100 >= total * 99, "%s: %lld of %lld walks ours", what, checked, total);
	cr_assert(eq(i64, tu_int(m, "stack_walks.differed"), 0), "%s: %lld checked", what, checked);
	tu_run_free(&r);
}

Test(e2e_unwind, python3_walks_as_libunwind, .timeout = 120)
{
	check_real(TU_LIST("-q", "--no-profile", "--", "/usr/bin/python3", "-c",
			   /* Blocks over 512 bytes: smaller ones are pymalloc's. */
			   "import json, re\n"
			   "rows = [{'id': i, 'text': 'w%d ' % i * (60 + i % 90), 'tags': list(range(i % 200))}\n"
			   "        for i in range(20000)]\n"
			   "s = json.dumps(rows)\n"
			   "print(len(json.loads(s)), len(re.findall(r'w[0-9]+7 ', s)))\n"),
		   "python3");
}

Test(e2e_unwind, sqlite3_walks_as_libunwind, .timeout = 120)
{
	struct tu_run r;
	static const char sql[] = "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c REAL);\n"
				  "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)\n"
				  "INSERT INTO t SELECT i, printf('row-%08d', i * 7919 % 20000), i * 0.5 FROM n;\n"
				  "CREATE INDEX tb ON t(b);\n"
				  "SELECT count(*), sum(c) FROM t WHERE b > 'row-00010000';\n"
				  "SELECT substr(b, 1, 6), count(*) FROM t GROUP BY 1 ORDER BY 2 DESC LIMIT 3;\n";
	struct tu_opts o = {.env = TU_LIST("PTRACE_UNWIND=check"), .in = sql, .in_len = sizeof(sql) - 1, .json = 1};
	struct tu_opts plain = {.in = sql, .in_len = sizeof(sql) - 1};
	struct tu_run native;
	json_t *m;
	long long total, checked;

	tu_run(&native, &plain, TU_LIST("/usr/bin/sqlite3", ":memory:"));
	cr_assert(eq(int, native.exit_code, 0), "sqlite3 alone: %s", native.err);
	tu_run(&r, &o, TU_LIST(TU_LAUNCHER, "-q", "--no-profile", "--", "sqlite3", ":memory:"));
	cr_assert(eq(int, r.exit_code, 0), "stderr: %s", r.err);
	cr_assert(eq(str, r.out, native.out), "the same output as unprofiled");
	cr_assert(strchr(native.out, '|') != NULL, "the queries ran: %s", native.out);
	tu_run_free(&native);
	m = tu_memory(r.json, 0);
	total = tu_int(m, "stack_walks.total");
	checked = tu_int(m, "stack_walks.checked");
	cr_assert(total > 10000, "%lld walks", total);
	cr_assert(checked * 100 >= total * 99, "%lld of %lld walks ours", checked, total);
	cr_assert(eq(i64, tu_int(m, "stack_walks.differed"), 0), "%lld checked", checked);
	tu_run_free(&r);
}
