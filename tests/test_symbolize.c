/*
 * symbolize: the test binary symbolizes itself. Its modules come from
 * dl_iterate_phdr, as the agent records them, and the probes below know
 * their own lines through __LINE__, so the answers are exact; where two
 * answers are both right (an entry's line, getpid's alias) the test says
 * why and accepts just those two.
 */
#include "symbolize.h"

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

/* noipa: no inlining, cloning (probe.constprop.0) or tail calls, so each
 * probe keeps its name and its call sites keep their return addresses. */
#define NOIPA __attribute__((noipa))

#define MAX_FRAMES 8

/* ---- probes: their lines are the expected answers ---- */

/* The line of probe_entry's opening brace. gcc gives the entry address two
 * line rows, the brace and the first statement; the last one describes
 * the instruction, and which is last depends on the flags (-fsanitize
 * swaps them). */
static const int probe_entry_line = __LINE__ + 2;
NOIPA static int probe_entry(int x)
{
	return x * 3 + 1;
}

NOIPA static void *probe_return_address(void)
{
	return __builtin_return_address(0);
}

/* Return address of a call made on the line stored in *line. The nop on
 * the next line is the instruction at the return address, so looking up
 * the address itself instead of the call gives the wrong line. */
NOIPA static void *probe_caller(int *line)
{
	void *ra;

	*line = __LINE__ + 1;
	ra = probe_return_address();
	__asm__ volatile("nop" ::: "memory");
	return ra;
}

static inline __attribute__((always_inline)) void *probe_inlined(int *line)
{
	void *ra;

	*line = __LINE__ + 1;
	ra = probe_return_address();
	__asm__ volatile("nop" ::: "memory");
	return ra;
}

/* Return address of a call made inside probe_inlined, which is inlined
 * here on the line stored in *call_line. */
NOIPA static void *probe_inliner(int *inner_line, int *call_line)
{
	void *ra;

	*call_line = __LINE__ + 1;
	ra = probe_inlined(inner_line);
	__asm__ volatile("nop" ::: "memory");
	return ra;
}

/* An asm label on an extern function becomes DW_AT_linkage_name without
 * being a mangled name (glibc does this to all its internal functions):
 * the source name wins. gcc records no linkage name for a static one. */
NOIPA int probe_renamed(int x) __asm__("probe_asm_label");
NOIPA int probe_renamed(int x)
{
	return x * 5 + 2;
}

/* ---- helpers ---- */

/* Free s and check nothing leaked. LeakSanitizer's own report comes when
 * Criterion's worker exits, after the result is in, and fails nothing;
 * asking it here makes a leak fail the test. */
static void free_checked(struct symbolizer *s)
{
	symbolizer_free(s);
#ifdef __SANITIZE_ADDRESS__
	cr_assert(eq(int, __lsan_do_recoverable_leak_check(), 0), "no leak after symbolizer_free");
#endif
}

static int ends_with(const char *str, const char *suffix)
{
	size_t n = strlen(str), k = strlen(suffix);

	return n >= k && strcmp(str + n - k, suffix) == 0;
}

/* Load bias of the module holding addr, as dl_iterate_phdr reports it. */
static uint64_t bias_of(const void *addr)
{
	struct link_map *lm = NULL;
	Dl_info info;

	cr_assert(ne(int, dladdr1(addr, &info, (void **)&lm, RTLD_DL_LINKMAP), 0), "dladdr1 finds %p", addr);
	return lm->l_addr;
}

/* The test binary's path, which dl_iterate_phdr leaves empty. */
static char *self_exe(void)
{
	static char exe[PATH_MAX];
	ssize_t n;

	if (exe[0])
		return exe;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	cr_assert(gt(i64, n, 0), "readlink /proc/self/exe");
	exe[n] = '\0';
	return exe;
}

static int add_loaded(struct dl_phdr_info *info, size_t size, void *arg)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	const char *path = info->dlpi_name;
	int i;

	(void)size;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD)
			continue;
		if (ph->p_vaddr < lo)
			lo = ph->p_vaddr;
		if (ph->p_vaddr + ph->p_memsz > hi)
			hi = ph->p_vaddr + ph->p_memsz;
	}
	if (hi == 0)
		return 0;
	/* The main program has an empty name; the agent resolves it the same way. */
	if (!path || !*path)
		path = self_exe();
	/* The vDSO has no file: -ENOENT, but its range is still known. */
	symbolizer_add_module(arg, path, info->dlpi_addr, info->dlpi_addr + lo, info->dlpi_addr + hi);
	return 0;
}

static struct symbolizer *symbolizer_of_self(void)
{
	struct symbolizer *s = NULL;

	cr_assert(eq(int, symbolizer_new(&s), 0), "symbolizer_new succeeds");
	dl_iterate_phdr(add_loaded, s);
	return s;
}

static uint64_t addr_of(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* Header and one PT_LOAD, no sections: a module libdwfl accepts but that
 * has neither .symtab nor .dynsym. The ELF class, data and machine are the
 * test binary's own. */
static void write_bare_elf(char *path_template)
{
	ElfW(Ehdr) self, eh;
	ElfW(Phdr) ph;
	int fd;

	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	cr_assert(ge(int, fd, 0), "open /proc/self/exe");
	cr_assert(eq(i64, read(fd, &self, sizeof(self)), (int64_t)sizeof(self)), "read own ELF header");
	close(fd);

	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, self.e_ident, EI_NIDENT);
	eh.e_type = ET_DYN;
	eh.e_machine = self.e_machine;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(ph);
	eh.e_phnum = 1;
	memset(&ph, 0, sizeof(ph));
	ph.p_type = PT_LOAD;
	ph.p_flags = PF_R | PF_X;
	ph.p_filesz = ph.p_memsz = 0x2000;
	ph.p_align = 0x1000;

	fd = mkstemp(path_template);
	cr_assert(ge(int, fd, 0), "mkstemp %s", path_template);
	cr_assert(eq(i64, write(fd, &eh, sizeof(eh)), (int64_t)sizeof(eh)), "write ELF header");
	cr_assert(eq(i64, write(fd, &ph, sizeof(ph)), (int64_t)sizeof(ph)), "write program header");
	cr_assert(eq(int, ftruncate(fd, 0x2000), 0), "size the file to its segment");
	close(fd);
}

/* Whether /usr/lib/debug holds a debug file for the module whose notes
 * are at info: libc6-dbg may or may not be installed. */
static int has_debug_file(struct dl_phdr_info *info)
{
	char path[PATH_MAX];
	int i, len;

	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const char *p, *end;

		if (ph->p_type != PT_NOTE)
			continue;
		p = (const char *)(info->dlpi_addr + ph->p_vaddr);
		end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			const unsigned char *desc = (const unsigned char *)(p + sizeof(*nh) + ((nh->n_namesz + 3) & ~3u));
			uint32_t k;

			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && memcmp(nh + 1, "GNU", 4) == 0) {
				len = snprintf(path, sizeof(path), "/usr/lib/debug/.build-id/%02x/", desc[0]);
				for (k = 1; k < nh->n_descsz; k++)
					len += snprintf(path + len, sizeof(path) - (size_t)len, "%02x", desc[k]);
				snprintf(path + len, sizeof(path) - (size_t)len, ".debug");
				return access(path, R_OK) == 0;
			}
			p += sizeof(*nh) + ((nh->n_namesz + 3) & ~3u) + ((nh->n_descsz + 3) & ~3u);
		}
	}
	return 0;
}

