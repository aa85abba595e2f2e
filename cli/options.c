/*
 * Command line and environment parsing for the launcher. One table lists
 * every option with its environment variable, so a flag and its variable
 * cannot drift apart in name, syntax or error message.
 *
 * Value syntax is deliberately narrow: numbers are plain decimal (leading
 * zeros allowed, never octal or hex), no sign, no surrounding blanks, no
 * nan/inf. A value the launcher accepts is one the agent accepts too,
 * because options_export hands the agent the canonical spelling.
 */
#include "options.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "session_format.h"
#include "settings.h"

enum kind {
	K_FLAG,   /* no value */
	K_FILE,   /* non-empty string */
	K_BOOL,
	K_RATE,   /* number in (0,1] */
	K_UINT,   /* integer in [lo, hi] */
	K_SIGNAL, /* a dump signal: QUIT, USR1, USR2, RTMIN+N, RTMAX-N or a number; 0 none */
	K_SECONDS, /* a decimal number of seconds in (0, OPTIONS_MAX_DUMP_AFTER] */
	K_GLOBS,  /* comma-separated globs on function names */
	K_DURATION, /* integer with ns, us, ms or s (default ns) */
	K_MODE,   /* file permission bits in octal, as chmod takes them: 600, 0644 */
	K_LEAK,   /* full or off */
	K_UNWIND, /* cfi, libunwind or check */
	K_CPU_TIMER, /* tick or exact */
	K_DIRS,   /* existing directories, colon-separated; repeatable */
	K_BYTES,  /* a size: an integer with an optional K, M or G (binary) */
};

/* Which struct options field a setting writes; also its bit in "given". */
enum field {
	F_OUTPUT,
	F_JSON,
	F_TRACK_MEMORY,
	F_SAMPLE_RATE,
	F_MAX_DEPTH,
	F_SESSION_MB,
	F_QUIET,
	F_HELP,
	F_VERSION,
	F_CPU_HZ,
	F_DUMP_SIGNAL,
	F_DUMP_AFTER,
	F_FILTER,
	F_EXCLUDE,
	F_MAX_CALL_DEPTH,
	F_MIN_DURATION,
	F_CORRECT_TIMES,
	F_REPORT_MODE,
	F_PROFILE,
	F_SAVE_PROFILE,
	F_INTERVAL,
	F_SNAPSHOT_EVERY,
	F_SNAPSHOT_SIGNAL,
	F_TIMELINE,
	F_TIMELINE_MIN,
	F_SUPPRESSIONS,
	F_BUILTIN_SUPPRESSIONS,
	F_LIVE,
	F_LIVE_REMOTE,
	F_LIVE_INTERVAL,
	F_LEAK_CHECK,
	F_DEBUG_DIR,
	F_SAMPLE_BYTES,
	F_UNWIND,
	F_CPU_TIMER,
};

struct setting {
	const char *name;  /* long option without "--" */
	char shortopt;     /* 0: none */
	const char *env;   /* NULL: command line only */
	enum kind kind;
	enum field field;
	unsigned lo, hi;   /* K_UINT bounds, inclusive */
};

