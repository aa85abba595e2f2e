/*
 * leak_rbp: a block of 1900 bytes whose only pointer, while it lived, was
 * in rbp across an allocation: the agent's walk of that allocation's
 * stack read rbp, and its memo of walks (private memory, agent/trace.c)
 * keeps the value after the program dropped it. The leak check must not
 * take the agent's own memory for the program's: the block is definitely
 * lost (tests/test_e2e_leakcheck.c). A block of 2000 bytes pointed to from
 * a global is reachable, so the scan is seen to run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NI __attribute__((noinline))

void *g_keep;

/* with_rbp(p, fn): fn() called with rbp = p; its own frame saves the
 * caller's rbp, as its CFI says. */
void with_rbp(void *p, void (*fn)(void));
__asm__(".text\n"
	".globl with_rbp\n"
	".type with_rbp, @function\n"
	"with_rbp:\n"
	".cfi_startproc\n"
	"\tpush %rbp\n"
	".cfi_def_cfa_offset 16\n"
	".cfi_offset rbp, -16\n"
	"\tmov %rdi, %rbp\n"
	"\txor %edi, %edi\n"
	"\tcall *%rsi\n"
	"\tpop %rbp\n"
	".cfi_def_cfa_offset 8\n"
	".cfi_restore rbp\n"
	"\tret\n"
	".cfi_endproc\n"
	".size with_rbp, .-with_rbp\n");

NI static void keep_global(void)
{
	g_keep = malloc(2000);
	memset(g_keep, 1, 2000);
}

/* Walks up through with_rbp's caller, whose rbp is the block's address. */
NI static void alloc_there(void)
{
	void *q;

	for (int i = 0; i < 4; i++) {
		q = malloc(64);
		__asm__ volatile("" : : "r"(q) : "memory");
		free(q);
	}
}

NI static void lose_in_rbp(void)
{
	char *p = malloc(1900);

	memset(p, 2, 1900);
	with_rbp(p, alloc_there);
}

int main(void)
{
	/* stdout's buffer first: nothing allocates after the block is lost. */
	printf("leak_rbp ");
	fflush(stdout);
	keep_global();
	lose_in_rbp();
	printf("done\n");
	return 0;
}
