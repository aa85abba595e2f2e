/*
 * Launcher options: the command line and the PTRACE_* environment, parsed
 * strictly into one struct. The agent reads the same variables, so the
 * launcher validates them once, reports a bad value as one clear line, and
 * then exports canonical values (options_export) so the agent never sees a
 * setting the launcher did not accept.
 */
#ifndef PTRACE_OPTIONS_H
#define PTRACE_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define OPTIONS_DEFAULT_SAMPLE_RATE 1.0
#define OPTIONS_DEFAULT_SESSION_MB 1024u
#define OPTIONS_MIN_SESSION_MB 16u
#define OPTIONS_MAX_SESSION_MB 32768u /* trace ids are offsets / 8 in 32 bits: 32 GiB */

#define OPTIONS_DEBUG_DIRS_MAX 8192 /* bytes of --debug-dir directories in all, with the NUL */
#define OPTIONS_DIRS_EXPECT "expected existing directories, separated by ':'"

struct options {
	const char *output;     /* -o FILE / PTRACE_OUTPUT: text report file; NULL = stderr,
	                           "-" = stdout */
	const char *json;       /* --json FILE / PTRACE_JSON: JSON report file; NULL = none,
	                           "-" = stdout */
	int track_memory;       /* 0 or 1; default 1 */
	double sample_rate;     /* in (0,1]; default 1 */
	uint64_t sample_bytes;  /* mean bytes between sampled allocations; 0: off (default) */
	unsigned max_depth;     /* frames, 1..SF_DEPTH_LIMIT; default SF_DEFAULT_DEPTH */
	unsigned session_mb;    /* MiB, 16..32768; default 1024 */
	int quiet;              /* -q: no text report */
	int help, version;      /* --help / --version: nothing else needs to be valid */
	char **argv;            /* program and its arguments, NULL-terminated; points into
	                           the argv given to options_parse; NULL when argc == 0 */
	int argc;               /* 0 only with help or version */
	unsigned cpu_hz;        /* --cpu-hz / PTRACE_CPU_HZ, 0..SF_MAX_CPU_HZ; 0 = off */
	int dump_signal;        /* --dump-signal / PTRACE_DUMP_SIGNAL as a number; 0 = none */
	double dump_after;      /* --dump-after / PTRACE_DUMP_AFTER, seconds; 0 = never.
	                           Implies dump_signal SIGUSR2 when none is given. */
	/* Function timing (programs built with -finstrument-functions). */
	const char *func_filter;  /* --filter / PTRACE_FILTER: comma-separated globs; NULL = all */
	const char *func_exclude; /* --exclude / PTRACE_EXCLUDE: globs; NULL = none */
	unsigned max_call_depth;  /* --max-call-depth / PTRACE_MAX_CALL_DEPTH, 1..SF_FMAX_CALL_DEPTH */
	unsigned long long min_duration_ns; /* --min-duration / PTRACE_MIN_DURATION; default 0 */
	int correct_times;        /* --correct-times / PTRACE_CORRECT_TIMES; default 1 */
	unsigned report_mode;     /* --report-mode / PTRACE_REPORT_MODE: permission bits of a
	                             report file the launcher creates; default 0600 */
	const char *profile;      /* -p FILE / --profile / PTRACE_PROFILE: the profile file;
	                             NULL = ptrace-run.<program>.<pid>.ptrace in the current directory */
	int save_profile;         /* --no-profile / PTRACE_SAVE_PROFILE=0: none; default 1 */
	unsigned long long interval_ns;       /* --interval / PTRACE_INTERVAL: figures over time
	                                         read this often; 0 = never; default 10 ms */
	unsigned long long snapshot_every_ns; /* --snapshot-every / PTRACE_SNAPSHOT_EVERY; 0 = none */
	int timeline;             /* --timeline / PTRACE_TIMELINE; default 1 */
	const char *suppressions; /* --suppressions / PTRACE_SUPPRESSIONS: leak:PATTERN lines; NULL none */
	int builtin_suppressions; /* --builtin-suppressions / PTRACE_BUILTIN_SUPPRESSIONS; default 1 */
	int leak_check;           /* --leak-check=full|off / PTRACE_LEAK_CHECK; default 1 (full) */
	const char *unwind;       /* --unwind=cfi|libunwind|check / PTRACE_UNWIND; default "cfi" */
	const char *cpu_timer;    /* --cpu-timer=tick|exact / PTRACE_CPU_TIMER; default "tick" */
	unsigned long long timeline_min_ns; /* --timeline-min / PTRACE_TIMELINE_MIN; default 100 us */
	int snapshot_signal;      /* --snapshot-signal / PTRACE_SNAPSHOT_SIGNAL: a snapshot when it
	                             reaches the launcher; 0 = none (default: the program
	                             gets every signal sent to the launcher) */
	/* The live view (cli/live.c). */
	int live;                 /* --live / PTRACE_LIVE=1: draw it on the terminal */
	int live_remote;          /* --live-remote / PTRACE_LIVE_REMOTE=1: say how to attach */
	double live_interval;     /* --live-interval / PTRACE_LIVE_INTERVAL, s; default 1 */
	/* Separate debug files (cli/symbolize.c, docs/debuginfo.md). */
	char debug_dirs[OPTIONS_DEBUG_DIRS_MAX]; /* --debug-dir (repeatable) / PTRACE_DEBUG_DIR:
	                                            absolute canonical directories separated
	                                            by ':'; "" = none */
};

#define OPTIONS_DEFAULT_REPORT_MODE 0600

#define OPTIONS_MAX_DURATION_NS 1000000000000000ull /* --min-duration: 10^6 s */

#define OPTIONS_MAX_DUMP_AFTER 1000000.0 /* s */

#define OPTIONS_MIN_LIVE_INTERVAL 0.1 /* s */
#define OPTIONS_MAX_LIVE_INTERVAL 3600.0 /* s */

/*
 * Parse flags, then the environment for every setting no flag gave. 0 on
 * success; -EINVAL with one line in err (no newline) naming the flag or
 * variable, the value, and what was expected. Missing program: "no program
 * given". With --help or --version the environment is not read and a
 * program is not needed.
 */
int options_parse(struct options *o, int argc, char **argv, char *err, size_t errlen);

/* Usage text for --help: every option with its variable and default. */
void options_usage(FILE *f);

/*
 * setenv the agent's settings (PTRACE_TRACK_MEMORY, PTRACE_SAMPLE_RATE,
 * PTRACE_MAX_DEPTH, PTRACE_SESSION_SIZE, PTRACE_CPU_HZ, PTRACE_DUMP_SIGNAL
 * as a number) to canonical values for the program. PTRACE_OUTPUT,
 * PTRACE_JSON, PTRACE_REPORT_MODE, PTRACE_PROFILE, PTRACE_SAVE_PROFILE and PTRACE_DUMP_AFTER
 * are the launcher's own and left as they are. 0 or -errno (from setenv).
 */
int options_export(const struct options *o);

/*
 * Append the directories of val (one, or several separated by ':') to
 * dirs (len bytes, ':'-separated, NUL-terminated), each made absolute and
 * canonical. -EINVAL with one line in err (no newline, naming the bad
 * directory) when one does not exist, is no directory, or they do not fit.
 */
int options_debug_dirs(const char *val, char *dirs, size_t len, char *err, size_t errlen);

/* 0 when s is a valid --filter/--exclude value; -EINVAL otherwise. */
int options_check_globs(const char *s);

#endif
