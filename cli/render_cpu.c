/*
 * Text and JSON of the CPU profile, the crash report and the stack dumps
 * (the model's report_cpu.c part). Formatting only.
 */
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <string.h>

#include "render.h"

#define TEXT_CPU_FUNCS 15
#define TEXT_CPU_STACKS 5
#define TEXT_CPU_THREADS 20
#define JSON_CPU_STACKS 5000 /* the rest are counted in other_samples */

#define E render_text_esc
#define N render_text_name

static const char *base_name(const char *p)
{
	const char *s = p ? strrchr(p, '/') : NULL;
	return s ? s + 1 : p;
}

/* "SIGSEGV", or "signal 40" (buf). */
static const char *sig_name(int sig, char *buf, size_t len)
{
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev)
		snprintf(buf, len, "SIG%s", abbrev);
	else
		snprintf(buf, len, "signal %d", sig);
	return buf;
}

/* Why the sampler stepped aside, or did not sample; NULL when it ran. */
static const char *aside_reason(uint32_t flags)
{
	if (flags & SF_CPU_ASIDE_HANDLER)
		return "the program installed its own handler (or SIG_IGN) for the sampling signal";
	if (flags & SF_CPU_ASIDE_TIMER)
		return "the program armed a timer of its own with the sampling signal";
	if (flags & SF_CPU_ASIDE_WAIT)
		return "the program waits for the sampling signal itself (signalfd)";
	if (flags & SF_CPU_ASIDE_SIGNAL)
		return "a sampling signal not sent by the sampler arrived";
	return NULL;
}

static const char *off_reason(const struct rcpu *c)
{
	if (c->flags & SF_CPU_NOT_DEFAULT)
		return "no candidate sampling signal was at its default action, unblocked, when the program started";
	if (!c->hz)
		return "sampling off (PTRACE_CPU_HZ=0)";
	return NULL;
}

