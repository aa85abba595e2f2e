/*
 * threads [N [BATCH]]: thread creation cost. Starts N threads (default
 * 8000), BATCH at a time (default 8): each allocates and frees one small
 * block (so the agent sets it up even with --cpu-hz=0) and returns; the
 * batch is joined before the next starts. Prints "threads N" and, on
 * stderr, the wall time per thread in microseconds (bench/threads.sh
 * reads it).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static void *volatile sink;

static void *work(void *arg)
{
	sink = malloc(32);
	free(sink);
	return arg;
}

static double cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 8000, batch = argc > 2 ? atol(argv[2]) : 8, done = 0;
	pthread_t t[256];
	double t0, c0;

	if (n < 1 || batch < 1 || batch > 256)
		return 2;
	t0 = now_us();
	c0 = cpu_us();
	while (done < n) {
		long k = n - done < batch ? n - done : batch;

		for (long i = 0; i < k; i++)
			if (pthread_create(&t[i], NULL, work, NULL))
				return 1;
		for (long i = 0; i < k; i++)
			pthread_join(t[i], NULL);
		done += k;
	}
	printf("threads %ld\n", n);
	fprintf(stderr, "wall_us_per_thread %.1f cpu_us_per_thread %.1f\n", (now_us() - t0) / (double)n,
		(cpu_us() - c0) / (double)n);
	return 0;
}
