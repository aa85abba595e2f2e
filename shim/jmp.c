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
 */
#include <dlfcn.h>
#include <stdint.h>

#include "agent.h"
#include "func.h"

#define EXPORT __attribute__((visibility("default"), no_instrument_function))

enum jmp_which { JMP_SETJMP, JMP_USETJMP, JMP_SIGSETJMP, JMP_NSET };

static const char *const jmp_set_names[JMP_NSET] = {"setjmp", "_setjmp", "__sigsetjmp"};
static void *jmp_set_real[JMP_NSET];

/* Called by the trampolines below: the real function to jump to. */
NI void *jmp_setjmp_note(void *env, unsigned which);

NI void *jmp_setjmp_note(void *env, unsigned which)
{
	void *real = __atomic_load_n(&jmp_set_real[which], __ATOMIC_RELAXED);

	if (unlikely(!real)) {
		real = dlsym(RTLD_NEXT, jmp_set_names[which]);
		__atomic_store_n(&jmp_set_real[which], real, __ATOMIC_RELAXED);
	}
	func_jmp_mark(env);
	return real;
}

/*
 * At entry %rsp is 8 mod 16 (the return address); one push aligns it for
 * the call. %rdi (env) and, for __sigsetjmp, %esi (savemask) are the only
 * argument registers live; the C part keeps the callee-saved ones that
 * setjmp saves. %r11 is free at a call boundary.
 */
#define JMP_TRAMPOLINE(name, which)                                                                                   \
	__asm__(".text\n"                                                                                              \
		".globl " #name "\n"                                                                                   \
		".type " #name ",@function\n" #name ":\n"                                                              \
		"	push %rdi\n"                                                                                      \
		"	push %rsi\n"                                                                                      \
		"	sub $8, %rsp\n"                                                                                   \
		"	mov $" #which ", %esi\n"                                                                          \
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

typedef void (*longjmp_fn)(void *, int);

#define JMP_LONGJMP(cname, sym)                                                                                        \
	EXPORT __attribute__((noreturn)) void cname(void *env, int val) __asm__(sym);                                 \
	EXPORT __attribute__((noreturn)) void cname(void *env, int val)                                               \
	{                                                                                                              \
		static longjmp_fn real;                                                                                \
		longjmp_fn r = __atomic_load_n(&real, __ATOMIC_RELAXED);                                               \
                                                                                                                       \
		if (unlikely(!r)) {                                                                                    \
			r = (longjmp_fn)dlsym(RTLD_NEXT, sym);                                                         \
			__atomic_store_n(&real, r, __ATOMIC_RELAXED);                                                  \
		}                                                                                                      \
		func_jmp_take(env);                                                                                    \
		r(env, val);                                                                                           \
		__builtin_unreachable();                                                                               \
	}

JMP_LONGJMP(jmp_longjmp, "longjmp")
JMP_LONGJMP(jmp_ulongjmp, "_longjmp")
JMP_LONGJMP(jmp_siglongjmp, "siglongjmp")
JMP_LONGJMP(jmp_longjmp_chk, "__longjmp_chk")
