/*
 * Function timing, the agent's data structures on their own (agent/func.*)
 * in a real image, driven through the hooks' inline paths with a clock and
 * stack addresses the tests choose: recursion accounting, the call tree,
 * resynchronisation after longjmp, the depth cap, allocation attribution,
 * the hook-cost correction, slowest calls, the histogram's error bound;
 * and the launcher's side: percentiles, globs and the new options.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "func.h"
#include "image.h"
#include "options.h"
#include "report.h"
#include "session.h"

/* The thread's stack in these tests: frame addresses go down from TOP. */
#define LO 0x100000ul
#define HI 0x900000ul
#define TOP 0x800000ul
#define AT(depth) (TOP - 0x100ul * (depth))

static struct session sess;

static void start(uint32_t max_depth, uint64_t min_ticks, uint64_t hook, uint64_t inner)
{
	uint32_t idx;

	cr_assert(eq(int, session_create(&sess, 64u << 20), 0), "session image created");
	image_use(sess.base);
	memset(&agent, 0, sizeof(agent));
	agent.set.sample_rate = 1.0;
	agent.proc = image_register_process(getpid(), getppid(), -1, 0, &idx);
	cr_assert(ne(ptr, agent.proc, NULL), "process registered");
	memset(&ts, 0, sizeof(ts));
	ts.rec = image_ptr(image_alloc(sizeof(struct sf_thread)));
	cr_assert(ne(ptr, ts.rec, NULL), "thread record allocated");
	ts.state = TS_READY;
	func_test_init(max_depth, min_ticks, hook, inner, LO, HI);
}

static void setup(void)
{
	start(64, 0, 0, 0);
}

static void teardown(void)
{
	func_test_reset_thread();
	session_close(&sess);
}

TestSuite(func, .init = setup, .fini = teardown);

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
	cr_assert(ne(ptr, ft.th, NULL), "the thread has function state");
	for (struct sf_func *fe = image_ptr(ft.th->funcs); fe; fe = image_ptr(fe->next))
		if (fe->addr == fn)
			return fe;
	return NULL;
}

/* The tree's nodes, in the order they were made (root first). */
static size_t nodes(struct sf_fnode **out, size_t max)
{
	size_t n = 0;

	for (struct sf_fchunk *c = image_ptr(ft.th->nodes); c; c = image_ptr(c->next))
		for (uint32_t i = 0; i < c->used && n < max; i++)
			out[n++] = &c->nodes[i];
	return n;
}

static uint64_t fn_of(const struct sf_fnode *n)
{
	return n->func ? ((struct sf_func *)image_ptr(n->func))->addr : 0;
}

static struct sf_fnode *node_path(uint64_t a, uint64_t b, uint64_t c)
{
	struct sf_fnode *v[256];
	size_t n = nodes(v, 256);
	uint64_t want[3] = {a, b, c};
	struct sf_fnode *cur = v[0];

	for (int k = 0; k < 3 && want[k]; k++) {
		struct sf_fnode *next = NULL;

		for (size_t i = 0; i < n; i++)
			if (v[i]->parent == image_off(cur) && fn_of(v[i]) == want[k])
				next = v[i];
		if (!next)
			return NULL;
		cur = next;
	}
	return cur;
}

Test(func, recursion_counts_inclusive_time_once)
{
	struct sf_func *a;

	enter(0xa0, AT(1), 0);
	enter(0xa0, AT(2), 10);
	enter(0xa0, AT(3), 20);
	leave(0xa0, AT(3), 30);
	leave(0xa0, AT(2), 40);
	leave(0xa0, AT(1), 50);
	a = fe_of(0xa0);
	cr_assert(ne(ptr, a, NULL), "an entry for the function");
	cr_assert(eq(u64, a->calls, 3), "calls: every activation");
	cr_assert(eq(u64, a->recursive, 2), "recursive: the two inner activations");
	cr_assert(eq(u64, a->total, 50), "total: the outermost call only, not 50 + 30 + 10");
	cr_assert(eq(u64, a->self, 50), "self: 10 + 20 + 20, no double counting");
	cr_assert(eq(u64, a->min, 50), "min over outermost calls");
	cr_assert(eq(u64, a->max, 50), "max over outermost calls");
	cr_assert(eq(u32, a->hist[func_hist_bucket(50)], 1), "one outermost duration in the histogram");
	cr_assert(eq(u32, a->active, 0), "no activation left");
	cr_assert(eq(u64, ft.th->unmatched_exits, 0), "every exit matched");
}

