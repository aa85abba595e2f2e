/*
 * symbolize: addresses to function/file/line with elfutils' libdwfl.
 *
 * Each module is reported to one Dwfl at the load bias the agent saw
 * (dl_iterate_phdr's dlpi_addr), so libdwfl maps runtime addresses itself;
 * separate debug files come from its standard search (build-id under
 * /usr/lib/debug, then .gnu_debuglink). We keep our own module table next
 * to libdwfl's: it remembers the range of a module whose file is gone, and
 * finds modules without dwfl_addrmodule, which assumes a single consistent
 * address space while our record may hold a library unloaded and another
 * mapped over it.
 *
 * Two open-addressing tables keep the cost down on long profiles: a cache
 * of address -> frames (the same return addresses recur in every trace),
 * and a string pool, so a name or a path is stored once however many
 * frames point at it.
 */
#include "symbolize.h"

#include "bytes.h"
#include "names.h"

#include <dlfcn.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Frames kept per address. Real inline nesting is a handful deep; the cap
 * only bounds the stack buffer, deeper chains lose their outer frames. */
#define SYMBOLIZE_MAX_FRAMES 64

#define SYMBOLIZE_MIN_TABLE 64 /* first size of both hash tables, power of 2 */

/* A function symbol: [lo, hi) in the module's (synthetic) addresses. */
struct sym_entry {
	uint64_t lo, hi;
	const char *name;   /* owned by libdwfl, valid while the Dwfl lives */
	int rank;           /* 0 global, 1 weak, 2 local: aliases prefer 0 */
};

/* A compilation unit's address range, for DWARF without .debug_aranges. */
struct sym_curange {
	uint64_t lo, hi; /* module addresses (before bias) */
	Dwarf_Die *cu;	 /* libdwfl's, valid as long as the module */
};

/* A PLT stub: [lo, hi) in runtime addresses, like sym_entry. */
struct sym_plt {
	uint64_t lo, hi;
	const char *name; /* the symbol it calls (.dynstr, owned by libelf
	                     through libdwfl); NULL: see ifunc */
	uint64_t ifunc;   /* name NULL: the runtime address of the ifunc
	                     resolver it calls (IRELATIVE), 0 for PLT0 or a
	                     stub not decoded */
};

struct sym_module {
	struct sym_entry *syms; /* sorted by lo; loaded on first use */
	size_t nsyms;
	int syms_loaded;
	struct sym_plt *plts; /* every stub of .plt, .plt.sec, .plt.got; sorted */
	size_t nplts;
	int plts_loaded;
	struct sym_curange *cus; /* sorted by lo; made at the first miss */
	size_t ncus;
	int cus_loaded;
	struct sym_fnindex *fnidx; /* one per unit looked into (symbolize_fnindex) */
	size_t nfnidx, fnidx_cap;
	char *path;
	uint64_t bias;       /* load bias: runtime address - ELF vaddr */
	uint64_t start, end; /* runtime addresses, [start, end) */
	Dwfl_Module *dwmod;  /* NULL when the file could not be used */
	int err;             /* what symbolizer_add_module returned for it */
	const char *build_id; /* lowercase hex (pooled), NULL when it has none */
	int reopened;         /* replay with symbolizer_refresh: 0 not yet, 1 the file
	                         on disk is the one recorded (dwmod set), -1 not */
};

struct sym_slot {
	uint64_t addr;
	int is_return;
	int nframes;              /* 0: empty slot (a lookup always gives >= 1) */
	struct sym_frame *frames; /* owned; strings inside belong to the pool */
	int refreshed;            /* symbolizer_refresh looked at it again */
};

struct symbolizer {
	Dwfl *dwfl;
	Dwfl_Callbacks callbacks; /* libdwfl keeps the pointer: lives as long as dwfl */
	char *debuginfo_path;     /* NULL: libdwfl's ":.debug:/usr/lib/debug"; else the
	                             same with the --debug-dir ones before /usr/lib/debug */
	/* debuginfod (symbolize_difd_progress): the current query and the
	 * state of the server. */
	int difd_state;           /* 0 not hooked yet, 1 hooked, -1 nothing to hook */
	int difd_dead;            /* a query was cut: every later one is */
	int difd_cut;             /* the current query was cut */
	long difd_bytes;          /* of the current query's file so far */
	uint64_t difd_last_ns;    /* CLOCK_MONOTONIC: the query's start, then its last byte */
	uint64_t difd_timeout_ns; /* no byte for this long cuts it; 0 never */
	int refresh;              /* replay: symbolizer_refresh */

	struct sym_module *mods; /* sorted by start */
	size_t nmods, mods_cap;

	struct sym_slot *slots; /* address cache; slots_cap is 0 or a power of 2 */
	size_t slots_cap, slots_used;

	char **strs; /* string pool; strs_cap is 0 or a power of 2 */
	size_t strs_cap, strs_used;

	/* Every answer given since symbolizer_record, the last per address
	 * and key (the cache forgets when a module is added), for
	 * symbolizer_save; a loaded symbolizer's answers, in the cache. */
	int recording;
	int replay;             /* symbolizer_load: no file is ever opened */
	struct sym_slot *rec;   /* rec_cap is 0 or a power of 2 */
	size_t rec_cap, rec_used;
};

/* splitmix64's finalizer: addresses differ mostly in a few low bits, and
 * open addressing with a mask needs those spread over every bit. */
static uint64_t symbolize_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint64_t symbolize_strhash(const char *str)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (; *str; str++)
		h = (h ^ (unsigned char)*str) * 0x100000001b3ULL;
	return h;
}

/* ---- string pool ---- */

static int symbolize_strs_grow(struct symbolizer *s)
{
	size_t cap = s->strs_cap ? s->strs_cap * 2 : SYMBOLIZE_MIN_TABLE;
	char **t = calloc(cap, sizeof(*t));
	size_t i, j;

	if (!t)
		return -ENOMEM;
	for (i = 0; i < s->strs_cap; i++) {
		if (!s->strs[i])
			continue;
		j = symbolize_strhash(s->strs[i]) & (cap - 1);
		while (t[j])
			j = (j + 1) & (cap - 1);
		t[j] = s->strs[i];
	}
	free(s->strs);
	s->strs = t;
	s->strs_cap = cap;
	return 0;
}

/* The pooled copy of str; NULL for NULL or when out of memory (the frame
 * then just lacks that field, which beats failing the whole lookup). */
static const char *symbolize_intern(struct symbolizer *s, const char *str)
{
	size_t i;
	char *copy;

	if (!str)
		return NULL;
	/* Load at most 3/4 so probes stay short and always end on a hole. */
	if ((s->strs_used + 1) * 4 > s->strs_cap * 3 && symbolize_strs_grow(s) < 0)
		return NULL;
	i = symbolize_strhash(str) & (s->strs_cap - 1);
	for (; s->strs[i]; i = (i + 1) & (s->strs_cap - 1))
		if (strcmp(s->strs[i], str) == 0)
			return s->strs[i];
	copy = strdup(str);
	if (!copy)
		return NULL;
	s->strs[i] = copy;
	s->strs_used++;
	return copy;
}

/* A mangled C++ name demangled, anything else as is; pooled either way.
 * *entity (may be NULL) gets sym_frame.entity for it. */
static const char *symbolize_name(struct symbolizer *s, const char *raw, const char **entity)
{
	char unversioned[512], canon[1024], *plain, *marked = NULL;
	const char *name, *at;
	enum names_variant v;

	if (entity)
		*entity = NULL;
	if (!raw || !*raw)
		return NULL;
	/* Symbol-table names may carry a version: __libc_start_main@@GLIBC_2.34. */
	at = strchr(raw, '@');
	if (at && at != raw && (size_t)(at - raw) < sizeof(unversioned)) {
		memcpy(unversioned, raw, (size_t)(at - raw));
		unversioned[at - raw] = 0;
		raw = unversioned;
	}
	plain = names_demangle(raw);
	if (!plain)
		return symbolize_intern(s, raw);
	v = names_variant(raw, canon, sizeof(canon));
	/* D0 demangles like D1, but it is another function (it also frees). */
	if (v == NAMES_DELETING && asprintf(&marked, "%s [deleting]", plain) < 0)
		marked = NULL;
	name = symbolize_intern(s, marked ? marked : plain);
	if (entity && v == NAMES_STRUCTOR)
		*entity = symbolize_intern(s, canon);
	free(marked);
	free(plain);
	return name;
}

/* DWARF may give a file relative to the compilation directory; a report
 * read elsewhere needs the full path. */
static const char *symbolize_path(struct symbolizer *s, const char *dir, const char *file)
{
	const char *path;
	char *joined;

	if (!file)
		return NULL;
	if (file[0] == '/' || !dir || !*dir)
		return symbolize_intern(s, file);
	if (asprintf(&joined, "%s/%s", dir, file) < 0)
		return NULL;
	path = symbolize_intern(s, joined);
	free(joined);
	return path;
}

/* ---- address cache ---- */

static uint64_t symbolize_slot_hash(uint64_t addr, int is_return)
{
	return symbolize_mix(addr ^ ((uint64_t)is_return << 63));
}

static void symbolize_cache_clear(struct symbolizer *s)
{
	size_t i;

	for (i = 0; i < s->slots_cap; i++)
		free(s->slots[i].frames);
	if (s->slots_cap)
		memset(s->slots, 0, s->slots_cap * sizeof(*s->slots));
	s->slots_used = 0;
}

static int symbolize_cache_grow(struct symbolizer *s)
{
	size_t cap = s->slots_cap ? s->slots_cap * 2 : SYMBOLIZE_MIN_TABLE;
	struct sym_slot *t = calloc(cap, sizeof(*t));
	size_t i, j;

	if (!t)
		return -ENOMEM;
	for (i = 0; i < s->slots_cap; i++) {
		struct sym_slot *old = &s->slots[i];

		if (!old->nframes)
			continue;
		j = symbolize_slot_hash(old->addr, old->is_return) & (cap - 1);
		while (t[j].nframes)
			j = (j + 1) & (cap - 1);
		t[j] = *old;
	}
	free(s->slots);
	s->slots = t;
	s->slots_cap = cap;
	return 0;
}

/* The slot holding (addr, is_return), or the empty slot where it belongs;
 * NULL only when the table is full and cannot grow (lookups then go
 * uncached). */
static struct sym_slot *symbolize_cache_slot(struct symbolizer *s, uint64_t addr, int is_return)
{
	size_t i;

