/*
 * End-to-end views of a profile file (issue 9): `ptrace-run report
 * --format=...` on a saved run, each checked against the JSON report of
 * the same file, and, where one exists on this machine, opened by its
 * real consumer.
 */
#include <sys/stat.h>

#include "testutil.h"

/* A profile of prog (with extra options) in a fresh file; malloc'ed path. */
static char *profile_of(const char *prog, const char *extra)
{
	char *path = tu_tmpfile("view");
	struct tu_run r;

	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "-q", "-p", path, extra ? extra : "--cpu-hz=1000", "--", prog));
	cr_assert(eq(int, r.exit_code, 0), "%s: the run; stderr: %s", prog, r.err);
	tu_run_free(&r);
	return path;
}

/* `report --format=json` of path, parsed. */
static json_t *json_of(const char *path)
{
	struct tu_run r;
	json_error_t jerr;
	json_t *j;

	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "report", "--format=json", path));
	cr_assert(eq(int, r.exit_code, 0), "report --format=json; stderr: %s", r.err);
	j = json_loads(r.out, 0, &jerr);
	cr_assert(j != NULL, "JSON: %s", jerr.text);
	tu_run_free(&r);
	return j;
}

/* `report --format=folded --metric=m` of path: the sum of its values, each
 * line checked to be "frames VALUE"; *lines gets the line count. The text
 * goes to *out (malloc'ed) when out is not NULL. */
static unsigned long long folded_sum(const char *path, const char *metric, size_t *lines, char **out)
{
	char *m = NULL;
	struct tu_run r;
	unsigned long long sum = 0;
	size_t n = 0;

	cr_assert(asprintf(&m, "--metric=%s", metric) > 0, "asprintf");
	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "report", "--format=folded", m, path));
	cr_assert(eq(int, r.exit_code, 0), "report --format=folded %s; stderr: %s", m, r.err);
	for (char *line = r.out, *nl; *line; line = nl + 1) {
		char *sp, *end;
		unsigned long long v;

		nl = strchr(line, '\n');
		cr_assert(nl != NULL, "%s: every line ends", m);
		*nl = 0;
		sp = strrchr(line, ' ');
		cr_assert(sp && sp > line, "%s: frames, then a value: %s", m, line);
		v = strtoull(sp + 1, &end, 10);
		cr_assert(end[0] == 0 && v > 0, "%s: a positive count: %s", m, line);
		sum += v;
		n++;
		*nl = '\n';
	}
	if (lines)
		*lines = n;
	if (out)
		*out = strdup(r.out);
	tu_run_free(&r);
	free(m);
	return sum;
}

static long long tree_sum(json_t *node, const char *key)
{
	json_t *kids = json_object_get(node, "children");
	long long s = json_integer_value(json_object_get(node, key));

	for (size_t i = 0; i < json_array_size(kids); i++)
		s += tree_sum(json_array_get(kids, i), key);
	return s;
}

Test(e2e_views, folded_heap_stacks_add_up_to_the_totals)
{
	char *prof = profile_of(TU_PROG("demo_leak"), "--cpu-hz=0"), *text = NULL;
	json_t *j = json_of(prof), *p = tu_proc(j, 0);

	/* demo_leak's figures (tests/progs/demo_leak.c). */
	cr_assert(eq(u64, folded_sum(prof, "alloc_space", NULL, &text), 515), "bytes allocated");
	cr_assert(eq(i64, tu_int(p, "memory.bytes_allocated"), 515), "the JSON's");
	cr_assert(strstr(text, "main;parse_config;parse_line 169\n") != NULL, "parse_line's 169 bytes: %s", text);
	cr_assert(eq(u64, folded_sum(prof, "alloc_objects", NULL, NULL), 25), "allocations");
	cr_assert(eq(u64, folded_sum(prof, "inuse_space", NULL, NULL), 115), "bytes live at exit");
	cr_assert(eq(u64, folded_sum(prof, "inuse_objects", NULL, NULL), 7), "blocks live at exit");
	json_decref(j);
	free(text);
	unlink(prof);
	free(prof);
}

Test(e2e_views, folded_cpu_stacks_add_up_to_the_samples)
{
	char *prof = profile_of(TU_PROG("fi_cpu_shares"), NULL);
	json_t *j = json_of(prof), *stacks = tu_arr(tu_proc(j, 0), "cpu.stacks");
	long long want = 0;
	size_t lines;

	for (size_t i = 0; i < json_array_size(stacks); i++)
		want += json_integer_value(json_object_get(json_array_get(stacks, i), "count"));
	cr_assert(want > 100, "a CPU profile: %lld samples", want);
	cr_assert(eq(u64, folded_sum(prof, "cpu", &lines, NULL), (unsigned long long)want), "CPU samples");
	cr_assert(eq(sz, lines, json_array_size(stacks)), "a line per stack");
	json_decref(j);
	unlink(prof);
	free(prof);
}

Test(e2e_views, folded_call_paths_add_up_to_function_time_and_calls)
{
	char *prof = profile_of(TU_PROG("fi_fib"), NULL), *text = NULL;
	json_t *j = json_of(prof), *p = tu_proc(j, 0);

	cr_assert(eq(u64, folded_sum(prof, "func_ns", NULL, NULL),
		     (unsigned long long)tree_sum(json_object_get(p, "call_tree"), "self_ns")),
		  "self time over the call tree");
	cr_assert(eq(u64, folded_sum(prof, "func_calls", NULL, &text), 121893), "every call (fi_fib.c)");
	cr_assert(strstr(text, "main;loop;leaf 100000\n") != NULL, "leaf's 100000 calls: %s", text);
	cr_assert(strstr(text, "main;fib 1\n") != NULL, "fib's outermost call");
	json_decref(j);
	free(text);
	unlink(prof);
	free(prof);
}

