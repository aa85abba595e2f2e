/*
 * churn: 2000 short-lived threads, created sequentially in 40 waves of 50
 * (a wave is joined before the next starts). Each thread allocates 10, 20,
 * 30, 40 and 50 bytes from the line marked @site:churn, then frees them in
 * the same order. No stdio.
 *
 *   from @site:churn       allocations 10000, bytes 300000, frees 10000,
 *                          live 0, temporary 2000 (each thread's 50-byte
 *                          block: freed before the thread allocated again)
 *   per thread             allocations 5, bytes_allocated 150, frees 5
 *
 * Threads use 256 KiB stacks so that glibc's stack cache (40 MiB) keeps all
 * 50 stacks of a wave: only the first wave gets new stacks, so glibc adds
 * exactly 50 allocations (one DTV per new stack, calloc'ed by
 * _dl_allocate_tls in ld.so from the main thread, never freed) to the
 * process totals.
 * Exits 0, or 1 if a pthread call fails.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WAVES 40
#define WAVE 50
#define PER_THREAD 5

static void die(const char *what)
{
	write(2, "churn: ", 7);
	write(2, what, strlen(what));
	write(2, "\n", 1);
	exit(1);
}

static void *worker(void *arg)
{
	void *p[PER_THREAD];

	(void)arg;
	for (int i = 0; i < PER_THREAD; i++)
		p[i] = malloc(10 * (size_t)(i + 1)); /* @site:churn */
	for (int i = 0; i < PER_THREAD; i++)
		free(p[i]);
	return NULL;
}

int main(void)
{
	pthread_t t[WAVE];
	pthread_attr_t attr;

	if (pthread_attr_init(&attr) || pthread_attr_setstacksize(&attr, 256 * 1024))
		die("pthread_attr failed");
	for (int w = 0; w < WAVES; w++) {
		for (int i = 0; i < WAVE; i++)
			if (pthread_create(&t[i], &attr, worker, NULL))
				die("pthread_create failed");
		for (int i = 0; i < WAVE; i++)
			if (pthread_join(t[i], NULL))
				die("pthread_join failed");
	}
	pthread_attr_destroy(&attr);
	return 0;
}
