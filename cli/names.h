/*
 * names: C++ function names as c++filt prints them, taken apart for the
 * report. A template function's demangled name starts with its return
 * type ("double geo::sum_areas<double>(geo::Shape* const*, int)"), which
 * a glob on the qualified name must not see; gcc emits the variants of
 * one constructor or destructor (complete and base object: C1/C2, D1/D2)
 * as separate functions with the same demangled name, and the deleting
 * destructor (D0) with that name too. Pure string work on names that may
 * be malformed: never reads past the terminating NUL, never fails.
 */
#ifndef PTRACE_NAMES_H
#define PTRACE_NAMES_H

#include <stddef.h>

/* Offsets into a demangled name: [name, end) is the name without its
 * return type, with its parameters and qualifiers ("f<int>(int) const");
 * [name, params) the qualified name alone ("f<int>"); [end, strlen) the
 * suffixes c++filt and we add (" [clone .isra.0]", " [deleting]"). A C
 * name is all name: name = 0, params = end = strlen. */
struct names_parts {
	size_t name;
	size_t params;
	size_t end;
};

/* Split a demangled (or plain C) name; never fails. */
void names_split(const char *s, struct names_parts *out);

/* 1 when one of the comma-separated globs (fnmatch) matches name without
 * its return type: with its parameters and suffixes, without the
 * suffixes, or without the parameter list. 0 for NULL globs or name. */
int names_glob_match(const char *globs, const char *name);

enum names_variant {
	NAMES_PLAIN = 0,    /* not a constructor or destructor variant */
	NAMES_STRUCTOR = 1, /* a constructor or destructor (C1, C2, C4, D1, D2, D4) */
	NAMES_DELETING = 2, /* the deleting destructor (D0) */
};

/* Which variant the mangled name is; canon (len bytes) gets the name of
 * its complete-object variant (C1, D1), the same for every variant of
 * one source constructor or destructor, or mangled itself when plain (or
 * when it does not fit: then NAMES_PLAIN). */
enum names_variant names_variant(const char *mangled, char *canon, size_t len);

/* __cxa_demangle's output for a mangled name (malloc'ed; the caller
 * frees), NULL when it is not one. */
char *names_demangle(const char *mangled);

#endif