static int find_libc(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	if (!strstr(info->dlpi_name, "/libc.so"))
		return 0;
	*(int *)arg = has_debug_file(info);
	return 1;
}

/* ---- tests ---- */

Test(symbolize, function_address_gives_name_file_and_entry_line)
{
	struct symbolizer *s = symbolizer_of_self();
	struct sym_frame f[MAX_FRAMES];
	uint64_t addr = addr_of((void *)probe_entry);
	int n = symbolizer_lookup(s, addr, 0, f, MAX_FRAMES);

	cr_assert(eq(int, n, 1), "a function entry is one frame, got %d", n);
	cr_assert(eq(str, (char *)f[0].function, "probe_entry"), "function name");
	cr_assert(ne(ptr, (void *)f[0].file, NULL), "a file from the DWARF line table");
	cr_assert(eq(int, ends_with(f[0].file, "/tests/test_symbolize.c"), 1), "full path of this file, got %s",
		  f[0].file);
	cr_assert(eq(int, f[0].file[0], '/'), "path joined with comp_dir, got %s", f[0].file);
	cr_assert(eq(int, f[0].line == probe_entry_line || f[0].line == probe_entry_line + 1, 1),
		  "entry line is the brace (%d) or the first statement, got %d", probe_entry_line, f[0].line);
	cr_assert(eq(int, f[0].inlined, 0), "a real function is not inlined");
	cr_assert(eq(u64, f[0].address, addr), "address echoed");
	cr_assert(eq(u64, f[0].offset, addr - bias_of((void *)probe_entry)), "offset from the load bias");
	cr_assert(eq(str, (char *)f[0].module, self_exe()), "module is the test binary");
	free_checked(s);
}

Test(symbolize, return_address_gives_call_line)
{
	struct symbolizer *s = symbolizer_of_self();
	struct sym_frame f[MAX_FRAMES];
	int line = 0;
	void *ra = probe_caller(&line);
	int n = symbolizer_lookup(s, addr_of(ra), 1, f, MAX_FRAMES);

	cr_assert(eq(int, n, 1), "no inlining at this call, got %d frames", n);
	cr_assert(eq(str, (char *)f[0].function, "probe_caller"), "caller's name");
	cr_assert(eq(int, ends_with(f[0].file, "/tests/test_symbolize.c"), 1), "this file, got %s", f[0].file);
	cr_assert(eq(int, f[0].line, line), "the line of the call, not the one after");
	cr_assert(eq(str, (char *)f[0].module, self_exe()), "module is the test binary");
	cr_assert(eq(u64, f[0].address, addr_of(ra)), "the address asked for, not ra-1");
	free_checked(s);
}

Test(symbolize, inlined_call_gives_inlined_frame_then_caller)
{
	struct symbolizer *s = symbolizer_of_self();
	struct sym_frame f[MAX_FRAMES];
	int inner_line = 0, call_line = 0;
	void *ra = probe_inliner(&inner_line, &call_line);
	int n = symbolizer_lookup(s, addr_of(ra), 1, f, MAX_FRAMES);

	cr_assert(eq(int, n, 2), "inlined function + caller, got %d frames", n);
	cr_assert(eq(str, (char *)f[0].function, "probe_inlined"), "innermost frame is the inlined function");
	cr_assert(eq(int, f[0].inlined, 1), "first frame marked inlined");
	cr_assert(eq(int, ends_with(f[0].file, "/tests/test_symbolize.c"), 1), "inlined file, got %s", f[0].file);
	cr_assert(eq(int, f[0].line, inner_line), "line inside the inlined function");
	cr_assert(eq(str, (char *)f[1].function, "probe_inliner"), "next frame is the caller");
	cr_assert(eq(int, f[1].inlined, 0), "the caller is the real function");
	cr_assert(eq(int, ends_with(f[1].file, "/tests/test_symbolize.c"), 1), "call site file, got %s", f[1].file);
	cr_assert(eq(int, f[1].file[0], '/'), "call site path joined with comp_dir, got %s", f[1].file);
	cr_assert(eq(int, f[1].line, call_line), "line where the inlined function is called");
	cr_assert(eq(u64, f[1].address, addr_of(ra)), "both frames carry the address");
	cr_assert(eq(u64, f[1].offset, f[0].offset), "both frames carry the offset");
	free_checked(s);
}

Test(symbolize, max_frames_keeps_the_innermost)
{
	struct symbolizer *s = symbolizer_of_self();
	struct sym_frame f[MAX_FRAMES];
	int inner_line = 0, call_line = 0;
	void *ra = probe_inliner(&inner_line, &call_line);

	memset(f, 0, sizeof(f));
	cr_assert(eq(int, symbolizer_lookup(s, addr_of(ra), 1, f, 1), 1), "max=1 writes one frame");
	cr_assert(eq(str, (char *)f[0].function, "probe_inlined"), "the innermost frame");
	cr_assert(eq(ptr, (void *)f[1].function, NULL), "nothing written past max");
	cr_assert(eq(int, symbolizer_lookup(s, addr_of(ra), 1, f, 0), 0), "max=0 writes nothing");
	cr_assert(eq(int, symbolizer_lookup(s, addr_of(ra), 1, f, MAX_FRAMES), 2),
		  "the cached entry still has both frames");
	free_checked(s);
}

Test(symbolize, libc_address_gives_libc_module_and_symbol)
{
	struct symbolizer *s = symbolizer_of_self();
	struct sym_frame f[MAX_FRAMES];
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	void *fn;
	uint64_t addr;
	int n, debug = -1;

	cr_assert(ne(ptr, libc, NULL), "libc.so.6 is loaded");
	/* From libc's own handle: the sanitizers may interpose a getpid of
	 * their own in the test binary. */
	fn = dlsym(libc, "getpid");
	cr_assert(ne(ptr, fn, NULL), "dlsym getpid");
	addr = addr_of(fn);
	n = symbolizer_lookup(s, addr, 0, f, MAX_FRAMES);
	cr_assert(eq(int, n, 1), "getpid is not inlined, got %d frames", n);
	cr_assert(ne(ptr, (void *)f[0].module, NULL), "in a module");
	cr_assert(ne(ptr, strstr(f[0].module, "libc.so"), NULL), "module is libc, got %s", f[0].module);
	cr_assert(eq(u64, f[0].offset, addr - bias_of(fn)), "offset from libc's load bias");
	cr_assert(ne(ptr, (void *)f[0].function, NULL), "a name from .dynsym or the debug file");
	/* getpid is a weak alias of __getpid: either name is right. */
	cr_assert(eq(int, strcmp(f[0].function, "getpid") == 0 || strcmp(f[0].function, "__getpid") == 0, 1),
		  "getpid or __getpid, got %s", f[0].function);
	/* Debian's libc has no line table of its own; one comes only from the
	 * separate debug file found by build-id. */
	dl_iterate_phdr(find_libc, &debug);
	cr_assert(ne(int, debug, -1), "libc found by dl_iterate_phdr");
	if (debug) {
		cr_assert(ne(ptr, (void *)f[0].file, NULL), "debug file installed: a source file");
		cr_assert(gt(int, f[0].line, 0), "debug file installed: a line");
	} else {
		cr_assert(eq(ptr, (void *)f[0].file, NULL), "no debug file: no source file");
		cr_assert(eq(int, f[0].line, 0), "no debug file: no line");
	}
	dlclose(libc);
	free_checked(s);
}

