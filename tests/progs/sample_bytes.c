/*
 * sample_bytes: allocation sites of known sizes for --sample-bytes
 * (tests/test_e2e_memory.c), each from a function of its own:
 *   big_one   1 allocation of 100 MiB (never touched: not resident), live
 *   small_a   600000 allocations of 32 bytes, every one freed
 *   small_b   400000 allocations of 64 bytes, kept (a global list)
 * Prints "sample_bytes done".
 */
#include <stdio.h>
#include <stdlib.h>

#define NI __attribute__((noinline))

void *g_big;
void **g_keep;

NI static void big_one(void)
{
	g_big = malloc(100u << 20);
}

NI static void *small_a(void)
{
	return malloc(32);
}

NI static void *small_b(void)
{
	return malloc(64);
}

int main(void)
{
	big_one();
	g_keep = malloc(400000 * sizeof(void *));
	for (int i = 0; i < 600000; i++) {
		void *p = small_a();
		if (i < 400000)
			g_keep[i] = small_b();
		free(p);
	}
	printf("sample_bytes done\n");
	return g_big && g_keep ? 0 : 1;
}
