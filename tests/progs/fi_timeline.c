/*
 * The timeline: three threads, thread k (1..3) calls nap(k), which
 * sleeps k ms, once; a fourth call, nap(0), returns at once (under the
 * 100 us --timeline-min). Built with -finstrument-functions.
 */
#include <pthread.h>
#include <stdint.h>
#include <time.h>

__attribute__((noinline)) void nap(long ms)
{
	struct timespec t = {0, ms * 1000000L};

	while (t.tv_nsec && nanosleep(&t, &t))
		;
}

static void *worker(void *arg)
{
	nap((long)(intptr_t)arg);
	return NULL;
}

int main(void)
{
	pthread_t th[3];

	nap(0);
	for (long k = 1; k <= 3; k++)
		pthread_create(&th[k - 1], NULL, worker, (void *)(intptr_t)k);
	for (int k = 0; k < 3; k++)
		pthread_join(th[k], NULL);
	return 0;
}
