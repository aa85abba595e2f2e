/*
 * mmap_regions: three anonymous regions from three functions, one of them
 * unmapped again (tests/test_e2e_mmap.c):
 *
 *   map_small   1 region of 64 KiB    (16 pages), kept
 *   map_big     1 region of 3 MiB,    kept; its last 1 MiB unmapped later
 *               by trim_big (a partial unmap: 2 MiB stay live)
 *   map_gone    1 region of 256 KiB,  unmapped by main
 *
 * then grow_small moves map_small's region to 128 KiB with mremap (it
 * stays map_small's).
 * and one file mapping (/proc/self/exe), never counted. Totals: 3 maps,
 * 1 remap, 3473408 + 65536 = 3538944 bytes mapped in all (the growth
 * counts), peak 3473408 (before the unmaps), live at exit 128 KiB + 2 MiB
 * = 2228224 bytes in 2 regions; 1 unmap of a whole region and 1 partial
 * one. Prints "mmap_regions done".
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NI __attribute__((noinline))

static char *small, *big;

NI static char *map_small(void)
{
	char *p = mmap(NULL, 64 << 10, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED)
		memset(p, 1, 64 << 10);
	return p;
}

NI static char *map_big(void)
{
	char *p = mmap(NULL, 3 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); /* @site:big */
	if (p != MAP_FAILED)
		memset(p, 2, 3 << 20);
	return p;
}

NI static char *map_gone(void)
{
	char *p = mmap(NULL, 256 << 10, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED)
		memset(p, 3, 256 << 10);
	return p;
}

NI static char *grow_small(void)
{
	return mremap(small, 64 << 10, 128 << 10, MREMAP_MAYMOVE);
}

NI static int trim_big(void)
{
	return munmap(big + (2 << 20), 1 << 20);
}

int main(void)
{
	char *gone;
	int fd = open("/proc/self/exe", O_RDONLY);
	void *file = fd >= 0 ? mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;

	small = map_small();
	big = map_big();
	gone = map_gone();
	if (small == MAP_FAILED || big == MAP_FAILED || gone == MAP_FAILED || file == MAP_FAILED)
		return 1;
	if (munmap(gone, 256 << 10) || trim_big())
		return 2;
	small = grow_small();
	if (small == MAP_FAILED)
		return 3;
	printf("mmap_regions done\n");
	return 0;
}
