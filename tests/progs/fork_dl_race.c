/*
 * fork_dl_race: fork while other threads hold the dynamic loader's lock.
 * One thread loops dlopen/dlclose of argv[1] (each dlclose unmaps it),
 * another loops dl_iterate_phdr with a callback that dawdles, so that at
 * most forks one of them holds the loader's lock. The main thread forks
 * 200 children: the first 150 _exit at once (every eighth with status 3),
 * then, with the dlopen/dlclose thread stopped, 50 call exit(0). A fork
 * child inherits the lock as it was and nobody will ever release it
 * there: a child that touches it hangs. (exit() in a child forked while
 * another thread is inside dlclose hangs natively: glibc's __cxa_finalize
 * holds the lock of the atexit list, and exit takes it.)
 *
 * Prints "children 200, statuses ok" and exits 0 when every child ended
 * with the status it chose.
 */
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILDREN 200

static const char *lib;
static volatile int stop_open, stop_iter;
static volatile unsigned long sink;

static void *opener(void *arg)
{
	(void)arg;
	while (!stop_open) {
		void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);

		if (h)
			dlclose(h);
	}
	return NULL;
}

static int dawdle(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	(void)arg;
	for (int i = 0; i < 200; i++)
		sink += info->dlpi_addr + (unsigned long)i;
	return 0;
}

static void *iterator(void *arg)
{
	(void)arg;
	while (!stop_iter)
		dl_iterate_phdr(dawdle, NULL);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t1, t2;
	int bad = 0;

	if (argc < 2)
		return 2;
	lib = argv[1];
	if (pthread_create(&t1, NULL, opener, NULL) || pthread_create(&t2, NULL, iterator, NULL))
		return 1;
	for (int i = 0; i < CHILDREN; i++) {
		int want = i % 8 == 7 && i < 150 ? 3 : 0, st;
		pid_t pid;

		if (i == 150) {
			stop_open = 1;
			pthread_join(t1, NULL);
		}
		pid = fork();
		if (pid < 0)
			return 1;
		if (pid == 0) {
			if (i >= 150)
				exit(0);
			_exit(want);
		}
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != want)
			bad++;
	}
	stop_iter = 1;
	pthread_join(t2, NULL);
	printf("children %d, statuses %s\n", CHILDREN, bad ? "wrong" : "ok");
	return bad ? 1 : 0;
}
