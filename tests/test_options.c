/* Unit tests for cli/options: flag forms, environment, strict values. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "options.h"

static const char *const env_names[] = {
	"PTRACE_OUTPUT", "PTRACE_JSON", "PTRACE_TRACK_MEMORY",
	"PTRACE_SAMPLE_RATE", "PTRACE_MAX_DEPTH", "PTRACE_SESSION_SIZE",
};

/* Each test runs in its own process: clearing the caller's PTRACE_*
 * variables here cannot leak anywhere. */
static void clear_env(void)
{
	for (size_t i = 0; i < sizeof(env_names) / sizeof(env_names[0]); i++)
		unsetenv(env_names[i]);
}

TestSuite(options, .init = clear_env);

/* Parse a NULL-terminated argv (argv[0] included). */
static int parse_v(struct options *o, char *err, size_t errlen, char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	return options_parse(o, argc, argv, err, errlen);
}

#define PARSE(o, err, ...) \
	parse_v((o), (err), sizeof(err), (char *[]){ "ptrace-run", ##__VA_ARGS__, NULL })

Test(options, defaults_without_flags_or_env)
{
	struct options o;
	char err[256];
	char *argv[] = { "ptrace-run", "prog", NULL };

	cr_assert(eq(int, options_parse(&o, 2, argv, err, sizeof(err)), 0), "plain run parses: %s", err);
	cr_assert(zero(ptr, (void *)o.output), "text report goes to stderr by default");
	cr_assert(zero(ptr, (void *)o.json), "no JSON report by default");
	cr_assert(eq(int, o.track_memory, 1), "memory tracking is on by default");
	cr_assert(eq(dbl, o.sample_rate, 1.0), "sample rate defaults to 1");
	cr_assert(eq(uint, o.max_depth, 64), "max depth defaults to 64");
	cr_assert(eq(uint, o.session_mb, 1024), "session size defaults to 1024 MiB");
	cr_assert(eq(int, o.quiet, 0), "not quiet by default");
	cr_assert(eq(int, o.help, 0), "no help by default");
	cr_assert(eq(int, o.version, 0), "no version by default");
	cr_assert(eq(str, (char *)o.unwind, "cfi"), "our own stack walker by default");
	cr_assert(eq(str, (char *)o.cpu_timer, "tick"), "CPU samples at the kernel's tick by default");
	cr_assert(eq(int, o.argc, 1), "one program argument");
	cr_assert(eq(ptr, (void *)o.argv, (void *)(argv + 1)), "argv points into the given argv");
	cr_assert(eq(str, err, ""), "no error message on success");
}

Test(options, long_flags_with_equals)
{
	struct options o;
	char err[256];
	int rc = PARSE(&o, err, "--output=out.txt", "--json=out.json", "--track-memory=0",
		       "--sample-rate=0.25", "--max-depth=8", "--session-size=16", "prog");

	cr_assert(eq(int, rc, 0), "--opt=value forms parse: %s", err);
	cr_assert(eq(str, (char *)o.output, "out.txt"), "--output=FILE sets the text report file");
	cr_assert(eq(str, (char *)o.json, "out.json"), "--json=FILE sets the JSON report file");
	cr_assert(eq(int, o.track_memory, 0), "--track-memory=0 turns tracking off");
	cr_assert(eq(dbl, o.sample_rate, 0.25), "--sample-rate=0.25");
	cr_assert(eq(uint, o.max_depth, 8), "--max-depth=8");
	cr_assert(eq(uint, o.session_mb, 16), "--session-size=16");
	cr_assert(eq(int, o.argc, 1), "only the program remains");
	cr_assert(eq(str, o.argv[0], "prog"), "program found after the options");
}

Test(options, long_flags_with_separate_value)
{
	struct options o;
	char err[256];
	int rc = PARSE(&o, err, "--output", "out.txt", "--json", "out.json", "--track-memory", "no",
		       "--sample-rate", "1e-2", "--max-depth", "256", "--session-size", "32768", "prog", "a");

	cr_assert(eq(int, rc, 0), "--opt value forms parse: %s", err);
	cr_assert(eq(str, (char *)o.output, "out.txt"), "--output FILE");
	cr_assert(eq(str, (char *)o.json, "out.json"), "--json FILE");
	cr_assert(eq(int, o.track_memory, 0), "--track-memory no");
	cr_assert(eq(dbl, o.sample_rate, 0.01), "--sample-rate 1e-2");
	cr_assert(eq(uint, o.max_depth, 256), "--max-depth 256 (the upper bound)");
	cr_assert(eq(uint, o.session_mb, 32768), "--session-size 32768 (the upper bound)");
	cr_assert(eq(int, o.argc, 2), "program and its argument remain");
	cr_assert(eq(str, o.argv[1], "a"), "program argument kept");
}

Test(options, short_flags)
{
	struct options o;
	char err[256];

	cr_assert(eq(int, PARSE(&o, err, "-o", "r.txt", "-q", "prog"), 0), "-o FILE -q parse: %s", err);
	cr_assert(eq(str, (char *)o.output, "r.txt"), "-o FILE sets the output");
	cr_assert(eq(int, o.quiet, 1), "-q sets quiet");

	cr_assert(eq(int, PARSE(&o, err, "-or2.txt", "prog"), 0), "-oFILE parses: %s", err);
	cr_assert(eq(str, (char *)o.output, "r2.txt"), "-oFILE sets the output");

	cr_assert(eq(int, PARSE(&o, err, "-h"), 0), "-h parses without a program: %s", err);
	cr_assert(eq(int, o.help, 1), "-h sets help");
}

Test(options, switches)
{
	struct options o;
	char err[256];

	cr_assert(eq(int, PARSE(&o, err, "--no-memory", "--quiet", "prog"), 0), "switches parse: %s", err);
	cr_assert(eq(int, o.track_memory, 0), "--no-memory turns tracking off");
	cr_assert(eq(int, o.quiet, 1), "--quiet sets quiet");

	cr_assert(eq(int, PARSE(&o, err, "--version"), 0), "--version parses without a program: %s", err);
	cr_assert(eq(int, o.version, 1), "--version sets version");
	cr_assert(eq(int, o.argc, 0), "no program with --version");
	cr_assert(zero(ptr, (void *)o.argv), "argv is NULL without a program");

	cr_assert(eq(int, PARSE(&o, err, "--help", "prog", "x"), 0), "--help with a program parses: %s", err);
	cr_assert(eq(int, o.help, 1), "--help sets help");
	cr_assert(eq(int, o.argc, 2), "the program is still recorded with --help");
}

Test(options, later_flag_wins)
{
	struct options o;
	char err[256];

	cr_assert(eq(int, PARSE(&o, err, "--max-depth=8", "--max-depth", "9", "prog"), 0), "parses: %s", err);
	cr_assert(eq(uint, o.max_depth, 9), "the last --max-depth counts");
	cr_assert(eq(int, PARSE(&o, err, "--no-memory", "--track-memory=on", "prog"), 0), "parses: %s", err);
	cr_assert(eq(int, o.track_memory, 1), "--track-memory=on after --no-memory turns it back on");
}

Test(options, boolean_words)
{
	static const struct {
		const char *word;
		int value;
	} cases[] = {
		{ "0", 0 }, { "1", 1 }, { "yes", 1 }, { "no", 0 }, { "on", 1 }, { "off", 0 },
		{ "true", 1 }, { "false", 0 },
	};
	struct options o;
	char err[256];
	char flag[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(flag, sizeof(flag), "--track-memory=%s", cases[i].word);
		cr_assert(eq(int, PARSE(&o, err, flag, "prog"), 0), "%s parses: %s", flag, err);
		cr_assert(eq(int, o.track_memory, cases[i].value), "%s gives %d", flag, cases[i].value);

		setenv("PTRACE_TRACK_MEMORY", cases[i].word, 1);
		cr_assert(eq(int, PARSE(&o, err, "prog"), 0), "PTRACE_TRACK_MEMORY=%s parses: %s",
			  cases[i].word, err);
		cr_assert(eq(int, o.track_memory, cases[i].value), "PTRACE_TRACK_MEMORY=%s gives %d",
			  cases[i].word, cases[i].value);
		unsetenv("PTRACE_TRACK_MEMORY");
	}
}

Test(options, environment_values)
{
	struct options o;
	char err[256];

	setenv("PTRACE_OUTPUT", "env.txt", 1);
	setenv("PTRACE_JSON", "env.json", 1);
	setenv("PTRACE_TRACK_MEMORY", "off", 1);
	setenv("PTRACE_SAMPLE_RATE", "0.5", 1);
	setenv("PTRACE_MAX_DEPTH", "12", 1);
	setenv("PTRACE_SESSION_SIZE", "32", 1);
	cr_assert(eq(int, PARSE(&o, err, "prog"), 0), "environment parses: %s", err);
	cr_assert(eq(str, (char *)o.output, "env.txt"), "PTRACE_OUTPUT");
	cr_assert(eq(str, (char *)o.json, "env.json"), "PTRACE_JSON");
	cr_assert(eq(int, o.track_memory, 0), "PTRACE_TRACK_MEMORY=off");
	cr_assert(eq(dbl, o.sample_rate, 0.5), "PTRACE_SAMPLE_RATE=0.5");
	cr_assert(eq(uint, o.max_depth, 12), "PTRACE_MAX_DEPTH=12");
	cr_assert(eq(uint, o.session_mb, 32), "PTRACE_SESSION_SIZE=32");
}

Test(options, empty_environment_counts_as_unset)
{
	struct options o;
	char err[256];

	for (size_t i = 0; i < sizeof(env_names) / sizeof(env_names[0]); i++)
		setenv(env_names[i], "", 1);
	cr_assert(eq(int, PARSE(&o, err, "prog"), 0), "empty variables are not errors: %s", err);
	cr_assert(zero(ptr, (void *)o.output), "empty PTRACE_OUTPUT: stderr");
	cr_assert(zero(ptr, (void *)o.json), "empty PTRACE_JSON: no JSON");
	cr_assert(eq(int, o.track_memory, 1), "empty PTRACE_TRACK_MEMORY: default 1");
	cr_assert(eq(dbl, o.sample_rate, 1.0), "empty PTRACE_SAMPLE_RATE: default 1");
	cr_assert(eq(uint, o.max_depth, 64), "empty PTRACE_MAX_DEPTH: default 64");
	cr_assert(eq(uint, o.session_mb, 1024), "empty PTRACE_SESSION_SIZE: default 1024");
}

Test(options, flags_win_over_environment)
{
	struct options o;
	char err[256];

	setenv("PTRACE_OUTPUT", "env.txt", 1);
	setenv("PTRACE_TRACK_MEMORY", "1", 1);
	setenv("PTRACE_SAMPLE_RATE", "0.5", 1);
	setenv("PTRACE_MAX_DEPTH", "12", 1);
	setenv("PTRACE_SESSION_SIZE", "32", 1);
	cr_assert(eq(int, PARSE(&o, err, "-o", "flag.txt", "--no-memory", "--sample-rate=0.125",
				"--max-depth=3", "--session-size=64", "prog"), 0), "parses: %s", err);
	cr_assert(eq(str, (char *)o.output, "flag.txt"), "-o wins over PTRACE_OUTPUT");
	cr_assert(eq(int, o.track_memory, 0), "--no-memory wins over PTRACE_TRACK_MEMORY=1");
	cr_assert(eq(dbl, o.sample_rate, 0.125), "--sample-rate wins over PTRACE_SAMPLE_RATE");
	cr_assert(eq(uint, o.max_depth, 3), "--max-depth wins over PTRACE_MAX_DEPTH");
	cr_assert(eq(uint, o.session_mb, 64), "--session-size wins over PTRACE_SESSION_SIZE");
}

Test(options, bad_environment_overridden_by_flag_is_not_an_error)
{
	struct options o;
	char err[256];

	setenv("PTRACE_MAX_DEPTH", "lots", 1);
	cr_assert(eq(int, PARSE(&o, err, "--max-depth=5", "prog"), 0),
		  "an overridden variable is not read: %s", err);
	cr_assert(eq(uint, o.max_depth, 5), "the flag's value is used");
}

Test(options, accepted_number_spellings)
{
	static const struct {
		const char *arg;
		double rate;
		unsigned depth, mb;
	} cases[] = {
		{ "--sample-rate=1", 1.0, 64, 1024 },
		{ "--sample-rate=1.0", 1.0, 64, 1024 },
		{ "--sample-rate=.5", 0.5, 64, 1024 },
		{ "--sample-rate=0.5", 0.5, 64, 1024 },
		{ "--sample-rate=1e-2", 0.01, 64, 1024 },
		{ "--sample-rate=1E-2", 0.01, 64, 1024 },
		{ "--sample-rate=5e-1", 0.5, 64, 1024 },
		{ "--sample-rate=0.000001", 0.000001, 64, 1024 },
		{ "--max-depth=1", 1.0, 1, 1024 },
		{ "--max-depth=08", 1.0, 8, 1024 },
		{ "--max-depth=0064", 1.0, 64, 1024 },
		{ "--max-depth=256", 1.0, 256, 1024 },
		{ "--session-size=16", 1.0, 64, 16 },
		{ "--session-size=010", 1.0, 64, 0 }, /* 10: below the minimum, see below */
	};
	struct options o;
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = PARSE(&o, err, (char *)cases[i].arg, "prog");

		if (cases[i].mb == 0) {
			cr_assert(eq(int, rc, -EINVAL), "%s is decimal 10, below 16", cases[i].arg);
			continue;
		}
		cr_assert(eq(int, rc, 0), "%s parses: %s", cases[i].arg, err);
		cr_assert(eq(dbl, o.sample_rate, cases[i].rate), "%s: rate", cases[i].arg);
		cr_assert(eq(uint, o.max_depth, cases[i].depth), "%s: depth", cases[i].arg);
		cr_assert(eq(uint, o.session_mb, cases[i].mb), "%s: session size", cases[i].arg);
	}
}

Test(options, bad_flag_values_give_exact_messages)
{
	static const struct {
		const char *args[3];
		const char *msg;
	} cases[] = {
		{ { "--sample-rate=abc" }, "--sample-rate=abc: expected a number in (0,1]" },
		{ { "--unwind=fast" }, "--unwind=fast: expected cfi, libunwind or check" },
		{ { "--unwind=" }, "--unwind=: expected cfi, libunwind or check" },
		{ { "--cpu-timer=perf" }, "--cpu-timer=perf: expected tick or exact" },
		{ { "--sample-rate=0" }, "--sample-rate=0: expected a number in (0,1]" },
		{ { "--sample-rate=0.0" }, "--sample-rate=0.0: expected a number in (0,1]" },
		{ { "--sample-rate=2" }, "--sample-rate=2: expected a number in (0,1]" },
		{ { "--sample-rate=1.0000001" }, "--sample-rate=1.0000001: expected a number in (0,1]" },
		{ { "--sample-rate=" }, "--sample-rate=: expected a number in (0,1]" },
		{ { "--sample-rate=nan" }, "--sample-rate=nan: expected a number in (0,1]" },
		{ { "--sample-rate=inf" }, "--sample-rate=inf: expected a number in (0,1]" },
		{ { "--sample-rate=-0.5" }, "--sample-rate=-0.5: expected a number in (0,1]" },
		{ { "--sample-rate=+0.5" }, "--sample-rate=+0.5: expected a number in (0,1]" },
		{ { "--sample-rate= 0.5" }, "--sample-rate= 0.5: expected a number in (0,1]" },
		{ { "--sample-rate=0.5 " }, "--sample-rate=0.5 : expected a number in (0,1]" },
		{ { "--sample-rate=0x1p-2" }, "--sample-rate=0x1p-2: expected a number in (0,1]" },
		{ { "--sample-rate=0.5x" }, "--sample-rate=0.5x: expected a number in (0,1]" },
		{ { "--sample-rate=1e" }, "--sample-rate=1e: expected a number in (0,1]" },
		{ { "--sample-rate=." }, "--sample-rate=.: expected a number in (0,1]" },
		{ { "--sample-rate=1e-400" }, "--sample-rate=1e-400: expected a number in (0,1]" },
		{ { "--sample-rate=1e-310" }, "--sample-rate=1e-310: expected a number in (0,1]" },
		{ { "--sample-rate", "2" }, "--sample-rate=2: expected a number in (0,1]" },
		{ { "--max-depth=-1" }, "--max-depth=-1: expected an integer from 1 to 256" },
		{ { "--max-depth", "-1" }, "--max-depth=-1: expected an integer from 1 to 256" },
		{ { "--max-depth=0" }, "--max-depth=0: expected an integer from 1 to 256" },
		{ { "--max-depth=257" }, "--max-depth=257: expected an integer from 1 to 256" },
		{ { "--max-depth=" }, "--max-depth=: expected an integer from 1 to 256" },
		{ { "--max-depth=1.5" }, "--max-depth=1.5: expected an integer from 1 to 256" },
		{ { "--max-depth=+3" }, "--max-depth=+3: expected an integer from 1 to 256" },
		{ { "--max-depth= 8" }, "--max-depth= 8: expected an integer from 1 to 256" },
		{ { "--max-depth=8k" }, "--max-depth=8k: expected an integer from 1 to 256" },
		{ { "--max-depth=0x10" }, "--max-depth=0x10: expected an integer from 1 to 256" },
		{ { "--max-depth=99999999999999999999999" },
		  "--max-depth=99999999999999999999999: expected an integer from 1 to 256" },
		{ { "--session-size=15" }, "--session-size=15: expected an integer from 16 to 32768" },
		{ { "--session-size=32769" }, "--session-size=32769: expected an integer from 16 to 32768" },
		{ { "--session-size=1G" }, "--session-size=1G: expected an integer from 16 to 32768" },
		{ { "--track-memory=maybe" },
		  "--track-memory=maybe: expected 0 or 1 (or yes/no, on/off, true/false)" },
		{ { "--track-memory=" }, "--track-memory=: expected 0 or 1 (or yes/no, on/off, true/false)" },
		{ { "--track-memory=2" }, "--track-memory=2: expected 0 or 1 (or yes/no, on/off, true/false)" },
		{ { "--track-memory=YES" },
		  "--track-memory=YES: expected 0 or 1 (or yes/no, on/off, true/false)" },
		{ { "--track-memory= 1" },
		  "--track-memory= 1: expected 0 or 1 (or yes/no, on/off, true/false)" },
		{ { "--output=" }, "--output=: expected a file name" },
		{ { "-o", "" }, "--output=: expected a file name" },
		{ { "--json=" }, "--json=: expected a file name" },
		{ { "--frob" }, "unknown option --frob (see ptrace-run --help)" },
		{ { "--frob=3" }, "unknown option --frob (see ptrace-run --help)" },
		{ { "--out=x" }, "unknown option --out (see ptrace-run --help)" },
		{ { "-x" }, "unknown option -x (see ptrace-run --help)" },
		{ { "-qo", "f" }, "unknown option -qo (see ptrace-run --help)" },
		{ { "--quiet=1" }, "--quiet=1: --quiet takes no value" },
		{ { "--no-memory=yes" }, "--no-memory=yes: --no-memory takes no value" },
	};
	struct options o;
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[6] = { "ptrace-run" };
		int n = 1;

		for (int k = 0; k < 3 && cases[i].args[k]; k++)
			argv[n++] = (char *)cases[i].args[k];
		argv[n++] = "prog";
		argv[n] = NULL;
		strcpy(err, "unset");
		cr_assert(eq(int, parse_v(&o, err, sizeof(err), argv), -EINVAL), "%s is rejected",
			  cases[i].msg);
		cr_assert(eq(str, err, (char *)cases[i].msg), "message for case %zu", i);
	}
}