Test(symbolize, cxx_symbol_is_demangled)
{
	void *lib = dlopen("libstdc++.so.6", RTLD_NOW);
	struct symbolizer *s;
	struct sym_frame f[MAX_FRAMES];
	void *fn;
	int n;

	cr_assert(ne(ptr, lib, NULL), "dlopen libstdc++.so.6");
	fn = dlsym(lib, "_ZSt9terminatev");
	cr_assert(ne(ptr, fn, NULL), "dlsym std::terminate");
	s = symbolizer_of_self();
	n = symbolizer_lookup(s, addr_of(fn), 0, f, MAX_FRAMES);
	cr_assert(ge(int, n, 1), "at least one frame");
	cr_assert(eq(str, (char *)f[n - 1].function, "std::terminate()"), "demangled name");
	cr_assert(ne(ptr, strstr(f[n - 1].module, "libstdc++.so"), NULL), "module is libstdc++, got %s",
		  f[n - 1].module);
	free_checked(s);
	dlclose(lib);
}

Test(symbolize, address_outside_modules_gives_no_module)
{
	struct symbolizer *s = symbolizer_of_self();
	struct sym_frame f[MAX_FRAMES];
	int n = symbolizer_lookup(s, 0x10, 1, f, MAX_FRAMES);

	cr_assert(eq(int, n, 1), "an unknown address still gives one frame");
	cr_assert(eq(ptr, (void *)f[0].function, NULL), "no function");
	cr_assert(eq(ptr, (void *)f[0].file, NULL), "no file");
	cr_assert(eq(int, f[0].line, 0), "no line");
	cr_assert(eq(ptr, (void *)f[0].module, NULL), "no module");
	cr_assert(eq(u64, f[0].offset, 0), "no offset without a module");
	cr_assert(eq(u64, f[0].address, 0x10), "address echoed");
	free_checked(s);
}

Test(symbolize, missing_file_keeps_module_and_offset)
{
	const uint64_t bias = 0x7e0000000000ULL;
	struct symbolizer *s = NULL;
	struct sym_frame f[MAX_FRAMES];
	int n;

	cr_assert(eq(int, symbolizer_new(&s), 0), "symbolizer_new succeeds");
	cr_assert(eq(int, symbolizer_add_module(s, "/nonexistent/libgone.so", bias, bias + 0x1000, bias + 0x5000),
		     -ENOENT),
		  "a missing file is -ENOENT");
	n = symbolizer_lookup(s, bias + 0x1234, 1, f, MAX_FRAMES);
	cr_assert(eq(int, n, 1), "one frame");
	cr_assert(eq(str, (char *)f[0].module, "/nonexistent/libgone.so"), "module still known");
	cr_assert(eq(u64, f[0].offset, 0x1234), "offset from the bias");
	cr_assert(eq(ptr, (void *)f[0].function, NULL), "no function without the file");
	n = symbolizer_lookup(s, bias + 0x5000, 0, f, MAX_FRAMES);
	cr_assert(eq(ptr, (void *)f[0].module, NULL), "end of the range is exclusive");
	cr_assert(eq(int, symbolizer_add_module(s, "/tmp", 0, 0x1000, 0x2000), -EINVAL),
		  "a directory is not a regular file: -EINVAL, not opened");
	cr_assert(eq(int, symbolizer_add_module(s, "/x", 0, 0x2000, 0x2000), -EINVAL), "an empty range is -EINVAL");
	free_checked(s);
}

/* Module paths come from an image the program can write: a FIFO there
 * must not be opened (an open for reading would wait for a writer). */
Test(symbolize, a_fifo_is_not_opened, .timeout = 10)
{
	struct symbolizer *s = NULL;
	char fifo[64];

	snprintf(fifo, sizeof(fifo), "/tmp/ptrace-symbolize-fifo-%d", (int)getpid());
	unlink(fifo);
	cr_assert(eq(int, mkfifo(fifo, 0600), 0), "mkfifo %s", fifo);
	cr_assert(eq(int, symbolizer_new(&s), 0), "symbolizer_new succeeds");
	cr_assert(eq(int, symbolizer_add_module(s, fifo, 0, 0x1000, 0x2000), -EINVAL), "a FIFO: -EINVAL at once");
	cr_assert(eq(int, symbolizer_add_module(s, "/dev/null", 0, 0x3000, 0x4000), -EINVAL), "a device: -EINVAL");
	unlink(fifo);
	free_checked(s);
}

Test(symbolize, elf_without_symbols_gives_module_and_offset)
{
	const uint64_t bias = 0x500000000000ULL;
	char path[] = "/tmp/test_symbolize_bare_XXXXXX";
	struct symbolizer *s = NULL;
	struct sym_frame f[MAX_FRAMES];
	int n;

	write_bare_elf(path);
	cr_assert(eq(int, symbolizer_new(&s), 0), "symbolizer_new succeeds");
	cr_assert(eq(int, symbolizer_add_module(s, path, bias, bias, bias + 0x2000), 0), "a bare ELF is usable");
	n = symbolizer_lookup(s, bias + 0x1000, 0, f, MAX_FRAMES);
	cr_assert(eq(int, n, 1), "one frame");
	cr_assert(eq(ptr, (void *)f[0].function, NULL), "no symbols: no function");
	cr_assert(eq(ptr, (void *)f[0].file, NULL), "no DWARF: no file");
	cr_assert(eq(str, (char *)f[0].module, path), "module path");
	cr_assert(eq(u64, f[0].offset, 0x1000), "offset from the bias");
	free_checked(s);
	unlink(path);
}

Test(symbolize, same_module_twice_is_reported_once)
{
	struct symbolizer *s = symbolizer_of_self();
	struct sym_frame f[MAX_FRAMES];
	int before = symbolizer_module_count(s);

	dl_iterate_phdr(add_loaded, s);
	cr_assert(gt(int, before, 2), "the test binary, libc and more are loaded");
	cr_assert(eq(int, symbolizer_module_count(s), before), "adding them again adds nothing");
	cr_assert(eq(int, symbolizer_lookup(s, addr_of((void *)probe_entry), 0, f, MAX_FRAMES), 1), "one frame");
	cr_assert(eq(str, (char *)f[0].function, "probe_entry"), "lookups unchanged");
	free_checked(s);
}

