/*
 * RTLD_DEEPBIND. A library opened with it looks its symbols up in its own
 * dependencies first (libc, so libc's malloc and free) and in the global
 * scope, where the preloaded agent is, only after. Natively every object
 * shares one allocator; under the agent the program's blocks carry a
 * header and would crash glibc's free or realloc in that library.
 *
 * So the library is opened by us, not by a tail call, and then each object
 * that dlopen call loaded has its allocator imports (JUMP_SLOT, GLOB_DAT
 * and absolute data pointers) rewritten to ours, but only those that bind
 * to the allocator we sit on: a library with an allocator of its own keeps
 * it. The library's own constructors run inside dlopen, before the
 * rewrite: blocks they allocate are glibc's (freed correctly by our free,
 * as foreign blocks); a constructor freeing a block of the program's is
 * the one case left.
 *
 * dlopen finds the calling object from its return address, for the
 * caller's RPATH/RUNPATH and $ORIGIN; opened from here it would see the
 * agent. So a name without a slash is looked up in the caller's search
 * directories (dlinfo RTLD_DI_SERINFO, glibc's order), and $ORIGIN is
 * expanded to the caller's directory; see db_search.
 */
#include "deepbind.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdlib.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "agent.h"

#define DB_MAX_NEW 64 /* objects one dlopen loads that we rewrite */

static const char *const db_names[] = {
	"malloc",        "free",           "calloc",        "realloc",        "reallocarray",
	"posix_memalign", "aligned_alloc", "memalign",      "valloc",         "pvalloc",
	"malloc_usable_size", "cfree",     "__libc_malloc", "__libc_free",    "__libc_calloc",
	"__libc_realloc", "__libc_memalign", "__libc_valloc", "__libc_pvalloc",
};
#define DB_NAMES (sizeof(db_names) / sizeof(db_names[0]))

/* Ours, in db_names' order (shim/malloc.c; declared by no header). */
void cfree(void *p) __attribute__((weak)); /* weak: the unit tests have no shim */
void *__libc_malloc(size_t n);
void __libc_free(void *p);
void *__libc_calloc(size_t nmemb, size_t size);
void *__libc_realloc(void *p, size_t n);
void *__libc_memalign(size_t align, size_t n);
void *__libc_valloc(size_t n);
void *__libc_pvalloc(size_t n);

static void *const db_ours[] = {
	(void *)malloc,        (void *)free,           (void *)calloc,        (void *)realloc,
	(void *)reallocarray,  (void *)posix_memalign, (void *)aligned_alloc, (void *)memalign,
	(void *)valloc,        (void *)pvalloc,        (void *)malloc_usable_size, (void *)cfree,
	(void *)__libc_malloc, (void *)__libc_free,    (void *)__libc_calloc, (void *)__libc_realloc,
	(void *)__libc_memalign, (void *)__libc_valloc, (void *)__libc_pvalloc,
};
_Static_assert(sizeof(db_ours) / sizeof(db_ours[0]) == DB_NAMES, "one of ours per name");

struct db_obj {
	uintptr_t bias;
	const ElfW(Phdr) *phdr;
	int phnum;
};

struct db_scan {
	uintptr_t last_addr;     /* the last object before the dlopen */
	const char *last_name;
	int past;                /* iteration went past it: new objects follow */
	int n;
	struct db_obj obj[DB_MAX_NEW];
};

NI static int db_last_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct db_scan *s = arg;

	(void)size;
	s->last_addr = info->dlpi_addr;
	s->last_name = info->dlpi_name;
	return 0;
}

NI static int db_new_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct db_scan *s = arg;

	(void)size;
	if (!s->past) {
		s->past = info->dlpi_addr == s->last_addr && info->dlpi_name == s->last_name;
		return 0;
	}
	if (s->n < DB_MAX_NEW)
		s->obj[s->n++] = (struct db_obj){info->dlpi_addr, info->dlpi_phdr, info->dlpi_phnum};
	return 0;
}

NI static uintptr_t db_dynaddr(uintptr_t bias, ElfW(Addr) v)
{
	return v < bias ? bias + v : v;
}

/* Overwrite one slot, lifting RELRO's protection for the moment. */
NI static void db_patch(void **slot, void *fn, uintptr_t relro_lo, uintptr_t relro_hi)
{
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t p = (uintptr_t)slot & ~(uintptr_t)(page - 1);
	/* The loader protects whole pages only: the RELRO range rounded
	 * down at its end (a linker that does not pad it leaves its last
	 * page writable, shared with .data). That page stays as it is. */
	uintptr_t ro_hi = relro_hi & ~(uintptr_t)(page - 1);
	int ro = (uintptr_t)slot >= relro_lo && (uintptr_t)slot < ro_hi;

	if (*slot == fn)
		return;
	if (ro && mprotect((void *)p, (size_t)page, PROT_READ | PROT_WRITE))
		return;
	__atomic_store_n(slot, fn, __ATOMIC_RELEASE);
	if (ro)
		mprotect((void *)p, (size_t)page, PROT_READ);
}