Test(options, missing_value_at_the_end)
{
	struct options o;
	char err[256];

	cr_assert(eq(int, PARSE(&o, err, "--max-depth"), -EINVAL), "--max-depth without a value");
	cr_assert(eq(str, err, "--max-depth: missing value (expected an integer from 1 to 256)"),
		  "message names the option and what it expects");
	cr_assert(eq(int, PARSE(&o, err, "-o"), -EINVAL), "-o without a value");
	cr_assert(eq(str, err, "-o: missing value (expected a file name)"), "message for -o");
}

Test(options, separate_value_is_taken_even_if_it_looks_like_an_option)
{
	struct options o;
	char err[256];

	cr_assert(eq(int, PARSE(&o, err, "--output", "--json", "prog"), 0), "parses: %s", err);
	cr_assert(eq(str, (char *)o.output, "--json"), "the word after --output is its value");
	cr_assert(zero(ptr, (void *)o.json), "--json was consumed as a value");
}

Test(options, bad_environment_values_give_exact_messages)
{
	static const struct {
		const char *name, *value, *msg;
	} cases[] = {
		{ "PTRACE_SAMPLE_RATE", "abc", "PTRACE_SAMPLE_RATE=abc: expected a number in (0,1]" },
		{ "PTRACE_SAMPLE_RATE", "0", "PTRACE_SAMPLE_RATE=0: expected a number in (0,1]" },
		{ "PTRACE_SAMPLE_RATE", "2", "PTRACE_SAMPLE_RATE=2: expected a number in (0,1]" },
		{ "PTRACE_SAMPLE_RATE", "NaN", "PTRACE_SAMPLE_RATE=NaN: expected a number in (0,1]" },
		{ "PTRACE_MAX_DEPTH", "-1", "PTRACE_MAX_DEPTH=-1: expected an integer from 1 to 256" },
		{ "PTRACE_MAX_DEPTH", "300", "PTRACE_MAX_DEPTH=300: expected an integer from 1 to 256" },
		{ "PTRACE_SESSION_SIZE", "1x", "PTRACE_SESSION_SIZE=1x: expected an integer from 16 to 32768" },
		{ "PTRACE_TRACK_MEMORY", "2",
		  "PTRACE_TRACK_MEMORY=2: expected 0 or 1 (or yes/no, on/off, true/false)" },
	};
	struct options o;
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setenv(cases[i].name, cases[i].value, 1);
		cr_assert(eq(int, PARSE(&o, err, "prog"), -EINVAL), "%s=%s is rejected", cases[i].name,
			  cases[i].value);
		cr_assert(eq(str, err, (char *)cases[i].msg), "message for %s=%s", cases[i].name,
			  cases[i].value);
		unsetenv(cases[i].name);
	}
}