Test(symbolize, repeated_lookup_returns_cached_strings)
{
	struct symbolizer *s = symbolizer_of_self();
	struct sym_frame a[MAX_FRAMES], b[MAX_FRAMES];
	int line = 0;
	void *ra = probe_caller(&line);

	cr_assert(eq(int, symbolizer_lookup(s, addr_of(ra), 1, a, MAX_FRAMES), 1), "first lookup");
	cr_assert(eq(int, symbolizer_lookup(s, addr_of(ra), 1, b, MAX_FRAMES), 1), "second lookup");
	cr_assert(eq(ptr, (void *)a[0].function, (void *)b[0].function), "same function string");
	cr_assert(eq(ptr, (void *)a[0].file, (void *)b[0].file), "same file string");
	cr_assert(eq(int, a[0].line, b[0].line), "same line");
	free_checked(s);
}

Test(symbolize, return_flag_is_part_of_the_cache_key)
{
	struct symbolizer *s = symbolizer_of_self();
	struct sym_frame f[MAX_FRAMES];
	uint64_t addr = addr_of((void *)probe_entry);

	/* As a return address, probe_entry's first byte means the byte before
	 * it: padding or the previous function, never probe_entry. */
	symbolizer_lookup(s, addr, 1, f, MAX_FRAMES);
	cr_assert(ne(int, f[0].function && strcmp(f[0].function, "probe_entry") == 0, 1),
		  "entry - 1 is not probe_entry");
	symbolizer_lookup(s, addr, 0, f, MAX_FRAMES);
	cr_assert(eq(str, (char *)f[0].function, "probe_entry"), "not answered from the is_return entry");
	free_checked(s);
}

Test(symbolize, module_added_after_lookup_is_seen)
{
	const uint64_t bias = 0x7e0000000000ULL;
	struct symbolizer *s = NULL;
	struct sym_frame f[MAX_FRAMES];

	cr_assert(eq(int, symbolizer_new(&s), 0), "symbolizer_new succeeds");
	symbolizer_lookup(s, bias + 0x10, 0, f, MAX_FRAMES);
	cr_assert(eq(ptr, (void *)f[0].module, NULL), "no module yet");
	symbolizer_add_module(s, "/nonexistent/late.so", bias, bias, bias + 0x1000);
	symbolizer_lookup(s, bias + 0x10, 0, f, MAX_FRAMES);
	cr_assert(eq(str, (char *)f[0].module, "/nonexistent/late.so"), "the cached miss was dropped");
	free_checked(s);
}

Test(symbolize, asm_label_gives_source_name)
{
	struct symbolizer *s = symbolizer_of_self();
	struct sym_frame f[MAX_FRAMES];

	cr_assert(eq(int, symbolizer_lookup(s, addr_of((void *)probe_renamed), 0, f, MAX_FRAMES), 1), "one frame");
	cr_assert(eq(str, (char *)f[0].function, "probe_renamed"), "the C name, not the asm label");
	free_checked(s);
}

Test(symbolize, cache_growth_keeps_every_entry)
{
	enum { N = 3000 }; /* well past both tables' first size of 64 */
	struct symbolizer *s = symbolizer_of_self();
	struct sym_frame(*first)[2] = calloc(N, sizeof(*first));
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	struct sym_frame f[2];
	uint64_t base;
	int i, n, counts[N];

	cr_assert(ne(ptr, libc, NULL), "libc.so.6 is loaded");
	cr_assert(ne(ptr, first, NULL), "calloc");
	/* Many distinct functions (and names, and files with a debug file). */
	base = addr_of(dlsym(libc, "getpid")) & ~(uint64_t)0xffff;
	for (i = 0; i < N; i++)
		counts[i] = symbolizer_lookup(s, base + (uint64_t)i * 24, i & 1, first[i], 2);
	for (i = 0; i < N; i++) {
		memset(f, 0, sizeof(f));
		n = symbolizer_lookup(s, base + (uint64_t)i * 24, i & 1, f, 2);
		cr_assert(eq(int, n, counts[i]), "same frame count for address %d", i);
		cr_assert(eq(int, memcmp(f, first[i], (size_t)n * sizeof(*f)), 0), "same frames for address %d", i);
	}
	cr_assert(ne(ptr, (void *)first[N - 1][0].module, NULL), "the last address is still in libc");
	free(first);
	dlclose(libc);
	free_checked(s);
}

/* ---- PLT stubs: build/progs/plt_calls, plt_calls_ibt, libpltlib.so ----
 *
 * The expected stub of each function comes from the layout ld documents
 * (entry k of .rela.plt: .plt.sec entry k with IBT, else .plt entry k+1
 * after the 16-byte PLT0; IBT's lazy stub is .plt entry k+1 too), not
 * from decoding the stubs' jumps as the symbolizer does: two roads to
 * one answer. The files are not mapped: any load bias does. */

#define PLT_BIAS 0x560000000000ULL

struct plt_file {
	const char *path;
	int fd;
	Elf *elf;
	GElf_Shdr plt, sec, got; /* sh_size 0: no such section */
};

static void plt_open(struct plt_file *pf, const char *path)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	memset(pf, 0, sizeof(*pf));
	pf->path = path;
	elf_version(EV_CURRENT);
	pf->fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert(ge(int, pf->fd, 0), "open %s (built by make progs)", path);
	pf->elf = elf_begin(pf->fd, ELF_C_READ, NULL);
	cr_assert(ne(ptr, pf->elf, NULL), "elf_begin %s", path);
	cr_assert(eq(int, elf_getshdrstrndx(pf->elf, &shstrndx), 0), "section names of %s", path);
	while ((scn = elf_nextscn(pf->elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		cr_assert(ne(ptr, gelf_getshdr(scn, &sh), NULL), "section header");
		name = elf_strptr(pf->elf, shstrndx, sh.sh_name);
		if (!strcmp(name, ".plt"))
			pf->plt = sh;
		else if (!strcmp(name, ".plt.sec"))
			pf->sec = sh;
		else if (!strcmp(name, ".plt.got"))
			pf->got = sh;
	}
	cr_assert(gt(u64, pf->plt.sh_size, 16), "%s has a .plt beyond PLT0", path);
	cr_assert(eq(u64, pf->plt.sh_entsize, 16), "%s: 16-byte .plt entries", path);
}

static void plt_close(struct plt_file *pf)
{
	elf_end(pf->elf);
	close(pf->fd);
}

/* The section named name and its data; fails when there is none. */
static Elf_Data *plt_section_data(struct plt_file *pf, const char *name, GElf_Shdr *sh)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	elf_getshdrstrndx(pf->elf, &shstrndx);
	while ((scn = elf_nextscn(pf->elf, scn))) {
		gelf_getshdr(scn, sh);
		if (!strcmp(elf_strptr(pf->elf, shstrndx, sh->sh_name), name))
			return elf_getdata(scn, NULL);
	}
	cr_assert(0, "%s has a %s section", pf->path, name);
	return NULL;
}

/* Name of symbol sym of the symbol table in section link. */
static const char *plt_sym_name(struct plt_file *pf, size_t link, size_t sym, GElf_Sym *out)
{
	Elf_Scn *scn = elf_getscn(pf->elf, link);
	GElf_Shdr sh;

	cr_assert(ne(ptr, gelf_getshdr(scn, &sh), NULL), "symbol table header");
	cr_assert(ne(ptr, gelf_getsym(elf_getdata(scn, NULL), (int)sym, out), NULL), "symbol %zu", sym);
	return elf_strptr(pf->elf, sh.sh_link, out->st_name);
}

