/*
 * cpu_shares: burns 600, 300 and 100 ms of its own thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID) in burn_60, burn_30 and burn_10, in that
 * order, each a busy loop of its own (no calls inside the hot part but
 * one clock read per ~0.2 ms). No allocation, no stdio. Exits 0.
 *
 * Under ptrace-run at 1000 Hz: ~1000 samples; self and total samples of
 * the three functions in the ratio 60:30:10 (see tests/test_e2e_cpu.c
 * for the tolerance).
 */
#include <time.h>

static volatile unsigned long sink, three = 3;

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
			/* A division (tens of cycles) and volatile updates: this
			 * line's samples clearly outnumber the loop test's on the
			 * line above, on AMD as on Intel (three updates alone
			 * did not, on an AMD EPYC). */
			sink = sink / three + (unsigned long)i, sink ^= sink >> 3; /* @line:burn_60 */
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
