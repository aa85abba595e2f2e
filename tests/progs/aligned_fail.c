/*
 * aligned_fail: every aligned entry point made to fail (bad alignment,
 * a size that cannot fit, one the system cannot map), and once to
 * succeed, each after setting errno to 1234; prints the result and errno
 * after each call. glibc's answers are the reference: the output must be
 * the same under the profiler.
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static void pm(const char *what, size_t align, size_t n)
{
	void *p = NULL;
	int r;

	errno = 1234;
	r = posix_memalign(&p, align, n);
	printf("posix_memalign(%s): ret %d errno %d\n", what, r, errno);
	if (!r)
		free(p);
}

static void ptr(const char *what, void *p)
{
	printf("%s: %s errno %d\n", what, p ? "ok" : "NULL", errno);
	free(p);
}

#define TRY(what, call)                                                                                                \
	do {                                                                                                           \
		errno = 1234;                                                                                          \
		void *p_ = (call);                                                                                     \
		ptr(what, p_);                                                                                         \
	} while (0)

/* Out of the compiler's sight: it warns about sizes it can see. */
static volatile size_t v_huge = SIZE_MAX / 2, v_big = (size_t)1 << 46, v_max = SIZE_MAX;

int main(void)
{
	const size_t huge = v_huge, big = v_big, max = v_max;

	pm("64, 100", 64, 100);
	pm("4096, 4096", 4096, 4096);
	pm("3, 10", 3, 10);
	pm("0, 10", 0, 10);
	pm("24, 10", 24, 10);
	pm("2^63, 10", (size_t)1 << 63, 10);
	pm("16, SIZE_MAX/2", 16, huge);
	pm("32, SIZE_MAX/2", 32, huge);
	pm("64, SIZE_MAX/2", 64, huge);
	pm("4096, SIZE_MAX - 100", 4096, max - 100);
	pm("4096, 2^46", 4096, big);
	pm("8, SIZE_MAX", 8, max);

	TRY("aligned_alloc(64, 100)", aligned_alloc(64, 100));
	TRY("aligned_alloc(64, SIZE_MAX/2)", aligned_alloc(64, huge));
	TRY("aligned_alloc(3, SIZE_MAX/2)", aligned_alloc(3, huge));
	TRY("aligned_alloc(2^63 + 1, 10)", aligned_alloc(((size_t)1 << 63) + 1, 10));
	TRY("aligned_alloc(4096, 2^46)", aligned_alloc(4096, big));
	TRY("memalign(32, SIZE_MAX/2)", memalign(32, huge));
	TRY("memalign(48, SIZE_MAX - 40)", memalign(48, max - 40));
	TRY("memalign(2^63, 10)", memalign((size_t)1 << 63, 10));
	TRY("memalign(SIZE_MAX, 10)", memalign(max, 10));
	TRY("memalign(65536, 2^46)", memalign(65536, big));
	TRY("memalign(8, SIZE_MAX/2)", memalign(8, huge));
	TRY("valloc(SIZE_MAX/2)", valloc(huge));
	TRY("valloc(2^46)", valloc(big));
	TRY("pvalloc(SIZE_MAX - 10)", pvalloc(max - 10));
	TRY("pvalloc(2^46)", pvalloc(big));
	return 0;
}
