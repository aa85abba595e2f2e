/*
 * libearly.so, linked into early_threads: its constructor starts
 * EARLY_THREADS threads before main (and possibly before the agent's own
 * constructor); each makes EARLY_ALLOCS malloc(24)+free pairs at the line
 * marked @early:alloc. Expected: 4 x 1000 = 4000 allocations and 4000
 * frees there, exactly.
 */
#include <pthread.h>
#include <stdlib.h>

#define EARLY_THREADS 4
#define EARLY_ALLOCS 1000

static void *volatile sink;

static void *early_worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < EARLY_ALLOCS; i++) {
		void *p = malloc(24); /* @early:alloc */
		sink = p;
		free(p);
	}
	return NULL;
}

__attribute__((constructor)) static void early_start(void)
{
	pthread_t t[EARLY_THREADS];

	for (int i = 0; i < EARLY_THREADS; i++)
		pthread_create(&t[i], NULL, early_worker, NULL);
	for (int i = 0; i < EARLY_THREADS; i++)
		pthread_join(t[i], NULL);
}
