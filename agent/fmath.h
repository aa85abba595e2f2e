/*
 * The little floating point the sampler needs (agent/heap.c, heap.h), of
 * our own: log, log1p and expm1 on the ranges it uses them on, within a
 * few ulps of libm's. They kept libm itself out of every profiled process
 * (one library fewer to map and relocate: a short process paid ~12 page
 * faults and five mappings for three functions). Pure arithmetic, no
 * table, no state: the same input gives the same output everywhere,
 * which the weights of --sample-bytes need (a free subtracts exactly what
 * its allocation added).
 */
#ifndef PTRACE_FMATH_H
#define PTRACE_FMATH_H

#include <stdint.h>
#include <string.h>

/* ln x for a positive, normal, finite x. */
static inline double pr_log(double x)
{
	const double ln2 = 0.6931471805599453094;
	uint64_t u;
	double m, s, s2, p;
	int e;

	memcpy(&u, &x, sizeof(u));
	e = (int)((u >> 52) & 0x7ff) - 1023;
	u = (u & 0x000fffffffffffffull) | 0x3ff0000000000000ull; /* m in [1, 2) */
	memcpy(&m, &u, sizeof(m));
	if (m > 1.4142135623730951) { /* m in [sqrt(2)/2, sqrt(2)] */
		m *= 0.5;
		e++;
	}
	/* ln m = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...), |s| <= 0.1716:
	 * the terms past s^21 are below 2^-56 of the sum. */
	s = (m - 1.0) / (m + 1.0);
	s2 = s * s;
	p = 1.0 / 23;
	for (int k = 21; k >= 3; k -= 2)
		p = p * s2 + 1.0 / k;
	return (double)e * ln2 + 2.0 * s * (1.0 + s2 * p);
}

/* ln(1 + x) for x in (-1, 1], accurate for x near 0 too. */
static inline double pr_log1p(double x)
{
	double u = 1.0 + x;

	/* u - 1 is exact: the rounding of 1 + x cancels in the ratio. */
	return u == 1.0 ? x : pr_log(u) * x / (u - 1.0);
}

/* e^x - 1 for x in [-1, 0]: the Taylor series, nested, to x^22/22!
 * (below 2^-70); every factor is in (0, 1], so nothing cancels. */
static inline double pr_expm1(double x)
{
	double p = 1.0;

	for (int k = 22; k >= 2; k--)
		p = 1.0 + p * x / k;
	return x * p;
}

#endif
