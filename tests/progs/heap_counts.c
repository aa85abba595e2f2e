/*
 * heap_counts: 1000 malloc calls of known sizes; 997 are freed, 3 leak.
 * No stdio and nothing else that allocates, so every figure is exact.
 *
 * keep_blocks() leaks 3 blocks of 1000 bytes from the line marked
 * @site:leak. work() then allocates 997 blocks in batches of 100 (the last
 * batch 97) from the line marked @site:batch, block i being
 * 24 + 8 * (i % 10) bytes, and frees each batch before the next one.
 *
 *   allocations            1000
 *   frees                  997
 *   bytes_allocated        62736   (3 * 1000 + 59736)
 *   peak_bytes             9000    (3000 leaked + one full batch of 6000)
 *   live_blocks            3
 *   live_bytes             3000
 *   temporary_allocations  10      (the last block of each batch)
 *   failed_allocations     0
 *   leaks[0]               keep_blocks, @site:leak, 3000 bytes, 3 blocks
 *   sizes                  1000 x3; 24, 32, ..., 72 x100 each; 80, 88, 96 x99
 *
 * Exits 0.
 */
#include <stdlib.h>

#define LEAK_BLOCKS 3
#define LEAK_SIZE 1000
#define WORK_BLOCKS 997
#define BATCH 100

static void *kept[LEAK_BLOCKS];
static void *batch[BATCH];

static size_t block_size(int i)
{
	return 24 + 8 * (size_t)(i % 10);
}

static void keep_blocks(void)
{
	for (int i = 0; i < LEAK_BLOCKS; i++)
		kept[i] = malloc(LEAK_SIZE); /* @site:leak */
}

static void work(void)
{
	for (int start = 0; start < WORK_BLOCKS; start += BATCH) {
		int n = WORK_BLOCKS - start < BATCH ? WORK_BLOCKS - start : BATCH;

		for (int j = 0; j < n; j++)
			batch[j] = malloc(block_size(start + j)); /* @site:batch */
		for (int j = 0; j < n; j++)
			free(batch[j]);
	}
}

int main(void)
{
	keep_blocks();
	work();
	return 0;
}
