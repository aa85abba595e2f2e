/*
 * fi_coro (built with -finstrument-functions): a coroutine made with
 * makecontext, resumed with swapcontext. main calls foo(), which makes
 * the coroutine (getcontext, a 64 KiB malloc'd stack, uc_link back to
 * foo's context) with entry co_fn(). co_fn loops 3 times: work_co()
 * (busy 2 ms), then swapcontext back to foo. foo resumes it 4 times,
 * calling work_main() (busy 5 ms) after each resume; the 4th resume lets
 * co_fn return, and uc_link brings foo back. foo times each resume from
 * just before its swapcontext to just after it returns: CO, the sum, is
 * all the time the coroutine ran.
 *
 *   main, foo  calls 1 each; foo total >= 3 x 2 ms + 4 x 5 ms
 *   co_fn      calls 1, work_co calls 3, work_main calls 4
 *   tree       main -> foo -> co_fn -> work_co (3 calls): the coroutine's
 *              frames hang from the function that resumed it first;
 *              main -> foo -> work_main (4 calls)
 *   co_fn      total >= 3 x 2 ms and <= CO: the time the coroutine was
 *              suspended (while work_main ran, 3 x 5 ms) is not its
 *   0 unmatched, 0 unwound.
 * Prints "co_ns=CO". Exits 1 if a context call fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <ucontext.h>

#include "fi_opt.h"

#define STACK (64 * 1024)
#define CO_NS 2000000
#define MAIN_NS 5000000

static ucontext_t foo_ctx, co_ctx;

void work_co(void)
{
	fi_spin_from(fi_now_ns(), CO_NS);
}

void work_main(void)
{
	fi_spin_from(fi_now_ns(), MAIN_NS);
}

void co_fn(void)
{
	for (int i = 0; i < 3; i++) {
		work_co();
		if (swapcontext(&co_ctx, &foo_ctx))
			exit(1);
	}
}

int foo(void)
{
	long long co = 0;
	void *stack = malloc(STACK);

	if (!stack || getcontext(&co_ctx))
		return 1;
	co_ctx.uc_stack.ss_sp = stack;
	co_ctx.uc_stack.ss_size = STACK;
	co_ctx.uc_link = &foo_ctx;
	makecontext(&co_ctx, co_fn, 0);
	for (int i = 0; i < 4; i++) {
		long long t0 = fi_now_ns();

		if (swapcontext(&foo_ctx, &co_ctx))
			return 1;
		co += fi_now_ns() - t0;
		work_main();
	}
	free(stack);
	printf("co_ns=%lld\n", co);
	return 0;
}

int main(void)
{
	return foo();
}
