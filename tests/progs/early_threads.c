/*
 * early_threads: linked against libearly.so (threads allocating from a
 * library constructor, before main) with RUNPATH $ORIGIN; then dlopens
 * "libplugin.so" by bare name, which only works when dlopen sees this
 * program as its caller (RUNPATH of the caller). Exits 0 when the plugin
 * loaded, 3 otherwise.
 */
#include <dlfcn.h>
#include <unistd.h>

int main(void)
{
	void *h = dlopen("libplugin.so", RTLD_NOW);

	if (!h) {
		const char *e = dlerror();
		size_t n = 0;
		while (e && e[n])
			n++;
		if (write(2, e, n) < 0)
			return 4;
		return 3;
	}
	dlclose(h);
	return 0;
}
