/*
 * libdeep.so, for deepbind: opened with RTLD_DEEPBIND, so its references
 * bind to its own definitions and its dependencies (libc's allocator)
 * before the global scope. which() is also defined by the program:
 * deep_which() says whose it got ("plugin" under deep binding).
 */
#include <stdlib.h>

const char *which(void);
const char *deep_which(void);
void deep_free(void *p);
void *deep_realloc(void *p, size_t n);
void *deep_malloc(size_t n);

/* A pointer in data (an absolute relocation, not a call). */
void *(*deep_malloc_ptr)(size_t) = malloc;

const char *which(void)
{
	return "plugin";
}

const char *deep_which(void)
{
	return which();
}

void deep_free(void *p)
{
	free(p);
}

void *deep_realloc(void *p, size_t n)
{
	return realloc(p, n); /* @deep:realloc */
}

void *deep_malloc(size_t n)
{
	return malloc(n); /* @deep:malloc */
}
