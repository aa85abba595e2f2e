/*
 * fi_reuse (built with -finstrument-functions): a library loaded where an
 * unloaded one was. dlopen()s libfi_reuse_a.so (next to this executable),
 * calls alpha_entry(300) once through call_lib(), dlclose()s it, then
 * dlopen()s libfi_reuse_b.so, which the kernel maps into the hole A left
 * (same size; nothing is mapped in between), and calls omega_entry(100)
 * twice through call_lib(). A's and B's functions have the same offsets,
 * so the same addresses in two map generations.
 *
 *   alpha_entry 1 call, alpha_leaf 300, module .../libfi_reuse_a.so
 *   omega_entry 2 calls, omega_leaf 200, module .../libfi_reuse_b.so
 *   call_lib 3 calls
 * Prints "reuse same-base" when B's load bias is A's, "reuse other-base"
 * otherwise (the test requires the first). Exits 1 with dlerror() on
 * stderr if loading fails.
 */
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[4096];

static void die(const char *what)
{
	fprintf(stderr, "fi_reuse: %s\n", what);
	exit(1);
}

void call_lib(void (*entry)(int), int n)
{
	entry(n);
}

/* dlopen dir/name; *bias gets its load bias. */
static void *load(const char *name, uintptr_t *bias)
{
	char path[4200];
	struct link_map *lm;
	void *h;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		die(dlerror());
	if (dlinfo(h, RTLD_DI_LINKMAP, &lm))
		die(dlerror());
	*bias = lm->l_addr;
	return h;
}

static void (*entry_of(void *h, const char *sym))(int)
{
	void (*entry)(int);

	*(void **)&entry = dlsym(h, sym);
	if (!entry)
		die(dlerror());
	return entry;
}

int main(void)
{
	ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
	uintptr_t bias_a, bias_b;
	void (*entry)(int);
	char *slash;
	void *h;

	if (n <= 0)
		die("readlink /proc/self/exe failed");
	dir[n] = '\0';
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	h = load("libfi_reuse_a.so", &bias_a);
	call_lib(entry_of(h, "alpha_entry"), 300);
	if (dlclose(h))
		die(dlerror());
	h = load("libfi_reuse_b.so", &bias_b);
	entry = entry_of(h, "omega_entry");
	call_lib(entry, 100);
	call_lib(entry, 100);
	printf("reuse %s\n", bias_a == bias_b ? "same-base" : "other-base");
	if (dlclose(h))
		die(dlerror());
	return 0;
}