/* With several processes every stack starts with its process. */
Test(e2e_views, folded_names_the_process_when_there_are_several)
{
	char *prof = profile_of(TU_PROG("fork_exec"), "--cpu-hz=0"), *text = NULL;
	json_t *j = json_of(prof);
	size_t n = json_array_size(tu_arr(j, "processes"));

	cr_assert(n >= 2, "fork_exec makes processes: %zu", n);
	folded_sum(prof, "alloc_objects", NULL, &text);
	for (char *line = text; *line; line = strchr(line, '\n') + 1)
		cr_assert(strncmp(line, "fork_exec [pid ", 15) == 0 || strstr(line, " [pid ") < strchr(line, ';'),
			  "a process first: %.80s", line);
	json_decref(j);
	free(text);
	unlink(prof);
	free(prof);
}

/* `go tool pprof ARGS... FILE`: its stdout (malloc'ed); the test fails
 * when go is not there (scripts/install-deps.sh installs golang-go, whose go is /usr/bin/go). */
static char *go_pprof(const char *const *args, const char *file)
{
	const char *argv[16] = {"/usr/bin/go", "tool", "pprof"};
	size_t n = 3;
	struct tu_run r;
	char *out;

	for (const char *const *a = args; *a && n < 14; a++)
		argv[n++] = *a;
	argv[n++] = file;
	argv[n] = NULL;
	tu_run(&r, NULL, argv);
	cr_assert(eq(int, r.exit_code, 0), "go tool pprof: rc %d; stderr: %s", r.exit_code, r.err);
	out = strdup(r.out);
	tu_run_free(&r);
	return out;
}

/* `report --format=pprof --metric=m` of prof into a new file. */
static char *pprof_of(const char *prof, const char *metric)
{
	char *out = tu_tmpfile("pprof"), *m = NULL;
	struct tu_run r;

	cr_assert(asprintf(&m, "--metric=%s", metric) > 0, "asprintf");
	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "report", "--format=pprof", m, "-o", out, prof));
	cr_assert(eq(int, r.exit_code, 0), "report --format=pprof; stderr: %s", r.err);
	tu_run_free(&r);
	free(m);
	return out;
}

/* The sums of each value column of `go tool pprof -raw` (up to 4). */
static void raw_sums(const char *raw, long long sums[4], int *ncols)
{
	const char *p = strstr(raw, "Samples:\n");

	memset(sums, 0, 4 * sizeof(sums[0]));
	cr_assert(p != NULL, "-raw has samples: %s", raw);
	p = strchr(p + 9, '\n') + 1; /* the column names */
	*ncols = 0;
	for (; *p == ' '; p = strchr(p, '\n') + 1) {
		const char *colon = strchr(p, ':');
		char *end;
		int c = 0;

		for (const char *q = p; q < colon && c < 4; q = end, c++) {
			long long v = strtoll(q, &end, 10);
			if (end == q)
				break;
			sums[c] += v;
		}
		*ncols = c;
	}
}

Test(e2e_views, pprof_heap_profile_opens_in_go_tool_pprof)
{
	char *prof = profile_of(TU_PROG("demo_leak"), "--cpu-hz=0"), *pb = pprof_of(prof, "alloc_space"), *raw, *top;
	long long sums[4];
	int ncols;

	raw = go_pprof(TU_LIST("-raw"), pb);
	cr_assert(strstr(raw, "alloc_objects/count alloc_space/bytes[dflt] inuse_objects/count inuse_space/bytes") !=
			  NULL,
		  "Go's heap sample types, alloc_space the default: %s", raw);
	raw_sums(raw, sums, &ncols);
	cr_assert(eq(int, ncols, 4), "four values per sample");
	cr_assert(eq(i64, sums[0], 25), "allocations");
	cr_assert(eq(i64, sums[1], 515), "bytes");
	cr_assert(eq(i64, sums[2], 7), "live blocks");
	cr_assert(eq(i64, sums[3], 115), "live bytes");
	top = go_pprof(TU_LIST("-top", "-nodefraction=0", "-sample_index=inuse_space"), pb);
	cr_assert(strstr(top, "115B   100%       115B   100%  parse_line\n") != NULL ||
			  strstr(top, "115B   100%   100%       115B   100%  parse_line\n") != NULL,
		  "the leak is parse_line's: %s", top);
	free(raw);
	free(top);
	unlink(pb);
	unlink(prof);
	free(pb);
	free(prof);
}

Test(e2e_views, pprof_cpu_profile_has_the_reports_function_samples)
{
	char *prof = profile_of(TU_PROG("fi_cpu_shares"), NULL), *pb = pprof_of(prof, "cpu"), *top;
	json_t *j = json_of(prof), *fns = tu_arr(tu_proc(j, 0), "cpu.functions");
	size_t checked = 0;

	top = go_pprof(TU_LIST("-top", "-nodefraction=0", "-nodecount=100000", "-sample_index=samples"), pb);
	/* The first mapping is the program's, with its GNU build id. */
	{
		const char *b = strstr(top, "File: fi_cpu_shares\nBuild ID: ");
		size_t hex = 0;

		cr_assert(b != NULL, "the program is the profile's file: %.300s", top);
		for (b += strlen("File: fi_cpu_shares\nBuild ID: "); (*b >= '0' && *b <= '9') || (*b >= 'a' && *b <= 'f'); b++)
			hex++;
		cr_assert(eq(sz, hex, 40), "a 160-bit build id");
	}
	for (size_t i = 0; i < json_array_size(fns); i++) {
		json_t *fn = json_array_get(fns, i);
		const char *name = json_string_value(json_object_get(fn, "name"));
		long long self = json_integer_value(json_object_get(fn, "self_samples"));
		char *want = NULL;

		if (!name || !self)
			continue;
		/* "  flat flat%   sum%   cum cum%  name": flat first. */
		cr_assert(asprintf(&want, "%lld ", self) > 0, "asprintf");
		for (char *line = top; *line; line = strchr(line, '\n') + 1) {
			char *nl = strchr(line, '\n'), *nm;

			if (!nl)
				break;
			*nl = 0;
			nm = strstr(line, "%  ");
			if (nm && !strcmp(strrchr(line, '%') + 3, name)) {
				long long flat = strtoll(line, NULL, 10);

				cr_assert(eq(i64, flat, self), "%s: pprof's flat samples are the report's", name);
				checked++;
			}
			*nl = '\n';
		}
		free(want);
	}
	cr_assert(checked >= 3, "burn_60, burn_30 and burn_10 at least: %zu functions checked; %s", checked, top);
	json_decref(j);
	free(top);
	unlink(pb);
	unlink(prof);
	free(pb);
	free(prof);
}

