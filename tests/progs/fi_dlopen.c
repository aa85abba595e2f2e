/*
 * fi_dlopen (built with -finstrument-functions): dlopen()s
 * libfiplugin.so (next to this executable, also instrumented), calls
 * plugin_entry(500) twice through call_plugin(), dlclose()s it, loads it
 * again and calls plugin_entry(250) once more, then dlclose()s it.
 *
 *   plugin_entry calls 3, plugin_leaf calls 1250, both in a module
 *   ending in /libfiplugin.so, file tests/progs/plugin/fiplugin.c
 *   call_plugin calls 3; tree call_plugin -> plugin_entry -> plugin_leaf
 * Exits 1 with dlerror() on stderr if loading fails.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[4096];

static void die(const char *what)
{
	fprintf(stderr, "fi_dlopen: %s\n", what);
	exit(1);
}

void call_plugin(void (*entry)(int), int n)
{
	entry(n);
}

void load_and_call(int times, int n)
{
	void (*entry)(int);
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (!h)
		die(dlerror());
	*(void **)&entry = dlsym(h, "plugin_entry");
	if (!entry)
		die(dlerror());
	for (int i = 0; i < times; i++)
		call_plugin(entry, n);
	if (dlclose(h))
		die(dlerror());
}

int main(void)
{
	ssize_t n = readlink("/proc/self/exe", path, sizeof path - 32);
	char *slash;

	if (n <= 0)
		die("readlink /proc/self/exe failed");
	path[n] = '\0';
	slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, "libfiplugin.so");
	load_and_call(2, 500);
	load_and_call(1, 250);
	return 0;
}
