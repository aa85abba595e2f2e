/*
 * debuginfo: a release build with debug info (-O2 -g, see the Makefile)
 * whose one function of note, burn_and_leak(), spends about 200 ms of CPU
 * in a loop of its own (@burn) and then leaks one block of 4096 + argc
 * bytes (@leak). tests/test_e2e_debuginfo.c strips it and gives its names
 * back from a separate debug file (by build-id, by .gnu_debuglink),
 * MiniDebugInfo and a local debuginfod server.
 *   leaks: exactly one, 4097 bytes in 1 block (no arguments), frame 0
 *   burn_and_leak at @leak; the CPU profile's burn_and_leak has most of
 *   the samples, at @burn.
 * Exits 0.
 */
#include <stdlib.h>
#include <time.h>

volatile unsigned long debuginfo_sink;

static long long debuginfo_cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* noinline, noclone: one function of that name, with a frame of its own. */
__attribute__((noinline, noclone)) char *burn_and_leak(size_t n)
{
	long long end = debuginfo_cpu_ns() + 200000000LL;
	char *p;

	while (debuginfo_cpu_ns() < end)
		for (int i = 0; i < 1000000; i++) debuginfo_sink += (unsigned long)i; /* @burn */
	p = malloc(n); /* @leak */
	if (p)
		p[0] = 1;
	return p;
}

int main(int argc, char **argv)
{
	char *p = burn_and_leak(4096 + (size_t)argc);

	(void)argv;
	return p && p[0] == 1 ? 0 : 1;
}