/* Rewrite the allocator imports of one object: ours[i] where the object
 * binds db_names[i] (to bound[i], the allocator we sit on). */
NI static void db_rewrite(const struct db_obj *o, void *const *ours, void *const *bound)
{
	const ElfW(Dyn) *dyn = NULL;
	const ElfW(Sym) *symtab = NULL;
	const char *strtab = NULL;
	const ElfW(Rela) *rel[2] = {NULL, NULL};
	size_t relsz[2] = {0, 0};
	uintptr_t relro_lo = 0, relro_hi = 0;

	for (int i = 0; i < o->phnum; i++) {
		if (o->phdr[i].p_type == PT_DYNAMIC)
			dyn = (const ElfW(Dyn) *)(o->bias + o->phdr[i].p_vaddr);
		else if (o->phdr[i].p_type == PT_GNU_RELRO) {
			relro_lo = o->bias + o->phdr[i].p_vaddr;
			relro_hi = relro_lo + o->phdr[i].p_memsz;
		}
	}
	for (; dyn && dyn->d_tag != DT_NULL; dyn++) {
		switch (dyn->d_tag) {
		case DT_SYMTAB: symtab = (const ElfW(Sym) *)db_dynaddr(o->bias, dyn->d_un.d_ptr); break;
		case DT_STRTAB: strtab = (const char *)db_dynaddr(o->bias, dyn->d_un.d_ptr); break;
		case DT_JMPREL: rel[0] = (const ElfW(Rela) *)db_dynaddr(o->bias, dyn->d_un.d_ptr); break;
		case DT_PLTRELSZ: relsz[0] = dyn->d_un.d_val; break;
		case DT_RELA: rel[1] = (const ElfW(Rela) *)db_dynaddr(o->bias, dyn->d_un.d_ptr); break;
		case DT_RELASZ: relsz[1] = dyn->d_un.d_val; break;
		}
	}
	if (!symtab || !strtab)
		return;
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; rel[k] && i < relsz[k] / sizeof(ElfW(Rela)); i++) {
			unsigned type = ELF64_R_TYPE(rel[k][i].r_info);
			const char *name;

			/* Calls (JUMP_SLOT; GLOB_DAT with -fno-plt or an address
			 * taken) and pointers in data (64, addend 0). */
			if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT &&
			    !(type == R_X86_64_64 && rel[k][i].r_addend == 0))
				continue;
			if (!ELF64_R_SYM(rel[k][i].r_info))
				continue;
			name = strtab + symtab[ELF64_R_SYM(rel[k][i].r_info)].st_name;
			for (size_t j = 0; j < DB_NAMES; j++)
				if (ours[j] && bound[j] && !strcmp(name, db_names[j])) {
					db_patch((void **)(o->bias + rel[k][i].r_offset), ours[j], relro_lo, relro_hi);
					break;
				}
		}
	}
}

/* The directory of the object map (the program's for the main map) into
 * buf; its length, 0 when unknown. */
NI static size_t db_origin(const struct link_map *map, char *buf, size_t cap)
{
	const char *slash;
	ssize_t n;

	if (map && map->l_name && map->l_name[0] == '/') {
		n = (ssize_t)strlen(map->l_name);
		if ((size_t)n >= cap)
			return 0;
		memcpy(buf, map->l_name, (size_t)n + 1);
	} else {
		n = readlink("/proc/self/exe", buf, cap - 1);
		if (n <= 0)
			return 0;
		buf[n] = 0;
	}
	slash = strrchr(buf, '/');
	if (!slash)
		return 0;
	buf[slash == buf ? 1 : slash - buf] = 0;
	return strlen(buf);
}

/* file with $ORIGIN / ${ORIGIN} replaced by the caller's directory. */
NI static const char *db_expand(const char *file, const struct link_map *map, char *buf, size_t cap)
{
	char origin[PATH_MAX];
	size_t olen = 0, k = 0;

	if (!strstr(file, "$ORIGIN") && !strstr(file, "${ORIGIN}"))
		return file;
	olen = db_origin(map, origin, sizeof(origin));
	if (!olen)
		return file;
	for (const char *p = file; *p;) {
		size_t skip = !strncmp(p, "$ORIGIN", 7) ? 7 : !strncmp(p, "${ORIGIN}", 9) ? 9 : 0;

		if (skip) {
			if (k + olen >= cap)
				return file;
			memcpy(buf + k, origin, olen);
			k += olen;
			p += skip;
		} else {
			if (k + 1 >= cap)
				return file;
			buf[k++] = *p++;
		}
	}
	buf[k] = 0;
	return buf;
}

