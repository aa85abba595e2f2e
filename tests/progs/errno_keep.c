/*
 * errno_keep: free() must leave errno alone, also in a thread whose first
 * call into the allocator is that free (the agent sets the thread up
 * then, with system calls). Prints "77 55\n" and exits 0.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static void *fresh_thread(void *block)
{
	errno = 77;
	free(block);
	return (void *)(long)errno;
}

int main(void)
{
	void *p = malloc(10), *r;
	pthread_t th;

	pthread_create(&th, NULL, fresh_thread, p);
	pthread_join(th, &r);
	errno = 55;
	free(malloc(3));
	printf("%ld %d\n", (long)r, errno);
	return 0;
}
