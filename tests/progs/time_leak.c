/*
 * Leaks 1 MiB (16 blocks of 64 KiB from leak_mib) at 0.5 s, 1.5 s, 2.5 s,
 * ...: argv[1] of them (default 4), then exits 1.0 s after the last one.
 * A snapshot every second (at 1 s, 2 s, ...) sees k MiB live at k s.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void leak_mib(void)
{
	for (int i = 0; i < 16; i++)
		memset(malloc(65536), 4, 65536);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4;

	usleep(500000);
	for (int i = 0; i < n; i++) {
		leak_mib();
		usleep(1000000);
	}
	return 0;
}