static const struct setting settings[] = {
	{ "output", 'o', "PTRACE_OUTPUT", K_FILE, F_OUTPUT, 0, 0 },
	{ "json", 0, "PTRACE_JSON", K_FILE, F_JSON, 0, 0 },
	{ "report-mode", 0, "PTRACE_REPORT_MODE", K_MODE, F_REPORT_MODE, 0, 0 },
	{ "profile", 'p', "PTRACE_PROFILE", K_FILE, F_PROFILE, 0, 0 },
	{ "save-profile", 0, "PTRACE_SAVE_PROFILE", K_BOOL, F_SAVE_PROFILE, 0, 0 },
	{ "no-profile", 0, NULL, K_FLAG, F_SAVE_PROFILE, 0, 0 },
	{ "track-memory", 0, "PTRACE_TRACK_MEMORY", K_BOOL, F_TRACK_MEMORY, 0, 0 },
	{ "no-memory", 0, NULL, K_FLAG, F_TRACK_MEMORY, 0, 0 },
	{ "sample-rate", 0, "PTRACE_SAMPLE_RATE", K_RATE, F_SAMPLE_RATE, 0, 0 },
	{ "sample-bytes", 0, "PTRACE_SAMPLE_BYTES", K_BYTES, F_SAMPLE_BYTES, 0, 0 },
	{ "max-depth", 0, "PTRACE_MAX_DEPTH", K_UINT, F_MAX_DEPTH, 1, SF_DEPTH_LIMIT },
	{ "session-size", 0, "PTRACE_SESSION_SIZE", K_UINT, F_SESSION_MB,
	  OPTIONS_MIN_SESSION_MB, OPTIONS_MAX_SESSION_MB },
	{ "cpu-hz", 0, "PTRACE_CPU_HZ", K_UINT, F_CPU_HZ, 0, SF_MAX_CPU_HZ },
	{ "cpu-timer", 0, "PTRACE_CPU_TIMER", K_CPU_TIMER, F_CPU_TIMER, 0, 0 },
	{ "dump-signal", 0, "PTRACE_DUMP_SIGNAL", K_SIGNAL, F_DUMP_SIGNAL, 0, 0 },
	{ "dump-after", 0, "PTRACE_DUMP_AFTER", K_SECONDS, F_DUMP_AFTER, 0, 0 },
	{ "filter", 0, "PTRACE_FILTER", K_GLOBS, F_FILTER, 0, 0 },
	{ "exclude", 0, "PTRACE_EXCLUDE", K_GLOBS, F_EXCLUDE, 0, 0 },
	{ "max-call-depth", 0, "PTRACE_MAX_CALL_DEPTH", K_UINT, F_MAX_CALL_DEPTH, 1, SF_FMAX_CALL_DEPTH },
	{ "min-duration", 0, "PTRACE_MIN_DURATION", K_DURATION, F_MIN_DURATION, 0, 0 },
	{ "correct-times", 0, "PTRACE_CORRECT_TIMES", K_BOOL, F_CORRECT_TIMES, 0, 0 },
	{ "suppressions", 0, "PTRACE_SUPPRESSIONS", K_FILE, F_SUPPRESSIONS, 0, 0 },
	{ "builtin-suppressions", 0, "PTRACE_BUILTIN_SUPPRESSIONS", K_BOOL, F_BUILTIN_SUPPRESSIONS, 0, 0 },
	{ "leak-check", 0, "PTRACE_LEAK_CHECK", K_LEAK, F_LEAK_CHECK, 0, 0 },
	{ "unwind", 0, "PTRACE_UNWIND", K_UNWIND, F_UNWIND, 0, 0 },
	{ "timeline", 0, "PTRACE_TIMELINE", K_BOOL, F_TIMELINE, 0, 0 },
	{ "timeline-min", 0, "PTRACE_TIMELINE_MIN", K_DURATION, F_TIMELINE_MIN, 0, 0 },
	{ "interval", 0, "PTRACE_INTERVAL", K_DURATION, F_INTERVAL, 0, 0 },
	{ "snapshot-every", 0, "PTRACE_SNAPSHOT_EVERY", K_DURATION, F_SNAPSHOT_EVERY, 0, 0 },
	{ "snapshot-signal", 0, "PTRACE_SNAPSHOT_SIGNAL", K_SIGNAL, F_SNAPSHOT_SIGNAL, 0, 0 },
	{ "debug-dir", 0, "PTRACE_DEBUG_DIR", K_DIRS, F_DEBUG_DIR, 0, 0 },
	/* Flags with a variable: the variable takes 0 or 1 (setting_apply). */
	{ "live", 0, "PTRACE_LIVE", K_FLAG, F_LIVE, 0, 0 },
	{ "live-remote", 0, "PTRACE_LIVE_REMOTE", K_FLAG, F_LIVE_REMOTE, 0, 0 },
	{ "live-interval", 0, "PTRACE_LIVE_INTERVAL", K_SECONDS, F_LIVE_INTERVAL, 0, 0 },
	{ "quiet", 'q', NULL, K_FLAG, F_QUIET, 0, 0 },
	{ "help", 'h', NULL, K_FLAG, F_HELP, 0, 0 },
	{ "version", 0, NULL, K_FLAG, F_VERSION, 0, 0 },
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

static void say(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* What a setting expects, for error messages: "expected ...". */
static void setting_expect(const struct setting *s, char *buf, size_t len)
{
	switch (s->kind) {
	case K_FILE:
		snprintf(buf, len, "expected a file name");
		break;
	case K_BOOL:
		snprintf(buf, len, "expected 0 or 1 (or yes/no, on/off, true/false)");
		break;
	case K_RATE:
		snprintf(buf, len, "expected a number in (0,1]");
		break;
	case K_BYTES:
		snprintf(buf, len, "expected a size from 1 to 1T: an integer with an optional K, M or G, e.g. 512K (0: off)");
		break;
	case K_UINT:
		snprintf(buf, len, "expected an integer from %u to %u", s->lo, s->hi);
		break;
	case K_FLAG:
		/* Only a flag's variable gets here with a value: a boolean. */
		snprintf(buf, len, s->env ? "expected 0 or 1 (or yes/no, on/off, true/false)" : "takes no value");
		break;
	case K_SIGNAL:
		snprintf(buf, len, "expected QUIT, USR1, USR2, RTMIN+N, RTMAX-N, 3, 10, 12 or 34 to 64 (0: none)");
		break;
	case K_SECONDS:
		if (s->field == F_LIVE_INTERVAL)
			snprintf(buf, len, "expected a number of seconds from %.1f to %.0f", OPTIONS_MIN_LIVE_INTERVAL,
				 OPTIONS_MAX_LIVE_INTERVAL);
		else
			snprintf(buf, len, "expected a number of seconds in (0,%.0f]", OPTIONS_MAX_DUMP_AFTER);
		break;
	case K_GLOBS:
		snprintf(buf, len, "expected comma-separated globs on function names, e.g. 'parse_*,main'");
		break;
	case K_DURATION:
		snprintf(buf, len, "expected a duration: an integer with ns, us, ms or s (default ns), e.g. 20us");
		break;
	case K_MODE:
		snprintf(buf, len, "expected permission bits in octal from 0 to 777, e.g. 600 or 0644");
		break;
	case K_LEAK:
		snprintf(buf, len, "expected full or off");
		break;
	case K_UNWIND:
		snprintf(buf, len, "expected cfi, libunwind or check");
		break;
	case K_CPU_TIMER:
		snprintf(buf, len, "expected tick or exact");
		break;
	case K_DIRS:
		snprintf(buf, len, OPTIONS_DIRS_EXPECT);
		break;
	}
}

/* Non-empty globs separated by single commas; a '[' must be closed. */
int options_check_globs(const char *s)
{
	if (!*s)
		return -EINVAL;
	for (const char *p = s; *p;) {
		size_t n = strcspn(p, ",");
		const char *open = memchr(p, '[', n);

		if (!n || (open && !memchr(open, ']', n - (size_t)(open - p))))
			return -EINVAL;
		p += n;
		if (*p == ',' && !*++p)
			return -EINVAL; /* a trailing comma */
	}
	return 0;
}

/*
 * Directories are made absolute and canonical here: libdwfl reads a
 * relative entry of its search path as a subdirectory of each module's
 * own directory, and splits the path at every ':'.
 */
int options_debug_dirs(const char *val, char *dirs, size_t len, char *err, size_t errlen)
{
	size_t used = strlen(dirs);

	if (!*val) {
		say(err, errlen, "an empty value (" OPTIONS_DIRS_EXPECT ")");
		return -EINVAL;
	}
	for (const char *p = val;; p++) {
		size_t n = strcspn(p, ":"), rn;
		char part[PATH_MAX], real[PATH_MAX];
		struct stat st;

		if (!n || n >= sizeof(part)) {
			say(err, errlen, "%s (" OPTIONS_DIRS_EXPECT ")", n ? "a name too long" : "an empty name");
			return -EINVAL;
		}
		memcpy(part, p, n);
		part[n] = '\0';
		if (!realpath(part, real) || stat(real, &st)) {
			say(err, errlen, "%s: %s (" OPTIONS_DIRS_EXPECT ")", part, strerror(errno));
			return -EINVAL;
		}
		if (!S_ISDIR(st.st_mode)) {
			say(err, errlen, "%s: not a directory (" OPTIONS_DIRS_EXPECT ")", part);
			return -EINVAL;
		}
		if (strchr(real, ':')) {
			say(err, errlen, "%s: its path %s has a ':', which separates directories", part, real);
			return -EINVAL;
		}
		rn = strlen(real);
		if (used + (used > 0) + rn >= len) {
			say(err, errlen, "more than %zu bytes of directories in all", len - 1);
			return -EINVAL;
		}
		if (used)
			dirs[used++] = ':';
		memcpy(dirs + used, real, rn + 1);
		used += rn;
		p += n;
		if (!*p)
			return 0;
	}
}

/* "500", "500ns", "20us", "5ms", "2s": the syntax agent/func.c reads. */
static int parse_duration(const char *s, unsigned long long *out)
{
	static const struct {
		const char *unit;
		unsigned long long ns;
	} units[] = { { "", 1 }, { "ns", 1 }, { "us", 1000 }, { "ms", 1000000 }, { "s", 1000000000 } };
	unsigned long long v = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++)
		if ((v = v * 10 + (unsigned)(*s - '0')) > OPTIONS_MAX_DURATION_NS)
			return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(s, units[i].unit)) {
			if (v > OPTIONS_MAX_DURATION_NS / units[i].ns)
				return -EINVAL;
			*out = v * units[i].ns;
			return 0;
		}
	return -EINVAL;
}

