/*
 * fi_sleep (built with -finstrument-functions): main calls sleeper() 5
 * times; each call sleeps 20 ms with nanosleep (at least that long, by
 * CLOCK_MONOTONIC). main times each call itself with CLOCK_MONOTONIC from
 * outside (so its figure includes both hooks) and calls noop() 200 times.
 * Prints one line: "outside_total_ns=T outside_max_ns=M".
 *
 *   sleeper  calls 5, each >= 20 ms, total <= T, max <= M
 *   noop     calls 200 (each far below 1 ms)
 */
#include <stdio.h>
#include <time.h>

#define SLEEP_NS 20000000L
#define CALLS 5

static unsigned long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (unsigned long long)t.tv_sec * 1000000000ull + (unsigned long long)t.tv_nsec;
}

void sleeper(void)
{
	struct timespec req = {0, SLEEP_NS}, rem;

	while (nanosleep(&req, &rem))
		req = rem;
}

void noop(void)
{
}

int main(void)
{
	unsigned long long total = 0, max = 0;

	for (int i = 0; i < CALLS; i++) {
		unsigned long long t0 = now_ns(), d;

		sleeper();
		d = now_ns() - t0;
		total += d;
		if (d > max)
			max = d;
	}
	for (int i = 0; i < 200; i++)
		noop();
	printf("outside_total_ns=%llu outside_max_ns=%llu\n", total, max);
	return 0;
}