	if ((s->slots_used + 1) * 4 > s->slots_cap * 3 && symbolize_cache_grow(s) < 0 &&
	    s->slots_used + 1 >= s->slots_cap)
		return NULL;
	i = symbolize_slot_hash(addr, is_return) & (s->slots_cap - 1);
	for (; s->slots[i].nframes; i = (i + 1) & (s->slots_cap - 1))
		if (s->slots[i].addr == addr && s->slots[i].is_return == is_return)
			break;
	return &s->slots[i];
}

/* ---- modules ---- */

static int symbolize_module_cmp(const void *a, const void *b)
{
	const struct sym_module *ma = a, *mb = b;

	return ma->start < mb->start ? -1 : ma->start > mb->start;
}

static struct sym_module *symbolize_module_at(struct symbolizer *s, uint64_t pc)
{
	size_t lo = 0, hi = s->nmods, mid;

	/* lo ends as the first module starting above pc. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->mods[mid].start <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Ranges can overlap (an unloaded library and its successor are both
	 * on record), so the nearest start is not always the one holding pc. */
	while (lo-- > 0)
		if (pc < s->mods[lo].end)
			return &s->mods[lo];
	return NULL;
}

/*
 * Module paths come from the session image, which the profiled program
 * can write: a path may name a FIFO (an open for reading would wait for a
 * writer forever), a terminal or a device (opening some has effects). So
 * only a regular file is opened, checked before (stat, which never
 * blocks) and after (the descriptor is the file that was checked), and
 * opened without blocking and without becoming a controlling terminal.
 * A descriptor or -errno (-EINVAL: not a regular file).
 */
static int symbolize_open_regular(const char *path)
{
	struct stat st, fst;
	int fd;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &fst) < 0 || !S_ISREG(fst.st_mode) || fst.st_dev != st.st_dev || fst.st_ino != st.st_ino) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

/* ---- separate debug files ---- */

/* libdwfl's DEFAULT_DEBUGINFO_PATH: the module's directory, its .debug/,
 * then /usr/lib/debug (by build-id, and by the module's own path). */
#define SYMBOLIZE_DEFAULT_PATH ":.debug:/usr/lib/debug"

/* 1 when path names nothing, a regular file or a directory: nothing an
 * open for reading can wait on (a FIFO waits for a writer) or have an
 * effect through (a device). A regular file counts in *found. */
static int symbolize_safe(const char *path, int *found)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return 1;
	*found += S_ISREG(st.st_mode);
	return S_ISREG(st.st_mode) || S_ISDIR(st.st_mode);
}

/* symbolize_safe of [dir/][sub/]name, joined as libdwfl's try_open joins
 * them. A name of PATH_MAX bytes or more cannot be opened: safe. */
static int symbolize_safe3(const char *dir, const char *sub, const char *name, int *found)
{
	char buf[PATH_MAX];
	int n;

	if (!dir && !sub)
		n = snprintf(buf, sizeof(buf), "%s", name);
	else if (!sub)
		n = snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	else if (!dir)
		n = snprintf(buf, sizeof(buf), "%s/%s", sub, name);
	else
		n = snprintf(buf, sizeof(buf), "%s/%s/%s", dir, sub, name);
	if (n < 0)
		return 0;
	return n >= (int)sizeof(buf) || symbolize_safe(buf, found);
}

/* DIR/.build-id/xx/rest.debug for id (len bytes) in every absolute entry
 * of path: libdwfl's first look. It takes ids of 3 to 64 bytes only. */
static int symbolize_safe_build_id(const char *path, const unsigned char *id, int len, int *found)
{
	char name[sizeof(".build-id/xx/") + 2 * 64 + sizeof(".debug")], *copy, *rest, *p;
	int k, ok = 1;

	if (!id || len < 3 || len > 64)
		return 1;
	k = snprintf(name, sizeof(name), ".build-id/%02x/", id[0]);
	for (int i = 1; i < len; i++)
		k += snprintf(name + k, sizeof(name) - (size_t)k, "%02x", id[i]);
	snprintf(name + k, sizeof(name) - (size_t)k, ".debug");
	if (!(copy = strdup(path)))
		return 0;
	for (rest = copy; ok && (p = strsep(&rest, ":"));) {
		if (*p == '+' || *p == '-') /* a CRC check flag */
			p++;
		if (*p == '/')
			ok = symbolize_safe3(p, NULL, name, found);
	}
	free(copy);
	return ok;
}

/*
 * What libdwfl's find_debuginfo_in_path opens for file in each entry of
 * path. For a module's debug file, the name is its .gnu_debuglink (link),
 * or the file's base name + ".debug" made up (then the base name itself
 * too, but in the file's own directory): in the file's directory (entry
 * ""), in a subdirectory of it (a relative entry), and under an absolute
 * entry at the file's directory with its leading components taken off
 * one at a time, down to the entry itself (/usr/lib/debug/usr/lib/x/N,
 * .../lib/x/N, .../x/N, .../N). For the dwz file a debug file links to
 * (alt): link as given in the first two, its base name under an absolute
 * entry, and in .dwz/ of the file's directory and of absolute entries.
 */
static int symbolize_safe_in_path(const char *path, const char *file, const char *link, int alt, int *found)
{
	const char *slash = strrchr(file, '/'), *base = slash ? slash + 1 : file, *lbase;
	char dirbuf[PATH_MAX], name[PATH_MAX], *dir = NULL, *copy, *rest, *p;
	int made_up = !link, ok = 1;

	if (alt && !link)
		return 1;
	if (slash) {
		if ((size_t)(slash - file) >= sizeof(dirbuf))
			return 1; /* libdwfl's opens of it fail too */
		memcpy(dirbuf, file, (size_t)(slash - file));
		dirbuf[slash - file] = '\0';
		dir = dirbuf;
	}
	if (snprintf(name, sizeof(name), made_up ? "%s.debug" : "%s", made_up ? base : link) >= (int)sizeof(name))
		return 1;
	lbase = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	if (!(copy = strdup(path)))
		return 0;
	for (rest = copy; ok && (p = strsep(&rest, ":"));) {
		if (*p == '+' || *p == '-')
			p++;
		if (!*p) {
			ok = symbolize_safe3(dir, NULL, name, found) && (!alt || symbolize_safe3(dir, ".dwz", lbase, found));
		} else if (*p == '/' && alt) {
			ok = symbolize_safe3(p, NULL, lbase, found) && symbolize_safe3(p, ".dwz", lbase, found);
		} else if (*p == '/') {
			if (!dir || dir[0] != '/')
				continue; /* libdwfl cannot place a relative file there */
			for (const char *sub = dir;;) {
				sub = strchr(sub, '/');
				if (sub && !*++sub)
					break;
				ok = symbolize_safe3(p, sub, name, found) && (!made_up || symbolize_safe3(p, sub, base, found));
				if (!ok || !sub)
					break;
			}
		} else {
			ok = symbolize_safe3(dir, p, name, found) && (!made_up || symbolize_safe3(dir, p, base, found));
		}
	}
	free(copy);
	return ok;
}

/* The build id a debug file's .gnu_debugaltlink names (its dwz file),
 * into id (64 bytes); its length, 0 when it names none, -1 when the file
 * is not a regular file. */
static int symbolize_altlink_id(const char *file, unsigned char *id)
{
	int fd = symbolize_open_regular(file), len = 0;
	Elf *elf;
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (fd < 0)
		return fd == -EINVAL ? -1 : 0;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (elf && elf_getshdrstrndx(elf, &shstrndx) == 0) {
		while ((scn = elf_nextscn(elf, scn))) {
			GElf_Shdr sh;
			const char *name;
			Elf_Data *data;
			const char *nul;

			if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)) ||
			    strcmp(name, ".gnu_debugaltlink") || !(data = elf_getdata(scn, NULL)) || !data->d_buf)
				continue;
			/* The dwz file's name, a NUL, its build id. */
			nul = memchr(data->d_buf, 0, data->d_size);
			if (nul) {
				size_t off = (size_t)(nul + 1 - (const char *)data->d_buf);

				len = (int)(data->d_size - off > 64 ? 64 : data->d_size - off);
				memcpy(id, (const char *)data->d_buf + off, (size_t)len);
			}
			break;
		}
	}
	elf_end(elf);
	close(fd);
	return len;
}

/*
 * debuginfod. libdwfl asks it last (dwfl_standard_find_debuginfo, when
 * DEBUGINFOD_URLS is set), with a client per Dwfl. libdebuginfod waits
 * DEBUGINFOD_TIMEOUT (90 s by default) without 100 KiB/s of progress and
 * retries twice: a server that accepts connections and never answers
 * costs 4.5 minutes per module, an hour for a python3 run. So a progress
 * callback of ours cuts a query once it has gone without a byte for
 * DEBUGINFOD_TIMEOUT, or SYMBOLIZE_DIFD_TIMEOUT_S when that is unset (0:
 * never), and after one cut query every later one of the same symbolizer
 * is cut at its first poll: a report waits for a dead server once. The
 * environment stays as the user set it (it is the program's, and another
 * thread may read it). libdebuginfod records a cut query as a miss (an
 * empty file in its cache, for cache_miss_s, 10 minutes): that file is
 * removed, as the server never said it has no such file.
 */
#define SYMBOLIZE_DIFD_TIMEOUT_S 15

typedef int (*symbolize_progress_fn)(debuginfod_client *c, long a, long b);

/* The symbolizer whose find_debuginfo runs in this thread: the progress
 * callback's (libdebuginfod calls it synchronously, in the query). */
static __thread struct symbolizer *symbolize_querying;

static uint64_t symbolize_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* libdebuginfod's progress callback: 0 goes on, 1 cuts the query. Until
 * a server sends the file, b is 0 and a counts polls (one a second at
 * most); then a is the bytes so far. */
static int symbolize_difd_progress(debuginfod_client *c, long a, long b)
{
	struct symbolizer *s = symbolize_querying;
	uint64_t now;

	(void)c;
	if (!s)
		return 0;
	if (!s->difd_dead) {
		now = symbolize_now_ns();
		if (b != 0 && a > s->difd_bytes) {
			s->difd_bytes = a;
			s->difd_last_ns = now;
		}
		if (!s->difd_timeout_ns || now - s->difd_last_ns < s->difd_timeout_ns)
			return 0;
	}
	s->difd_cut = 1;
	return 1;
}

/* Whether libdwfl would ask a debuginfod server: DEBUGINFOD_URLS names
 * one. */
