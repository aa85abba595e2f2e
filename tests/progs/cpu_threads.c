/*
 * cpu_threads: two threads burn CPU at once, "burn-2x" 600 ms and
 * "burn-1x" 300 ms of their own CPU time (CLOCK_THREAD_CPUTIME_ID), in
 * spin(); neither allocates (the sampler must set threads up at their
 * start, not at their first malloc). main only creates and joins them.
 * No stdio. Exits 0, or 1 if a pthread call fails.
 *
 * Under ptrace-run at 1000 Hz: ~600 and ~300 samples, a 2:1 ratio.
 */
#include <pthread.h>
#include <time.h>

#include "cpu_spin.h"

static void *burner(void *arg)
{
	long ms = (long)arg;

	pthread_setname_np(pthread_self(), ms == 600 ? "burn-2x" : "burn-1x");
	spin(ms * 1000000LL);
	return arg;
}

int main(void)
{
	pthread_t a, b;
	void *ra, *rb;

	if (pthread_create(&a, NULL, burner, (void *)600L) || pthread_create(&b, NULL, burner, (void *)300L))
		return 1;
	if (pthread_join(a, &ra) || pthread_join(b, &rb))
		return 1;
	/* The start routine's return value comes through the wrapper. */
	return ra == (void *)600L && rb == (void *)300L ? 0 : 1;
}