Test(options, help_ignores_a_bad_environment)
{
	struct options o;
	char err[256];

	setenv("PTRACE_SAMPLE_RATE", "abc", 1);
	cr_assert(eq(int, PARSE(&o, err, "--help"), 0), "--help works whatever the environment");
	cr_assert(eq(int, o.help, 1), "help is set");
	cr_assert(eq(int, PARSE(&o, err, "prog"), -EINVAL), "without --help the variable is checked");
}

Test(options, options_stop_at_the_program)
{
	struct options o;
	char err[256];

	/* PARSE's argv array lives to the end of the enclosing block: keep it
	 * out of cr_assert's own block, o.argv points into it. */
	int rc = PARSE(&o, err, "-q", "ls", "-l", "--max-depth=3", "--", "x");

	cr_assert(eq(int, rc, 0), "parses: %s", err);
	cr_assert(eq(int, o.quiet, 1), "-q before the program is ours");
	cr_assert(eq(uint, o.max_depth, 64), "--max-depth after the program is not ours");
	cr_assert(eq(int, o.argc, 5), "everything from the program on is the program's");
	cr_assert(eq(str, o.argv[0], "ls"), "program");
	cr_assert(eq(str, o.argv[1], "-l"), "-l goes to ls");
	cr_assert(eq(str, o.argv[3], "--"), "a later -- goes to the program too");
	cr_assert(zero(ptr, (void *)o.argv[5]), "argv stays NULL-terminated");
}

