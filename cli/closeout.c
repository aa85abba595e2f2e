/*
 * closeout: the calls a process left open when it ended, closed at its end.
 *
 * A process killed by a signal, ended by abort(), by _exit inside daemon()
 * or by exit_group, or whose other threads were still inside calls when
 * one of them called exit(), never ran the exit hooks of those calls. The
 * agent keeps each thread's shadow stack in the image (struct sf_fframe),
 * so the launcher can still see them after the process is gone, and
 * closes each one here exactly as the agent's func_pop would have at the
 * process's end: its time runs up to then, it counts as a call, and as
 * unwound (closed without its exit hook). Done once, in the image, before
 * any report is made from it.
 *
 * The image is memory the program could write: every offset is checked
 * (session_at), every list counted once without loops (session_list_len),
 * every frame charged to the reading budget, and every figure computed
 * without overflow (a hostile image gets wrong figures in its own
 * records, never a crash or a hang).
 */
#include "closeout.h"

#include "report.h"

#include <stddef.h>
#include <string.h>

struct co_ctx {
	struct session *s;
	const struct sf_process *p;
	const struct sf_fproc *fp;
	struct sf_fthread *th;
	uint64_t end;	      /* ticks: the stack being closed closes then */
	uint64_t inner, outer; /* the hook-cost correction, ticks (0: none) */
	uint64_t min_ticks;    /* --min-duration */
};

static void *co_at(struct session *s, sf_off off, size_t len)
{
	return (void *)session_at(s, off, len);
}

/* A process address of the image (sf_fframe.fe, .node) as a pointer. */
static void *co_addr(const struct co_ctx *c, uint64_t addr, size_t len)
{
	if (addr <= c->fp->image_base)
		return NULL;
	return co_at(c->s, addr - c->fp->image_base, len);
}

/* A double as u64, saturating (NaN: 0). */
static uint64_t co_u64(double v)
{
	if (!(v > 0))
		return 0;
	return v >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)v;
}

/* CLOCK_MONOTONIC ns as the process's clock ticks. */
static uint64_t co_ticks(const struct sf_fproc *fp, uint64_t ns)
{
	/* The ratio the report reads the ticks back with. */
	double npt = report_func_ns_per_tick(fp);

	if (fp->clock != SF_FCLOCK_TSC)
		return ns;
	if (!(npt > 0) || ns <= fp->mono0)
		return fp->tick0;
	return fp->tick0 + co_u64((double)(ns - fp->mono0) / npt);
}

/* Close f (the top open frame) into its parent, as func_pop does. */
static void co_close(const struct co_ctx *c, struct sf_fframe *f, struct sf_fframe *parent)
{
	struct sf_func *fe = co_addr(c, f->fe, sizeof(*fe));
	struct sf_fnode *n = co_addr(c, f->node, sizeof(*n));
	uint64_t raw = c->end > f->start ? c->end - f->start : 0, self, dc, cost;
	int outer;

	f->fn = 0;
	if (!fe || !n) {
		session_corrupt(c->s, c->p, SP_OPEN_CALLS);
		return; /* torn: the call is lost, the others still close */
	}
	/* raw - inner - adj, at least 0: in unsigned terms (the image's
	 * figures may be anything, and a signed overflow is undefined). */
	cost = c->inner + f->adj < c->inner ? UINT64_MAX : c->inner + f->adj;
	self = raw > cost ? raw - cost : 0;
	dc = self + f->sub;
	parent->adj += raw + c->outer;
	parent->sub += dc;
	fe->calls++;
	fe->self += self;
	fe->unwound++;
	c->th->unwound++;
	n->calls++;
	n->total += dc;
	n->self += self;
	outer = fe->active <= 1;
	if (fe->active)
		fe->active--;
	if (outer) {
		struct sf_fcall rec = {.start = f->start, .ticks = dc};
		unsigned b = sf_fh_bucket(dc);

		fe->total += dc;
		if (dc < fe->min)
			fe->min = dc;
		if (dc > fe->max)
			fe->max = dc;
		fe->sumsq += (double)dc * (double)dc;
		if (fe->hist[b] < UINT32_MAX)
			fe->hist[b]++;
		fe->incl_allocs += f->allocs;
		fe->incl_bytes += f->bytes;
		if (dc >= fe->slow_thr && dc >= c->min_ticks)
			sf_fslow_put(fe->slow, &fe->nslow, SF_FSLOW_FUNC, &fe->slow_thr, &rec, c->min_ticks);
		if (dc >= c->th->slow_thr && dc >= c->min_ticks) {
			rec.func = f->fe - c->fp->image_base;
			sf_fslow_put(c->th->slow, &c->th->nslow, SF_FSLOW_THREAD, &c->th->slow_thr, &rec, c->min_ticks);
		}
	} else {
		fe->recursive++;
	}
	parent->allocs += f->allocs;
	parent->bytes += f->bytes;
}

