#include "cpu.h"
#include "leakscan.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef PR_UNIT_TEST
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#endif

#include "image.h"
#include "modules.h"
#include "sigown.h"
#include "trace.h"

#define CPU_PAGE 4096 /* x86-64 */

/* Its address is the sigev_value of our POSIX timers: how the handler
 * tells their signals from anyone else's. */
static const char cpu_cookie = 1;

static struct {
	unsigned hz;         /* in effect; 0: sampling off */
	int sig;             /* the sampling signal; 0: none */
	int perf;            /* atomic: perf events allowed (refused for good: 0) */
	uint64_t period;     /* ns of thread CPU time per sample */
	int aside;           /* atomic: stepped aside for good */
	uint32_t flags;      /* atomic: SF_CPU_* so far; a fork child inherits them */
	int warm;            /* libunwind used once (see cpu_thread_init) */
	int live_pid;        /* the process live_timers counts for */
	int live_timers;     /* atomic: POSIX timers of ours alive in it */
} cpu;

/* Per thread, for the handler. pid tells a fork child's copy from ours. */
struct cpu_tls {
	int pid;
	struct sf_cpu_thread *c;  /* NULL: not sampled */
	uint64_t base_ns;         /* thread CPU time accounted for (perf events) */
	int stay;                 /* keep the POSIX timer: a perf event failed */
	struct tstate slab;       /* trace slab of the handler (never the hooks') */
};

static __thread struct cpu_tls ct __attribute__((tls_model("initial-exec")));

#ifdef PR_UNIT_TEST
uint64_t cpu_test_ips[SF_DEPTH_LIMIT];
unsigned cpu_test_depth;
#endif

NI void cpu_flag(uint32_t f)
{
	struct sf_process *p = agent.proc;
	struct sf_cpu_proc *cp = p ? image_ptr(__atomic_load_n(&p->cpu, __ATOMIC_ACQUIRE)) : NULL;

	__atomic_fetch_or(&cpu.flags, f, __ATOMIC_RELAXED);
	if (cp)
		__atomic_fetch_or(&cp->flags, f, __ATOMIC_RELAXED);
}

