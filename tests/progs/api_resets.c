/*
 * Five ptrace_reset() calls, a 1000-byte block kept before each; then
 * 3 blocks of 10 bytes kept after the last.
 */
#include <ptrace-run.h>
#include <stdlib.h>

static void *keep[8];

__attribute__((noinline)) static void *before(void)
{
	return malloc(1000);
}

__attribute__((noinline)) static void *after_last(void)
{
	return malloc(10);
}

int main(void)
{
	for (int i = 0; i < 5; i++) {
		keep[i] = before();
		ptrace_reset();
	}
	for (int i = 5; i < 8; i++)
		keep[i] = after_last();
	return keep[7] == NULL;
}
