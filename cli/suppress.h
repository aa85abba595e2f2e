/*
 * Leak suppressions (docs/leaks.md): which blocks live at exit are not
 * the program's leaks. Built-in ones for the C/C++ runtime's one-time
 * allocations (stdio buffers, locale and NSS data, the loader's, the
 * libraries' initialisers: libstdc++'s exception pool), and a user's
 * file in LeakSanitizer's format: `leak:PATTERN` lines, `#` comments. A
 * pattern matches a stack when it matches one of its frames' function,
 * source file or module: anywhere in the name, `*` for any run of
 * characters, `^` and `$` anchoring it at the start and end.
 */
#ifndef PTRACE_CLI_SUPPRESS_H
#define PTRACE_CLI_SUPPRESS_H

#include <stddef.h>

struct rstack;

struct suppr {
	char **pat;             /* the user's patterns, as written after "leak:" */
	char **why;             /* "leak:PATTERN (FILE:LINE)" for each */
	size_t n;
	int builtin;            /* apply the built-in ones too (default 1) */
};

/* Read path's suppressions into s (appending). 0; -errno, or -EINVAL
 * with one line in err ("FILE:3: expected leak:PATTERN or a # comment"). */
int suppr_load(struct suppr *s, const char *path, char *err, size_t errlen);

/* What suppresses a leak of stack st: a description of the rule, or
 * NULL when it is the program's leak. */
const char *suppr_match(const struct suppr *s, const struct rstack *st);

/* 1 when pattern matches name (the LeakSanitizer way, above). */
int suppr_pattern_match(const char *pattern, const char *name);

void suppr_free(struct suppr *s);

#endif
