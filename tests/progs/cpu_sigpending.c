/*
 * cpu_sigpending: lowers its own RLIMIT_SIGPENDING to 100 (as `ulimit -i
 * 100` would), starts 60 threads that each burn 20 ms of CPU and then
 * wait, and queues 80 real-time signals (blocked everywhere) to itself
 * with sigqueue while they wait. Natively all 80 are queued: nothing else
 * has a signal pending. Prints "queued 80 of 80" (or how many, and the
 * errno of the first failure) and exits 0 when all were queued, 1
 * otherwise. A profiler whose timers hold one queued signal each takes
 * 60 of the 100.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define THREADS 60
#define SIGNALS 80

static pthread_barrier_t burnt, queued;

static long long cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void *worker(void *arg)
{
	long long end = cpu_ns() + 20000000LL;
	volatile unsigned long sink = 0;

	while (cpu_ns() < end)
		for (int i = 0; i < 10000; i++)
			sink += (unsigned long)i;
	pthread_barrier_wait(&burnt);
	pthread_barrier_wait(&queued);
	return arg;
}

int main(void)
{
	struct rlimit lim = {100, 100};
	pthread_t t[THREADS];
	sigset_t set;
	int ok = 0, first_err = 0;

	if (setrlimit(RLIMIT_SIGPENDING, &lim)) {
		printf("setrlimit: %s\n", strerror(errno));
		return 1;
	}
	/* Blocked in every thread (they inherit it), so the signals stay queued. */
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 3);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_barrier_init(&burnt, NULL, THREADS + 1);
	pthread_barrier_init(&queued, NULL, THREADS + 1);
	for (int i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, worker, NULL))
			return 1;
	pthread_barrier_wait(&burnt);
	for (int i = 0; i < SIGNALS; i++) {
		union sigval v = {.sival_int = i};

		if (sigqueue(getpid(), SIGRTMIN + 3, v) == 0)
			ok++;
		else if (!first_err)
			first_err = errno;
	}
	pthread_barrier_wait(&queued);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	if (ok == SIGNALS)
		printf("queued %d of %d\n", ok, SIGNALS);
	else
		printf("queued %d of %d (%s)\n", ok, SIGNALS, strerror(first_err));
	return ok == SIGNALS ? 0 : 1;
}
