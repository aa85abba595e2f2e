/*
 * live_fork READY STOP: three forked children hold 1 MiB each from one
 * site, live_child_site (16 blocks of 64 KiB), so that the live view's
 * row for it sums the processes: 3.0 MiB in 48 blocks. The parent
 * allocates nothing itself. Each child says it is ready with a pipe; the
 * parent then writes READY and every process waits for STOP (at most
 * 60 s). Exits 0.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILDREN 3
#define BLOCKS 16
#define SIZE (64 * 1024)

static void *keep[BLOCKS];

static void live_child_site(void)
{
	for (int i = 0; i < BLOCKS; i++) {
		keep[i] = malloc(SIZE); /* @live:child */
		memset(keep[i], 1, SIZE);
	}
}

static void wait_stop(const char *stop)
{
	for (int i = 0; i < 60 * 100 && access(stop, F_OK); i++)
		usleep(10000);
}

int main(int argc, char **argv)
{
	int p[2], fd;
	char c;

	if (argc != 3 || pipe(p))
		return 2;
	for (int i = 0; i < CHILDREN; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return 3;
		if (pid == 0) {
			close(p[0]);
			live_child_site();
			if (write(p[1], "r", 1) != 1)
				_exit(4);
			wait_stop(argv[2]);
			_exit(0);
		}
	}
	close(p[1]);
	for (int i = 0; i < CHILDREN; i++)
		if (read(p[0], &c, 1) != 1)
			return 5;
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || close(fd))
		return 6;
	wait_stop(argv[2]);
	while (wait(NULL) > 0)
		;
	return 0;
}
