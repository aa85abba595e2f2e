/*
 * leak_classes: one block of each leak class, from a function of its own,
 * with sizes that tell them apart (tests/test_e2e_leakcheck.c):
 *
 *   keep_global     1000 bytes, pointed to from a global: reachable
 *   lose_block      1100 bytes, nothing points to it: definitely lost
 *   lose_list       a head of 1200 bytes + 9 nodes of 128: 1 definitely
 *                   lost (1200), 9 indirectly lost (1152)
 *   keep_in_thread  1300 bytes, its only pointer in a thread still
 *                   running at exit (in a register or on its stack): reachable
 *   keep_interior   1400 bytes, a global points 100 bytes into it: possibly lost
 *   keep_chain      1500 bytes reachable from a global, and 1600 bytes
 *                   reachable only from that block: both reachable
 *   lose_cycle      two blocks of 1700 pointing at each other, nothing
 *                   else at them: 1 definitely (1700) + 1 indirectly (1700)
 *   keep_array      new[]-like: 8 bytes of count then 4 elements of 24;
 *                   a global points 8 bytes in: reachable
 *
 * Every block's own pointers are wiped from the stack and registers as
 * well as the compiler lets a C program: each is made in a function of its
 * own that returns nothing. Valid C and C++: the Makefile builds it with
 * gcc -O0 and -O2, clang -O2 and g++ -O2.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NI __attribute__((noinline))

void *g_keep;
char *g_interior;
void **g_chain;
char *g_array;
static volatile int thread_ready;

struct node {
	struct node *next;
	char pad[128 - sizeof(struct node *)];
};

NI static void keep_global(void)
{
	g_keep = malloc(1000);
	memset(g_keep, 1, 1000);
}

NI static void lose_block(void)
{
	char *p = (char *)malloc(1100);
	memset(p, 2, 1100);
	__asm__ volatile("" : : "r"(p) : "memory");
}

NI static void lose_list(void)
{
	struct node *head = (struct node *)malloc(1200), *prev = head;

	memset(head, 0, 1200);
	for (int i = 0; i < 9; i++) {
		struct node *n = (struct node *)malloc(sizeof(*n));
		memset(n, 0, sizeof(*n));
		prev->next = n;
		prev = n;
	}
	__asm__ volatile("" : : "r"(head) : "memory");
}

NI static void keep_interior(void)
{
	char *p = (char *)malloc(1400);
	memset(p, 3, 1400);
	g_interior = p + 100;
}

NI static void keep_chain(void)
{
	void **a = (void **)malloc(1500);
	memset(a, 0, 1500);
	a[3] = malloc(1600);
	memset(a[3], 0, 1600);
	g_chain = a;
}

NI static void lose_cycle(void)
{
	void **a = (void **)malloc(1700), **b = (void **)malloc(1700);

	memset(a, 0, 1700);
	memset(b, 0, 1700);
	a[5] = b;
	b[7] = a;
	__asm__ volatile("" : : "r"(a), "r"(b) : "memory");
}

NI static void keep_array(void)
{
	uint64_t *p = (uint64_t *)malloc(8 + 4 * 24);
	memset(p, 0, 8 + 4 * 24);
	p[0] = 4;
	g_array = (char *)p + 8;
}

/* The thread holds its block in a local it keeps using. */
NI static void *keep_in_thread(void *arg)
{
	volatile char *p = (volatile char *)malloc(1300);

	(void)arg;
	memset((char *)p, 4, 1300);
	thread_ready = 1;
	for (;;) {
		p[0]++;
		usleep(1000);
	}
	return NULL;
}

NI static void wipe_stack(void)
{
	volatile char junk[16384];
	memset((char *)junk, 0, sizeof(junk));
}

int main(void)
{
	pthread_t t;

	keep_global();
	lose_block();
	lose_list();
	keep_interior();
	keep_chain();
	lose_cycle();
	keep_array();
	if (pthread_create(&t, NULL, keep_in_thread, NULL))
		return 1;
	while (!thread_ready)
		usleep(1000);
	wipe_stack();
	printf("leak_classes done\n");
	fflush(stdout);
	exit(0);
}
