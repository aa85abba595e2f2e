/*
 * bench/ring.c: timeline ring throughput. T threads (default 2) each
 * call tick() for S seconds (default 1), G ns apart (default 0: as fast
 * as they can); run with -finstrument-functions and --timeline-min=0,
 * every call is a timeline event. Prints "calls N" (all threads).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double secs = 1.0, gap_s = 0;
static volatile long sink;

__attribute__((noinline)) void tick(long i)
{
	sink += i;
}

__attribute__((no_instrument_function)) static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

__attribute__((no_instrument_function)) static void *run(void *arg)
{
	long *calls = arg;
	double end = now() + secs;

	if (gap_s > 0) {
		for (double t = now(), next = t; t < end; t = now())
			if (t >= next) {
				tick(0);
				(*calls)++;
				next += gap_s;
			}
		return NULL;
	}
	while (now() < end)
		for (int k = 0; k < 100; k++, (*calls)++)
			tick(k);
	return NULL;
}

__attribute__((no_instrument_function)) int main(int argc, char **argv)
{
	int t = argc > 1 ? atoi(argv[1]) : 2;
	pthread_t th[64];
	long calls[64] = {0}, sum = 0;

	if (argc > 2)
		secs = atof(argv[2]);
	if (argc > 3)
		gap_s = atof(argv[3]) / 1e9;
	if (t < 1 || t > 64)
		return 2;
	for (int i = 0; i < t; i++)
		pthread_create(&th[i], NULL, run, &calls[i]);
	for (int i = 0; i < t; i++) {
		pthread_join(th[i], NULL);
		sum += calls[i];
	}
	fprintf(stderr, "calls %ld\n", sum);
	return 0;
}
