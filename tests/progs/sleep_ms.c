/*
 * sleep_ms MS [READY]: creates the file READY (when given), sleeps MS
 * milliseconds (default 200), then exits 0. Prints nothing.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long ms = argc > 1 ? atol(argv[1]) : 200;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	int fd;

	if (argc > 2 && (fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) >= 0)
		close(fd);
	while (nanosleep(&ts, &ts))
		;
	return 0;
}