Test(options, double_dash_ends_options)
{
	struct options o;
	char err[256];

	int rc = PARSE(&o, err, "--quiet", "--", "--weird", "-q");

	cr_assert(eq(int, rc, 0), "parses: %s", err);
	cr_assert(eq(int, o.argc, 2), "both words after -- are the program's");
	cr_assert(eq(str, o.argv[0], "--weird"), "a program name may start with --");
	cr_assert(eq(str, o.argv[1], "-q"), "-q after -- is the program's");

	rc = PARSE(&o, err, "--", "--");
	cr_assert(eq(int, rc, 0), "parses: %s", err);
	cr_assert(eq(str, o.argv[0], "--"), "the second -- is the program name");

	rc = PARSE(&o, err, "-", "x");
	cr_assert(eq(int, rc, 0), "parses: %s", err);
	cr_assert(eq(str, o.argv[0], "-"), "a lone - is a program name, not an option");
}

Test(options, no_program_is_an_error)
{
	struct options o;
	char err[256];

	cr_assert(eq(int, PARSE(&o, err), -EINVAL), "nothing to run");
	cr_assert(eq(str, err, "no program given"), "message");
	cr_assert(eq(int, PARSE(&o, err, "-q", "--max-depth=3"), -EINVAL), "options only");
	cr_assert(eq(str, err, "no program given"), "message after options");
	cr_assert(eq(int, PARSE(&o, err, "--"), -EINVAL), "-- and nothing after it");
	cr_assert(eq(str, err, "no program given"), "message after --");
	cr_assert(eq(int, options_parse(&o, 0, (char *[]){ NULL }, err, sizeof(err)), -EINVAL),
		  "an empty argv");
	cr_assert(eq(str, err, "no program given"), "message for an empty argv");
}