/*
 * The dump signals agent/settings.c accepts, in the same syntax: signals a
 * program does not need to die or stop by, and not SIGPROF (the sampler's).
 */
static int parse_signal(const char *s, int *out)
{
	static const struct {
		const char *name;
		int sig;
	} named[] = { { "QUIT", 3 }, { "USR1", 10 }, { "USR2", 12 } };
	unsigned n;

	if (!strcmp(s, "0")) {
		*out = 0;
		return 0;
	}
	if (!strncmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		if (!strcmp(s, named[i].name)) {
			*out = named[i].sig;
			return 0;
		}
	}
	if (!strncmp(s, "RTMIN+", 6) || !strncmp(s, "RTMAX-", 6)) {
		const char *d = s + 6;

		for (n = 0; *d >= '0' && *d <= '9' && n <= 30; d++)
			n = n * 10 + (unsigned)(*d - '0');
		if (d == s + 6 || *d || n > 30)
			return -EINVAL;
		*out = s[3] == 'I' ? 34 + (int)n : 64 - (int)n;
		return 0;
	}
	for (n = 0; *s >= '0' && *s <= '9' && n <= 64; s++)
		n = n * 10 + (unsigned)(*s - '0');
	if (*s || !(n == 3 || n == 10 || n == 12 || (n >= 34 && n <= 64)))
		return -EINVAL;
	*out = (int)n;
	return 0;
}

