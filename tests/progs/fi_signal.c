/*
 * fi_signal (built with -finstrument-functions): signal handlers that run
 * instrumented code.
 *
 * 1. work() raises SIGUSR1 100 times; the handler on_usr1() calls
 *    handler_work() and returns:
 *      on_usr1 calls 100, called by work; handler_work calls 100.
 * 2. jumper() raises SIGUSR2 50 times; the handler on_usr2() calls
 *    escape(), which siglongjmps back into jumper():
 *      on_usr2 and escape calls 50 each, unwound 50 each.
 * 3. storm(): a 100 us interval timer (SIGALRM) while spin() calls tick()
 *    500,000 times; the handler on_alarm() counts itself. Some alarms
 *    land inside a hook: those calls are not tracked but counted.
 *      tick calls 500000 exactly;
 *      on_alarm calls + calls_in_hooks = the count printed.
 *
 * Prints "alarms=N". Unmatched exits: 0.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

static sigjmp_buf env;
static volatile sig_atomic_t alarms;
static volatile int sink;

void handler_work(void)
{
	sink++;
}

void on_usr1(int sig)
{
	(void)sig;
	handler_work();
}

void work(void)
{
	for (int i = 0; i < 100; i++)
		raise(SIGUSR1);
}

void escape(void)
{
	siglongjmp(env, 1);
}

void on_usr2(int sig)
{
	(void)sig;
	escape();
}

void jumper(void)
{
	volatile int i;

	for (i = 0; i < 50; i++)
		if (sigsetjmp(env, 1) == 0)
			raise(SIGUSR2);
}

void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

void tick(void)
{
	sink++;
}

void spin(void)
{
	for (int i = 0; i < 500000; i++)
		tick();
}

void storm(void)
{
	struct itimerval it = {{0, 100}, {0, 100}}, off = {{0, 0}, {0, 0}};

	setitimer(ITIMER_REAL, &it, NULL);
	spin();
	setitimer(ITIMER_REAL, &off, NULL);
}

static void set_handler(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = SA_RESTART;
	sigaction(sig, &sa, NULL);
}

int main(void)
{
	set_handler(SIGUSR1, on_usr1);
	set_handler(SIGUSR2, on_usr2);
	set_handler(SIGALRM, on_alarm);
	work();
	jumper();
	storm();
	printf("alarms=%d\n", (int)alarms);
	return 0;
}
