#include "modules.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "agent.h"
#include "func.h"
#include "image.h"

#define MAPS_SEEN 256 /* objects remembered per maps scan for mark_unloaded */

/* Is an object at this bias and start already in the map of this process
 * or of a profiled ancestor (whose list the launcher reads for us too)?
 * Paths are not compared: dl_iterate_phdr names an object as it was
 * opened, /proc/self/maps by its real path, and two live objects never
 * share an address. */
NI static int module_known(uint64_t bias, uint64_t start)
{
	for (int i = -1; i < AGENT_LINEAGE; i++) {
		struct sf_process *p = i < 0 ? agent.proc : agent.lineage[i];

		if (!p)
			break;
		/* An ancestor's records may lie past what this process has
		 * mapped (it went on growing the image after the fork):
		 * reached, never just dereferenced. */
		for (struct sf_module *m = image_reach(__atomic_load_n(&p->modules, __ATOMIC_ACQUIRE), sizeof(*m)); m;
		     m = image_reach(m->next, sizeof(*m)))
			if (m->bias == bias && m->start == start &&
			    !__atomic_load_n(&m->unloaded, __ATOMIC_RELAXED))
				return 1;
	}
	return 0;
}

/*
 * A scan may find an object late (a fork child's first scan, an exit), so
 * "the generation now" may be later than its load: the object was loaded
 * after every object that overlapped it was unloaded, and that is the
 * earliest generation it can stand for.
 */
NI static uint32_t module_first_gen(uint64_t start, uint64_t end)
{
	uint32_t gen = 0;

	for (struct sf_module *m = image_ptr(__atomic_load_n(&agent.proc->modules, __ATOMIC_ACQUIRE)); m;
	     m = image_ptr(m->next))
		if (m->unloaded && m->start < end && start < m->end && m->gen_unloaded > gen)
			gen = m->gen_unloaded;
	return gen;
}

/* 0, or -ENOSPC when the image is full. */
NI static int module_add(uint64_t bias, uint64_t start, uint64_t end, const char *path, size_t len)
{
	struct sf_module *m;
	sf_off off;

	if (module_known(bias, start))
		return 0;
	off = image_alloc(sizeof(*m) + len + 1);
	if (!off)
		return -ENOSPC;
	m = image_ptr(off);
	m->bias = bias;
	m->start = start;
	m->end = end;
	m->unloaded = 0;
	m->gen_loaded = module_first_gen(start, end);
	m->path_len = (uint32_t)len;
	memcpy(m->path, path, len);
	m->path[len] = 0;
	image_list_push(&agent.proc->modules, off, &m->next);
	return 0;
}

/* The program's objects changed at generation gen: flag it. */
NI static void modules_gone(uint32_t gen)
{
	/* Release: a thread that sees the new generation names new function
	 * entries by it (func.c), never by the unloaded code. */
	__atomic_store_n(&agent.proc->map_gen, gen + 1, __ATOMIC_RELEASE);
	func_map_changed(gen + 1);
}

/* --- dl_iterate_phdr ------------------------------------------------------ */

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
	uint64_t lo, hi;

	(void)size;
	(void)arg;
	if (info->dlpi_name && !strncmp(info->dlpi_name, "linux-vdso", 10))
		return 0;
	module_extent(info, &lo, &hi);
	return module_add(info->dlpi_addr, lo, hi, path, strlen(path)) ? 1 : 0;
}

NI static int mark_one(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct sf_module *m = arg;
	uint64_t lo, hi;

	(void)size;
	if (m->bias != info->dlpi_addr)
		return 0;
	module_extent(info, &lo, &hi);
	if (m->start == lo) {
		m->unloaded = 0;
		return 1;
	}
	return 0;
}

NI void modules_scan(int mark_unloaded)
{
	if (__atomic_load_n(&agent.fork_child, __ATOMIC_RELAXED)) {
		/* The loader's lock may belong to a thread the fork left behind. */
		modules_scan_maps(mark_unloaded);
		return;
	}
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
		if (gone)
			modules_gone(gen);
	}
	__atomic_store_n(&agent.modules_busy, 0, __ATOMIC_RELEASE);
}

/* --- /proc/self/maps -------------------------------------------------------- */

NI static int hexval(const char **s, uint64_t *out)
{
	uint64_t x = 0;
	int n = 0;

	for (;; (*s)++, n++) {
		char c = **s;
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else
			break;
		x = x << 4 | d;
	}
	*out = x;
	return n ? 0 : -EINVAL;
}

