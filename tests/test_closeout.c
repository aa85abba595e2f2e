/*
 * closeout: the launcher closing the calls a dead process left open. The
 * agent's own data structures are driven through the hooks' inline paths
 * (as in test_func.c) in a real image; then the same calls either exit
 * normally or are left open and closed by closeout_process at the same
 * moment: every figure must come out the same, but for the count of
 * frames closed without their exit hook.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "closeout.h"
#include "func.h"
#include "image.h"
#include "session.h"

#define LO 0x100000ul
#define HI 0x900000ul
#define AT(depth) (0x800000ul - 0x100ul * (depth))

static struct session sess;

static void start(uint64_t hook, uint64_t inner)
{
	uint32_t idx;

	cr_assert(eq(int, session_create(&sess, 64u << 20), 0), "session image created");
	image_use(sess.base);
	memset(&agent, 0, sizeof(agent));
	agent.proc = image_register_process(getpid(), getppid(), -1, 0, &idx);
	cr_assert(ne(ptr, agent.proc, NULL), "process registered");
	memset(&ts, 0, sizeof(ts));
	ts.rec = image_ptr(image_alloc(sizeof(struct sf_thread)));
	cr_assert(ne(ptr, ts.rec, NULL), "thread record allocated");
	/* The launcher finds the thread through the process's list. */
	agent.proc->threads = image_off(ts.rec);
	ts.state = TS_READY;
	func_test_init(64, 0, hook, inner, LO, HI);
}

static void stop(void)
{
	func_test_reset_thread();
	session_close(&sess);
}

static void enter(uint64_t fn, uintptr_t csp, uint64_t t)
{
	func_test_now = t;
	func_enter(fn, csp);
}

static void leave(uint64_t fn, uintptr_t csp, uint64_t t)
{
	func_test_now = t;
	func_exit(fn, csp);
}

static struct sf_func *fe_of(uint64_t fn)
{
	for (struct sf_func *fe = image_ptr(ft.th->funcs); fe; fe = image_ptr(fe->next))
		if (fe->addr == fn)
			return fe;
	cr_assert(0, "no entry for %#lx", (unsigned long)fn);
	return NULL;
}

/* main -> a -> b, with b calling leaf twice and main recursing into a
 * once more inside a: a's inner call is recursive. */
static void calls(void)
{
	enter(0x10, AT(1), 0);
	func_note_alloc(&ts, 5);
	enter(0xa0, AT(2), 10);
	enter(0xa0, AT(3), 12);
	enter(0xb0, AT(4), 20);
	func_note_alloc(&ts, 100);
	enter(0xf0, AT(5), 30);
	leave(0xf0, AT(5), 35);
	enter(0xf0, AT(5), 40);
	func_note_alloc(&ts, 7);
	leave(0xf0, AT(5), 41);
}

static const uint64_t fns[] = {0x10, 0xa0, 0xb0, 0xf0};

/* One snapshot of the figures that must agree. */
struct fig {
	uint64_t calls, recursive, total, self, min, max, incl_allocs, incl_bytes, self_bytes;
	double sumsq;
	uint32_t nslow, hist_sum;
};

static void take(struct fig *out)
{
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		struct sf_func *fe = fe_of(fns[i]);
		uint32_t h = 0;

		for (unsigned b = 0; b < SF_FH_BUCKETS; b++)
			h += fe->hist[b];
		out[i] = (struct fig){fe->calls, fe->recursive, fe->total, fe->self, fe->min, fe->max, fe->incl_allocs,
				      fe->incl_bytes, fe->self_bytes, fe->sumsq, fe->nslow, h};
	}
}