static int symbolize_difd_wanted(void)
{
	const char *urls = getenv("DEBUGINFOD_URLS");

	return urls && *urls;
}

/* Hook the progress callback into the Dwfl's debuginfod client, once.
 * libdwfl has libdebuginfod.so.1 loaded (dlopen) by then, so the two
 * setters come from it without a link-time dependency. */
static void symbolize_difd_hook(struct symbolizer *s)
{
	const char *t = getenv("DEBUGINFOD_TIMEOUT");
	void (*set_progressfn)(debuginfod_client *, symbolize_progress_fn);
	debuginfod_client *c;
	void *so;
	char *end;
	long v;

	if (s->difd_state)
		return;
	s->difd_state = -1;
	s->difd_timeout_ns = SYMBOLIZE_DIFD_TIMEOUT_S * 1000000000ull;
	if (t && *t && (v = strtol(t, &end, 10)) >= 0 && !*end)
		s->difd_timeout_ns = (uint64_t)v * 1000000000u;
	if (!symbolize_difd_wanted() || !(c = dwfl_get_debuginfod_client(s->dwfl)))
		return;
	so = dlopen("libdebuginfod.so.1", RTLD_LAZY | RTLD_NOLOAD);
	if (!so)
		return;
	set_progressfn = (void (*)(debuginfod_client *, symbolize_progress_fn))dlsym(so, "debuginfod_set_progressfn");
	if (set_progressfn) {
		set_progressfn(c, symbolize_difd_progress);
		s->difd_state = 1;
	}
	dlclose(so); /* libdwfl's own handle keeps it loaded */
}

/* libdebuginfod's cache directory, found as it finds it. */
static int symbolize_difd_cache(char *buf, size_t len)
{
	const char *v = getenv("DEBUGINFOD_CACHE_PATH"), *home = getenv("HOME"), *xdg = getenv("XDG_CACHE_HOME");
	struct stat st;
	int n;

	if (v && *v)
		return snprintf(buf, len, "%s", v) < (int)len ? 0 : -1;
	if (!home)
		home = "/";
	if (snprintf(buf, len, "%s/.debuginfod_client_cache", home) >= (int)len)
		return -1;
	if (stat(buf, &st) == 0)
		return 0;
	n = xdg && *xdg ? snprintf(buf, len, "%s/debuginfod_client", xdg)
			: snprintf(buf, len, "%s/.cache/debuginfod_client", home);
	return n < (int)len ? 0 : -1;
}

/* A query for id was cut: say so once, ask no more, and take back the
 * miss libdebuginfod recorded for it. */
static void symbolize_difd_cut(struct symbolizer *s, const unsigned char *id, int len)
{
	char dir[PATH_MAX], path[PATH_MAX + 160];
	struct stat st;
	int k;

	if (!s->difd_dead)
		fprintf(stderr,
			"ptrace-run: debuginfod: no answer for %llu s (DEBUGINFOD_TIMEOUT): this report asks "
			"DEBUGINFOD_URLS no more\n",
			(unsigned long long)(s->difd_timeout_ns / 1000000000u));
	s->difd_dead = 1;
	if (!id || len <= 0 || len > 64 || symbolize_difd_cache(dir, sizeof(dir)))
		return;
	k = snprintf(path, sizeof(path), "%s/", dir);
	for (int i = 0; i < len; i++)
		k += snprintf(path + k, sizeof(path) - (size_t)k, "%02x", id[i]);
	snprintf(path + k, sizeof(path) - (size_t)k, "/debuginfo");
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0 && unlink(path) == 0) {
		path[strlen(path) - sizeof("/debuginfo") + 1] = '\0';
		rmdir(path); /* when nothing else is in it */
	}
}

/*
 * libdwfl's standard search opens separate debug files by name with a
 * blocking open (by build-id, by .gnu_debuglink, the dwz file a debug
 * file links to), in every entry of the search path: the module's
 * directory, its .debug/, each --debug-dir, /usr/lib/debug. A module the
 * program planted can make any of those names a FIFO. Look first: when
 * one of them exists and is neither a regular file nor a directory, the
 * module goes without separate debug info. Then the standard search, and
 * debuginfod last, within the time limit above.
 */
static int symbolize_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
				    const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
				    char **debuginfo_file_name)
{
	struct symbolizer *s = userdata ? *userdata : NULL;
	const char *path = s && s->debuginfo_path ? s->debuginfo_path : SYMBOLIZE_DEFAULT_PATH;
	const unsigned char *id = NULL, *qid;
	unsigned char altid[64];
	GElf_Addr id_vaddr;
	int n = dwfl_module_build_id(mod, &id, &id_vaddr), qn = n, fd;
	/* Asked a second time for the dwz file of the debug file found: the
	 * link is then .gnu_debugaltlink's, which has no CRC. */
	int alt = debuglink_file && !debuglink_crc;
	char *canon;
	/* Regular files among the names libdwfl will try. */
	int found = 0;

	qid = id;
	if (!symbolize_safe_build_id(path, id, n, &found))
		return -1;
	if (alt && file_name) {
		int an = symbolize_altlink_id(file_name, altid);

		if (an < 0 || !symbolize_safe_build_id(path, altid, an, &found))
			return -1;
		if (an > 0) {
			qid = altid;
			qn = an;
		}
	}
	if (file_name) {
		if (!symbolize_safe_in_path(path, file_name, debuglink_file, 0, &found) ||
		    (alt && !symbolize_safe_in_path(path, file_name, debuglink_file, 1, &found)))
			return -1;
		/* libdwfl looks again under the file's real path. */
		canon = realpath(file_name, NULL);
		if (canon && strcmp(canon, file_name) &&
		    (!symbolize_safe_in_path(path, canon, debuglink_file, 0, &found) ||
		     (alt && !symbolize_safe_in_path(path, canon, debuglink_file, 1, &found)))) {
			free(canon);
			return -1;
		}
		free(canon);
	} else {
		/* No file name (a debug file debuginfod gave, asked for its
		 * dwz file): libdwfl is asked, as before; its names relative
		 * to no directory are not checked for FIFOs here. */
		found = 1;
	}
	/* Nothing to find here and no debuginfod server to ask: libdwfl's
	 * search would end as this does, but it loads libdebuginfod first
	 * (elfutils 0.188 dlopens it on a module's first miss, URLs or not),
	 * and with it libcurl, GnuTLS, Kerberos and LDAP: 28 more libraries,
	 * 10 ms of `ptrace-run -- ls /` (26 ms, now 16). */
	if (!found && !symbolize_difd_wanted()) {
		errno = 0; /* what libdwfl's search leaves when it finds none */
		return -1;
	}
	if (!s)
		return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
						    debuglink_crc, debuginfo_file_name);
	symbolize_difd_hook(s);
	s->difd_cut = 0;
	s->difd_bytes = 0;
	s->difd_last_ns = symbolize_now_ns();
	symbolize_querying = s;
	fd = dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file, debuglink_crc,
					  debuginfo_file_name);
	symbolize_querying = NULL;
	if (s->difd_cut)
		symbolize_difd_cut(s, qid, qn);
	return fd;
}

/* Hand m's file to libdwfl at m's bias; 0 or -errno. */
static void fnindex_free(struct sym_module *m);

static int symbolize_report(struct symbolizer *s, struct sym_module *m)
{
	int fd;

	fnindex_free(m); /* its DIEs were the old file's */
	/* Opened here rather than by libdwfl so a missing or unreadable file
	 * gives the caller its real errno, and so that only a regular file
	 * is ever opened. */
	fd = symbolize_open_regular(m->path);
	if (fd < 0)
		return fd;
	dwfl_report_begin_add(s->dwfl);
	/* add_p_vaddr=true: `base` is then the load bias (dlpi_addr) and
	 * libdwfl adds the segments' p_vaddr itself, for PIE, non-PIE and
	 * prelinked files alike. */
	m->dwmod = dwfl_report_elf(s->dwfl, m->path, m->path, fd, m->bias, true);
	/* The fd is consumed on success only. */
	if (!m->dwmod)
		close(fd);
	dwfl_report_end(s->dwfl, NULL, NULL);
	if (m->dwmod) {
		void **ud;

		/* symbolize_find_debuginfo's: the search path, debuginfod's state. */
		if (dwfl_module_info(m->dwmod, &ud, NULL, NULL, NULL, NULL, NULL, NULL))
			*ud = s;
	}
	if (m->dwmod) {
		const unsigned char *bits;
		GElf_Addr vaddr;
		int n = dwfl_module_build_id(m->dwmod, &bits, &vaddr);
		char hex[129];

		if (n > 0 && n <= 64) {
			for (int i = 0; i < n; i++)
				snprintf(hex + 2 * i, 3, "%02x", bits[i]);
			m->build_id = symbolize_intern(s, hex);
		}
	}
	return m->dwmod ? 0 : -ENOEXEC;
}

const char *symbolizer_build_id(const struct symbolizer *s, const char *path)
{
	for (size_t i = 0; i < s->nmods; i++)
		if (s->mods[i].build_id && !strcmp(s->mods[i].path, path))
			return s->mods[i].build_id;
	return NULL;
}

int symbolizer_module(const struct symbolizer *s, size_t i, const char **path, uint64_t *bias, uint64_t *start,
		      uint64_t *end)
{
	if (i >= s->nmods)
		return -1;
	*path = s->mods[i].path;
	*bias = s->mods[i].bias;
	*start = s->mods[i].start;
	*end = s->mods[i].end;
	return 0;
}