Test(e2e_views, pprof_function_timing_has_every_call)
{
	char *prof = profile_of(TU_PROG("fi_fib"), NULL), *pb = pprof_of(prof, "func_calls"), *raw;
	json_t *j = json_of(prof), *p = tu_proc(j, 0);
	long long sums[4];
	int ncols;

	raw = go_pprof(TU_LIST("-raw"), pb);
	raw_sums(raw, sums, &ncols);
	cr_assert(eq(int, ncols, 2), "calls and wall time");
	cr_assert(eq(i64, sums[0], 121893), "every call (fi_fib.c)");
	cr_assert(eq(i64, sums[1], tree_sum(json_object_get(p, "call_tree"), "self_ns")), "self time of every path");
	json_decref(j);
	free(raw);
	unlink(pb);
	unlink(prof);
	free(pb);
	free(prof);
}

/* A number as callgrind_annotate prints it ("108,451"). */
static long long commas(const char *s)
{
	long long v = 0;

	while (*s == ' ')
		s++;
	for (; (*s >= '0' && *s <= '9') || *s == ','; s++)
		if (*s != ',')
			v = v * 10 + (*s - '0');
	return v;
}

Test(e2e_views, callgrind_file_opens_in_callgrind_annotate)
{
	char *prof = profile_of(TU_PROG("fi_fib"), NULL), *cg = tu_tmpfile("callgrind");
	json_t *j = json_of(prof), *fns = tu_arr(tu_proc(j, 0), "functions");
	struct tu_run r, a;
	long long total = 0;
	const char *t;

	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "report", "--format=callgrind", "-o", cg, prof));
	cr_assert(eq(int, r.exit_code, 0), "report --format=callgrind; stderr: %s", r.err);
	tu_run(&a, NULL, TU_LIST("/usr/bin/callgrind_annotate", "--threshold=100", cg));
	cr_assert(eq(int, a.exit_code, 0), "callgrind_annotate (valgrind): rc %d; stderr: %s", a.exit_code, a.err);
	cr_assert(strstr(a.err, "WARNING") == NULL && strstr(a.out, "WARNING") == NULL, "no malformed line: %s",
		  a.out);
	for (size_t i = 0; i < json_array_size(fns); i++) {
		json_t *fn = json_array_get(fns, i);
		long long self = json_integer_value(json_object_get(fn, "self_ns"));
		const char *name = json_string_value(json_object_get(fn, "name"));
		char *key = NULL, *line;

		total += self;
		if (!self)
			continue;
		cr_assert(asprintf(&key, "tests/progs/fi_fib.c:%s\n", name) > 0, "asprintf");
		line = strstr(a.out, key);
		cr_assert(line != NULL, "%s is listed: %s", name, a.out);
		while (line > a.out && line[-1] != '\n')
			line--;
		cr_assert(eq(i64, commas(line), self), "%s: its self time", name);
		free(key);
	}
	t = strstr(a.out, "PROGRAM TOTALS");
	cr_assert(t != NULL, "totals: %s", a.out);
	while (t > a.out && t[-1] != '\n')
		t--;
	cr_assert(eq(i64, commas(t), total), "the total is the report's self time");
	json_decref(j);
	tu_run_free(&r);
	tu_run_free(&a);
	unlink(cg);
	unlink(prof);
	free(cg);
	free(prof);
}

/* RFC 4180 rows of text: rows[i][j] (malloc'ed), *nrows, fields per row
 * in ncols[i]. */
static char ***csv_parse(const char *text, size_t *nrows, size_t **ncols)
{
	char ***rows = NULL;
	size_t n = 0;

	*ncols = NULL;
	for (const char *p = text; *p;) {
		char **fields = NULL;
		size_t nf = 0;

		for (;;) {
			char *buf = malloc(strlen(p) + 1);
			size_t k = 0;

			if (*p == '"') {
				for (p++; *p && !(*p == '"' && p[1] != '"'); p++) {
					if (*p == '"')
						p++;
					buf[k++] = *p;
				}
				cr_assert(p[0] == '"', "CSV: a quoted field ends");
				p++;
			} else {
				while (*p && *p != ',' && *p != '\n')
					buf[k++] = *p++;
			}
			buf[k] = 0;
			fields = realloc(fields, (nf + 1) * sizeof(*fields));
			fields[nf++] = buf;
			if (*p == ',') {
				p++;
				continue;
			}
			cr_assert(p[0] == '\n', "CSV: a row ends with a newline");
			p++;
			break;
		}
		rows = realloc(rows, (n + 1) * sizeof(*rows));
		*ncols = realloc(*ncols, (n + 1) * sizeof(**ncols));
		rows[n] = fields;
		(*ncols)[n++] = nf;
	}
	*nrows = n;
	return rows;
}

