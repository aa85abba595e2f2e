/*
 * cxxshort: a rewrite of c++filt's text, template argument list by
 * template argument list.
 *
 * A list opens at a '<' right after an identifier, an ABI tag
 * ("name[abi:cxx11]<int>") or an operator symbol ("operator< <int>",
 * "operator()<double>"); every other '<' is text. The list's arguments
 * are split at the commas outside any bracket, each is shortened on its
 * own (recursion), then the list's template (the qualified name just
 * written) decides what goes: trailing arguments equal to their defaults,
 * computed from the arguments before them ("std::less<K>" after K), and
 * whole instances that have a typedef (std::basic_string<char> is
 * std::string). Arguments are compared as shortened text, which is why
 * the defaults below are written in the short spelling (">>", no
 * std::__cxx11::). Operator symbols are copied whole, so that the
 * brackets of operator<, operator>>, operator-> and operator() never
 * count; "->" of a decltype expression neither. Brackets that do not
 * match leave the rest of the name as it is.
 */
#include "cxxshort.h"
#include "names.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CS_NONE ((size_t)-1)
#define CS_MAX_DEPTH 64 /* template lists inside each other rewritten; deeper ones are copied */
#define CS_MAX_ARGS 8	/* the longest default list below: unordered_map's 5 */

struct cs_buf {
	char *p;
	size_t n, cap;
	int oom;
};

static void cs_put(struct cs_buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *p;

		while (cap < b->n + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = 0;
}

static void cs_puts(struct cs_buf *b, const char *s)
{
	cs_put(b, s, strlen(s));
}

static int cs_ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$';
}

/* The token "operator" starts at s[i]. */
static int cs_is_operator(const char *s, size_t i)
{
	return !strncmp(s + i, "operator", 8) && (i == 0 || !cs_ident(s[i - 1])) && !cs_ident(s[i + 8]);
}

/* Operator symbols that contain a bracket or a comma, longest first. */
static const char *const cs_ops[] = {
    "<=>", "<<=", ">>=", "->*", "<<", ">>", "<=", ">=", "->", "()", "[]", "<", ">", ","};

#define CS_NOPS (sizeof(cs_ops) / sizeof(cs_ops[0]))

/* Length of such a symbol at s (just after "operator"); 0 for any other. */
static size_t cs_op_len(const char *s)
{
	for (size_t k = 0; k < CS_NOPS; k++)
		if (!strncmp(s, cs_ops[k], strlen(cs_ops[k])))
			return strlen(cs_ops[k]);
	return 0;
}

/* s[i] is '<' and opens a template argument list. */
static int cs_opens_list(const char *s, size_t i)
{
	size_t j = i;

	if (s[i] != '<' || i == 0)
		return 0;
	if (cs_ident(s[i - 1]) || s[i - 1] == ']')
		return 1;
	/* After an operator's symbol (at most 3 of its characters), with or
	 * without a space: "operator< <int>", "operator-<int*>". */
	if (s[j - 1] == ' ')
		j--;
	for (size_t k = 0; k < 3 && j > 0 && strchr("+-*/%^&|~!=<>,()[]", s[j - 1]); k++) {
		j--;
		if (j >= 8 && cs_is_operator(s, j - 8))
			return 1;
	}
	return 0;
}

/* From s[i], the first ',' outside any bracket or the '>' that closes
 * the list around i; CS_NONE when neither comes before hi or a bracket
 * closes one it did not open. A '>' inside parentheses is a comparison. */
static size_t cs_scan(const char *s, size_t i, size_t hi)
{
	char want[CS_MAX_DEPTH];
	size_t depth = 0;

	for (; i < hi; i++) {
		char c = s[i];

		if (cs_is_operator(s, i)) {
			i += 8 + cs_op_len(s + i + 8) - 1;
		} else if (c == '-' && s[i + 1] == '>') {
			i++;
		} else if ((c == '<' && cs_opens_list(s, i)) || c == '(' || c == '[' || c == '{') {
			if (depth == CS_MAX_DEPTH)
				return CS_NONE;
			want[depth++] = c == '<' ? '>' : c == '(' ? ')' : c == '[' ? ']' : '}';
		} else if (c == '>') {
			if (!depth)
				return i;
			if (want[depth - 1] == '>')
				depth--;
		} else if (c == ')' || c == ']' || c == '}') {
			if (!depth || want[depth - 1] != c)
				return CS_NONE;
			depth--;
		} else if (c == ',' && !depth) {
			return i;
		}
	}
	return CS_NONE;
}

