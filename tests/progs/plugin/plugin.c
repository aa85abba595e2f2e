/*
 * libplugin.so, for dlopen_plugin: plugin_leak() allocates one block of
 * PLUGIN_LEAK_SIZE (777) bytes at the line marked @plugin:leak and drops it.
 */
#include <stdlib.h>

#define PLUGIN_LEAK_SIZE 777

void *plugin_leak(void);

static void *volatile last;

void *plugin_leak(void)
{
	void *p = malloc(PLUGIN_LEAK_SIZE); /* @plugin:leak */

	last = p;
	return p;
}
