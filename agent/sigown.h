/*
 * Signals the agent handles while the program is not looking: the
 * sampling signal (agent/cpu.h), the dump signal, the fatal signals for
 * crash reports. For each one held, sigown keeps the program's view: the disposition
 * sigaction() would report had the agent not been there, so a program
 * that asks sees what it set (or SIG_DFL), never our handler.
 *
 * The program stays the owner. Setting SIG_DFL only updates the view (our
 * handler behaves as the default does: it records, then the signal does
 * what it would have done). Installing a handler of its own, or SIG_IGN,
 * makes the agent let go of that signal for good: the release callback
 * runs (the sampler disarms its timers) and the program's disposition is
 * installed for real.
 *
 * Everything here is async-signal-safe: the program may call sigaction()
 * from a handler.
 */
#ifndef PTRACE_SIGOWN_H
#define PTRACE_SIGOWN_H

#include <signal.h>

typedef void (*sigown_handler_fn)(int, siginfo_t *, void *);

/* Called once when the program takes sig over, before its own
 * disposition is installed. */
typedef void (*sigown_release_fn)(int sig);

/* libc's sigaction, whatever the interposition. 0 or -1 with errno. */
int sigown_real(int sig, const struct sigaction *act, struct sigaction *old);

/* Install handler for sig (SA_SIGINFO added) if the program left sig at
 * SIG_DFL. 0; -EBUSY when sig is handled or ignored already (nothing
 * changed); -EINVAL; -errno of sigaction. */
int sigown_claim(int sig, sigown_handler_fn handler, int flags, const sigset_t *mask,
		 sigown_release_fn release);

/* 1 while the agent's handler is installed for sig. */
int sigown_held(int sig);

/* The program's view of a held signal. */
void sigown_view(int sig, struct sigaction *out);

/* Give sig back: the view becomes the real disposition; no callback. */
void sigown_drop(int sig);

/* The kernel already reset sig to SIG_DFL (SA_RESETHAND): stop holding it. */
void sigown_forget(int sig);

/*
 * The program's sigaction(sig, act, old), for the shim. Returns 1 when it
 * was handled here (*ret is what sigaction returns, errno set on -1), 0
 * when the caller must pass the call to libc unchanged.
 */
int sigown_sigaction(int sig, const struct sigaction *act, struct sigaction *old, int *ret);

/*
 * The sampling signal is never blocked for real (shim/signal.c): a thread
 * that blocks every signal (xz's workers, thread pools that leave signals
 * to the main thread) is sampled all the same, while the program sees the
 * mask it set (ts.mask_view). The edges where the real mask escapes:
 */
/* The signal the program's masks are kept from blocking; 0 none. */
int sigmask_kept(void);
/* Before an exec: the signal blocked for real if the program has it
 * blocked (the new image inherits the mask), our pending one dropped.
 * 1 if it did; sigmask_exec_failed undoes it. */
int sigmask_exec(void);
void sigmask_exec_failed(int did);
/* The mask a spawned child must start with when the program's view
 * differs from the real one (it has the signal blocked): 1 and *out set,
 * or 0 (the child inherits the real mask, which is right). */
int sigmask_child(sigset_t *out);
/* libc's pthread_sigmask, never filtered: the agent's own use. */
int sigmask_real(int how, const sigset_t *set, sigset_t *old);

#endif
