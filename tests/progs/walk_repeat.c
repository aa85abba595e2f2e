/*
 * walk_repeat: allocations whose stacks repeat, alternate, or take turns
 * in more than a memo set holds, for the walk memo's trace ids
 * (tests/test_e2e_unwind.c). site_a() to site_e() allocate at the same
 * depth, so their walks share one memo set of CFI_WAYS (4) walks
 * (agent/cfi.h):
 *   1000 blocks through site_a(): 999 walks are one the set holds;
 *   500 pairs of site_a() and site_b(): 998 (all but the first pair);
 *   1000 through site_b(): 999;
 *   100 rounds of site_a() to site_e(): 0 (five walks taking turns in
 *   four ways: each finds the one it needs given way the round before).
 * Nine sites (each loop's call line is one): 1000, 500, 500, 1000 and
 * 100 from each of the five; site_a allocates 24 bytes, site_b 40,
 * site_c 56, site_d 72, site_e 88. Of the 3500 walks 2996 repeat.
 */
#include <stdlib.h>

static void *volatile sink;

#define SITE(name, size)                                                                                           \
	__attribute__((noinline)) static void name(void)                                                           \
	{                                                                                                          \
		sink = malloc(size);                                                                               \
		__asm__ volatile("" ::: "memory"); /* a frame of its own: no sibling call */                       \
		free(sink);                                                                                        \
	}

SITE(site_a, 24)
SITE(site_b, 40)
SITE(site_c, 56)
SITE(site_d, 72)
SITE(site_e, 88)

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
	for (int i = 0; i < 100; i++) {
		site_a();
		site_b();
		site_c();
		site_d();
		site_e();
	}
	return 0;
}