Test(func, mutual_recursion_counts_each_function_once_per_outermost_call)
{
	enter(0xa0, AT(1), 0);
	enter(0xb0, AT(2), 1);
	enter(0xa0, AT(3), 2);
	enter(0xb0, AT(4), 3);
	leave(0xb0, AT(4), 4);
	leave(0xa0, AT(3), 5);
	leave(0xb0, AT(2), 6);
	leave(0xa0, AT(1), 7);
	cr_assert(eq(u64, fe_of(0xa0)->recursive, 1), "a: one recursive call");
	cr_assert(eq(u64, fe_of(0xa0)->total, 7), "a: outermost 0..7");
	cr_assert(eq(u64, fe_of(0xb0)->recursive, 1), "b: one recursive call");
	cr_assert(eq(u64, fe_of(0xb0)->total, 5), "b: outermost 1..6");
}

Test(func, call_tree_keeps_each_path_apart)
{
	struct sf_fnode *la, *lb, *a, *b;

	enter(0x10, AT(1), 0);
	for (int i = 0; i < 3; i++) {
		/* a and b alternate: the child list reorders, the paths stay. */
		enter(0xa0, AT(2), 10);
		enter(0xf0, AT(3), 11);
		leave(0xf0, AT(3), 13);
		leave(0xa0, AT(2), 20);
		enter(0xb0, AT(2), 30);
		enter(0xf0, AT(3), 31);
		leave(0xf0, AT(3), 36);
		leave(0xb0, AT(2), 40);
	}
	leave(0x10, AT(1), 100);
	a = node_path(0x10, 0xa0, 0);
	b = node_path(0x10, 0xb0, 0);
	la = node_path(0x10, 0xa0, 0xf0);
	lb = node_path(0x10, 0xb0, 0xf0);
	cr_assert(a && b && la && lb, "paths main/a, main/b, main/a/leaf, main/b/leaf exist");
	cr_assert(eq(u64, a->calls, 3), "main/a calls");
	cr_assert(eq(u64, la->calls, 3), "main/a/leaf calls");
	cr_assert(eq(u64, la->total, 6), "main/a/leaf time: 3 x 2");
	cr_assert(eq(u64, lb->total, 15), "main/b/leaf time: 3 x 5");
	cr_assert(eq(u64, a->self, 3 * (10 - 2)), "main/a self");
	cr_assert(eq(u64, fe_of(0xf0)->calls, 6), "leaf: one entry for both paths");
	{
		struct sf_fnode *v[64];
		cr_assert(eq(sz, nodes(v, 64), 6), "root, main, a, a/leaf, b, b/leaf: six nodes");
	}
}

Test(func, longjmp_closes_the_frames_above_setjmp_at_the_jump)
{
	jmp_buf env;

	enter(0x10, AT(1), 0);
	func_jmp_mark(&env); /* main calls setjmp */
	enter(0xa0, AT(2), 10);
	enter(0xb0, AT(3), 20);
	enter(0xc0, AT(4), 30);
	func_test_now = 100;
	func_jmp_take(&env); /* c longjmps back into main */
	cr_assert(eq(u64, ft.th->unwound, 3), "a, b, c closed at the jump");
	cr_assert(eq(u64, fe_of(0xc0)->total, 70), "c: 30..100");
	/* d's frame is bigger than a's: its hooks run below a's level, and
	 * only the jump says that a is dead. */
	enter(0xd0, AT(3), 150);
	leave(0xd0, AT(3), 160);
	leave(0x10, AT(1), 200);
	cr_assert(eq(u64, ft.th->unmatched_exits, 0), "no exit left unmatched");
	cr_assert(eq(u64, fe_of(0xa0)->total, 90), "a: 10..100");
	cr_assert(ne(ptr, node_path(0x10, 0xd0, 0), NULL), "d is main's callee, not c's");
	cr_assert(eq(u64, fe_of(0xd0)->recursive, 0), "d not recursive");
	cr_assert(eq(u64, fe_of(0x10)->total, 200), "main closed normally");
}

Test(func, longjmp_to_a_setjmp_whose_frame_returned_changes_nothing)
{
	jmp_buf env;

	enter(0x10, AT(1), 0);
	enter(0xa0, AT(2), 1);
	func_jmp_mark(&env); /* a calls setjmp, then returns */
	leave(0xa0, AT(2), 2);
	enter(0xb0, AT(2), 3);
	enter(0xc0, AT(3), 4);
	func_jmp_take(&env); /* undefined behaviour: nothing closed by it */
	cr_assert(eq(u64, ft.th->unwound, 0), "no frame closed");
	leave(0xc0, AT(3), 5);
	leave(0xb0, AT(2), 6);
	leave(0x10, AT(1), 7);
	cr_assert(eq(u64, ft.th->unmatched_exits, 0), "everything matched");
}

