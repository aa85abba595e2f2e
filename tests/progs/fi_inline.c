/*
 * fi_inline (built with -finstrument-functions): an instrumented function
 * inlined into its caller. main calls outer() 1000 times; outer() is
 * NOIPA, busy-waits 20 us of its own (by CLOCK_MONOTONIC), then calls
 * sq(), a static inline function that busy-waits 10 us. At -O0 sq is a
 * call of its own; optimized, gcc and clang inline it into outer (check:
 * objdump -d shows no call of sq in outer) but keep its hooks, which then
 * run at outer's stack pointer. Either way:
 *
 *   outer  calls 1000, recursive 0; total >= 1000 x 30 us, self >=
 *          1000 x 20 us; total <= OUTER (main's clock around each call)
 *   sq     calls 1000, called by outer only; self >= 1000 x 10 us and
 *          <= SQ (outer's clock around each call of sq)
 *   tree   main -> outer -> sq (1000 calls); 0 unmatched, 0 unwound
 *
 * Prints "outer_outside_ns=OUTER sq_outside_ns=SQ".
 */
#include <stdio.h>

#include "fi_opt.h"

#define CALLS 1000
#define OUTER_NS 20000
#define SQ_NS 10000

static long long sq_outside;

static inline void sq(void)
{
	fi_spin_from(fi_now_ns(), SQ_NS);
}

NOIPA void outer(void)
{
	long long t0;

	fi_spin_from(fi_now_ns(), OUTER_NS);
	t0 = fi_now_ns();
	sq();
	sq_outside += fi_now_ns() - t0;
}

int main(void)
{
	long long outside = 0;

	for (int i = 0; i < CALLS; i++) {
		long long t0 = fi_now_ns();

		outer();
		outside += fi_now_ns() - t0;
	}
	printf("outer_outside_ns=%lld sq_outside_ns=%lld\n", outside, sq_outside);
	return 0;
}
