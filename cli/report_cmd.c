/*
 * ptrace-run report: read a profile file, build the report model from it
 * exactly as the run's own report was built (the same image, the symbols
 * the run resolved, the same launcher facts), then render one format.
 */
#include "report_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "output.h"
#include "profile.h"
#include "render.h"
#include "report.h"
#include "view.h"

enum format { FMT_TEXT, FMT_JSON, FMT_FOLDED, FMT_PPROF, FMT_CALLGRIND, FMT_CSV, FMT_HTML };

static const char *const format_names[] = {"text", "json", "folded", "pprof", "callgrind", "csv", "html"};

struct report_opts {
	const char *file, *output, *filter, *exclude;
	enum format format;
	struct view_opts view;
	unsigned mode;
	int help;
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
		"  -f, --format=FMT        text (default), json, csv (a row per function,\n"
		"                          allocation site and CPU function), folded (collapsed\n"
		"                          stacks for flame graphs: flamegraph.pl,\n"
		"                          inferno, speedscope), or pprof (gzipped\n"
		"                          profile.proto: go tool pprof, Pyroscope, Parca),\n"
		"                          or callgrind (function timing: KCachegrind,\n"
		"                          callgrind_annotate), or html (one self-contained\n"
		"                          page: flame graphs, tables, the call tree)\n"
		"      --metric=M          what folded and pprof count: cpu (samples),\n"
		"                          alloc_space, alloc_objects (by allocation\n"
		"                          stack), inuse_space, inuse_objects (live at\n"
		"                          exit), func_ns, func_calls (instrumented call\n"
		"                          paths); default: cpu if sampled, else func_ns\n"
		"                          if timed, else alloc_space\n"
		"  -o, --output=FILE       write to FILE (default: stdout)\n"
		"      --report-mode=MODE  permissions of a file it creates (default 600)\n"
		"      --filter=GLOBS      function timing: only the functions matching\n"
		"                          these comma-separated globs\n"
		"      --exclude=GLOBS     function timing: leave these out\n"
		"  -h, --help              this help\n"
		"\n"
		"The same options as the run give the same report, byte for byte.\n");
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
			o->format = (enum format)-1;
			for (size_t k = 0; v && k < sizeof(format_names) / sizeof(format_names[0]); k++)
				if (!strcmp(v, format_names[k]))
					o->format = (enum format)k;
			if ((int)o->format < 0) {
				fprintf(stderr, "ptrace-run report: --format=%s: expected text, json, csv, folded, pprof, callgrind or html\n",
					v ? v : "");
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
	return 0;
}

int report_main(int argc, char **argv)
{
	struct report_opts o;
	struct profile prof;
	struct report rep;
	struct output out = {.fd = -1};
	char err[256];
	FILE *f = stdout;
	int rc;

	rc = parse(&o, argc, argv);
	if (rc || o.help) {
		if (o.help)
			report_usage(stdout);
		return rc;
	}
	if (profile_read(o.file, &prof, err, sizeof(err))) {
		fprintf(stderr, "ptrace-run report: %s: %s\n", o.file, err);
		return 2;
	}
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
	if (report_build(&rep, &prof.s, &prof.in)) {
		fprintf(stderr, "ptrace-run report: out of memory building the report\n");
		output_discard(&out);
		profile_free(&prof);
		return 2;
	}
	switch (o.format) {
	case FMT_JSON:
		rc = render_json(&rep, f);
		break;
	case FMT_FOLDED:
		rc = render_folded(&rep, f, &o.view);
		break;
	case FMT_PPROF:
		rc = render_pprof(&rep, f, &o.view);
		break;
	case FMT_CALLGRIND:
		rc = render_callgrind(&rep, f, &o.view);
		break;
	case FMT_CSV:
		rc = render_csv(&rep, f, &o.view);
		break;
	case FMT_HTML:
		rc = render_html(&rep, f, &o.view);
		break;
	default:
		rc = render_text(&rep, f);
	}
	report_free(&rep);
	if (out.f) {
		int crc = output_close(&out);

		rc = rc ? rc : crc;
	} else if (fflush(stdout)) {
		rc = -EIO;
	}
	if (rc)
		fprintf(stderr, "ptrace-run report: writing the report: %s\n", strerror(rc < 0 ? -rc : EIO));
	profile_free(&prof);
	return rc ? 2 : 0;
}
