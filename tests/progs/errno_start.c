/*
 * errno_start: C requires errno to be 0 when main starts; a new thread
 * starts with 0 too. Prints "0 0\n". The agent sets itself up in between
 * (system calls) and must leave no trace in errno.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

static void *thread_main(void *arg)
{
	(void)arg;
	return (void *)(long)errno;
}

int main(void)
{
	int at_start = errno;
	void *r;
	pthread_t t;

	pthread_create(&t, NULL, thread_main, NULL);
	pthread_join(t, &r);
	printf("%d %ld\n", at_start, (long)r);
	return 0;
}
