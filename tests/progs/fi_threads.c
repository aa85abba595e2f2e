/*
 * fi_threads (built with -finstrument-functions): 20 waves of 16 threads.
 * Thread t (0..15) of wave w is named "w<w>-t<t>" (pthread_setname_np,
 * in the thread, before its first instrumented call) and runs
 * thread_main() -> worker(t) -> step() called 100 + t times. Each wave is
 * joined before the next starts, so records of finished threads are
 * reused by the next wave.
 *
 *   thread_main calls 320, worker calls 320, step calls 34400
 *   (= 20 x sum over t of 100 + t); per thread: 102 + t calls
 *   run_waves calls 1 (main thread)
 * Exits 0, or 1 if a pthread call fails.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define WAVES 20
#define THREADS 16

static volatile int sink;

void step(void)
{
	sink++;
}

void worker(int t)
{
	for (int i = 0; i < 100 + t; i++)
		step();
}

__attribute__((no_instrument_function)) static void *start(void *arg);

void *thread_main(void *arg)
{
	worker((int)(long)arg % THREADS);
	return NULL;
}

/* Names the thread before any instrumented call of it. */
__attribute__((no_instrument_function)) static void *start(void *arg)
{
	char name[16];
	int k = (int)(long)arg;

	snprintf(name, sizeof(name), "w%d-t%d", (k / THREADS) % 100, k % THREADS);
	pthread_setname_np(pthread_self(), name);
	return thread_main(arg);
}

int run_waves(void)
{
	pthread_t th[THREADS];

	for (long w = 0; w < WAVES; w++) {
		for (long t = 0; t < THREADS; t++)
			if (pthread_create(&th[t], NULL, start, (void *)(w * THREADS + t)))
				return 1;
		for (long t = 0; t < THREADS; t++)
			if (pthread_join(th[t], NULL))
				return 1;
	}
	return 0;
}

int main(void)
{
	return run_waves();
}