Test(func, an_inlined_callee_level_with_its_caller_nests)
{
	enter(0x10, AT(1), 0);
	enter(0xa0, AT(2), 10);
	/* sq inlined into a: its hooks run in a's frame, at a's level. */
	for (uint64_t i = 0; i < 3; i++) {
		enter(0x5c, AT(2), 20 + 10 * i);
		leave(0x5c, AT(2), 25 + 10 * i);
	}
	leave(0xa0, AT(2), 60);
	leave(0x10, AT(1), 70);
	cr_assert(eq(u64, ft.th->unwound, 0), "nothing closed early");
	cr_assert(eq(u64, ft.th->unmatched_exits, 0), "nothing unmatched");
	cr_assert(eq(u64, fe_of(0x5c)->calls, 3), "sq: 3 calls");
	cr_assert(eq(u64, fe_of(0x5c)->total, 15), "sq: 3 x 5");
	cr_assert(eq(u64, fe_of(0xa0)->total, 50), "a: 10..60");
	cr_assert(eq(u64, fe_of(0xa0)->self, 35), "a's self excludes sq");
	cr_assert(eq(u64, node_path(0x10, 0xa0, 0x5c)->calls, 3), "sq under a");
}

Test(func, a_sibling_call_exit_above_its_frame_is_matched)
{
	/* rec -> mid -> rec: each exit jumps to the hook after its
	 * epilogue, above the level its enter hook ran at. */
	enter(0x10, AT(1), 0);
	enter(0xa0, AT(2), 1);
	enter(0xb0, AT(3), 2);
	enter(0xa0, AT(4), 3);
	enter(0xc0, AT(5), 4);
	leave(0xc0, AT(5) + 0x100, 5);
	leave(0xa0, AT(4) + 0x100, 6);
	leave(0xb0, AT(3) + 0x100, 7);
	leave(0xa0, AT(2) + 0x100, 9);
	leave(0x10, AT(1), 10);
	cr_assert(eq(u64, ft.th->unwound, 0), "nothing closed early");
	cr_assert(eq(u64, ft.th->unmatched_exits, 0), "nothing unmatched");
	cr_assert(eq(u64, fe_of(0xa0)->calls, 2), "rec: 2 calls");
	cr_assert(eq(u64, fe_of(0xa0)->recursive, 1), "rec: 1 recursive");
	cr_assert(eq(u64, fe_of(0xa0)->total, 8), "rec: outermost 1..9");
	cr_assert(eq(u64, fe_of(0xc0)->total, 1), "work: 4..5");
}

Test(func, a_call_above_the_top_frames_level_closes_it)
{
	struct sf_fnode *d;

	enter(0x10, AT(1), 0);
	enter(0xa0, AT(2), 10);
	enter(0xb0, AT(3), 20);
	enter(0xc0, AT(4), 30);
	/* A longjmp the agent did not see, back into main; d's frame is
	 * smaller than a's, so its hooks run above a's level. */
	enter(0xd0, AT(2) + 0x40, 100);
	leave(0xd0, AT(2), 110);
	leave(0x10, AT(1), 200);
	cr_assert(eq(u64, ft.th->unwound, 3), "a, b, c closed without their exit");
	cr_assert(eq(u64, ft.th->unmatched_exits, 0), "no exit left unmatched");
	cr_assert(eq(u64, fe_of(0xa0)->calls, 1), "a counted once");
	cr_assert(eq(u64, fe_of(0xa0)->unwound, 1), "a unwound");
	cr_assert(eq(u64, fe_of(0xa0)->total, 90), "a closed when the longjmp was seen (10..100)");
	cr_assert(eq(u64, fe_of(0xc0)->total, 70), "c: 30..100");
	d = node_path(0x10, 0xd0, 0);
	cr_assert(ne(ptr, d, NULL), "d is main's callee, not c's");
	cr_assert(eq(u64, fe_of(0xd0)->recursive, 0), "d not recursive");
	cr_assert(eq(u64, fe_of(0x10)->total, 200), "main closed normally");
}

