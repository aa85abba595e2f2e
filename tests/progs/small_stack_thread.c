/*
 * small_stack_thread: a thread with a 16 KiB stack (glibc's minimum is
 * 16 KiB) that allocates. The agent's thread-local storage comes out of
 * that stack: it must stay small. Prints "ok\n".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static void *volatile sink;

static void *small(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100; i++) {
		sink = malloc(64);
		free(sink);
	}
	return NULL;
}

int main(void)
{
	pthread_attr_t a;
	pthread_t t;
	int err;

	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 16384);
	err = pthread_create(&t, &a, small, NULL);
	if (err) {
		printf("pthread_create: %d\n", err);
		return 1;
	}
	pthread_join(t, NULL);
	printf("ok\n");
	return 0;
}