/* What a standard template's defaults are: def[k] is argument k's,
 * with $0, $1 standing for the first two arguments; a typedef for the
 * instance left with one argument, by kind. */
enum cs_alias {
	CS_ALIAS_NONE,
	CS_ALIAS_STREAM, /* basic_X<char> is X, basic_X<wchar_t> wX */
	CS_ALIAS_STRING, /* and char8_t, char16_t, char32_t: u8X, u16X, u32X */
};

struct cs_rule {
	const char *name;
	const char *def[CS_MAX_ARGS];
	enum cs_alias alias;
};

#define CS_ALLOC "std::allocator<$0>"
#define CS_TRAITS "std::char_traits<$0>"
#define CS_PAIR_ALLOC "std::allocator<std::pair<$0 const, $1>>"

static const struct cs_rule cs_rules[] = {
    {"std::vector", {NULL, CS_ALLOC}, CS_ALIAS_NONE},
    {"std::list", {NULL, CS_ALLOC}, CS_ALIAS_NONE},
    {"std::deque", {NULL, CS_ALLOC}, CS_ALIAS_NONE},
    {"std::forward_list", {NULL, CS_ALLOC}, CS_ALIAS_NONE},
    {"std::set", {NULL, "std::less<$0>", CS_ALLOC}, CS_ALIAS_NONE},
    {"std::multiset", {NULL, "std::less<$0>", CS_ALLOC}, CS_ALIAS_NONE},
    {"std::map", {NULL, NULL, "std::less<$0>", CS_PAIR_ALLOC}, CS_ALIAS_NONE},
    {"std::multimap", {NULL, NULL, "std::less<$0>", CS_PAIR_ALLOC}, CS_ALIAS_NONE},
    {"std::unordered_set", {NULL, "std::hash<$0>", "std::equal_to<$0>", CS_ALLOC}, CS_ALIAS_NONE},
    {"std::unordered_multiset", {NULL, "std::hash<$0>", "std::equal_to<$0>", CS_ALLOC}, CS_ALIAS_NONE},
    {"std::unordered_map", {NULL, NULL, "std::hash<$0>", "std::equal_to<$0>", CS_PAIR_ALLOC}, CS_ALIAS_NONE},
    {"std::unordered_multimap", {NULL, NULL, "std::hash<$0>", "std::equal_to<$0>", CS_PAIR_ALLOC}, CS_ALIAS_NONE},
    {"std::queue", {NULL, "std::deque<$0>"}, CS_ALIAS_NONE},
    {"std::stack", {NULL, "std::deque<$0>"}, CS_ALIAS_NONE},
    {"std::priority_queue", {NULL, "std::vector<$0>", "std::less<$0>"}, CS_ALIAS_NONE},
    {"std::unique_ptr", {NULL, "std::default_delete<$0>"}, CS_ALIAS_NONE},
    {"std::basic_string", {NULL, CS_TRAITS, CS_ALLOC}, CS_ALIAS_STRING},
    {"std::basic_string_view", {NULL, CS_TRAITS}, CS_ALIAS_STRING},
    {"std::basic_ios", {NULL, CS_TRAITS}, CS_ALIAS_STREAM},
    {"std::basic_streambuf", {NULL, CS_TRAITS}, CS_ALIAS_STREAM},
    {"std::basic_istream", {NULL, CS_TRAITS}, CS_ALIAS_STREAM},
    {"std::basic_ostream", {NULL, CS_TRAITS}, CS_ALIAS_STREAM},
    {"std::basic_iostream", {NULL, CS_TRAITS}, CS_ALIAS_STREAM},
    {"std::basic_filebuf", {NULL, CS_TRAITS}, CS_ALIAS_STREAM},
    {"std::basic_ifstream", {NULL, CS_TRAITS}, CS_ALIAS_STREAM},
    {"std::basic_ofstream", {NULL, CS_TRAITS}, CS_ALIAS_STREAM},
    {"std::basic_fstream", {NULL, CS_TRAITS}, CS_ALIAS_STREAM},
    {"std::basic_stringbuf", {NULL, CS_TRAITS, CS_ALLOC}, CS_ALIAS_STREAM},
    {"std::basic_istringstream", {NULL, CS_TRAITS, CS_ALLOC}, CS_ALIAS_STREAM},
    {"std::basic_ostringstream", {NULL, CS_TRAITS, CS_ALLOC}, CS_ALIAS_STREAM},
    {"std::basic_stringstream", {NULL, CS_TRAITS, CS_ALLOC}, CS_ALIAS_STREAM},
};

