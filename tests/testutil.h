/*
 * Shared harness for the end-to-end tests. tu_run() starts a command
 * (normally ./build/ptrace-run on a program from tests/progs/) with a clean
 * environment, feeds its stdin, captures its stdout and stderr, kills it
 * after TU_TIMEOUT_S, and loads the JSON report it wrote to a temporary
 * file. The other helpers look things up in that report and fail the test,
 * with a message naming what was missing, when it has the wrong shape.
 *
 * Header-only because the Makefile links each tests/test_*.c on its own;
 * every function is static inline so that a test file using only some of
 * them compiles without unused-function warnings. Tests run from the
 * repository root, hence the relative paths below.
 */
#ifndef PTRACE_TESTUTIL_H
#define PTRACE_TESTUTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2, asprintf, strcasestr; the Makefile sets it too */
#endif

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TU_LAUNCHER "./build/ptrace-run"
#define TU_AGENT "./build/libptrace-run.so"
#define TU_PROG(name) "./build/progs/" name
#define TU_SRC(name) "tests/progs/" name
#ifndef TU_TIMEOUT_S
#define TU_TIMEOUT_S 20 /* s, then SIGKILL to the whole process group */
#endif

/* A NULL-terminated list of strings, for argv and env: TU_LIST("-q", "x"). */
#define TU_LIST(...) ((const char *const[]){__VA_ARGS__, NULL})

extern char **environ;

struct tu_opts {
	const char *const *env; /* extra NAME=value entries, NULL-terminated, or NULL */
	const void *in;		/* bytes for stdin (then EOF); NULL: EOF at once */
	size_t in_len;
	int json; /* insert "--json TMPFILE" after argv[0], load it */
};

struct tu_run {
	int pid;		 /* of argv[0] (the launcher) */
	int status;		 /* raw wait status */
	int exit_code;		 /* exit status, or -1 when killed by a signal */
	int signal;		 /* signal that killed it, or 0 */
	int timed_out;		 /* 1 when the harness killed it after TU_TIMEOUT_S */
	char *out, *err;	 /* captured stdout and stderr, NUL-terminated */
	size_t out_len, err_len; /* bytes captured (they may contain NULs) */
	json_t *json;		 /* the report, NULL when not requested or unreadable */
	char json_error[256];	 /* why json is NULL */
};

struct tu_buf {
	char *data;
	size_t len, cap;
};

static inline void tu_buf_add(struct tu_buf *b, const char *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = realloc(b->data, cap);
		cr_assert(b->data != NULL, "harness: out of memory capturing output");
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static inline long long tu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A new empty file under /tmp; returns its malloc'ed path. */
static inline char *tu_tmpfile(const char *tag)
{
	char *path = NULL;
	int fd;

	cr_assert(asprintf(&path, "/tmp/ptrace-e2e-%s-XXXXXX", tag) > 0, "harness: asprintf failed");
	fd = mkstemp(path);
	cr_assert(fd >= 0, "harness: mkstemp %s: %s", path, strerror(errno));
	close(fd);
	return path;
}

/* The whole file at path, NUL-terminated; *len gets its size. NULL if unreadable. */
static inline char *tu_read_file(const char *path, size_t *len)
{
	struct tu_buf b = {0};
	char chunk[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	tu_buf_add(&b, "", 0);
	while ((n = read(fd, chunk, sizeof chunk)) > 0)
		tu_buf_add(&b, chunk, (size_t)n);
	close(fd);
	if (len)
		*len = b.len;
	return b.data;
}

/*
 * The child's environment: ours without LD_PRELOAD, PTRACE_* and
 * DEBUGINFOD_* (so that the runner's own settings never leak into a test,
 * nor a debuginfod server of the runner's into its names), plus extra.
 */
static inline char **tu_make_env(const char *const *extra)
{
	size_t n = 0, k = 0;
	char **env;

	for (char **e = environ; *e; e++)
		n++;
	for (const char *const *e = extra; e && *e; e++)
		n++;
	env = calloc(n + 2, sizeof *env);
	cr_assert(env != NULL, "harness: out of memory");
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "PTRACE_", 7) && strncmp(*e, "LD_PRELOAD=", 11) && strncmp(*e, "DEBUGINFOD_", 11))
			env[k++] = *e;
	for (const char *const *e = extra; e && *e; e++)
		env[k++] = (char *)*e;
	/* No profile file from a run unless the test asks (an extra
	 * PTRACE_SAVE_PROFILE, or -p): runs would leave them in the current
	 * directory. */
	env[k] = NULL;
	for (const char *const *e = extra; e && *e; e++)
		if (!strncmp(*e, "PTRACE_SAVE_PROFILE=", 20))
			return env;
	env[k++] = "PTRACE_SAVE_PROFILE=0";
	env[k] = NULL;
	return env;
}

