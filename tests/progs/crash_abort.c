/*
 * crash_abort: allocates 5 blocks of 1000 bytes from the line marked
 * @site:crash in make_blocks(), frees 2 of them, then dies by
 * abort() (SIGABRT). No stdio.
 *
 *   allocations 5, bytes_allocated 5000, frees 2, peak_bytes 5000,
 *   live_blocks 3, live_bytes 3000, temporary 0;
 *   leaks[0]: make_blocks at @site:crash, 3000 bytes, 3 blocks
 *   exit_code null, signal 6; the launcher exits 134
 */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

static void *blocks[5];

static void make_blocks(void)
{
	for (int i = 0; i < 5; i++)
		blocks[i] = malloc(1000); /* @site:crash */
	free(blocks[0]);
	free(blocks[1]);
}

int main(void)
{
	make_blocks();
	abort();
	return 0;
}