static long long num(const char *s)
{
	return strtoll(s, NULL, 10);
}

/* One process's rows of kind in the CSV, checked against JSON array arr:
 * the same count, in the same order, with the same figures. */
static void csv_vs_json(char ***rows, size_t nrows, const char *kind, json_t *arr, const int *cols,
			const char *const *keys, size_t nkeys)
{
	size_t k = 0;

	for (size_t i = 1; i < nrows; i++) {
		json_t *o;

		if (strcmp(rows[i][0], kind))
			continue;
		cr_assert(k < json_array_size(arr), "%s: no more rows than the JSON has", kind);
		o = json_array_get(arr, k++);
		for (size_t c = 0; c < nkeys; c++) {
			json_t *v = json_object_get(o, keys[c]);

			if (json_is_string(v))
				cr_assert(eq(str, rows[i][cols[c]], (char *)json_string_value(v)), "%s row %zu: %s", kind, k,
					  keys[c]);
			else
				cr_assert(eq(i64, num(rows[i][cols[c]]), json_integer_value(v)), "%s row %zu: %s", kind, k,
					  keys[c]);
		}
	}
	cr_assert(eq(sz, k, json_array_size(arr)), "%s: a row per JSON entry", kind);
}

static void csv_check(const char *prog, const char *extra)
{
	char *prof = profile_of(prog, extra);
	json_t *j = json_of(prof), *p = tu_proc(j, 0);
	struct tu_run r;
	size_t nrows, *ncols;
	char ***rows;
	static const int fcols[] = {2, 6, 7, 8, 9, 12, 16, 17};
	static const char *const fkeys[] = {"name",   "calls",  "recursive_calls", "total_ns",
					    "self_ns", "p95_ns", "allocations",     "alloc_bytes"};
	static const int scols[] = {16, 17, 20, 22, 23, 24};
	static const char *const skeys[] = {"allocations", "bytes", "frees", "temporary", "live_blocks", "live_bytes"};
	static const int ccols[] = {25, 26};
	static const char *const ckeys[] = {"self_samples", "total_samples"};

	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "report", "--format=csv", prof));
	cr_assert(eq(int, r.exit_code, 0), "report --format=csv; stderr: %s", r.err);
	rows = csv_parse(r.out, &nrows, &ncols);
	cr_assert(nrows >= 2, "a header and rows");
	cr_assert(eq(str, rows[0][0], "kind"), "the header");
	for (size_t i = 0; i < nrows; i++)
		cr_assert(eq(sz, ncols[i], 28), "row %zu has every column", i);
	csv_vs_json(rows, nrows, "function", json_object_get(p, "functions") ?: json_array(), fcols, fkeys, 8);
	csv_vs_json(rows, nrows, "site", tu_arr(p, "memory.sites"), scols, skeys, 6);
	csv_vs_json(rows, nrows, "cpu_function", tu_arr(p, "cpu.functions"), ccols, ckeys, 2);
	for (size_t i = 0; i < nrows; i++) {
		for (size_t c = 0; c < ncols[i]; c++)
			free(rows[i][c]);
		free(rows[i]);
	}
	free(rows);
	free(ncols);
	json_decref(j);
	tu_run_free(&r);
	unlink(prof);
	free(prof);
}

Test(e2e_views, csv_rows_are_the_jsons_heap_sites) { csv_check(TU_PROG("demo_leak"), "--cpu-hz=0"); }
Test(e2e_views, csv_rows_are_the_jsons_functions_and_cpu) { csv_check(TU_PROG("fi_cpu_shares"), NULL); }

/* Headless Chromium (Debian's chromium) on page: the DOM after its script
 * ran (malloc'ed); a screenshot goes to build/test-artifacts/NAME.png. */
static char *chromium_dom(const char *page, const char *name)
{
	char *url = NULL, *shot = NULL, *prof_dir = tu_tmpfile("chromium"), *dom;
	char *udd = NULL;
	struct tu_run r, s;
	struct stat st;

	unlink(prof_dir);
	cr_assert(mkdir(prof_dir, 0700) == 0, "mkdir %s", prof_dir);
	cr_assert(asprintf(&url, "file://%s", page) > 0 && asprintf(&udd, "--user-data-dir=%s", prof_dir) > 0,
		  "asprintf");
	tu_run(&r, NULL,
	       TU_LIST("/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", udd,
		       "--dump-dom", url));
	cr_assert(eq(int, r.exit_code, 0), "chromium --dump-dom: rc %d; stderr: %.2000s", r.exit_code, r.err);
	mkdir("build/test-artifacts", 0755);
	cr_assert(asprintf(&shot, "--screenshot=build/test-artifacts/%s.png", name) > 0, "asprintf");
	tu_run(&s, NULL,
	       TU_LIST("/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", udd,
		       "--hide-scrollbars", "--window-size=1280,800", shot, url));
	cr_assert(eq(int, s.exit_code, 0), "chromium --screenshot: rc %d", s.exit_code);
	cr_assert(stat(shot + strlen("--screenshot="), &st) == 0 && st.st_size > 1000, "the screenshot %s",
		  shot + 13);
	dom = strdup(r.out);
	tu_run_free(&r);
	tu_run_free(&s);
	tu_run(&s, NULL, TU_LIST("/bin/rm", "-rf", prof_dir));
	tu_run_free(&s);
	free(url);
	free(udd);
	free(shot);
	free(prof_dir);
	return dom;
}

