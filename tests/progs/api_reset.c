/*
 * ptrace_reset(): before it, 50 blocks of 100 bytes kept (before_reset),
 * 10 blocks of 200 bytes (freed_after, freed after the reset) and the
 * region "old" 5 times; then the reset; then 20 blocks of 300 bytes
 * kept (after_reset) and the region "new" 3 times. Prints one line
 * before the reset (stdout's buffer is allocated then).
 */
#include <ptrace-run.h>
#include <stdio.h>
#include <stdlib.h>

static void *keep[100];

__attribute__((noinline)) static void before_reset(void)
{
	for (int i = 0; i < 50; i++)
		keep[i] = malloc(100);
}

__attribute__((noinline)) static void freed_after(void)
{
	for (int i = 0; i < 10; i++)
		keep[50 + i] = malloc(200);
}

__attribute__((noinline)) static void after_reset(void)
{
	for (int i = 0; i < 20; i++)
		keep[60 + i] = malloc(300);
}

int main(void)
{
	printf("start\n");
	fflush(stdout);
	before_reset();
	freed_after();
	for (int i = 0; i < 5; i++) {
		ptrace_region_begin("old");
		ptrace_region_end();
	}
	ptrace_reset();
	after_reset();
	for (int i = 50; i < 60; i++)
		free(keep[i]);
	for (int i = 0; i < 3; i++) {
		ptrace_region_begin("new");
		ptrace_region_end();
	}
	return keep[79] == NULL;
}
