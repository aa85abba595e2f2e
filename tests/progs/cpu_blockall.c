/*
 * cpu_blockall: threads that block every signal, as xz's workers and many
 * thread pools do (the mask is inherited: main blocks all, creates, and
 * restores). The worker "blocker" burns 200 ms of its own CPU time in
 * spin() with every signal blocked, then prints how many signals its mask
 * blocks, before and after unblocking SIGSTKFLT and SIGPWR by hand. Then
 * main, with every signal blocked again, runs `grep ^SigBlk
 * /proc/self/status` through fork+execv and through posix_spawn (no
 * attribute): the children's masks are inherited. Exits 0, or 1 if a call
 * fails.
 *
 * Natively and under ptrace-run the output is the same; under ptrace-run
 * the worker's 200 ms are sampled (~200 samples in spin).
 */
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;
#include "cpu_spin.h"

static int blocked(void)
{
	sigset_t cur;
	int n = 0;

	pthread_sigmask(SIG_SETMASK, NULL, &cur);
	for (int s = 1; s < NSIG; s++)
		n += sigismember(&cur, s) == 1;
	return n;
}

static void *blocker(void *arg)
{
	sigset_t two;

	pthread_setname_np(pthread_self(), "blocker");
	spin(200 * 1000000LL);
	printf("worker: %d blocked", blocked());
	sigemptyset(&two);
	sigaddset(&two, SIGSTKFLT);
	sigaddset(&two, SIGPWR);
	pthread_sigmask(SIG_UNBLOCK, &two, NULL);
	printf(", %d after unblocking 2", blocked());
	pthread_sigmask(SIG_BLOCK, &two, NULL);
	printf(", %d after blocking them again\n", blocked());
	return arg;
}

int main(void)
{
	char *argv[] = {"grep", "^SigBlk", "/proc/self/status", NULL};
	sigset_t all, old;
	pthread_t t;
	pid_t pid;
	int st;

	sigfillset(&all);
	if (pthread_sigmask(SIG_BLOCK, &all, &old) || pthread_create(&t, NULL, blocker, NULL) ||
	    pthread_sigmask(SIG_SETMASK, &old, NULL) || pthread_join(t, NULL))
		return 1;
	printf("main: %d blocked\n", blocked());
	fflush(stdout);
	sigprocmask(SIG_BLOCK, &all, NULL);
	pid = fork();
	if (pid == 0) {
		execv("/bin/grep", argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || st != 0)
		return 1;
	if (posix_spawn(&pid, "/bin/grep", NULL, NULL, argv, environ) || waitpid(pid, &st, 0) != pid || st != 0)
		return 1;
	sigprocmask(SIG_SETMASK, &old, NULL);
	printf("main: %d blocked at the end\n", blocked());
	return 0;
}