/* The DOM of panel id (its div, up to the next panel). */
static char *panel_of(const char *dom, const char *id)
{
	char *key = NULL, *start, *end, *out;

	cr_assert(asprintf(&key, "id=\"panel-%s\"", id) > 0, "asprintf");
	start = strstr(dom, key);
	cr_assert(start != NULL, "the page has a %s panel", id);
	end = strstr(start + 1, "<div class=\"panel");
	out = strndup(start, end ? (size_t)(end - start) : strlen(start));
	free(key);
	return out;
}

/* `report --format=html` of prof into a file; its text in *text. */
static char *html_of(const char *prof, char **text)
{
	char *page = strdup("/tmp/ptrace-e2e-html-XXXXXX.html");
	struct tu_run r;
	int fd = mkstemps(page, 5);

	/* .html: Chromium takes a file:// page's type from its name. */
	cr_assert(fd >= 0, "mkstemps: %s", strerror(errno));
	close(fd);

	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "report", "--format=html", "-o", page, prof));
	cr_assert(eq(int, r.exit_code, 0), "report --format=html; stderr: %s", r.err);
	tu_run_free(&r);
	*text = tu_read_file(page, NULL);
	cr_assert(text[0] != NULL, "the page");
	/* Self-contained: nothing it could fetch. */
	cr_assert(strstr(*text, "http://") == NULL && strstr(*text, "https://") == NULL && strstr(*text, " src=") == NULL,
		  "no URL, no external script");
	return page;
}

/* The end of an HTML test: its profile and page removed, their texts freed. */
static void page_done(char *prof, char *page, char *text, char *dom)
{
	free(dom);
	free(text);
	unlink(page);
	unlink(prof);
	free(page);
	free(prof);
}

static void has_frame(const char *panel, const char *fn, const char *what)
{
	char *key = NULL;

	cr_assert(asprintf(&key, "class=\"fg-frame\" data-name=\"%s\"", fn) > 0, "asprintf");
	cr_assert(strstr(panel, key) != NULL, "%s: a frame of %s", what, fn);
	free(key);
}

Test(e2e_views, html_page_draws_cpu_and_function_flame_graphs_in_chromium, .timeout = 90)
{
	char *prof = profile_of(TU_PROG("fi_cpu_shares"), NULL), *text, *page = html_of(prof, &text);
	char *dom = chromium_dom(page, "html-cpu"), *cpu = panel_of(dom, "cpu"), *fn = panel_of(dom, "func_ns");

	for (size_t i = 0; i < 3; i++) {
		static const char *const burners[] = {"burn_60", "burn_30", "burn_10"};

		has_frame(cpu, burners[i], "CPU flame graph");
		has_frame(fn, burners[i], "function time flame graph");
	}
	cr_assert(strstr(dom, "id=\"panel-functions\"") && strstr(dom, "id=\"panel-calltree\""),
		  "the functions table and the call tree");
	free(cpu);
	cpu = panel_of(dom, "functions");
	cr_assert(strstr(cpu, "<td class=\"name\">burn_60</td>") != NULL, "burn_60 has a row in the functions table");
	free(cpu);
	free(fn);
	page_done(prof, page, text, dom);
}

Test(e2e_views, html_page_draws_heap_and_leak_flame_graphs_in_chromium, .timeout = 90)
{
	char *prof = profile_of(TU_PROG("demo_leak"), "--cpu-hz=0"), *text, *page = html_of(prof, &text);
	char *dom = chromium_dom(page, "html-heap"), *bytes = panel_of(dom, "alloc_space"),
	     *count = panel_of(dom, "alloc_objects"), *leak = panel_of(dom, "inuse_space");

	has_frame(bytes, "parse_line", "heap bytes");
	has_frame(bytes, "dup_range", "heap bytes");
	has_frame(count, "dup_range", "heap allocations");
	has_frame(leak, "parse_line", "leaked bytes");
	cr_assert(strstr(leak, "data-name=\"dup_range\"") == NULL, "dup_range leaks nothing");
	cr_assert(strstr(dom, "id=\"panel-sites\"") != NULL, "the sites table");
	free(bytes);
	free(count);
	free(leak);
	page_done(prof, page, text, dom);
}

/* Each thread's CPU flame graph: the page's data has one per thread,
 * holding that thread's samples (those with a stack), and a selector. */
Test(e2e_views, html_page_has_a_cpu_flame_graph_per_thread, .timeout = 90)
{
	char *prof = profile_of(TU_PROG("cpu_threads"), NULL), *text, *page = html_of(prof, &text), *dom;
	json_t *j = json_of(prof), *p = tu_proc(j, 0), *threads = tu_arr(p, "cpu.threads"), *data, *tc;
	const char *start = strstr(text, "<script id=\"data\" type=\"application/json\">\n"), *end;
	long long nostack = tu_int(p, "cpu.no_stack_samples");
	json_error_t jerr;

	cr_assert(start != NULL, "the data block");
	start += strlen("<script id=\"data\" type=\"application/json\">\n");
	end = strstr(start, "</script>");
	data = json_loadb(start, (size_t)(end - start), 0, &jerr);
	cr_assert(data != NULL, "the page's data: %s", jerr.text);
	tc = json_object_get(json_array_get(json_object_get(data, "procs"), 0), "thread_cpu");
	cr_assert(eq(sz, json_array_size(tc), 2), "burn-2x and burn-1x");
	for (size_t i = 0; i < json_array_size(threads); i++) {
		json_t *t = json_array_get(threads, i), *g = NULL;
		long long samples = tu_int(t, "samples"), v;

		for (size_t k = 0; k < json_array_size(tc); k++)
			if (json_integer_value(json_object_get(json_array_get(tc, k), "tid")) == tu_int(t, "tid"))
				g = json_object_get(json_array_get(tc, k), "tree");
		cr_assert(g != NULL, "thread %s has a graph", tu_str(t, "name"));
		v = json_integer_value(json_object_get(g, "v"));
		cr_assert(v <= samples && v >= samples - nostack, "%s: %lld of its %lld samples (%lld without a stack)",
			  tu_str(t, "name"), v, samples, nostack);
	}
	dom = chromium_dom(page, "html-threads");
	cr_assert(strstr(dom, "<select class=\"fg-thread\">") != NULL, "a thread selector");
	cr_assert(strstr(dom, ">burn-2x [tid ") != NULL && strstr(dom, ">burn-1x [tid ") != NULL, "both threads in it");
	json_decref(data);
	json_decref(j);
	page_done(prof, page, text, dom);
}

