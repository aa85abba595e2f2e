/*
 * sig_count READY N: counts the signals it receives and prints them. It
 * catches SIGHUP, SIGUSR1, SIGUSR2 (with SA_SIGINFO: a sigqueue'd value is
 * printed), SIGPIPE, SIGALRM, SIGTSTP, SIGURG, SIGVTALRM and SIGWINCH,
 * creates the file READY, and exits 0 once it has received N signals (or
 * after 10 s), printing one line per signal number that came, in numeric
 * order: "SIGUSR1 1", "SIGUSR2 1 value 42". The same output with and
 * without ptrace-run when the same signals reach it.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const int sigs[] = { SIGHUP, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGTSTP, SIGURG, SIGVTALRM, SIGWINCH };
#define NSIGS (sizeof(sigs) / sizeof(sigs[0]))

static volatile sig_atomic_t count[NSIG], total;
static volatile int value[NSIG];

static void on_sig(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	count[sig]++;
	if (si->si_code == SI_QUEUE)
		value[sig] = si->si_value.sival_int;
	total++;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	int want = argc > 2 ? atoi(argv[2]) : 0, fd;
	struct timespec t0, t;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sig;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NSIGS; i++)
		sigaction(sigs[i], &sa, NULL);
	if (argc > 1 && (fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) >= 0)
		close(fd);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (total < want) {
		usleep(2000);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 10)
			break;
	}
	for (int sig = 1; sig < NSIG; sig++) {
		if (!count[sig])
			continue;
		printf("SIG%s %d", sigabbrev_np(sig), (int)count[sig]);
		if (value[sig])
			printf(" value %d", value[sig]);
		printf("\n");
	}
	return 0;
}
