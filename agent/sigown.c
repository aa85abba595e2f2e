#include "sigown.h"

#include <dlfcn.h>
#include <errno.h>
#include <string.h>

#define NI __attribute__((no_instrument_function))

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);

struct held {
	int held;                 /* atomic: our handler is installed */
	struct sigaction view;    /* what the program believes is installed */
	sigown_release_fn release;
};

static struct held held[_NSIG];
static sigaction_fn real_sigaction;

NI int sigown_real(int sig, const struct sigaction *act, struct sigaction *old)
{
	sigaction_fn f = __atomic_load_n(&real_sigaction, __ATOMIC_ACQUIRE);

	if (!f) {
		/* First use, from a constructor or from the agent's init: never
		 * from a handler, since only we install handlers through here. */
		f = (sigaction_fn)dlsym(RTLD_NEXT, "sigaction");
		if (!f) {
			errno = ENOSYS;
			return -1;
		}
		__atomic_store_n(&real_sigaction, f, __ATOMIC_RELEASE);
	}
	return f(sig, act, old);
}

NI static int valid(int sig)
{
	return sig > 0 && sig < _NSIG;
}

NI static int is_default(const struct sigaction *sa)
{
	return sa->sa_handler == SIG_DFL;
}

NI int sigown_claim(int sig, sigown_handler_fn handler, int flags, const sigset_t *mask,
		    sigown_release_fn release)
{
	struct sigaction cur, act;

	if (!valid(sig))
		return -EINVAL;
	if (sigown_real(sig, NULL, &cur))
		return -errno;
	if (!is_default(&cur))
		return -EBUSY;
	memset(&act, 0, sizeof(act));
	act.sa_sigaction = handler;
	act.sa_flags = flags | SA_SIGINFO;
	if (mask)
		act.sa_mask = *mask;
	else
		sigemptyset(&act.sa_mask);
	held[sig].view = cur;
	held[sig].release = release;
	if (sigown_real(sig, &act, NULL))
		return -errno;
	__atomic_store_n(&held[sig].held, 1, __ATOMIC_RELEASE);
	return 0;
}

NI int sigown_held(int sig)
{
	return valid(sig) && __atomic_load_n(&held[sig].held, __ATOMIC_ACQUIRE);
}

NI void sigown_view(int sig, struct sigaction *out)
{
	if (valid(sig))
		*out = held[sig].view;
}

NI void sigown_drop(int sig)
{
	int one = 1;

	if (valid(sig) && __atomic_compare_exchange_n(&held[sig].held, &one, 0, 0, __ATOMIC_ACQ_REL,
						      __ATOMIC_RELAXED))
		sigown_real(sig, &held[sig].view, NULL);
}

NI void sigown_forget(int sig)
{
	if (valid(sig))
		__atomic_store_n(&held[sig].held, 0, __ATOMIC_RELEASE);
}

NI int sigown_sigaction(int sig, const struct sigaction *act, struct sigaction *old, int *ret)
{
	struct held *h;
	struct sigaction prev;
	int one = 1, saved = errno;

	if (!sigown_held(sig))
		return 0;
	h = &held[sig];
	prev = h->view;
	if (act && is_default(act)) {
		/* Our handler ends in what SIG_DFL does: keep it, remember
		 * what the program asked for. */
		h->view = *act;
	} else if (act) {
		if (!__atomic_compare_exchange_n(&h->held, &one, 0, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			return 0; /* let go meanwhile: the real call tells the truth */
		if (h->release)
			h->release(sig);
		/* One atomic switch from our handler to the program's: at no
		 * moment is SIG_DFL installed for a signal still in flight. */
		if (sigown_real(sig, act, NULL)) {
			*ret = -1;
			return 1;
		}
	}
	if (old)
		*old = prev;
	errno = saved;
	*ret = 0;
	return 1;
}
