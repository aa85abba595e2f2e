/*
 * cygcount: the exact number of calls of every instrumented function, the
 * reference bench/lua checks both profilers' call counts against. Preloaded
 * into a -finstrument-functions program, its enter hook counts each entry
 * by function address; the exit hook does nothing. An entry is counted
 * whatever happens to the call afterwards (a longjmp out of it, an exit()),
 * so the counts need no pairing of enter with exit at all: they are what
 * "calls" means, and what a profiler's calls must equal.
 *
 *   cc -O2 -shared -fPIC -o libcygcount.so cygcount.c -ldl
 *   CYGCOUNT_OUT=FILE LD_PRELOAD=./libcygcount.so ./app
 *
 * At exit it writes one line per function to FILE: the function's offset
 * from its module's load address (hex), its calls, and the module's path.
 * Single-threaded programs only: the counters are plain increments (enough
 * for the Lua interpreter, which bench/lua runs).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define NOINSTR __attribute__((no_instrument_function))
#define SLOTS (1u << 16) /* power of two, far more than a program's functions */

struct cygcount_slot {
	void *fn;                 /* NULL: free */
	unsigned long long calls; /* entries seen */
};

static struct cygcount_slot cygcount_table[SLOTS];
static unsigned long long cygcount_lost; /* entries beyond a full table */

NOINSTR void __cyg_profile_func_enter(void *fn, void *site);
NOINSTR void __cyg_profile_func_exit(void *fn, void *site);

NOINSTR void __cyg_profile_func_enter(void *fn, void *site)
{
	uintptr_t h = ((uintptr_t)fn >> 4) * 0x9e3779b97f4a7c15ull;
	unsigned i = (unsigned)(h >> 48) & (SLOTS - 1);

	(void)site;
	for (unsigned n = 0; n < SLOTS; n++, i = (i + 1) & (SLOTS - 1)) {
		struct cygcount_slot *s = &cygcount_table[i];

		if (s->fn == fn) {
			s->calls++;
			return;
		}
		if (!s->fn) {
			s->fn = fn;
			s->calls = 1;
			return;
		}
	}
	cygcount_lost++;
}

NOINSTR void __cyg_profile_func_exit(void *fn, void *site)
{
	(void)fn;
	(void)site;
}

static NOINSTR __attribute__((destructor)) void cygcount_write(void)
{
	const char *path = getenv("CYGCOUNT_OUT");
	FILE *f;

	if (!path || !(f = fopen(path, "w")))
		return;
	for (unsigned i = 0; i < SLOTS; i++) {
		struct cygcount_slot *s = &cygcount_table[i];
		Dl_info info;

		if (!s->fn)
			continue;
		if (dladdr(s->fn, &info) && info.dli_fname)
			fprintf(f, "%lx %llu %s\n", (unsigned long)((uintptr_t)s->fn - (uintptr_t)info.dli_fbase),
				s->calls, info.dli_fname);
		else
			fprintf(f, "%lx %llu ?\n", (unsigned long)(uintptr_t)s->fn, s->calls);
	}
	if (cygcount_lost)
		fprintf(f, "lost %llu\n", cygcount_lost);
	fclose(f);
}