/* A command line with "<!--<script>" (or any '<') cannot end the page's
 * data block early: the page still draws. */
Test(e2e_views, html_page_survives_markup_in_the_command, .timeout = 90)
{
	char *prof = tu_tmpfile("viewmarkup"), *text, *page, *dom;
	struct tu_run r;

	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "-q", "--cpu-hz=0", "-p", prof, "--", TU_PROG("demo_leak"), "<!--<script>"));
	cr_assert(eq(int, r.exit_code, 0), "the run; stderr: %s", r.err);
	page = html_of(prof, &text);
	cr_assert(strstr(text, "<!--<script>") == NULL, "no raw markup from the data in the page");
	dom = chromium_dom(page, "html-markup");
	cr_assert(strstr(dom, "class=\"fg-frame\" data-name=\"parse_line\"") != NULL, "the flame graph is drawn");
	cr_assert(strstr(dom, "&lt;!--&lt;script&gt;") != NULL, "the command shown as text");
	tu_run_free(&r);
	page_done(prof, page, text, dom);
}

/* The DOM of the page at url fragment frag (the page honours #panel=ID
 * and #range=A-B, seconds: --dump-dom cannot drag), its screenshot as
 * NAME.png. */
static char *chromium_dom_at(const char *page, const char *frag, const char *name)
{
	char *url = NULL, *dom;

	cr_assert(asprintf(&url, "%s#%s", page, frag) > 0, "asprintf");
	dom = chromium_dom(url, name);
	free(url);
	return dom;
}

/* The flame graph frame of fn, hovered: "fn\nVALUE (100.00% of all)". */
static void has_frame_of(const char *panel, const char *fn, const char *value, const char *what)
{
	char *key = NULL;

	cr_assert(asprintf(&key, "class=\"fg-frame\" data-name=\"%s\" title=\"%s\n%s (", fn, fn, value) > 0,
		  "asprintf");
	cr_assert(strstr(panel, key) != NULL, "%s: %s with %s", what, fn, value);
	free(key);
}

static void has_text(const char *dom, const char *text, const char *what)
{
	cr_assert(strstr(dom, text) != NULL, "%s: %s", what, text);
}

/*
 * The heap over time (issue 10) of time_steps (10 MiB from ten_mib, none,
 * 30 MiB from thirty_mib, 10 MiB, 300 ms each): a chart with a point per
 * read that tops at the peak, and under it the flame graph of the peak's
 * sites; #range=0.05-0.25 (inside the first step: thirty_mib allocates
 * after 0.6 s at the earliest) shows ten_mib's 10 MiB instead.
 */
Test(e2e_views, html_page_charts_the_heap_over_time_in_chromium, .timeout = 120)
{
	char *prof = profile_of(TU_PROG("time_steps"), "--interval=10ms"), *text, *page = html_of(prof, &text);
	json_t *j = json_of(prof), *p = tu_proc(j, 0);
	char *dom = chromium_dom_at(page, "panel=time", "html-time"), *panel = panel_of(dom, "time"), *want = NULL;
	size_t n = json_array_size(tu_arr(p, "time.points"));

	cr_assert(n > 60, "1.2 s read every 10 ms: %zu reads", n);
	cr_assert(eq(i64, tu_int(p, "memory.peak_bytes"), 30 * 1024 * 1024), "the peak");
	has_text(dom, "<button data-panel=\"time\" class=\"active\">Heap over time</button>", "#panel=time opens it");
	cr_assert(asprintf(&want, " data-points=\"%zu\" ", n) > 0, "asprintf");
	has_text(panel, "<svg class=\"tm-chart\" ", "the chart");
	has_text(panel, want, "a point per read");
	has_text(panel, " data-live-max=\"30.0 MiB\" ", "the chart's highest");
	has_text(panel, ">peak 30.0 MiB at ", "the peak's marker");
	cr_assert(strstr(panel, "class=\"tm-band\"") != NULL && strstr(panel, "class=\"tm-rss\"") != NULL,
		  "the layers' bands and RSS");
	has_text(panel, " data-shown=\"peak\"", "no range: the peak");
	has_text(panel, ">at the peak, read at ", "says what it shows");
	has_frame_of(panel, "thirty_mib", "30.0 MiB", "the peak's sites");
	cr_assert(strstr(panel, "data-name=\"ten_mib\"") == NULL, "ten_mib's block was freed before the peak");
	free(panel);
	free(dom);

	dom = chromium_dom_at(page, "range=0.05-0.25", "html-time-range");
	panel = panel_of(dom, "time");
	has_text(panel, " data-range=\"0.05-0.25\"", "the fragment's range");
	has_text(panel, ">live from 0.05 s to 0.25 s (the top sites of each read", "says what it shows");
	has_frame_of(panel, "ten_mib", "10.0 MiB", "the first step");
	cr_assert(strstr(panel, "data-name=\"thirty_mib\"") == NULL, "nothing of thirty_mib in the first step");
	free(panel);
	free(want);
	json_decref(j);
	page_done(prof, page, text, dom);
}