static void same_as_exiting_at(uint64_t hook, uint64_t inner, uint64_t end)
{
	struct fig normal[4], closed[4];

	start(hook, inner);
	calls();
	leave(0xb0, AT(4), end);
	leave(0xa0, AT(3), end);
	leave(0xa0, AT(2), end);
	leave(0x10, AT(1), end);
	take(normal);
	cr_assert(eq(u64, ft.th->unwound, 0), "the normal run closes nothing");
	stop();

	start(hook, inner);
	calls();
	/* The process dies here with main, a, a, b open. */
	closeout_process(&sess, agent.proc, end);
	take(closed);
	cr_assert(eq(u64, ft.th->unwound, 4), "four frames closed at death");
	cr_assert(eq(u64, fe_of(0xa0)->unwound, 2), "both a frames");
	cr_assert(eq(u64, fe_of(0xf0)->unwound, 0), "leaf returned before");
	cr_assert(eq(u32, fe_of(0x10)->active, 0), "nothing active after");
	for (size_t i = 0; i < 4; i++) {
		cr_assert(eq(u64, closed[i].calls, normal[i].calls), "%#lx calls", (unsigned long)fns[i]);
		cr_assert(eq(u64, closed[i].recursive, normal[i].recursive), "%#lx recursive", (unsigned long)fns[i]);
		cr_assert(eq(u64, closed[i].total, normal[i].total), "%#lx total", (unsigned long)fns[i]);
		cr_assert(eq(u64, closed[i].self, normal[i].self), "%#lx self", (unsigned long)fns[i]);
		cr_assert(eq(u64, closed[i].min, normal[i].min), "%#lx min", (unsigned long)fns[i]);
		cr_assert(eq(u64, closed[i].max, normal[i].max), "%#lx max", (unsigned long)fns[i]);
		cr_assert(eq(dbl, closed[i].sumsq, normal[i].sumsq), "%#lx sumsq", (unsigned long)fns[i]);
		cr_assert(eq(u64, closed[i].incl_allocs, normal[i].incl_allocs), "%#lx allocations",
			  (unsigned long)fns[i]);
		cr_assert(eq(u64, closed[i].incl_bytes, normal[i].incl_bytes), "%#lx bytes", (unsigned long)fns[i]);
		cr_assert(eq(u32, closed[i].hist_sum, normal[i].hist_sum), "%#lx histogram", (unsigned long)fns[i]);
		cr_assert(eq(u32, closed[i].nslow, normal[i].nslow), "%#lx slowest calls", (unsigned long)fns[i]);
	}
	cr_assert(eq(u64, ((struct fframe *)image_ptr(ft.th->frames))[1].fn, 0), "the stack is empty after");
	stop();
}

Test(closeout, open_calls_close_as_if_they_exited_at_the_end)
{
	same_as_exiting_at(0, 0, 100);
	/* Known answers of the uncorrected run: b 20..100 = 80 with 6 in
	 * leaf; main 0..100; a's outermost 10..100. */
	start(0, 0);
	calls();
	closeout_process(&sess, agent.proc, 100);
	cr_assert(eq(u64, fe_of(0xb0)->total, 80), "b: 20..100");
	cr_assert(eq(u64, fe_of(0xb0)->self, 74), "b's self: 80 less leaf's 6");
	cr_assert(eq(u64, fe_of(0xa0)->total, 90), "a: outermost 10..100");
	cr_assert(eq(u64, fe_of(0xa0)->recursive, 1), "the inner a is recursive");
	cr_assert(eq(u64, fe_of(0x10)->total, 100), "main: 0..100");
	cr_assert(eq(u64, fe_of(0x10)->incl_bytes, 112), "main: every byte");
	cr_assert(eq(u64, fe_of(0xb0)->incl_bytes, 107), "b: its own and leaf's");
	stop();
}

Test(closeout, the_hook_correction_applies_to_closed_calls)
{
	same_as_exiting_at(3, 1, 1000);
}

Test(closeout, a_process_with_its_end_recorded_closes_at_that_end)
{
	start(0, 0);
	calls();
	agent.proc->end_ns = 60;
	closeout_process(&sess, agent.proc, 100);
	cr_assert(eq(u64, fe_of(0x10)->total, 60), "main closed at the recorded end");
	stop();
}

Test(closeout, a_torn_frame_is_skipped_and_the_rest_close)
{
	struct fframe *f;

	start(0, 0);
	calls();
	f = image_ptr(ft.th->frames);
	f[3].fe = (struct sf_func *)(uintptr_t)0x10; /* not in the image */
	closeout_process(&sess, agent.proc, 100);
	cr_assert(eq(u64, fe_of(0x10)->total, 100), "main closed");
	cr_assert(eq(u64, fe_of(0xb0)->total, 80), "b closed");
	cr_assert(eq(u64, ft.th->unwound, 3), "main, the outer a, b: the torn one is lost");
	stop();
}
