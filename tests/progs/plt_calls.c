/*
 * plt_calls: calls into libc through the PLT, for the names of the PLT
 * stubs. puts and pthread_self are called directly: their stubs are in
 * .plt (lazy binding), or in .plt.sec with lazy ones in .plt for the IBT
 * build, plt_calls_ibt. getppid's address is taken too, so the linker
 * makes its stub jump through the GOT entry of that address, in .plt.got.
 * tests/test_symbolize.c looks these stubs up; test_e2e_cpu samples main's
 * loop, 8 calls of pthread_self (2 instructions) per turn, so that a good
 * share of its time is spent in pthread_self's stub.
 * argv[1]: milliseconds of CPU time to spend in that loop (default 0).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;
pid_t (*volatile plt_getppid)(void);

static long long cpu_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	long long end = cpu_ms() + (argc > 1 ? atoll(argv[1]) : 0);

	puts("plt_calls");
	/* Here rather than in plt_getppid's initializer: code loads the
	 * address from the GOT (GLOB_DAT), a data word would not. */
	plt_getppid = getppid;
	sink += (unsigned long)getppid() + (unsigned long)plt_getppid();
	while (cpu_ms() < end)
		for (int i = 0; i < 10000; i++) {
			sink ^= (unsigned long)pthread_self();
			sink ^= (unsigned long)pthread_self();
			sink ^= (unsigned long)pthread_self();
			sink ^= (unsigned long)pthread_self();
			sink ^= (unsigned long)pthread_self();
			sink ^= (unsigned long)pthread_self();
			sink ^= (unsigned long)pthread_self();
			sink ^= (unsigned long)pthread_self();
		}
	return 0;
}
