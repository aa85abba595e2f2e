/*
 * fi_longjmp (built with -finstrument-functions): run() does, 1000 times,
 * setjmp then a() -> b() -> c(), and c() longjmps back to run(): a, b and
 * c never return. Then run() calls after() 10 times.
 *
 *   a, b, c   calls 1000 each, recursive 0, unwound 1000 each (closed
 *             without their exit hook): 3000 unwound frames
 *   after     calls 10, called by run only (no drift onto a dead frame)
 *   tree      run -> a -> b -> c (1000 calls per node), run -> after (10)
 *   unmatched exits 0
 */
#include <setjmp.h>

static jmp_buf env;

void c(void)
{
	longjmp(env, 1);
}

void b(void)
{
	c();
}

void a(void)
{
	b();
}

void after(void)
{
}

void run(void)
{
	volatile int i;

	for (i = 0; i < 1000; i++)
		if (setjmp(env) == 0)
			a();
	for (i = 0; i < 10; i++)
		after();
}

int main(void)
{
	run();
	return 0;
}
