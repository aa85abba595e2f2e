/*
 * calls: a call-heavy workload for function timing, built with
 * -finstrument-functions (bench/run does). About 15 million calls of
 * small functions: fib(30) recursively (2,692,537 calls), then STEPS
 * iterations of step(), which calls mix() and fold(): three short calls
 * per iteration. Without a profiler the hooks are glibc's empty ones.
 *
 *   calls [STEPS [FIB]]     defaults 4100000 and 30
 *
 * Prints "calls=N checksum=C": N the number of instrumented calls made,
 * from the arithmetic (no counter in the hot path), C depends on all the
 * work so none of it can be optimised away.
 */
#include <stdio.h>
#include <stdlib.h>

#define NOINLINE __attribute__((noinline))

NOINLINE unsigned long fib(unsigned n)
{
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

NOINLINE unsigned long mix(unsigned long x)
{
	x ^= x >> 31;
	return x * 0x9e3779b97f4a7c15ul;
}

NOINLINE unsigned long fold(unsigned long x, unsigned long acc)
{
	return (acc << 5) + acc + (x >> 17);
}

NOINLINE unsigned long step(unsigned long i, unsigned long acc)
{
	return fold(mix(i), acc);
}

NOINLINE unsigned long run_steps(unsigned long n)
{
	unsigned long acc = 5381;

	for (unsigned long i = 0; i < n; i++)
		acc = step(i, acc);
	return acc;
}

/* Calls made by fib(n): 1 + calls(n-1) + calls(n-2), 1 below 2. */
static __attribute__((no_instrument_function)) unsigned long long fib_calls(unsigned n)
{
	unsigned long long a = 1, b = 1; /* calls(0), calls(1) */

	for (unsigned k = 2; k <= n; k++) {
		unsigned long long c = 1 + a + b;
		a = b;
		b = c;
	}
	return n ? b : a;
}

int main(int argc, char **argv)
{
	unsigned long steps = argc > 1 ? strtoul(argv[1], NULL, 10) : 4100000;
	unsigned n = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 30;
	unsigned long sum = fib(n) + run_steps(steps);

	/* main, fib's calls, run_steps, then step + mix + fold per step */
	printf("calls=%llu checksum=%lu\n", 1 + fib_calls(n) + 1 + 3ull * steps, sum);
	return 0;
}
