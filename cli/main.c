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
#include <unistd.h>

#include "dump_timer.h"
#include "closeout.h"
#include "launch.h"
#include "options.h"
#include "render.h"
#include "report.h"
#include "session.h"

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
 * While the program runs, a thread reads the debug info of the modules it
 * loaded (libc's DWARF alone takes ~0.1 s to decompress), so the report is
 * ready sooner after the program ends. It only ever runs alongside the
 * program, never after it: the main thread joins it before reporting.
 */
struct warm {
	pthread_t thread;
	struct symctx *ctx;
	const struct session *s;
	int stop; /* atomic */
};

static void *warm_main(void *arg)
{
	struct warm *w = arg;

	for (int i = 0; i < 200 && !__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE); i++) {
		const struct sf_process *p;

		/* Give the agent time to register and record its modules. */
		usleep(10000);
		if (!session_nprocs(w->s))
			continue;
		p = session_process(w->s, 0);
		if (__atomic_load_n(&p->state, __ATOMIC_ACQUIRE) < SF_PROC_RUNNING ||
		    !__atomic_load_n(&p->modules, __ATOMIC_ACQUIRE))
			continue;
		symctx_warm(w->ctx, w->s);
		break;
	}
	return NULL;
}

static int warm_start(struct warm *w, const struct session *s)
{
	sigset_t all, old;
	int err;

	w->s = s;
	w->stop = 0;
	if (symctx_new(&w->ctx))
		return -ENOMEM;
	/* Signals are for the main thread's wait loop. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&w->thread, NULL, warm_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		symctx_free(w->ctx);
		w->ctx = NULL;
		return -err;
	}
	return 0;
}

static void warm_finish(struct warm *w)
{
	if (!w->ctx)
		return;
	__atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
	pthread_join(w->thread, NULL);
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
	struct warm warm = {0};
	struct dump_timer dumper = {0};
	char err[512], path[4096], agent_path[4096], reason[256] = "";
	FILE *text = stderr;
	pid_t pid;
	int rc, can_load;

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

	/* Open the report files first: a typo must not cost a whole run. */
	if (o.output && !o.quiet && !(text = fopen(o.output, "we")))
		return fail(2, "-o %s: %s", o.output, strerror(errno));
	if (o.json) {
		FILE *j = fopen(o.json, "w");
		if (!j)
			return fail(2, "--json %s: %s", o.json, strerror(errno));
		fclose(j);
	}
	if (launch_find_agent(agent_path, sizeof(agent_path)))
		return fail(2, "cannot find the agent library libptrace-run.so next to the launcher%s%s",
			    " (set PTRACE_AGENT to its path)", "");
	rc = session_create(&s, session_bytes(o.session_mb));
	if (rc)
		return fail(2, "cannot create the session image: %s%s", strerror(-rc), "");
	if (setenv("PTRACE_SESSION", s.path, 1) || options_export(&o) || launch_preload(agent_path))
		return fail(2, "cannot set up the environment: %s%s", strerror(errno), "");

	rc = launch_spawn(path, o.argv, &pid);
	if (rc == -ENOENT)
		return fail(127, "%s: %s", o.argv[0], strerror(-rc));
	if (rc)
		return fail(126, "%s: %s", o.argv[0], strerror(-rc));
	memset(&res, 0, sizeof(res));
	warm_start(&warm, &s);
	if (o.dump_after > 0 && (rc = dump_timer_start(&dumper, pid, o.dump_signal, o.dump_after)))
		fprintf(stderr, "ptrace-run: --dump-after: %s\n", strerror(-rc));
	reaped.s = &s;
	rc = launch_wait(pid, &res, on_reap, &reaped);
	warm_finish(&warm);
	if (res.main_end_ns)
		closeout_reaped(&s, (int)pid, res.main_end_ns);
	closeout_session(&s, s.start_ns + res.duration_ns); /* not the header's: the program can write it */
	dump_timer_stop(&dumper);
	if (rc)
		fprintf(stderr, "ptrace-run: waiting for the program: %s\n", strerror(-rc));

	memset(&in, 0, sizeof(in));
	in.argv = o.argv;
	in.status = res.status;
	in.spawned = 1;
	in.ru = res.ru;
	in.duration_ns = res.duration_ns;
	in.not_loaded_reason = can_load ? NULL : reason;
	in.sample_rate = o.sample_rate;
	in.max_depth = o.max_depth;
	in.track_memory = o.track_memory;
	in.main_pid = (int)pid;
	in.symctx = warm.ctx;
	in.reaped_pid = reaped.pid;
	in.reaped_status = reaped.status;
	in.nreaped = reaped.n;
	in.cpu_hz = o.cpu_hz;
	in.dump_signal = o.dump_signal;
	in.func_filter = o.func_filter;
	in.func_exclude = o.func_exclude;
	if (report_build(&rep, &s, &in) == 0) {
		if (!o.quiet)
			render_text(&rep, text);
		if (o.json && (rc = render_json(&rep, o.json)))
			fprintf(stderr, "ptrace-run: --json %s: %s\n", o.json, strerror(-rc));
		report_free(&rep);
	} else {
		fprintf(stderr, "ptrace-run: out of memory building the report\n");
	}
	if (text != stderr)
		fclose(text);
	symctx_free(warm.ctx);
	session_close(&s);
	free(reaped.pid);
	free(reaped.status);
	return launch_exit_code(res.status);
}
