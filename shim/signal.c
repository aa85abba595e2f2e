/*
 * The program's own signal calls, interposed so that the agent's handlers
 * (the sampling signal, the dump signal, the fatal signals) stay invisible
 * and never stand in the program's way:
 *
 * - sigaction and the signal() family show the program its own view of a
 *   signal the agent holds, and hand the signal back the moment the
 *   program installs a handler or SIG_IGN (agent/sigown.c);
 * - timer_create(.. the sampling signal ..) means the program uses that
 *   signal itself: the sampler steps aside (SIGPROF, ITIMER_PROF and
 *   every other signal are the program's, untouched);
 * - sigwait/sigwaitinfo/sigtimedwait never return a signal of the agent's
 *   own (a sample or a dump request passed on between threads) to a
 *   program that happens to wait for that signal number;
 * - signalfd: the sampling signal is left out of the mask (the agent's
 *   samples would show up in the program's reads), or the sampler steps
 *   aside when it is all the program asks for.
 *
 * - pthread_sigmask/sigprocmask never block the sampling signal for
 *   real: the program sees the mask it set (old masks say the signal is
 *   blocked where it blocked it), and a thread that blocks every signal
 *   is still sampled. Where the real mask would leak out, an exec and a
 *   posix_spawn child, the program's mask is put in place (shim/exec.c).
 *
 * Anything else goes to libc unchanged. Raw system calls (syscall(SYS_
 * rt_sigaction, ...)) are not seen.
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "cpu.h"
#include "crash.h"
#include "sigown.h"

#define EXPORT __attribute__((visibility("default"), no_instrument_function))

typedef sighandler_t (*signal_fn)(int, sighandler_t);
typedef int (*timer_create_fn)(clockid_t, struct sigevent *, timer_t *);
typedef int (*sigwaitinfo_fn)(const sigset_t *, siginfo_t *);
typedef int (*sigtimedwait_fn)(const sigset_t *, siginfo_t *, const struct timespec *);
typedef int (*signalfd_fn)(int, const sigset_t *, int);
typedef int (*mask_fn)(int, const sigset_t *, sigset_t *);

/* libc's name, resolved on first use (a benign race: same answer). */
NI static void *real(void **slot, const char *name)
{
	void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	if (!f) {
		f = dlsym(RTLD_NEXT, name);
		__atomic_store_n(slot, f, __ATOMIC_RELEASE);
	}
	return f;
}

#define REAL(type, name)                                                                                       \
	({                                                                                                     \
		static void *slot_;                                                                            \
		(type) real(&slot_, name);                                                                     \
	})

EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	int ret;

	if (sigown_sigaction(sig, act, old, &ret))
		return ret;
	return sigown_real(sig, act, old);
}

/* signal(), bsd_signal(), sysv_signal(), sigset() on a held signal: the
 * sigaction libc would have made, through sigown. 0 when handled (*old is
 * the result), -1 when sig is not held any more: the caller asks libc. */
NI static int held_signal(int sig, sighandler_t handler, int flags, int self_mask, sighandler_t *old)
{
	struct sigaction act, prev;
	int ret;

	sigemptyset(&act.sa_mask);
	if (self_mask)
		sigaddset(&act.sa_mask, sig);
	act.sa_handler = handler;
	act.sa_flags = flags;
	if (!sigown_sigaction(sig, &act, &prev, &ret))
		return -1;
	*old = ret ? SIG_ERR : prev.sa_handler;
	return 0;
}

EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
	sighandler_t old;

	/* glibc's signal() has BSD semantics: SA_RESTART, sig blocked. */
	if (sigown_held(sig) && handler != SIG_ERR && !held_signal(sig, handler, SA_RESTART, 1, &old))
		return old;
	return REAL(signal_fn, "signal")(sig, handler);
}

/* Declared by <signal.h> only for old standards. */
sighandler_t bsd_signal(int sig, sighandler_t handler);

EXPORT sighandler_t bsd_signal(int sig, sighandler_t handler)
{
	return signal(sig, handler);
}