/* Seconds: plain decimal, a fraction allowed ("0.5", "2", "1.25"). */
static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	if (!(s[0] >= '0' && s[0] <= '9') && s[0] != '.')
		return -EINVAL;
	for (const char *p = s; *p; p++)
		if (!(*p >= '0' && *p <= '9') && *p != '.')
			return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno == ERANGE || !(v > 0.0 && v <= OPTIONS_MAX_DUMP_AFTER))
		return -EINVAL;
	*out = v;
	return 0;
}

/* Octal permission bits, 1 to 4 digits, at most 0777: set-ID and sticky
 * bits make no sense on a report. */
static int parse_mode(const char *s, unsigned *out)
{
	unsigned v = 0;
	size_t n = strlen(s);

	if (!n || n > 4)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '7')
			return -EINVAL;
		v = v * 8 + (unsigned)(*s - '0');
	}
	if (v > 0777)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Lower case only: exactly the words agent/settings.c accepts. */
static int parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "1", "yes", "on", "true" };
	static const char *const no[] = { "0", "no", "off", "false" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(s, yes[i])) {
			*out = 1;
			return 0;
		}
		if (!strcmp(s, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * A decimal number in (0,1]: "0.25", ".5", "1", "1e-2". The character
 * check keeps strtod from accepting blanks, signs, hex floats, nan and inf.
 * Underflow (ERANGE) is rejected: such a rate would mean "never sample".
 * strtod follows LC_NUMERIC; the launcher never calls setlocale.
 */
static int parse_rate(const char *s, double *out)
{
	char *end;
	double v;

	if (!((s[0] >= '0' && s[0] <= '9') || s[0] == '.'))
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (!(*p >= '0' && *p <= '9') && !strchr(".eE+-", *p))
			return -EINVAL;
	}
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno == ERANGE || !(v > 0.0 && v <= 1.0))
		return -EINVAL;
	*out = v;
	return 0;
}

/* Plain decimal digits, at least one; "08" is 8. No overflow: once v
 * exceeds hi (at most 65536 here) it stops growing. */
static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	unsigned long long v = 0;

	if (!*s)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		if (v <= hi)
			v = v * 10 + (unsigned)(*p - '0');
	}
	if (v < lo || v > hi)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

