/*
 * setjmp and longjmp, followed for function timing: a longjmp abandons
 * every frame above the one that called setjmp, and their exit hooks never
 * run. setjmp records the shadow stack's top under the jmp_buf's address
 * (func_jmp_mark), longjmp closes the frames above it just before the
 * jump (func_jmp_take), so calls made after the jump hang from the frame
 * that called setjmp, whatever their stack addresses.
 *
 * setjmp returns twice, so it cannot be wrapped by a C function (its frame
 * would be gone at the second return): each one is a few instructions of
 * assembly that call the C part with the arguments saved, then jump to
 * the real one with the caller's stack and return address untouched. The
 * longjmp family never returns, so plain C wrappers do.
 *
 * The ucontext family likewise (agent/fctx.h): getcontext returns twice
 * (a trampoline), swapcontext returns when the context it saved is
 * resumed (a C wrapper sees both sides), setcontext never returns.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <ucontext.h>

#include "agent.h"
#include "fctx.h"
#include "func.h"

#define EXPORT __attribute__((visibility("default"), no_instrument_function))

/* libc's own functions, by index: the first four are the trampolines'
 * (their index is in the assembly below). */
enum jmp_which {
	JMP_SETJMP,
	JMP_USETJMP,
	JMP_SIGSETJMP,
	JMP_GETCONTEXT,
	JMP_LONGJMP,
	JMP_ULONGJMP,
	JMP_SIGLONGJMP,
	JMP_LONGJMP_CHK,
	JMP_SWAPCONTEXT,
	JMP_SETCONTEXT,
	JMP_NREAL
};

static const char *const jmp_names[JMP_NREAL] = {
    "setjmp",  "_setjmp",	 "__sigsetjmp",	  "getcontext", "longjmp",
    "_longjmp", "siglongjmp", "__longjmp_chk", "swapcontext", "setcontext",
};
static void *jmp_real_fns[JMP_NREAL];

/*
 * The real function. Looked up at load time (jmp_resolve): dlsym takes the
 * loader's lock, and a first sigsetjmp or siglongjmp may come from a
 * signal handler or a fork child; the lookup here is for calls made by
 * constructors that ran before ours.
 */
static inline void *jmp_real(unsigned which)
{
	void *f = __atomic_load_n(&jmp_real_fns[which], __ATOMIC_RELAXED);

	if (unlikely(!f)) {
		f = dlsym(RTLD_NEXT, jmp_names[which]);
		__atomic_store_n(&jmp_real_fns[which], f, __ATOMIC_RELAXED);
	}
	return f;
}

__attribute__((constructor)) NI static void jmp_resolve(void)
{
	for (unsigned i = 0; i < JMP_NREAL; i++)
		(void)jmp_real(i);
}

/* Called by the trampolines below with the caller's stack pointer (what
 * the real function saves): the real function to jump to. */
NI void *jmp_setjmp_note(void *env, unsigned which, uintptr_t sp);

NI void *jmp_setjmp_note(void *env, unsigned which, uintptr_t sp)
{
	void *real = jmp_real(which);

	if (which == JMP_GETCONTEXT)
		fctx_get(env, sp);
	else
		func_jmp_mark(env);
	return real;
}

/*
 * At entry %rsp is 8 mod 16 (the return address); two pushes and 8 bytes
 * align it for the call. %rdi (env) and, for __sigsetjmp, %esi (savemask)
 * are the only argument registers live; the C part keeps the
 * callee-saved ones that setjmp saves. The caller's stack pointer after
 * the return is the entry's plus 8: %rsp + 32 at the call. %r11 is free
 * at a call boundary.
 */
