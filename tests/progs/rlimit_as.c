/*
 * rlimit_as MIB: lowers its own RLIMIT_AS to MIB MiB, then allocates
 * 10 MB and starts a thread (which allocates too), as a program that
 * caps itself would. Prints what succeeded; exits 0. Natively both work
 * at 64 and 512 MiB, and so they must under the profiler: the session
 * image may only take the address space it uses.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static void *worker(void *arg)
{
	char *p = malloc(1000);

	(void)arg;
	if (p)
		memset(p, 1, 1000);
	free(p);
	return p ? (void *)1 : NULL;
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	pthread_t th;
	void *ret = NULL;
	char *big;
	int err;

	if (argc != 2)
		return 2;
	rl.rlim_cur = rl.rlim_max = strtoull(argv[1], NULL, 10) << 20;
	if (setrlimit(RLIMIT_AS, &rl)) {
		perror("setrlimit");
		return 1;
	}
	big = malloc(10 * 1000 * 1000);
	printf("malloc(10 MB): %s\n", big ? "ok" : strerror(errno));
	if (big)
		memset(big, 1, 10 * 1000 * 1000);
	err = pthread_create(&th, NULL, worker, NULL);
	printf("pthread_create: %s\n", err ? strerror(err) : "ok");
	if (!err) {
		pthread_join(th, &ret);
		printf("thread malloc: %s\n", ret ? "ok" : "failed");
	}
	free(big);
	return 0;
}
