/*
 * deepbind [libc]: a plugin opened with RTLD_DEEPBIND (found by its bare name
 * through the program's RUNPATH $ORIGIN) frees and reallocates the
 * program's blocks, the program frees and reallocates the plugin's, and
 * the program calls glibc's __libc_* names on blocks from malloc and
 * back. Natively all of it works: one allocator. Prints what it did, the
 * same natively and under the profiler; exits 0.
 *
 * Allocations whose frame 0 is main: 4 (a, b, c's realloc, d); in
 * libc_names 5 (the 30, e, e's realloc, f, g); in the plugin deep_realloc
 * 1 and deep_malloc 1; all freed. With "libc", only libc_names runs.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *__libc_malloc(size_t n);
void __libc_free(void *p);
void *__libc_realloc(void *p, size_t n);
void *__libc_memalign(size_t align, size_t n);

const char *which(void);

const char *which(void)
{
	return "program";
}

static void *sym(void *h, const char *name)
{
	void *p = dlsym(h, name);

	if (!p) {
		printf("no %s\n", name);
		exit(1);
	}
	return p;
}

static void libc_names(void);

int main(int argc, char **argv)
{
	void *h;
	const char *(*deep_which)(void);
	void (*deep_free)(void *);
	void *(*deep_realloc)(void *, size_t);
	void *(*deep_malloc)(size_t);
	void *(**deep_malloc_ptr)(size_t);
	char *a, *c, *d;
	void *b;

	if (argc > 1 && !strcmp(argv[1], "libc")) {
		libc_names();
		return 0;
	}
	h = dlopen("libdeep.so", RTLD_NOW | RTLD_DEEPBIND);
	if (!h) {
		printf("dlopen: %s\n", dlerror());
		return 1;
	}
	printf("dlerror after dlopen: %s\n", dlerror() ? "set" : "none");
	deep_which = (const char *(*)(void))sym(h, "deep_which");
	deep_free = (void (*)(void *))sym(h, "deep_free");
	deep_realloc = (void *(*)(void *, size_t))sym(h, "deep_realloc");
	deep_malloc = (void *(*)(size_t))sym(h, "deep_malloc");
	deep_malloc_ptr = (void *(**)(size_t))sym(h, "deep_malloc_ptr");
	printf("which: %s\n", deep_which());

	a = malloc(100);
	strcpy(a, "program block");
	a = deep_realloc(a, 100000);
	printf("plugin realloc kept: %s\n", a);
	deep_free(a);
	if (posix_memalign(&b, 4096, 4096))
		return 1;
	memset(b, 1, 4096);
	deep_free(b);
	printf("plugin freed the program's blocks\n");

	c = deep_malloc(50);
	strcpy(c, "plugin block");
	c = realloc(c, 5000);
	printf("program realloc kept: %s\n", c);
	free(c);
	d = (*deep_malloc_ptr)(10);
	free(d);
	printf("program freed the plugin's blocks\n");
	libc_names();
	return 0;
}

static void libc_names(void)
{
	char *e, *f, *g;

	__libc_free(malloc(30));
	e = malloc(40);
	strcpy(e, "malloc block");
	e = __libc_realloc(e, 4000);
	printf("__libc_realloc kept: %s\n", e);
	free(e);
	f = __libc_malloc(10);
	free(f);
	g = __libc_memalign(64, 100);
	__libc_free(g);
	printf("__libc_* ok\n");
}