/* A run without figures over time says so where the chart would be. */
Test(e2e_views, html_page_without_figures_over_time_says_why, .timeout = 90)
{
	char *prof = profile_of(TU_PROG("demo_leak"), "--interval=0"), *text, *page = html_of(prof, &text);
	char *dom = chromium_dom_at(page, "panel=time", "html-no-time"), *panel = panel_of(dom, "time");

	has_text(panel, ">no figures over time: the run had --interval=0<", "the reason");
	cr_assert(strstr(panel, "tm-chart") == NULL, "no chart");
	has_frame(dom, "parse_line", "the other flame graphs are drawn");
	free(panel);
	page_done(prof, page, text, dom);
}

/* A box of the timeline (a <rect class="tl-box ..."> of the page). */
struct tl_box {
	char name[64], meta[128];
	int tid, depth, region;
	double start_us, dur_us;
};

/* The value of attribute name in the tag starting at tag (up to its '>');
 * 0 when it has none. */
static int tag_attr(const char *tag, const char *name, char *out, size_t len)
{
	const char *end = strchr(tag, '>'), *a;
	char *key = NULL;
	size_t n;

	cr_assert(end != NULL && asprintf(&key, " %s=\"", name) > 0, "a tag, asprintf");
	a = strstr(tag, key);
	if (!a || a > end) {
		free(key);
		return 0;
	}
	a += strlen(key);
	n = strcspn(a, "\"");
	cr_assert(n < len, "%s: a short value", name);
	memcpy(out, a, n);
	out[n] = 0;
	free(key);
	return 1;
}

/* The timeline's boxes in panel, into box[cap]; their count. */
static size_t tl_boxes(const char *panel, struct tl_box *box, size_t cap)
{
	size_t n = 0;
	char v[64];

	for (const char *t = strstr(panel, "<rect class=\"tl-box"); t; t = strstr(t + 1, "<rect class=\"tl-box")) {
		struct tl_box *b = &box[n];

		cr_assert(n < cap, "at most %zu boxes", cap);
		memset(b, 0, sizeof(*b));
		b->region = !strncmp(t, "<rect class=\"tl-box tl-region\"", 30);
		cr_assert(tag_attr(t, "data-name", b->name, sizeof(b->name)), "a box has data-name");
		cr_assert(tag_attr(t, "data-tid", v, sizeof(v)), "a box has data-tid");
		b->tid = atoi(v);
		cr_assert(tag_attr(t, "data-depth", v, sizeof(v)), "a box has data-depth");
		b->depth = atoi(v);
		cr_assert(tag_attr(t, "data-start-us", v, sizeof(v)), "a box has data-start-us");
		b->start_us = strtod(v, NULL);
		cr_assert(tag_attr(t, "data-dur-us", v, sizeof(v)), "a box has data-dur-us");
		b->dur_us = strtod(v, NULL);
		tag_attr(t, "data-meta", b->meta, sizeof(b->meta));
		n++;
	}
	return n;
}

/* The boxes named name: their count, their indices in idx[cap]. */
static size_t tl_named(const struct tl_box *box, size_t n, const char *name, size_t *idx, size_t cap)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (!strcmp(box[i].name, name)) {
			if (k < cap)
				idx[k] = i;
			k++;
		}
	return k;
}

/* A profile of prog with the launcher's defaults (extra: one more option,
 * or NULL), in a fresh file. */
static char *profile_plain(const char *prog, const char *extra)
{
	char *path = tu_tmpfile("view");
	struct tu_run r;

	if (extra)
		tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "-q", "-p", path, extra, "--", prog));
	else
		tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "-q", "-p", path, "--", prog));
	cr_assert(eq(int, r.exit_code, 0), "%s: the run; stderr: %s", prog, r.err);
	tu_run_free(&r);
	return path;
}

/*
 * The timeline (issue 10) of fi_timeline: threads 1..3 each run worker,
 * which calls nap(k), sleeping k ms; main's nap(0) is under the 100 us
 * default. #panel=timeline opens it: main, three workers and three naps,
 * each nap under its worker on a lane of its own; sorted, the i-th nap
 * lasts at least i ms (a sleep never returns early) and at most 20 ms
 * more (scheduling on a busy 2-CPU machine).
 */
Test(e2e_views, html_page_draws_the_timeline_in_chromium, .timeout = 120)
{
	char *prof = profile_plain(TU_PROG("fi_timeline"), NULL), *text, *page = html_of(prof, &text);
	char *dom = chromium_dom_at(page, "panel=timeline", "html-timeline"), *panel = panel_of(dom, "timeline");
	struct tl_box box[32];
	size_t n = tl_boxes(panel, box, 32), nap[8], wk[8], mn[8];
	double dur[3];

	has_text(dom, "<button data-panel=\"timeline\" class=\"active\">Timeline</button>", "#panel=timeline opens it");
	has_text(panel, "<svg class=\"tl-chart\" ", "the chart");
	has_text(panel, " data-calls=\"7\" ", "main, 3 workers, 3 naps");
	has_text(panel, " data-lanes=\"4\" ", "a lane per thread");
	has_text(panel, " data-drawn=\"7\" ", "every call drawn");
	has_text(panel, " data-dropped=\"0\" ", "none dropped");
	has_text(panel, ">7 calls of at least 100 \u00b5s<", "the threshold");
	cr_assert(eq(sz, n, 7), "a box per call");
	cr_assert(eq(sz, tl_named(box, n, "nap", nap, 8), 3), "three naps of 100 us or more");
	cr_assert(eq(sz, tl_named(box, n, "worker", wk, 8), 3), "three workers");
	cr_assert(eq(sz, tl_named(box, n, "main", mn, 8), 1), "main");
	cr_assert(eq(int, box[mn[0]].depth, 0), "main is at the top of its lane");
	for (size_t i = 0; i < 3; i++) {
		const struct tl_box *b = &box[nap[i]];
		char *lane = NULL;
		int under = 0;

		cr_assert(eq(int, b->depth, 1), "nap #%zu is one below the top", i);
		cr_assert(b->tid != box[mn[0]].tid, "nap #%zu is not on main's thread", i);
		for (size_t k = 0; k < i; k++)
			cr_assert(b->tid != box[nap[k]].tid, "naps #%zu and #%zu are on distinct threads", k, i);
		cr_assert(asprintf(&lane, "<g class=\"tl-lane\" data-tid=\"%d\">", b->tid) > 0, "asprintf");
		has_text(panel, lane, "the nap's thread has a lane");
		for (size_t k = 0; k < 3; k++) {
			const struct tl_box *w = &box[wk[k]];

			under += w->tid == b->tid && w->depth == 0 && w->start_us <= b->start_us &&
				 w->start_us + w->dur_us >= b->start_us + b->dur_us;
		}
		cr_assert(eq(int, under, 1), "nap #%zu is under its thread's worker", i);
		dur[i] = b->dur_us;
		free(lane);
	}
	tu_check_naps(dur);
	free(panel);
	page_done(prof, page, text, dom);
}

