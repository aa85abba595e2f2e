/*
 * ptrace-run report: read a profile file, build the report model from it
 * exactly as the run's own report was built (the same image, the symbols
 * the run resolved, the same launcher facts), then render one format.
 */
#include "report_cmd.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "output.h"
#include "profile.h"
#include "suppress.h"
#include "render.h"
#include "report.h"
#include "summary.h"
#include "view.h"

static int view_json(const struct report *r, FILE *f, const struct view_opts *o)
{
	(void)o;
	return render_json(r, f);
}

/* Every format but text (which starts as a summary for many processes):
 * a new exporter is one file and one line here. */
static const struct {
	const char *name;
	int (*render)(const struct report *, FILE *, const struct view_opts *);
} formats[] = {
	{"text", NULL},
	{"json", view_json},
	{"csv", render_csv},
	{"folded", render_folded},
	{"pprof", render_pprof},
	{"callgrind", render_callgrind},
	{"massif", render_massif},
	{"chrome", render_chrome},
	{"html", render_html},
};

#define NFORMATS (sizeof(formats) / sizeof(formats[0]))
#define FORMAT_LIST "text, json, csv, folded, pprof, callgrind, massif, chrome or html"

struct report_opts {
	const char *file, *output, *filter, *exclude;
	size_t format;          /* index into formats */
	struct view_opts view;
	unsigned mode;
	int help, all;
	int pids[64];           /* --pid, repeatable or comma-separated */
	size_t npids;
	const char *exe;        /* --exe: a process's executable, full path or base name */
	unsigned snapshot;      /* --snapshot=N; 0: the run's end */
	const char *suppressions; /* --suppressions=FILE */
	int no_builtin;         /* --builtin-suppressions=0 */
	char debug_dirs[OPTIONS_DEBUG_DIRS_MAX]; /* --debug-dir (repeatable), else
	                                            PTRACE_DEBUG_DIR; canonical */
};

static void report_usage(FILE *f)
{
	fprintf(f,
		"Usage: ptrace-run report [options] PROFILE\n"
		"\n"
		"Renders a profile file that a run of ptrace-run wrote (by default\n"
		"ptrace-run.<program>.<pid>.ptrace) again, with the names resolved when\n"
		"it was recorded: the program's files need not exist any more.\n"
		"\n"
		"  -f, --format=FMT        text (default); json; csv (a row per function,\n"
		"                          allocation site and CPU function); folded\n"
		"                          (collapsed stacks: flamegraph.pl, inferno,\n"
		"                          speedscope); pprof (gzipped profile.proto: go tool\n"
		"                          pprof, Pyroscope, Parca); callgrind (function\n"
		"                          timing: KCachegrind, callgrind_annotate); massif\n"
		"                          (the heap over time: ms_print, massif-visualizer);\n"
		"                          chrome (the timeline of calls and regions, and\n"
		"                          the heap: Perfetto UI, chrome://tracing);\n"
		"                          html (one\n"
		"                          self-contained page: flame graphs, tables, the\n"
		"                          call tree)\n"
		"      --metric=M          what folded and pprof count: cpu (samples),\n"
		"                          alloc_space, alloc_objects (by allocation\n"
		"                          stack), inuse_space, inuse_objects (live at\n"
		"                          exit), func_ns, func_calls (instrumented call\n"
		"                          paths); default: cpu if sampled, else func_ns\n"
		"                          if timed, else alloc_space\n"
		"  -o, --output=FILE       write to FILE (default: stdout)\n"
		"      --report-mode=MODE  permissions of a file it creates (default 600)\n"
		"      --pid=PID[,PID...]  only these processes (repeatable)\n"
		"      --exe=NAME          only the processes of this executable (its path\n"
		"                          or base name)\n"
		"      --snapshot=N        snapshot N of the file instead of the run's end\n"
		"                          (also written PROFILE:N; snapshots come from\n"
		"                          --snapshot-every, the snapshot signal, the dump\n"
		"                          signal and ptrace_snapshot())\n"
		"      --suppressions=FILE leak:PATTERN lines: those live blocks are no leaks\n"
		"      --builtin-suppressions=0  show the C/C++ runtime's own as leaks too\n"
		"      --debug-dir=DIR     look again at the frames the run left without a\n"
		"                          name or a line: in the files still on disk with\n"
		"                          the build id on record and their separate debug\n"
		"                          files, also in DIR (repeatable, or DIR:DIR;\n"
		"                          default PTRACE_DEBUG_DIR); DEBUGINFOD_URLS set\n"
		"                          does the same (docs/debuginfo.md)\n"
		"      --all               every process's section even when there are many\n"
		"                          (with more than 8 processes, text starts as a\n"
		"                          summary per executable)\n"
		"      --filter=GLOBS      function timing: only the functions matching\n"
		"                          these comma-separated globs\n"
		"      --exclude=GLOBS     function timing: leave these out\n"
		"  -h, --help              this help\n"
		"\n"
		"The same options as the run give the same report, byte for byte (unless\n"
		"--debug-dir or debuginfod find a name the run did not have).\n");
}

