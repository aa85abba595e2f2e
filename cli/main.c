/*
 * ptrace-run: set up the session, run the program with the agent
 * preloaded, wait for it and everything it left behind, then report.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dump_timer.h"
#include "sampler.h"
#include "baseline.h"
#include "closeout.h"
#include "profile.h"
#include "report_cmd.h"
#include "diff.h"
#include "launch.h"
#include "live.h"
#include "options.h"
#include "output.h"
#include "render.h"
#include "report.h"
#include "session.h"
#include "suppress.h"

struct reaped {
	int *pid, *status;
	size_t n, cap;
	struct session *s;
};

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void on_reap(pid_t pid, int status, void *arg)
{
	struct reaped *r = arg;

	closeout_reaped(r->s, (int)pid, mono_ns());
	if (r->n == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 16;
		int *np = realloc(r->pid, ncap * sizeof(int)), *ns;
		if (!np)
			return;
		r->pid = np;
		ns = realloc(r->status, ncap * sizeof(int));
		if (!ns)
			return;
		r->status = ns;
		r->cap = ncap;
	}
	r->pid[r->n] = (int)pid;
	r->status[r->n++] = status;
}

/*
 * The image is mapped in every profiled process and counts against its
 * address-space limit (ulimit -v). Under such a limit, take at most an
 * eighth of it (never below the 16 MiB minimum), so that the program keeps
 * the room it would have had; the report says when detail was dropped.
 */
static size_t session_bytes(unsigned mb)
{
	struct rlimit rl;
	size_t want = (size_t)mb << 20;

	if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && want > rl.rlim_cur / 8) {
		want = (size_t)(rl.rlim_cur / 8) & ~(size_t)0xfffff;
		if (want < (size_t)OPTIONS_MIN_SESSION_MB << 20)
			want = (size_t)OPTIONS_MIN_SESSION_MB << 20;
	}
	return want;
}

/*
 * The end of the run when the launcher may have been stopped meanwhile
 * (it got a SIGCONT): then it reaped late, when it could, and its own
 * clock would count the time it was stopped as the program's. The ends
 * the processes recorded themselves (CLOCK_MONOTONIC, at their exit) do
 * not depend on when the launcher looked: the run ends at the latest of
 * them, provided the main program recorded its own (a program killed by
 * a signal did not: then the reap time is all there is). The image is the
 * program's memory: an end outside [spawn, reap] is not believed.
 */
static uint64_t run_end(const struct session *s, pid_t main_pid, const struct launch_result *res)
{
	uint64_t last = res->start_ns + res->duration_ns, end = 0;
	int main_ended = 0;

	for (uint32_t i = 0; i < session_nprocs(s); i++) {
		const struct sf_process *p = session_process(s, i);
		uint64_t e;

		if (__atomic_load_n(&p->state, __ATOMIC_ACQUIRE) < SF_PROC_RUNNING)
			continue;
		e = __atomic_load_n(&p->end_ns, __ATOMIC_RELAXED);
		if (!e || e < res->start_ns || e > last)
			continue;
		if (p->pid == main_pid && !(__atomic_load_n(&p->flags, __ATOMIC_RELAXED) & SF_PF_EXECED))
			main_ended = 1;
		if (e > end)
			end = e;
	}
	return main_ended ? end : last;
}

/* Open -o and --json, refuse two names for one file, truncate. 0, or the
 * launcher's exit code (2) after one line on stderr. */
static int open_outputs(const struct options *o, struct output *text, struct output *json)
{
	char err[256];
	int rc = 0;

	if (o->output && !o->quiet && output_open(text, o->output, o->report_mode, err, sizeof(err))) {
		fprintf(stderr, "ptrace-run: -o %s: %s\n", o->output, err);
		return 2;
	}
	if (o->json && output_open(json, o->json, o->report_mode, err, sizeof(err))) {
		fprintf(stderr, "ptrace-run: --json %s: %s\n", o->json, err);
		output_discard(text);
		return 2;
	}
	if (output_same(text, json)) {
		fprintf(stderr, "ptrace-run: -o %s and --json %s are the same file: one report would overwrite the other\n",
			o->output, o->json);
		output_discard(text);
		output_discard(json);
		return 2;
	}
	/* The text report's default place, stderr, by the same rule. */
	if (!text->f && !o->quiet && json->f) {
		struct stat st;

		if (fstat(2, &st) == 0 && st.st_dev == json->dev && st.st_ino == json->ino &&
		    (st.st_mode & S_IFMT) != S_IFCHR) {
			fprintf(stderr,
				"ptrace-run: --json %s is where stderr goes, the text report's place: give -o FILE or -q\n",
				o->json);
			output_discard(json);
			return 2;
		}
	}
	if (text->f && (rc = output_ready(text)))
		fprintf(stderr, "ptrace-run: -o %s: %s\n", o->output, strerror(-rc));
	else if (json->f && (rc = output_ready(json)))
		fprintf(stderr, "ptrace-run: --json %s: %s\n", o->json, strerror(-rc));
	if (rc) {
		output_discard(text);
		output_discard(json);
		return 2;
	}
	return 0;
}

