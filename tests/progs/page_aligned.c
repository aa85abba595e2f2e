/*
 * page_aligned [N]: N (default 100000) posix_memalign(4096, 4096) blocks,
 * each written once, kept. Prints the address space each block takes
 * (the stride between consecutive blocks, in KiB) and the memory each
 * costs (resident pages added, per block, rounded): glibc lays these out
 * 8 KiB apart (the block and the alignment gap in front of it), 2 pages
 * each; under the profiler a block must cost the same (a header in front
 * of an aligned block used to cost a page more). Ends with VmHWM (peak
 * RSS) for bench/. Exits 0.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long resident_pages(void)
{
	long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f || fscanf(f, "%ld %ld", &size, &res) != 2)
		res = -1;
	if (f)
		fclose(f);
	return res;
}

static long hwm_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmHWM:", 6))
			kib = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kib;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000, before, after;
	char **blocks = calloc((size_t)n, sizeof(*blocks));
	uintptr_t lo = UINTPTR_MAX, hi = 0;

	if (!blocks || n < 2)
		return 1;
	before = resident_pages();
	for (long i = 0; i < n; i++) {
		if (posix_memalign((void **)&blocks[i], 4096, 4096))
			return 1;
		blocks[i][0] = 1;
		if ((uintptr_t)blocks[i] < lo)
			lo = (uintptr_t)blocks[i];
		if ((uintptr_t)blocks[i] > hi)
			hi = (uintptr_t)blocks[i];
	}
	after = resident_pages();
	printf("stride %lu KiB\n", (unsigned long)((hi - lo) / (uintptr_t)(n - 1) + 512) / 1024);
	printf("pages per block %ld\n", (after - before + n / 2) / n);
	fprintf(stderr, "VmHWM %ld kB\n", hwm_kib());
	return 0;
}