Test(options, short_error_buffer_is_truncated_and_terminated)
{
	struct options o;
	char err[8];

	memset(err, 'x', sizeof(err));
	cr_assert(eq(int, PARSE(&o, err, "--max-depth=0", "p"), -EINVAL), "rejected");
	cr_assert(eq(str, err, "--max-d"), "message cut to the buffer, NUL-terminated");
	cr_assert(eq(int, options_parse(&o, 2, (char *[]){ "ptrace-run", "--frob", NULL }, NULL, 0),
		     -EINVAL), "a NULL error buffer is allowed");
}

Test(options, export_round_trip)
{
	struct options o, back;
	char err[256];

	cr_assert(eq(int, PARSE(&o, err, "--sample-rate=1e-2", "--max-depth=08", "--no-memory",
				"--session-size=0016", "prog"), 0), "parses: %s", err);
	cr_assert(eq(int, options_export(&o), 0), "export succeeds");
	cr_assert(eq(str, getenv("PTRACE_SAMPLE_RATE"), "0.01"), "rate in its shortest spelling");
	cr_assert(eq(str, getenv("PTRACE_MAX_DEPTH"), "8"), "depth without leading zero");
	cr_assert(eq(str, getenv("PTRACE_TRACK_MEMORY"), "0"), "tracking as 0");
	cr_assert(eq(str, getenv("PTRACE_SESSION_SIZE"), "16"), "session size without leading zeros");

	cr_assert(eq(int, PARSE(&back, err, "prog"), 0), "the exported values parse: %s", err);
	cr_assert(eq(dbl, back.sample_rate, o.sample_rate), "rate survives the round trip");
	cr_assert(eq(uint, back.max_depth, 8), "depth survives the round trip");
	cr_assert(eq(int, back.track_memory, 0), "tracking survives the round trip");
	cr_assert(eq(uint, back.session_mb, 16), "session size survives the round trip");
}

