/*
 * cpu_sigprof MODE: a program that profiles itself with SIGPROF, as
 * gperftools does. It first checks that SIGPROF looks untouched (SIG_DFL),
 * then installs its own handler (MODE sigaction or signal) and arms
 * ITIMER_PROF every 1 ms (MODE itimer-first: arms the timer first, 50 ms
 * ahead, then installs the handler with sigaction), burns 300 ms of CPU
 * in burn() and counts its ticks. With sigaction (SA_SIGINFO) it also
 * counts the SIGPROFs that came from a POSIX timer (si_code SI_TIMER): it
 * arms none, so those would be the sampler's, which must have stepped
 * aside. Prints "ticks N timer M" and exits 0 when N >= 20, M <= 1 (one
 * may be in flight as the handlers switch) and SIGPROF reads back as its
 * own handler; exits 1 otherwise (with a line saying why), 2 on a bad MODE.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static volatile sig_atomic_t ticks, timer_ticks;
static volatile unsigned long sink;

static void on_prof(int sig)
{
	(void)sig;
	ticks++;
}

static void on_prof_info(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	ticks++;
	if (si->si_code == SI_TIMER)
		timer_ticks++;
}

static long long cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void burn(long long ns)
{
	long long end = cpu_ns() + ns;

	while (cpu_ns() < end)
		for (int i = 0; i < 100000; i++)
			sink += (unsigned long)i;
}

static int install(const char *mode)
{
	struct sigaction sa, old;

	if (!strcmp(mode, "signal"))
		return signal(SIGPROF, on_prof) == SIG_DFL ? 0 : -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_prof_info;
	sa.sa_flags = SA_RESTART | SA_SIGINFO;
	return sigaction(SIGPROF, &sa, &old) == 0 && old.sa_handler == SIG_DFL ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct itimerval every_ms = {{0, 1000}, {0, 1000}}, later = {{0, 1000}, {0, 50000}};
	struct sigaction now;

	if (argc < 2 || (strcmp(argv[1], "sigaction") && strcmp(argv[1], "signal") && strcmp(argv[1], "itimer-first")))
		return 2;
	if (sigaction(SIGPROF, NULL, &now) || now.sa_handler != SIG_DFL) {
		printf("SIGPROF is not SIG_DFL at start\n");
		return 1;
	}
	if (!strcmp(argv[1], "itimer-first")) {
		if (setitimer(ITIMER_PROF, &later, NULL) || install("sigaction")) {
			printf("itimer-first set-up failed\n");
			return 1;
		}
	} else if (install(argv[1]) || setitimer(ITIMER_PROF, &every_ms, NULL)) {
		printf("%s set-up failed, or the old handler was not SIG_DFL\n", argv[1]);
		return 1;
	}
	burn(300000000LL);
	if (sigaction(SIGPROF, NULL, &now) ||
	    (now.sa_handler != on_prof && now.sa_sigaction != on_prof_info)) {
		printf("SIGPROF does not read back as our handler\n");
		return 1;
	}
	printf("ticks %d timer %d\n", (int)ticks, (int)timer_ticks);
	return ticks >= 20 && timer_ticks <= 1 ? 0 : 1;
}
