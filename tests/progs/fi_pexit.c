/*
 * fi_pexit (built with -finstrument-functions): threads that exit without
 * returning. Each of 4 threads runs thread_main() -> outer() -> inner(),
 * and inner() calls pthread_exit(): the three frames never return. The
 * main thread then calls after() 5 times.
 *
 *   thread_main, outer, inner   calls 4 each, unwound 4 each (closed at
 *                               thread exit): 12 unwound frames
 *   after                       calls 5; unmatched exits 0
 * Exits 0, or 1 if a pthread call fails.
 */
#include <pthread.h>

void inner(void)
{
	pthread_exit(NULL);
}

void outer(void)
{
	inner();
}

void *thread_main(void *arg)
{
	(void)arg;
	outer();
	return NULL;
}

void after(void)
{
}

int main(void)
{
	pthread_t t[4];

	for (int i = 0; i < 4; i++)
		if (pthread_create(&t[i], NULL, thread_main, NULL))
			return 1;
	for (int i = 0; i < 4; i++)
		if (pthread_join(t[i], NULL))
			return 1;
	for (int i = 0; i < 5; i++)
		after();
	return 0;
}