Test(options, export_of_defaults)
{
	struct options o;
	char err[256];

	cr_assert(eq(int, PARSE(&o, err, "prog"), 0), "parses: %s", err);
	cr_assert(eq(int, options_export(&o), 0), "export succeeds");
	cr_assert(eq(str, getenv("PTRACE_SAMPLE_RATE"), "1"), "default rate");
	cr_assert(eq(str, getenv("PTRACE_MAX_DEPTH"), "64"), "default depth");
	cr_assert(eq(str, getenv("PTRACE_TRACK_MEMORY"), "1"), "default tracking");
	cr_assert(eq(str, getenv("PTRACE_SESSION_SIZE"), "1024"), "default session size");
}

Test(options, export_keeps_every_digit_a_rate_needs)
{
	struct options o;
	char err[256];

	cr_assert(eq(int, PARSE(&o, err, "--sample-rate=0.1", "prog"), 0), "parses: %s", err);
	cr_assert(eq(int, options_export(&o), 0), "export succeeds");
	cr_assert(eq(str, getenv("PTRACE_SAMPLE_RATE"), "0.1"), "0.1 stays 0.1, not 0.10000000000000001");

	o.sample_rate = 1.0 / 3.0;
	cr_assert(eq(int, options_export(&o), 0), "export succeeds");
	cr_assert(eq(str, getenv("PTRACE_SAMPLE_RATE"), "0.3333333333333333"), "1/3 needs 16 digits");
	cr_assert(eq(dbl, strtod(getenv("PTRACE_SAMPLE_RATE"), NULL), 1.0 / 3.0), "and reads back exactly");

	o.sample_rate = 1e-5;
	cr_assert(eq(int, options_export(&o), 0), "export succeeds");
	cr_assert(eq(str, getenv("PTRACE_SAMPLE_RATE"), "1e-05"), "small rates in exponent form");
	cr_assert(eq(int, PARSE(&o, err, "prog"), 0), "the exponent form parses back: %s", err);
	cr_assert(eq(dbl, o.sample_rate, 1e-5), "same value");
}

Test(options, export_leaves_report_files_alone)
{
	struct options o;
	char err[256];

	setenv("PTRACE_OUTPUT", "env.txt", 1);
	cr_assert(eq(int, PARSE(&o, err, "-o", "flag.txt", "--json=j", "prog"), 0), "parses: %s", err);
	cr_assert(eq(int, options_export(&o), 0), "export succeeds");
	cr_assert(eq(str, getenv("PTRACE_OUTPUT"), "env.txt"), "PTRACE_OUTPUT is the launcher's, untouched");
	cr_assert(zero(ptr, getenv("PTRACE_JSON")), "PTRACE_JSON not set by export");
}

Test(options, usage_lists_every_option_and_variable)
{
	static const char *const words[] = {
		"-o, --output=FILE", "--json=FILE", "--track-memory=BOOL", "--no-memory",
		"--sample-rate=R", "--max-depth=N", "--session-size=MB", "-q, --quiet", "-h, --help",
		"--version", "PTRACE_OUTPUT", "PTRACE_JSON", "PTRACE_TRACK_MEMORY", "PTRACE_SAMPLE_RATE",
		"PTRACE_MAX_DEPTH", "PTRACE_SESSION_SIZE", "1 to 256 frames (default 64)", "--debug-dir=DIR",
		"PTRACE_DEBUG_DIR",
		"16 to 32768 (default 1024)", "(08 is 8)",
	};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert(not(zero(ptr, f)), "memstream opens");
	options_usage(f);
	fclose(f);
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		cr_assert(not(zero(ptr, strstr(text, words[i]))), "usage mentions \"%s\"", words[i]);
	free(text);
}

/* Report files: 0600 unless --report-mode or PTRACE_REPORT_MODE says
 * otherwise, in octal as chmod takes it; set-ID bits and non-octal
 * digits are rejected. */
Test(options, report_mode_is_octal_and_private_by_default)
{
	static const struct {
		const char *arg;
		int rc;
		unsigned mode;
	} cases[] = {
		{ "--report-mode=600", 0, 0600 },  { "--report-mode=0644", 0, 0644 },
		{ "--report-mode=0", 0, 0 },       { "--report-mode=777", 0, 0777 },
		{ "--report-mode=4755", -EINVAL, 0 }, { "--report-mode=800", -EINVAL, 0 },
		{ "--report-mode=", -EINVAL, 0 },  { "--report-mode=0x1ff", -EINVAL, 0 },
		{ "--report-mode=00644", -EINVAL, 0 },
	};
	struct options o;
	char err[256];

	unsetenv("PTRACE_REPORT_MODE");
	cr_assert(eq(int, PARSE(&o, err, "prog"), 0), "parses");
	cr_assert(eq(uint, o.report_mode, 0600), "report files are 0600 by default");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert(eq(int, PARSE(&o, err, (char *)cases[i].arg, "prog"), cases[i].rc), "%s", cases[i].arg);
		if (!cases[i].rc)
			cr_assert(eq(uint, o.report_mode, cases[i].mode), "%s gives %o", cases[i].arg, cases[i].mode);
	}
	cr_assert(eq(int, PARSE(&o, err, "--report-mode=9", "prog"), -EINVAL), "9 is not octal");
	cr_assert(eq(str, err, "--report-mode=9: expected permission bits in octal from 0 to 777, e.g. 600 or 0644"),
		  "the message says what is expected");
	setenv("PTRACE_REPORT_MODE", "640", 1);
	cr_assert(eq(int, PARSE(&o, err, "prog"), 0), "the variable parses");
	cr_assert(eq(uint, o.report_mode, 0640), "PTRACE_REPORT_MODE=640");
	cr_assert(eq(int, PARSE(&o, err, "--report-mode=600", "prog"), 0), "the flag parses");
	cr_assert(eq(uint, o.report_mode, 0600), "the flag wins over the variable");
	unsetenv("PTRACE_REPORT_MODE");
}

