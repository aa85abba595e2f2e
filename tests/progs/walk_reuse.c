/*
 * walk_reuse: a library loaded where an unloaded one was, with other
 * unwind rules at the same return address (tests/test_e2e_unwind.c).
 * dlopen()s libwalkreuse_a.so (next to this executable), allocates 50
 * blocks through its walk_entry(), dlclose()s it, dlopen()s
 * libwalkreuse_b.so into the hole and allocates 50 more through its own.
 * Prints "reuse same-base" when B's load bias is A's ("reuse other-base"
 * otherwise: the test requires the first). Exits 1 if loading fails.
 */
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[4096];

static void *load(const char *name, uintptr_t *bias)
{
	char path[4200];
	struct link_map *lm;
	void *h;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	h = dlopen(path, RTLD_NOW);
	if (!h || dlinfo(h, RTLD_DI_LINKMAP, &lm)) {
		fprintf(stderr, "walk_reuse: %s\n", dlerror());
		exit(1);
	}
	*bias = (uintptr_t)lm->l_addr;
	return h;
}

static void use(void *h)
{
	void *(*entry)(size_t) = (void *(*)(size_t))dlsym(h, "walk_entry");

	for (int i = 0; i < 50; i++)
		free(entry(100 + (size_t)i));
}

int main(void)
{
	uintptr_t a, b;
	ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	char *slash;
	void *h;

	if (n <= 0)
		return 1;
	dir[n] = '\0';
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	h = load("libwalkreuse_a.so", &a);
	use(h);
	dlclose(h);
	h = load("libwalkreuse_b.so", &b);
	use(h);
	dlclose(h);
	printf("reuse %s\n", a == b ? "same-base" : "other-base");
	return 0;
}
