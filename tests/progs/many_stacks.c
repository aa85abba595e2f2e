/*
 * many_stacks: 200000 malloc(16)+free pairs from 65536 distinct call
 * stacks (rec() takes one of two call lines per bit of k, 16 bits deep).
 * Under a 16 MiB session image the trace table fills up: the report must
 * count the stacks it dropped while every total stays exact:
 * 200000 allocations, 200000 frees, 3200000 bytes, peak 16, nothing live.
 */
#include <stdlib.h>
#include <unistd.h>

static void *volatile sink;

__attribute__((noinline)) static void rec(int d, int k)
{
	if (d == 0) {
		sink = malloc(16);
		return;
	}
	if (k & (1 << d))
		rec(d - 1, k);
	else
		rec(d - 1, k);
	__asm__ volatile("" ::: "memory");
}

int main(void)
{
	for (int k = 0; k < 200000; k++) {
		rec(16, k);
		free(sink);
	}
	if (write(1, "done\n", 5) != 5)
		return 1;
	return 0;
}