/* Inline namespaces nobody writes: libstdc++'s new ABI, libc++'s. */
static const char *const cs_inline_ns[] = {"std::__cxx11::", "std::__1::"};

static const struct cs_rule *cs_rule_of(const char *name, size_t len)
{
	for (size_t k = 0; k < sizeof(cs_rules) / sizeof(cs_rules[0]); k++)
		if (strlen(cs_rules[k].name) == len && !strncmp(cs_rules[k].name, name, len))
			return &cs_rules[k];
	return NULL;
}

/* def with $0 and $1 replaced is arg. */
static int cs_is_default(const char *def, struct cs_buf *args, size_t nargs, const struct cs_buf *arg)
{
	struct cs_buf b = {0};
	int same;

	for (const char *p = def; *p; p++) {
		if (p[0] == '$' && (p[1] == '0' || p[1] == '1') && (size_t)(p[1] - '0') < nargs) {
			cs_put(&b, args[p[1] - '0'].p ? args[p[1] - '0'].p : "", args[p[1] - '0'].n);
			p++;
		} else {
			cs_put(&b, p, 1);
		}
	}
	same = !b.oom && b.p && arg->p && b.n == arg->n && !memcmp(b.p, arg->p, b.n);
	free(b.p);
	return same;
}

/* The typedef of a one-argument instance, written over the template's
 * name at out[ns..]; 0 when there is none. */
static int cs_alias(const struct cs_rule *r, const struct cs_buf *arg, struct cs_buf *out, size_t ns)
{
	static const char *const chars[][2] = {
	    {"char", ""}, {"wchar_t", "w"}, {"char8_t", "u8"}, {"char16_t", "u16"}, {"char32_t", "u32"}};
	size_t nchars = r->alias == CS_ALIAS_STRING ? 5 : r->alias == CS_ALIAS_STREAM ? 2 : 0;

	for (size_t k = 0; k < nchars; k++)
		if (arg->p && !strcmp(arg->p, chars[k][0])) {
			out->n = ns;
			cs_puts(out, "std::");
			cs_puts(out, chars[k][1]);
			cs_puts(out, r->name + strlen("std::basic_"));
			return 1;
		}
	return 0;
}

static void cs_seq(const char *s, size_t lo, size_t hi, struct cs_buf *out, int depth);

/* The list s[open] '<' ... s[close] '>', its template's name just
 * written at the end of out. */