NI int modules_parse_line(char *line, struct modules_line *out)
{
	const char *s = line;
	uint64_t major, minor;
	char *p;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (hexval(&s, &out->start) || *s++ != '-' || hexval(&s, &out->end) || *s++ != ' ')
		return -EINVAL;
	if (!s[0] || !s[1] || !s[2] || !s[3])
		return -EINVAL;
	out->exec = s[2] == 'x';
	s += 4;
	if (*s++ != ' ' || hexval(&s, &out->offset) || *s++ != ' ' || hexval(&s, &major) || *s++ != ':' ||
	    hexval(&s, &minor) || *s++ != ' ')
		return -EINVAL;
	out->dev = (uint32_t)(major << 8 | minor);
	for (; *s >= '0' && *s <= '9'; s++)
		out->inode = out->inode * 10 + (uint64_t)(*s - '0');
	while (*s == ' ')
		s++;
	if (*s != '/')
		return 0;
	p = (char *)s;
	n = strlen(p);
	if (n > 10 && !strcmp(p + n - 10, " (deleted)"))
		p[n - 10] = 0;
	out->path = p;
	return 0;
}

/* Read len bytes at addr of our own memory: 0, or -EFAULT when unmapped
 * (a racing munmap must not kill the program). */
NI static int safe_read(void *dst, uint64_t addr, size_t len)
{
	struct iovec local = {dst, len}, remote = {(void *)(uintptr_t)addr, len};

	ssize_t r = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);

	if (r < 0 && errno == ESRCH) /* the main thread ended by pthread_exit */
		r = process_vm_readv((pid_t)syscall(SYS_gettid), &local, 1, &remote, 1, 0);
	return r == (ssize_t)len ? 0 : -EFAULT;
}

/* The header of a mapped object, or from its file when our own memory
 * cannot be read (a seccomp filter refusing process_vm_readv). */
NI static int elf_read(uint64_t at, const char *path, uint64_t off, void *dst, size_t len)
{
	int fd, err;

	if (!safe_read(dst, at + off, len))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	err = pread(fd, dst, len, (off_t)off) == (ssize_t)len ? 0 : -EIO;
	close(fd);
	return err;
}

/* The object whose first page is mapped at start: its bias and range. */
NI static int elf_extent(uint64_t start, const char *path, uint64_t *bias, uint64_t *lo, uint64_t *hi)
{
	ElfW(Ehdr) eh;
	ElfW(Phdr) ph[64];
	const ElfW(Phdr) *first = NULL;
	uint64_t b = 0, h = 0;

	if (elf_read(start, path, 0, &eh, sizeof(eh)) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || (eh.e_type != ET_DYN && eh.e_type != ET_EXEC) ||
	    eh.e_phentsize != sizeof(ph[0]) || !eh.e_phnum || eh.e_phnum > 64)
		return -EINVAL;
	if (elf_read(start, path, eh.e_phoff, ph, eh.e_phnum * sizeof(ph[0])))
		return -EINVAL;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		if (!first || ph[i].p_vaddr < first->p_vaddr)
			first = &ph[i];
		if (ph[i].p_vaddr + ph[i].p_memsz > h)
			h = ph[i].p_vaddr + ph[i].p_memsz;
	}
	/* The loader maps the first segment from file offset 0 at
	 * bias + p_vaddr - p_offset (p_vaddr = p_offset modulo the page). */
	if (!first || first->p_offset > first->p_vaddr || first->p_offset >= 65536)
		return -EINVAL;
	b = start - (first->p_vaddr - first->p_offset);
	*bias = b;
	*lo = b + first->p_vaddr;
	*hi = b + h;
	return 0;
}

struct maps_scan {
	/* The last mapping of a file from offset 0: an object once an
	 * executable mapping of the same file follows (a data mmap of an ELF
	 * file never becomes one). */
	uint64_t cand_start, cand_inode;
	uint32_t cand_dev;
	int cand;
	char cand_path[1024];
	uint64_t seen[MAPS_SEEN]; /* starts of the objects found */
	unsigned nseen;
	int full;                 /* the image is full: stop */
};

/* A live module of this process that starts at start: the object mapped
 * there (two live objects never share an address), its headers read
 * already. 0 when none. */
NI static uint64_t module_live_start(uint64_t start)
{
	for (struct sf_module *m = image_ptr(__atomic_load_n(&agent.proc->modules, __ATOMIC_ACQUIRE)); m;
	     m = image_ptr(m->next))
		if (m->start == start && !__atomic_load_n(&m->unloaded, __ATOMIC_RELAXED))
			return m->start;
	return 0;
}

