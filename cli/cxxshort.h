/*
 * cxxshort: demangled C++ names made readable for the text report.
 * c++filt spells out every default template argument and libstdc++'s
 * inline namespace ("std::__cxx11::basic_string<char,
 * std::char_traits<char>, std::allocator<char> >"); a person wrote
 * std::string. cxxshort_name rewrites a demangled name as the source
 * would say it: std::__cxx11:: → std::, the string and stream typedefs
 * (std::string, std::ostream, ...), trailing default arguments of the
 * standard containers and std::unique_ptr dropped, "> >" → ">>", inside
 * every template argument list, recursively. A name it does not
 * recognise comes back unchanged. The other views (JSON, CSV, pprof, ...)
 * keep the full names.
 *
 * Shortening can make two functions look alike: with libstdc++'s dual
 * ABI, f(std::__cxx11::basic_string<...>) and f(std::basic_string<...>)
 * (the old string) are two functions, both "f(std::string)" when short.
 * struct cxxshort_map holds the names of one report and gives each its
 * display text: the short name, or the full one when another name of the
 * report shortens to the same text.
 * See docs/names.md.
 */
#ifndef PTRACE_CXXSHORT_H
#define PTRACE_CXXSHORT_H

#include <stddef.h>

/* The short form of a demangled (or C) name, malloc'ed; the caller
 * frees. A name that is not C++ or malformed comes back as a copy.
 * NULL only when out of memory. */
char *cxxshort_name(const char *name);

struct cxxshort_map;

/* An empty map. 0 or -ENOMEM. */
int cxxshort_map_new(struct cxxshort_map **out);

/* Add a name (NULL is ignored; the map keeps the pointer, which must
 * outlive it; a name already in is not added twice). 0 or -ENOMEM (the
 * name then shows in full). */
int cxxshort_map_add(struct cxxshort_map *m, const char *name);

/* Give every name added its display text: its short form, unless two
 * distinct names would show alike; all of those show in full. Call once,
 * after the last add. 0 or -ENOMEM (then every name shows in full). */
int cxxshort_map_settle(struct cxxshort_map *m);

/* The display text of name: its short form once settled, name itself
 * when it was not added, before settling, or for a NULL map. */
const char *cxxshort_map_get(const struct cxxshort_map *m, const char *name);

void cxxshort_map_free(struct cxxshort_map *m);

#endif