/* The live view: --live and --live-remote are flags whose variables say
 * 0 or 1; --live-interval takes seconds from 0.1 to 3600. */
Test(options, live_view_flags_and_their_variables)
{
	struct options o;
	char err[256];

	unsetenv("PTRACE_LIVE");
	unsetenv("PTRACE_LIVE_REMOTE");
	unsetenv("PTRACE_LIVE_INTERVAL");
	cr_assert(eq(int, PARSE(&o, err, "prog"), 0), "parses");
	cr_assert(eq(int, o.live, 0), "no live view by default");
	cr_assert(eq(int, o.live_remote, 0), "no --live-remote by default");
	cr_assert(eq(dbl, o.live_interval, 1.0), "refresh every second by default");
	cr_assert(eq(int, PARSE(&o, err, "--live", "--live-remote", "--live-interval=0.5", "prog"), 0), "parses: %s",
		  err);
	cr_assert(eq(int, o.live, 1), "--live");
	cr_assert(eq(int, o.live_remote, 1), "--live-remote");
	cr_assert(eq(dbl, o.live_interval, 0.5), "--live-interval=0.5");
	cr_assert(eq(int, PARSE(&o, err, "--live=1", "prog"), -EINVAL), "--live takes no value");
	cr_assert(eq(str, err, "--live=1: --live takes no value"), "the message");
	cr_assert(eq(int, PARSE(&o, err, "--live-interval=0.05", "prog"), -EINVAL), "0.05 s is too short");
	cr_assert(eq(str, err, "--live-interval=0.05: expected a number of seconds from 0.1 to 3600"), "the message");
	cr_assert(eq(int, PARSE(&o, err, "--live-interval=3601", "prog"), -EINVAL), "3601 s is too long");

	setenv("PTRACE_LIVE", "1", 1);
	setenv("PTRACE_LIVE_REMOTE", "yes", 1);
	setenv("PTRACE_LIVE_INTERVAL", "2", 1);
	cr_assert(eq(int, PARSE(&o, err, "prog"), 0), "the variables parse: %s", err);
	cr_assert(eq(int, o.live, 1), "PTRACE_LIVE=1");
	cr_assert(eq(int, o.live_remote, 1), "PTRACE_LIVE_REMOTE=yes");
	cr_assert(eq(dbl, o.live_interval, 2.0), "PTRACE_LIVE_INTERVAL=2");
	setenv("PTRACE_LIVE", "0", 1);
	cr_assert(eq(int, PARSE(&o, err, "prog"), 0), "PTRACE_LIVE=0 parses");
	cr_assert(eq(int, o.live, 0), "PTRACE_LIVE=0: no view");
	cr_assert(eq(int, PARSE(&o, err, "--live", "prog"), 0), "parses");
	cr_assert(eq(int, o.live, 1), "--live wins over PTRACE_LIVE=0");
	setenv("PTRACE_LIVE", "maybe", 1);
	cr_assert(eq(int, PARSE(&o, err, "prog"), -EINVAL), "PTRACE_LIVE=maybe is refused");
	cr_assert(eq(str, err, "PTRACE_LIVE=maybe: expected 0 or 1 (or yes/no, on/off, true/false)"), "the message");
	unsetenv("PTRACE_LIVE");
	unsetenv("PTRACE_LIVE_REMOTE");
	unsetenv("PTRACE_LIVE_INTERVAL");
}

/* --debug-dir: existing directories, repeatable and ':'-separated, kept
 * absolute and canonical (libdwfl reads a relative entry as a
 * subdirectory of each module's directory); the variable when no flag. */
