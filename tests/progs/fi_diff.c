/*
 * fi_diff [worse] (built with -finstrument-functions): the two versions of
 * a program that `ptrace-run diff` compares. main calls steady() (a fixed
 * amount of work), work() (WORK_ITERS iterations; 3x as many with
 * "worse") and leak_some() (allocates 20 blocks of 64 bytes and keeps 10
 * of them; with "worse" 200 blocks, 100 kept: 10x the leak), then
 * frees_all() (100 blocks of 32 bytes, all freed: the same either way).
 * The loops are in spin(), which is not instrumented: their time is the
 * self time of steady() and work().
 * Prints the sum of work's arithmetic and exits 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fi_opt.h"

#define WORK_ITERS 60000000u
#define STEADY_ITERS 20000000u

static volatile unsigned long sink;
static void *kept[100];

/* Not instrumented: its time is its caller's own. */
NI static unsigned long spin(unsigned long n)
{
	unsigned long s = 0;

	for (unsigned long i = 0; i < n; i++)
		s += i ^ (s >> 3);
	return s;
}

NOIPA void steady(void)
{
	sink += spin(STEADY_ITERS);
}

NOIPA void work(int worse)
{
	sink += spin(worse ? 3ul * WORK_ITERS : WORK_ITERS);
}

NOIPA void leak_some(int worse)
{
	unsigned n = worse ? 200 : 20;

	for (unsigned i = 0; i < n; i++) {
		char *p = malloc(64);

		memset(p, (int)i, 64);
		if (i % 2)
			free(p);
		else
			kept[(i / 2) % 100] = p;
	}
}

NOIPA void frees_all(void)
{
	void *p[100];

	for (int i = 0; i < 100; i++)
		p[i] = malloc(32);
	for (int i = 0; i < 100; i++)
		free(p[i]);
}

int main(int argc, char **argv)
{
	int worse = argc > 1 && !strcmp(argv[1], "worse");

	steady();
	work(worse);
	leak_some(worse);
	frees_all();
	printf("%lu\n", sink & 0xffff);
	return 0;
}