static inline void tu_child_exec(char **argv, char **envp, int in_fd, int out_fd, int err_fd)
{
	sigset_t none;

	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
		_exit(125);
	/* Criterion's own descriptors must not leak into the launcher. */
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	execve(argv[0], argv, envp);
	dprintf(2, "harness: execve %s: %s\n", argv[0], strerror(errno));
	_exit(124);
}

/*
 * Run argv (argv[0] is the path to execute) as described by opts, or with
 * defaults when opts is NULL, and wait for it, at most TU_TIMEOUT_S seconds.
 * Fills *r; release it with tu_run_free().
 */
static inline void tu_run(struct tu_run *r, const struct tu_opts *opts, const char *const *argv)
{
	static const struct tu_opts defaults;
	const struct tu_opts *o = opts ? opts : &defaults;
	struct tu_buf out = {0}, err = {0};
	int in_pipe[2], out_pipe[2], err_pipe[2];
	char *json_path = NULL;
	const char *args[256];
	size_t nargs = 0, in_off = 0;
	long long deadline = tu_now_ms() + TU_TIMEOUT_S * 1000LL;
	char **envp;
	pid_t pid;

	memset(r, 0, sizeof *r);
	r->exit_code = -1;
	signal(SIGPIPE, SIG_IGN); /* a child that closes stdin early must not kill us */

	args[nargs++] = argv[0];
	if (o->json) {
		json_path = tu_tmpfile("json");
		args[nargs++] = "--json";
		args[nargs++] = json_path;
	}
	for (size_t i = 1; argv[i]; i++) {
		cr_assert(nargs < 255, "harness: too many arguments");
		args[nargs++] = argv[i];
	}
	args[nargs] = NULL;
	envp = tu_make_env(o->env);

	cr_assert(pipe2(in_pipe, O_CLOEXEC) == 0 && pipe2(out_pipe, O_CLOEXEC) == 0 && pipe2(err_pipe, O_CLOEXEC) == 0,
		  "harness: pipe2: %s", strerror(errno));
	pid = fork();
	cr_assert(pid >= 0, "harness: fork: %s", strerror(errno));
	if (pid == 0)
		tu_child_exec((char **)args, envp, in_pipe[0], out_pipe[1], err_pipe[1]);
	r->pid = pid;
	setpgid(pid, pid);
	close(in_pipe[0]);
	close(out_pipe[1]);
	close(err_pipe[1]);
	free(envp);

	int in_fd = in_pipe[1], out_fd = out_pipe[0], err_fd = err_pipe[0];

	if (!o->in || o->in_len == 0) {
		close(in_fd);
		in_fd = -1;
	} else {
		fcntl(in_fd, F_SETFL, O_NONBLOCK);
	}
	while (out_fd >= 0 || err_fd >= 0) {
		struct pollfd p[3];
		int np = 0, ready;
		long long left = deadline - tu_now_ms();
		char chunk[65536];

		if (left <= 0) {
			r->timed_out = 1;
			break;
		}
		if (in_fd >= 0)
			p[np++] = (struct pollfd){.fd = in_fd, .events = POLLOUT};
		if (out_fd >= 0)
			p[np++] = (struct pollfd){.fd = out_fd, .events = POLLIN};
		if (err_fd >= 0)
			p[np++] = (struct pollfd){.fd = err_fd, .events = POLLIN};
		ready = poll(p, (nfds_t)np, (int)(left > 1000 ? 1000 : left));
		if (ready < 0 && errno == EINTR)
			continue;
		cr_assert(ready >= 0, "harness: poll: %s", strerror(errno));
		for (int i = 0; i < np; i++) {
			if (!p[i].revents)
				continue;
			if (p[i].fd == in_fd) {
				ssize_t n = write(in_fd, (const char *)o->in + in_off, o->in_len - in_off);

				if (n > 0)
					in_off += (size_t)n;
				if ((n < 0 && errno != EAGAIN) || in_off == o->in_len) {
					close(in_fd);
					in_fd = -1;
				}
				continue;
			}
			ssize_t n = read(p[i].fd, chunk, sizeof chunk);

			if (n > 0) {
				tu_buf_add(p[i].fd == out_fd ? &out : &err, chunk, (size_t)n);
			} else if (n == 0 || errno != EAGAIN) {
				close(p[i].fd);
				if (p[i].fd == out_fd)
					out_fd = -1;
				else
					err_fd = -1;
			}
		}
	}
	if (in_fd >= 0)
		close(in_fd);
	if (out_fd >= 0)
		close(out_fd);
	if (err_fd >= 0)
		close(err_fd);

	if (r->timed_out) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
	for (;;) {
		pid_t w = waitpid(pid, &r->status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			cr_fatal("harness: waitpid: %s", strerror(errno));
		if (!r->timed_out && tu_now_ms() >= deadline) {
			r->timed_out = 1;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
		}
		usleep(2000);
	}
	if (r->timed_out)
		kill(-pid, SIGKILL); /* whatever the launcher left behind */
	if (WIFEXITED(r->status))
		r->exit_code = WEXITSTATUS(r->status);
	else if (WIFSIGNALED(r->status))
		r->signal = WTERMSIG(r->status);

	tu_buf_add(&out, "", 0);
	tu_buf_add(&err, "", 0);
	r->out = out.data;
	r->out_len = out.len;
	r->err = err.data;
	r->err_len = err.len;

	if (json_path) {
		json_error_t je;

		r->json = json_load_file(json_path, JSON_REJECT_DUPLICATES, &je);
		if (!r->json)
			snprintf(r->json_error, sizeof r->json_error, "%s:%d: %s", json_path, je.line, je.text);
		unlink(json_path);
		free(json_path);
	}
}

struct tu_bg {
	pid_t pid;
	char out_path[64], err_path[64];
};

/*
 * In the background: start argv with stdout and stderr in temporary files (stdout on out_fd
 * instead when it is >= 0), in cwd when given, in a process group of its
 * own, with the harness's clean environment plus env.
 */
static inline void tu_bg_start(struct tu_bg *r, const char *cwd, const char *const *env, int out_fd, const char *const *argv)
{
	char **envp = tu_make_env(env);
	int fo, fe;

	memset(r, 0, sizeof(*r));
	strcpy(r->out_path, "/tmp/ptrace-e2e-stdout-XXXXXX");
	strcpy(r->err_path, "/tmp/ptrace-e2e-stderr-XXXXXX");
	fo = mkstemp(r->out_path);
	fe = mkstemp(r->err_path);
	cr_assert(fo >= 0 && fe >= 0, "mkstemp: %s", strerror(errno));
	r->pid = fork();
	cr_assert(r->pid >= 0, "fork: %s", strerror(errno));
	if (r->pid == 0) {
		int in = open("/dev/null", O_RDONLY);

		if (cwd && chdir(cwd))
			_exit(125);
		tu_child_exec((char **)argv, envp, in, out_fd >= 0 ? out_fd : fo, fe);
	}
	setpgid(r->pid, r->pid);
	close(fo);
	close(fe);
	free(envp);
}

/* Wait for a tu_bg_start (at most TU_TIMEOUT_S) and collect into *t as tu_run does. */
static inline void tu_bg_finish(struct tu_bg *r, struct tu_run *t)
{
	long long end = tu_now_ms() + TU_TIMEOUT_S * 1000LL;

	memset(t, 0, sizeof(*t));
	t->exit_code = -1;
	t->pid = r->pid;
	for (;;) {
		pid_t w = waitpid(r->pid, &t->status, WNOHANG);

		if (w == r->pid)
			break;
		if (tu_now_ms() >= end && !t->timed_out) {
			t->timed_out = 1;
			kill(-r->pid, SIGKILL);
			kill(r->pid, SIGKILL);
		}
		usleep(2000);
	}
	kill(-r->pid, SIGKILL); /* whatever it left behind */
	if (WIFEXITED(t->status))
		t->exit_code = WEXITSTATUS(t->status);
	else if (WIFSIGNALED(t->status))
		t->signal = WTERMSIG(t->status);
	t->out = tu_read_file(r->out_path, &t->out_len);
	t->err = tu_read_file(r->err_path, &t->err_len);
	cr_assert(t->out && t->err, "read the captured output");
	unlink(r->out_path);
	unlink(r->err_path);
	cr_assert(eq(int, t->timed_out, 0), "timed out after %d s; stderr: %s", TU_TIMEOUT_S, t->err);
}

/*
 * fi_timeline's three naps of 1, 2 and 3 ms (dur, in us, any order):
 * sorted, the i-th shortest is at least i ms (a sleep is never shorter
 * than asked, so at most one nap is under 2 ms, ...) and at most i + 100
 * ms: a nap's thread can wait that long to run again on a busy 2-CPU
 * machine (a full run saw a 3 ms nap take 44.6 ms while Chromium drew
 * another test's page); a duration in the wrong unit is 1000 times off.
 */
static inline void tu_check_naps(double *dur)
{
	for (int i = 0; i < 3; i++)
		for (int k = i + 1; k < 3; k++)
			if (dur[k] < dur[i]) {
				double t = dur[i];

				dur[i] = dur[k];
				dur[k] = t;
			}
	for (int i = 0; i < 3; i++)
		cr_assert(dur[i] >= 1000.0 * (i + 1) && dur[i] <= 1000.0 * (i + 1) + 100000.0, "nap #%d: %.3f us", i + 1,
			  dur[i]);
}

static inline void tu_run_free(struct tu_run *r)
{
	free(r->out);
	free(r->err);
	if (r->json)
		json_decref(r->json);
	memset(r, 0, sizeof *r);
}

/*
 * Run the launcher with --json on args (its options, "--", the program and
 * the program's arguments) and extra env; fails the test unless it finished
 * in time and wrote a report.
 */
static inline void tu_profile(struct tu_run *r, const char *const *env, const char *const *args)
{
	const char *argv[64];
	struct tu_opts o = {.env = env, .json = 1};
	size_t n = 0;

	argv[n++] = TU_LAUNCHER;
	for (size_t i = 0; args[i]; i++) {
		cr_assert(n < 63, "harness: too many arguments");
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	tu_run(r, &o, argv);
	cr_assert(eq(int, r->timed_out, 0), "the launcher timed out after %d s", TU_TIMEOUT_S);
	cr_assert(r->json != NULL, "no JSON report (launcher exit %d, signal %d): %s; launcher stderr: %.2000s",
		  r->exit_code, r->signal, r->json_error, r->err);
}

/* --- JSON lookups ------------------------------------------------------ */

static inline const char *tu_type_name(json_t *v)
{
	if (!v)
		return "missing";
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real";
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		return "null";
	}
	return "?";
}

/*
 * Criterion's cr_assert() wants a criterion starting with an identifier, so
 * jansson's json_is_*() macros are wrapped in functions.
 */
static inline int tu_is_integer(json_t *v)
{
	return json_is_integer(v);
}
static inline int tu_is_number(json_t *v)
{
	return json_is_number(v);
}
static inline int tu_is_string(json_t *v)
{
	return json_is_string(v);
}
static inline int tu_is_boolean(json_t *v)
{
	return json_is_boolean(v);
}
static inline int tu_is_array(json_t *v)
{
	return json_is_array(v);
}
static inline int tu_is_object(json_t *v)
{
	return json_is_object(v);
}

/*
 * The value at a dotted path below v ("processes.0.memory.leaks"); numeric
 * segments index arrays. NULL when any step is missing.
 */
static inline json_t *tu_get(json_t *v, const char *path)
{
	char seg[128];

	while (v && *path) {
		size_t n = strcspn(path, ".");

		if (n >= sizeof seg)
			return NULL;
		memcpy(seg, path, n);
		seg[n] = '\0';
		path += n + (path[n] == '.');
		if (json_is_array(v)) {
			char *end;
			unsigned long i = strtoul(seg, &end, 10);

			v = (*seg && !*end) ? json_array_get(v, i) : NULL;
		} else {
			v = json_object_get(v, seg);
		}
	}
	return v;
}

static inline long long tu_int(json_t *v, const char *path)
{
	json_t *x = tu_get(v, path);

	cr_assert(tu_is_integer(x), "JSON %s: expected an integer, got %s", path, tu_type_name(x));
	return json_integer_value(x);
}

static inline double tu_num(json_t *v, const char *path)
{
	json_t *x = tu_get(v, path);

	cr_assert(tu_is_number(x), "JSON %s: expected a number, got %s", path, tu_type_name(x));
	return json_number_value(x);
}

static inline const char *tu_str(json_t *v, const char *path)
{
	json_t *x = tu_get(v, path);

	cr_assert(tu_is_string(x), "JSON %s: expected a string, got %s", path, tu_type_name(x));
	return json_string_value(x);
}

static inline int tu_bool(json_t *v, const char *path)
{
	json_t *x = tu_get(v, path);

	cr_assert(tu_is_boolean(x), "JSON %s: expected a boolean, got %s", path, tu_type_name(x));
	return json_is_true(x);
}

static inline int tu_is_null(json_t *v, const char *path)
{
	return json_is_null(tu_get(v, path));
}

static inline json_t *tu_arr(json_t *v, const char *path)
{
	json_t *x = tu_get(v, path);

	cr_assert(tu_is_array(x), "JSON %s: expected an array, got %s", path, tu_type_name(x));
	return x;
}

static inline json_t *tu_obj(json_t *v, const char *path)
{
	json_t *x = tu_get(v, path);

	cr_assert(tu_is_object(x), "JSON %s: expected an object, got %s", path, tu_type_name(x));
	return x;
}

static inline int tu_ends_with(const char *s, const char *suffix)
{
	size_t n = s ? strlen(s) : 0, k = strlen(suffix);

	return s && n >= k && strcmp(s + n - k, suffix) == 0;
}

/* processes[i] of the report. */
static inline json_t *tu_proc(json_t *report, size_t i)
{
	json_t *procs = tu_arr(report, "processes");

	cr_assert(i < json_array_size(procs), "JSON processes: expected more than %zu entries, got %zu", i,
		  json_array_size(procs));
	return json_array_get(procs, i);
}

/* processes[i].memory, which must be an object. */
static inline json_t *tu_memory(json_t *report, size_t i)
{
	return tu_obj(tu_proc(report, i), "memory");
}

/* Expected memory totals of a process; a negative field is not checked. */
struct tu_totals {
	long long allocations, frees, bytes_allocated, peak_bytes, live_bytes, live_blocks;
	long long temporary_allocations, failed_allocations, inherited_frees;
};

/* Check memory's totals against t; what names the process in messages. */
static inline void tu_assert_totals(json_t *memory, const struct tu_totals *t, const char *what)
{
	const struct {
		const char *name;
		long long want;
	} f[] = {
	    {"allocations", t->allocations},
	    {"frees", t->frees},
	    {"bytes_allocated", t->bytes_allocated},
	    {"peak_bytes", t->peak_bytes},
	    {"live_bytes", t->live_bytes},
	    {"live_blocks", t->live_blocks},
	    {"failed_allocations", t->failed_allocations},
	    {"inherited_frees", t->inherited_frees},
	    /* Last: the subtlest figure should not hide the others. */
	    {"temporary_allocations", t->temporary_allocations},
	};

	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		if (f[i].want >= 0)
			cr_assert(eq(i64, tu_int(memory, f[i].name), f[i].want), "%s: memory.%s", what, f[i].name);
}

/* --- stacks, sites and leaks -------------------------------------------- */

/* The sites with blocks live at exit (memory object m): the leaks, then,
 * when the leak check was made, the still-reachable ones (a new array;
 * its elements belong to m). */
static inline json_t *tu_live_sites(json_t *m)
{
	json_t *a = json_array(), *r = json_object_get(m, "still_reachable");

	json_array_extend(a, tu_arr(m, "leaks"));
	if (r)
		json_array_extend(a, r);
	return a;
}

static inline json_t *tu_frame(json_t *entry, size_t i)
{
	return json_array_get(json_object_get(entry, "stack"), i);
}

/* A frame's string field, or NULL when absent or null. */
static inline const char *tu_frame_str(json_t *frame, const char *field)
{
	return json_string_value(json_object_get(frame, field));
}

/* A frame's line, or -1 when absent or null. */
static inline long long tu_frame_line(json_t *frame)
{
	json_t *l = json_object_get(frame, "line");

	return json_is_integer(l) ? json_integer_value(l) : -1;
}

static inline int tu_frame_is(json_t *frame, const char *function)
{
	const char *f = tu_frame_str(frame, "function");

	return f && strcmp(f, function) == 0;
}

/* Index of the first frame of entry's stack in function, or -1. */
static inline int tu_stack_find(json_t *entry, const char *function)
{
	json_t *stack = json_object_get(entry, "stack");

	for (size_t i = 0; i < json_array_size(stack); i++)
		if (tu_frame_is(json_array_get(stack, i), function))
			return (int)i;
	return -1;
}

/* The first element of array (leaks or sites) whose frame 0 is in function. */
static inline json_t *tu_find_frame0(json_t *array, const char *function)
{
	for (size_t i = 0; i < json_array_size(array); i++)
		if (tu_frame_is(tu_frame(json_array_get(array, i), 0), function))
			return json_array_get(array, i);
	return NULL;
}

/* The first element of array whose frame 0 is in function at line. */
static inline json_t *tu_find_frame0_line(json_t *array, const char *function, long long line)
{
	for (size_t i = 0; i < json_array_size(array); i++) {
		json_t *f = tu_frame(json_array_get(array, i), 0);

		if (tu_frame_is(f, function) && tu_frame_line(f) == line)
			return json_array_get(array, i);
	}
	return NULL;
}

/* How many elements of array have frame 0 in function. */
static inline int tu_count_frame0(json_t *array, const char *function)
{
	int n = 0;

	for (size_t i = 0; i < json_array_size(array); i++)
		n += tu_frame_is(tu_frame(json_array_get(array, i), 0), function);
	return n;
}

/* The first element of array whose stack has function at any depth. */
static inline json_t *tu_find_with_frame(json_t *array, const char *function)
{
	for (size_t i = 0; i < json_array_size(array); i++)
		if (tu_stack_find(json_array_get(array, i), function) >= 0)
			return json_array_get(array, i);
	return NULL;
}

/* Figures summed over the sites selected by a tu_sum_* helper. */
struct tu_sum {
	long long sites, allocations, bytes, frees, temporary, live_bytes, live_blocks;
};

static inline void tu_sum_add(struct tu_sum *s, json_t *site)
{
	s->sites++;
	s->allocations += tu_int(site, "allocations");
	s->bytes += tu_int(site, "bytes");
	s->frees += tu_int(site, "frees");
	s->temporary += tu_int(site, "temporary");
	s->live_bytes += tu_int(site, "live_bytes");
	s->live_blocks += tu_int(site, "live_blocks");
}

/* Sum over the sites whose stack has function at any depth. */
static inline struct tu_sum tu_sum_with_frame(json_t *sites, const char *function)
{
	struct tu_sum s = {0};

	for (size_t i = 0; i < json_array_size(sites); i++)
		if (tu_stack_find(json_array_get(sites, i), function) >= 0)
			tu_sum_add(&s, json_array_get(sites, i));
	return s;
}

/* Sum over the sites whose frame 0 is in function. */
static inline struct tu_sum tu_sum_frame0_fn(json_t *sites, const char *function)
{
	struct tu_sum s = {0};

	for (size_t i = 0; i < json_array_size(sites); i++)
		if (tu_frame_is(tu_frame(json_array_get(sites, i), 0), function))
			tu_sum_add(&s, json_array_get(sites, i));
	return s;
}

/* Index of the first frame of entry's stack in a file ending with suffix, or -1. */
static inline int tu_stack_find_file(json_t *entry, const char *suffix)
{
	json_t *stack = json_object_get(entry, "stack");

	for (size_t i = 0; i < json_array_size(stack); i++)
		if (tu_ends_with(tu_frame_str(json_array_get(stack, i), "file"), suffix))
			return (int)i;
	return -1;
}

/* Sum over the sites with a frame, at any depth, in a file ending with suffix. */
static inline struct tu_sum tu_sum_with_file(json_t *sites, const char *suffix)
{
	struct tu_sum s = {0};

	for (size_t i = 0; i < json_array_size(sites); i++)
		if (tu_stack_find_file(json_array_get(sites, i), suffix) >= 0)
			tu_sum_add(&s, json_array_get(sites, i));
	return s;
}

/*
 * Sum over the sites whose frame 0 field ("file" or "module") ends with
 * suffix, or, with invert, over all the others.
 */
static inline struct tu_sum tu_sum_frame0(json_t *sites, const char *field, const char *suffix, int invert)
{
	struct tu_sum s = {0};

	for (size_t i = 0; i < json_array_size(sites); i++) {
		json_t *site = json_array_get(sites, i);
		int match = tu_ends_with(tu_frame_str(tu_frame(site, 0), field), suffix);

		if (match != !!invert)
			tu_sum_add(&s, site);
	}
	return s;
}

/* Sum over every site. */
static inline struct tu_sum tu_sum_all(json_t *sites)
{
	struct tu_sum s = {0};

	for (size_t i = 0; i < json_array_size(sites); i++)
		tu_sum_add(&s, json_array_get(sites, i));
	return s;
}

/* Check a tu_sum against want; a negative field of want is not checked. */
static inline void tu_assert_sum(const struct tu_sum *got, const struct tu_sum *want, const char *what)
{
	const struct {
		const char *name;
		long long got, want;
	} f[] = {
	    {"sites", got->sites, want->sites},
	    {"allocations", got->allocations, want->allocations},
	    {"bytes", got->bytes, want->bytes},
	    {"frees", got->frees, want->frees},
	    {"live_bytes", got->live_bytes, want->live_bytes},
	    {"live_blocks", got->live_blocks, want->live_blocks},
	    {"temporary", got->temporary, want->temporary},
	};

	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		if (f[i].want >= 0)
			cr_assert(eq(i64, f[i].got, f[i].want), "%s: %s", what, f[i].name);
}

/*
 * The 1-based line of path (relative to the repository root) carrying marker
 * as a comment of its own, slash-star marker star-slash; fails the test
 * unless exactly one line does. Lets the tests follow the programs' sources
 * instead of hard-coding line numbers; a program's header comment may name
 * a marker, which does not count.
 */
static inline int tu_marker_line(const char *path, const char *marker)
{
	size_t len;
	char *text = tu_read_file(path, &len);
	int line = 1, found = -1, count = 0;
	char want[128];

	cr_assert(text != NULL, "cannot read %s", path);
	cr_assert(snprintf(want, sizeof want, "/* %s */", marker) < (int)sizeof want, "marker too long");
	for (char *p = text; *p; line++) {
		char *nl = strchr(p, '\n');

		if (nl)
			*nl = '\0';
		if (strstr(p, want)) {
			found = line;
			count++;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	free(text);
	cr_assert(eq(int, count, 1), "marker %s: expected once in %s", marker, path);
	return found;
}

/*
 * Check frame: in function, file ending with file_suffix, at line. what
 * names the frame in failure messages.
 */
static inline void tu_assert_frame(json_t *frame, const char *function, const char *file_suffix, int line,
				   const char *what)
{
	const char *fn = tu_frame_str(frame, "function");
	const char *file = tu_frame_str(frame, "file");

	cr_assert(frame != NULL, "%s: no such frame", what);
	cr_assert(fn != NULL, "%s: function is unknown, expected %s", what, function);
	cr_assert(eq(str, (char *)fn, (char *)function), "%s: function", what);
	cr_assert(tu_ends_with(file, file_suffix), "%s: file %s, expected one ending in %s", what,
		  file ? file : "(null)", file_suffix);
	cr_assert(eq(i64, tu_frame_line(frame), line), "%s: line in %s", what, file_suffix);
}

/* --- threads and histogram ---------------------------------------------- */

/* The entry of proc.threads named name; fails unless exactly one is. */
static inline json_t *tu_thread_named(json_t *proc, const char *name)
{
	json_t *threads = tu_arr(proc, "threads"), *found = NULL;
	int n = 0;

	for (size_t i = 0; i < json_array_size(threads); i++) {
		json_t *t = json_array_get(threads, i);
		const char *tn = json_string_value(json_object_get(t, "name"));

		if (tn && strcmp(tn, name) == 0) {
			found = t;
			n++;
		}
	}
	cr_assert(eq(int, n, 1), "threads[]: expected exactly one thread named %s", name);
	return found;
}

/* Count in the size_histogram bucket holding size (0 when none holds it). */
static inline long long tu_hist_count(json_t *memory, long long size)
{
	json_t *hist = tu_arr(memory, "size_histogram");
	long long count = 0;
	int holders = 0;

	for (size_t i = 0; i < json_array_size(hist); i++) {
		json_t *b = json_array_get(hist, i);

		if (tu_int(b, "min") <= size && size <= tu_int(b, "max")) {
			count = tu_int(b, "count");
			holders++;
		}
	}
	cr_assert(holders <= 1, "size_histogram: %d buckets hold size %lld", holders, size);
	return count;
}

/* [min, max] of the bucket holding size; fails when none does. */
static inline void tu_hist_bucket(json_t *memory, long long size, long long *min, long long *max)
{
	json_t *hist = tu_arr(memory, "size_histogram");

	for (size_t i = 0; i < json_array_size(hist); i++) {
		json_t *b = json_array_get(hist, i);

		if (tu_int(b, "min") <= size && size <= tu_int(b, "max")) {
			*min = tu_int(b, "min");
			*max = tu_int(b, "max");
			return;
		}
	}
	cr_fatal("size_histogram: no bucket holds size %lld", size);
}

/* How many allocations of one requested size a program makes. */
struct tu_size_count {
	long long size, count;
};

/*
 * Check memory.size_histogram against the n sizes a program allocates,
 * whatever the bucket boundaries: the counts add up to the total, and the
 * bucket holding each size counts every listed size in its [min, max].
 */
static inline void tu_assert_histogram(json_t *memory, const struct tu_size_count *sc, size_t n, const char *what)
{
	json_t *hist = tu_arr(memory, "size_histogram");
	long long total = 0, want_total = 0;

	for (size_t i = 0; i < json_array_size(hist); i++)
		total += tu_int(json_array_get(hist, i), "count");
	for (size_t i = 0; i < n; i++)
		want_total += sc[i].count;
	cr_assert(eq(i64, total, want_total), "%s: sum of size_histogram counts", what);
	for (size_t i = 0; i < n; i++) {
		long long min, max, want = 0;

		tu_hist_bucket(memory, sc[i].size, &min, &max);
		for (size_t j = 0; j < n; j++)
			if (min <= sc[j].size && sc[j].size <= max)
				want += sc[j].count;
		cr_assert(eq(i64, tu_hist_count(memory, sc[i].size), want),
			  "%s: size_histogram count of bucket [%lld, %lld] holding size %lld", what, min, max,
			  sc[i].size);
	}
}

/* Number of lines in s (a final line without '\n' counts). */
static inline int tu_count_lines(const char *s, size_t len)
{
	int n = 0;

	for (size_t i = 0; i < len; i++)
		n += s[i] == '\n';
	return n + (len > 0 && s[len - 1] != '\n');
}

#endif
