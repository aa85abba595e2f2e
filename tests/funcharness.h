/*
 * Harness for the unit tests of function timing (test_func.c,
 * test_closeout.c): the agent's data structures in a real session image,
 * driven through the hooks' inline paths with a clock and stack addresses
 * the tests choose. Header-only, static inline, like testutil.h.
 */
#ifndef PTRACE_FUNCHARNESS_H
#define PTRACE_FUNCHARNESS_H

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "func.h"
#include "image.h"
#include "session.h"

/* The thread's stack in these tests: frame addresses go down from TOP. */
#define LO 0x100000ul
#define HI 0x900000ul
#define TOP 0x800000ul
#define AT(depth) (TOP - 0x100ul * (depth))

static struct session sess;

/* A fresh image with one process and one thread record (on the process's
 * list, where the launcher finds it); function timing set up with these
 * settings (ticks are ns). */
static inline void fh_start(uint32_t max_depth, uint64_t min_ticks, uint64_t hook, uint64_t inner)
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
	agent.proc->threads = image_off(ts.rec);
	ts.state = TS_READY;
	func_test_init(max_depth, min_ticks, hook, inner, LO, HI);
}

static inline void fh_stop(void)
{
	func_test_reset_thread();
	session_close(&sess);
}

static inline void enter(uint64_t fn, uintptr_t csp, uint64_t t)
{
	func_test_now = t;
	func_enter(fn, csp);
}

static inline void leave(uint64_t fn, uintptr_t csp, uint64_t t)
{
	func_test_now = t;
	func_exit(fn, csp);
}

/* The calling thread's entry of fn, NULL when none. */
static inline struct sf_func *fe_of(uint64_t fn)
{
	cr_assert(ne(ptr, ft.th, NULL), "the thread has function state");
	for (struct sf_func *fe = image_ptr(ft.th->funcs); fe; fe = image_ptr(fe->next))
		if (fe->addr == fn)
			return fe;
	return NULL;
}

#endif