static void cs_list(const char *s, size_t open, size_t close, struct cs_buf *out, int depth)
{
	struct cs_buf args[CS_MAX_ARGS] = {{0}};
	size_t nargs = 0, ns = out->n, pos = open + 1, nall;
	const struct cs_rule *r;
	int many = 0;

	while (ns > 0 && (cs_ident(out->p[ns - 1]) || out->p[ns - 1] == ':'))
		ns--;
	r = cs_rule_of(out->p + ns, out->n - ns);
	cs_put(out, "<", 1);
	while (pos <= close) {
		size_t sep = cs_scan(s, pos, close + 1), a = pos, b;

		if (sep == CS_NONE) /* cannot be: close closes the list */
			sep = close;
		b = sep;
		while (a < b && s[a] == ' ')
			a++;
		while (b > a && s[b - 1] == ' ')
			b--;
		if (a < b || sep != close || nargs) {
			if (nargs == CS_MAX_ARGS) {
				many = 1; /* no rule has this many: flush and go on */
				for (size_t k = 0; k < nargs; k++) {
					cs_put(out, args[k].p, args[k].n);
					cs_puts(out, ", ");
					out->oom |= args[k].oom;
					free(args[k].p);
					args[k] = (struct cs_buf){0};
				}
				nargs = 0;
			}
			cs_seq(s, a, b, &args[nargs], depth + 1);
			if (!args[nargs].p)
				cs_put(&args[nargs], "", 0);
			nargs++;
		}
		pos = sep + 1;
	}
	nall = nargs;
	if (r && !many) {
		while (nargs > 1 && r->def[nargs - 1] &&
		       cs_is_default(r->def[nargs - 1], args, nargs, &args[nargs - 1]))
			nargs--;
		if (nargs == 1 && cs_alias(r, &args[0], out, ns))
			goto out;
	}
	for (size_t k = 0; k < nargs; k++) {
		if (k)
			cs_puts(out, ", ");
		cs_put(out, args[k].p, args[k].n);
		out->oom |= args[k].oom;
	}
	cs_put(out, ">", 1);
out:
	for (size_t k = 0; k < nall; k++)
		free(args[k].p);
}

/* s[lo, hi) shortened onto out. */
static void cs_seq(const char *s, size_t lo, size_t hi, struct cs_buf *out, int depth)
{
	size_t i = lo;

	while (i < hi) {
		size_t close = CS_NONE, pos, k;

		if (cs_is_operator(s, i)) {
			size_t n = 8 + cs_op_len(s + i + 8);

			cs_put(out, s + i, n);
			i += n;
			continue;
		}
		if (s[i] == '-' && s[i + 1] == '>') {
			cs_put(out, s + i, 2);
			i += 2;
			continue;
		}
		if (s[i] == '<' && cs_opens_list(s, i) && depth < CS_MAX_DEPTH) {
			for (pos = i + 1; pos < hi; pos++) {
				size_t sep = cs_scan(s, pos, hi);

				if (sep == CS_NONE)
					break;
				if (s[sep] == '>') {
					close = sep;
					break;
				}
				pos = sep;
			}
			if (close == CS_NONE) {
				cs_put(out, s + i, hi - i); /* unbalanced: as it is */
				return;
			}
			cs_list(s, i, close, out, depth);
			i = close + 1;
			continue;
		}
		for (k = 0; k < sizeof(cs_inline_ns) / sizeof(cs_inline_ns[0]); k++) {
			size_t l = strlen(cs_inline_ns[k]);

			if (!strncmp(s + i, cs_inline_ns[k], l) && (i == 0 || (!cs_ident(s[i - 1]) && s[i - 1] != ':')))
				break;
		}
		if (k < sizeof(cs_inline_ns) / sizeof(cs_inline_ns[0])) {
			cs_puts(out, "std::");
			i += strlen(cs_inline_ns[k]);
			continue;
		}
		cs_put(out, s + i, 1);
		i++;
	}
}

char *cxxshort_name(const char *name)
{
	struct cs_buf out = {0};
	static const char gsi[] = "_GLOBAL__sub_I_";

	if (!name)
		return NULL;
	/* A translation unit's static initialiser, named after its first
	 * function's mangled name: that name demangled, as c++filt does. */
	if (!strncmp(name, gsi, sizeof(gsi) - 1) && !strncmp(name + sizeof(gsi) - 1, "_Z", 2)) {
		char *dem = names_demangle(name + sizeof(gsi) - 1), *sh;

		if (dem) {
			sh = cxxshort_name(dem);
			free(dem);
			cs_puts(&out, gsi);
			if (sh)
				cs_puts(&out, sh);
			free(sh);
			if (out.oom) {
				free(out.p);
				return NULL;
			}
			return out.p;
		}
	}
	cs_seq(name, 0, strlen(name), &out, 0);
	if (!out.p && !out.oom)
		cs_put(&out, "", 0);
	if (out.oom) {
		free(out.p);
		return NULL;
	}
	return out.p;
}

