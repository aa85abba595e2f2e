/*
 * short_procs N US: forks N children one after the other (default 400),
 * each burning US microseconds of CPU (default 600, under one sampling
 * period at 1000 Hz) and exiting 0; the parent waits for each. About
 * N * US of CPU in all, of which the CPU profile can sample almost none.
 */
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long cpu_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 400;
	long long us = argc > 2 ? atoll(argv[2]) : 600;

	for (int i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			long long end = cpu_us() + us;

			while (cpu_us() < end)
				;
			_exit(0);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	return 0;
}