EXPORT sighandler_t sysv_signal(int sig, sighandler_t handler)
{
	sighandler_t old;

	if (sigown_held(sig) && handler != SIG_ERR &&
	    !held_signal(sig, handler, SA_RESETHAND | SA_NODEFER, 0, &old))
		return old;
	return REAL(signal_fn, "sysv_signal")(sig, handler);
}

EXPORT sighandler_t sigset(int sig, sighandler_t disp)
{
	sigset_t one, was;
	sighandler_t old;

	/* SIG_HOLD only blocks: libc's does it (it does not touch the handler). */
	if (sigown_held(sig) && disp != SIG_HOLD && disp != SIG_ERR) {
		sigemptyset(&one);
		sigaddset(&one, sig);
		if (pthread_sigmask(SIG_UNBLOCK, &one, &was) == 0 && !held_signal(sig, disp, 0, 0, &old))
			return sigismember(&was, sig) ? SIG_HOLD : old;
	}
	return REAL(signal_fn, "sigset")(sig, disp);
}

EXPORT int timer_create(clockid_t clock, struct sigevent *sev, timer_t *id)
{
	if (sev && cpu_signal() && sev->sigev_signo == cpu_signal() &&
	    (sev->sigev_notify == SIGEV_SIGNAL || sev->sigev_notify == SIGEV_THREAD_ID))
		cpu_step_aside(SF_CPU_ASIDE_TIMER);
	return REAL(timer_create_fn, "timer_create")(clock, sev, id);
}

NI static int ours(const siginfo_t *si)
{
	return cpu_own_signal(si) || crash_own_signal(si);
}

EXPORT int sigwaitinfo(const sigset_t *set, siginfo_t *info)
{
	sigwaitinfo_fn f = REAL(sigwaitinfo_fn, "sigwaitinfo");
	siginfo_t si;
	int r;

	do
		r = f(set, &si);
	while (r > 0 && ours(&si));
	if (r > 0 && info)
		*info = si;
	return r;
}

NI static int64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

EXPORT int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *timeout)
{
	sigtimedwait_fn f = REAL(sigtimedwait_fn, "sigtimedwait");
	int64_t end = timeout ? mono_ns() + (int64_t)timeout->tv_sec * 1000000000 + timeout->tv_nsec : 0;
	struct timespec left;
	siginfo_t si;
	int r;

	for (r = f(set, &si, timeout); r > 0 && ours(&si); r = f(set, &si, timeout ? &left : NULL)) {
		int64_t rest = timeout ? end - mono_ns() : 0;
		if (rest < 0)
			rest = 0;
		left.tv_sec = (time_t)(rest / 1000000000);
		left.tv_nsec = (long)(rest % 1000000000);
	}
	if (r > 0 && info)
		*info = si;
	return r;
}

EXPORT int sigwait(const sigset_t *set, int *sig)
{
	siginfo_t si;
	int r;

	/* As glibc: never EINTR, the error number as the result. */
	do
		r = sigwaitinfo(set, &si);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno;
	*sig = r;
	return 0;
}

EXPORT int signalfd(int fd, const sigset_t *mask, int flags)
{
	signalfd_fn f = REAL(signalfd_fn, "signalfd");
	int dump = crash_dump_signal();
	sigset_t m;

	if (dump && sigismember(mask, dump))
		crash_dump_taken(); /* the program reads that signal itself */
	if (cpu_signal() && sigismember(mask, cpu_signal()) && cpu_sampling()) {
		m = *mask;
		sigdelset(&m, cpu_signal());
		if (!sigisemptyset(&m))
			return f(fd, &m, flags);
		cpu_step_aside(SF_CPU_ASIDE_WAIT);
	}
	return f(fd, mask, flags);
}

/* --- masks ---------------------------------------------------------------- */

static mask_fn real_pthread_sigmask, real_sigprocmask;
NI static void mask_resolve(void);

NI int sigmask_kept(void)
{
	int sig = cpu_signal();

	return sig && cpu_sampling() ? sig : 0;
}

