/*
 * fd_list: allocates (so stacks are taken) and burns ~50 ms of CPU (so
 * the sampler runs), then prints the numbers of its open descriptors,
 * ascending, one line. The same line must come out with and without
 * ptrace-run: the profiler may not leave a descriptor in the program.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void *volatile sink;

static void burn(void)
{
	struct timespec t0, t;
	volatile unsigned long x = 0;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
	do {
		for (int i = 0; i < 100000; i++)
			x += (unsigned long)i * 7;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 50000000L);
}

int main(void)
{
	int fds[64], n = 0, dirfd_no;
	DIR *d;
	struct dirent *e;

	for (int i = 0; i < 1000; i++) {
		sink = malloc(32 + i % 100);
		free(sink);
	}
	burn();
	d = opendir("/proc/self/fd");
	if (!d)
		return 2;
	dirfd_no = dirfd(d);
	while ((e = readdir(d)) && n < 64)
		if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd_no)
			fds[n++] = atoi(e->d_name);
	closedir(d);
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
			int t = fds[j];
			fds[j] = fds[j - 1];
			fds[j - 1] = t;
		}
	for (int i = 0; i < n; i++)
		printf("%s%d", i ? " " : "", fds[i]);
	printf("\n");
	return 0;
}
