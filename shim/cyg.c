/*
 * The -finstrument-functions hooks. An instrumented program or library
 * calls these around every function body; without the agent they resolve
 * to glibc's empty ones. All the work is in agent/func.h.
 *
 * The frame address identifies the activation's depth on the stack: the
 * agent builds with frame pointers, so __builtin_frame_address(0) is the
 * caller's stack pointer minus 16 in both hooks alike.
 */
#include <stdint.h>

#include "agent.h"
#include "func.h"

#define EXPORT __attribute__((visibility("default"), no_instrument_function))

/* The bodies have hidden names too, so that the agent's start-up
 * measurement calls these even when the program defines hooks of its own
 * (which then win the exported names, and nothing is recorded). */
NI void func_hook_enter(void *this_fn, void *call_site)
{
	(void)call_site;
	func_enter((uint64_t)(uintptr_t)this_fn, (uintptr_t)__builtin_frame_address(0));
}

NI void func_hook_exit(void *this_fn, void *call_site)
{
	(void)call_site;
	func_exit((uint64_t)(uintptr_t)this_fn, (uintptr_t)__builtin_frame_address(0));
}

EXPORT void __cyg_profile_func_enter(void *this_fn, void *call_site) __attribute__((alias("func_hook_enter")));
EXPORT void __cyg_profile_func_exit(void *this_fn, void *call_site) __attribute__((alias("func_hook_exit")));
