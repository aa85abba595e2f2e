/*
 * ctl_names: a thread named with a newline and an escape sequence
 * ("t\n\x1b[31mred") makes 3 allocations of 100 bytes and frees them; the
 * main thread makes one of 10. argv[1] (given by the test) holds control
 * bytes too. Nothing is printed: only the report can show these names.
 */
#include <pthread.h>
#include <stdlib.h>

static void *worker(void *arg)
{
	void *p[3];

	(void)arg;
	pthread_setname_np(pthread_self(), "t\n\x1b[31mred");
	for (int i = 0; i < 3; i++)
		p[i] = malloc(100);
	for (int i = 0; i < 3; i++)
		free(p[i]);
	return NULL;
}

int main(void)
{
	pthread_t th;
	void *volatile q = malloc(10);

	pthread_create(&th, NULL, worker, NULL);
	pthread_join(th, NULL);
	free(q);
	return 0;
}
