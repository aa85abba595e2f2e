/*
 * fi_tsd (built with -finstrument-functions): threads whose TSD
 * destructor runs instrumented code after the agent saw the thread exit
 * (the agent's own key is created first, so its destructor runs first).
 * `fi_tsd N` runs N threads one after the other (default 1), thread k
 * named "tsd-<k>" before its first instrumented call; each runs
 * worker() -> work_step() 50 times, then sets its key, whose destructor
 * tsd_cleanup() calls cleanup_step() 7 times. Between two threads the
 * program sleeps 20 ms, so the next one usually reuses the first one's
 * thread record.
 *
 *   per thread: worker 1 + work_step 50 + tsd_cleanup 1 + cleanup_step 7
 *   = 59 calls; main 1 call; work_step 50 N calls, cleanup_step 7 N
 * Prints "tsd=N"; exits 1 if a pthread call fails.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_key_t key;
static volatile int sink;

void work_step(void)
{
	sink++;
}

void cleanup_step(void)
{
	sink++;
}

void tsd_cleanup(void *value)
{
	(void)value;
	for (int i = 0; i < 7; i++)
		cleanup_step();
}

void worker(int n)
{
	for (int i = 0; i < n; i++)
		work_step();
	pthread_setspecific(key, &key);
}

/* Names the thread before any instrumented call of it. */
__attribute__((no_instrument_function)) static void *start(void *arg)
{
	char name[16];

	snprintf(name, sizeof(name), "tsd-%d", (int)(long)arg);
	pthread_setname_np(pthread_self(), name);
	worker(50);
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1;
	pthread_t t;

	if (pthread_key_create(&key, tsd_cleanup))
		return 1;
	for (int k = 0; k < n; k++) {
		if (k)
			usleep(20000);
		if (pthread_create(&t, NULL, start, (void *)(long)k) || pthread_join(t, NULL))
			return 1;
	}
	printf("tsd=%d\n", n);
	return 0;
}
