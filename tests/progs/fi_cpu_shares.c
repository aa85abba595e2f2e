/*
 * fi_cpu_shares: cpu_shares.c built with -finstrument-functions (the
 * Makefile builds fi_* so), for both views at once: exact per-function
 * timings and sampled CPU. Burns 600, 300 and 100 ms of its own thread's
 * CPU time in burn_60, burn_30 and burn_10, in that order. No allocation,
 * no stdio. Exits 0.
 */
#include <time.h>

static volatile unsigned long sink;

static long long cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void burn_60(void)
{
	long long end = cpu_ns() + 600000000LL;

	while (cpu_ns() < end)
		for (int i = 0; i < 100000; i++)
			sink += (unsigned long)i; /* @line:burn_60 */
}

static void burn_30(void)
{
	long long end = cpu_ns() + 300000000LL;

	while (cpu_ns() < end)
		for (int i = 0; i < 100000; i++)
			sink += (unsigned long)i; /* @line:burn_30 */
}

static void burn_10(void)
{
	long long end = cpu_ns() + 100000000LL;

	while (cpu_ns() < end)
		for (int i = 0; i < 100000; i++)
			sink += (unsigned long)i; /* @line:burn_10 */
}

int main(void)
{
	burn_60();
	burn_30();
	burn_10();
	return 0;
}
