/*
 * cpu_sigwait: a program that handles signals synchronously. It blocks
 * SIGPROF and SIGUSR1, burns 100 ms of CPU (a sampler's SIGPROF would now
 * be pending), then waits up to 200 ms for either with sigtimedwait, and
 * then with sigwaitinfo after sending itself SIGUSR1. Nobody sends it
 * SIGPROF, so the first wait must time out and the second must return
 * SIGUSR1. Prints "timeout, then 10" and exits 0; exits 1 (with a line
 * saying what came instead) otherwise.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;

static long long cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(void)
{
	struct timespec wait = {0, 200000000L};
	long long end;
	siginfo_t si;
	sigset_t set;
	int r;

	sigemptyset(&set);
	sigaddset(&set, SIGPROF);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (end = cpu_ns() + 100000000LL; cpu_ns() < end;)
		for (int i = 0; i < 100000; i++)
			sink += (unsigned long)i;
	r = sigtimedwait(&set, &si, &wait);
	if (r != -1 || errno != EAGAIN) {
		printf("sigtimedwait returned %d (si_code %d): %s\n", r, r > 0 ? si.si_code : 0, strerror(errno));
		return 1;
	}
	kill(getpid(), SIGUSR1);
	r = sigwaitinfo(&set, &si);
	if (r != SIGUSR1) {
		printf("sigwaitinfo returned %d\n", r);
		return 1;
	}
	printf("timeout, then %d\n", r);
	return 0;
}
