/*
 * cpu_fork: burns 200 ms of CPU in parent_burn(), forks, and waits; the
 * child burns 300 ms in child_burn() and exits 0. POSIX timers are not
 * inherited by fork: the child is sampled only if the agent arms a timer
 * for it. No allocation, no stdio. Exits 0, 1 if the child failed.
 */
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;

static long long cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void parent_burn(void)
{
	long long end = cpu_ns() + 200000000LL;

	while (cpu_ns() < end)
		for (int i = 0; i < 100000; i++)
			sink += (unsigned long)i;
}

static void child_burn(void)
{
	long long end = cpu_ns() + 300000000LL;

	while (cpu_ns() < end)
		for (int i = 0; i < 100000; i++)
			sink += (unsigned long)i;
}

int main(void)
{
	int status;
	pid_t pid;

	parent_burn();
	pid = fork();
	if (pid == 0) {
		child_burn();
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		return 1;
	return 0;
}