int symbolizer_add_module(struct symbolizer *s, const char *path, uint64_t bias, uint64_t start, uint64_t end)
{
	struct sym_module *m;
	size_t i;
	int err;

	if (!path || start >= end)
		return -EINVAL;
	/* A module recorded twice (by two threads' traces, or dlopen of a
	 * library already loaded) is reported once; the range on record
	 * becomes the union. */
	for (i = 0; i < s->nmods; i++) {
		m = &s->mods[i];
		if (m->bias != bias || strcmp(m->path, path) != 0)
			continue;
		err = m->err;
		if (start < m->start || end > m->end) {
			m->start = start < m->start ? start : m->start;
			m->end = end > m->end ? end : m->end;
			qsort(s->mods, s->nmods, sizeof(*s->mods), symbolize_module_cmp);
			if (!s->replay)
				symbolize_cache_clear(s);
		}
		return err;
	}
	if (s->nmods == s->mods_cap) {
		size_t cap = s->mods_cap ? s->mods_cap * 2 : 16;
		struct sym_module *t = realloc(s->mods, cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		s->mods = t;
		s->mods_cap = cap;
	}
	m = &s->mods[s->nmods];
	memset(m, 0, sizeof(*m));
	m->path = strdup(path);
	if (!m->path)
		return -ENOMEM;
	m->bias = bias;
	m->start = start;
	m->end = end;
	/* Replaying: a module the recording never saw. */
	err = m->err = s->replay ? -ENOENT : symbolize_report(s, m);
	s->nmods++;
	qsort(s->mods, s->nmods, sizeof(*s->mods), symbolize_module_cmp);
	/* Addresses looked up before may have been misses that this module
	 * now covers (a replay's cache holds the final answers). */
	if (!s->replay)
		symbolize_cache_clear(s);
	return err;
}

int symbolizer_module_count(const struct symbolizer *s)
{
	return (int)s->nmods;
}

/* ---- DWARF ---- */

static int sym_entry_cmp(const void *a, const void *b)
{
	const struct sym_entry *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->rank - y->rank;
}

/*
 * libdwfl looks a symbol up by walking the whole table (elfutils 0.188);
 * a large program (cc1plus: 31k symbols) times every distinct address of a
 * report made that the report's main cost. One sorted copy per module
 * makes each lookup a binary search.
 */
static void symbolize_load_syms(struct sym_module *m)
{
	int n = dwfl_module_getsymtab(m->dwmod);
	size_t cap = 0;

	m->syms_loaded = 1;
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *name = dwfl_module_getsym_info(m->dwmod, i, &sym, &addr, NULL, NULL, NULL);
		int type = GELF_ST_TYPE(sym.st_info), bind = GELF_ST_BIND(sym.st_info);

		if (!name || !*name || sym.st_shndx == SHN_UNDEF || (type != STT_FUNC && type != STT_GNU_IFUNC))
			continue;
		if (m->nsyms == cap) {
			struct sym_entry *t = realloc(m->syms, (cap = cap ? cap * 2 : 1024) * sizeof(*t));
			if (!t)
				break;
			m->syms = t;
		}
		m->syms[m->nsyms++] = (struct sym_entry){.lo = addr, .hi = addr + sym.st_size, .name = name,
							 .rank = bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2};
	}
	if (m->nsyms)
		qsort(m->syms, m->nsyms, sizeof(*m->syms), sym_entry_cmp);
	/* A symbol without a size reaches to the next one. */
	for (size_t i = 0; i < m->nsyms; i++)
		if (m->syms[i].hi == m->syms[i].lo)
			m->syms[i].hi = i + 1 < m->nsyms ? m->syms[i + 1].lo : m->syms[i].lo + 1;
}

/* The raw (mangled, maybe versioned) name of the function symbol holding
 * pc; NULL when none. Owned by libdwfl. */
static const char *symbolize_symbol_raw(struct sym_module *m, uint64_t pc)
{
	GElf_Off off;
	GElf_Sym sym;
	size_t lo = 0, hi;

	if (!m->syms_loaded)
		symbolize_load_syms(m);
	if (!m->nsyms)
		/* .symtab when the file or its debug file has one, else .dynsym
		 * (or the MiniDebugInfo .gnu_debugdata). */
		return dwfl_module_addrinfo(m->dwmod, pc, &off, &sym, NULL, NULL, NULL);
	/* The last entry with lo <= pc; among equal lo, the best-ranked one
	 * comes first, so step back to it. */
	hi = m->nsyms;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->syms[mid].lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	lo--;
	while (lo > 0 && m->syms[lo - 1].lo == m->syms[lo].lo)
		lo--;
	/* Nested or overlapping symbols: the nearest start that holds pc. */
	for (size_t k = lo + 1; k-- > 0;) {
		if (pc < m->syms[k].hi)
			return m->syms[k].name;
		if (lo - k > 8)
			break;
	}
	return NULL;
}

static int symbolize_curange_cmp(const void *a, const void *b)
{
	const struct sym_curange *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Every unit's ranges, once: what .debug_aranges would have said. */
static void symbolize_load_cus(struct sym_module *m)
{
	Dwarf_Die *cu = NULL;
	Dwarf_Addr bias;
	size_t cap = 0;

	m->cus_loaded = 1;
	while ((cu = dwfl_module_nextcu(m->dwmod, cu, &bias))) {
		Dwarf_Addr base, lo, hi;
		ptrdiff_t off = 0;

		while ((off = dwarf_ranges(cu, off, &base, &lo, &hi)) > 0) {
			if (lo >= hi)
				continue;
			if (m->ncus == cap) {
				struct sym_curange *t = realloc(m->cus, (cap = cap ? cap * 2 : 64) * sizeof(*t));
				if (!t)
					goto sort; /* what was found, still sorted */
				m->cus = t;
			}
			m->cus[m->ncus++] = (struct sym_curange){.lo = lo, .hi = hi, .cu = cu};
		}
	}
sort:
	if (m->ncus)
		qsort(m->cus, m->ncus, sizeof(*m->cus), symbolize_curange_cmp);
}

/*
 * The unit holding pc (a runtime address), and the module's bias. libdw
 * finds it through .debug_aranges, which clang (14) does not emit and
 * elfutils 0.188 does not make up for: then the units' own ranges,
 * read once and searched by address.
 */
static Dwarf_Die *symbolize_cu(struct sym_module *m, uint64_t pc, Dwarf_Addr *bias)
{
	Dwarf_Die *cu = dwfl_module_addrdie(m->dwmod, pc, bias);
	size_t lo = 0, hi;

	if (cu)
		return cu;
	if (!dwfl_module_getdwarf(m->dwmod, bias))
		return NULL;
	if (!m->cus_loaded)
		symbolize_load_cus(m);
	hi = m->ncus;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->cus[mid].lo <= pc - *bias)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Ranges may nest (a unit's whole span and its pieces): look back a
	 * few for one that holds pc. */
	for (size_t k = lo; k-- > 0 && lo - k <= 8;)
		if (pc - *bias < m->cus[k].hi)
			return m->cus[k].cu;
	return NULL;
}

/*
 * A unit's functions and inlined instances, from one walk of its DIEs:
 * every range of each, sorted by start (deeper first among equal starts
 * is not needed: see fnindex_find), with the enclosing function-like DIE.
 * dwarf_getscopes and dwarf_getscopes_die walk the unit from its root for
 * every address; for python3's ceval.c, thousands of addresses into one
 * unit of tens of thousands of DIEs, that was the report's 3 seconds.
 */
struct sym_fndie {
	Dwarf_Die die;
	int parent; /* index of the enclosing function-like DIE, -1 none */
	int tag;
};

struct sym_fnrange {
	uint64_t lo, hi; /* DWARF addresses, [lo, hi) */
	uint64_t maxhi;  /* the highest hi of this and every earlier range */
	unsigned depth;
	int die;
};

struct sym_fnindex {
	Dwarf_Off cu_off;
	struct sym_fndie *dies;
	size_t ndies;
	struct sym_fnrange *ranges;
	size_t nranges;
	int bad; /* out of memory while made: not used */
};

static int fnrange_cmp(const void *a, const void *b)
{
	const struct sym_fnrange *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->depth < y->depth ? -1 : x->depth > y->depth;
}

#define FNINDEX_MAX_DEPTH 256

/* Room in *v (*cap elements of size bytes) for element n: doubled from
 * first. 0, or -1 out of memory (*v unchanged). */
static int fnindex_reserve(void **v, size_t *cap, size_t n, size_t size, size_t first)
{
	size_t ncap;
	void *t;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : first;
	if (!(t = realloc(*v, ncap * size)))
		return -1;
	*v = t;
	*cap = ncap;
	return 0;
}

static int fnindex_add_die(struct sym_fnindex *x, size_t *dcap, const Dwarf_Die *die, int parent, int tag)
{
	if (fnindex_reserve((void **)&x->dies, dcap, x->ndies, sizeof(*x->dies), 64))
		return -1;
	x->dies[x->ndies].die = *die;
	x->dies[x->ndies].parent = parent;
	x->dies[x->ndies].tag = tag;
	return (int)x->ndies++;
}

static int fnindex_add_ranges(struct sym_fnindex *x, size_t *rcap, Dwarf_Die *die, int idx, unsigned depth)
{
	Dwarf_Addr base, lo, hi;
	ptrdiff_t off = 0;

	while ((off = dwarf_ranges(die, off, &base, &lo, &hi)) > 0) {
		if (lo >= hi)
			continue;
		if (fnindex_reserve((void **)&x->ranges, rcap, x->nranges, sizeof(*x->ranges), 64))
			return -1;
		x->ranges[x->nranges++] = (struct sym_fnrange){.lo = lo, .hi = hi, .depth = depth, .die = idx};
	}
	return 0;
}

/* Walk cudie's tree once (an explicit stack: no recursion on input). */
static void fnindex_build(struct sym_fnindex *x, Dwarf_Die *cudie)
{
	struct {
		Dwarf_Die die;
		int fn; /* the function-like DIE enclosing this level's DIEs */
	} stack[FNINDEX_MAX_DEPTH];
	size_t dcap = 0, rcap = 0;
	int sp = 0;

	if (dwarf_child(cudie, &stack[0].die) != 0)
		return;
	stack[0].fn = -1;
	for (;;) {
		Dwarf_Die *d = &stack[sp].die;
		int tag = dwarf_tag(d), fn = stack[sp].fn, idx = -1;
		Dwarf_Die child;

		if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine) {
			idx = fnindex_add_die(x, &dcap, d, fn, tag);
			if (idx < 0 || fnindex_add_ranges(x, &rcap, d, idx, (unsigned)sp) < 0) {
				x->bad = 1;
				return;
			}
		}
		if (sp + 1 < FNINDEX_MAX_DEPTH && dwarf_haschildren(d) && dwarf_child(d, &child) == 0) {
			sp++;
			stack[sp].die = child;
			stack[sp].fn = idx >= 0 ? idx : fn;
			continue;
		}
		while (dwarf_siblingof(&stack[sp].die, &stack[sp].die) != 0) {
			if (sp == 0)
				goto done;
			sp--;
		}
	}
done:
	if (x->nranges)
		qsort(x->ranges, x->nranges, sizeof(*x->ranges), fnrange_cmp);
	for (size_t i = 0; i < x->nranges; i++)
		x->ranges[i].maxhi = i && x->ranges[i - 1].maxhi > x->ranges[i].hi ? x->ranges[i - 1].maxhi : x->ranges[i].hi;
}

