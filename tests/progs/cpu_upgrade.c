/*
 * cpu_upgrade: how threads are sampled. main burns 50 ms of its own CPU
 * time, then starts 20 threads that only wait (on a barrier, until the
 * others are done) and 3 that burn 100 ms each ("burn-a", "burn-b",
 * "burn-c"), in spin(). No stdio. Exits 0, or 1 if a pthread call fails.
 *
 * Under ptrace-run at 1000 Hz (where RLIMIT_SIGPENDING has room): every
 * thread starts on a POSIX timer; the 4 that burn move to a perf event
 * at their first sample, the 20 that wait never run a period and keep
 * theirs. Each burner ~100 samples, exactly as if it had had a perf
 * event from its start.
 */
#include <pthread.h>
#include <time.h>

#define IDLE 20
#define BURN 3

#include "cpu_spin.h"
static pthread_barrier_t done;


static void *idler(void *arg)
{
	pthread_setname_np(pthread_self(), "idle");
	pthread_barrier_wait(&done);
	return arg;
}

static void *burner(void *arg)
{
	static const char *names[BURN] = {"burn-a", "burn-b", "burn-c"};

	pthread_setname_np(pthread_self(), names[(long)arg]);
	spin(100 * 1000000LL);
	return arg;
}

int main(void)
{
	pthread_t idle[IDLE], burn[BURN];

	spin(50 * 1000000LL);
	if (pthread_barrier_init(&done, NULL, IDLE + 1))
		return 1;
	for (int i = 0; i < IDLE; i++)
		if (pthread_create(&idle[i], NULL, idler, NULL))
			return 1;
	for (long i = 0; i < BURN; i++)
		if (pthread_create(&burn[i], NULL, burner, (void *)i))
			return 1;
	for (int i = 0; i < BURN; i++)
		if (pthread_join(burn[i], NULL))
			return 1;
	pthread_barrier_wait(&done);
	for (int i = 0; i < IDLE; i++)
		if (pthread_join(idle[i], NULL))
			return 1;
	return 0;
}
