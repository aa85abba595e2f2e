/*
 * cpu_dump MODE ARG: three threads in known places for a stack dump.
 *
 *   "reader"  blocks in read() on a pipe (the line marked @dump:read),
 *             until main writes one byte; it checks that read() returned
 *             that byte: a dump that interrupts it must be restarted
 *             (SA_RESTART), never seen as EINTR
 *   "burner"  spins in spin() until main says stop
 *   main      MODE raise: once the burner is named and the reader is
 *             blocked in read() (its /proc/self/task/TID/syscall says
 *             so), sends itself signal
 *             ARG (a number) from request_dump() (@dump:raise), waits
 *             100 ms, then lets the others go.
 *             MODE wait: sleeps ARG seconds in wait_for() (the launcher's
 *             --dump-after comes meanwhile), then lets the others go.
 *
 * Prints "read 1 byte" and exits 0; exits 1 (with a line saying why) when
 * read() failed or returned something else, 2 on bad arguments.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int fds[2];
static volatile int reader_tid, burner_named, stop;
static volatile unsigned long sink;
static ssize_t got = -2;
static int got_errno;

static void *reader(void *arg)
{
	char c;

	(void)arg;
	pthread_setname_np(pthread_self(), "reader");
	reader_tid = (int)syscall(SYS_gettid);
	got = read(fds[0], &c, 1); /* @dump:read */
	got_errno = errno;
	return NULL;
}

static void spin(void)
{
	while (!stop)
		for (int i = 0; i < 100000; i++)
			sink += (unsigned long)i;
}

static void *burner(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "burner");
	burner_named = 1;
	spin();
	return NULL;
}

/* Sleep ms milliseconds in all, whatever signals come. */
static void wait_for(long ms)
{
	struct timespec end;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += ms / 1000;
	end.tv_nsec += (ms % 1000) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &end, NULL) == EINTR)
		;
}

/* Until the burner has its name and the reader sits in read() (system
 * call 0 on x86-64). */
static void wait_threads_ready(void)
{
	char path[64], buf[64];

	while (!reader_tid || !burner_named)
		wait_for(1);
	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", reader_tid);
	for (;;) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

		if (fd >= 0)
			close(fd);
		if (n > 1 && buf[0] == '0' && buf[1] == ' ')
			return;
		wait_for(1);
	}
}

static void request_dump(int sig)
{
	kill(getpid(), sig); /* @dump:raise */
}

int main(int argc, char **argv)
{
	pthread_t r, b;

	if (argc < 3 || (strcmp(argv[1], "raise") && strcmp(argv[1], "wait")))
		return 2;
	if (pipe(fds) || pthread_create(&r, NULL, reader, NULL) || pthread_create(&b, NULL, burner, NULL))
		return 1;
	wait_threads_ready();
	if (!strcmp(argv[1], "raise")) {
		request_dump(atoi(argv[2]));
		wait_for(100);
	} else {
		wait_for((long)(atof(argv[2]) * 1000));
	}
	if (write(fds[1], "x", 1) != 1)
		return 1;
	stop = 1;
	pthread_join(r, NULL);
	pthread_join(b, NULL);
	if (got != 1) {
		printf("read returned %zd: %s\n", got, strerror(got_errno));
		return 1;
	}
	printf("read 1 byte\n");
	return 0;
}
