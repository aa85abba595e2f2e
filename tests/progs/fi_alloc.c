/*
 * fi_alloc (built with -finstrument-functions): allocations attributed to
 * the function that made them. main calls parent() twice; each parent()
 * mallocs 100 bytes itself and calls child(), which mallocs 10, 20 and 30
 * bytes (freeing the first two). Nothing else allocates (no stdio).
 * Every block is stored in a volatile before it is freed: gcc and clang
 * at -O2 remove a malloc whose block is only freed (all six of child's
 * and its caller's free, once child is inlined), which would take the
 * allocations this program is about away from an optimized build.
 *
 *   child   self 6 allocations / 120 bytes, inclusive the same
 *   parent  self 2 / 200, inclusive 8 / 320
 *   main    self 0 / 0,   inclusive 8 / 320
 */
#include <stdlib.h>

static void *volatile keep;

void *child(void)
{
	void *p = malloc(10);

	keep = p;
	free(p);
	p = malloc(20);
	keep = p;
	free(p);
	return malloc(30);
}

void parent(void)
{
	void *a = malloc(100);
	void *c = child();

	keep = a;
	free(a);
	keep = c;
	free(c);
}

int main(void)
{
	parent();
	parent();
	return 0;
}