/* Index in .rela.plt of sym's JUMP_SLOT; fails when it has none. */
static size_t plt_index(struct plt_file *pf, const char *sym)
{
	GElf_Shdr sh;
	Elf_Data *d = plt_section_data(pf, ".rela.plt", &sh);
	GElf_Rela r;
	GElf_Sym s;

	for (size_t k = 0; gelf_getrela(d, (int)k, &r); k++)
		if (GELF_R_TYPE(r.r_info) == R_X86_64_JUMP_SLOT &&
		    !strcmp(plt_sym_name(pf, sh.sh_link, GELF_R_SYM(r.r_info), &s), sym))
			return k;
	cr_assert(0, "%s: %s has a JUMP_SLOT in .rela.plt", pf->path, sym);
	return 0;
}

/* ELF address of the stub called for .rela.plt[k]: .plt.sec's with IBT. */
static uint64_t plt_stub_at(struct plt_file *pf, size_t k)
{
	if (pf->sec.sh_size)
		return pf->sec.sh_addr + 16 * k;
	return pf->plt.sh_addr + 16 * (k + 1);
}

static uint64_t plt_stub(struct plt_file *pf, const char *sym)
{
	return plt_stub_at(pf, plt_index(pf, sym));
}

/* 1 when name is "SYM@plt" for an ifunc SYM of symbol table link at addr. */
static int plt_is_ifunc(struct plt_file *pf, size_t link, uint64_t addr, const char *name)
{
	Elf_Scn *scn = elf_getscn(pf->elf, link);
	Elf_Data *d = elf_getdata(scn, NULL);
	GElf_Shdr sh;
	GElf_Sym s;
	char want[256];

	gelf_getshdr(scn, &sh);
	for (int i = 1; name && gelf_getsym(d, i, &s); i++) {
		if (GELF_ST_TYPE(s.st_info) != STT_GNU_IFUNC || s.st_value != addr)
			continue;
		snprintf(want, sizeof(want), "%s@plt", elf_strptr(pf->elf, sh.sh_link, s.st_name));
		if (!strcmp(want, name))
			return 1;
	}
	return 0;
}

/* st_value of function sym in .symtab. */
static uint64_t plt_func(struct plt_file *pf, const char *sym)
{
	GElf_Shdr sh;
	Elf_Data *d = plt_section_data(pf, ".symtab", &sh);
	GElf_Sym s;

	for (int i = 1; gelf_getsym(d, i, &s); i++)
		if (GELF_ST_TYPE(s.st_info) == STT_FUNC && s.st_shndx != SHN_UNDEF &&
		    !strcmp(elf_strptr(pf->elf, sh.sh_link, s.st_name), sym))
			return s.st_value;
	cr_assert(0, "%s defines %s", pf->path, sym);
	return 0;
}

static struct symbolizer *plt_symbolizer(const char *path)
{
	struct symbolizer *s = NULL;

	cr_assert(eq(int, symbolizer_new(&s), 0), "symbolizer_new succeeds");
	cr_assert(eq(int, symbolizer_add_module(s, path, PLT_BIAS, PLT_BIAS, PLT_BIAS + 0x100000), 0), "add %s",
		  path);
	return s;
}

/* The name the symbolizer gives ELF address vaddr of s's one module,
 * with flags (0 or SYM_SYMTAB_ONLY); checks the frame is a stub's: one
 * frame, no file, no line, module and offset kept. NULL: no name. */
static const char *plt_lookup(struct symbolizer *s, const char *path, uint64_t vaddr, int flags)
{
	struct sym_frame f[MAX_FRAMES];
	int n = symbolizer_lookup_flags(s, PLT_BIAS + vaddr, 0, flags, f, MAX_FRAMES);

	cr_assert(eq(int, n, 1), "a stub is one frame (0x%llx), got %d", (unsigned long long)vaddr, n);
	cr_assert(eq(str, (char *)f[0].module, (char *)path), "module of 0x%llx", (unsigned long long)vaddr);
	cr_assert(eq(u64, f[0].offset, vaddr), "offset of 0x%llx", (unsigned long long)vaddr);
	cr_assert(eq(ptr, (void *)f[0].file, NULL), "no file for the stub at 0x%llx", (unsigned long long)vaddr);
	cr_assert(eq(int, f[0].line, 0), "no line for the stub at 0x%llx", (unsigned long long)vaddr);
	cr_assert(eq(int, f[0].inlined, 0), "not inlined");
	return f[0].function;
}

/* The stub at ELF address stub calls .rela.plt[k]: named "NAME@plt" at
 * its first byte, a middle one and its last, both kinds of lookup; an
 * IRELATIVE one (a library calling its own ifunc) after an ifunc symbol
 * at the resolver's address. 1 for an IRELATIVE one. */
static int plt_check_stub(struct plt_file *pf, struct symbolizer *s, size_t k, uint64_t stub)
{
	GElf_Shdr sh;
	Elf_Data *d = plt_section_data(pf, ".rela.plt", &sh);
	GElf_Rela r;
	GElf_Sym sym;
	const char *name;
	char want[256];

	cr_assert(ne(ptr, gelf_getrela(d, (int)k, &r), NULL), "%s: .rela.plt[%zu]", pf->path, k);
	if (GELF_R_TYPE(r.r_info) == R_X86_64_IRELATIVE) {
		for (int at = 0; at < 16; at += 15) {
			name = plt_lookup(s, pf->path, stub + (uint64_t)at, SYM_SYMTAB_ONLY);
			cr_assert(eq(int, plt_is_ifunc(pf, sh.sh_link, (uint64_t)r.r_addend, name), 1),
				  "%s: IRELATIVE stub at 0x%llx named after its ifunc, got %s", pf->path,
				  (unsigned long long)stub, name);
		}
		return 1;
	}
	cr_assert(eq(int, (int)GELF_R_TYPE(r.r_info), R_X86_64_JUMP_SLOT), "%s: .rela.plt[%zu] is a JUMP_SLOT",
		  pf->path, k);
	name = plt_sym_name(pf, sh.sh_link, GELF_R_SYM(r.r_info), &sym);
	snprintf(want, sizeof(want), "%s@plt", name);
	for (int flags = 0; flags <= SYM_SYMTAB_ONLY; flags++) {
		cr_assert(eq(str, (char *)plt_lookup(s, pf->path, stub, flags), want), "stub of %s", name);
		cr_assert(eq(str, (char *)plt_lookup(s, pf->path, stub + 6, flags), want), "inside %s's stub", name);
		cr_assert(eq(str, (char *)plt_lookup(s, pf->path, stub + 15, flags), want), "end of %s's stub", name);
	}
	return 0;
}

/* Every stub of a program or library linked as ld lays out JUMP_SLOTs
 * (the index layout above); with IBT, the lazy stubs in .plt too. */
