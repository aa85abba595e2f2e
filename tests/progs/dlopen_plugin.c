/*
 * dlopen_plugin: dlopen()s libplugin.so (next to this executable), calls
 * plugin_leak(), which leaks one block of 777 bytes at plugin.c's
 * @plugin:leak, dlclose()s the plugin, then leaks 4242 bytes of its own from
 * after_unload() at @site:after, after the plugin's addresses are gone.
 *
 *   site with frame 0 plugin_leak   allocations 1, bytes 777, live 1 block,
 *                                   module ending in /libplugin.so, file
 *                                   tests/progs/plugin/plugin.c
 *   site with frame 0 after_unload  allocations 1, bytes 4242, live 1 block
 *
 * dlopen and dlclose themselves allocate and free in ld.so on the program's
 * behalf, so the process totals are not asserted for this one. Writes
 * nothing on success; exits 1 with dlerror() on stderr if loading fails.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *mine;

static void die(const char *what)
{
	write(2, "dlopen_plugin: ", 15);
	write(2, what, strlen(what));
	write(2, "\n", 1);
	exit(1);
}

static void after_unload(void)
{
	mine = malloc(4242); /* @site:after */
}

int main(void)
{
	static char path[4096];
	void *(*leak)(void);
	void *h;
	ssize_t n;
	char *slash;

	n = readlink("/proc/self/exe", path, sizeof path - 32);
	if (n <= 0)
		die("readlink /proc/self/exe failed");
	path[n] = '\0';
	slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, "libplugin.so");

	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		die(dlerror());
	*(void **)&leak = dlsym(h, "plugin_leak");
	if (!leak)
		die(dlerror());
	if (!leak())
		die("plugin_leak returned NULL");
	if (dlclose(h))
		die(dlerror());
	after_unload();
	return 0;
}