NI static void maps_confirm(struct maps_scan *c)
{
	uint64_t bias, lo, hi;

	c->cand = 0;
	/* Most objects start at their first page (p_vaddr = p_offset = 0):
	 * one known there is not read again (an exit's scan read two headers
	 * of every library, four system calls each). */
	if ((lo = module_live_start(c->cand_start))) {
		if (c->nseen < MAPS_SEEN)
			c->seen[c->nseen] = lo;
		c->nseen++;
		return;
	}
	if (elf_extent(c->cand_start, c->cand_path, &bias, &lo, &hi))
		return;
	if (c->nseen < MAPS_SEEN)
		c->seen[c->nseen] = lo;
	c->nseen++;
	if (module_add(bias, lo, hi, c->cand_path, strlen(c->cand_path)))
		c->full = 1;
}

NI static void maps_line(struct maps_scan *c, char *line)
{
	struct modules_line l;

	if (modules_parse_line(line, &l) || !l.path)
		return;
	if (l.offset == 0) {
		size_t n = strlen(l.path);

		c->cand = n < sizeof(c->cand_path);
		if (!c->cand)
			return;
		memcpy(c->cand_path, l.path, n + 1);
		c->cand_start = l.start;
		c->cand_inode = l.inode;
		c->cand_dev = l.dev;
	}
	if (c->cand && l.exec && l.inode == c->cand_inode && l.dev == c->cand_dev)
		maps_confirm(c);
}

/* Take the scan (modules_busy); 0 when another holds it (the map is
 * then marked dirty for later). */
static int maps_begin(struct maps_scan *c)
{
	if (!agent.proc || __atomic_exchange_n(&agent.modules_busy, 1, __ATOMIC_ACQUIRE)) {
		__atomic_store_n(&agent.modules_dirty, 1, __ATOMIC_RELAXED);
		return 0;
	}
	__atomic_store_n(&agent.modules_dirty, 0, __ATOMIC_RELAXED);
	c->cand = 0;
	c->nseen = 0;
	c->full = 0;
	return 1;
}

static void maps_end(struct maps_scan *c, int mark_unloaded, int complete)
{
	if (mark_unloaded && complete && c->nseen <= MAPS_SEEN) {
		uint32_t gen = __atomic_load_n(&agent.proc->map_gen, __ATOMIC_RELAXED);
		int gone = 0;

		for (struct sf_module *m = image_ptr(agent.proc->modules); m; m = image_ptr(m->next)) {
			unsigned i;

			if (m->unloaded)
				continue;
			for (i = 0; i < c->nseen && c->seen[i] != m->start; i++)
				;
			if (i == c->nseen) {
				m->gen_unloaded = gen + 1;
				__atomic_store_n(&m->unloaded, 1, __ATOMIC_RELEASE);
				gone = 1;
			}
		}
		if (gone)
			modules_gone(gen);
	}
	__atomic_store_n(&agent.modules_busy, 0, __ATOMIC_RELEASE);
}

NI void modules_scan_maps(int mark_unloaded)
{
	struct maps_scan c;
	char buf[4096];
	size_t have = 0;
	int fd, complete = 0;

	if (!maps_begin(&c))
		return;
	/* The thread's own view: once main ended by pthread_exit,
	 * /proc/self/maps reads as empty, which would unload every module. */
	fd = open("/proc/thread-self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		maps_end(&c, 0, 0);
		return;
	}
	while (!c.full) {
		ssize_t r = read(fd, buf + have, sizeof(buf) - 1 - have);
		char *line = buf, *nl;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			complete = r == 0;
			break;
		}
		have += (size_t)r;
		buf[have] = 0;
		while ((nl = memchr(line, '\n', have - (size_t)(line - buf)))) {
			*nl = 0;
			maps_line(&c, line);
			line = nl + 1;
		}
		have -= (size_t)(line - buf);
		if (have == sizeof(buf) - 1) {
			/* A line longer than the buffer (a very long path): skip it. */
			have = 0;
			while ((r = read(fd, buf, 1)) == 1 && buf[0] != '\n')
				;
			continue;
		}
		memmove(buf, line, have);
	}
	close(fd);
	maps_end(&c, mark_unloaded, complete);
}

NI void modules_scan_maps_text(const char *text, size_t len)
{
	struct maps_scan c;
	char line[4096];

	if (!maps_begin(&c))
		return;
	for (const char *s = text, *end = text + len; s < end && !c.full;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = (size_t)((nl ? nl : end) - s);

		/* A line longer than the buffer (a very long path): skipped. */
		if (n < sizeof(line)) {
			memcpy(line, s, n);
			line[n] = 0;
			maps_line(&c, line);
		}
		s += n + 1;
	}
	maps_end(&c, 0, 0);
}

/* --- range of an address ------------------------------------------------------ */

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
