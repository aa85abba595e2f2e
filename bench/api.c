/*
 * bench/api.c: the cost of one region (ptrace_region_begin + _end) and
 * of ptrace_region_begin_meta, with and without ptrace-run: N pairs in a
 * loop, timed around the loop only. Prints "region_ns X meta_ns Y".
 */
#include <ptrace-run.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000000;
	volatile long sink = 0;
	double t0, t1, t2;

	ptrace_region_begin("warm");
	ptrace_region_end();
	t0 = now();
	for (long i = 0; i < n; i++) {
		ptrace_region_begin("bench");
		sink += i;
		ptrace_region_end();
	}
	t1 = now();
	for (long i = 0; i < n; i++) {
		ptrace_region_begin_meta("bench_meta", "user_id=1 action=bench");
		sink += i;
		ptrace_region_end();
	}
	t2 = now();
	fprintf(stderr, "region_ns %.2f meta_ns %.2f\n", (t1 - t0) / n, (t2 - t1) / n);
	return sink == -1;
}
