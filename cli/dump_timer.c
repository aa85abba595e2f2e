#include "dump_timer.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void *dump_main(void *arg)
{
	struct dump_timer *d = arg;
	long long end = now_ms() + (long long)(d->secs * 1000 + 0.5);

	for (;;) {
		struct pollfd p = {.fd = d->wake[0], .events = POLLIN};
		long long left = end - now_ms();
		int r;

		if (left <= 0)
			break;
		r = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
		if (r > 0)
			return NULL; /* stopped: the program ended first */
		if (r < 0 && errno != EINTR)
			return NULL;
	}
	/* ESRCH when the program has exited meanwhile: nothing to do. */
	syscall(SYS_pidfd_send_signal, d->pidfd, d->sig, NULL, 0);
	return NULL;
}

int dump_timer_start(struct dump_timer *d, pid_t pid, int sig, double secs)
{
	sigset_t all, old;
	int err;

	memset(d, 0, sizeof(*d));
	d->sig = sig;
	d->secs = secs;
	d->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (d->pidfd < 0)
		return -errno;
	if (pipe2(d->wake, O_CLOEXEC)) {
		err = -errno;
		goto out_pidfd;
	}
	fcntl(d->pidfd, F_SETFD, FD_CLOEXEC);
	/* Signals are for the main thread's wait loop. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = -pthread_create(&d->thread, NULL, dump_main, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		goto out_pipe;
	d->started = 1;
	return 0;

out_pipe:
	close(d->wake[0]);
	close(d->wake[1]);
out_pidfd:
	close(d->pidfd);
	return err;
}

void dump_timer_stop(struct dump_timer *d)
{
	char c = 1;

	if (!d->started)
		return;
	if (write(d->wake[1], &c, 1) < 0) {
		/* A full pipe is impossible (one byte, once); nothing else to do. */
	}
	pthread_join(d->thread, NULL);
	close(d->wake[0]);
	close(d->wake[1]);
	close(d->pidfd);
	d->started = 0;
}