NI struct sf_cpu_proc *cpu_proc(void)
{
	struct sf_process *p = agent.proc;
	struct sf_cpu_proc *cp;
	sf_off off, mine;

	if (!p || !image_base)
		return NULL;
	off = __atomic_load_n(&p->cpu, __ATOMIC_ACQUIRE);
	if (off)
		return image_ptr(off);
	/* First use in this process (a fork child gets a record of its own).
	 * Lock-free: the loser of a race wastes 128 bytes of image. */
	mine = image_alloc(sizeof(*cp));
	if (!mine)
		return NULL;
	cp = image_ptr(mine);
	cp->hz = cpu.hz;
	cp->signal = cpu.sig;
	cp->flags = __atomic_load_n(&cpu.flags, __ATOMIC_RELAXED);
	cp->dump_signal = agent.set.dump_signal;
	if (__atomic_load_n(&cpu.aside, __ATOMIC_RELAXED))
		cp->aside_ns = p->start_ns; /* inherited from the parent */
	if (!__atomic_compare_exchange_n(&p->cpu, &off, mine, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return image_ptr(off);
	return cp;
}

NI int cpu_sampling(void)
{
	return cpu.hz && !__atomic_load_n(&cpu.aside, __ATOMIC_RELAXED);
}

NI int cpu_signal(void)
{
	return cpu.sig;
}

NI int cpu_own_signal(const siginfo_t *si)
{
	if (!cpu.sig || si->si_signo != cpu.sig)
		return 0;
	/* A POSIX timer of ours, or a perf event's (fasync: POLL_IN). */
	return (si->si_code == SI_TIMER && si->si_value.sival_ptr == &cpu_cookie) || si->si_code == POLL_IN;
}

NI static uint64_t thread_cpu_ns(void)
{
	struct timespec t;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t))
		return 0;
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* --- timers ------------------------------------------------------------- */

/* The POSIX timers of ours alive in this process (a fork child starts
 * with none: timers are not inherited). */
NI static int *live_timers(void)
{
	if (__atomic_load_n(&cpu.live_pid, __ATOMIC_RELAXED) != agent.pid) {
		__atomic_store_n(&cpu.live_timers, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&cpu.live_pid, agent.pid, __ATOMIC_RELAXED);
	}
	return &cpu.live_timers;
}

/* Delete c's POSIX timer, once: whoever swaps it out of the record
 * deletes it, so an id the kernel has handed out again is never touched. */
NI static void timer_drop_posix(struct sf_cpu_thread *c)
{
	int t = __atomic_exchange_n(&c->timer, 0, __ATOMIC_SEQ_CST);

	if (t) {
		syscall(SYS_timer_delete, t - 1);
		__atomic_fetch_sub(live_timers(), 1, __ATOMIC_RELAXED);
	}
}

/* Delete c's perf event, once, likewise (no address mapped again is
 * unmapped). The mapping holds the event's last reference: this frees it. */
NI static void timer_drop_perf(struct sf_cpu_thread *c)
{
	uint64_t page = __atomic_exchange_n(&c->perf_page, 0, __ATOMIC_SEQ_CST);

	if (page)
		syscall(SYS_munmap, (uintptr_t)page, CPU_PAGE);
}

/* Delete c's timer or perf event. */
NI static void timer_drop(struct sf_cpu_thread *c)
{
	timer_drop_posix(c);
	timer_drop_perf(c);
}

NI static void count_thread(int perf)
{
	struct sf_cpu_proc *cp = cpu_proc();

	if (cp)
		__atomic_fetch_add(perf ? &cp->perf_threads : &cp->timer_threads, 1, __ATOMIC_RELAXED);
}

/* A thread counted under its POSIX timer moved to a perf event. */
NI static void count_upgrade(void)
{
	struct sf_cpu_proc *cp = cpu_proc();

	if (cp) {
		__atomic_fetch_sub(&cp->timer_threads, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&cp->perf_threads, 1, __ATOMIC_RELAXED);
	}
}

/*
 * A software task-clock perf event of thread tid (of this process),
 * sampling every period of its CPU time, its overflow signalled with
 * cpu.sig to that thread (fasync: F_SETSIG, F_SETOWN_EX). Nothing is
 * charged to the program's RLIMIT_SIGPENDING while no signal is pending,
 * unlike a POSIX timer's preallocated signal (see docs/architecture.md).
 * The descriptor is closed at once: a one-page mapping of the event keeps
 * it alive, so the program has no descriptor of ours. User time only
 * (exclude_kernel, what perf_event_paranoid 2 allows): the signal is
 * raised while the thread runs in user mode, so it never interrupts a
 * system call. The mapping's address, or -errno.
 */
NI static long perf_open(int tid)
{
	struct perf_event_attr a;
	struct f_owner_ex own = {F_OWNER_TID, tid};
	long fd, page;
	int err = 0;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_SOFTWARE;
	a.config = PERF_COUNT_SW_TASK_CLOCK;
	a.sample_period = cpu.period;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	fd = syscall(SYS_perf_event_open, &a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Owner and signal before O_ASYNC: the first overflow must not be
	 * a plain SIGIO to the whole process. */
	if (syscall(SYS_fcntl, fd, F_SETOWN_EX, &own) || syscall(SYS_fcntl, fd, F_SETSIG, cpu.sig) ||
	    syscall(SYS_fcntl, fd, F_SETFL, O_ASYNC))
		err = -errno;
	page = err ? -1 : syscall(SYS_mmap, NULL, CPU_PAGE, PROT_READ, MAP_SHARED, fd, 0);
	if (!err && page == -1)
		err = -errno;
	syscall(SYS_close, fd);
	return err ? err : page;
}

/* perf_open for c's owner, published in c unless c has one already
 * (the owner's handler and a conversion from another thread may race).
 * The address installed (*page; 0 when another was there first: that
 * one stays), or -errno. */
NI static int perf_arm_page(struct sf_cpu_thread *c, int tid, uint64_t *page)
{
	long mapped = perf_open(tid);
	uint64_t none = 0;

	*page = 0;
	if (mapped < 0)
		return (int)mapped;
	if (!__atomic_compare_exchange_n(&c->perf_page, &none, (uint64_t)mapped, 0, __ATOMIC_SEQ_CST,
					 __ATOMIC_SEQ_CST)) {
		syscall(SYS_munmap, (uintptr_t)mapped, CPU_PAGE);
		return 0;
	}
	*page = (uint64_t)mapped;
	return 0;
}

NI static int perf_arm(struct sf_cpu_thread *c, int tid)
{
	uint64_t page;

	return perf_arm_page(c, tid, &page);
}

/* Take back page from c if it is still there (no other event's page is
 * ever unmapped). */
NI static void perf_unarm(struct sf_cpu_thread *c, uint64_t page)
{
	if (page && __atomic_compare_exchange_n(&c->perf_page, &page, 0, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		syscall(SYS_munmap, (uintptr_t)page, CPU_PAGE);
}

/* A POSIX timer on the calling thread's CPU clock, signalling cpu.sig to
 * it (the fallback where perf events are not allowed). 0, or -errno. */
NI static int posix_arm(struct sf_cpu_thread *c, int tid)
{
	struct sigevent ev;
	struct itimerspec it;
	int kid;

	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = cpu.sig;
	ev.sigev_value.sival_ptr = (void *)&cpu_cookie;
	ev._sigev_un._tid = tid;
	/* Raw system calls: timer_create is interposed (shim/signal.c). */
	if (syscall(SYS_timer_create, CLOCK_THREAD_CPUTIME_ID, &ev, &kid))
		return -errno;
	memset(&it, 0, sizeof(it));
	it.it_interval.tv_sec = (time_t)(cpu.period / 1000000000u);
	it.it_interval.tv_nsec = (long)(cpu.period % 1000000000u);
	it.it_value = it.it_interval;
	syscall(SYS_timer_settime, kid, 0, &it, NULL);
	__atomic_fetch_add(live_timers(), 1, __ATOMIC_RELAXED);
	/* Counted before it is published: a move to a perf event (another
	 * thread's cpu_upgrade) counts from this. */
	count_thread(0);
	__atomic_store_n(&c->timer, kid + 1, __ATOMIC_SEQ_CST);
	return 0;
}

/*
 * Room for one more POSIX timer in the user's RLIMIT_SIGPENDING: a timer
 * holds one queued signal of it for its life, so timers are used only
 * while the limit is large (Debian's default is about 4 per MiB of RAM:
 * 96k here) and ours take a small share of it (1/64); otherwise perf
 * events, which hold none. Read at each thread's set-up: the program may
 * lower it (and setrlimit is interposed: cpu_sigpending_changed).
 */
#define CPU_SIGPENDING_ROOMY 8192u
#define CPU_SIGPENDING_SHARE 64u

NI static int sigpending_roomy(int more)
{
	struct rlimit lim;
	int live = __atomic_load_n(live_timers(), __ATOMIC_RELAXED) + more;

	if (syscall(SYS_prlimit64, 0, RLIMIT_SIGPENDING, NULL, &lim))
		return 0;
	if (lim.rlim_cur == RLIM_INFINITY)
		return 1;
	return lim.rlim_cur >= CPU_SIGPENDING_ROOMY && (rlim_t)live <= lim.rlim_cur / CPU_SIGPENDING_SHARE;
}

/* perf_event_open refused for what it is, not for a passing shortage:
 * no thread of this process tries it again. */
NI static int perf_refused(int err)
{
	return err == -EACCES || err == -ENOENT || err == -ENOSYS || err == -EOPNOTSUPP || err == -EINVAL ||
	       err == -E2BIG || err == -ENODEV;
}

/*
 * A new thread starts on a POSIX timer where RLIMIT_SIGPENDING has room
 * (~4 us of set-up, against ~35-70 us for a perf event: most short
 * threads never run a period of CPU) and keeps it, or under
 * --cpu-timer=exact moves to a perf event at its first sample
 * (cpu_upgrade); without room, a perf event at once. A perf event
 * refused for good means POSIX timers for every thread.
 */
NI static void timer_arm(struct sf_cpu_thread *c)
{
	int tid = agent_gettid(), err = -ENOSYS, perf = __atomic_load_n(&cpu.perf, __ATOMIC_RELAXED);
	int first = perf && !sigpending_roomy(1); /* perf event first */

	ct.base_ns = thread_cpu_ns();
	for (int i = 0; i < 2 && err; i++) {
		if (i == first) {
			err = posix_arm(c, tid);
		} else if (perf) {
			err = perf_arm(c, tid);
			if (perf_refused(err))
				__atomic_store_n(&cpu.perf, 0, __ATOMIC_RELAXED);
			if (!err)
				count_thread(1);
		}
	}
	if (err) {
		struct sf_cpu_proc *cp = cpu_proc();
		if (cp)
			__atomic_fetch_add(&cp->timer_failures, 1, __ATOMIC_RELAXED);
		cpu_flag(SF_CPU_TIMER_FAILED);
		return;
	}
	/* Pairs with cpu_step_aside: either it sees this timer, or we see
	 * that it ran (both sides seq_cst). */
	if (__atomic_load_n(&cpu.aside, __ATOMIC_SEQ_CST))
		timer_drop(c);
}

/*
 * c's thread (tid) from its POSIX timer to a perf event, by the thread
 * itself at a sample or by another (cpu_sigpending_changed). The timer
 * goes only once the event is in place, so no CPU time goes unsampled;
 * the event's first signal carries the time since the timer's last one
 * (ct.base_ns, kept by the handler). 0, or -errno (the timer stays).
 */
NI static int cpu_upgrade(struct sf_cpu_thread *c, int tid)
{
	uint64_t page;
	int err, t;

	if (!__atomic_load_n(&c->timer, __ATOMIC_SEQ_CST))
		return -ESRCH;
	err = perf_arm_page(c, tid, &page);
	if (err) {
		if (perf_refused(err))
			__atomic_store_n(&cpu.perf, 0, __ATOMIC_RELAXED);
		return err;
	}
	/* Another upgrade of this record installed its event first: the
	 * timer is its to delete. */
	if (!page)
		return 0;
	/* The record changed hands while the event was made (its owner
	 * exited, a new thread took it): neither is ours to touch. */
	if (__atomic_load_n(&c->owner_tid, __ATOMIC_SEQ_CST) != tid) {
		perf_unarm(c, page);
		return -ESRCH;
	}
	t = __atomic_exchange_n(&c->timer, 0, __ATOMIC_SEQ_CST);
	if (t) {
		syscall(SYS_timer_delete, t - 1);
		__atomic_fetch_sub(live_timers(), 1, __ATOMIC_RELAXED);
		count_upgrade();
	} else {
		/* The owner's exit or a step-aside dropped the timer meanwhile
		 * (a conversion from another thread): our event goes too, and
		 * only ours. */
		perf_unarm(c, page);
	}
	return 0;
}

NI void cpu_step_aside(uint32_t why)
{
	struct sf_process *p = agent.proc;
	struct sf_cpu_proc *cp;

	if (!cpu.hz || __atomic_exchange_n(&cpu.aside, 1, __ATOMIC_SEQ_CST))
		return;
	cpu_flag(why); /* the first reason only */
	cp = cpu_proc();
	if (cp && !cp->aside_ns)
		cp->aside_ns = image_now_ns();
	for (struct sf_thread *r = p ? image_ptr(__atomic_load_n(&p->threads, __ATOMIC_ACQUIRE)) : NULL; r;
	     r = image_ptr(r->next)) {
		struct sf_cpu_thread *c = image_ptr(__atomic_load_n(&r->cpu, __ATOMIC_ACQUIRE));

		if (c)
			timer_drop(c);
	}
}

NI void cpu_sigpending_changed(void)
{
	struct sf_process *p = agent.proc;
	int saved = errno;

	if (!cpu_sampling() || !__atomic_load_n(&cpu.perf, __ATOMIC_RELAXED) || sigpending_roomy(0) || !p)
		goto out;
	for (struct sf_thread *r = image_ptr(__atomic_load_n(&p->threads, __ATOMIC_ACQUIRE)); r;
	     r = image_ptr(r->next)) {
		struct sf_cpu_thread *c = image_ptr(__atomic_load_n(&r->cpu, __ATOMIC_ACQUIRE));

		if (c && __atomic_load_n(&c->timer, __ATOMIC_SEQ_CST))
			cpu_upgrade(c, __atomic_load_n(&c->owner_tid, __ATOMIC_RELAXED));
	}
out:
	errno = saved;
}

/* --- sample tables ------------------------------------------------------- */

NI static struct sf_cpu_site *table_slot(struct sf_cpu_table *t, uint32_t trace)
{
	uint32_t mask = t->cap - 1;

	for (uint32_t i = sf_trace_slot(trace, mask), probes = 0; probes <= mask; i = (i + 1) & mask, probes++)
		if (t->slots[i].trace == trace || !t->slots[i].trace)
			return &t->slots[i];
	return NULL;
}

/* A table twice the size (or the first one), complete before its offset
 * is published, so a reader sees the old one or the new one. */
NI static struct sf_cpu_table *table_grow(struct sf_cpu_thread *c, struct sf_cpu_table *old)
{
	uint32_t cap = old ? old->cap * 2 : CPU_TABLE_INITIAL;
	struct sf_cpu_table *t;
	sf_off off;

	if (cap > CPU_TABLE_MAX)
		return NULL;
	off = image_alloc(sizeof(*t) + (size_t)cap * sizeof(struct sf_cpu_site));
	if (!off)
		return NULL;
	t = image_ptr(off);
	t->cap = cap;
	for (uint32_t i = 0; old && i < old->cap; i++) {
		struct sf_cpu_site *d;

		if (!old->slots[i].trace)
			continue;
		d = table_slot(t, old->slots[i].trace);
		*d = old->slots[i];
		t->used++;
	}
	__atomic_store_n(&c->table, off, __ATOMIC_RELEASE);
	return t;
}

NI int cpu_table_add(struct sf_cpu_thread *c, uint32_t trace, uint64_t samples)
{
	struct sf_cpu_table *t = image_ptr(c->table);
	struct sf_cpu_site *s;

	if (!t || (t->used + 1) * 4 > t->cap * 3) {
		struct sf_cpu_table *g = table_grow(c, t);
		if (g)
			t = g;
	}
	if (!t || !trace || !(s = table_slot(t, trace)))
		return -ENOSPC;
	if (!s->trace) {
		/* Could not grow: keep a little room for probing to end. */
		if ((t->used + 1) * 8 > t->cap * 7)
			return -ENOSPC;
		s->trace = trace;
		t->used++;
	}
	s->samples += samples;
	return 0;
}

/* --- stacks from a signal handler ---------------------------------------- */

#ifdef PR_UNIT_TEST
NI unsigned cpu_capture(const void *uc, uint64_t *ips, unsigned max, int *pc_only)
{
	unsigned n = cpu_test_depth < max ? cpu_test_depth : max;

	(void)uc;
	*pc_only = 0;
	memcpy(ips, cpu_test_ips, n * sizeof(uint64_t));
	return n;
}
#else
NI unsigned cpu_capture(const void *ucv, uint64_t *ips, unsigned max, int *pc_only)
{
	const ucontext_t *uc = ucv;
	uint64_t pc = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
	int n, i;

	*pc_only = 0;
	if (max == 0)
		return 0;
	if (ts.in_unwind || !agent_can_unwind(&ts)) {
		*pc_only = 1;
		ips[0] = pc;
		return 1;
	}
	ts.in_unwind = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	/* Our walker from the signal's registers (agent/cfi.h): frame 0 is
	 * the interrupted PC. */
	if (likely(agent.set.unwind == SET_UNWIND_CFI)) {
		n = (int)cfi_backtrace_from(ips, max, ts.stack_lo, ts.stack_hi, pc,
					    (uint64_t)uc->uc_mcontext.gregs[REG_RSP],
					    (uint64_t)uc->uc_mcontext.gregs[REG_RBP]);
		if (n > 0) {
			__atomic_signal_fence(__ATOMIC_SEQ_CST);
			ts.in_unwind = 0;
			return trace_drop_agent_frames(ips, (unsigned)n, (unsigned)n) ?: 1;
		}
	}
	/* libunwind: its fast path keeps rules by address for good, so once
	 * a library was unloaded the walk steps (see trace_unwind_libunwind).
	 * Where our walker gave up (a rare shape), stepping is enough: the
	 * fast path's per-thread cache (256 KiB, every page written) would
	 * cost each short process more than all its stepped walks. */
	if (agent.set.unwind == SET_UNWIND_CFI || ts.captures < TRACE_SLOW_CAPTURES ||
	    __atomic_load_n(&agent.unloaded, __ATOMIC_RELAXED)) {
		/* A thread's first stacks step by step, from the signal's own
		 * context (see trace.h): frame 0 is the interrupted PC. */
		ts.captures++;
		n = trace_step_unwind((unw_context_t *)(uintptr_t)uc, 1, ips, (int)max);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		ts.in_unwind = 0;
		if (n <= 0) {
			ips[0] = pc;
			return 1;
		}
		return trace_drop_agent_frames(ips, (unsigned)n, (unsigned)n) ?: 1;
	}
	/*
	 * libunwind's fast path (its per-thread frame cache) from here: our
	 * frames, the signal trampoline, then the interrupted code, whose
	 * frame libunwind reports with the exact PC (no "return address - 1"
	 * after a signal frame). Cut everything above that PC.
	 */
	n = unw_backtrace((void **)ips, (int)(max + CPU_CAPTURE_SLACK));
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	ts.in_unwind = 0;
	for (i = 0; i < n && i < (int)CPU_CAPTURE_SLACK; i++)
		if (ips[i] == pc)
			break;
	if (i >= n || i >= (int)CPU_CAPTURE_SLACK) {
		/* The trampoline defeated the unwinder: the PC still says where. */
		ips[0] = pc;
		return 1;
	}
	n -= i;
	if (n > (int)max)
		n = (int)max;
	memmove(ips, ips + i, (size_t)n * sizeof(uint64_t));
	/* Hook time goes to the caller (trace_drop_agent_frames); a sample
	 * with nothing but our frames keeps its PC. */
	return trace_drop_agent_frames(ips, (unsigned)n, (unsigned)n) ?: 1;
}
#endif

/* --- the handler ---------------------------------------------------------- */

/* Did the signal interrupt our own code? */
NI static int cpu_pc_is_ours(const void *ucv)
{
#if defined(PR_UNIT_TEST) || !defined(__x86_64__)
	(void)ucv;
	return 0;
#else
	uint64_t pc = (uint64_t)((const ucontext_t *)ucv)->uc_mcontext.gregs[REG_RIP];

	return pc >= agent.self_lo && pc < agent.self_hi;
#endif
}

NI void cpu_take_deferred(uint32_t id)
{
	struct sf_cpu_thread *c = ct.c;
	uint8_t was = ts.in_unwind;

	/* A sample landing meanwhile is deferred too, and taken here. */
	ts.in_unwind = TS_UNWIND_HOOK;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	while (id && c && ct.pid == agent.pid) {
		uint64_t w = __atomic_exchange_n(&ts.cpu_deferred, 0, __ATOMIC_RELAXED);

		if (!w)
			break;
		if (cpu_table_add(c, id, w) == 0)
			c->nostack -= w;
	}
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	ts.in_unwind = was;
	ts.cpu_deferred = 0; /* none left, or they stay stackless */
}

/* A sampling signal that is not the sampler's: the program's view
 * decides, and the view is SIG_DFL (we let go of anything else), so the
 * program gets what SIG_DFL does with it, as it would have. */
NI static void foreign_signal(int sig)
{
	cpu_step_aside(SF_CPU_ASIDE_SIGNAL);
	sigown_drop(sig);
	/* Blocked while we run: delivered, with SIG_DFL, when we return. */
	syscall(SYS_tgkill, getpid(), agent_gettid(), sig);
}

/* Periods of this thread's CPU time since the last sample. */
NI static uint64_t perf_weight(void)
{
	uint64_t now = thread_cpu_ns(), w;

	if (!now || now < ct.base_ns + cpu.period)
		return 0;
	w = (now - ct.base_ns) / cpu.period;
	ct.base_ns += w * cpu.period;
	return w;
}

NI static void on_sample(int sig, siginfo_t *si, void *uc)
{
	uint64_t ips[SF_DEPTH_LIMIT + CPU_CAPTURE_SLACK];
	struct sf_cpu_thread *c = ct.c;
	int saved = errno, pc_only;
	uint8_t state = ts.state;
	uint64_t w;
	uint32_t id = 0;
	unsigned n;

	if (unlikely(si->si_code == SI_QUEUE) && leakscan_stop_here(si, uc))
		goto out;
	if (!cpu_own_signal(si)) {
		/*
		 * A POSIX timer's signal we did not arm and saw no one arm
		 * (timer_create is interposed): one of ours from before an
		 * exec, left pending in a thread that had it blocked, on a
		 * kernel that keeps a deleted timer's queued signal (6.x
		 * drops it). Not the program's: drop it.
		 */
		if (si->si_code == SI_TIMER && !(__atomic_load_n(&cpu.flags, __ATOMIC_RELAXED) & SF_CPU_ASIDE_TIMER))
			goto out;
		foreign_signal(sig);
		goto out;
	}
	/* A late signal: thread exiting, stepped aside, or a fork child. */
	if (!c || ct.pid != agent.pid || __atomic_load_n(&cpu.aside, __ATOMIC_RELAXED))
		goto out;
	if (si->si_code == SI_TIMER) {
		w = 1 + (uint64_t)(si->si_overrun > 0 ? si->si_overrun : 0);
		/* Where a perf event, if one replaces the timer, starts. */
		ct.base_ns = thread_cpu_ns();
		/* This thread runs long enough to pay for a perf event, where
		 * one is wanted (--cpu-timer=exact). */
		if (!ct.stay && agent.set.cpu_timer == SET_CPU_TIMER_EXACT &&
		    __atomic_load_n(&cpu.perf, __ATOMIC_RELAXED) && cpu_upgrade(c, agent_gettid()))
			ct.stay = 1;
	} else if (!(w = perf_weight()))
		goto out;
	if (unlikely(ts.paused || agent.tracking == 2 ||
		     (__atomic_load_n(&func_gen_key, __ATOMIC_RELAXED) & (1ull << 47)))) {
		/* Recording is paused (agent/api.c). */
		api_note_paused_sample(w);
		goto out;
	}
	c->samples += w;
	c->signals++;
	if (w > c->max_weight)
		c->max_weight = w;
	if (ts.in_unwind == TS_UNWIND_HOOK) {
		/* Inside a hook's own unwinding (libunwind, holding its
		 * caches): not unwound again. The hook's stack, once it has
		 * it, is this sample's (cpu_take_deferred); until then the
		 * sample counts without a stack. */
		ts.cpu_deferred += w;
		c->nostack += w;
		c->agent += w;
		goto out;
	}
	/* Allocations made from here (libunwind) are not the program's. */
	ts.state = TS_BUSY;
	/* A signal handler: no loader lock; and the scan's frame is big,
	 * so only where unwinding would have room too. */
	if (unlikely(__atomic_load_n(&agent.modules_dirty, __ATOMIC_RELAXED)) && !ts.in_unwind && agent_can_unwind(&ts))
		modules_scan_maps(0);
	n = cpu_capture(uc, ips, agent.set.max_depth, &pc_only);
	if (n && !pc_only && cpu_pc_is_ours(uc))
		c->agent += w; /* our own code: charged to its caller (trace_drop_agent_frames) */
	if (n)
		id = trace_intern(&ct.slab, ips, n); /* a failure counts in dropped_traces */
	if (!id) {
		c->nostack += w;
	} else if (cpu_table_add(c, id, w)) {
		c->nostack += w;
		__atomic_fetch_add(&image_hdr->dropped_samples, 1, __ATOMIC_RELAXED);
	}
	ts.state = state;
out:
	errno = saved;
}

/* The program installed its own disposition for the sampling signal. */
NI static void on_release(int sig)
{
	(void)sig;
	cpu_step_aside(SF_CPU_ASIDE_HANDLER);
}

/*
 * The sampling signal: the first of these the program left at SIG_DFL and
 * unblocked. Signals nothing sends on its own, and no library we know
 * claims (SIGPROF, SIGVTALRM, SIGXCPU and SIGXFSZ are taken by profilers,
 * coreutils and friends; SIGURG by Go). Only signals below SIGRTMIN can
 * come from a perf event: its fasync signal is queued with the usual
 * limit for a real-time one, and when the program's RLIMIT_SIGPENDING is
 * used up the kernel falls back to a plain SIGIO for the whole process.
 * Real-time ones, from the top, for POSIX timers only.
 */
NI static int pick_signal(const sigset_t *mask, int *perf_ok)
{
	static const int low[] = {SIGSTKFLT, SIGPWR};
	sigset_t blocked;
	int rtmax = SIGRTMAX;

	if (pthread_sigmask(SIG_BLOCK, NULL, &blocked))
		sigemptyset(&blocked);
	for (int i = 0; i < (int)(sizeof(low) / sizeof(low[0])) + 8; i++) {
		int sig = i < (int)(sizeof(low) / sizeof(low[0])) ? low[i] : rtmax - (i - (int)(sizeof(low) / sizeof(low[0])));

		if (sig == agent.set.dump_signal || sigismember(&blocked, sig))
			continue;
		if (!sigown_claim(sig, on_sample, SA_RESTART, mask, on_release)) {
			*perf_ok = sig < SIGRTMIN;
			return sig;
		}
	}
	return 0;
}

NI void cpu_init(void)
{
	struct sf_cpu_proc *cp;
	sigset_t mask;
	int perf_ok = 0;

	__atomic_fetch_or(&cpu.flags, agent.set.cpu_bad, __ATOMIC_RELAXED);
	cp = cpu_proc();
	/* The leak check at exit stops threads with this signal too. */
	if (!cp || (!agent.set.cpu_hz && !(agent.set.leak_check && agent.tracking)))
		return;
	/* The dump handler and this one never interrupt each other: they
	 * share the thread's trace slab. */
	sigemptyset(&mask);
	if (agent.set.dump_signal)
		sigaddset(&mask, agent.set.dump_signal);
	cpu.sig = pick_signal(&mask, &perf_ok);
	if (!cpu.sig) {
		cpu_flag(SF_CPU_NOT_DEFAULT);
		return;
	}
	if (!agent.set.cpu_hz)
		return; /* held for the leak check only: no timers */
	cpu.perf = perf_ok;
	cpu.period = 1000000000ull / agent.set.cpu_hz;
	cpu.hz = agent.set.cpu_hz;
	cp->hz = cpu.hz;
	cp->signal = cpu.sig;
	cpu_flag(SF_CPU_SAMPLING);
}

/* A previous owner of a reused record: keep its samples apart. */
NI static void log_owner(struct sf_cpu_thread *c)
{
	struct sf_cpu_proc *cp = cpu_proc();
	struct sf_cpu_owner *o;
	sf_off off;

	if (!cp || c->samples == c->base || !(off = image_alloc(sizeof(*o))))
		return;
	o = image_ptr(off);
	o->tid = c->owner_tid;
	memcpy(o->name, c->owner_name, SF_NAME_LEN);
	o->samples = c->samples - c->base;
	image_list_push(&cp->owners, off, &o->next);
}

NI void cpu_thread_init(struct sf_thread *r)
{
	struct sf_cpu_thread *c;
	sf_off off;

	if (ct.pid != agent.pid) {
		/* New thread, or the only thread of a fork child: the parent's
		 * record and timer are not ours to touch. */
		memset(&ct, 0, sizeof(ct));
		ct.pid = agent.pid;
	}
	/* The process's record first: a fork child has none yet. */
	if (!r || !cpu_sampling() || ct.c || !cpu_proc())
		return;
	c = image_ptr(__atomic_load_n(&r->cpu, __ATOMIC_ACQUIRE));
	if (!c) {
		off = image_alloc(sizeof(*c));
		if (!off)
			return;
		c = image_ptr(off);
		__atomic_store_n(&r->cpu, off, __ATOMIC_RELEASE);
	} else {
		log_owner(c);
		timer_drop(c); /* an owner that ended without its destructors */
	}
	c->base = c->samples;
	c->owner_tid = r->tid;
	memset(c->owner_name, 0, SF_NAME_LEN);
	if (!c->table)
		table_grow(c, NULL);
#ifndef PR_UNIT_TEST
	if (agent.set.unwind != SET_UNWIND_CFI && !__atomic_exchange_n(&cpu.warm, 1, __ATOMIC_RELAXED)) {
		/*
		 * libunwind's first backtrace in the process makes its pthread
		 * key (pthread_once) and its first per-thread cache: let that
		 * happen here, not in a handler. Other threads make their cache
		 * (mmap, pthread_setspecific on that early key: no malloc) at
		 * their first sample, so short threads that never get one
		 * never pay for it. Under our walker (the default) that fast
		 * path is never taken: nothing to warm.
		 */
		void *warm[4];
		ts.in_unwind = 1;
		unw_backtrace(warm, 4);
		ts.in_unwind = 0;
	}
#endif
	ct.c = c;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	timer_arm(c);
}

NI void cpu_thread_exit(struct sf_thread *r)
{
	struct sf_cpu_thread *c = ct.c;

	if (!c || ct.pid != agent.pid)
		return;
	ct.c = NULL;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	timer_drop(c);
	memcpy(c->owner_name, r->name, SF_NAME_LEN);
}
