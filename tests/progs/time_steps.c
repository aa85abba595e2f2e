/*
 * The heap in known steps, each held 300 ms (30 reads at --interval=10ms):
 * 10 MiB (one block from ten_mib), then none, then 30 MiB (20 MiB and
 * 10 MiB blocks from thirty_mib), then 10 MiB (the 20 MiB block freed).
 * The program allocates nothing else (no stdio).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIB (1024 * 1024)

static void *ten_mib(void)
{
	void *p = malloc(10 * MIB);

	memset(p, 1, 10 * MIB);
	return p;
}

static void *thirty_mib(void **other)
{
	void *p = malloc(20 * MIB);

	*other = malloc(10 * MIB);
	memset(p, 2, 20 * MIB);
	memset(*other, 3, 10 * MIB);
	return p;
}

int main(void)
{
	void *a, *b, *c;

	a = ten_mib();
	usleep(300000);
	free(a);
	usleep(300000);
	b = thirty_mib(&c);
	usleep(300000);
	free(b);
	usleep(300000);
	free(c);
	return 0;
}