/* Nothing will be written: remove what open_outputs created. */
static struct output *profile_out; /* discarded with the reports before a run */

static void discard_outputs(struct output *text, struct output *json)
{
	output_discard(text);
	output_discard(json);
	if (profile_out)
		output_discard(profile_out);
}

/* Close a report output; 1 (after saying so) when the report did not
 * all get there. */
static int close_output(struct output *out, const char *opt, const char *what, int render_rc)
{
	int rc = output_close(out);

	if (!rc && !render_rc)
		return 0;
	fprintf(stderr, "ptrace-run: %s %s: the %s report could not be written: %s\n", opt, out->name, what,
		strerror(rc ? -rc : render_rc < 0 ? -render_rc : EIO));
	return 1;
}

/*
 * The profile file. Named with -p, it is opened before the program starts,
 * like -o; by default (ptrace-run.<program>.<pid>.ptrace here) it is made
 * only once the program has exited, so a program that lists its own
 * directory never sees it. Written after the reports; when it cannot be,
 * one warning, and the exit status stays what it would have been.
 */
static int open_profile(const struct options *o, struct output *prof, const struct output *text,
			const struct output *json)
{
	char err[256];

	if (!o->save_profile || !o->profile)
		return 0;
	if (output_open(prof, o->profile, o->report_mode, err, sizeof(err))) {
		fprintf(stderr, "ptrace-run: --profile %s: %s\n", o->profile, err);
		return 2;
	}
	if (output_same(prof, text) || output_same(prof, json)) {
		fprintf(stderr, "ptrace-run: --profile %s is also a report file: one would overwrite the other\n",
			o->profile);
		output_discard(prof);
		return 2;
	}
	return 0;
}

/* Where the snapshots and the run's end go (the sampler's thread opens
 * it at the first snapshot; the main thread only after that thread
 * ended). */
struct prof_state {
	const struct options *o;
	struct output *out;
	int main_pid;
	int begun;      /* the file's header is written: append records */
	int snapshots;  /* it was begun for a snapshot */
	int failed;     /* said once: no more tries */
	char name[512];
	const char *shown;
};

static int prof_ready(struct prof_state *ps)
{
	char err[256];
	int rc;

	if (ps->begun)
		return 0;
	ps->shown = ps->o->profile;
	if (!ps->out->f) {
		profile_default_name(ps->name, sizeof(ps->name), ps->o->argv[0], ps->main_pid);
		ps->shown = ps->name;
		if (output_open(ps->out, ps->name, ps->o->report_mode, err, sizeof(err))) {
			fprintf(stderr, "ptrace-run: cannot write the profile %s: %s\n", ps->name, err);
			return -EIO;
		}
	}
	rc = output_ready(ps->out);
	if (!rc)
		rc = profile_begin(ps->out->f);
	if (rc) {
		fprintf(stderr, "ptrace-run: cannot write the profile %s: %s\n", ps->shown, strerror(-rc));
		output_discard(ps->out);
		return rc;
	}
	ps->begun = 1;
	return 0;
}

static FILE *prof_open(void *arg)
{
	struct prof_state *ps = arg;

	if (ps->failed)
		return NULL;
	if (!ps->o->save_profile) {
		fprintf(stderr, "ptrace-run: a snapshot was asked for, but no profile file is written (--no-profile)\n");
		ps->failed = 1;
		return NULL;
	}
	if (prof_ready(ps)) {
		ps->failed = 1;
		return NULL;
	}
	ps->snapshots = 1;
	return ps->out->f;
}

static void save_profile(struct prof_state *ps, const struct session *s, const struct report_input *in,
			 size_t tl_written)
{
	int rc;

	if (!ps->o->save_profile || (ps->failed && !ps->begun))
		return;
	if (prof_ready(ps))
		return;
	/* The timeline's calls the snapshots' parts did not hold, then the end. */
	rc = in->timeline ? profile_timeline(ps->out->f, in->timeline, tl_written) : 0;
	if (!rc)
		rc = profile_record(ps->out->f, s, in);
	if (rc) {
		fprintf(stderr, "ptrace-run: cannot write the profile %s: %s\n", ps->shown, strerror(-rc));
		/* Snapshots already there stay: the file reads without its end. */
		if (ps->snapshots)
			output_close(ps->out);
		else
			output_discard(ps->out);
		return;
	}
	rc = output_close(ps->out);
	if (rc)
		fprintf(stderr, "ptrace-run: cannot write the profile %s: %s\n", ps->shown, strerror(-rc));
}

