/*
 * leak_edges: the leak check's harder places for a pointer or a block,
 * each from a function of its own, sizes telling them apart
 * (tests/test_e2e_leakcheck.c):
 *
 *   keep_aligned     aligned_alloc(64, 640) from a global, holding the only
 *                    pointer to 1800 bytes: both reachable
 *   lose_aligned     aligned_alloc(128, 1900), nothing points to it:
 *                    definitely lost
 *   keep_aligned_up  2300 bytes, a global holding a pointer rounded up to
 *                    64 inside it, the block's start stored just below
 *                    that (the usual aligned-allocation wrapper): reachable
 *   keep_in_mmap     a page the program maps right after a large block
 *                    (300 KiB, which glibc maps: reachable from a global),
 *                    so that the kernel merges the two into one mapping;
 *                    the page holds the only pointer to 2000 bytes: reachable
 *                    (the output says "merged" when they are one mapping)
 *   keep_in_shared   a MAP_SHARED anonymous page holds the only pointer to
 *                    2100 bytes: reachable
 *   keep_on_heap_stack  a thread running at exit on a stack of 64 KiB the
 *                    program malloc'd (a global points to it), holding the
 *                    only pointer to 2200 bytes in a local: all reachable
 *
 * A thread made and joined before leaves its control block in glibc's
 * cache of stacks, pointing 16 bytes into its vector of dynamic TLS
 * (pthread_create's block): reachable, not "possibly lost".
 *
 * A second thread sleeps in nanosleep through the exit: a stop for the
 * check that ended its sleep early (EINTR: nanosleep is never restarted)
 * would show as a line.
 *
 * With "pthread_exit", main ends by pthread_exit (its thread stays as a
 * zombie until the process ends) and the heap-stack thread calls exit.
 * With "own-signal SIG", the program takes the real-time signal SIG (the
 * sampling signal) for a handler of its own that says each one it gets:
 * none, as without ptrace-run.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NI __attribute__((noinline))

void *g_aligned;
void *g_aligned_up;
void *g_big;
void *g_stack;
static void **g_page; /* both mappings, kept: they are roots, not blocks */
static void **g_shared;
static volatile int thread_ready, use_pthread_exit;
static volatile sig_atomic_t got_signals;
static const char *merged = "apart";

/* Does one line of /proc/self/maps hold both a and b? */
NI static int one_mapping(const void *a, const void *b)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long lo, hi;
	char line[512];
	int both = 0;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && (uintptr_t)a >= lo && (uintptr_t)a < hi)
			both = (uintptr_t)b >= lo && (uintptr_t)b < hi;
	if (f)
		fclose(f);
	return both;
}

NI static void keep_aligned(void)
{
	void **a = (void **)aligned_alloc(64, 640);

	memset(a, 0, 640);
	a[5] = malloc(1800);
	memset(a[5], 5, 1800);
	g_aligned = a;
}

NI static void lose_aligned(void)
{
	char *p = (char *)aligned_alloc(128, 1900);

	memset(p, 6, 1900);
	__asm__ volatile("" : : "r"(p) : "memory");
}

NI static void keep_aligned_up(void)
{
	char *raw = (char *)malloc(2300);
	uintptr_t up = ((uintptr_t)raw + 8 + 63) & ~(uintptr_t)63;

	memset(raw, 0, 2300);
	((void **)up)[-1] = raw;
	g_aligned_up = (void *)up;
}

NI static void keep_in_mmap(void)
{
	g_big = malloc(300 * 1024);
	memset(g_big, 0, 300 * 1024);
	/* Right below glibc's mapping of the block (it starts at the page of
	 * the block's chunk header), where the kernel merges the two. */
	uintptr_t below = (((uintptr_t)g_big - 16) & ~(uintptr_t)4095) - 4096;
	g_page = (void **)mmap((void *)below, 4096, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (g_page == MAP_FAILED)
		g_page = (void **)mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g_page == MAP_FAILED)
		exit(3);
	g_page[9] = malloc(2000);
	memset(g_page[9], 7, 2000);
	if (one_mapping(g_page, g_big))
		merged = "merged";
}

NI static void keep_in_shared(void)
{
	void **s = (void **)mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (s == MAP_FAILED)
		exit(3);
	s[3] = malloc(2100);
	memset(s[3], 8, 2100);
	g_shared = s;
}

/* The thread holds its block in a local it keeps using. */
NI static void *keep_on_heap_stack(void *arg)
{
	volatile char *p = (volatile char *)malloc(2200);

	(void)arg;
	memset((char *)p, 9, 2200);
	thread_ready = 1;
	for (int i = 0;; i++) {
		p[0]++;
		usleep(1000);
		if (use_pthread_exit && i == 20) {
			printf("leak_edges done, %s, %d signals\n", merged, (int)got_signals);
			fflush(stdout);
			exit(0);
		}
	}
	return NULL;
}

/* Says so at once: a signal of ptrace-run's landing here at exit, after
 * the count is printed, must show. */
NI static void *joined(void *arg)
{
	return arg;
}

NI static void *sleeper(void *arg)
{
	struct timespec t = {30, 0};

	(void)arg;
	nanosleep(&t, NULL);
	if (write(1, "sleep ended early\n", 18) < 0)
		return NULL;
	return NULL;
}

static void count_signal(int sig)
{
	(void)sig;
	got_signals++;
	if (write(1, "a signal\n", 9) < 0)
		got_signals++;
}

NI static void wipe_stack(void)
{
	volatile char junk[16384];
	memset((char *)junk, 0, sizeof(junk));
}

int main(int argc, char **argv)
{
	pthread_attr_t attr;
	pthread_t t, s, j;

	if (argc > 2 && !strcmp(argv[1], "own-signal")) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = count_signal;
		sigaction(atoi(argv[2]), &sa, NULL);
	}
	use_pthread_exit = argc > 1 && !strcmp(argv[1], "pthread_exit");
	keep_aligned();
	lose_aligned();
	keep_aligned_up();
	keep_in_mmap();
	keep_in_shared();
	g_stack = malloc(65536);
	if (!g_stack || pthread_attr_init(&attr) || pthread_attr_setstack(&attr, g_stack, 65536) ||
	    pthread_create(&t, &attr, keep_on_heap_stack, NULL))
		return 1;
	while (!thread_ready)
		usleep(1000);
	if (pthread_create(&s, NULL, sleeper, NULL))
		return 1;
	if (pthread_create(&j, NULL, joined, NULL) || pthread_join(j, NULL))
		return 1;
	usleep(5000);
	wipe_stack();
	if (use_pthread_exit)
		pthread_exit(NULL);
	printf("leak_edges done, %s, %d signals\n", merged, (int)got_signals);
	fflush(stdout);
	exit(0);
}
