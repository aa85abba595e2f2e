/*
 * Suppressions: my_leak leaks 100 bytes, other_leak 200; printf gives
 * stdout its buffer (a built-in suppression).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *keep[2];

__attribute__((noinline)) void my_leak(void)
{
	keep[0] = memset(malloc(100), 1, 100);
}

__attribute__((noinline)) void other_leak(void)
{
	keep[1] = memset(malloc(200), 2, 200);
}

int main(void)
{
	printf("hello\n");
	my_leak();
	other_leak();
	return 0;
}
