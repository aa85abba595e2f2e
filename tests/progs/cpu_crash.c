/*
 * cpu_crash MODE: dies the way MODE says, from a function of its own, at
 * the line marked for it. No stdio before the crash.
 *
 *   segv      poke() stores through the address 0x10      SIGSEGV, address 16
 *   abort     check_invariant() calls abort()              SIGABRT, no address
 *   fpe       divide() divides by zero                     SIGFPE
 *   own-segv  installs its own SIGSEGV handler, then pokes: the handler
 *             writes "caught\n" and _exit(3)s; no crash report is expected
 *   core DIR  forks; the child chdirs to DIR, allows core dumps and pokes;
 *             the parent prints "signal N core C" (C: WCOREDUMP) and exits 0
 *
 * Exits 2 on a bad MODE.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static void poke(void)
{
	int *volatile p = (int *)16;

	*p = 1; /* @crash:segv */
}

static void check_invariant(int ok)
{
	if (!ok)
		abort(); /* @crash:abort */
}

static int divide(int a, int b)
{
	return a / b; /* @crash:fpe */
}

static void on_segv(int sig)
{
	(void)sig;
	write(1, "caught\n", 7);
	_exit(3);
}

int main(int argc, char **argv)
{
	volatile int zero = 0;

	if (argc < 2)
		return 2;
	if (!strcmp(argv[1], "segv"))
		poke();
	else if (!strcmp(argv[1], "abort"))
		check_invariant(zero);
	else if (!strcmp(argv[1], "fpe"))
		return divide(1, zero);
	else if (!strcmp(argv[1], "own-segv")) {
		signal(SIGSEGV, on_segv);
		poke();
	} else if (!strcmp(argv[1], "core") && argc > 2) {
		int status;
		pid_t pid = fork();

		if (pid == 0) {
			struct rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};

			if (chdir(argv[2]) || setrlimit(RLIMIT_CORE, &unlimited))
				_exit(4);
			poke();
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFSIGNALED(status))
			return 1;
		printf("signal %d core %d\n", WTERMSIG(status), WCOREDUMP(status) ? 1 : 0);
		return 0;
	}
	return 2;
}
