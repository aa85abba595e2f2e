/*
 * Allocation stacks of the shapes a stack walker meets in a user's build
 * (tests/test_e2e_unwind.c builds it at -O0, -O2 and with clang): deep and
 * shallow recursion, alloca (a frame-pointer CFA at -O2), a 64 KiB frame,
 * tail calls, libc's qsort calling back, a longjmp out of deep frames,
 * one function reached from two callers with frames of one size (the same
 * stack addresses, different return addresses), threads, and a signal
 * handler that allocates (its frame is one for libunwind).
 *
 * Prints "handler allocations N": the walks through a signal frame.
 */
#include <alloca.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 64

struct state {
	void *slot[SLOTS];
	unsigned seed;
};

static unsigned rnd(struct state *s)
{
	s->seed = s->seed * 1103515245u + 12345u;
	return s->seed >> 16;
}

/* Keep a block for a while, free the one it replaces. */
__attribute__((noinline)) static void keep(struct state *s, void *p)
{
	unsigned i = rnd(s) % SLOTS;

	free(s->slot[i]);
	s->slot[i] = p;
}

__attribute__((noinline)) static void *tail_alloc(size_t n)
{
	return malloc(n); /* a sibling call at -O2: this frame is gone */
}

__attribute__((noinline)) static int recurse(struct state *s, int d, size_t n)
{
	int r;

	if (d == 0) {
		keep(s, tail_alloc(n));
		return 1;
	}
	r = recurse(s, d - 1, n + 1);
	/* On the way back: a walk that starts a few frames above the last
	 * one and shares the rest of its stack. */
	if (d % 8 == 3)
		keep(s, malloc(n));
	return r + (d & 1);
}

__attribute__((noinline)) static int with_alloca(struct state *s, int d, size_t n)
{
	char *buf = alloca(16 + n % 256);

	memset(buf, d, 16 + n % 256);
	if (d == 0) {
		keep(s, calloc(1, n));
		return buf[3];
	}
	return with_alloca(s, d - 1, n + 3) + buf[n % 16];
}

__attribute__((noinline)) static int big_frame(struct state *s, size_t n)
{
	volatile char big[65536];

	big[n % sizeof(big)] = (char)n;
	keep(s, malloc(n + 8));
	return big[n % sizeof(big)];
}

/* Many values live across the call: every callee-saved register in use. */
__attribute__((noinline)) static unsigned pressure(struct state *s, unsigned a)
{
	unsigned b = a * 3, c = a ^ 0x55, d = a + 7, e = a * a, f = a >> 2, g = ~a;
	void *p = realloc(NULL, 24 + a % 100);

	keep(s, p);
	return a + b + c + d + e + f + g + b * c + d * e + f * g;
}

static __thread struct state *cmp_state;

static int cmp_alloc(const void *x, const void *y)
{
	int a = *(const int *)x, b = *(const int *)y;

	if ((a ^ b) % 7 == 0)
		keep(cmp_state, malloc(32 + (unsigned)a % 64));
	return (a > b) - (a < b);
}

__attribute__((noinline)) static void sort_calls_back(struct state *s)
{
	int v[96];

	for (int i = 0; i < 96; i++)
		v[i] = (int)(rnd(s) % 1000);
	cmp_state = s;
	qsort(v, 96, sizeof(v[0]), cmp_alloc);
}

/* Two callers with frames of one size call the same function: its frame
 * lands at one address, only the return address tells them apart. */
__attribute__((noinline)) static void shared_callee(struct state *s, size_t n)
{
	keep(s, malloc(n));
}

__attribute__((noinline)) static void caller_a(struct state *s, size_t n)
{
	volatile char pad[64];

	pad[0] = 1;
	shared_callee(s, n + pad[0]);
}

__attribute__((noinline)) static void caller_b(struct state *s, size_t n)
{
	volatile char pad[64];

	pad[0] = 2;
	shared_callee(s, n + pad[0]);
}

static __thread jmp_buf escape;

__attribute__((noinline)) static void dive(struct state *s, int d)
{
	if (d < 0)
		return;
	if (d == 0) {
		keep(s, malloc(40));
		longjmp(escape, 1);
	}
	dive(s, d - 1);
	keep(s, malloc(8)); /* never reached */
}

__attribute__((noinline)) static void dive_and_escape(struct state *s, int d)
{
	if (!setjmp(escape))
		dive(s, d);
}

static volatile sig_atomic_t handler_allocs;
static struct state sig_state = { .seed = 99 };

static void on_usr1(int sig)
{
	(void)sig;
	/* Raised synchronously by raise() below, never inside malloc. */
	keep(&sig_state, malloc(48));
	handler_allocs++;
}

static void run(struct state *s, int rounds, int with_signals)
{
	for (int i = 0; i < rounds; i++) {
		unsigned r = rnd(s);

		recurse(s, (int)(r % 120), r % 200); /* past 64 frames: walks cut at the depth asked */
		with_alloca(s, (int)(r % 9), r % 300);
		big_frame(s, r % 1000);
		pressure(s, r);
		if (i % 16 == 0)
			sort_calls_back(s);
		if (r & 1)
			caller_a(s, r % 64);
		else
			caller_b(s, r % 64);
		if (i % 8 == 0)
			dive_and_escape(s, (int)(r % 20));
		if (with_signals && i % 32 == 0)
			raise(SIGUSR1);
	}
}

static void *thread_main(void *arg)
{
	struct state s = { .seed = (unsigned)(uintptr_t)arg };

	run(&s, 1500, 0);
	for (int i = 0; i < SLOTS; i++)
		free(s.slot[i]);
	return NULL;
}

int main(void)
{
	struct state s = { .seed = 7 };
	pthread_t t[2];

	signal(SIGUSR1, on_usr1);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, thread_main, (void *)(uintptr_t)(i + 11));
	run(&s, 3000, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < SLOTS; i++) {
		free(s.slot[i]);
		free(sig_state.slot[i]);
	}
	printf("handler allocations %d\n", (int)handler_allocs);
	return 0;
}