static void plt_check_all_slots(struct plt_file *pf, struct symbolizer *s)
{
	GElf_Shdr sh;
	Elf_Data *d = plt_section_data(pf, ".rela.plt", &sh);
	GElf_Rela r;
	size_t k;

	for (k = 0; gelf_getrela(d, (int)k, &r); k++) {
		cr_assert(eq(int, plt_check_stub(pf, s, k, plt_stub_at(pf, k)), 0), "no IRELATIVE in %s", pf->path);
		if (pf->sec.sh_size)
			plt_check_stub(pf, s, k, pf->plt.sh_addr + 16 * (k + 1));
	}
	cr_assert(gt(u64, k, 1), "%s: more than one JUMP_SLOT (%zu)", pf->path, k);
}

/* The names of .plt.got's entries: exactly want[0..nwant), any order. */
static void plt_check_got(struct plt_file *pf, struct symbolizer *s, const char *const *want, size_t nwant)
{
	size_t esz = pf->got.sh_entsize, n;
	int seen[4] = {0};

	cr_assert(eq(int, esz == 8 || esz == 16, 1), "%s: .plt.got entries of 8 or 16 bytes, got %zu", pf->path, esz);
	n = pf->got.sh_size / esz;
	cr_assert(eq(sz, n, nwant), "%s: %zu entries in .plt.got", pf->path, nwant);
	for (size_t i = 0; i < n; i++) {
		const char *name = plt_lookup(s, pf->path, pf->got.sh_addr + i * esz + esz - 1, 0);
		size_t j;

		cr_assert(ne(ptr, (void *)name, NULL), ".plt.got entry %zu has a name", i);
		for (j = 0; j < nwant && strcmp(want[j], name); j++)
			;
		cr_assert(lt(sz, j, nwant), ".plt.got entry %zu: unexpected %s", i, name);
		seen[j]++;
	}
	for (size_t j = 0; j < nwant; j++)
		cr_assert(eq(int, seen[j], 1), ".plt.got: %s once", want[j]);
}

/* PLT0 keeps module+offset; a function in .text keeps its own name. */
static void plt_check_plt0_and_text(struct plt_file *pf, struct symbolizer *s, const char *fn, const char *file)
{
	struct sym_frame f[MAX_FRAMES];
	uint64_t addr = plt_func(pf, fn);

	cr_assert(eq(ptr, (void *)plt_lookup(s, pf->path, pf->plt.sh_addr, 0), NULL), "PLT0: no name, not _init");
	cr_assert(eq(ptr, (void *)plt_lookup(s, pf->path, pf->plt.sh_addr + 8, SYM_SYMTAB_ONLY), NULL),
		  "inside PLT0: no name either");
	cr_assert(eq(int, symbolizer_lookup(s, PLT_BIAS + addr, 0, f, MAX_FRAMES), 1), "%s: one frame", fn);
	cr_assert(eq(str, (char *)f[0].function, (char *)fn), "a function in .text keeps its name");
	cr_assert(eq(int, ends_with(f[0].file, file), 1), "%s: its file, got %s", fn, f[0].file);
}

Test(symbolize, plt_stub_is_named_after_the_function_it_calls)
{
	static const char *const got[] = {"getppid@plt", "__cxa_finalize@plt"};
	const char *path = "./build/progs/plt_calls";
	struct symbolizer *s;
	struct plt_file pf;

	plt_open(&pf, path);
	cr_assert(eq(u64, pf.sec.sh_size, 0), "the default build has no .plt.sec");
	s = plt_symbolizer(path);
	cr_assert(eq(str, (char *)plt_lookup(s, path, plt_stub(&pf, "puts"), 0), "puts@plt"), "puts's stub");
	cr_assert(eq(str, (char *)plt_lookup(s, path, plt_stub(&pf, "pthread_self"), 0), "pthread_self@plt"),
		  "pthread_self's stub");
	plt_check_all_slots(&pf, s);
	plt_check_got(&pf, s, got, 2);
	plt_check_plt0_and_text(&pf, s, "main", "/tests/progs/plt_calls.c");
	free_checked(s);
	plt_close(&pf);
}

Test(symbolize, ibt_plt_sec_and_lazy_stubs_are_named)
{
	static const char *const got[] = {"getppid@plt", "__cxa_finalize@plt"};
	const char *path = "./build/progs/plt_calls_ibt";
	struct symbolizer *s;
	struct plt_file pf;

	plt_open(&pf, path);
	cr_assert(gt(u64, pf.sec.sh_size, 0), "-fcf-protection -z ibtplt makes a .plt.sec");
	cr_assert(eq(u64, pf.sec.sh_entsize, 16), "16-byte .plt.sec entries");
	s = plt_symbolizer(path);
	cr_assert(eq(str, (char *)plt_lookup(s, path, plt_stub(&pf, "puts"), 0), "puts@plt"), "puts's stub");
	plt_check_all_slots(&pf, s);
	plt_check_got(&pf, s, got, 2);
	plt_check_plt0_and_text(&pf, s, "main", "/tests/progs/plt_calls.c");
	free_checked(s);
	plt_close(&pf);
}

Test(symbolize, shared_library_plt_stub_is_named)
{
	static const char *const got[] = {"__cxa_finalize@plt"};
	const char *path = "./build/progs/libpltlib.so";
	struct symbolizer *s;
	struct plt_file pf;

	plt_open(&pf, path);
	s = plt_symbolizer(path);
	cr_assert(eq(str, (char *)plt_lookup(s, path, plt_stub(&pf, "puts"), 0), "puts@plt"), "puts's stub");
	cr_assert(eq(str, (char *)plt_lookup(s, path, plt_stub(&pf, "getpid"), 0), "getpid@plt"), "getpid's stub");
	plt_check_all_slots(&pf, s);
	plt_check_got(&pf, s, got, 1);
	plt_check_plt0_and_text(&pf, s, "pltlib_hello", "/tests/progs/plugin/pltlib.c");
	free_checked(s);
	plt_close(&pf);
}

static int plt_find_libc(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	if (!strstr(info->dlpi_name, "/libc.so"))
		return 0;
	*(const char **)arg = info->dlpi_name;
	return 1;
}

/* libc calls its own ifuncs (memcpy, strlen: the CPU's best variant)
 * through stubs of its PLT whose IRELATIVE slot has no symbol, only the
 * resolver's address (objdump's *ABS*+0x9be70@plt). */
Test(symbolize, ifunc_stub_in_libc_is_named_after_the_ifunc)
{
	const char *path = NULL;
	struct symbolizer *s;
	struct plt_file pf;
	GElf_Shdr sh;
	Elf_Data *d;
	int nifunc = 0;

	dl_iterate_phdr(plt_find_libc, &path);
	cr_assert(ne(ptr, (void *)path, NULL), "libc found by dl_iterate_phdr");
	plt_open(&pf, path);
	cr_assert(eq(u64, pf.sec.sh_size, 0), "Debian's libc has no .plt.sec");
	d = plt_section_data(&pf, ".plt", &sh);
	s = plt_symbolizer(path);
	/* ld puts the IRELATIVE relocations last in .rela.plt, not in the
	 * stubs' order: each lazy stub's `push $k` (after its 6-byte jmp)
	 * says which it is. */
	for (size_t off = 16; off + 16 <= d->d_size; off += 16) {
		const unsigned char *p = (const unsigned char *)d->d_buf + off;
		uint32_t k;

		cr_assert(eq(int, p[6], 0x68), "libc's .plt+0x%zx: push $k after the jmp", off);
		memcpy(&k, p + 7, sizeof(k));
		nifunc += plt_check_stub(&pf, s, k, pf.plt.sh_addr + off);
	}
	cr_assert(gt(int, nifunc, 0), "glibc's PLT has IRELATIVE stubs");
	free_checked(s);
	plt_close(&pf);
}

