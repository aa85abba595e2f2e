#include "modules.h"

#include <link.h>
#include <string.h>

#include "agent.h"
#include "func.h"
#include "image.h"

struct scan_ctx {
	int mark;
	uint32_t seen_gen;
};

NI static struct sf_module *modules_find(uint64_t bias, const char *path)
{
	for (struct sf_module *m = image_ptr(__atomic_load_n(&agent.proc->modules, __ATOMIC_ACQUIRE)); m;
	     m = image_ptr(m->next))
		if (m->bias == bias && !m->unloaded && !strcmp(m->path, path))
			return m;
	return NULL;
}

NI static const char *module_path(struct dl_phdr_info *info)
{
	if (info->dlpi_name && info->dlpi_name[0])
		return info->dlpi_name;
	/* The main program has an empty name; the vdso has no file. */
	return agent.proc->exe;
}

NI static void module_extent(struct dl_phdr_info *info, uint64_t *lo, uint64_t *hi)
{
	*lo = UINT64_MAX;
	*hi = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uint64_t a, b;

		if (ph->p_type != PT_LOAD)
			continue;
		a = info->dlpi_addr + ph->p_vaddr;
		b = a + ph->p_memsz;
		if (a < *lo)
			*lo = a;
		if (b > *hi)
			*hi = b;
	}
	if (*lo > *hi)
		*lo = *hi = 0;
}

NI static int scan_one(struct dl_phdr_info *info, size_t size, void *arg)
{
	const char *path = module_path(info);
	struct sf_module *m;
	uint64_t lo, hi;
	size_t len;
	sf_off off;

	(void)size;
	(void)arg;
	if (info->dlpi_name && !strncmp(info->dlpi_name, "linux-vdso", 10))
		return 0;
	if (modules_find(info->dlpi_addr, path))
		return 0;
	len = strlen(path);
	off = image_alloc(sizeof(*m) + len + 1);
	if (!off)
		return 1;
	m = image_ptr(off);
	module_extent(info, &lo, &hi);
	m->bias = info->dlpi_addr;
	m->start = lo;
	m->end = hi;
	m->unloaded = 0;
	m->gen_loaded = __atomic_load_n(&agent.proc->map_gen, __ATOMIC_RELAXED);
	m->path_len = (uint32_t)len;
	memcpy(m->path, path, len + 1);
	image_list_push(&agent.proc->modules, off, &m->next);
	return 0;
}

NI static int mark_one(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct sf_module *m = arg;

	(void)size;
	if (m->bias == info->dlpi_addr && !strcmp(m->path, module_path(info))) {
		m->unloaded = 0;
		return 1;
	}
	return 0;
}

NI void modules_scan(int mark_unloaded)
{
	if (!agent.proc || __atomic_exchange_n(&agent.modules_busy, 1, __ATOMIC_ACQUIRE)) {
		__atomic_store_n(&agent.modules_dirty, 1, __ATOMIC_RELAXED);
		return;
	}
	__atomic_store_n(&agent.modules_dirty, 0, __ATOMIC_RELAXED);
	dl_iterate_phdr(scan_one, NULL);
	if (mark_unloaded) {
		uint32_t gen = __atomic_load_n(&agent.proc->map_gen, __ATOMIC_RELAXED);
		int gone = 0;

		for (struct sf_module *m = image_ptr(agent.proc->modules); m; m = image_ptr(m->next)) {
			if (m->unloaded)
				continue;
			m->unloaded = 1;
			dl_iterate_phdr(mark_one, m); /* clears it again when found */
			if (m->unloaded) {
				m->gen_unloaded = gen + 1;
				gone = 1;
			}
		}
		/* Release: a thread that sees the new generation names new
		 * function entries by it (func.c), never by the unloaded code. */
		if (gone) {
			__atomic_store_n(&agent.proc->map_gen, gen + 1, __ATOMIC_RELEASE);
			func_map_changed(gen + 1);
		}
	}
	__atomic_store_n(&agent.modules_busy, 0, __ATOMIC_RELEASE);
}

struct range_ctx {
	uint64_t addr, lo, hi;
	int found;
};

NI static int range_one(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct range_ctx *c = arg;
	uint64_t lo, hi;

	(void)size;
	module_extent(info, &lo, &hi);
	if (c->addr >= lo && c->addr < hi) {
		c->lo = lo;
		c->hi = hi;
		c->found = 1;
		return 1;
	}
	return 0;
}

NI int modules_range_of(const void *addr, uint64_t *lo, uint64_t *hi)
{
	struct range_ctx c = {.addr = (uint64_t)(uintptr_t)addr};

	dl_iterate_phdr(range_one, &c);
	if (!c.found)
		return -1;
	*lo = c.lo;
	*hi = c.hi;
	return 0;
}
