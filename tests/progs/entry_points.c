/*
 * entry_points: every allocator entry point once, with known sizes, plus the
 * edge cases. Checks alignment, zeroing, malloc_usable_size and errno itself
 * and exits 1 (with a line on stderr) when the allocator misbehaves under
 * the profiler; exits 0 otherwise. No stdio, so every figure is exact.
 *
 *   site (marker)        call                          bytes  freed later
 *   @ep:malloc           malloc(100)                   100    realloc(p, 0)
 *   @ep:calloc           calloc(10, 30)                300    yes
 *   @ep:realloc_null     realloc(NULL, 50)             50     by @ep:realloc
 *   @ep:reallocarray     reallocarray(NULL, 20, 10)    200    yes
 *   @ep:realloc          realloc(p50, 500)             500    yes
 *   @ep:posix_memalign   posix_memalign(&p, 64, 640)   640    yes
 *   @ep:aligned_alloc    aligned_alloc(4096, 8192)     8192   yes
 *   @ep:memalign         memalign(256, 300)            300    yes
 *   @ep:valloc           valloc(1000)                  1000   yes
 *   @ep:pvalloc          pvalloc(1000) (not rounded)   1000   no: live
 *   @ep:malloc0          malloc(0)                     0      at once
 *   failures: calloc(SIZE_MAX / 2, 4), reallocarray(NULL, SIZE_MAX / 2, 4)
 *   no-ops:   free(NULL)
 *
 *   allocations            11
 *   frees                  10      (realloc move 1, realloc(p, 0) 1, free 8)
 *   bytes_allocated        12282
 *   peak_bytes             12232   (everything but the 50-byte block)
 *   live_blocks            1
 *   live_bytes             1000
 *   temporary_allocations  1       (malloc(0), freed at once)
 *   failed_allocations     2
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void fail(const char *what)
{
	write(2, "entry_points: ", 14);
	write(2, what, strlen(what));
	write(2, "\n", 1);
	exit(1);
}

static void check(void *p, size_t n, size_t align, const char *what)
{
	if (!p)
		fail(what);
	if (align && (uintptr_t)p % align)
		fail(what);
	if (malloc_usable_size(p) < n)
		fail(what);
}

int main(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	/* volatile: keeps gcc from rejecting the overflowing products at compile time */
	volatile size_t huge = SIZE_MAX / 2;
	void *p1, *p2, *p3, *p4, *p5, *p6, *p7, *p8, *p9, *p10, *q;
	int rc;

	p1 = malloc(100); /* @ep:malloc */
	check(p1, 100, 16, "malloc(100)");
	p2 = calloc(10, 30); /* @ep:calloc */
	check(p2, 300, 16, "calloc(10, 30)");
	for (size_t i = 0; i < 300; i++)
		if (((unsigned char *)p2)[i])
			fail("calloc: memory not zeroed");
	p3 = realloc(NULL, 50); /* @ep:realloc_null */
	check(p3, 50, 16, "realloc(NULL, 50)");
	memset(p3, 0x5a, 50);
	p4 = reallocarray(NULL, 20, 10); /* @ep:reallocarray */
	check(p4, 200, 16, "reallocarray(NULL, 20, 10)");
	p3 = realloc(p3, 500); /* @ep:realloc */
	check(p3, 500, 16, "realloc(p, 500)");
	if (((unsigned char *)p3)[49] != 0x5a)
		fail("realloc: contents not preserved");
	p5 = NULL;
	rc = posix_memalign(&p5, 64, 640); /* @ep:posix_memalign */
	if (rc != 0)
		fail("posix_memalign returned non-zero");
	check(p5, 640, 64, "posix_memalign(64, 640)");
	p6 = aligned_alloc(4096, 8192); /* @ep:aligned_alloc */
	check(p6, 8192, 4096, "aligned_alloc(4096, 8192)");
	p7 = memalign(256, 300); /* @ep:memalign */
	check(p7, 300, 256, "memalign(256, 300)");
	p8 = valloc(1000); /* @ep:valloc */
	check(p8, 1000, page, "valloc(1000)");
	p9 = pvalloc(1000); /* @ep:pvalloc */
	check(p9, page, page, "pvalloc(1000)");

	errno = 0;
	q = calloc(huge, 4);
	if (q || errno != ENOMEM)
		fail("calloc overflow did not fail with ENOMEM");
	errno = 0;
	q = reallocarray(NULL, huge, 4);
	if (q || errno != ENOMEM)
		fail("reallocarray overflow did not fail with ENOMEM");
	free(NULL);

	p10 = malloc(0); /* @ep:malloc0 */
	if (!p10)
		fail("malloc(0) returned NULL");
	free(p10);

	q = realloc(p1, 0);
	if (q)
		fail("realloc(p, 0) did not return NULL");

	free(p2);
	free(p3);
	free(p4);
	free(p5);
	free(p6);
	free(p7);
	free(p8);
	return 0;
}