/* A profile file's symbols (symbolizer_save) give the same stub names
 * with no file opened. */
Test(symbolize, plt_names_survive_save_and_load)
{
	const char *path = "./build/progs/plt_calls_ibt";
	struct symbolizer *s, *r = NULL;
	struct sym_frame f[MAX_FRAMES];
	struct plt_file pf;
	uint64_t puts_stub, lazy, got0;
	unsigned char *bytes;
	size_t len;

	plt_open(&pf, path);
	puts_stub = plt_stub(&pf, "puts");
	lazy = pf.plt.sh_addr + 16 * (plt_index(&pf, "pthread_self") + 1);
	got0 = pf.got.sh_addr;
	s = plt_symbolizer(path);
	symbolizer_record(s);
	cr_assert(eq(str, (char *)plt_lookup(s, path, puts_stub, 0), "puts@plt"), "recorded: puts's stub");
	cr_assert(eq(str, (char *)plt_lookup(s, path, puts_stub, SYM_SYMTAB_ONLY), "puts@plt"),
		  "recorded: puts's stub, symbol table only");
	cr_assert(eq(str, (char *)plt_lookup(s, path, lazy, 0), "pthread_self@plt"), "recorded: a lazy stub");
	cr_assert(ne(ptr, (void *)plt_lookup(s, path, got0, 0), NULL), "recorded: a .plt.got stub");
	cr_assert(eq(ptr, (void *)plt_lookup(s, path, pf.plt.sh_addr, 0), NULL), "recorded: PLT0");
	cr_assert(eq(int, symbolizer_save(s, &bytes, &len), 0), "symbolizer_save");
	cr_assert(eq(int, symbolizer_load(&r, bytes, len), 0), "symbolizer_load");
	cr_assert(eq(str, (char *)plt_lookup(r, path, puts_stub, 0), "puts@plt"), "replayed: puts's stub");
	cr_assert(eq(str, (char *)plt_lookup(r, path, puts_stub, SYM_SYMTAB_ONLY), "puts@plt"),
		  "replayed: symbol table only");
	cr_assert(eq(str, (char *)plt_lookup(r, path, lazy, 0), "pthread_self@plt"), "replayed: the lazy stub");
	cr_assert(eq(str, (char *)plt_lookup(r, path, got0, 0), (char *)plt_lookup(s, path, got0, 0)),
		  "replayed: the .plt.got stub");
	cr_assert(eq(ptr, (void *)plt_lookup(r, path, pf.plt.sh_addr, 0), NULL), "replayed: PLT0 still unnamed");
	/* Never looked up while recording: the replay knows no name. */
	symbolizer_lookup(r, PLT_BIAS + puts_stub + 1, 0, f, MAX_FRAMES);
	cr_assert(eq(ptr, (void *)f[0].function, NULL), "replayed: an address not recorded has no name");
	free(bytes);
	symbolizer_free(r);
	free_checked(s);
	plt_close(&pf);
}

/* ---- separate debug files: --debug-dir, the FIFO guard, refresh ---- */

/* The test binary stripped (TOP/stripped) and its debug file, by
 * build-id under TOP/dbg (when by_id) or by its made-up debuglink name at
 * the top of TOP/dbg; its main program's bias and range. */
struct stripped_self {
	char top[64], path[96], dbg[96], debug_file[256];
	uint64_t bias, start, end;
};

static int main_range(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct stripped_self *t = arg;
	uint64_t lo = UINT64_MAX, hi = 0;

	(void)size;
	if (info->dlpi_name && *info->dlpi_name)
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD && ph->p_vaddr < lo)
			lo = ph->p_vaddr;
		if (ph->p_type == PT_LOAD && ph->p_vaddr + ph->p_memsz > hi)
			hi = ph->p_vaddr + ph->p_memsz;
	}
	t->bias = info->dlpi_addr;
	t->start = info->dlpi_addr + lo;
	t->end = info->dlpi_addr + hi;
	return 1;
}

static void run_cmd(const char *fmt, const char *a, const char *b)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), fmt, a, b);
	cr_assert(eq(int, system(cmd), 0), "%s", cmd);
}

/* The stripped copy made; its debug file not placed yet (stripped_place). */
static void stripped_make(struct stripped_self *t)
{
	memset(t, 0, sizeof(*t));
	strcpy(t->top, "/tmp/ptrace-symbolize-dbg-XXXXXX");
	cr_assert(not(zero(ptr, mkdtemp(t->top))), "mkdtemp");
	snprintf(t->path, sizeof(t->path), "%s/stripped", t->top);
	snprintf(t->dbg, sizeof(t->dbg), "%s/dbg", t->top);
	cr_assert(eq(int, mkdir(t->dbg, 0700), 0), "mkdir %s", t->dbg);
	run_cmd("strip --strip-all -o '%s' '%s'", t->path, self_exe());
	run_cmd("objcopy --only-keep-debug '%s' '%s.debug-file'", self_exe(), t->path);
	dl_iterate_phdr(main_range, t);
	cr_assert(gt(u64, t->end, t->start), "the main program's range");
}

/* Where the debug file goes: by build-id (hex of the stripped copy), or
 * the made-up debuglink name at the top of dbg; as a FIFO when fifo. */
static void stripped_place(struct stripped_self *t, int by_id, int fifo)
{
	char from[128], sub[200];
	struct symbolizer *s = NULL;
	const char *id;

	cr_assert(eq(int, symbolizer_new(&s), 0), "symbolizer_new");
	cr_assert(eq(int, symbolizer_add_module(s, t->path, t->bias, t->start, t->end), 0), "the stripped copy");
	id = symbolizer_build_id(s, t->path);
	cr_assert(not(zero(ptr, (void *)id)), "the test binary has a build id");
	if (by_id) {
		snprintf(sub, sizeof(sub), "%s/.build-id", t->dbg);
		mkdir(sub, 0700);
		snprintf(sub, sizeof(sub), "%s/.build-id/%.2s", t->dbg, id);
		mkdir(sub, 0700);
		snprintf(t->debug_file, sizeof(t->debug_file), "%s/%s.debug", sub, id + 2);
	} else {
		snprintf(t->debug_file, sizeof(t->debug_file), "%s/stripped.debug", t->dbg);
	}
	symbolizer_free(s);
	snprintf(from, sizeof(from), "%s.debug-file", t->path);
	if (fifo)
		cr_assert(eq(int, mkfifo(t->debug_file, 0600), 0), "mkfifo %s", t->debug_file);
	else
		cr_assert(eq(int, rename(from, t->debug_file), 0), "rename %s", from);
}

