/*
 * pthread_create: a new thread is set up (its record, its CPU timer) as it
 * starts, so that a thread that never allocates is sampled too. The start
 * routine is wrapped; the wrapper ends in a sibling call to the program's
 * routine, so no frame of ours stays on the thread's stack: return
 * values, pthread_exit and cancellation work as they would without us,
 * and stacks show start_thread -> the program's routine as usual.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>

#include "agent.h"
#include "cpu.h"
#include "sigown.h"

#define EXPORT __attribute__((visibility("default"), no_instrument_function))

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

struct start {
	void *(*routine)(void *);
	void *arg;
	int view;    /* the program's mask has the sampling signal blocked */
	int unblock; /* and so has the real one: an attribute's mask */
};

NI static void *thread_start(void *p)
{
	struct start s = *(struct start *)p;

	agent.real.free(p);
	/* The creator's mask, as the program sees it (sigown.h). */
	ts.mask_view = (uint8_t)s.view;
	if (s.unblock) {
		sigset_t one;

		sigemptyset(&one);
		sigaddset(&one, s.unblock);
		sigmask_real(SIG_UNBLOCK, &one, NULL);
	}
	if (ts.state == TS_UNINIT)
		agent_thread_init();
	return s.routine(s.arg); /* a sibling call: see above */
}

EXPORT int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*routine)(void *), void *arg)
{
	static create_fn real;
	create_fn f = __atomic_load_n(&real, __ATOMIC_ACQUIRE);
	struct start *s;
	int ret;

	if (!f) {
		f = (create_fn)dlsym(RTLD_NEXT, "pthread_create");
		__atomic_store_n(&real, f, __ATOMIC_RELEASE);
	}
	/* Set-up at start is for the sampler; without it, threads are set up
	 * at their first allocation as before. */
	if (__atomic_load_n(&agent.state, __ATOMIC_ACQUIRE) != AGENT_READY || !cpu_sampling() ||
	    !agent.real.malloc || !(s = agent.real.malloc(sizeof(*s))))
		return f(thread, attr, routine, arg);
	s->routine = routine;
	s->arg = arg;
	s->view = ts.mask_view;
	s->unblock = 0;
	if (attr) {
		/* pthread_attr_setsigmask_np: the thread starts with that mask. */
		sigset_t m;
		int sig = sigmask_kept();

		if (sig && pthread_attr_getsigmask_np(attr, &m) == 0) {
			s->view = sigismember(&m, sig) == 1;
			s->unblock = s->view ? sig : 0;
		}
	}
	ret = f(thread, attr, thread_start, s);
	if (ret)
		agent.real.free(s);
	return ret;
}
