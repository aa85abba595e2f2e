/*
 * fi_daemon (built with -finstrument-functions): a process that ends
 * inside a libc call that never returns to it. main -> run() -> detach(),
 * which calls daemon(1, 1) (cwd and stdout kept). daemon forks; the
 * parent ends inside it, by glibc's internal _exit(0), which no
 * interposed _exit sees; the child (forked, setsid) returns from daemon,
 * detach and run, calling after() 5 times in run, writes "child done" and
 * returns from main.
 *
 *   parent process  main, run, detach calls 1 and unwound 1 each (closed
 *                   when the process died); exit status 0
 *   child process   main, run, detach calls 1 (inherited frames closed by
 *                   their exit hooks in the child), unwound 0;
 *                   after calls 5; tree main -> run -> after
 *   0 unmatched in both.
 * Exits 1 (in the parent) if daemon fails.
 */
#include <stdlib.h>
#include <unistd.h>

static volatile int sink;

int detach(void)
{
	return daemon(1, 1);
}

void after(void)
{
	sink++;
}

int run(void)
{
	if (detach())
		return 1;
	for (int i = 0; i < 5; i++)
		after();
	if (write(1, "child done\n", 11) != 11)
		return 1;
	return 0;
}

int main(void)
{
	return run();
}
