/*
 * cpu_alloc: a program whose CPU time is all in allocating, from deep
 * stacks (tests/test_e2e_cpu.c): alloc_heavy recurses 40 frames and then
 * mallocs and frees blocks of 24 bytes in a loop, for argv[1] ms of
 * thread CPU time (default 600). Every allocation's stack is unwound by
 * ptrace-run, so much of the CPU goes into its own work, which must be
 * charged to alloc_heavy's frames, never to libunwind or the agent.
 * Prints "cpu_alloc done".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NI __attribute__((noinline))

static double cpu_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

NI static uint64_t alloc_heavy(double until)
{
	uint64_t sum = 0;

	while (cpu_ms() < until) {
		for (int i = 0; i < 200; i++) {
			volatile char *p = (volatile char *)malloc(24);
			p[0] = (char)i;
			sum += (uint64_t)p[0];
			free((void *)p);
		}
	}
	return sum;
}

NI static uint64_t descend(int depth, double until)
{
	uint64_t r;

	if (depth == 0)
		return alloc_heavy(until);
	r = descend(depth - 1, until);
	__asm__ volatile("" : "+r"(r)); /* no tail call: each frame stays */
	return r + 1;
}

int main(int argc, char **argv)
{
	double ms = argc > 1 ? atof(argv[1]) : 600;
	uint64_t r = descend(40, cpu_ms() + ms);

	printf("cpu_alloc done%s\n", r == 0 ? "" : "");
	return 0;
}
