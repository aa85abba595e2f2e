/*
 * threads: 8 worker threads, each named "worker-N" (pthread_setname_np,
 * before its first allocation), each making 10000 allocations of
 * 16 + 16 * (i % 16) bytes from the line marked @site:worker. A worker keeps
 * a window of 8 blocks: block i is freed right after block i + 8 is
 * allocated, for i < 9990, so its last 10 blocks (i = 9990..9999, sizes
 * 112..256) stay live. No stdio.
 *
 *   per worker thread      allocations 10000, bytes_allocated 1360000,
 *                          frees 9990
 *   from @site:worker      allocations 80000, bytes 10880000, frees 79920,
 *                          live_blocks 80, live_bytes 14720, temporary 0
 *
 * glibc adds one allocation per new thread stack, made by the creating (main)
 * thread inside pthread_create: the thread's DTV, calloc'ed by
 * _dl_allocate_tls in ld.so. The threads use 256 KiB stacks so that glibc's
 * 40 MiB stack cache keeps every joined stack and its DTV (with the default
 * 8 MiB stacks it would free some, and their DTVs, at join). So the process
 * totals are the figures above plus 8 allocations of 16 * (DTV slots) bytes
 * each, all live, with frame 0 in ld-linux-x86-64.so.2.
 * Exits 0, or 1 if a pthread call fails.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NTHREADS 8
#define NALLOCS 10000
#define WINDOW 8
#define NLIVE 10

static void *blocks[NTHREADS][NALLOCS];

static void die(const char *what)
{
	write(2, "threads: ", 9);
	write(2, what, strlen(what));
	write(2, "\n", 1);
	exit(1);
}

static void *worker(void *arg)
{
	int id = (int)(long)arg;
	char name[] = "worker-0";
	void **b = blocks[id];

	name[7] = (char)('0' + id);
	if (pthread_setname_np(pthread_self(), name))
		die("pthread_setname_np failed");
	for (int i = 0; i < NALLOCS; i++) {
		b[i] = malloc(16 + 16 * (size_t)(i % 16)); /* @site:worker */
		if (i >= WINDOW && i - WINDOW < NALLOCS - NLIVE)
			free(b[i - WINDOW]);
	}
	return NULL;
}

int main(void)
{
	pthread_t t[NTHREADS];
	pthread_attr_t attr;

	if (pthread_attr_init(&attr) || pthread_attr_setstacksize(&attr, 256 * 1024))
		die("pthread_attr failed");
	for (long i = 0; i < NTHREADS; i++)
		if (pthread_create(&t[i], &attr, worker, (void *)i))
			die("pthread_create failed");
	for (int i = 0; i < NTHREADS; i++)
		if (pthread_join(t[i], NULL))
			die("pthread_join failed");
	pthread_attr_destroy(&attr);
	return 0;
}