union db_serinfo {
	Dl_serinfo si;
	char raw[4096];
};

/* The directories glibc searches for a library loaded by map (its
 * RPATH/RUNPATH, LD_LIBRARY_PATH, the system directories; not the
 * cache), in order. 0, or -1 when too many to hold. */
NI static int db_serinfo(void *map, union db_serinfo *u)
{
	Dl_serinfo size;

	if (!map || dlinfo(map, RTLD_DI_SERINFOSIZE, &size) || size.dls_size > sizeof(*u))
		return -1;
	u->si.dls_size = size.dls_size;
	u->si.dls_cnt = size.dls_cnt;
	return dlinfo(map, RTLD_DI_SERINFO, &u->si) ? -1 : 0;
}

/* The agent's own search directories: fixed once the program runs. */
static union db_serinfo db_self;
static int db_self_state; /* atomic: 0 not yet, 1 being read, 2 ready, 3 failed */

NI static const union db_serinfo *db_self_dirs(void)
{
	int st = __atomic_load_n(&db_self_state, __ATOMIC_ACQUIRE), exp = 0;
	struct link_map *self = NULL;
	Dl_info info;

	if (st == 0 && __atomic_compare_exchange_n(&db_self_state, &exp, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		st = dladdr1((const void *)db_self_dirs, &info, (void **)&self, RTLD_DL_LINKMAP) &&
				     !db_serinfo(self, &db_self)
			     ? 2
			     : 3;
		__atomic_store_n(&db_self_state, st, __ATOMIC_RELEASE);
	}
	return st == 2 ? &db_self : NULL;
}

NI static int db_is_self_dir(const union db_serinfo *self, const char *dir)
{
	for (unsigned i = 0; i < self->si.dls_cnt; i++)
		if (!strcmp(self->si.dls_serpath[i].dls_name, dir))
			return 1;
	return 0;
}

/*
 * A name without a slash, as glibc would find it for the caller. Of the
 * caller's directories in order, the first holding the file decides: one
 * the agent's search has too (LD_LIBRARY_PATH, the system's) would be
 * found opened from here as well, so the bare name goes to dlopen; one of
 * the caller's own (RPATH/RUNPATH) gives the full path.
 */
NI static const char *db_search(const char *file, struct link_map *map, char *buf, size_t cap)
{
	const union db_serinfo *self = db_self_dirs();
	union db_serinfo u;
	size_t flen = strlen(file);

	if (!self || db_serinfo(map, &u))
		return file;
	for (unsigned i = 0; i < u.si.dls_cnt; i++) {
		const char *dir = u.si.dls_serpath[i].dls_name;
		size_t dlen = strlen(dir);

		if (dlen + 1 + flen + 1 > cap)
			continue;
		memcpy(buf, dir, dlen);
		buf[dlen] = '/';
		memcpy(buf + dlen + 1, file, flen + 1);
		if (!access(buf, R_OK))
			return db_is_self_dir(self, dir) ? file : buf;
	}
	return file;
}

NI void *deepbind_open(const char *file, int mode, const void *caller)
{
	char expanded[PATH_MAX], found[PATH_MAX];
	struct db_scan scan;
	struct link_map *map = NULL;
	void *bound[DB_NAMES];
	const char *name = file;
	Dl_info info;
	uint8_t saved;
	void *h;
	int err;

	saved = ts.state;
	ts.state = TS_BUSY; /* our own lookups: never counted as the program's */
	if (dladdr1(caller, &info, (void **)&map, RTLD_DL_LINKMAP) == 0)
		map = NULL;
	name = db_expand(file, map, expanded, sizeof(expanded));
	if (!strchr(name, '/'))
		name = db_search(name, map, found, sizeof(found));
	memset(&scan, 0, sizeof(scan));
	dl_iterate_phdr(db_last_cb, &scan);
	ts.state = saved;

	h = agent.real.dlopen(name, mode);
	if (!h)
		return NULL;

	err = errno;
	saved = ts.state;
	ts.state = TS_BUSY;
	dl_iterate_phdr(db_new_cb, &scan);
	if (scan.n) {
		for (size_t j = 0; j < DB_NAMES; j++) {
			void *real = dlsym(RTLD_NEXT, db_names[j]);
			void *b = real ? dlsym(h, db_names[j]) : NULL;

			/* Only what would reach the allocator we sit on. */
			bound[j] = b && b == real && b != db_ours[j] ? b : NULL;
		}
		for (int i = 0; i < scan.n; i++)
			db_rewrite(&scan.obj[i], db_ours, bound);
	}
	/* Our failed lookups must not show in the program's dlerror(): its
	 * dlopen succeeded, and native dlerror() would say nothing now. */
	dlerror();
	ts.state = saved;
	errno = err;
	return h;
}