Test(func, a_recursive_function_reentered_after_longjmp_is_not_recursive)
{
	jmp_buf env;

	enter(0x10, AT(1), 0);
	func_jmp_mark(&env);
	enter(0xa0, AT(2), 1);
	enter(0xa0, AT(3), 2);
	/* longjmp to main, then a called again from main. */
	func_test_now = 9;
	func_jmp_take(&env);
	enter(0xa0, AT(2), 10);
	leave(0xa0, AT(2), 11);
	leave(0x10, AT(1), 20);
	cr_assert(eq(u64, fe_of(0xa0)->calls, 3), "a: three calls");
	cr_assert(eq(u64, fe_of(0xa0)->recursive, 1), "only the nested one is recursive");
	cr_assert(eq(u64, ft.th->unwound, 2), "two frames unwound");
}

Test(func, exit_below_the_entry_address_closes_dead_callees)
{
	enter(0x10, AT(1), 0);
	enter(0xa0, AT(2), 1);
	enter(0xb0, AT(4), 2);
	/* a exits with its stack pointer lowered by alloca, below where it
	 * entered but above b's frame: b is dead, a matches. */
	leave(0xa0, AT(3), 10);
	cr_assert(eq(u64, ft.th->unwound, 1), "b closed");
	cr_assert(eq(u64, fe_of(0xa0)->calls, 1), "a popped normally");
	cr_assert(eq(u64, fe_of(0xa0)->unwound, 0), "a not unwound");
	cr_assert(eq(u64, ft.th->unmatched_exits, 0), "nothing unmatched");
	leave(0x10, AT(1), 20);
	cr_assert(eq(u64, fe_of(0x10)->calls, 1), "main popped");
}

Test(func, unmatched_exit_is_counted_and_ignored)
{
	enter(0x10, AT(1), 0);
	leave(0xee, AT(1), 5);
	cr_assert(eq(u64, ft.th->unmatched_exits, 1), "one unmatched exit");
	leave(0x10, AT(1), 10);
	cr_assert(eq(u64, fe_of(0x10)->total, 10), "main still matched afterwards");
	cr_assert(eq(u64, ft.th->unmatched_exits, 1), "no more unmatched");
}

Test(func, alternate_stack_frames_do_not_kill_the_interrupted_ones)
{
	uintptr_t alt = 0x40000000ul; /* a signal stack far from the thread's */

	enter(0x10, AT(1), 0);
	enter(0xa0, AT(2), 1);
	enter(0x5a, alt, 2); /* handler on the alternate stack */
	leave(0x5a, alt, 3);
	leave(0xa0, AT(2), 4);
	leave(0x10, AT(1), 5);
	cr_assert(eq(u64, ft.th->unwound, 0), "nothing unwound");
	cr_assert(eq(u64, ft.th->unmatched_exits, 0), "nothing unmatched");
	cr_assert(ne(ptr, node_path(0x10, 0xa0, 0x5a), NULL), "the handler nests in the interrupted call");
	/* A handler left by siglongjmp: its frame dies when we are back. */
	enter(0x10, AT(1), 10);
	enter(0x5a, alt, 11);
	enter(0xb0, AT(2), 12);
	leave(0xb0, AT(2), 13);
	leave(0x10, AT(1), 14);
	cr_assert(eq(u64, ft.th->unwound, 1), "the abandoned handler frame closed");
	cr_assert(ne(ptr, node_path(0x10, 0xb0, 0), NULL), "b called from main");
}

Test(func, calls_inside_a_hook_are_counted_not_recorded)
{
	enter(0x10, AT(1), 0);
	ts.state = TS_BUSY; /* a signal arriving inside a hook */
	enter(0x5a, AT(5), 1);
	leave(0x5a, AT(5), 2);
	ts.state = TS_READY;
	leave(0x10, AT(1), 3);
	cr_assert(eq(u64, ft.th->in_hooks, 1), "one call in a hook");
	cr_assert(eq(ptr, fe_of(0x5a), NULL), "not recorded");
	cr_assert(eq(u64, ft.th->unmatched_exits, 0), "its exit ignored too");
}

Test(func, depth_cap_counts_the_excess_and_recovers)
{
	func_test_init(4, 0, 0, 0, LO, HI);
	for (int i = 1; i <= 10; i++)
		enter(0xa0, AT(i), (uint64_t)i);
	for (int i = 10; i >= 1; i--)
		leave(0xa0, AT(i), 100 - (uint64_t)i);
	cr_assert(eq(u64, ft.th->beyond_depth, 6), "frames 5..10 beyond the cap");
	cr_assert(eq(u64, fe_of(0xa0)->calls, 4), "four tracked calls");
	cr_assert(eq(u64, fe_of(0xa0)->total, 98), "outermost 1..99");
	cr_assert(eq(u32, ft.th->max_depth, 4), "deepest tracked: 4");
	cr_assert(eq(u64, ft.th->unmatched_exits, 0), "exits of untracked frames are not unmatched");
	enter(0xb0, AT(1), 200);
	leave(0xb0, AT(1), 201);
	cr_assert(eq(u64, fe_of(0xb0)->calls, 1), "tracking resumes");
}