/* --- one report's names ---------------------------------------------------- */

struct cs_entry {
	const char *name;  /* not owned; NULL: a free slot */
	char *short_name;  /* owned; NULL until settled */
	const char *shown; /* short_name, or name on a collision */
};

struct cxxshort_map {
	struct cs_entry *slot; /* open addressing, power-of-two size */
	size_t cap, n;
	int settled;
};

static size_t cs_hash(const char *s)
{
	size_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static struct cs_entry *cs_find(const struct cxxshort_map *m, const char *name)
{
	size_t i = cs_hash(name) & (m->cap - 1);

	while (m->slot[i].name && strcmp(m->slot[i].name, name))
		i = (i + 1) & (m->cap - 1);
	return &m->slot[i];
}

int cxxshort_map_new(struct cxxshort_map **out)
{
	struct cxxshort_map *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->cap = 256;
	m->slot = calloc(m->cap, sizeof(*m->slot));
	if (!m->slot) {
		free(m);
		return -ENOMEM;
	}
	*out = m;
	return 0;
}

int cxxshort_map_add(struct cxxshort_map *m, const char *name)
{
	struct cs_entry *e;

	if (!m || !name || m->settled)
		return 0;
	if (2 * (m->n + 1) > m->cap) {
		struct cxxshort_map big = {.cap = 2 * m->cap};

		big.slot = calloc(big.cap, sizeof(*big.slot));
		if (!big.slot)
			return -ENOMEM;
		for (size_t i = 0; i < m->cap; i++)
			if (m->slot[i].name)
				*cs_find(&big, m->slot[i].name) = m->slot[i];
		free(m->slot);
		m->slot = big.slot;
		m->cap = big.cap;
	}
	e = cs_find(m, name);
	if (!e->name) {
		e->name = name;
		m->n++;
	}
	return 0;
}

static int cs_by_shown(const void *a, const void *b)
{
	const struct cs_entry *x = *(const struct cs_entry *const *)a, *y = *(const struct cs_entry *const *)b;
	int c = strcmp(x->shown, y->shown);

	return c ? c : strcmp(x->name, y->name);
}

/*
 * Names that show alike all show in full. Full names are distinct, so
 * repeating until no two show alike ends: each round turns at least one
 * more name back to its full self (a full name can equal a third name's
 * short form, hence the rounds).
 */
int cxxshort_map_settle(struct cxxshort_map *m)
{
	struct cs_entry **v;
	size_t n = 0;
	int changed = 1;

	if (!m || m->settled)
		return 0;
	m->settled = 1;
	v = malloc((m->n ? m->n : 1) * sizeof(*v));
	for (size_t i = 0; i < m->cap; i++) {
		struct cs_entry *e = &m->slot[i];

		if (!e->name)
			continue;
		e->short_name = v ? cxxshort_name(e->name) : NULL;
		e->shown = e->short_name ? e->short_name : e->name;
		if (v)
			v[n++] = e;
	}
	if (!v)
		return -ENOMEM;
	while (changed) {
		changed = 0;
		if (n > 1)
			qsort(v, n, sizeof(*v), cs_by_shown);
		for (size_t i = 0; i + 1 < n; i++) {
			size_t j = i + 1;

			while (j < n && !strcmp(v[j]->shown, v[i]->shown))
				j++;
			if (j - i > 1) {
				for (size_t k = i; k < j; k++)
					if (v[k]->shown != v[k]->name) {
						v[k]->shown = v[k]->name;
						changed = 1;
					}
			}
			i = j - 1;
		}
	}
	free(v);
	return 0;
}

const char *cxxshort_map_get(const struct cxxshort_map *m, const char *name)
{
	const struct cs_entry *e;

	if (!m || !name || !m->settled)
		return name;
	e = cs_find(m, name);
	return e->name ? e->shown : name;
}

void cxxshort_map_free(struct cxxshort_map *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->cap; i++)
		free(m->slot[i].short_name);
	free(m->slot);
	free(m);
}
