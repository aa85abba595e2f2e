/*
 * bench/stacks1m.c: 2^20 allocations, each from its own call stack, for
 * the launcher's memory with a million distinct stacks (bench/goals).
 * Allocation i descends 20 levels; at level k it goes through left() or
 * right() by bit k of i, so the return addresses differ in every path.
 * Prints the number of allocations made.
 */
#include <stdio.h>
#include <stdlib.h>

static void *descend(unsigned path, int level);

__attribute__((noinline)) static void *left(unsigned path, int level)
{
	void *p = descend(path >> 1, level - 1);

	__asm__ volatile("" ::: "memory"); /* no sibling call: a frame of its own */
	return p;
}

__attribute__((noinline)) static void *right(unsigned path, int level)
{
	void *p = descend(path >> 1, level - 1);

	__asm__ volatile("" ::: "memory");
	return p;
}

__attribute__((noinline)) static void *descend(unsigned path, int level)
{
	void *p;

	if (level == 0)
		return malloc(16);
	p = (path & 1) ? right(path, level) : left(path, level);
	__asm__ volatile("" ::: "memory");
	return p;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 20;
	unsigned long made = 0;

	for (unsigned i = 0; i < (1u << n); i++) {
		free(descend(i, (int)n));
		made++;
	}
	printf("%lu allocations\n", made);
	return 0;
}
