/*
 * fi_jmpbig (built with -finstrument-functions): after a longjmp, a
 * sibling with a bigger frame than the frames left behind. main calls
 * setjmp, then foo() (a small frame) -> bar(), which longjmps back to
 * main; main then calls baz(), whose 4 KiB volatile array puts its frame
 * far below where foo's and bar's were, and baz calls leaf(). foo, bar
 * and baz are NOIPA so that each keeps a frame of its own (inlined into
 * main, baz's array would be main's from the start). With the argument
 * "sig" the jump is a siglongjmp out of a signal handler instead: main
 * calls sigsetjmp, then sig_foo(), which raises SIGUSR1; its handler
 * on_usr1() calls sig_bar(), which siglongjmps back to main; then baz()
 * as before. The O2fortify build makes both __longjmp_chk.
 *
 *   no argument: foo, bar calls 1, unwound 1 each; unwound_frames 2
 *   "sig":       sig_foo, on_usr1, sig_bar calls 1, unwound 1 each;
 *                unwound_frames 3
 *   both:   baz and leaf calls 1, unwound 0; tree main -> baz -> leaf,
 *           hanging from main (the frame that called setjmp), not from
 *           foo or bar; main -> foo -> bar (or main -> sig_foo ->
 *           on_usr1 -> sig_bar); main calls 1; 0 unmatched.
 * Prints "done".
 */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "fi_opt.h"

static jmp_buf env;
static sigjmp_buf senv;
static volatile int sink;

NOIPA void bar(void)
{
	longjmp(env, 1);
}

NOIPA void foo(void)
{
	bar();
	sink++;
}

void leaf(void)
{
	sink++;
}

NOIPA void baz(void)
{
	volatile char big[4096];

	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)i;
	sink += big[100];
	leaf();
}

NOIPA void sig_bar(void)
{
	siglongjmp(senv, 1);
}

void on_usr1(int sig)
{
	(void)sig;
	sig_bar();
}

NOIPA void sig_foo(void)
{
	raise(SIGUSR1);
	sink++;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "sig")) {
		struct sigaction sa;

		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_usr1;
		sigaction(SIGUSR1, &sa, NULL);
		if (sigsetjmp(senv, 1) == 0)
			sig_foo();
	} else if (setjmp(env) == 0) {
		foo();
	}
	baz();
	puts("done");
	return 0;
}