/* The value of option arg (--name=V, --name V, -x V, -xV), advancing *i;
 * NULL when it has none. */
static const char *opt_value(int argc, char **argv, int *i, const char *arg, size_t skip)
{
	if (arg[skip] == '=')
		return arg + skip + 1;
	if (arg[skip])
		return skip == 2 ? arg + 2 : NULL;
	if (*i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

static int parse(struct report_opts *o, int argc, char **argv)
{
	const char *env;
	int given_dirs = 0;

	memset(o, 0, sizeof(*o));
	o->mode = OUTPUT_DEFAULT_MODE;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		size_t n;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			o->help = 1;
			return 0;
		}
		if (!strcmp(a, "--")) {
			if (i + 1 < argc && !o->file)
				o->file = argv[++i];
			if (i + 1 < argc) {
				fprintf(stderr, "ptrace-run report: one profile file at a time (%s)\n", argv[i + 1]);
				return 2;
			}
			break;
		}
		if (a[0] != '-' || !a[1]) {
			if (o->file) {
				fprintf(stderr, "ptrace-run report: one profile file at a time (%s and %s)\n", o->file, a);
				return 2;
			}
			o->file = a;
			continue;
		}
		n = strcspn(a, "=");
		if ((n == 8 && !strncmp(a, "--format", 8)) || (a[1] == 'f' && (a[2] == 0 || a[2] != '-'))) {
			v = opt_value(argc, argv, &i, a, a[1] == 'f' ? 2 : 8);
			o->format = NFORMATS;
			for (size_t k = 0; v && k < NFORMATS; k++)
				if (!strcmp(v, formats[k].name))
					o->format = k;
			if (o->format == NFORMATS) {
				fprintf(stderr, "ptrace-run report: --format=%s: expected " FORMAT_LIST "\n", v ? v : "");
				return 2;
			}
		} else if ((n == 8 && !strncmp(a, "--output", 8)) || (a[1] == 'o' && a[2] != '-')) {
			v = opt_value(argc, argv, &i, a, a[1] == 'o' ? 2 : 8);
			if (!v || !*v) {
				fprintf(stderr, "ptrace-run report: %s: missing value (expected a file name)\n", a);
				return 2;
			}
			o->output = v;
		} else if (n == 8 && !strncmp(a, "--metric", 8)) {
			v = opt_value(argc, argv, &i, a, 8);
			if (!v || view_metric_parse(v, &o->view.metric)) {
				fprintf(stderr, "ptrace-run report: --metric=%s: expected one of %s\n", v ? v : "",
					view_metric_names());
				return 2;
			}
		} else if (n == 5 && !strncmp(a, "--pid", 5)) {
			char *end;

			v = opt_value(argc, argv, &i, a, 5);
			for (const char *p = v; p && *p; p = *end ? end + 1 : end) {
				long pid = strtol(p, &end, 10);

				if (end == p || (*end && *end != ',') || pid <= 0 || pid > 0x7fffffff ||
				    o->npids == sizeof(o->pids) / sizeof(o->pids[0])) {
					fprintf(stderr, "ptrace-run report: --pid=%s: expected process ids, e.g. 1234,1240\n",
						v);
					return 2;
				}
				o->pids[o->npids++] = (int)pid;
			}
			if (!v || !o->npids) {
				fprintf(stderr, "ptrace-run report: --pid: expected process ids, e.g. 1234,1240\n");
				return 2;
			}
		} else if (n == 5 && !strncmp(a, "--exe", 5)) {
			v = opt_value(argc, argv, &i, a, 5);
			if (!v || !*v) {
				fprintf(stderr, "ptrace-run report: --exe: expected an executable's name\n");
				return 2;
			}
			o->exe = v;
		} else if (n == 10 && !strncmp(a, "--snapshot", 10)) {
			char *end;
			unsigned long k;

			v = opt_value(argc, argv, &i, a, 10);
			k = v && *v >= '1' && *v <= '9' ? strtoul(v, &end, 10) : 0;
			if (!k || *end || k > (1u << 24)) {
				fprintf(stderr, "ptrace-run report: --snapshot=%s: expected a snapshot's number, 1 on\n",
					v ? v : "");
				return 2;
			}
			o->snapshot = (unsigned)k;
		} else if (n == 14 && !strncmp(a, "--suppressions", 14)) {
			v = opt_value(argc, argv, &i, a, 14);
			if (!v || !*v) {
				fprintf(stderr, "ptrace-run report: --suppressions: missing value (expected a file name)\n");
				return 2;
			}
			o->suppressions = v;
		} else if (n == 22 && !strncmp(a, "--builtin-suppressions", 22)) {
			v = opt_value(argc, argv, &i, a, 22);
			if (!v || (strcmp(v, "0") && strcmp(v, "1"))) {
				fprintf(stderr, "ptrace-run report: --builtin-suppressions=%s: expected 0 or 1\n", v ? v : "");
				return 2;
			}
			o->no_builtin = !strcmp(v, "0");
		} else if (n == 11 && !strncmp(a, "--debug-dir", 11)) {
			char why[PATH_MAX + 160];

			v = opt_value(argc, argv, &i, a, 11);
			if (!v || options_debug_dirs(v, o->debug_dirs, sizeof(o->debug_dirs), why, sizeof(why))) {
				fprintf(stderr, "ptrace-run report: --debug-dir=%s: %s\n", v ? v : "",
					v ? why : OPTIONS_DIRS_EXPECT);
				return 2;
			}
			given_dirs = 1;
		} else if (!strcmp(a, "--all")) {
			o->all = 1;
		} else if (n == 8 && !strncmp(a, "--filter", 8)) {
			v = opt_value(argc, argv, &i, a, 8);
			if (!v || options_check_globs(v)) {
				fprintf(stderr,
					"ptrace-run report: --filter=%s: expected comma-separated globs on function names\n",
					v ? v : "");
				return 2;
			}
			o->filter = v;
		} else if (n == 9 && !strncmp(a, "--exclude", 9)) {
			v = opt_value(argc, argv, &i, a, 9);
			if (!v || options_check_globs(v)) {
				fprintf(stderr,
					"ptrace-run report: --exclude=%s: expected comma-separated globs on function names\n",
					v ? v : "");
				return 2;
			}
			o->exclude = v;
		} else if (n == 13 && !strncmp(a, "--report-mode", 13)) {
			char *end;
			unsigned long m;

			v = opt_value(argc, argv, &i, a, 13);
			m = v && *v ? strtoul(v, &end, 8) : 010000;
			if (!v || !*v || *end || m > 07777) {
				fprintf(stderr, "ptrace-run report: --report-mode=%s: expected permission bits in octal\n",
					v ? v : "");
				return 2;
			}
			o->mode = (unsigned)m;
		} else {
			fprintf(stderr, "ptrace-run report: unknown option %.*s (see ptrace-run report --help)\n", (int)n,
				a);
			return 2;
		}
	}
	if (!o->file) {
		fprintf(stderr, "ptrace-run report: no profile file given (usage: ptrace-run report [options] PROFILE)\n");
		return 2;
	}
	/* As for the run: a flag wins over the variable, an empty one is unset. */
	if (!given_dirs && (env = getenv("PTRACE_DEBUG_DIR")) && *env) {
		char why[PATH_MAX + 160];

		if (options_debug_dirs(env, o->debug_dirs, sizeof(o->debug_dirs), why, sizeof(why))) {
			fprintf(stderr, "ptrace-run report: PTRACE_DEBUG_DIR=%s: %s\n", env, why);
			return 2;
		}
	}
	return 0;
}

