/*
 * fi_cpu_shares: cpu_shares.c built with -finstrument-functions (the
 * Makefile builds fi_* so), for both views at once: exact per-function
 * timings and sampled CPU. Burns 600, 300 and 100 ms of its own thread's
 * CPU time in burn_60, burn_30 and burn_10, in that order. No allocation,
 * no stdio. Exits 0.
 */
#include "cpu_shares.c"
