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
 * Anything else goes to libc unchanged. Raw system calls (syscall(SYS_
 * rt_sigaction, ...)) are not seen.
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <time.h>

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
