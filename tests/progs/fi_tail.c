/*
 * fi_tail (built with -finstrument-functions): exit hooks reached by a
 * sibling call. rec() and mid() are void and NOIPA, and the exit hook is
 * the last call of each, so gcc -O2/-O3 ends them with the epilogue then
 * `jmp __cyg_profile_func_exit`: the hook runs at the caller's stack
 * pointer, above the frame it closes (objdump -d build/progs/O2/fi_tail
 * shows it for rec, mid and work, work being inlined into both at -O3;
 * clang -O2 keeps a call and a ret). rec(n) calls
 * mid(n) for n > 0 and work() for n == 0; mid(n) calls work() then
 * rec(n - 1). work() busy-waits 20 us and stays plainly inlinable. main
 * calls rec(4) 100 times (through a volatile, so no clone for 4).
 *
 *   rec   calls 500, recursive 400 (all but the 100 outermost)
 *   mid   calls 400, recursive 300
 *   work  calls 500, recursive 0; total >= 500 x 20 us; rec's total >=
 *         work's total
 *   tree  main -> rec -> mid -> work and, 4 levels of rec -> mid down,
 *         main -> rec -> mid -> rec -> mid -> rec -> mid -> rec -> mid ->
 *         rec -> work: 100 calls on each node of the path; deepest stack
 *         11 (main, 9 of rec/mid, work)
 *   0 unmatched, 0 unwound. Prints "done".
 */
#include <stdio.h>

#include "fi_opt.h"

#define REPS 100
#define WORK_NS 20000

void rec(int n);

void work(void)
{
	fi_spin_from(fi_now_ns(), WORK_NS);
}

NOIPA void mid(int n)
{
	work();
	rec(n - 1);
}

NOIPA void rec(int n)
{
	if (n > 0)
		mid(n);
	else
		work();
}

int main(void)
{
	volatile int depth = 4;

	for (int i = 0; i < REPS; i++)
		rec(depth);
	puts("done");
	return 0;
}