Test(func, longjmp_out_of_the_untracked_depth)
{
	jmp_buf env;

	func_test_init(2, 0, 0, 0, LO, HI);
	enter(0x10, AT(1), 0);
	func_jmp_mark(&env);
	enter(0xa0, AT(2), 1);
	enter(0xb0, AT(3), 2); /* beyond */
	enter(0xc0, AT(4), 3); /* beyond */
	func_test_now = 9;
	func_jmp_take(&env); /* longjmp into main */
	enter(0xd0, AT(2), 10);
	leave(0xd0, AT(2), 11);
	leave(0x10, AT(1), 12);
	cr_assert(eq(u64, ft.th->beyond_depth, 2), "two calls beyond the cap");
	cr_assert(eq(u64, ft.th->unwound, 1), "a unwound");
	cr_assert(eq(u64, fe_of(0xd0)->calls, 1), "d tracked again");
	cr_assert(eq(u64, ft.th->unmatched_exits, 0), "nothing unmatched");
}

Test(func, allocations_go_to_the_function_on_top)
{
	enter(0x10, AT(1), 0);
	func_note_alloc(&ts, 100);
	enter(0xa0, AT(2), 1);
	func_note_alloc(&ts, 10);
	func_note_alloc(&ts, 20);
	func_note_alloc(&ts, 0);
	leave(0xa0, AT(2), 2);
	leave(0x10, AT(1), 3);
	func_note_alloc(&ts, 5000); /* no function active: nobody's */
	cr_assert(eq(u64, fe_of(0xa0)->self_allocs, 3), "a self allocations (malloc(0) counts)");
	cr_assert(eq(u64, fe_of(0xa0)->self_bytes, 30), "a self bytes");
	cr_assert(eq(u64, fe_of(0xa0)->incl_allocs, 3), "a inclusive allocations");
	cr_assert(eq(u64, fe_of(0x10)->self_allocs, 1), "main self allocations");
	cr_assert(eq(u64, fe_of(0x10)->incl_allocs, 4), "main inclusive allocations");
	cr_assert(eq(u64, fe_of(0x10)->incl_bytes, 130), "main inclusive bytes");
	cr_assert(eq(u64, node_path(0x10, 0xa0, 0)->bytes, 30), "main/a node bytes");
}

Test(func, correction_subtracts_the_hook_cost)
{
	/* hook 10 ticks per callee as the caller sees it, 3 inside the callee */
	func_test_init(64, 0, 10, 3, LO, HI);
	enter(0x10, AT(1), 0);
	enter(0xc0, AT(2), 100);
	leave(0xc0, AT(2), 200);
	enter(0xc0, AT(2), 300);
	leave(0xc0, AT(2), 400);
	leave(0x10, AT(1), 1000);
	cr_assert(eq(u64, fe_of(0xc0)->total, 2 * 97), "callee: 100 - 3 each");
	cr_assert(eq(u64, fe_of(0x10)->total, 1000 - 3 - 2 * 10), "caller: less its own share and 10 per callee");
	cr_assert(eq(u64, fe_of(0x10)->self, 1000 - 3 - 2 * 10 - 2 * 97), "caller self");
	enter(0xe0, AT(1), 2000);
	leave(0xe0, AT(1), 2001);
	cr_assert(eq(u64, fe_of(0xe0)->total, 0), "never negative");
}

Test(func, corrected_caller_is_never_shorter_than_its_callees)
{
	/* Callees cheaper in place than the measured hook cost: the caller's
	 * own time clamps at 0, its duration keeps its callees'. */
	func_test_init(64, 0, 10, 3, LO, HI);
	enter(0x10, AT(1), 0);
	for (int i = 0; i < 5; i++) {
		enter(0xc0, AT(2), (uint64_t)(10 * i + 1));
		leave(0xc0, AT(2), (uint64_t)(10 * i + 5));
	}
	leave(0x10, AT(1), 50);
	cr_assert(eq(u64, fe_of(0xc0)->total, 5), "callees: 4 - 3 each");
	cr_assert(eq(u64, fe_of(0x10)->self, 0), "caller self clamped");
	cr_assert(eq(u64, fe_of(0x10)->total, 5), "caller = its callees, not less");
}

