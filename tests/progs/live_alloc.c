/*
 * live_alloc READY STOP: a known heap for the live view's test.
 *
 *   live_hold_site   64 blocks of 128 KiB, kept: 8.0 MiB live, 64 allocations
 *   live_many_site 1000 blocks of 16 B, kept:   15.6 KiB live, 1000 allocations
 *
 * Then it burns 300 ms of CPU time in live_spin, writes its pid to READY
 * (renamed into place, so the file is whole when it appears) and waits
 * until STOP exists (at most 60 s), then exits 0. No stdio before READY,
 * so no other site has more allocations than live_many_site.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cpu_spin.h"

#define HOLD_BLOCKS 64
#define HOLD_SIZE (128 * 1024)
#define MANY_BLOCKS 1000
#define MANY_SIZE 16

static void *hold[HOLD_BLOCKS];
static void *many[MANY_BLOCKS];

static void live_hold_site(void)
{
	for (int i = 0; i < HOLD_BLOCKS; i++) {
		hold[i] = malloc(HOLD_SIZE); /* @live:hold */
		memset(hold[i], 1, HOLD_SIZE);
	}
}

static void live_many_site(void)
{
	for (int i = 0; i < MANY_BLOCKS; i++)
		many[i] = malloc(MANY_SIZE); /* @live:many */
}

static void live_spin(void)
{
	spin(300 * 1000000LL); /* 300 ms of CPU time, in spin() */
}

int main(int argc, char **argv)
{
	char tmp[4096], line[32];
	int fd, n;

	if (argc != 3)
		return 2;
	live_hold_site();
	live_many_site();
	live_spin();
	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]);
	n = snprintf(line, sizeof(line), "%d\n", (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, line, (size_t)n) != n || close(fd) || rename(tmp, argv[1]))
		return 3;
	for (int i = 0; i < 60 * 100 && access(argv[2], F_OK); i++)
		usleep(10000);
	return 0;
}
