/*
 * peak: a known sequence of allocations and frees whose peak is neither the
 * largest block nor the final state. No stdio, so every figure is exact.
 *
 *   live after each step:  a 1000 | b 3000 | -a 2000 | c 7000 | -b 5000 |
 *   d 8000 | -c 3000 | e 7000 | 100 x (100, free) 7100 | f 8000 | g 8001 |
 *   -g 8000 | -f 7000 | -d 4000
 *
 *   allocations            107
 *   frees                  106
 *   bytes_allocated        26001
 *   peak_bytes             8001
 *   live_blocks            1       (e, from keep_last at @site:keep)
 *   live_bytes             4000
 *   temporary_allocations  101     (the 100 scratch blocks and g)
 *
 * Exits 0.
 */
#include <stdlib.h>

static void *keep;

static void *get(size_t n)
{
	return malloc(n); /* @site:get */
}

static void scratch(void)
{
	for (int i = 0; i < 100; i++) {
		void *p = malloc(100); /* @site:scratch */
		free(p);
	}
}

static void keep_last(void)
{
	keep = malloc(4000); /* @site:keep */
}

int main(void)
{
	void *a, *b, *c, *d, *f, *g;

	a = get(1000);
	b = get(2000);
	free(a);
	c = get(5000);
	free(b);
	d = get(3000);
	free(c);
	keep_last();
	scratch();
	f = get(1000);
	g = get(1);
	free(g);
	free(f);
	free(d);
	return 0;
}