/* Store val (NULL for K_FLAG) into o; -EINVAL when val is not acceptable. */
static int setting_apply(struct options *o, const struct setting *s, const char *val)
{
	unsigned u;
	double d;
	int b;

	switch (s->kind) {
	case K_FLAG:
		/* A flag's variable (only the live view's have one) says 0 or 1. */
		if (val && (s->field == F_LIVE || s->field == F_LIVE_REMOTE)) {
			if (parse_bool(val, &b))
				return -EINVAL;
			if (s->field == F_LIVE)
				o->live = b;
			else
				o->live_remote = b;
			return 0;
		}
		switch (s->field) {
		case F_LIVE: o->live = 1; break;
		case F_LIVE_REMOTE: o->live_remote = 1; break;
		case F_TRACK_MEMORY: o->track_memory = 0; break; /* --no-memory */
		case F_SAVE_PROFILE: o->save_profile = 0; break; /* --no-profile */
		case F_QUIET: o->quiet = 1; break;
		case F_HELP: o->help = 1; break;
		case F_VERSION: o->version = 1; break;
		default: return -EINVAL;
		}
		return 0;
	case K_FILE:
		if (!*val)
			return -EINVAL;
		if (s->field == F_OUTPUT)
			o->output = val;
		else if (s->field == F_SUPPRESSIONS)
			o->suppressions = val;
		else if (s->field == F_PROFILE)
			o->profile = val;
		else
			o->json = val;
		return 0;
	case K_BOOL:
		if (parse_bool(val, &b))
			return -EINVAL;
		if (s->field == F_CORRECT_TIMES)
			o->correct_times = b;
		else if (s->field == F_TIMELINE)
			o->timeline = b;
		else if (s->field == F_BUILTIN_SUPPRESSIONS)
			o->builtin_suppressions = b;
		else if (s->field == F_SAVE_PROFILE)
			o->save_profile = b;
		else
			o->track_memory = b;
		return 0;
	case K_RATE:
		if (parse_rate(val, &d))
			return -EINVAL;
		o->sample_rate = d;
		return 0;
	case K_BYTES:
		return settings_parse_bytes(val, &o->sample_bytes);
	case K_UINT:
		if (parse_uint(val, s->lo, s->hi, &u))
			return -EINVAL;
		if (s->field == F_MAX_DEPTH)
			o->max_depth = u;
		else if (s->field == F_CPU_HZ)
			o->cpu_hz = u;
		else if (s->field == F_MAX_CALL_DEPTH)
			o->max_call_depth = u;
		else
			o->session_mb = u;
		return 0;
	case K_SIGNAL:
		return parse_signal(val, s->field == F_SNAPSHOT_SIGNAL ? &o->snapshot_signal : &o->dump_signal);
	case K_SECONDS:
		if (s->field != F_LIVE_INTERVAL)
			return parse_seconds(val, &o->dump_after);
		if (parse_seconds(val, &d) || d < OPTIONS_MIN_LIVE_INTERVAL || d > OPTIONS_MAX_LIVE_INTERVAL)
			return -EINVAL;
		o->live_interval = d;
		return 0;
	case K_GLOBS:
		if (options_check_globs(val))
			return -EINVAL;
		if (s->field == F_FILTER)
			o->func_filter = val;
		else
			o->func_exclude = val;
		return 0;
	case K_DURATION:
		return parse_duration(val, s->field == F_INTERVAL	   ? &o->interval_ns
					   : s->field == F_SNAPSHOT_EVERY ? &o->snapshot_every_ns
					   : s->field == F_TIMELINE_MIN	  ? &o->timeline_min_ns
									  : &o->min_duration_ns);
	case K_MODE:
		return parse_mode(val, &o->report_mode);
	case K_LEAK:
		if (strcmp(val, "full") && strcmp(val, "off"))
			return -EINVAL;
		o->leak_check = !strcmp(val, "full");
		return 0;
	case K_UNWIND:
		if (strcmp(val, "cfi") && strcmp(val, "libunwind") && strcmp(val, "check"))
			return -EINVAL;
		o->unwind = val;
		return 0;
	case K_CPU_TIMER:
		if (strcmp(val, "tick") && strcmp(val, "exact"))
			return -EINVAL;
		o->cpu_timer = val;
		return 0;
	case K_DIRS:
		break; /* setting_apply_msg */
	}
	return -EINVAL;
}

/* setting_apply, with the one-line message in err on failure: what (the
 * flag or the variable, and its value), then what was expected. */
static int setting_apply_msg(struct options *o, const struct setting *s, const char *val, const char *what,
			     char *err, size_t errlen)
{
	char detail[PATH_MAX + 160];

	if (s->kind == K_DIRS) {
		if (!options_debug_dirs(val, o->debug_dirs, sizeof(o->debug_dirs), detail, sizeof(detail)))
			return 0;
		say(err, errlen, "%s=%s: %s", what, val, detail);
		return -EINVAL;
	}
	if (!setting_apply(o, s, val))
		return 0;
	setting_expect(s, detail, sizeof(detail));
	say(err, errlen, "%s=%s: %s", what, val, detail);
	return -EINVAL;
}

static const struct setting *find_long(const char *name, size_t len)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		if (strlen(settings[i].name) == len && !strncmp(settings[i].name, name, len))
			return &settings[i];
	}
	return NULL;
}

static const struct setting *find_short(char c)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		if (settings[i].shortopt && settings[i].shortopt == c)
			return &settings[i];
	}
	return NULL;
}

/*
 * One option at argv[*i]; advances *i past a separate value. Sets the
 * setting's bit in *given so the environment cannot override it.
 */
static int parse_one(struct options *o, int argc, char **argv, int *i, uint64_t *given,
		     char *err, size_t errlen)
{
	const char *arg = argv[*i];
	const struct setting *s;
	const char *val = NULL;
	char expect[80], flag[64];

	if (arg[1] == '-') {
		const char *name = arg + 2;
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);

		s = find_long(name, len);
		if (!s) {
			say(err, errlen, "unknown option --%.*s (see ptrace-run --help)", (int)len, name);
			return -EINVAL;
		}
		if (eq) {
			if (s->kind == K_FLAG) {
				say(err, errlen, "%s: --%s takes no value", arg, s->name);
				return -EINVAL;
			}
			val = eq + 1;
		}
	} else {
		s = find_short(arg[1]);
		/* No clustering: "-qo FILE" is an unknown option, not two. */
		if (!s || (s->kind == K_FLAG && arg[2])) {
			say(err, errlen, "unknown option %s (see ptrace-run --help)", arg);
			return -EINVAL;
		}
		if (arg[2])
			val = arg + 2;
	}

	if (s->kind != K_FLAG && !val) {
		if (*i + 1 >= argc) {
			setting_expect(s, expect, sizeof(expect));
			say(err, errlen, "%s: missing value (%s)", arg, expect);
			return -EINVAL;
		}
		val = argv[++*i];
	}
	snprintf(flag, sizeof(flag), "--%s", s->name);
	if (setting_apply_msg(o, s, val, flag, err, errlen))
		return -EINVAL;
	*given |= 1ull << s->field;
	return 0;
}

