/*
 * fi_fib (built with -finstrument-functions): main calls loop() once,
 * which calls leaf() 100000 times, then fib(20) once. Exact figures:
 *
 *   main   calls 1
 *   loop   calls 1,      called by main, calls leaf 100000 times
 *   leaf   calls 100000, recursive 0
 *   (a function's line is that of its entry address: the opening brace)
 *   fib    calls 21891 (= 2 F(21) - 1), recursive 21890 (all but the
 *          outermost), called by main once and by fib 21890 times;
 *          the deepest stack is main + 20 fib frames = 21
 *
 * Prints "6765" (fib(20)). Nothing allocates.
 */
#include <unistd.h>

static volatile int sink;

int fib(int n)
{ /* @fn:fib */
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

void leaf(int i)
{ /* @fn:leaf */
	sink += i;
}

void loop(int n)
{
	for (int i = 0; i < n; i++)
		leaf(i);
}

int main(void)
{
	char buf[16];
	int v, k = 1;

	loop(100000);
	v = fib(20);
	buf[sizeof(buf) - 1] = '\n';
	do
		buf[sizeof(buf) - 1 - k++] = (char)('0' + v % 10);
	while ((v /= 10));
	return write(1, buf + sizeof(buf) - k, (size_t)k) == k ? 0 : 1;
}