NI int sigmask_real(int how, const sigset_t *set, sigset_t *old)
{
	if (!real_pthread_sigmask)
		mask_resolve();
	return real_pthread_sigmask(how, set, old);
}

/* set without sig, in copy, when the call would block it. */
NI static const sigset_t *mask_without(int sig, int how, const sigset_t *set, sigset_t *copy)
{
	if (!set || (how != SIG_BLOCK && how != SIG_SETMASK) || !sigismember(set, sig))
		return set;
	*copy = *set;
	sigdelset(copy, sig);
	return copy;
}

/* After a successful call: old as the program's view, the view updated
 * (in_set: sig was in set, read before the call: set and old may be the
 * same). */
NI static void mask_after(int sig, int how, const sigset_t *set, int in_set, sigset_t *old, int view)
{
	if (old && view)
		sigaddset(old, sig);
	if (!set)
		return;
	if (how == SIG_BLOCK && in_set)
		ts.mask_view = 1;
	else if (how == SIG_UNBLOCK && in_set)
		ts.mask_view = 0;
	else if (how == SIG_SETMASK)
		ts.mask_view = (uint8_t)in_set;
}

/* libc's two, resolved at load: a vfork child or a handler must not be
 * the first to ask dlsym. */
__attribute__((constructor)) NI static void mask_resolve(void)
{
	real_pthread_sigmask = (mask_fn)dlsym(RTLD_NEXT, "pthread_sigmask");
	real_sigprocmask = (mask_fn)dlsym(RTLD_NEXT, "sigprocmask");
}

/*
 * One mask call. While the sampler samples, its signal is kept out of the
 * real mask; once it stepped aside (the program took the signal over)
 * the program's masks go through as they are, so each thread's real mask
 * becomes the program's again at its next call. The view is kept and
 * reported either way.
 */
NI static int mask_call(mask_fn libc, int how, const sigset_t *set, sigset_t *old)
{
	int sig = cpu_signal(), view = ts.mask_view, in_set, ret;
	sigset_t copy;

	if (!libc)
		mask_resolve();
	libc = libc ? libc : real_pthread_sigmask;
	if (!sig)
		return libc(how, set, old);
	in_set = set && sigismember(set, sig) == 1;
	ret = libc(how, cpu_sampling() ? mask_without(sig, how, set, &copy) : set, old);
	if (ret == 0)
		mask_after(sig, how, set, in_set, old, view);
	return ret;
}

EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	if (!real_pthread_sigmask)
		mask_resolve();
	return mask_call(real_pthread_sigmask, how, set, old);
}

EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	if (!real_sigprocmask)
		mask_resolve();
	return mask_call(real_sigprocmask, how, set, old);
}

NI int sigmask_exec(void)
{
	int sig = cpu_signal();
	struct timespec zero = {0, 0};
	sigset_t one, was;

	/* The view may differ from the real mask after a step-aside too. */
	if (!sig || !ts.mask_view)
		return 0;
	sigemptyset(&one);
	sigaddset(&one, sig);
	if (sigmask_real(SIG_BLOCK, &one, &was) || sigismember(&was, sig) == 1)
		return 0;
	/* A sample of ours pending now would be the new image's, blocked:
	 * taken back (raw: sigtimedwait is interposed, and filters ours). */
	while (syscall(SYS_rt_sigtimedwait, &one, NULL, &zero, _NSIG / 8) == sig)
		;
	return 1;
}

NI void sigmask_exec_failed(int did)
{
	sigset_t one;

	if (!did)
		return;
	sigemptyset(&one);
	sigaddset(&one, cpu_signal());
	sigmask_real(SIG_UNBLOCK, &one, NULL);
}

NI int sigmask_child(sigset_t *out)
{
	int sig = cpu_signal();

	if (!sig || !ts.mask_view || sigmask_real(SIG_BLOCK, NULL, out) || sigismember(out, sig) == 1)
		return 0;
	sigaddset(out, sig);
	return 1;
}
