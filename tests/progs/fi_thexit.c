/*
 * fi_thexit (built with -finstrument-functions): a thread still inside a
 * call when another thread ends the process. main -> run() starts a
 * thread, thread_main() -> long_call(), which notes its start time, says
 * it is in, and sleeps 1 ms at a time forever. Once it is in, run sleeps
 * 20 ms, writes "long_ns=T" (T: ns since long_call started, read then)
 * and calls exit(0) from inside run: the thread's frames are still open.
 *
 *   thread_main, long_call  calls 1, unwound 1 each (closed at the
 *                           process's end); long_call total >= T >= 20 ms
 *   main, run               calls 1, unwound 1 each (exit() from inside)
 *   tree  thread_main -> long_call; main -> run; unwound_frames 4;
 *   0 unmatched. Exits 0, or 1 if pthread_create fails.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "fi_opt.h"

static atomic_llong started; /* long_call's start, ns; 0 until then */

NOIPA void long_call(void)
{
	struct timespec ms = {0, 1000000};

	atomic_store(&started, fi_now_ns());
	for (;;)
		nanosleep(&ms, NULL);
}

void *thread_main(void *arg)
{
	(void)arg;
	long_call();
	return NULL;
}

NOIPA void run(void)
{
	struct timespec ms = {0, 1000000}, wait = {0, 20000000};
	pthread_t t;

	if (pthread_create(&t, NULL, thread_main, NULL))
		exit(1);
	while (!atomic_load(&started))
		nanosleep(&ms, NULL);
	nanosleep(&wait, NULL);
	printf("long_ns=%lld\n", fi_now_ns() - atomic_load(&started));
	exit(0);
}

int main(void)
{
	run();
	return 1;
}
