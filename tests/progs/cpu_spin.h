/*
 * For the cpu_* test programs: the calling thread's CPU time, and spin(),
 * which burns a given amount of it in a loop of plain arithmetic (no
 * call, no allocation), so that its samples are its own.
 */
#ifndef CPU_SPIN_H
#define CPU_SPIN_H

#include <time.h>

static volatile unsigned long sink;

static long long cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void spin(long long ns)
{
	long long end = cpu_ns() + ns;

	while (cpu_ns() < end)
		for (int i = 0; i < 100000; i++)
			sink += (unsigned long)i;
}

#endif