/* The index of the unit cudie in m, made on first use; NULL when it
 * could not be made. */
static struct sym_fnindex *symbolize_fnindex(struct sym_module *m, Dwarf_Die *cudie)
{
	Dwarf_Off off = dwarf_dieoffset(cudie);
	struct sym_fnindex *x;

	for (size_t i = 0; i < m->nfnidx; i++)
		if (m->fnidx[i].cu_off == off)
			return m->fnidx[i].bad ? NULL : &m->fnidx[i];
	if (fnindex_reserve((void **)&m->fnidx, &m->fnidx_cap, m->nfnidx, sizeof(*m->fnidx), 16))
		return NULL;
	x = &m->fnidx[m->nfnidx++];
	memset(x, 0, sizeof(*x));
	x->cu_off = off;
	fnindex_build(x, cudie);
	return x->bad ? NULL : x;
}

/* The innermost function-like DIE whose ranges hold pc (a DWARF
 * address): among the ranges holding it, the one starting last (nested
 * ranges start inside their parents'), deeper on a tie. -1 when none. */
static int fnindex_find(const struct sym_fnindex *x, uint64_t pc)
{
	size_t lo = 0, hi = x->nranges;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (x->ranges[mid].lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Back from the last range starting at or before pc; none earlier
	 * can hold pc once the highest end so far is at or below it. */
	for (size_t k = lo; k-- > 0 && x->ranges[k].maxhi > pc;)
		if (pc < x->ranges[k].hi)
			return x->ranges[k].die;
	return -1;
}

static void fnindex_free(struct sym_module *m)
{
	for (size_t i = 0; i < m->nfnidx; i++) {
		free(m->fnidx[i].dies);
		free(m->fnidx[i].ranges);
	}
	free(m->fnidx);
	m->fnidx = NULL;
	m->nfnidx = m->fnidx_cap = 0;
}

static const char *symbolize_symbol(struct symbolizer *s, struct sym_module *m, uint64_t pc, const char **entity)
{
	return symbolize_name(s, symbolize_symbol_raw(m, pc), entity);
}

/* ---- PLT stubs ---- */

/*
 * A PLT stub has no symbol of its own: the nearest one before it is
 * _init, sizeless, so it reached over every stub and the CPU samples in
 * them were _init's. perf and gdb name a stub after the function it calls,
 * "puts@plt"; so do we. Each stub's indirect jump, `jmp *disp(%rip)`
 * (ff 25 rel32, maybe after endbr64 and a bnd prefix), goes through the
 * GOT slot the dynamic linker fills, and the relocation at that slot
 * (JUMP_SLOT in .rela.plt, GLOB_DAT in .rela.dyn for .plt.got) names the
 * function. That holds in .plt (lazy binding), .plt.sec (IBT: the stubs
 * that are called) and .plt.got alike, whatever the linker's order; entry
 * indices would not. IBT's lazy stubs in .plt jump to PLT0 instead, after
 * `push $k`: theirs is .rela.plt[k]'s name. A library's calls to its own
 * ifuncs (libc's memcpy) go through IRELATIVE slots, which have no
 * symbol but the resolver's address (objdump's *ABS*+0x9d700@plt): the
 * ifunc symbol there names them. PLT0 and a stub not decoded get no name
 * (module+offset), never _init's. x86-64 only: elsewhere the
 * stubs are coded otherwise and the symbol table answers as before.
 */

struct sym_gotrel {
	uint64_t slot;    /* r_offset: the GOT slot's ELF address */
	const char *name; /* .dynstr, owned by libelf; NULL: IRELATIVE */
	uint64_t ifunc;   /* IRELATIVE: the resolver's ELF address (r_addend) */
};

struct sym_pltrels {
	struct sym_gotrel *rels; /* sorted by slot */
	size_t nrels, cap;
	struct sym_gotrel *jmprel; /* .rela.plt's by index (slot 0: none) */
	size_t njmprel;
};

static int sym_gotrel_cmp(const void *a, const void *b)
{
	const struct sym_gotrel *x = a, *y = b;

	return x->slot < y->slot ? -1 : x->slot > y->slot;
}

static int sym_plt_cmp(const void *a, const void *b)
{
	const struct sym_plt *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* The relocations of one SHT_RELA section into r; .rela.plt's also by
 * index. 0 or -ENOMEM. */
static int symbolize_plt_rels(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, int is_jmprel, struct sym_pltrels *r)
{
	Elf_Data *data = elf_getdata(scn, NULL), *symdata;
	Elf_Scn *symscn = elf_getscn(elf, sh->sh_link);
	GElf_Shdr symsh;
	size_t n, i, esz = gelf_fsize(elf, ELF_T_RELA, 1, EV_CURRENT);

	if (!esz || !data || !symscn || !gelf_getshdr(symscn, &symsh) || !(symdata = elf_getdata(symscn, NULL)))
		return 0;
	n = data->d_size / esz;
	if (is_jmprel && !r->jmprel) {
		r->jmprel = calloc(n ? n : 1, sizeof(*r->jmprel));
		if (!r->jmprel)
			return -ENOMEM;
		r->njmprel = n;
	}
	for (i = 0; i < n; i++) {
		struct sym_gotrel rel = {0};
		GElf_Rela rela;
		GElf_Sym sym;
		unsigned type;

		if (!gelf_getrela(data, (int)i, &rela))
			break;
		type = (unsigned)GELF_R_TYPE(rela.r_info);
		rel.slot = rela.r_offset;
		if (type == R_X86_64_IRELATIVE && rela.r_addend > 0)
			rel.ifunc = (uint64_t)rela.r_addend;
		else if ((type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) || !GELF_R_SYM(rela.r_info) ||
			 !gelf_getsym(symdata, (int)GELF_R_SYM(rela.r_info), &sym) ||
			 !(rel.name = elf_strptr(elf, symsh.sh_link, sym.st_name)) || !*rel.name)
			continue;
		if (is_jmprel && r->jmprel && i < r->njmprel)
			r->jmprel[i] = rel;
		if (r->nrels == r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 64;
			struct sym_gotrel *t = realloc(r->rels, cap * sizeof(*t));

			if (!t)
				return -ENOMEM;
			r->rels = t;
			r->cap = cap;
		}
		r->rels[r->nrels++] = rel;
	}
	return 0;
}

static const struct sym_gotrel *symbolize_plt_slot(const struct sym_pltrels *r, uint64_t slot)
{
	struct sym_gotrel key = {.slot = slot};

	return r->nrels ? bsearch(&key, r->rels, r->nrels, sizeof(*r->rels), sym_gotrel_cmp) : NULL;
}

/* The relocation of the function the stub of len bytes at p (ELF
 * address addr) calls; NULL when it is not one of the known shapes. */
static const struct sym_gotrel *symbolize_plt_decode(const unsigned char *p, size_t len, uint64_t addr,
						     const struct sym_pltrels *r)
{
	size_t i = 0;

	if (len >= 4 && !memcmp(p, "\xf3\x0f\x1e\xfa", 4)) /* endbr64 */
		i = 4;
	if (i < len && p[i] == 0xf2) /* bnd (MPX PLTs) */
		i++;
	if (i + 6 <= len && p[i] == 0xff && p[i + 1] == 0x25) {
		int32_t rel;

		memcpy(&rel, p + i + 2, sizeof(rel));
		return symbolize_plt_slot(r, addr + i + 6 + (uint64_t)(int64_t)rel);
	}
	if (i + 5 <= len && p[i] == 0x68) { /* push $k: a lazy stub */
		uint32_t k;

		memcpy(&k, p + i + 1, sizeof(k));
		return k < r->njmprel && r->jmprel[k].slot ? &r->jmprel[k] : NULL;
	}
	return NULL;
}

/* The stubs of one PLT section into m->plts (runtime addresses); 0 or
 * -ENOMEM. The first 16 bytes of .plt are PLT0, the lazy resolver. */
static int symbolize_plt_section(struct sym_module *m, Elf_Scn *scn, const GElf_Shdr *sh, const char *name,
				 GElf_Addr bias, const struct sym_pltrels *r, size_t *cap)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	const unsigned char *p;
	size_t size, esz, off;

	if (!data || !data->d_buf)
		return 0;
	p = data->d_buf;
	size = data->d_size < sh->sh_size ? data->d_size : sh->sh_size;
	esz = sh->sh_entsize;
	if (esz < 8 || esz > 64) /* ld gives 16, .plt.got 8 (16 with IBT) */
		esz = !strcmp(name, ".plt.got") && !(size >= 4 && !memcmp(p, "\xf3\x0f\x1e\xfa", 4)) ? 8 : 16;
	for (off = 0; off < size; off += esz) {
		size_t len = size - off < esz ? size - off : esz;
		const struct sym_gotrel *rel =
			off == 0 && !strcmp(name, ".plt") ? NULL : symbolize_plt_decode(p + off, len, sh->sh_addr + off, r);

		if (m->nplts == *cap) {
			size_t ncap = *cap ? *cap * 2 : 64;
			struct sym_plt *t = realloc(m->plts, ncap * sizeof(*t));

			if (!t)
				return -ENOMEM;
			m->plts = t;
			*cap = ncap;
		}
		m->plts[m->nplts++] = (struct sym_plt){
			.lo = sh->sh_addr + off + bias,
			.hi = sh->sh_addr + off + len + bias,
			.name = rel ? rel->name : NULL,
			.ifunc = rel && rel->ifunc ? rel->ifunc + bias : 0,
		};
	}
	return 0;
}

/* m's PLT stubs, once. Best effort: out of memory, the ones found so far
 * (possibly none: the symbol table answers then). */
static void symbolize_load_plts(struct sym_module *m)
{
	struct sym_pltrels r = {0};
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(m->dwmod, &bias);
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	size_t shstrndx, cap = 0;

	m->plts_loaded = 1;
	if (!elf || !gelf_getehdr(elf, &eh) || eh.e_machine != EM_X86_64 || elf_getshdrstrndx(elf, &shstrndx) != 0)
		return;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !(sh.sh_flags & SHF_ALLOC) ||
		    !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
			continue;
		if (symbolize_plt_rels(elf, scn, &sh, !strcmp(name, ".rela.plt"), &r) < 0)
			goto out;
	}
	if (r.nrels)
		qsort(r.rels, r.nrels, sizeof(*r.rels), sym_gotrel_cmp);
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_EXECINSTR) ||
		    !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
			continue;
		if ((!strcmp(name, ".plt") || !strcmp(name, ".plt.sec") || !strcmp(name, ".plt.got")) &&
		    symbolize_plt_section(m, scn, &sh, name, bias, &r, &cap) < 0)
			break;
	}
	if (m->nplts)
		qsort(m->plts, m->nplts, sizeof(*m->plts), sym_plt_cmp);
