/*
 * symbolize: turns the raw instruction addresses the agent recorded into
 * function, file and line, offline, from the files on disk: the profiled
 * process may be long gone, so nothing is read from /proc or its memory.
 * The module list (path, load bias, mapped range) comes from the agent's
 * record of dl_iterate_phdr. An address inside inlined code expands into
 * several frames, innermost first, so a report shows the call chain the
 * source has even where the binary has none.
 *
 * Names are as c++filt prints them, with parameters, wherever they come
 * from (DWARF or the symbol table); a deleting destructor (D0) says so:
 * "geo::Circle::~Circle() [deleting]". An address in a PLT stub (.plt,
 * .plt.sec, .plt.got) is named after the function the stub calls,
 * "puts@plt", with no file or line; PLT0 gets module+offset only.
 *
 * One symbolizer per process image; not thread safe. Strings handed out
 * are interned and live until symbolizer_free.
 */
#ifndef PTRACE_SYMBOLIZE_H
#define PTRACE_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>

struct sym_frame {
	const char *function; /* demangled name, or NULL when unknown; owned by the symbolizer */
	const char *file;     /* source file path, or NULL */
	int line;             /* source line, 0 when unknown */
	const char *module;   /* path of the ELF module, or NULL when the address is in no module */
	uint64_t address;     /* the address asked for */
	uint64_t offset;      /* address - module load bias (0 if no module) */
	int inlined;          /* 1: this function was inlined into the next frame */
	const char *entity;   /* a constructor's or destructor's mangled name with
	                         the variant folded (C2 -> C1, D2 -> D1): equal for
	                         the complete- and base-object copies gcc emits of
	                         one of them; NULL for any other function */
};

struct symbolizer;

/* New symbolizer for one process image; -ENOMEM on failure. */
int symbolizer_new(struct symbolizer **out);

/* Add a module loaded at load bias `bias` spanning [start,end); 0, or -errno when the file cannot be used (the address range is still remembered so lookups give module+offset). */
int symbolizer_add_module(struct symbolizer *s, const char *path, uint64_t bias, uint64_t start, uint64_t end);

/* Symbolize addr. is_return != 0 means addr is a return address: look up addr-1 so the call's line is found. Fills up to max frames: inlined functions first (innermost), the real containing function last; returns the number of frames written (>= 1 always when max >= 1: an unknown address gives one frame with function NULL, module/offset when known). Results are cached per address; strings stay valid until symbolizer_free. */
int symbolizer_lookup(struct symbolizer *s, uint64_t addr, int is_return, struct sym_frame *out, int max);

/* Number of distinct modules known (same path and bias counted once); never fails. */
int symbolizer_module_count(const struct symbolizer *s);

/*
 * Separate debug files are looked for (cli/symbolize.c, docs/debuginfo.md)
 * by build-id, then by .gnu_debuglink, in the module's directory, its
 * .debug/, each of dirs (absolute, separated by ':'; NULL or "": none) and
 * /usr/lib/debug, then from debuginfod when DEBUGINFOD_URLS is set. For
 * the modules added after the call; 0 or -ENOMEM.
 */
int symbolizer_debug_dirs(struct symbolizer *s, const char *dirs);

/*
 * A loaded symbolizer (symbolizer_load) looks again, in the files on disk
 * and their separate debug files, at every answer the recording left
 * without a function name, or without a source line where DWARF was asked
 * for, and gives the better answer; only in modules whose file still has
 * the build id on record. No-op for another symbolizer; 0 or -ENOMEM.
 */
int symbolizer_refresh(struct symbolizer *s);

/* Free s and every string it handed out; NULL is a no-op. */
void symbolizer_free(struct symbolizer *s);

/* Read the symbol tables of every module added so far, and the DWARF of
 * the one holding dwarf_addr (0: none), so later lookups do not pay for
 * it. Best effort, never fails. */
void symbolizer_warm(struct symbolizer *s, uint64_t dwarf_addr);

#define SYM_SYMTAB_ONLY 1 /* function name from the symbol table only */

/* symbolizer_lookup with flags: SYM_SYMTAB_ONLY skips DWARF (no file,
 * line or inlined frames; no debug info read). */
int symbolizer_lookup_flags(struct symbolizer *s, uint64_t addr, int is_return, int flags, struct sym_frame *out,
			    int max);

/*
 * Symbols recorded for a profile file (cli/profile.c), so that it renders
 * the same names on another machine, or after the binaries changed:
 * symbolizer_record keeps every answer given from then on (the last one
 * per address and flags) with every module added; symbolizer_save writes
 * them as bytes; symbolizer_load makes a symbolizer that opens no file
 * and gives the recorded answers (an address never recorded gets
 * module+offset only). The saved bytes are untrusted input to the loader:
 * every count, length and string index is checked.
 */
void symbolizer_record(struct symbolizer *s);
/* 0 and a malloc'd *out of *len bytes, or -ENOMEM. */
int symbolizer_save(struct symbolizer *s, unsigned char **out, size_t *len);
/* 0, -EPROTO for malformed bytes, -ENOMEM. */
int symbolizer_load(struct symbolizer **out, const void *data, size_t len);

/* The GNU build id of the module file at path (lowercase hex), or NULL
 * when it has none or was never added. Recorded in the saved bytes too. */
const char *symbolizer_build_id(const struct symbolizer *s, const char *path);

/* Module i as added (path, bias, [start, end)): 0, or -1 past the last. */
int symbolizer_module(const struct symbolizer *s, size_t i, const char **path, uint64_t *bias, uint64_t *start,
		      uint64_t *end);

#endif