Test(func, slowest_calls_keep_the_ten_longest)
{
	uint64_t t = 0, got[SF_FSLOW_FUNC];
	struct sf_func *a;

	enter(0x10, AT(1), t);
	for (unsigned i = 0; i < 100; i++) {
		uint64_t d = 1 + (i * 37) % 100; /* 1..100, shuffled */

		enter(0xa0, AT(2), ++t);
		t += d;
		leave(0xa0, AT(2), t);
	}
	leave(0x10, AT(1), ++t);
	a = fe_of(0xa0);
	cr_assert(eq(u32, a->nslow, SF_FSLOW_FUNC), "ten kept");
	for (unsigned k = 0; k < SF_FSLOW_FUNC; k++)
		got[k] = a->slow[k].ticks;
	for (unsigned d = 91; d <= 100; d++) {
		int found = 0;
		for (unsigned k = 0; k < SF_FSLOW_FUNC; k++)
			found += got[k] == d;
		cr_assert(eq(int, found, 1), "duration %u kept once", d);
	}
	cr_assert(le(u32, ft.th->nslow, SF_FSLOW_THREAD), "thread list bounded");
}

Test(func, min_duration_gates_individual_calls)
{
	uint64_t t = 0;

	func_test_init(64, 95, 0, 0, LO, HI);
	enter(0x10, AT(1), t);
	for (unsigned i = 0; i < 100; i++) {
		enter(0xa0, AT(2), ++t);
		t += 1 + i;
		leave(0xa0, AT(2), t);
	}
	leave(0x10, AT(1), ++t);
	cr_assert(eq(u32, fe_of(0xa0)->nslow, 6), "durations 95..100 only");
	cr_assert(eq(u64, fe_of(0xa0)->calls, 100), "every call still counted");
}

Test(func, histogram_halves_instead_of_overflowing)
{
	struct sf_func *a;
	unsigned b = func_hist_bucket(40);

	enter(0xa0, AT(1), 0);
	leave(0xa0, AT(1), 40);
	a = fe_of(0xa0);
	a->hist[b] = UINT32_MAX;
	a->hist[func_hist_bucket(7)] = 9;
	enter(0xa0, AT(1), 100);
	leave(0xa0, AT(1), 140);
	cr_assert(eq(u32, a->hist_shift, 1), "counts now in units of 2");
	cr_assert(eq(u32, a->hist[b], UINT32_MAX / 2 + 1), "halved, then counted");
	cr_assert(eq(u32, a->hist[func_hist_bucket(7)], 4), "every bucket halved");
}

Test(func, thread_exit_closes_frames_and_logs_the_owner)
{
	struct sf_fowner *o;

	memcpy(ts.rec->name, "worker", 7);
	enter(0x10, AT(1), 0);
	enter(0xa0, AT(2), 10);
	leave(0xa0, AT(2), 15);
	enter(0xb0, AT(2), 20);
	func_test_now = 50;
	func_thread_exit();
	cr_assert(eq(u64, ft.th->unwound, 2), "main and b closed at thread exit");
	o = image_ptr(ft.th->owners);
	cr_assert(ne(ptr, o, NULL), "the owner was logged");
	cr_assert(eq(u64, o->calls, 3), "its calls");
	cr_assert(eq(u64, o->ticks, 50), "its top-level time");
	cr_assert(eq(str, o->name, "worker"), "its name");
}

/* --- histogram and percentiles ----------------------------------------- */