out:
	free(r.rels);
	free(r.jmprel);
}

/* 1 when pc is in a PLT stub of m: *name is then the frame's function,
 * "puts@plt" (demangled and pooled), or NULL for PLT0 and a stub not
 * decoded. 0 elsewhere. */
static int symbolize_plt(struct symbolizer *s, struct sym_module *m, uint64_t pc, const char **name)
{
	const struct sym_plt *p;
	const char *raw;
	char *dem, *full, plain[512];
	size_t lo = 0, hi, len;

	if (!m->plts_loaded)
		symbolize_load_plts(m);
	hi = m->nplts;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->plts[mid].lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || pc >= m->plts[lo - 1].hi)
		return 0;
	p = &m->plts[lo - 1];
	*name = NULL;
	raw = p->name ? p->name : p->ifunc ? symbolize_symbol_raw(m, p->ifunc) : NULL;
	if (!raw || !*raw)
		return 1;
	/* A symbol-table name may carry a version: memcpy@@GLIBC_2.14. */
	len = strcspn(raw, "@");
	if (len >= sizeof(plain))
		len = sizeof(plain) - 1;
	memcpy(plain, raw, len);
	plain[len] = 0;
	dem = names_demangle(plain);
	if (asprintf(&full, "%s@plt", dem ? dem : plain) >= 0) {
		*name = symbolize_intern(s, full);
		free(full);
	}
	free(dem);
	return 1;
}

/* ---- DWARF ---- */

/* The mangled DW_AT_linkage_name of die, NULL when it has none. Any
 * other linkage name is an asm label (glibc's __GI___qsort_r for
 * __qsort_r), worse than the source name. The _integrate lookups follow
 * DW_AT_abstract_origin and DW_AT_specification: an inlined or
 * out-of-line instance carries no name of its own. */
static const char *symbolize_die_linkage(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name = NULL;

	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) ||
	    dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr))
		name = dwarf_formstring(&attr);
	return name && !strncmp(name, "_Z", 2) ? name : NULL;
}

/* The DIE a function instance stands for: abstract origins and
 * specifications followed to the end (the declaration in its scope). */
static Dwarf_Off symbolize_die_decl(Dwarf_Die *die)
{
	Dwarf_Die cur = *die, next;
	Dwarf_Attribute attr;

	for (int i = 0; i < 8; i++) {
		if ((dwarf_attr(&cur, DW_AT_abstract_origin, &attr) || dwarf_attr(&cur, DW_AT_specification, &attr)) &&
		    dwarf_formref_die(&attr, &next)) {
			cur = next;
			continue;
		}
		break;
	}
	return dwarf_dieoffset(&cur);
}

struct symbolize_outline {
	Dwarf_Off decl;
	Dwarf_Addr low;
	int found;
};

static int symbolize_outline_cb(Dwarf_Die *fn, void *arg)
{
	struct symbolize_outline *o = arg;
	Dwarf_Addr low;

	if (dwarf_lowpc(fn, &low) == 0 && symbolize_die_decl(fn) == o->decl) {
		o->low = low;
		o->found = 1;
		return DWARF_CB_ABORT;
	}
	return DWARF_CB_OK;
}

/* A mangled name for die from the symbol table, where DWARF has none
 * (gcc gives lambdas, functions of an anonymous namespace and
 * __static_initialization_and_destruction_0 only DW_AT_name). The
 * symbol is the one holding pc for the real function, or the
 * out-of-line copy's for an inlined one (-finstrument-functions always
 * makes one: the hooks take the function's address). Accepted when it
 * demangles to a name containing DW_AT_name; the clone suffix
 * (.constprop.0) is cut: DWARF's names have none either. */
static const char *symbolize_die_symbol(struct sym_module *sm, Dwarf_Die *die, Dwarf_Die *cudie, uint64_t pc,
					Dwarf_Addr bias, const char *plain, char *buf, size_t len)
{
	const char *raw = NULL, *dot;
	char *dem;
	int ok;

	if (cudie) {
		/* C has no mangled names to find: the walk of the unit below,
		 * for every inlined frame of every address, was most of the
		 * report's time on python3 with its DWARF (4 s). */
		int lang = dwarf_srclang(cudie);

		if (lang == DW_LANG_C89 || lang == DW_LANG_C || lang == DW_LANG_C99 || lang == DW_LANG_C11 ||
		    lang == 0x2c /* DW_LANG_C17 */)
			return NULL;
	}
	if (dwarf_tag(die) == DW_TAG_subprogram) {
		raw = symbolize_symbol_raw(sm, pc);
	} else if (cudie) {
		struct symbolize_outline o = {.decl = symbolize_die_decl(die)};

		dwarf_getfuncs(cudie, symbolize_outline_cb, &o, 0);
		if (o.found)
			raw = symbolize_symbol_raw(sm, o.low + bias);
	}
	if (!raw || strncmp(raw, "_Z", 2))
		return NULL;
	dot = strpbrk(raw, ".@");
	if ((size_t)(dot ? dot - raw : (ptrdiff_t)strlen(raw)) >= len)
		return NULL;
	snprintf(buf, len, "%.*s", (int)(dot ? dot - raw : (ptrdiff_t)strlen(raw)), raw);
	dem = names_demangle(buf);
	ok = dem && (!plain || strstr(dem, plain));
	free(dem);
	return ok ? buf : NULL;
}

/* The name of a function DIE as c++filt prints its linkage name. */
static const char *symbolize_die_name(struct symbolizer *s, struct sym_module *sm, Dwarf_Die *die, Dwarf_Die *cudie,
				      uint64_t pc, Dwarf_Addr bias, const char **entity)
{
	const char *name = symbolize_die_linkage(die), *plain = NULL;
	Dwarf_Attribute attr;
	char buf[1024];

	if (name)
		return symbolize_name(s, name, entity);
	if (dwarf_attr_integrate(die, DW_AT_name, &attr))
		plain = dwarf_formstring(&attr);
	name = symbolize_die_symbol(sm, die, cudie, pc, bias, plain, buf, sizeof(buf));
	return symbolize_name(s, name ? name : plain, entity);
}

/* The line table's file and line for pc: the innermost source position,
 * which inside inlined code is the inlined function's own line. */
static void symbolize_srcline(struct symbolizer *s, struct sym_module *m, uint64_t pc, struct sym_frame *f)
{
	Dwfl_Line *line = dwfl_module_getsrc(m->dwmod, pc);
	const char *file;
	int lineno = 0;

	if (!line) {
		/* No .debug_aranges: the line table of the unit found by its
		 * ranges. */
		Dwarf_Addr bias;
		Dwarf_Die *cu = symbolize_cu(m, pc, &bias);
		Dwarf_Line *dl = cu ? dwarf_getsrc_die(cu, pc - bias) : NULL;
		Dwarf_Attribute attr;

		if (!dl || !(file = dwarf_linesrc(dl, NULL, NULL)) || dwarf_lineno(dl, &lineno) != 0)
			return;
		f->file = symbolize_path(s, dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &attr)), file);
		f->line = lineno;
		return;
	}
	file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
	if (!file)
		return;
	f->file = symbolize_path(s, dwfl_line_comp_dir(line), file);
	f->line = lineno;
}

/* Where the inlined instance `inl` was called from: the position inside
 * the frame that contains it. */
static void symbolize_callsite(struct symbolizer *s, Dwarf_Die *inl, struct sym_frame *f)
{
	Dwarf_Attribute attr;
	Dwarf_Word idx, lineno;
	Dwarf_Files *files;
	Dwarf_Die cu;
	size_t nfiles;

	if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_line, &attr), &lineno) == 0)
		f->line = (int)lineno;
	if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_file, &attr), &idx) != 0)
		return;
	/* The index is into the line table of the DIE's own unit, which with
	 * dwz-style partial units need not be the unit pc was found in. */
	if (!dwarf_diecu(inl, &cu, NULL, NULL) || dwarf_getsrcfiles(&cu, &files, &nfiles) != 0 ||
	    idx >= nfiles)
		return;
	f->file = symbolize_path(s, dwarf_formstring(dwarf_attr(&cu, DW_AT_comp_dir, &attr)),
				 dwarf_filesrc(files, idx, NULL, NULL));
}

static bool symbolize_is_function(Dwarf_Die *die)
{
	int tag = dwarf_tag(die);

	return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine;
}

/* One frame of the function-like die (its tag) into *f, a copy of *base
 * with its own name and position: the line at pc for the innermost, the
 * call site in *callee for the others; *callee becomes die. 1 when die is
 * the real function, the last frame. */
static int symbolize_frame(struct symbolizer *s, struct sym_module *sm, Dwarf_Die *die, int tag, Dwarf_Die *cudie,
			   uint64_t pc, Dwarf_Addr bias, const struct sym_frame *base, Dwarf_Die **callee,
			   struct sym_frame *f)
{
	*f = *base;
	f->function = symbolize_die_name(s, sm, die, cudie, pc, bias, &f->entity);
	f->inlined = tag == DW_TAG_inlined_subroutine;
	if (!*callee)
		symbolize_srcline(s, sm, pc, f);
	else
		symbolize_callsite(s, *callee, f);
	if (tag == DW_TAG_subprogram) {
		/* An artificial or nameless DIE: the symbol still has one. */
		if (!f->function)
			f->function = symbolize_symbol(s, sm, pc, &f->entity);
		return 1;
	}
	*callee = die;
	return 0;
}

/* Frames from the DWARF scopes around pc, innermost first, each a copy of
 * f[0] with its own name and position; 0 when the module has no DWARF
 * function there (the caller falls back to the symbol table). */