/* Close the open frames of one shadow stack, innermost first. */
static void co_stack(const struct co_ctx *c, sf_off frames, uint32_t cap)
{
	struct sf_fframe *f = co_at(c->s, frames, (size_t)cap * sizeof(*f));
	uint32_t k = 1;

	if (!f || cap < 2) {
		if (frames && !f)
			session_corrupt(c->s, c->p, SP_OPEN_CALLS);
		return;
	}
	while (k < cap && f[k].fn)
		k++;
	k = 1 + (uint32_t)session_charge(c->s, c->p, k - 1);
	while (--k > 0)
		co_close(c, &f[k], &f[k - 1]);
}

void closeout_process(struct session *s, struct sf_process *p, uint64_t end_ns)
{
	struct co_ctx c = {.s = s, .p = p};
	struct sf_thread *t;
	uint64_t end, n;
	sf_off head;

	c.fp = co_at(s, p->func, sizeof(*c.fp));
	if (!c.fp)
		return;
	if (p->end_ns)
		end_ns = p->end_ns;
	c.end = co_ticks(c.fp, end_ns);
	c.min_ticks = c.fp->min_duration_ns;
	if (c.fp->clock == SF_FCLOCK_TSC)
		c.min_ticks = c.fp->ns_per_tick > 0 ? co_u64((double)c.fp->min_duration_ns / c.fp->ns_per_tick + 0.999) : 0;
	if (c.fp->corrected && c.fp->hook_ticks >= c.fp->inner_ticks) {
		c.inner = c.fp->inner_ticks;
		c.outer = c.fp->hook_ticks - c.fp->inner_ticks;
	}
	end = c.end;
	head = __atomic_load_n(&p->threads, __ATOMIC_ACQUIRE);
	n = session_list_len(s, p, SP_THREADS, head, sizeof(*t), offsetof(struct sf_thread, next));
	for (t = co_at(s, head, sizeof(*t)); t && n; t = co_at(s, t->next, sizeof(*t)), n--) {
		struct sf_fstack *st;
		uint64_t k;

		c.th = co_at(s, t->func, sizeof(*c.th));
		if (!c.th)
			continue;
		c.end = end;
		co_stack(&c, c.th->frames, c.th->frames_cap);
		/* Coroutines: a suspended one's clocks stopped when it was. */
		k = session_list_len(s, p, SP_OPEN_CALLS, c.th->stacks, sizeof(*st), offsetof(struct sf_fstack, next));
		for (st = co_at(s, c.th->stacks, sizeof(*st)); st && k; st = co_at(s, st->next, sizeof(*st)), k--) {
			c.end = st->suspended ? st->suspended : end;
			co_stack(&c, st->frames, st->cap);
		}
	}
}

void closeout_session(struct session *s, uint64_t end_ns)
{
	uint32_t n = session_nprocs(s);

	session_read_begin(s);
	for (uint32_t i = 0; i < n; i++) {
		struct sf_process *p = (struct sf_process *)session_process(s, i);

		uint32_t st = __atomic_load_n(&p->state, __ATOMIC_ACQUIRE);

		/* Only processes that are over: one the launcher stopped
		 * waiting for (SIGINT after the program's end) still runs and
		 * still writes its frames. */
		if (st == SF_PROC_DONE || (st >= SF_PROC_RUNNING && p->end_ns))
			closeout_process(s, p, end_ns);
	}
}

void closeout_reaped(struct session *s, int pid, uint64_t end_ns)
{
	uint32_t n = session_nprocs(s);

	for (uint32_t i = 0; i < n; i++) {
		struct sf_process *p = (struct sf_process *)session_process(s, i);

		/* An image replaced by exec ended at the exec (the agent says
		 * so); the last image of the pid ends now. */
		if (p->pid == pid && !p->end_ns && !(p->flags & SF_PF_EXECED) &&
		    __atomic_load_n(&p->state, __ATOMIC_ACQUIRE) >= SF_PROC_RUNNING)
			p->end_ns = end_ns;
	}
}