static void stripped_free(struct stripped_self *t)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->top);
	cr_assert(eq(int, system(cmd), 0), "%s", cmd);
}

/* probe_entry looked up in the stripped copy, searching dbg when given. */
static struct symbolizer *stripped_symbolizer(const struct stripped_self *t, const char *dirs)
{
	struct symbolizer *s = NULL;

	cr_assert(eq(int, symbolizer_new(&s), 0), "symbolizer_new");
	cr_assert(eq(int, symbolizer_debug_dirs(s, dirs), 0), "symbolizer_debug_dirs");
	cr_assert(eq(int, symbolizer_add_module(s, t->path, t->bias, t->start, t->end), 0), "the stripped copy");
	return s;
}

static void assert_probe_entry(struct symbolizer *s, const char *what)
{
	struct sym_frame f[MAX_FRAMES];

	symbolizer_lookup(s, addr_of((void *)probe_entry), 0, f, MAX_FRAMES);
	cr_assert(eq(str, (char *)(f[0].function ? f[0].function : "(null)"), "probe_entry"), "%s: the name",
		  what);
	cr_assert(eq(int, f[0].file && ends_with(f[0].file, "/tests/test_symbolize.c"), 1), "%s: the file, got %s",
		  what, f[0].file ? f[0].file : "(null)");
	cr_assert(eq(int, f[0].line == probe_entry_line || f[0].line == probe_entry_line + 1, 1),
		  "%s: the line, got %d", what, f[0].line);
}

static void assert_no_name(struct symbolizer *s, const char *path, const char *what)
{
	struct sym_frame f[MAX_FRAMES];

	symbolizer_lookup(s, addr_of((void *)probe_entry), 0, f, MAX_FRAMES);
	cr_assert(eq(ptr, (void *)f[0].function, NULL), "%s: no name, got %s", what,
		  f[0].function ? f[0].function : "");
	cr_assert(eq(ptr, (void *)f[0].file, NULL), "%s: no file", what);
	cr_assert(eq(str, (char *)f[0].module, (char *)path), "%s: the module", what);
	cr_assert(eq(u64, f[0].offset, addr_of((void *)probe_entry) - bias_of((void *)probe_entry)),
		  "%s: module+offset", what);
}

Test(symbolize, debug_dir_gives_a_stripped_file_its_names_by_build_id)
{
	struct stripped_self t;
	struct symbolizer *s;

	stripped_make(&t);
	stripped_place(&t, 1, 0);
	s = stripped_symbolizer(&t, NULL);
	assert_no_name(s, t.path, "without the directory");
	symbolizer_free(s);
	s = stripped_symbolizer(&t, t.dbg);
	assert_probe_entry(s, "with the directory");
	free_checked(s);
	stripped_free(&t);
}

Test(symbolize, debug_dir_gives_a_stripped_file_its_names_by_debuglink)
{
	struct stripped_self t;
	struct symbolizer *s;

	stripped_make(&t);
	stripped_place(&t, 0, 0);
	s = stripped_symbolizer(&t, t.dbg);
	assert_probe_entry(s, "the made-up debuglink name at the directory's top");
	free_checked(s);
	stripped_free(&t);
}

/* No --debug-dir: the default path's entries relative to the module, its
 * own directory and its .debug/, are looked in (the symbolizer asks
 * libdwfl only where a file is there or debuginfod is set). */
Test(symbolize, the_default_path_finds_a_debug_file_beside_the_module_and_in_its_debug_dir)
{
	static const char *const where[] = {"", "/.debug"};
	char dir[200], to[260], from[160];

	for (size_t i = 0; i < 2; i++) {
		struct stripped_self t;
		struct symbolizer *s;

		stripped_make(&t);
		snprintf(dir, sizeof(dir), "%s%s", t.top, where[i]);
		mkdir(dir, 0700);
		snprintf(to, sizeof(to), "%s/stripped.debug", dir);
		snprintf(from, sizeof(from), "%s.debug-file", t.path);
		cr_assert(eq(int, rename(from, to), 0), "rename %s", from);
		s = stripped_symbolizer(&t, NULL);
		assert_probe_entry(s, i ? "in the module's .debug/" : "beside the module");
		free_checked(s);
		stripped_free(&t);
	}
}

/* A FIFO where libdwfl would open a debug file waits for a writer for
 * ever: under a --debug-dir too, the module goes without. A hang is
 * ended by SIGALRM (a crash); Criterion's .timeout, given to a second
 * test of this binary, made its runner leak under LeakSanitizer. */
Test(symbolize, a_fifo_in_a_debug_dir_is_not_opened)
{
	struct stripped_self t;
	struct symbolizer *s;

	alarm(20);
	for (int by_id = 0; by_id < 2; by_id++) {
		stripped_make(&t);
		stripped_place(&t, by_id, 1);
		s = stripped_symbolizer(&t, t.dbg);
		assert_no_name(s, t.path, by_id ? "a FIFO by build-id" : "a FIFO by debuglink name");
		free_checked(s);
		stripped_free(&t);
	}
	alarm(0);
}

/* A profile's symbols replayed, then looked at again with the debug
 * directory: the names the recording lacked come from the debug file;
 * once the file on disk is another one (its build id changed), none. */
Test(symbolize, refresh_names_what_the_recording_could_not)
{
	struct stripped_self t;
	struct symbolizer *s, *r = NULL;
	unsigned char *bytes;
	size_t len;

	stripped_make(&t);
	stripped_place(&t, 1, 0);
	s = stripped_symbolizer(&t, NULL);
	symbolizer_record(s);
	assert_no_name(s, t.path, "recorded");
	cr_assert(eq(int, symbolizer_save(s, &bytes, &len), 0), "symbolizer_save");
	symbolizer_free(s);

	cr_assert(eq(int, symbolizer_load(&r, bytes, len), 0), "symbolizer_load");
	cr_assert(eq(int, symbolizer_add_module(r, t.path, t.bias, t.start, t.end), 0), "the module on record");
	assert_no_name(r, t.path, "replayed");
	symbolizer_free(r);

	cr_assert(eq(int, symbolizer_load(&r, bytes, len), 0), "symbolizer_load");
	cr_assert(eq(int, symbolizer_debug_dirs(r, t.dbg), 0), "symbolizer_debug_dirs");
	cr_assert(eq(int, symbolizer_refresh(r), 0), "symbolizer_refresh");
	assert_probe_entry(r, "refreshed");
	symbolizer_free(r);

	run_cmd("cp /bin/true '%s'%s", t.path, "");
	cr_assert(eq(int, symbolizer_load(&r, bytes, len), 0), "symbolizer_load");
	cr_assert(eq(int, symbolizer_debug_dirs(r, t.dbg), 0), "symbolizer_debug_dirs");
	cr_assert(eq(int, symbolizer_refresh(r), 0), "symbolizer_refresh");
	assert_no_name(r, t.path, "refreshed, the file replaced by another");
	symbolizer_free(r);
	free(bytes);
	stripped_free(&t);
}
