/*
 * Attributes for the -finstrument-functions test programs, which are built
 * at -O0 and at -O2/-O3 with gcc and clang (Makefile FI_VARIANTS).
 *
 * NOIPA: the function keeps its own body and name whatever the optimizer
 * does around it: gcc's noipa (no inlining, no .constprop/.isra/.part
 * clone, no assumption about its result or its side effects at the call
 * sites), clang's noinline (clang clones under no other name). For the
 * functions whose frame shape or identity a test depends on; every other
 * function of a program stays plainly inlinable, on purpose: gcc and clang
 * keep the hooks of an inlined instrumented function, so its calls still
 * count.
 *
 * NI: not instrumented: the programs' own clocks and busy loops' helpers,
 * which must not show up as functions of their own.
 */
#ifndef FI_OPT_H
#define FI_OPT_H

#include <time.h>

#if defined(__clang__)
#define NOIPA __attribute__((noinline))
#else
#define NOIPA __attribute__((noipa))
#endif
#define NI __attribute__((no_instrument_function))

/* CLOCK_MONOTONIC in ns: the clock the agent calibrates against. */
static inline NI long long fi_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Busy until ns have passed since start (by fi_now_ns); returns the end. */
static inline NI long long fi_spin_from(long long start, long long ns)
{
	long long t;

	while ((t = fi_now_ns()) - start < ns)
		;
	return t;
}

#endif