/* Regions in the timeline: outlined, with their metadata on the box;
 * #trange=A-B (seconds) zooms into the second request alone. */
Test(e2e_views, html_timeline_shows_regions_and_their_metadata, .timeout = 120)
{
	char *prof = profile_plain(TU_PROG("api_regions"), NULL), *text, *page = html_of(prof, &text);
	char *dom = chromium_dom_at(page, "panel=timeline", "html-timeline-regions"), *panel = panel_of(dom, "timeline");
	char *frag = NULL, view[64];
	struct tl_box box[32];
	size_t n = tl_boxes(panel, box, 32), req[8], idx[8];
	double a, b;

	cr_assert(eq(sz, n, 9), "three requests, each with parse and store");
	cr_assert(eq(sz, tl_named(box, n, "request", req, 8), 3), "three requests");
	cr_assert(eq(sz, tl_named(box, n, "parse", idx, 8), 3), "three parses");
	cr_assert(eq(sz, tl_named(box, n, "store", idx, 8), 3), "three stores");
	for (size_t i = 0; i < n; i++) {
		cr_assert(box[i].region, "%s is a region", box[i].name);
		cr_assert(eq(int, box[i].depth, strcmp(box[i].name, "request") ? 1 : 0), "%s's depth", box[i].name);
		if (strcmp(box[i].name, "request"))
			cr_assert(eq(str, box[i].meta, ""), "%s has no metadata", box[i].name);
	}
	for (size_t i = 0; i < 3; i++) {
		char want[64];

		snprintf(want, sizeof(want), "user_id=%zu action=create", 100 + i);
		cr_assert(eq(str, box[req[i]].meta, want), "request #%zu's metadata", i);
	}
	has_text(panel, ">[request]</text>", "a region's label");
	/* Inside the second request, 100 us from each end: the first ends
	 * and the third starts outside (the calls between are instant). */
	a = (box[req[1]].start_us + 100) / 1e6;
	b = (box[req[1]].start_us + box[req[1]].dur_us - 100) / 1e6;
	cr_assert(asprintf(&frag, "trange=%.6f-%.6f", a, b) > 0, "asprintf");
	free(panel);
	free(dom);
	dom = chromium_dom_at(page, frag, "html-timeline-range");
	panel = panel_of(dom, "timeline");
	has_text(dom, "<button data-panel=\"timeline\" class=\"active\">Timeline</button>", "#trange opens it");
	cr_assert(tag_attr(strstr(panel, "<svg class=\"tl-chart\""), "data-view", view, sizeof(view)), "the view");
	cr_assert(fabs(strtod(view, NULL) - a) < 1e-6 && fabs(strtod(strchr(view, '-') + 1, NULL) - b) < 1e-6,
		  "the fragment's range: %s", view);
	n = tl_boxes(panel, box, 32);
	cr_assert(eq(sz, n, 3), "the second request, its parse and its store");
	cr_assert(eq(sz, tl_named(box, n, "request", req, 8), 1), "one request");
	cr_assert(eq(str, box[req[0]].meta, "user_id=101 action=create"), "the second");
	has_text(panel, " data-drawn=\"3\" ", "three drawn");
	free(frag);
	free(panel);
	page_done(prof, page, text, dom);
}

/* A process without a timeline says why. */
Test(e2e_views, html_page_without_a_timeline_says_why, .timeout = 120)
{
	char *prof = profile_plain(TU_PROG("fi_timeline"), "--timeline=0"), *text, *page = html_of(prof, &text);
	char *dom = chromium_dom_at(page, "panel=timeline", "html-no-timeline"), *panel = panel_of(dom, "timeline");

	has_text(panel, ">no timeline: the run had --timeline=0<", "--timeline=0");
	cr_assert(strstr(panel, "tl-chart") == NULL, "no chart");
	free(panel);
	page_done(prof, page, text, dom);

	prof = profile_of(TU_PROG("demo_leak"), "--cpu-hz=0");
	page = html_of(prof, &text);
	dom = chromium_dom_at(page, "panel=timeline", "html-no-timeline-calls");
	panel = panel_of(dom, "timeline");
	has_text(panel, ">no timeline: no instrumented function or region ran<", "nothing instrumented");
	cr_assert(strstr(panel, "tl-chart") == NULL, "no chart");
	has_frame(dom, "parse_line", "the other views are drawn");
	free(panel);
	page_done(prof, page, text, dom);
}