Test(func, buckets_cover_every_value_within_one_sixteenth)
{
	uint64_t lo, hi, prev_hi = 0;

	for (unsigned b = 0; b < SF_FH_BUCKETS; b++) {
		report_func_bucket(b, &lo, &hi);
		cr_assert(eq(u64, lo, b ? prev_hi + 1 : 0), "bucket %u starts after bucket %u", b, b - 1);
		cr_assert(eq(u32, func_hist_bucket(lo), b), "lower bound of bucket %u maps to it", b);
		if (b + 1 < SF_FH_BUCKETS) {
			cr_assert(eq(u32, func_hist_bucket(hi), b), "upper bound of bucket %u maps to it", b);
			cr_assert(le(u64, (hi - lo) * 16, lo ? lo : 1), "bucket %u width <= lo/16", b);
		}
		prev_hi = hi;
	}
	cr_assert(eq(u32, func_hist_bucket(UINT64_MAX), SF_FH_BUCKETS - 1), "huge values clamp");
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

Test(func, percentiles_are_within_one_thirty_second_and_merge)
{
	enum { N = 20000 };
	static uint64_t v[N], h1[SF_FH_BUCKETS], h2[SF_FH_BUCKETS], h[SF_FH_BUCKETS];
	static const double ps[] = {0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0};
	uint64_t x = 88172645463325252ull, min = UINT64_MAX, max = 0;

	for (int i = 0; i < N; i++) {
		/* log-uniform over 1 .. 2^40 ticks */
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		v[i] = (1ull << (x % 40)) + (x >> 24) % (1ull << (x % 40));
		/* two "threads", merged by adding */
		(i & 1 ? h1 : h2)[func_hist_bucket(v[i])]++;
		min = v[i] < min ? v[i] : min;
		max = v[i] > max ? v[i] : max;
	}
	for (unsigned b = 0; b < SF_FH_BUCKETS; b++)
		h[b] = h1[b] + h2[b];
	qsort(v, N, sizeof(v[0]), cmp_u64);
	for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
		size_t rank = (size_t)((ps[k] * N) + 0.999999); /* nearest rank, 1-based */
		uint64_t exact = v[(rank ? rank : 1) - 1], got = report_func_quantile(h, ps[k], min, max);
		uint64_t err = got > exact ? got - exact : exact - got;

		cr_assert(le(u64, err * 32, exact), "p%g: %llu for exact %llu", ps[k] * 100, (unsigned long long)got,
			  (unsigned long long)exact);
	}
	cr_assert(eq(u64, report_func_quantile(h, 1.0, min, max), max), "p100 is the max");
}

Test(func, percentiles_of_small_exact_values)
{
	uint64_t h[SF_FH_BUCKETS] = {0};

	h[func_hist_bucket(3)] = 50;
	h[func_hist_bucket(12)] = 49;
	h[func_hist_bucket(15)] = 1;
	cr_assert(eq(u64, report_func_quantile(h, 0.50, 3, 15), 3), "p50");
	cr_assert(eq(u64, report_func_quantile(h, 0.51, 3, 15), 12), "p51");
	cr_assert(eq(u64, report_func_quantile(h, 0.99, 3, 15), 12), "p99");
	cr_assert(eq(u64, report_func_quantile(h, 1.0, 3, 15), 15), "p100");
}

/* --- launcher side ------------------------------------------------------- */

Test(func, globs_match_comma_separated_patterns)
{
	cr_assert(report_func_glob_match("parse_*,main", "parse_line"), "parse_*");
	cr_assert(report_func_glob_match("parse_*,main", "main"), "main");
	cr_assert(not(report_func_glob_match("parse_*,main", "mainly")), "whole names only");
	cr_assert(report_func_glob_match("ns::*", "ns::f(int)"), "C++ names");
	cr_assert(not(report_func_glob_match("x", NULL)), "unknown names match nothing");
	cr_assert(not(report_func_glob_match(NULL, "x")), "no globs match nothing");
}

#define PARSE(o, err, ...)                                                                                             \
	options_parse(o, (int)(sizeof((char *[]){"ptrace-run", __VA_ARGS__}) / sizeof(char *)),                        \
		      (char *[]){"ptrace-run", __VA_ARGS__}, err, sizeof(err))

Test(func, options_parse_and_export_function_settings)
{
	struct options o;
	char err[256];

	unsetenv("PTRACE_FILTER");
	unsetenv("PTRACE_MIN_DURATION");
	cr_assert(eq(int, PARSE(&o, err, "prog"), 0), "defaults: %s", err);
	cr_assert(eq(u32, o.max_call_depth, SF_FDEFAULT_CALL_DEPTH), "default max call depth");
	cr_assert(eq(int, o.correct_times, 1), "correction on by default");
	cr_assert(eq(ptr, (void *)o.func_filter, NULL), "no filter");
	cr_assert(eq(int,
		     PARSE(&o, err, "--filter=f*,main", "--exclude", "leaf", "--max-call-depth=200000",
			   "--min-duration=20us", "--correct-times=0", "prog"),
		     0),
		  "flags: %s", err);
	cr_assert(eq(str, (char *)o.func_filter, "f*,main"), "filter");
	cr_assert(eq(str, (char *)o.func_exclude, "leaf"), "exclude");
	cr_assert(eq(u32, o.max_call_depth, 200000), "max call depth");
	cr_assert(eq(u64, o.min_duration_ns, 20000), "20us in ns");
	cr_assert(eq(int, o.correct_times, 0), "correction off");
	cr_assert(eq(int, options_export(&o), 0), "export");
	cr_assert(eq(str, getenv("PTRACE_MAX_CALL_DEPTH"), "200000"), "exported depth");
	cr_assert(eq(str, getenv("PTRACE_MIN_DURATION"), "20000"), "exported duration, canonical ns");
	cr_assert(eq(str, getenv("PTRACE_CORRECT_TIMES"), "0"), "exported correction");
	setenv("PTRACE_MIN_DURATION", "3ms", 1);
	cr_assert(eq(int, PARSE(&o, err, "prog"), 0), "env: %s", err);
	cr_assert(eq(u64, o.min_duration_ns, 3000000), "PTRACE_MIN_DURATION=3ms");
	unsetenv("PTRACE_MIN_DURATION");
	unsetenv("PTRACE_MAX_CALL_DEPTH");
	unsetenv("PTRACE_CORRECT_TIMES");
}

