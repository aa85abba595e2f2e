/*
 * cpu_allsig: a program that takes every signal, as crash catchers and
 * shells do. It checks that every catchable signal reads back SIG_DFL at
 * start, burns 100 ms of CPU, installs an SA_SIGINFO handler for every
 * catchable signal (the old disposition must still read SIG_DFL), burns
 * 100 ms more, then queues each of SIGSTKFLT, SIGPWR and the real-time
 * signals to itself with a value and checks that its handler got each
 * one, once, with that value; and that no signal it did not send (a
 * profiler's timer or perf event, si_code SI_TIMER or POLL_IN) reached
 * any handler. Prints "ok" and exits 0; a line saying what was wrong and
 * exits 1 otherwise.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got[_NSIG], value[_NSIG], stray;

static void on_sig(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (si->si_code == SI_QUEUE && si->si_pid == getpid()) {
		got[sig]++;
		value[sig] = si->si_value.sival_int;
	} else if (sig != SIGCHLD && sig != SIGWINCH) {
		stray = sig;
	}
}

static long long cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void burn(long long ns)
{
	long long end = cpu_ns() + ns;
	volatile unsigned long sink = 0;

	while (cpu_ns() < end)
		for (int i = 0; i < 10000; i++)
			sink += (unsigned long)i;
}

static int catchable(int sig)
{
	return sig != SIGKILL && sig != SIGSTOP && (sig < 32 || sig >= SIGRTMIN);
}

int main(void)
{
	struct sigaction sa, old;
	int sent[_NSIG], n = 0;

	for (int sig = 1; sig <= SIGRTMAX; sig++) {
		if (!catchable(sig))
			continue;
		if (sigaction(sig, NULL, &old) || old.sa_handler != SIG_DFL) {
			printf("signal %d is not SIG_DFL at start\n", sig);
			return 1;
		}
	}
	burn(100000000LL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sig;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	for (int sig = 1; sig <= SIGRTMAX; sig++) {
		if (!catchable(sig))
			continue;
		if (sigaction(sig, &sa, &old) || old.sa_handler != SIG_DFL) {
			printf("signal %d: sigaction failed or the old one was not SIG_DFL\n", sig);
			return 1;
		}
	}
	burn(100000000LL);
	sent[n++] = SIGSTKFLT;
	sent[n++] = SIGPWR;
	for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
		sent[n++] = sig;
	for (int i = 0; i < n; i++) {
		union sigval v = {.sival_int = 1000 + sent[i]};

		sigqueue(getpid(), sent[i], v);
	}
	for (int i = 0; i < n; i++) {
		if (got[sent[i]] != 1 || value[sent[i]] != 1000 + sent[i]) {
			printf("signal %d: handler ran %d times, value %d\n", sent[i], (int)got[sent[i]],
			       (int)value[sent[i]]);
			return 1;
		}
		if (sigaction(sent[i], NULL, &old) || old.sa_sigaction != on_sig) {
			printf("signal %d does not read back as our handler\n", sent[i]);
			return 1;
		}
	}
	if (stray) {
		printf("signal %d arrived that nobody sent\n", (int)stray);
		return 1;
	}
	printf("ok\n");
	return 0;
}
