/*
 * Function timing across ucontext switches (getcontext, makecontext,
 * swapcontext, setcontext): every context made with makecontext (a
 * coroutine) gets a shadow stack of its own, so that a switch changes
 * which stack the hooks push on instead of looking like calls that never
 * returned.
 *
 * The contexts that are running form a chain: the thread's own stack at
 * the bottom, then each coroutine above the context that resumed it, as a
 * call it made would be. Switching to a context in the chain (a coroutine
 * yielding back to its resumer) suspends the ones above it; switching to
 * one outside pushes it. While a coroutine runs, its resumer's top frame
 * is waiting in swapcontext: the time goes to the coroutine's frames, not
 * to the resumer's self time, and a coroutine's frames hang in the call
 * tree from the frame that resumed it first. While it is suspended, its
 * open calls' clocks stop: a coroutine's call lasts the time it ran.
 *
 * A ucontext_t is known by its address: getcontext and swapcontext save
 * a resume point there (the context and its depth); makecontext changes
 * the saved stack pointer, which is how a made context is told from a
 * saved one (makecontext itself is variadic and not wrapped).
 *
 * Everything here runs in the wrappers (shim/jmp.c) with the thread
 * marked busy, never in a hook.
 */
#ifndef PTRACE_FCTX_H
#define PTRACE_FCTX_H

#include <stdint.h>

#include "session_format.h"

struct fseg;

/* getcontext(uc) was called from a frame whose stack pointer is sp. */
void fctx_get(void *uc, uintptr_t sp);
/* swapcontext(save, to) is about to switch: save is resumed later. */
void fctx_swap(void *save, const void *to);
/* The thread runs as save again (swapcontext returned, or failed). */
void fctx_resumed(const void *save);
/* setcontext(to) is about to switch. */
void fctx_set(const void *to);

/* The stack the thread pushes on now (NULL: its own, no context used). */
struct fseg *fctx_current(void);
/* Make seg (NULL: the thread's own) the current stack at now. */
void fctx_switch(struct fseg *seg, uint64_t now);
/* The image record of the current stack; NULL for the thread's own. */
struct sf_fstack *fctx_current_record(void);
/* The thread ends or the process exits: back on the thread's own stack
 * (the coroutines stay suspended, closed by the launcher at its end). */
void fctx_end(uint64_t now);
/* In a fork child: contexts are the parent's; forget them. */
void fctx_forget(void);

#endif
