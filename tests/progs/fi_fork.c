/*
 * fi_fork (built with -finstrument-functions): main -> spawn(), which
 * forks. The child, still inside spawn() and main(), calls child_work()
 * 10 times and returns from both; the parent calls parent_work() 3 times,
 * waits for the child and returns.
 *
 *   parent process  main 1, spawn 1, parent_work 3, no child_work
 *   child process   main 1, spawn 1 (frames inherited from the parent,
 *                   closed in the child), child_work 10, no parent_work;
 *                   tree main -> spawn -> child_work
 * Exits 0, or 1 if fork fails or the child does not exit 0.
 */
#include <sys/wait.h>
#include <unistd.h>

static volatile int sink;

void child_work(void)
{
	sink++;
}

void parent_work(void)
{
	sink--;
}

int spawn(void)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return 1;
	if (pid == 0) {
		for (int i = 0; i < 10; i++)
			child_work();
		return 0;
	}
	for (int i = 0; i < 3; i++)
		parent_work();
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		return 1;
	return 0;
}

int main(void)
{
	return spawn();
}