Test(options, debug_dirs_are_canonical_repeatable_and_checked)
{
	char top[] = "/tmp/ptrace-options-XXXXXX", a[64], b[64], link[64], file[64], colon[64], via[64];
	char want[PATH_MAX + 256], cwd_tests[PATH_MAX], arg[160], msg[512];
	struct options o;
	char err[512];
	FILE *f;

	cr_assert(not(zero(ptr, mkdtemp(top))), "mkdtemp");
	snprintf(a, sizeof(a), "%s/a", top);
	snprintf(b, sizeof(b), "%s/b", top);
	snprintf(link, sizeof(link), "%s/l", top);
	snprintf(file, sizeof(file), "%s/f", top);
	snprintf(colon, sizeof(colon), "%s/x:y", top);
	snprintf(via, sizeof(via), "%s/c", top);
	cr_assert(eq(int, mkdir(a, 0700) | mkdir(b, 0700) | mkdir(colon, 0700), 0), "mkdir");
	cr_assert(eq(int, symlink(a, link) | symlink(colon, via), 0), "symlink");
	cr_assert(not(zero(ptr, f = fopen(file, "w"))), "a plain file");
	fclose(f);
	cr_assert(not(zero(ptr, realpath("tests", cwd_tests))), "realpath tests");
	unsetenv("PTRACE_DEBUG_DIR");

	cr_assert(eq(int, PARSE(&o, err, "prog"), 0), "parses");
	cr_assert(eq(str, o.debug_dirs, ""), "none by default");
	snprintf(arg, sizeof(arg), "--debug-dir=%s:%s", b, link);
	cr_assert(eq(int, PARSE(&o, err, "--debug-dir", a, arg, "--debug-dir=tests", "prog"), 0), "parses: %s", err);
	snprintf(want, sizeof(want), "%s:%s:%s:%s", a, b, a, cwd_tests);
	cr_assert(eq(str, o.debug_dirs, want), "in order, canonical: the link is its directory, tests absolute");

	setenv("PTRACE_DEBUG_DIR", b, 1);
	cr_assert(eq(int, PARSE(&o, err, "prog"), 0), "the variable parses: %s", err);
	cr_assert(eq(str, o.debug_dirs, b), "PTRACE_DEBUG_DIR");
	snprintf(arg, sizeof(arg), "--debug-dir=%s", a);
	cr_assert(eq(int, PARSE(&o, err, arg, "prog"), 0), "parses");
	cr_assert(eq(str, o.debug_dirs, a), "the flag wins over the variable");
	setenv("PTRACE_DEBUG_DIR", "/nonexistent-ptrace-dir", 1);
	cr_assert(eq(int, PARSE(&o, err, "prog"), -EINVAL), "a missing directory in the variable");
	cr_assert(eq(str, err,
		     "PTRACE_DEBUG_DIR=/nonexistent-ptrace-dir: /nonexistent-ptrace-dir: No such file or directory "
		     "(expected existing directories, separated by ':')"),
		  "the message names the variable and the directory");
	unsetenv("PTRACE_DEBUG_DIR");

	snprintf(arg, sizeof(arg), "--debug-dir=%s:/nonexistent-ptrace-dir", a);
	cr_assert(eq(int, PARSE(&o, err, arg, "prog"), -EINVAL), "a missing directory");
	snprintf(msg, sizeof(msg),
		 "%s: /nonexistent-ptrace-dir: No such file or directory (expected existing directories, separated by "
		 "':')",
		 arg);
	cr_assert(eq(str, err, msg), "the message names the one missing");
	snprintf(arg, sizeof(arg), "--debug-dir=%s", file);
	cr_assert(eq(int, PARSE(&o, err, arg, "prog"), -EINVAL), "a file is no directory");
	snprintf(msg, sizeof(msg), "%s: %s: not a directory (expected existing directories, separated by ':')", arg,
		 file);
	cr_assert(eq(str, err, msg), "the message");
	snprintf(arg, sizeof(arg), "--debug-dir=%s::%s", a, b);
	cr_assert(eq(int, PARSE(&o, err, arg, "prog"), -EINVAL), "an empty name between two");
	snprintf(msg, sizeof(msg), "%s: an empty name (expected existing directories, separated by ':')", arg);
	cr_assert(eq(str, err, msg), "the message");
	cr_assert(eq(int, PARSE(&o, err, "--debug-dir=", "prog"), -EINVAL), "an empty value");
	cr_assert(eq(str, err, "--debug-dir=: an empty value (expected existing directories, separated by ':')"),
		  "the message");
	snprintf(arg, sizeof(arg), "--debug-dir=%s", via);
	cr_assert(eq(int, PARSE(&o, err, arg, "prog"), -EINVAL), "a directory whose real path has a ':'");
	snprintf(msg, sizeof(msg), "%s: %s: its path %s has a ':', which separates directories", arg, via, colon);
	cr_assert(eq(str, err, msg), "the message");
	cr_assert(eq(int, PARSE(&o, err, "--debug-dir"), -EINVAL), "a missing value");
	cr_assert(eq(str, err, "--debug-dir: missing value (expected existing directories, separated by ':')"),
		  "the message");

	unlink(file);
	unlink(link);
	unlink(via);
	rmdir(a);
	rmdir(b);
	rmdir(colon);
	rmdir(top);
}

Test(options, sample_bytes_takes_sizes)
{
	struct options o;
	char err[256];

	cr_assert(eq(int, PARSE(&o, err, "prog"), 0), "%s", err);
	cr_assert(eq(u64, o.sample_bytes, 0), "off by default");
	cr_assert(eq(int, PARSE(&o, err, "--sample-bytes=512K", "prog"), 0), "%s", err);
	cr_assert(eq(u64, o.sample_bytes, 524288), "512K");
	cr_assert(eq(int, PARSE(&o, err, "--sample-bytes=3M", "prog"), 0), "%s", err);
	cr_assert(eq(u64, o.sample_bytes, 3u << 20), "3M");
	cr_assert(eq(int, PARSE(&o, err, "--sample-bytes=1000", "prog"), 0), "%s", err);
	cr_assert(eq(u64, o.sample_bytes, 1000), "plain bytes");
	cr_assert(eq(int, PARSE(&o, err, "--sample-bytes=1T", "prog"), 0), "%s", err);
	cr_assert(eq(u64, o.sample_bytes, 1ull << 40), "the largest");
	cr_assert(eq(int, PARSE(&o, err, "--sample-bytes=2T", "prog"), -EINVAL), "above 1 TiB");
	cr_assert(eq(int, PARSE(&o, err, "--sample-bytes=5X", "prog"), -EINVAL), "no such unit");
	cr_assert(eq(int, PARSE(&o, err, "--sample-bytes=K", "prog"), -EINVAL), "no digits");
	cr_assert(eq(int, PARSE(&o, err, "--sample-bytes=1KB", "prog"), -EINVAL), "one unit letter");
	cr_assert(eq(int, PARSE(&o, err, "--sample-bytes=64K", "--sample-rate=0.5", "prog"), -EINVAL),
		  "one way of sampling");
}
