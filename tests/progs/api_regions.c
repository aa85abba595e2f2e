/*
 * <ptrace-run.h> in a program that is not instrumented.
 *
 * Three "request" regions, each holding "parse" (5 ms of sleep) and
 * "store" (5, 15, then 25 ms), with metadata user_id=100..102; then a
 * snapshot labelled "after requests"; then recording paused while it
 * allocates 100 blocks of 1000 bytes (kept) and frees 5 blocks of 700
 * bytes allocated before; then 10 blocks of 500 bytes, counted. Prints
 * one line, the same with and without ptrace-run.
 */
#include <ptrace-run.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&t, &t))
		;
}

static void *keep[128];

__attribute__((noinline)) static void before_pause(void **v)
{
	for (int i = 0; i < 5; i++)
		v[i] = malloc(700);
}

__attribute__((noinline)) static void while_paused(void)
{
	for (int i = 0; i < 100; i++)
		keep[i] = malloc(1000);
}

__attribute__((noinline)) static void after_resume(void)
{
	for (int i = 0; i < 10; i++)
		keep[100 + i] = malloc(500);
}

int main(void)
{
	void *early[5];
	long sum = 0;

	for (int i = 0; i < 3; i++) {
		char meta[64];

		snprintf(meta, sizeof(meta), "user_id=%d action=create", 100 + i);
		ptrace_region_begin_meta("request", meta);
		ptrace_region_begin("parse");
		sleep_ms(5);
		ptrace_region_end();
		ptrace_region_begin("store");
		sleep_ms(5 + 10 * i);
		ptrace_region_end();
		ptrace_region_end();
	}
	ptrace_snapshot("after requests");
	sleep_ms(150); /* the launcher takes it within 50 ms */
	before_pause(early);
	ptrace_pause();
	while_paused();
	for (int i = 0; i < 5; i++)
		free(early[i]);
	ptrace_resume();
	after_resume();
	for (int i = 0; i < 110; i++)
		sum += keep[i] != NULL;
	ptrace_region_end(); /* none open: counted, ignored */
	printf("blocks %ld\n", sum);
	return 0;
}
