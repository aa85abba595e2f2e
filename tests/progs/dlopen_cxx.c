/*
 * dlopen_cxx: a C program (no C++ runtime of its own) that dlopens a C++
 * library RTLD_LOCAL and lets it throw and catch 100 exceptions. The
 * library's catch handlers call __cxa_begin_catch, which binds to the
 * agent's (a global symbol) while libstdc++ is only in the library's
 * scope. Prints "caught=100"; argv[1], when given, is the number of throws.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	char path[4096];
	const char *slash = strrchr(argv[0], '/');
	void *h;
	int (*run)(int);
	int n = argc > 1 ? atoi(argv[1]) : 100;

	snprintf(path, sizeof(path), "%.*slibcxxcatch.so", slash ? (int)(slash - argv[0] + 1) : 0, argv[0]);
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "%s\n", dlerror());
		return 1;
	}
	run = (int (*)(int))dlsym(h, "cxxcatch_run");
	printf("caught=%d\n", run ? run(n) : -1);
	return 0;
}
