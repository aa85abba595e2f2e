/*
 * walk_repeat: allocations whose stacks repeat, or alternate, for the
 * walk memo's trace ids (tests/test_e2e_unwind.c). 1000 blocks through
 * site_a(), then 500 pairs of site_a() and site_b() (the same depth: one
 * memo slot, each walk finding the other's there), then 1000 through
 * site_b(): four sites (each loop's call line is one), 1000, 500, 500
 * and 1000 allocations, 24 bytes from site_a, 40 from site_b. Of the
 * 3000 walks, 1998 are the walk before again: all but the first of each
 * run of 1000; in the pairs none.
 */
#include <stdlib.h>

static void *volatile sink;

__attribute__((noinline)) static void site_a(void)
{
	sink = malloc(24);
	__asm__ volatile("" ::: "memory"); /* a frame of its own: no sibling call */
	free(sink);
}

__attribute__((noinline)) static void site_b(void)
{
	sink = malloc(40);
	__asm__ volatile("" ::: "memory");
	free(sink);
}

int main(void)
{
	for (int i = 0; i < 1000; i++)
		site_a();
	for (int i = 0; i < 500; i++) {
		site_a();
		site_b();
	}
	for (int i = 0; i < 1000; i++)
		site_b();
	return 0;
}