int options_parse(struct options *o, int argc, char **argv, char *err, size_t errlen)
{
	uint64_t given = 0;
	int i;

	memset(o, 0, sizeof(*o));
	o->track_memory = 1;
	o->sample_rate = OPTIONS_DEFAULT_SAMPLE_RATE;
	o->max_depth = SF_DEFAULT_DEPTH;
	o->session_mb = OPTIONS_DEFAULT_SESSION_MB;
	o->cpu_hz = SF_DEFAULT_CPU_HZ;
	o->max_call_depth = SF_FDEFAULT_CALL_DEPTH;
	o->correct_times = 1;
	o->report_mode = OPTIONS_DEFAULT_REPORT_MODE;
	o->save_profile = 1;
	o->interval_ns = 10000000ull;
	o->timeline = 1;
	o->builtin_suppressions = 1;
	o->leak_check = 1;
	o->unwind = "cfi";
	o->cpu_timer = "tick";
	o->timeline_min_ns = 100000ull;
	o->live_interval = 1.0;
	if (err && errlen)
		err[0] = '\0';

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		/* The first non-option is the program; "-" alone is a name too. */
		if (arg[0] != '-' || arg[1] == '\0')
			break;
		if (!strcmp(arg, "--")) {
			i++;
			break;
		}
		if (parse_one(o, argc, argv, &i, &given, err, errlen))
			return -EINVAL;
	}
	if (i < argc) {
		o->argv = argv + i;
		o->argc = argc - i;
	}
	if (o->help || o->version)
		return 0;
	if (!o->argc) {
		say(err, errlen, "no program given");
		return -EINVAL;
	}

	for (size_t k = 0; k < NSETTINGS; k++) {
		const struct setting *s = &settings[k];
		const char *val;

		if (!s->env || (given & (1ull << s->field)))
			continue;
		val = getenv(s->env);
		if (!val || !*val)
			continue;
		if (setting_apply_msg(o, s, val, s->env, err, errlen))
			return -EINVAL;
	}
	/* -p FILE asks for a profile: an environment that turns them off
	 * does not undo a flag (--no-profile with it does). */
	if ((given & (1ull << F_PROFILE)) && !(given & (1ull << F_SAVE_PROFILE)))
		o->save_profile = 1;
	if (o->sample_bytes && o->sample_rate < 1) {
		say(err, errlen, "--sample-bytes and --sample-rate below 1 are two ways of sampling: give one");
		return -EINVAL;
	}
	/* --dump-after needs a signal to send: USR2 unless one was given. */
	if (o->dump_after > 0 && !o->dump_signal)
		o->dump_signal = 12;
	return 0;
}

