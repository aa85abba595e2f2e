/*
 * Suppressions: my_leak loses 100 bytes, other_leak 200 (definitely
 * lost: nothing points to them); printf gives stdout its buffer (still
 * reachable; with --leak-check=off, a built-in suppression).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) void my_leak(void)
{
	void *p = memset(malloc(100), 1, 100);
	__asm__ volatile("" : : "r"(p) : "memory");
}

__attribute__((noinline)) void other_leak(void)
{
	void *p = memset(malloc(200), 2, 200);
	__asm__ volatile("" : : "r"(p) : "memory");
}

int main(void)
{
	printf("hello\n");
	my_leak();
	other_leak();
	return 0;
}