static const char *dump_note(uint32_t flags)
{
	if (flags & SF_CPU_DUMP_BUSY)
		return "the dump signal was handled or ignored when the program started: no dumps";
	if (flags & SF_CPU_DUMP_TAKEN)
		return "the program took the dump signal over: later requests went to it";
	return NULL;
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static double secs(uint64_t samples, unsigned hz)
{
	return hz ? (double)samples / hz : 0.0;
}

/* --- text ------------------------------------------------------------------ */

void render_cpu_agent_text(const struct report *r, FILE *f)
{
	char b[32];

	if (r->cpu_hz)
		fprintf(f, "cpu:   sampling at %u Hz of each thread's CPU time (1 sample = %.3g ms of CPU)", r->cpu_hz,
			1000.0 / r->cpu_hz);
	else
		fprintf(f, "cpu:   sampling off");
	if (r->dump_signal)
		fprintf(f, "; stack dumps on %s", sig_name(r->dump_signal, b, sizeof(b)));
	fputc('\n', f);
	if (r->cpu_coverage_note)
		fprintf(f, "warning: %s\n", E(r->cpu_coverage_note));
}

static void print_fn(FILE *f, const struct rcpu_fn *fn, uint64_t total)
{
	fprintf(f, "   %8" PRIu64 " %5.1f%%  %8" PRIu64 " %5.1f%%   ", fn->self, pct(fn->self, total), fn->total,
		pct(fn->total, total));
	fprintf(f, "%s", fn->name ? E(N(fn->name)) : "??");
	if (fn->file && fn->line)
		fprintf(f, " (%s:%d)", E(fn->file), fn->line);
	if (fn->module)
		fprintf(f, "  %s", E(base_name(fn->module)));
	fputc('\n', f);
}

void render_crash_text(const struct rprocess *p, FILE *f)
{
	const struct rcrash *k = &p->crash;
	char b[32];

	if (!k->present)
		return;
	fprintf(f, "  CRASH: %s (%s)", sig_name(k->signal, b, sizeof(b)), strsignal(k->signal));
	if (k->has_address)
		fprintf(f, " at address 0x%" PRIx64, k->address);
	fprintf(f, " in thread %d", k->tid);
	if (k->thread[0])
		fprintf(f, " (%s)", E(k->thread));
	fprintf(f, ", %.3f s after start\n", k->time_ns / 1e9);
	if (k->runtime.n) {
		fprintf(f, "   in the runtime: ");
		for (unsigned i = 0; i < k->runtime.n && i < 6; i++) {
			const char *fn = rstack_frame(&k->runtime, i)->function;

			fprintf(f, "%s%s", i ? " <- " : "", fn ? E(N(fn)) : "??");
		}
		fprintf(f, " (%s), called from:\n", E(base_name(rstack_frame(&k->runtime, 0)->module)));
	}
	if (k->pc_only)
		fprintf(f, "   (it crashed inside the unwinder: only the instruction is known)\n");
	render_text_stack(f, &k->stack, "        ");
	fputc('\n', f);
}

static void print_dumps(const struct rprocess *p, FILE *f)
{
	for (size_t i = 0; i < p->ndumps; i++) {
		const struct rdump *d = &p->dumps[i];

		fprintf(f, "\n  stacks at dump #%u, %.3f s after start (%zu of %u threads answered):\n", d->seq,
			d->time_ns / 1e9, d->nthreads, d->asked ? d->asked : (unsigned)d->nthreads);
		for (size_t k = 0; k < d->nthreads; k++) {
			const struct rdump_thread *t = &d->threads[k];

			fprintf(f, "   thread %d%s%s%s%s:\n", t->tid, t->name[0] ? " (" : "", E(t->name), t->name[0] ? ")" : "",
				t->requester ? " [received the signal]" : "");
			render_text_stack(f, &t->stack, "        ");
		}
	}
}

void render_cpu_text(const struct rprocess *p, FILE *f)
{
	const struct rcpu *c = &p->cpu;
	const char *why = aside_reason(c->flags), *note = dump_note(c->flags);

	if (note)
		fprintf(f, "\n  dumps: %s\n", note);
	print_dumps(p, f);
	if (!c->hz && !(c->flags & SF_CPU_NOT_DEFAULT))
		return;
	if (off_reason(c)) {
		fprintf(f, "\n  cpu: not sampled: %s\n", off_reason(c));
		return;
	}
	if (!c->samples && !why && !c->timer_failures)
		return; /* under 1/hz s of CPU: nothing to say */
	fprintf(f, "\n  cpu: %" PRIu64 " samples = %.3f s of CPU at %u Hz, %" PRIu64 " stacks taken", c->samples,
		secs(c->samples, c->hz), c->hz, c->signals);
	if (c->nthreads > 1)
		fprintf(f, ", %zu threads", c->nthreads);
	fputc('\n', f);
	if (why)
		fprintf(f, "       the sampler stepped aside %.3f s after start: %s; the figures cover the time before\n",
			c->aside_ns / 1e9, why);
	if (c->nostack)
		fprintf(f, "       %" PRIu64 " samples without a stack (%.1f%%)\n", c->nostack, pct(c->nostack, c->samples));
	if (c->agent)
		fprintf(f, "       profiler overhead: %" PRIu64 " samples (%.1f%%) in ptrace-run's own work, each charged to the program's frame that called it\n",
			c->agent, pct(c->agent, c->samples));
	if (c->timer_failures)
		fprintf(f, "       %" PRIu64 " threads were not sampled: their timer could not be created\n",
			c->timer_failures);
	if (!c->samples)
		return;
	fprintf(f, "\n  top functions by self samples:\n       self            total\n");
	for (size_t i = 0; i < c->nfns && i < TEXT_CPU_FUNCS && c->fns[i].self; i++)
		print_fn(f, &c->fns[i], c->samples);
	fprintf(f, "\n  top functions by total samples (self + callees):\n       self            total\n");
	for (size_t i = 0; i < c->nfns && i < TEXT_CPU_FUNCS; i++)
		print_fn(f, c->by_total[i], c->samples);
	fprintf(f, "\n  hottest stacks:\n");
	for (size_t i = 0; i < c->nstacks && i < TEXT_CPU_STACKS; i++) {
		const struct rcpu_stack *st = &c->stacks[i];

		fprintf(f, "   #%zu %" PRIu64 " samples (%.1f%%, %.3f s)\n", i + 1, st->samples, pct(st->samples, c->samples),
			secs(st->samples, c->hz));
		render_text_stack(f, &st->stack, "        ");
	}
	if (c->nthreads > 1) {
		fprintf(f, "\n  cpu per thread:\n");
		for (size_t i = 0; i < c->nthreads && i < TEXT_CPU_THREADS; i++) {
			const struct rcpu_thread *t = &c->threads[i];

			fprintf(f, "   tid %-8d %-16s %10" PRIu64 " samples %5.1f%% %9.3f s\n", t->tid,
				t->name[0] ? E(t->name) : "-", t->samples, pct(t->samples, c->samples), secs(t->samples, c->hz));
		}
		if (c->nthreads > TEXT_CPU_THREADS)
			fprintf(f, "   ... %zu more threads (see --json)\n", c->nthreads - TEXT_CPU_THREADS);
	}
}

/* --- JSON ------------------------------------------------------------------ */

#define jstr render_jstr

void render_cpu_agent_json(const struct report *r, json_t *agent)
{
	json_object_set_new(agent, "cpu_coverage_note", render_jstr(r->cpu_coverage_note));
	json_t *dropped;

	if (!agent)
		return;
	json_object_set_new(agent, "cpu_hz", json_integer(r->cpu_hz));
	json_object_set_new(agent, "dump_signal", r->dump_signal ? json_integer(r->dump_signal) : json_null());
	dropped = json_object_get(agent, "dropped");
	if (dropped)
		json_object_set_new(dropped, "samples", json_integer((json_int_t)r->dropped_samples));
}

static json_t *j_fn(const struct rcpu_fn *fn)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:I, s:I}", "name", jstr(fn->name), "file", jstr(fn->file), "line",
			 fn->line ? json_integer(fn->line) : json_null(), "module", jstr(fn->module), "self_samples",
			 (json_int_t)fn->self, "total_samples", (json_int_t)fn->total);
}