void options_usage(FILE *f)
{
	fprintf(f,
		"Usage: ptrace-run [options] [--] program [args...]\n"
		"       ptrace-run report [options] PROFILE   (see ptrace-run report --help)\n"
		"       ptrace-run diff [options] BASE NEW    (see ptrace-run diff --help)\n"
		"       ptrace-run live PID                   (the live view of a profiled run)\n"
		"\n"
		"Runs program with the ptrace-run agent preloaded (LD_PRELOAD) and prints a\n"
		"profile report once it and every process it started have exited. The exit\n"
		"status is the program's (128+N when signal N killed it).\n"
		"\n"
		"Options, each with the environment variable it overrides:\n"
		"  -o, --output=FILE       text report to FILE (default: stderr; -: stdout)\n"
		"                          PTRACE_OUTPUT\n"
		"      --json=FILE         also write the JSON report to FILE (-: stdout)\n"
		"                          PTRACE_JSON\n"
		"      --report-mode=MODE  permissions of a report file ptrace-run creates,\n"
		"                          in octal (default 600; the umask applies too)\n"
		"                          PTRACE_REPORT_MODE\n"
		"  -p, --profile=FILE      the profile file, for ptrace-run report (default:\n"
		"                          ptrace-run.<program>.<pid>.ptrace here, written\n"
		"                          once the program has exited)\n"
		"                          PTRACE_PROFILE\n"
		"      --save-profile=BOOL write the profile file (default 1)\n"
		"                          PTRACE_SAVE_PROFILE\n"
		"      --no-profile        same as --save-profile=0\n"
		"      --suppressions=FILE leaks that are not: LeakSanitizer's leak:PATTERN\n"
		"                          lines (function, file or module; * wildcard,\n"
		"                          ^ and $ anchors), still counted as suppressed\n"
		"                          PTRACE_SUPPRESSIONS\n"
		"      --leak-check=full|off  classify what is live at exit (default full):\n"
		"                          definitely, indirectly or possibly lost, or still\n"
		"                          reachable, by a scan of memory at exit\n"
		"                          PTRACE_LEAK_CHECK\n"
		"      --unwind=cfi|libunwind|check  who walks the stacks of allocations and\n"
		"                          CPU samples: cfi (default), the agent's own walker\n"
		"                          (libunwind where it cannot); libunwind alone; or\n"
		"                          check: both, libunwind's kept, differences counted\n"
		"                          PTRACE_UNWIND\n"
		"      --builtin-suppressions=BOOL  suppress the C/C++ runtime's own one-time\n"
		"                          allocations: stdio buffers, locale, NSS (default 1)\n"
		"                          PTRACE_BUILTIN_SUPPRESSIONS\n"
		"      --track-memory=BOOL record heap allocations (default 1)\n"
		"                          PTRACE_TRACK_MEMORY\n"
		"      --no-memory         same as --track-memory=0\n"
		"      --sample-rate=R     fraction of allocations whose stack is captured,\n"
		"                          a number in (0,1], e.g. 0.1 or 1e-2 (default 1);\n"
		"                          totals, peak and live figures stay exact;\n"
		"                          per-site figures become estimates\n"
		"                          PTRACE_SAMPLE_RATE\n"
		"      --sample-bytes=N    capture stacks by bytes allocated instead: one\n"
		"                          allocation per N bytes on average (a Poisson\n"
		"                          process; 512K is cheap), every one of N or more;\n"
		"                          per-site figures are unbiased estimates, totals\n"
		"                          exact (default 0: off)\n"
		"                          PTRACE_SAMPLE_BYTES\n"
		"      --max-depth=N       deepest stack recorded, %u to %u frames (default %u)\n"
		"                          PTRACE_MAX_DEPTH\n"
		"      --session-size=MB   shared session image in MiB, %u to %u (default %u);\n"
		"                          sparse, pages are used only as they fill\n"
		"                          PTRACE_SESSION_SIZE\n"
		"      --cpu-hz=N          CPU samples per second of each thread's CPU time,\n"
		"                          0 to 10000 (default 1000); 0: no CPU profile\n"
		"                          PTRACE_CPU_HZ\n"
		"      --cpu-timer=tick|exact  what raises the samples: tick (default), a\n"
		"                          POSIX CPU timer the kernel checks at its tick (250\n"
		"                          signals a CPU second at CONFIG_HZ=250, each one\n"
		"                          weighing the periods it stands for); exact, a perf\n"
		"                          event, a signal every period (costlier: its timer\n"
		"                          interrupt and wake-up each time)\n"
		"                          PTRACE_CPU_TIMER\n"
		"      --dump-signal=SIG   on SIG the stacks of all threads go into the\n"
		"                          report and the program goes on: QUIT, USR1, USR2,\n"
		"                          RTMIN+N, RTMAX-N or its number (default: none)\n"
		"                          PTRACE_DUMP_SIGNAL\n"
		"      --dump-after=SECS   send the dump signal (USR2 unless given) to the\n"
		"                          program SECS seconds after it starts, e.g. 2.5\n"
		"                          PTRACE_DUMP_AFTER\n"
		"      --debug-dir=DIR     also look in DIR for separate debug files: by\n"
		"                          build-id (DIR/.build-id/xx/rest.debug) and by\n"
		"                          .gnu_debuglink (DIR/<module's directory>/NAME);\n"
		"                          repeatable, or DIR:DIR (docs/debuginfo.md)\n"
		"                          PTRACE_DEBUG_DIR\n"
		"\n"
		"  For programs built with -finstrument-functions (exact function timing):\n"
		"      --filter=GLOBS      report only functions whose name matches one of\n"
		"                          these comma-separated globs, e.g. 'parse_*,main';\n"
		"                          the others count as not instrumented\n"
		"                          PTRACE_FILTER\n"
		"      --exclude=GLOBS     leave out the functions matching these globs\n"
		"                          PTRACE_EXCLUDE\n"
		"      --max-call-depth=N  frames tracked per thread, 1 to 16777216 (default\n"
		"                          65536); deeper calls are counted, not timed\n"
		"                          PTRACE_MAX_CALL_DEPTH\n"
		"      --min-duration=D    calls shorter than D are not kept as individual\n"
		"                          slowest calls, e.g. 500, 20us, 5ms, 1s (default 0)\n"
		"                          PTRACE_MIN_DURATION\n"
		"      --correct-times=BOOL subtract the measured cost of the hooks from\n"
		"                          every time (default 1)\n"
		"                          PTRACE_CORRECT_TIMES\n"
		"      --timeline=BOOL     keep the individual calls of at least\n"
		"                          --timeline-min for the timeline (report\n"
		"                          --format=chrome; default 1)\n"
		"                          PTRACE_TIMELINE\n"
		"      --timeline-min=D    the shortest call the timeline keeps, e.g. 1ms;\n"
		"                          0: every call (default 100us)\n"
		"                          PTRACE_TIMELINE_MIN\n"
		"\n"
		"  Over time (long-running programs):\n"
		"      --interval=D        read the heap, RSS and CPU figures every D while\n"
		"                          the program runs, e.g. 10ms (default), 1s; 0: never\n"
		"                          PTRACE_INTERVAL\n"
		"      --snapshot-every=D  add a snapshot of every figure to the profile file\n"
		"                          every D, e.g. 60s (default: none)\n"
		"                          PTRACE_SNAPSHOT_EVERY\n"
		"      --snapshot-signal=SIG  a snapshot when SIG reaches the launcher, which\n"
		"                          then does not pass it on, e.g. USR2 (default 0:\n"
		"                          none, every signal goes to the program)\n"
		"                          PTRACE_SNAPSHOT_SIGNAL\n"
		"\n"
		"  The live view (see docs/live.md):\n"
		"      --live              show heap, allocation sites, CPU and threads on the\n"
		"                          terminal while the program runs; the program's\n"
		"                          stdout and stderr must not be that terminal\n"
		"                          PTRACE_LIVE\n"
		"      --live-remote       print how to attach the view from another terminal\n"
		"                          (ptrace-run live PID)\n"
		"                          PTRACE_LIVE_REMOTE\n"
		"      --live-interval=SECS refresh every SECS seconds, 0.1 to 3600 (default 1)\n"
		"                          PTRACE_LIVE_INTERVAL\n"
		"\n"
		"  -q, --quiet             no text report\n"
		"  -h, --help              this help\n"
		"      --version           print the version\n"
		"\n"
		"Values: --opt=VALUE and --opt VALUE both work, as do -o FILE and -oFILE.\n"
		"BOOL is 0/1, yes/no, on/off or true/false (lower case, as the agent reads\n"
		"them). Numbers are decimal without sign or blanks; leading zeros do not\n"
		"mean octal (08 is 8).\n"
		"A flag wins over its variable; an empty variable counts as unset.\n"
		"Report files are opened before the program starts, never through a\n"
		"symbolic link, and only when they are regular files, character devices\n"
		"(/dev/null) or FIFOs with a reader; -o and --json cannot be one file.\n"
		"Options end at the first argument that is not an option, or after --:\n"
		"in 'ptrace-run ls -l' the -l goes to ls. A program named report or diff\n"
		"is run as 'ptrace-run -- report' or 'ptrace-run ./report'.\n",
		1u, SF_DEPTH_LIMIT, SF_DEFAULT_DEPTH,
		OPTIONS_MIN_SESSION_MB, OPTIONS_MAX_SESSION_MB, OPTIONS_DEFAULT_SESSION_MB);
}

