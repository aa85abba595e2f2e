/*
 * daemon_child: the main process forks a child that calls daemon(1, 1).
 * The child ends at once inside daemon() (glibc's internal _exit(0));
 * the daemon sleeps 800 ms, writes "daemon done" and exits 0. The main
 * process waits for the child (so the launcher never reaps it), writes
 * "parent done" and exits 0 (the launcher waits for the daemon).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	struct timespec t = {0, 800000000};
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return 1;
	if (pid == 0) {
		if (daemon(1, 1))
			_exit(1);
		nanosleep(&t, NULL);
		if (write(1, "daemon done\n", 12) != 12)
			return 1;
		return 0;
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		return 1;
	printf("parent done\n");
	return 0;
}