static json_t *j_cpu(const struct rcpu *c)
{
	json_t *fns = json_array(), *stacks = json_array(), *threads = json_array(), *o;
	const char *why = aside_reason(c->flags);
	uint64_t other = 0;

	for (size_t i = 0; i < c->nfns; i++)
		json_array_append_new(fns, j_fn(&c->fns[i]));
	for (size_t i = 0; i < c->nstacks; i++) {
		if (i >= JSON_CPU_STACKS) {
			other += c->stacks[i].samples;
			continue;
		}
		json_array_append_new(stacks, json_pack("{s:I, s:o}", "count", (json_int_t)c->stacks[i].samples, "frames",
							render_json_stack(&c->stacks[i].stack)));
	}
	for (size_t i = 0; i < c->nthreads; i++) {
		const struct rcpu_thread *t = &c->threads[i];
		json_array_append_new(threads, json_pack("{s:i, s:o, s:I}", "tid", t->tid, "name",
							 t->name[0] ? jstr(t->name) : json_null(), "samples",
							 (json_int_t)t->samples));
	}
	o = json_pack("{s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:I, s:o, s:o, s:o}", "hz", (int)c->hz,
			 "samples", (json_int_t)c->samples, "cpu_ns",
			 (json_int_t)(c->hz ? c->samples * (1000000000ull / c->hz) : 0), "stacks_taken",
			 (json_int_t)c->signals, "max_weight", (json_int_t)c->max_weight, "no_stack_samples",
			 (json_int_t)c->nostack, "agent_samples", (json_int_t)c->agent, "other_samples",
			 (json_int_t)other, "not_sampled", off_reason(c) ? json_string(off_reason(c)) : json_null(),
			 "stepped_aside", why ? json_string(why) : json_null(), "stepped_aside_ns",
			 why ? json_integer((json_int_t)c->aside_ns) : json_null(), "timer_failures",
			 (json_int_t)c->timer_failures, "functions", fns, "stacks", stacks, "threads", threads);
	if (o) {
		char b[32];

		json_object_set_new(o, "signal", c->signal ? json_string(sig_name(c->signal, b, sizeof(b))) : json_null());
		json_object_set_new(o, "perf_threads", json_integer((json_int_t)c->perf_threads));
		json_object_set_new(o, "timer_threads", json_integer((json_int_t)c->timer_threads));
	}
	return o;
}

static json_t *j_crash(const struct rcrash *k)
{
	char b[32];

	if (!k->present)
		return json_null();
	return json_pack("{s:i, s:s, s:i, s:o, s:i, s:o, s:I, s:b, s:o, s:o}", "signal", k->signal, "name",
			 sig_name(k->signal, b, sizeof(b)), "code", k->code, "address",
			 k->has_address ? json_integer((json_int_t)k->address) : json_null(), "tid", k->tid, "thread",
			 k->thread[0] ? jstr(k->thread) : json_null(), "time_ns", (json_int_t)k->time_ns, "pc_only",
			 k->pc_only, "stack", render_json_stack(&k->stack), "runtime_frames",
			 render_json_stack(&k->runtime));
}

static json_t *j_dumps(const struct rprocess *p)
{
	json_t *a = json_array();

	for (size_t i = 0; i < p->ndumps; i++) {
		const struct rdump *d = &p->dumps[i];
		json_t *threads = json_array();

		for (size_t k = 0; k < d->nthreads; k++) {
			const struct rdump_thread *t = &d->threads[k];
			json_array_append_new(threads, json_pack("{s:i, s:o, s:b, s:b, s:o}", "tid", t->tid, "name",
								 t->name[0] ? jstr(t->name) : json_null(),
								 "received_signal", t->requester, "pc_only", t->pc_only,
								 "stack", render_json_stack(&t->stack)));
		}
		json_array_append_new(a, json_pack("{s:i, s:I, s:i, s:o}", "seq", (int)d->seq, "time_ns",
						   (json_int_t)d->time_ns, "threads_asked", (int)d->asked, "threads",
						   threads));
	}
	return a;
}

void render_cpu_json(const struct rprocess *p, json_t *proc)
{
	const char *note = dump_note(p->cpu.flags);

	json_object_set_new(proc, "cpu", j_cpu(&p->cpu));
	json_object_set_new(proc, "crash", j_crash(&p->crash));
	json_object_set_new(proc, "dumps", j_dumps(p));
	json_object_set_new(proc, "dumps_note", note ? json_string(note) : json_null());
}