#define JMP_TRAMPOLINE(name, which)                                                                                   \
	__asm__(".text\n"                                                                                              \
		".globl " #name "\n"                                                                                   \
		".type " #name ",@function\n" #name ":\n"                                                              \
		"	push %rdi\n"                                                                                      \
		"	push %rsi\n"                                                                                      \
		"	sub $8, %rsp\n"                                                                                   \
		"	mov $" #which ", %esi\n"                                                                          \
		"	lea 32(%rsp), %rdx\n"                                                                            \
		"	call jmp_setjmp_note\n"                                                                           \
		"	mov %rax, %r11\n"                                                                                 \
		"	add $8, %rsp\n"                                                                                   \
		"	pop %rsi\n"                                                                                       \
		"	pop %rdi\n"                                                                                       \
		"	jmp *%r11\n"                                                                                      \
		".size " #name ", .-" #name "\n")

JMP_TRAMPOLINE(setjmp, 0);
JMP_TRAMPOLINE(_setjmp, 1);
JMP_TRAMPOLINE(__sigsetjmp, 2);
JMP_TRAMPOLINE(getcontext, 3);

typedef void (*longjmp_fn)(void *, int);

#define JMP_LONGJMP(cname, sym, which)                                                                                 \
	EXPORT __attribute__((noreturn)) void cname(void *env, int val) __asm__(sym);                                 \
	EXPORT __attribute__((noreturn)) void cname(void *env, int val)                                               \
	{                                                                                                              \
		longjmp_fn r = (longjmp_fn)jmp_real(which);                                                            \
                                                                                                                       \
		func_jmp_take(env);                                                                                    \
		r(env, val);                                                                                           \
		__builtin_unreachable();                                                                               \
	}

JMP_LONGJMP(jmp_longjmp, "longjmp", JMP_LONGJMP)
JMP_LONGJMP(jmp_ulongjmp, "_longjmp", JMP_ULONGJMP)
JMP_LONGJMP(jmp_siglongjmp, "siglongjmp", JMP_SIGLONGJMP)
JMP_LONGJMP(jmp_longjmp_chk, "__longjmp_chk", JMP_LONGJMP_CHK)

typedef int (*swapcontext_fn)(ucontext_t *, const ucontext_t *);
typedef int (*setcontext_fn)(const ucontext_t *);

EXPORT int swapcontext(ucontext_t *save, const ucontext_t *to)
{
	swapcontext_fn r = (swapcontext_fn)jmp_real(JMP_SWAPCONTEXT);
	int ret;

	fctx_swap(save, to);
	ret = r(save, to);
	/* Here when save is resumed (or the switch failed). */
	fctx_resumed(save);
	return ret;
}

EXPORT int setcontext(const ucontext_t *to)
{
	setcontext_fn r = (setcontext_fn)jmp_real(JMP_SETCONTEXT);

	fctx_set(to);
	return r(to);
}

/*
 * C++ exceptions: g++ runs the exit hooks of the frames an exception
 * leaves (in cleanups), clang++ does not. A catch handler starts with
 * __cxa_begin_catch, called from the catching function's own frame: the
 * frames below that level on its stack are gone, and the callees inlined
 * into it that were open (func_catch).
 */
typedef void *(*begin_catch_fn)(void *);

/*
 * The C++ runtime's own. Not always in the global scope: a C program
 * that dlopens a C++ library RTLD_LOCAL has libstdc++ only in that
 * library's scope, yet the library's references bind to ours (we are
 * global): then it is found by its name among the loaded objects.
 */
NI static begin_catch_fn jmp_real_begin_catch(void)
{
	static const char *const libs[] = {"libstdc++.so.6", "libc++abi.so.1", "libc++.so.1"};
	void *f = dlsym(RTLD_NEXT, "__cxa_begin_catch");

	for (size_t i = 0; !f && i < sizeof(libs) / sizeof(libs[0]); i++) {
		void *h = dlopen(libs[i], RTLD_LAZY | RTLD_NOLOAD);

		if (h)
			f = dlsym(h, "__cxa_begin_catch");
	}
	return (begin_catch_fn)f;
}

EXPORT void *__cxa_begin_catch(void *exc);
EXPORT void *__cxa_begin_catch(void *exc)
{
	static begin_catch_fn real;
	begin_catch_fn r = __atomic_load_n(&real, __ATOMIC_RELAXED);

	if (unlikely(!r)) {
		r = jmp_real_begin_catch();
		if (!r)
			__builtin_trap(); /* a catch with no C++ runtime loaded: impossible */
		__atomic_store_n(&real, r, __ATOMIC_RELAXED);
	}
	func_catch((uintptr_t)__builtin_frame_address(0), (uintptr_t)__builtin_return_address(0));
	return r(exc);
}
