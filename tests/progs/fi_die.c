/*
 * fi_die MODE (built with -finstrument-functions): a process that dies
 * from deep frames, without any exit hook or exit handler running.
 * main -> a() -> b(); b busy-waits 50 ms (CLOCK_MONOTONIC), writes
 * "b_ns=T" (T: ns from b's start to that moment, read just before dying)
 * with write(2), then, by MODE:
 *   abort       abort()                       -> status 128 + 6 = 134
 *   kill        kill(getpid(), SIGKILL)       -> 128 + 9 = 137
 *   exit_group  syscall(SYS_exit_group, 3)    -> 3 (no _exit, no atexit)
 * a and b are NOIPA: each has a frame of its own, not one merged into
 * main.
 *
 *   main, a, b   calls 1, unwound 1 each (closed when the process died)
 *   b            total >= T >= 50 ms
 *   tree         main -> a -> b; unwound_frames 3; 0 unmatched
 * Exits 2 on an unknown MODE.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fi_opt.h"

#define SPIN_NS 50000000LL

static const char *mode;

NOIPA void b(void)
{
	long long t0 = fi_now_ns();
	char line[64];
	int n;

	fi_spin_from(t0, SPIN_NS);
	n = snprintf(line, sizeof line, "b_ns=%lld\n", fi_now_ns() - t0);
	if (write(1, line, (size_t)n) != n)
		_exit(2);
	if (!strcmp(mode, "abort"))
		abort();
	if (!strcmp(mode, "kill"))
		kill(getpid(), SIGKILL);
	if (!strcmp(mode, "exit_group"))
		syscall(SYS_exit_group, 3);
	_exit(2);
}

NOIPA void a(void)
{
	b();
}

int main(int argc, char **argv)
{
	mode = argc > 1 ? argv[1] : "";
	a();
	return 2;
}