static int exe_matches(const struct rprocess *p, const char *want)
{
	const char *exe = p->exe && *p->exe ? p->exe : p->argv && p->argv[0] ? p->argv[0] : "";
	const char *base = strrchr(exe, '/');

	return !strcmp(exe, want) || !strcmp(base ? base + 1 : exe, want);
}

/* The processes --pid and --exe select, as a shallow view of rep (its
 * procs array only is the view's own). -ENOENT when none matches. */
static int select_procs(const struct report_opts *o, const struct report *rep, struct report *view)
{
	*view = *rep;
	if (!o->npids && !o->exe)
		return 0;
	view->procs = calloc(rep->nprocs ? rep->nprocs : 1, sizeof(*view->procs));
	view->nprocs = 0;
	if (!view->procs)
		return -ENOMEM;
	for (size_t i = 0; i < rep->nprocs; i++) {
		const struct rprocess *p = &rep->procs[i];
		int ok = !o->npids;

		for (size_t k = 0; k < o->npids && !ok; k++)
			ok = p->pid == o->pids[k];
		if (ok && o->exe)
			ok = exe_matches(p, o->exe);
		if (ok)
			view->procs[view->nprocs++] = *p;
	}
	return view->nprocs ? 0 : -ENOENT;
}

int report_main(int argc, char **argv)
{
	struct report_opts o;
	struct suppr suppr = {0};
	struct profile prof;
	struct report rep, view;
	struct output out = {.fd = -1};
	char err[256];
	const char *env;
	FILE *f = stdout;
	int rc;

	rc = parse(&o, argc, argv);
	if (rc || o.help) {
		if (o.help)
			report_usage(stdout);
		return rc;
	}
	suppr.builtin = !o.no_builtin;
	if (o.suppressions && suppr_load(&suppr, o.suppressions, err, sizeof(err))) {
		fprintf(stderr, "ptrace-run report: --suppressions: %s\n", err);
		suppr_free(&suppr);
		return 2;
	}
	if (profile_read_spec(o.file, o.snapshot, &prof, err, sizeof(err))) {
		suppr_free(&suppr);
		fprintf(stderr, "ptrace-run report: %s: %s\n", o.file, err);
		return 2;
	}
	/* Names the run could not give, looked for again where the user
	 * says there is more: debug directories, a debuginfod server. */
	env = getenv("DEBUGINFOD_URLS");
	if ((o.debug_dirs[0] || (env && *env)) && symctx_refresh(prof.in.symctx, o.debug_dirs)) {
		fprintf(stderr, "ptrace-run report: out of memory\n");
		profile_free(&prof);
		suppr_free(&suppr);
		return 2;
	}
	if (prof.cut_bytes)
		fprintf(stderr, "ptrace-run report: %s: its last %zu bytes are a record cut short (the launcher was "
				"stopped while writing it): left out\n", o.file, prof.cut_bytes);
	if (o.output && strcmp(o.output, "-")) {
		if (output_open(&out, o.output, o.mode, err, sizeof(err)) || output_ready(&out)) {
			fprintf(stderr, "ptrace-run report: -o %s: %s\n", o.output, out.fd < 0 ? err : strerror(EIO));
			output_discard(&out);
			profile_free(&prof);
			return 2;
		}
		f = out.f;
	}
	prof.in.func_filter = o.filter;
	prof.in.func_exclude = o.exclude;
	prof.in.suppr = &suppr;
	if (report_build(&rep, &prof.s, &prof.in)) {
		fprintf(stderr, "ptrace-run report: out of memory building the report\n");
		output_discard(&out);
		profile_free(&prof);
		return 2;
	}
	rc = select_procs(&o, &rep, &view);
	if (rc) {
		if (rc == -ENOENT)
			fprintf(stderr, "ptrace-run report: %s: no process matches --pid/--exe (it has %zu)\n", o.file,
				rep.nprocs);
		else
			fprintf(stderr, "ptrace-run report: out of memory\n");
		if (view.procs != rep.procs)
			free(view.procs);
		report_free(&rep);
		output_discard(&out);
		profile_free(&prof);
		return 2;
	}
	if (formats[o.format].render) {
		rc = formats[o.format].render(&view, f, &o.view);
	} else if (view.nprocs > SUMMARY_MIN_PROCS && !o.all && !o.npids && !o.exe) {
		struct summary sum;

		rc = summary_build(&sum, &view);
		if (!rc)
			rc = render_summary_text(&sum, &view, f);
		summary_free(&sum);
	} else {
		rc = render_text(&view, f);
	}
	if (view.procs != rep.procs)
		free(view.procs);
	report_free(&rep);
	if (out.f && rc) {
		output_discard(&out);
	} else if (out.f) {
		rc = output_close(&out);
	} else if (fflush(stdout)) {
		rc = -EIO;
	}
	if (rc == -ENODATA)
		fprintf(stderr, "ptrace-run report: %s: no figures over time in this profile (the run had --interval=0)\n",
			o.file);
	else if (rc)
		fprintf(stderr, "ptrace-run report: writing the report: %s\n", strerror(rc < 0 ? -rc : EIO));
	profile_free(&prof);
	suppr_free(&suppr);
	return rc ? 2 : 0;
}
