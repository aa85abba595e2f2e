/*
 * fi_mutual (built with -finstrument-functions): mutual recursion through
 * three functions, all plainly inlinable (optimized, gcc and clang inline
 * them into each other some levels deep; the hooks stay). mod_a(n)
 * returns n == 0 ? 0 : mod_b(n - 1), mod_b likewise with 1 and mod_c,
 * mod_c with 2 and mod_a: mod_a(n) is n % 3. main calls
 * mod_a(29) 10 times, the 29 read from a volatile so that no clone is
 * made for it: each chain is 30 calls, 10 of each function.
 *
 *   mod_a, mod_b, mod_c   calls 100, recursive 90 each (in each chain,
 *                         the first call of a function is not recursive)
 *   tree    main -> mod_a -> mod_b -> mod_c -> mod_a ... 30 levels, 10
 *           calls on each node; deepest stack 31 (main + 30)
 *   0 unmatched, 0 unwound. Prints "sum=20" (mod_a(29) = 2, 10 times).
 */
#include <stdio.h>

int mod_b(int n);
int mod_c(int n);

int mod_a(int n)
{
	return n == 0 ? 0 : mod_b(n - 1);
}

int mod_b(int n)
{
	return n == 0 ? 1 : mod_c(n - 1);
}

int mod_c(int n)
{
	return n == 0 ? 2 : mod_a(n - 1);
}

int main(void)
{
	volatile int n = 29;
	int sum = 0;

	for (int i = 0; i < 10; i++)
		sum += mod_a(n);
	printf("sum=%d\n", sum);
	return 0;
}