/* Shortest "%g" spelling that reads back as exactly r. */
static void rate_format(double r, char *buf, size_t len)
{
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, r);
		if (strtod(buf, NULL) == r)
			return;
	}
}

int options_export(const struct options *o)
{
	char buf[64];

	if (setenv("PTRACE_TRACK_MEMORY", o->track_memory ? "1" : "0", 1))
		return -errno;
	if (setenv("PTRACE_LEAK_CHECK", o->leak_check ? "full" : "off", 1))
		return -errno;
	if (setenv("PTRACE_UNWIND", o->unwind, 1))
		return -errno;
	if (setenv("PTRACE_CPU_TIMER", o->cpu_timer, 1))
		return -errno;
	rate_format(o->sample_rate, buf, sizeof(buf));
	if (setenv("PTRACE_SAMPLE_RATE", buf, 1))
		return -errno;
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)o->sample_bytes);
	if (setenv("PTRACE_SAMPLE_BYTES", buf, 1))
		return -errno;
	snprintf(buf, sizeof(buf), "%u", o->max_depth);
	if (setenv("PTRACE_MAX_DEPTH", buf, 1))
		return -errno;
	snprintf(buf, sizeof(buf), "%u", o->session_mb);
	if (setenv("PTRACE_SESSION_SIZE", buf, 1))
		return -errno;
	snprintf(buf, sizeof(buf), "%u", o->cpu_hz);
	if (setenv("PTRACE_CPU_HZ", buf, 1))
		return -errno;
	snprintf(buf, sizeof(buf), "%d", o->dump_signal);
	if (setenv("PTRACE_DUMP_SIGNAL", buf, 1))
		return -errno;
	snprintf(buf, sizeof(buf), "%u", o->max_call_depth);
	if (setenv("PTRACE_MAX_CALL_DEPTH", buf, 1))
		return -errno;
	snprintf(buf, sizeof(buf), "%llu", o->min_duration_ns);
	if (setenv("PTRACE_MIN_DURATION", buf, 1))
		return -errno;
	if (setenv("PTRACE_CORRECT_TIMES", o->correct_times ? "1" : "0", 1))
		return -errno;
	if (setenv("PTRACE_TIMELINE", o->timeline ? "1" : "0", 1))
		return -errno;
	snprintf(buf, sizeof(buf), "%llu", o->timeline_min_ns);
	if (setenv("PTRACE_TIMELINE_MIN", buf, 1))
		return -errno;
	return 0;
}
