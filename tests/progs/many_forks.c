/*
 * many_forks: 1040 children, more than the session's first array of
 * process slots (1024; more slots come in chunks). Each child allocates 7 bytes in child_leaf under a stack of its
 * own (bits of its index pick one of two functions, 11 deep) and exits;
 * after fork #1030 the parent allocates 1000 bytes in parent_leaf the same
 * way, 10 blocks it leaks, while those last children wait to allocate. Children, recorded or
 * not, must not write their stacks into the parent's: the parent's leaks are
 * exactly 10 x 1000 bytes in parent_leaf, none in child_leaf.
 */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void *volatile sink;

__attribute__((noinline)) static void parent_leaf(void)
{
	sink = malloc(1000);
}

__attribute__((noinline)) static void child_leaf(void)
{
	sink = malloc(7);
}

/* Two functions, so that each bit of the index picks a different frame
 * (one function with two identical calls would be folded into one). */
__attribute__((noinline)) static void walk_b(unsigned bits, int depth, void (*leaf)(void));

__attribute__((noinline)) static void walk_a(unsigned bits, int depth, void (*leaf)(void))
{
	if (!depth) {
		leaf();
		return;
	}
	if (bits & 1)
		walk_a(bits >> 1, depth - 1, leaf);
	else
		walk_b(bits >> 1, depth - 1, leaf);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void walk_b(unsigned bits, int depth, void (*leaf)(void))
{
	if (!depth) {
		leaf();
		return;
	}
	if (bits & 1)
		walk_a(bits >> 1, depth - 1, leaf);
	else
		walk_b(bits >> 1, depth - 1, leaf);
	__asm__ volatile("" ::: "memory");
}

int main(void)
{
	for (unsigned i = 0; i < 1040; i++) {
		pid_t p = fork();

		if (p == 0) {
			/* After the parent's stacks below: a child that shared
			 * the parent's slab would overwrite them. */
			usleep(2000);
			walk_a(i, 11, child_leaf);
			_exit(0);
		}
		if (i >= 1030)
			walk_a(i, 11, parent_leaf);
		waitpid(p, NULL, 0);
	}
	return 0;
}
