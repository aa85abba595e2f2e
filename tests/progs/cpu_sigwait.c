/*
 * cpu_sigwait [signalfd]: a program that handles signals synchronously.
 * It blocks every signal, burns 100 ms of CPU (a sampler's signal, which
 * ever it is, would now be pending), then waits up to 200 ms for any
 * signal with sigtimedwait, and then with sigwaitinfo after sending itself
 * SIGUSR1 (with "signalfd": reads a signalfd for every signal instead,
 * first polled for 200 ms). Nobody sends it anything else, so the first
 * wait must time out and the second must return SIGUSR1. Prints "timeout,
 * then 10" and exits 0; exits 1 (with a line saying what came instead)
 * otherwise.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;

static long long cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int with_signalfd(const sigset_t *set)
{
	struct signalfd_siginfo fi;
	struct pollfd p;
	int fd = signalfd(-1, set, SFD_CLOEXEC), r;

	if (fd < 0) {
		printf("signalfd: %s\n", strerror(errno));
		return 1;
	}
	p.fd = fd;
	p.events = POLLIN;
	r = poll(&p, 1, 200);
	if (r != 0) {
		r = (int)read(fd, &fi, sizeof(fi));
		printf("poll: %d, then signal %u (si_code %d)\n", r, r > 0 ? fi.ssi_signo : 0, r > 0 ? fi.ssi_code : 0);
		return 1;
	}
	kill(getpid(), SIGUSR1);
	if (read(fd, &fi, sizeof(fi)) != (ssize_t)sizeof(fi) || fi.ssi_signo != SIGUSR1) {
		printf("signalfd read signal %u\n", fi.ssi_signo);
		return 1;
	}
	printf("timeout, then %u\n", fi.ssi_signo);
	return 0;
}

int main(int argc, char **argv)
{
	struct timespec wait = {0, 200000000L};
	long long end;
	siginfo_t si;
	sigset_t set;
	int r;

	sigfillset(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (end = cpu_ns() + 100000000LL; cpu_ns() < end;)
		for (int i = 0; i < 100000; i++)
			sink += (unsigned long)i;
	if (argc > 1 && !strcmp(argv[1], "signalfd"))
		return with_signalfd(&set);
	r = sigtimedwait(&set, &si, &wait);
	if (r != -1 || errno != EAGAIN) {
		printf("sigtimedwait returned %d (si_code %d): %s\n", r, r > 0 ? si.si_code : 0, strerror(errno));
		return 1;
	}
	kill(getpid(), SIGUSR1);
	r = sigwaitinfo(&set, &si);
	if (r != SIGUSR1) {
		printf("sigwaitinfo returned %d\n", r);
		return 1;
	}
	printf("timeout, then %d\n", r);
	return 0;
}