static int symbolize_inlines(struct symbolizer *s, struct sym_module *sm, uint64_t pc, struct sym_frame *f, int cap)
{
	Dwarf_Die *scopes = NULL, *chain = NULL, *callee = NULL;
	struct sym_frame base = f[0];
	Dwarf_Die *cudie;
	Dwarf_Addr bias;
	int nscopes, nchain, i, n = 0;

	cudie = symbolize_cu(sm, pc, &bias);
	if (!cudie)
		return 0;
	/* An assembler's unit (glibc's syscall stubs) names its entries by
	 * internal aliases (__GI_getpid): the symbol table says it better. */
	if (dwarf_srclang(cudie) == DW_LANG_Mips_Assembler)
		return 0;
	{
		struct sym_fnindex *x = symbolize_fnindex(sm, cudie);
		int k = x ? fnindex_find(x, pc - bias) : -1;

		if (k >= 0) {
			/* The same walk as below, up the index's parents. */
			for (; k >= 0 && n < cap; k = x->dies[k].parent)
				if (symbolize_frame(s, sm, &x->dies[k].die, x->dies[k].tag, cudie, pc, bias, &base, &callee,
						    &f[n++]))
					break;
			return n;
		}
	}
	nscopes = dwarf_getscopes(cudie, pc - bias, &scopes);
	for (i = 0; i < nscopes; i++)
		if (symbolize_is_function(&scopes[i]))
			break;
	if (i >= nscopes)
		goto out;
	/* Past an inlined_subroutine, dwarf_getscopes goes on into the scopes
	 * of the abstract definition, not into the code it was inlined into.
	 * The concrete DIE's physical parents are the real call chain. */
	nchain = dwarf_getscopes_die(&scopes[i], &chain);
	for (i = 0; i < nchain && n < cap; i++)
		if (symbolize_is_function(&chain[i]) &&
		    symbolize_frame(s, sm, &chain[i], dwarf_tag(&chain[i]), cudie, pc, bias, &base, &callee, &f[n++]))
			break;
out:
	free(chain);
	free(scopes);
	return n;
}

/* Resolve addr into f[0..cap); returns the frame count, >= 1. key is
 * is_return | SYM_SYMTAB_ONLY << 1. */
static int symbolize_resolve(struct symbolizer *s, uint64_t addr, int key, struct sym_frame *f, int cap)
{
	/* A return address is the instruction after the call: possibly the
	 * next line, or past a noreturn call's end into the next function.
	 * One byte back is still inside the call instruction. */
	uint64_t pc = (key & 1) && addr ? addr - 1 : addr;
	struct sym_module *m = symbolize_module_at(s, pc);
	int n;

	memset(f, 0, sizeof(*f));
	f->address = addr;
	if (!m)
		return 1;
	f->module = symbolize_intern(s, m->path);
	f->offset = addr - m->bias;
	if (!m->dwmod || symbolize_plt(s, m, pc, &f->function))
		return 1;
	if (key & 2) {
		f->function = symbolize_symbol(s, m, pc, &f->entity);
		return 1;
	}
	n = symbolize_inlines(s, m, pc, f, cap);
	if (n > 0)
		return n;
	/* No DWARF (stripped, no debug file found) or no function DIE there
	 * (assembly): the symbol table names the function, and a line table
	 * without DIEs may still give the place. */
	f->function = symbolize_symbol(s, m, pc, &f->entity);
	symbolize_srcline(s, m, pc, f);
	return 1;
}

/* ---- recording and replay ---- */

/* The record slot of (addr, key), or where it goes; NULL when full. */
static struct sym_slot *symbolize_rec_slot(struct symbolizer *s, uint64_t addr, int key)
{
	size_t i;

	if ((s->rec_used + 1) * 4 > s->rec_cap * 3) {
		size_t cap = s->rec_cap ? s->rec_cap * 2 : SYMBOLIZE_MIN_TABLE, j;
		struct sym_slot *t = calloc(cap, sizeof(*t));

		if (!t)
			return NULL;
		for (i = 0; i < s->rec_cap; i++) {
			if (!s->rec[i].nframes)
				continue;
			for (j = symbolize_slot_hash(s->rec[i].addr, s->rec[i].is_return) & (cap - 1); t[j].nframes;
			     j = (j + 1) & (cap - 1))
				;
			t[j] = s->rec[i];
		}
		free(s->rec);
		s->rec = t;
		s->rec_cap = cap;
	}
	for (i = symbolize_slot_hash(addr, key) & (s->rec_cap - 1); s->rec[i].nframes; i = (i + 1) & (s->rec_cap - 1))
		if (s->rec[i].addr == addr && s->rec[i].is_return == key)
			break;
	return &s->rec[i];
}

static void symbolize_rec_put(struct symbolizer *s, uint64_t addr, int key, const struct sym_frame *f, int n)
{
	struct sym_slot *slot = symbolize_rec_slot(s, addr, key);
	struct sym_frame *copy;

	if (!slot || !(copy = malloc((size_t)n * sizeof(*copy))))
		return; /* out of memory: that answer is not saved */
	memcpy(copy, f, (size_t)n * sizeof(*copy));
	if (slot->nframes)
		free(slot->frames);
	else
		s->rec_used++;
	slot->frames = copy;
	slot->addr = addr;
	slot->is_return = key;
	slot->nframes = n;
}

void symbolizer_record(struct symbolizer *s)
{
	s->recording = 1;
}

/* The index of pooled string str (+1), 0 for NULL: its slot in the pool,
 * counted over the used slots (idx[] maps slot to that count). */
static uint32_t symbolize_str_id(const struct symbolizer *s, const uint32_t *idx, const char *str)
{
	size_t i;

	if (!str || !s->strs_cap)
		return 0;
	for (i = symbolize_strhash(str) & (s->strs_cap - 1); s->strs[i]; i = (i + 1) & (s->strs_cap - 1))
		if (s->strs[i] == str || !strcmp(s->strs[i], str))
			return idx[i] + 1;
	return 0;
}

#define SYMS_MAGIC 0x59535250u /* "PRSY" */
#define SYMS_VERSION 1u