Test(func, options_reject_bad_function_settings_in_one_line)
{
	static const struct {
		const char *arg, *msg;
	} bad[] = {
	    {"--max-call-depth=0", "--max-call-depth=0: expected an integer from 1 to 16777216"},
	    {"--max-call-depth=16777217", "--max-call-depth=16777217: expected an integer from 1 to 16777216"},
	    {"--min-duration=5xs", "--min-duration=5xs: expected a duration"},
	    {"--min-duration=-1", "--min-duration=-1: expected a duration"},
	    {"--min-duration=ms", "--min-duration=ms: expected a duration"},
	    {"--min-duration=99999999999s", "--min-duration=99999999999s: expected a duration"},
	    {"--filter=", "--filter=: expected comma-separated globs"},
	    {"--filter=a,,b", "--filter=a,,b: expected comma-separated globs"},
	    {"--exclude=a,", "--exclude=a,: expected comma-separated globs"},
	    {"--exclude=f[oo", "--exclude=f[oo: expected comma-separated globs"},
	    {"--correct-times=maybe", "--correct-times=maybe: expected 0 or 1"},
	};
	struct options o;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert(eq(int, PARSE(&o, err, (char *)bad[i].arg, "prog"), -EINVAL), "%s rejected", bad[i].arg);
		cr_assert(eq(int, strncmp(err, bad[i].msg, strlen(bad[i].msg)), 0), "%s: message %s", bad[i].arg, err);
		cr_assert(eq(ptr, strchr(err, '\n'), NULL), "%s: one line", bad[i].arg);
	}
}

Test(func, a_catch_closes_the_frames_the_exception_left)
{
	enter(0x10, AT(1), 0);
	enter(0x100, AT(2), 1); /* thrower, code 0x100.. */
	enter(0x50, AT(2), 2);	/* f1 inlined into it */
	enter(0x300, AT(2), 3); /* f2 inlined into it */
	enter(0x400, AT(3), 4); /* f4, a real call */
	enter(0x500, AT(4), 5); /* f5 throws */
	func_test_now = 10;
	func_catch(AT(2), 0x180); /* the handler, inside thrower */
	cr_assert(eq(u64, ft.th->unwound, 4), "f5, f4 and the inlined f2, f1 closed");
	cr_assert(eq(u64, ft.sp->fn, 0x100), "thrower on top");
	cr_assert(eq(u64, fe_of(0x500)->total, 5), "f5: 5..10");
	enter(0x50, AT(2), 11);
	leave(0x50, AT(2), 12);
	leave(0x100, AT(2), 13);
	leave(0x10, AT(1), 14);
	cr_assert(eq(u64, fe_of(0x50)->recursive, 0), "f1 again: not recursive");
	cr_assert(eq(u64, node_path(0x10, 0x100, 0x50)->calls, 2), "both f1 calls under thrower");
	cr_assert(eq(u64, ft.th->unmatched_exits, 0), "nothing unmatched");
}

Test(func, a_catch_with_the_exits_already_run_closes_nothing)
{
	enter(0x10, AT(1), 0);
	enter(0x100, AT(2), 1);
	enter(0x50, AT(2), 2); /* still live: the handler is in 0x50's copy */
	func_catch(AT(2), 0x60);
	cr_assert(eq(u64, ft.th->unwound, 0), "the catcher is the top frame");
	/* A handler in a cold section below every function: no guess. */
	func_catch(AT(2), 0x20);
	cr_assert(eq(u64, ft.th->unwound, 0), "nothing closed");
	cr_assert(eq(u64, ft.sp->fn, 0x50), "0x50 still on top");
}