static int fail(int code, const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "ptrace-run: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	return code;
}

int main(int argc, char **argv)
{
	struct options o;
	struct session s = {.fd = -1};
	struct launch_result res;
	struct report_input in;
	struct report rep;
	struct reaped reaped = {0};
	struct sampler sm = {.wake = {-1, -1}};
	struct symctx *ctx = NULL;
	struct prof_state ps = {0};
	struct suppr suppr = {0};
	struct dump_timer dumper = {0};
	struct live *live = NULL;
	struct timespec wall_start = {0, 0};
	char err[512], path[4096], agent_path[4096], reason[256] = "";
	struct output text_out = {.fd = -1}, json_out = {.fd = -1}, prof_out = {.fd = -1};
	FILE *text;
	const char *agent_env;
	pid_t pid;
	int rc, can_load, lost = 0, text_rc = 0, json_rc = 0;

	if (argc > 1 && !strcmp(argv[1], "report"))
		return report_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "diff"))
		return diff_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "live"))
		return live_main(argc - 1, argv + 1);
	/* First, before anything could change the signal state the program
	 * is to inherit. */
	if ((rc = launch_init()))
		return fail(2, "cannot set up signal handling: %s%s", strerror(-rc), "");
	rc = options_parse(&o, argc, argv, err, sizeof(err));
	if (o.help) {
		options_usage(stdout);
		return 0;
	}
	if (o.version) {
		printf("ptrace-run %s\n", PTRACE_VERSION);
		return 0;
	}
	if (rc) {
		fprintf(stderr, "ptrace-run: %s\n", err);
		if (!strcmp(err, "no program given"))
			fprintf(stderr, "usage: ptrace-run [options] [--] program [args...]  (see ptrace-run --help)\n");
		return 2;
	}

	rc = launch_resolve(o.argv[0], path, sizeof(path));
	if (rc == -ENOENT)
		return fail(127, "%s: command not found%s", o.argv[0], "");
	if (rc == -EACCES)
		return fail(126, "%s: not an executable file%s", o.argv[0], "");
	if (rc)
		return fail(126, "%s: %s", o.argv[0], strerror(-rc));
	can_load = launch_check_binary(path, reason, sizeof(reason));
	if (can_load < 0)
		return fail(126, "%s: %s", o.argv[0], strerror(-can_load));

	/* The suppressions file: a bad one gets its line before any run. */
	suppr.builtin = o.builtin_suppressions;
	if (o.suppressions && (rc = suppr_load(&suppr, o.suppressions, err, sizeof(err)))) {
		suppr_free(&suppr);
		return fail(2, "--suppressions: %s%s", err, "");
	}

	/* Open the report files first, once, and keep them: a typo must not
	 * cost a whole run, and a path swapped meanwhile must not redirect a
	 * report. */
	if ((rc = open_outputs(&o, &text_out, &json_out)))
		return rc;
	profile_out = &prof_out;
	if ((rc = open_profile(&o, &prof_out, &text_out, &json_out))) {
		discard_outputs(&text_out, &json_out);
		return rc;
	}
	text = o.quiet ? NULL : text_out.f ? text_out.f : stderr;
	agent_env = getenv("PTRACE_AGENT");
	if ((rc = launch_find_agent(agent_path, sizeof(agent_path)))) {
		discard_outputs(&text_out, &json_out);
		if (agent_env && *agent_env)
			return fail(2, "PTRACE_AGENT=%s: %s (expected the path to libptrace-run.so)", agent_env,
				    strerror(-rc));
		return fail(2, "cannot find the agent library libptrace-run.so next to the launcher%s%s",
			    " (set PTRACE_AGENT to its path)", "");
	}
	rc = session_create(&s, session_bytes(o.session_mb));
	if (rc) {
		discard_outputs(&text_out, &json_out);
		return fail(2, "cannot create the session image: %s%s", strerror(-rc), "");
	}
	if (setenv("PTRACE_SESSION", s.path, 1) || options_export(&o) || launch_preload(agent_path)) {
		discard_outputs(&text_out, &json_out);
		return fail(2, "cannot set up the environment: %s%s", strerror(errno), "");
	}

	/* The live view (cli/live.c): checked before the program starts. */
	if ((o.live || o.live_remote) && (rc = live_prepare(&live, &o))) {
		discard_outputs(&text_out, &json_out);
		return rc;
	}

	clock_gettime(CLOCK_REALTIME, &wall_start);
	rc = launch_spawn(path, o.argv, &pid);
	if (rc) {
		live_finish(live);
		discard_outputs(&text_out, &json_out);
		return fail(rc == -ENOENT ? 127 : 126, "%s: %s", o.argv[0], strerror(-rc));
	}
	live_start(live, &s, o.argv);
	memset(&res, 0, sizeof(res));
	memset(&in, 0, sizeof(in));
	in.argv = o.argv;
	in.spawned = 1;
	in.not_loaded_reason = can_load ? NULL : reason;
	in.sample_rate = o.sample_rate;
	in.sample_bytes = o.sample_bytes;
	in.max_depth = o.max_depth;
	in.track_memory = o.track_memory;
	in.main_pid = (int)pid;
	in.cpu_hz = o.cpu_hz;
	in.dump_signal = o.dump_signal;
	in.start_time_ns = (uint64_t)wall_start.tv_sec * 1000000000u + (uint64_t)wall_start.tv_nsec;
	in.func_filter = o.func_filter;
	in.func_exclude = o.func_exclude;
	in.suppr = &suppr;
	ps.o = &o;
	ps.out = &prof_out;
	ps.main_pid = (int)pid;
	/* Every name the report resolves goes into the profile file. */
	if (symctx_new(&ctx) == 0 && symctx_debug_dirs(ctx, o.debug_dirs)) {
		symctx_free(ctx);
		ctx = NULL;
	}
	if (ctx) {
		symctx_record(ctx);
		if (sampler_start(&sm, &s, ctx, o.interval_ns, o.snapshot_every_ns, mono_ns(), &in, prof_open, &ps) == 0)
			launch_keep_signal(o.snapshot_signal, sampler_ask, &sm);
	}
	if (o.dump_after > 0 && (rc = dump_timer_start(&dumper, pid, o.dump_signal, o.dump_after)))
		fprintf(stderr, "ptrace-run: --dump-after: %s\n", strerror(-rc));
	reaped.s = &s;
	rc = launch_wait(pid, &res, on_reap, &reaped);
	live_finish(live); /* the terminal restored before any report */
	/* From here the launcher writes reports: a reader that went away
	 * (a closed pipe) is an error to report, not a reason to die. */
	signal(SIGPIPE, SIG_IGN);
	if (res.continued && res.duration_ns)
		res.duration_ns = run_end(&s, pid, &res) - res.start_ns;
	launch_keep_signal(0, NULL, NULL);
	sampler_stop(&sm);
	if (res.main_end_ns)
		closeout_reaped(&s, (int)pid, res.main_end_ns);
	closeout_session(&s, res.start_ns + res.duration_ns); /* not the header's: the program can write it */
	baseline_apply(&s); /* ptrace_reset(): the figures since */
	dump_timer_stop(&dumper);
	if (rc)
		fprintf(stderr, "ptrace-run: waiting for the program: %s\n", strerror(-rc));

	in.status = res.status;
	in.ru = res.ru;
	in.duration_ns = res.duration_ns;
	in.symctx = ctx;
	in.reaped_pid = reaped.pid;
	in.reaped_status = reaped.status;
	in.nreaped = reaped.n;
	in.series = sampler_series(&sm);
	in.timeline = sampler_timeline(&sm);
	if (report_build(&rep, &s, &in) == 0) {
		if (text)
			text_rc = render_text(&rep, text);
		if (json_out.f)
			json_rc = render_json(&rep, json_out.f);
		report_free(&rep);
	} else {
		fprintf(stderr, "ptrace-run: out of memory building the report\n");
		text_rc = json_rc = -ENOMEM;
		lost = 1;
	}
	if (text == stderr && text_rc && text_rc != -ENOMEM) {
		/* Most likely lost as well; the exit code says it anyway. */
		fprintf(stderr, "ptrace-run: the text report could not be written to stderr: %s\n", strerror(-text_rc));
		lost = 1;
	}
	if (text_out.f)
		lost |= close_output(&text_out, "-o", "text", text_rc);
	if (json_out.f)
		lost |= close_output(&json_out, "--json", "JSON", json_rc);
	if (in.symctx)
		save_profile(&ps, &s, &in, sm.tl_written);
	else
		output_discard(&prof_out);
	sampler_free(&sm);
	symctx_free(ctx);
	suppr_free(&suppr);
	session_close(&s);
	free(reaped.pid);
	free(reaped.status);
	/* A lost report turns a success into 2; a failing program's status
	 * is never masked. */
	rc = launch_exit_code(res.status);
	return rc == 0 && lost ? 2 : rc;
}