int symbolizer_save(struct symbolizer *s, unsigned char **out, size_t *len)
{
	struct wbuf w = {0};
	uint32_t *idx, n = 0;

	/* Module paths into the pool too, so one table holds every string. */
	for (size_t i = 0; i < s->nmods; i++)
		if (!symbolize_intern(s, s->mods[i].path))
			return -ENOMEM;
	idx = calloc(s->strs_cap ? s->strs_cap : 1, sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	wbuf_u32(&w, SYMS_MAGIC);
	wbuf_u32(&w, SYMS_VERSION);
	wbuf_u32(&w, (uint32_t)s->strs_used);
	for (size_t i = 0; i < s->strs_cap; i++) {
		size_t l;

		if (!s->strs[i])
			continue;
		idx[i] = n++;
		l = strlen(s->strs[i]);
		wbuf_u32(&w, (uint32_t)l);
		wbuf_put(&w, s->strs[i], l);
	}
	wbuf_u32(&w, (uint32_t)s->nmods);
	for (size_t i = 0; i < s->nmods; i++) {
		const struct sym_module *m = &s->mods[i];

		wbuf_u32(&w, symbolize_str_id(s, idx, m->path));
		wbuf_u32(&w, symbolize_str_id(s, idx, m->build_id));
		wbuf_u32(&w, (uint32_t)m->err);
		wbuf_u64(&w, m->bias);
		wbuf_u64(&w, m->start);
		wbuf_u64(&w, m->end);
	}
	wbuf_u32(&w, (uint32_t)s->rec_used);
	for (size_t i = 0; i < s->rec_cap; i++) {
		const struct sym_slot *e = &s->rec[i];

		if (!e->nframes)
			continue;
		wbuf_u64(&w, e->addr);
		wbuf_u8(&w, (uint8_t)e->is_return);
		wbuf_u8(&w, (uint8_t)e->nframes);
		for (int k = 0; k < e->nframes; k++) {
			const struct sym_frame *f = &e->frames[k];

			wbuf_u32(&w, symbolize_str_id(s, idx, f->function));
			wbuf_u32(&w, symbolize_str_id(s, idx, f->file));
			wbuf_u32(&w, (uint32_t)f->line);
			wbuf_u32(&w, symbolize_str_id(s, idx, f->module));
			wbuf_u32(&w, symbolize_str_id(s, idx, f->entity));
			wbuf_u64(&w, f->address);
			wbuf_u64(&w, f->offset);
			wbuf_u8(&w, (uint8_t)(f->inlined != 0));
		}
	}
	free(idx);
	if (w.err) {
		wbuf_free(&w);
		return -ENOMEM;
	}
	*out = w.p;
	*len = w.n;
	return 0;
}

/* String id (1-based, 0 NULL) of a saved table: NULL when out of range. */
static const char *symbolize_saved_str(const char **strs, uint32_t n, uint32_t id, int *bad)
{
	if (!id)
		return NULL;
	if (id > n) {
		*bad = 1;
		return NULL;
	}
	return strs[id - 1];
}

int symbolizer_load(struct symbolizer **out, const void *data, size_t len)
{
	struct rbuf r = {.p = data, .n = len};
	struct symbolizer *s;
	const char **strs = NULL;
	uint32_t nstr, nmods, nent;
	int bad = 0, err = -EPROTO;

	if (rbuf_u32(&r) != SYMS_MAGIC || rbuf_u32(&r) != SYMS_VERSION)
		return -EPROTO;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->replay = 1;
	nstr = rbuf_u32(&r);
	/* Each string takes 4 bytes at least: a count the input cannot hold
	 * is corrupt, not a reason to allocate. */
	if (r.err || nstr > (len - r.off) / 4)
		goto fail;
	strs = calloc(nstr ? nstr : 1, sizeof(*strs));
	if (!strs) {
		err = -ENOMEM;
		goto fail;
	}
	for (uint32_t i = 0; i < nstr; i++) {
		uint32_t l = rbuf_u32(&r);
		const unsigned char *b = rbuf_take(&r, l);
		char *tmp;

		if (!b || memchr(b, 0, l))
			goto fail;
		if (!(tmp = strndup((const char *)b, l))) {
			err = -ENOMEM;
			goto fail;
		}
		strs[i] = symbolize_intern(s, tmp);
		free(tmp);
		if (!strs[i]) {
			err = -ENOMEM;
			goto fail;
		}
	}
	nmods = rbuf_u32(&r);
	if (r.err || nmods > (len - r.off) / 36)
		goto fail;
	for (uint32_t i = 0; i < nmods; i++) {
		const char *path = symbolize_saved_str(strs, nstr, rbuf_u32(&r), &bad);
		const char *build_id = symbolize_saved_str(strs, nstr, rbuf_u32(&r), &bad);
		int merr = (int)rbuf_u32(&r);
		uint64_t bias = rbuf_u64(&r), start = rbuf_u64(&r), end = rbuf_u64(&r);
		struct sym_module *m;

		if (r.err || bad || !path || start >= end || merr > 0)
			goto fail;
		if (symbolizer_add_module(s, path, bias, start, end) == -ENOMEM) {
			err = -ENOMEM;
			goto fail;
		}
		/* What the recording's symbolizer said of the file. */
		for (size_t k = 0; k < s->nmods; k++) {
			m = &s->mods[k];
			if (m->bias == bias && !strcmp(m->path, path)) {
				m->err = merr;
				m->build_id = build_id;
			}
		}
	}
	nent = rbuf_u32(&r);
	if (r.err || nent > (len - r.off) / 10)
		goto fail;
	for (uint32_t i = 0; i < nent; i++) {
		struct sym_frame f[SYMBOLIZE_MAX_FRAMES];
		uint64_t addr = rbuf_u64(&r);
		int key = rbuf_u8(&r), n = rbuf_u8(&r);
		struct sym_slot *slot;

		if (r.err || key > 3 || n < 1 || n > SYMBOLIZE_MAX_FRAMES)
			goto fail;
		memset(f, 0, sizeof(f));
		for (int k = 0; k < n; k++) {
			f[k].function = symbolize_saved_str(strs, nstr, rbuf_u32(&r), &bad);
			f[k].file = symbolize_saved_str(strs, nstr, rbuf_u32(&r), &bad);
			f[k].line = (int)rbuf_u32(&r);
			f[k].module = symbolize_saved_str(strs, nstr, rbuf_u32(&r), &bad);
			f[k].entity = symbolize_saved_str(strs, nstr, rbuf_u32(&r), &bad);
			f[k].address = rbuf_u64(&r);
			f[k].offset = rbuf_u64(&r);
			f[k].inlined = rbuf_u8(&r) != 0;
			if (f[k].line < 0)
				bad = 1;
		}
		if (r.err || bad)
			goto fail;
		slot = symbolize_cache_slot(s, addr, key);
		if (!slot) {
			err = -ENOMEM;
			goto fail;
		}
		if (slot->nframes) /* the same key twice: the last one stands */
			free(slot->frames);
		else
			s->slots_used++;
		slot->frames = malloc((size_t)n * sizeof(*f));
		if (!slot->frames) {
			slot->nframes = 0;
			s->slots_used--;
			err = -ENOMEM;
			goto fail;
		}
		memcpy(slot->frames, f, (size_t)n * sizeof(*f));
		slot->addr = addr;
		slot->is_return = key;
		slot->nframes = n;
	}
	if (r.off != r.n)
		goto fail;
	free(strs);
	*out = s;
	return 0;
fail:
	free(strs);
	symbolizer_free(s);
	return err;
}

/* ---- looking again (symbolizer_refresh) ---- */

static int symbolize_has_file(const struct sym_frame *f, int n)
{
	for (int i = 0; i < n; i++)
		if (f[i].file)
			return 1;
	return 0;
}

/* What an answer tells: a name counts more than a source line. */
static int symbolize_score(const struct sym_frame *f, int n)
{
	return 2 * (f[0].function != NULL) + symbolize_has_file(f, n);
}

/* A replayed module's file, opened to look again: 0 when it is there
 * with the build id on record (a file without one, or changed since, is
 * not the one the addresses are of). Once per module. */
static int symbolize_reopen(struct symbolizer *s, struct sym_module *m)
{
	const char *want = m->build_id;

	if (m->reopened)
		return m->reopened > 0 ? 0 : -1;
	m->reopened = -1;
	if (!want)
		return -1;
	m->build_id = NULL;
	if (symbolize_report(s, m) || !m->build_id || strcmp(m->build_id, want)) {
		m->dwmod = NULL;
		m->build_id = want;
		return -1;
	}
	m->build_id = want;
	m->reopened = 1;
	return 0;
}

/* f (n frames, a replayed answer for addr and key) looked at again when
 * it has no name, or no source line where DWARF was asked for: the
 * better answer goes into f (cap frames). Returns f's frame count. */
static int symbolize_again(struct symbolizer *s, uint64_t addr, int key, struct sym_frame *f, int n, int cap)
{
	struct sym_frame g[SYMBOLIZE_MAX_FRAMES];
	uint64_t pc = (key & 1) && addr ? addr - 1 : addr;
	struct sym_module *m;
	int k;

	if (!f[0].module || (f[0].function && ((key & 2) || symbolize_has_file(f, n))))
		return n;
	if (!(m = symbolize_module_at(s, pc)) || symbolize_reopen(s, m))
		return n;
	k = symbolize_resolve(s, addr, key, g, SYMBOLIZE_MAX_FRAMES);
	if (symbolize_score(g, k) <= symbolize_score(f, n))
		return n;
	if (k > cap)
		k = cap;
	memcpy(f, g, (size_t)k * sizeof(*g));
	return k;
}

/* A replayed slot looked at again, once. */
static void symbolize_refresh_slot(struct symbolizer *s, struct sym_slot *slot)
{
	struct sym_frame tmp[SYMBOLIZE_MAX_FRAMES], *copy;
	int n = slot->nframes;

	slot->refreshed = 1;
	memcpy(tmp, slot->frames, (size_t)n * sizeof(*tmp));
	n = symbolize_again(s, slot->addr, slot->is_return, tmp, n, SYMBOLIZE_MAX_FRAMES);
	if (!memcmp(tmp, slot->frames, (size_t)n * sizeof(*tmp)) && n == slot->nframes)
		return;
	if (!(copy = malloc((size_t)n * sizeof(*copy))))
		return; /* out of memory: the recorded answer stands */
	memcpy(copy, tmp, (size_t)n * sizeof(*copy));
	free(slot->frames);
	slot->frames = copy;
	slot->nframes = n;
}

int symbolizer_lookup_flags(struct symbolizer *s, uint64_t addr, int is_return, int flags, struct sym_frame *out,
			    int max)
{
	struct sym_frame tmp[SYMBOLIZE_MAX_FRAMES];
	const struct sym_frame *frames = tmp;
	struct sym_slot *slot;
	int n, key;

	if (max <= 0)
		return 0;
	key = (is_return != 0) | ((flags & SYM_SYMTAB_ONLY) ? 2 : 0);
	slot = symbolize_cache_slot(s, addr, key);
	if (slot && slot->nframes) {
		if (s->refresh && !slot->refreshed)
			symbolize_refresh_slot(s, slot);
		frames = slot->frames;
		n = slot->nframes;
	} else {
		n = symbolize_resolve(s, addr, key, tmp, SYMBOLIZE_MAX_FRAMES);
		if (s->refresh)
			n = symbolize_again(s, addr, key, tmp, n, SYMBOLIZE_MAX_FRAMES);
		if (s->recording)
			symbolize_rec_put(s, addr, key, tmp, n);
		/* Out of memory: answer anyway, just without caching. */
		if (slot && (slot->frames = malloc((size_t)n * sizeof(*tmp)))) {
			memcpy(slot->frames, tmp, (size_t)n * sizeof(*tmp));
			slot->addr = addr;
			slot->is_return = key;
			slot->nframes = n;
			slot->refreshed = 1;
			s->slots_used++;
		}
	}
	if (n > max)
		n = max;
	memcpy(out, frames, (size_t)n * sizeof(*out));
	return n;
}

int symbolizer_lookup(struct symbolizer *s, uint64_t addr, int is_return, struct sym_frame *out, int max)
{
	return symbolizer_lookup_flags(s, addr, is_return, 0, out, max);
}

/* s's Dwfl; 0 or -ENOMEM. */
static int symbolize_dwfl_begin(struct symbolizer *s)
{
	/* find_elf is never asked for (dwfl_report_elf gives the file), but
	 * libdwfl expects one; debug files come by build-id first, then
	 * .gnu_debuglink in the search path, then debuginfod. */
	s->callbacks.find_elf = dwfl_build_id_find_elf;
	s->callbacks.find_debuginfo = symbolize_find_debuginfo;
	s->callbacks.section_address = dwfl_offline_section_address;
	s->callbacks.debuginfo_path = &s->debuginfo_path;
	s->dwfl = dwfl_begin(&s->callbacks);
	return s->dwfl ? 0 : -ENOMEM;
}

int symbolizer_new(struct symbolizer **out)
{
	struct symbolizer *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	if (symbolize_dwfl_begin(s)) {
		free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

int symbolizer_debug_dirs(struct symbolizer *s, const char *dirs)
{
	char *path = NULL;

	/* Before /usr/lib/debug: the directories the user named are where a
	 * build puts its own debug files; a build-id match is the same file
	 * wherever it is found. */
	if (dirs && *dirs && asprintf(&path, ":.debug:%s:/usr/lib/debug", dirs) < 0)
		return -ENOMEM;
	free(s->debuginfo_path);
	s->debuginfo_path = path;
	return 0;
}

int symbolizer_refresh(struct symbolizer *s)
{
	if (!s->replay)
		return 0;
	if (!s->dwfl && symbolize_dwfl_begin(s))
		return -ENOMEM;
	s->refresh = 1;
	return 0;
}

void symbolizer_free(struct symbolizer *s)
{
	size_t i;

	if (!s)
		return;
	if (s->dwfl)
		dwfl_end(s->dwfl);
	free(s->debuginfo_path);
	symbolize_cache_clear(s);
	free(s->slots);
	for (i = 0; i < s->rec_cap; i++)
		free(s->rec[i].frames);
	free(s->rec);
	for (i = 0; i < s->nmods; i++) {
		free(s->mods[i].path);
		free(s->mods[i].syms);
		free(s->mods[i].plts);
		free(s->mods[i].cus);
		fnindex_free(&s->mods[i]);
	}
	free(s->mods);
	for (i = 0; i < s->strs_cap; i++)
		free(s->strs[i]);
	free(s->strs);
	free(s);
}

void symbolizer_warm(struct symbolizer *s, uint64_t dwarf_addr)
{
	if (s->replay)
		return;
	{
	struct sym_module *dm = dwarf_addr ? symbolize_module_at(s, dwarf_addr) : NULL;
	Dwarf_Addr bias;

	for (size_t i = 0; i < s->nmods; i++)
		if (s->mods[i].dwmod)
			dwfl_module_getsymtab(s->mods[i].dwmod);
	if (dm && dm->dwmod)
		dwfl_module_getdwarf(dm->dwmod, &bias);
}
}
