/*
 * names: demangled C++ names taken apart by bracket depth.
 *
 * The demangler's own tree is not reachable from libstdc++ (only
 * __cxa_demangle's string is), so the split works on c++filt's output,
 * whose shape is fixed: [return type ' '] qualified-name '(' params ')'
 * [qualifiers] [' [' suffix ']' ...]. The return type, when there is one,
 * ends at the last space outside any bracket before the name; the name's
 * own brackets are template arguments, "(anonymous namespace)" and
 * "{lambda(int)#1}". Two things break plain depth counting and are
 * handled by hand: operator names (operator<, operator->, operator() and
 * "operator new", whose space is not a separator) and a function
 * returning a function pointer, whose name sits inside the return type:
 * "int (*geo::choose<double>(double))(int)".
 */
#include "names.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

/* libstdc++'s demangler (the launcher links -lstdc++); declared here
 * rather than through <cxxabi.h>, which is C++ only. */
char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

#define NAMES_NONE ((size_t)-1)
#define NAMES_MAX_NESTING 8 /* declarators in parentheses followed, at most */

static int names_ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$';
}

/* The token "operator" starts at s[i] (lo: start of the text). */
static int names_is_operator(const char *s, size_t i, size_t lo)
{
	return !strncmp(s + i, "operator", 8) && (i == lo || !names_ident(s[i - 1])) && !names_ident(s[i + 8]);
}

/* Length of an operator symbol made of brackets at s (just after
 * "operator"), which depth counting must skip; 0 for any other. */
static size_t names_op_len(const char *s)
{
	static const char *const ops[] = {"<=>", "<<=", ">>=", "->*", "<<", ">>", "<=", ">=", "->", "()", "[]", "<", ">"};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strncmp(s, ops[i], strlen(ops[i])))
			return strlen(ops[i]);
	return 0;
}

/* The '(' matching the ')' at s[close], not before lo; NAMES_NONE. Only
 * parentheses count: they are balanced everywhere in a demangled name
 * (operator() included), angle brackets are not (operator<). */
static size_t names_open_paren(const char *s, size_t lo, size_t close)
{
	size_t depth = 0;

	for (size_t i = close + 1; i-- > lo;) {
		if (s[i] == ')')
			depth++;
		else if (s[i] == '(' && --depth == 0)
			return i;
	}
	return NAMES_NONE;
}

/* [lo, hi) ends with "operator()" as a name. */
static int names_ends_with_call_operator(const char *s, size_t lo, size_t hi)
{
	return hi >= lo + 10 && names_is_operator(s, hi - 10, lo) && s[hi - 2] == '(' && s[hi - 1] == ')';
}

/* Drop the qualifiers after a parameter list: " const", " &&", ... */
static size_t names_trim_qualifiers(const char *s, size_t lo, size_t e)
{
	static const char *const quals[] = {"const", "volatile", "restrict", "noexcept", "transaction_safe"};

	while (e > lo) {
		size_t w = e;

		if (s[e - 1] == ' ' || s[e - 1] == '&') {
			e--;
			continue;
		}
		while (w > lo && names_ident(s[w - 1]))
			w--;
		if (w == e || w == lo || s[w - 1] != ' ')
			break;
		for (size_t q = 0; q < sizeof(quals) / sizeof(quals[0]); q++)
			if (e - w == strlen(quals[q]) && !strncmp(s + w, quals[q], e - w)) {
				e = w;
				goto next;
			}
		break;
next:;
	}
	return e;
}

/* Where the qualified name starts in [lo, open): after the last space
 * outside brackets, and before any operator's own spaces. */
static size_t names_name_start(const char *s, size_t lo, size_t open)
{
	size_t start = lo;
	int depth = 0;

	for (size_t i = lo; i < open; i++) {
		char c = s[i];

		if (names_is_operator(s, i, lo)) {
			if (!depth)
				break;
			i += 8 + names_op_len(s + i + 8) - 1;
		} else if (c == '-' && s[i + 1] == '>') {
			i++; /* a member access in decltype(...), not a bracket */
		} else if (c == '<' || c == '(' || c == '[' || c == '{') {
			depth++;
		} else if ((c == '>' || c == ')' || c == ']' || c == '}') && depth) {
			depth--;
		} else if (c == ' ' && !depth) {
			start = i + 1;
		}
	}
	return start;
}

/* Split the signature in [lo, hi) (suffixes already off). */
static void names_range(const char *s, size_t lo, size_t hi, struct names_parts *o, int nesting)
{
	size_t e = names_trim_qualifiers(s, lo, hi), open;

	o->name = lo;
	o->params = o->end = hi;
	if (e == lo || s[e - 1] != ')' || (open = names_open_paren(s, lo, e - 1)) == NAMES_NONE)
		return; /* no parameter list: a C name, or not a function */
	/* "R (*name(params))(params2)": the name is inside the parentheses
	 * before the last parameter list (unless those are operator()'s). */
	if (open > lo && s[open - 1] == ')' && !names_ends_with_call_operator(s, lo, open) &&
	    nesting < NAMES_MAX_NESTING) {
		size_t io = names_open_paren(s, lo, open - 1), b;

		if (io != NAMES_NONE) {
			for (b = io + 1; b < open - 1 && (s[b] == '*' || s[b] == '&' || s[b] == ' '); b++)
				;
			names_range(s, b, open - 1, o, nesting + 1);
			return;
		}
	}
	o->name = names_name_start(s, lo, open);
	o->params = open;
	o->end = hi;
}

void names_split(const char *s, struct names_parts *out)
{
	size_t end = strlen(s);

	/* Suffixes: " [clone .constprop.0]", " [deleting]", possibly several. */
	while (end >= 3 && s[end - 1] == ']') {
		size_t b = end - 1;

		while (b > 0 && s[b] != '[')
			b--;
		if (s[b] != '[' || b == 0 || s[b - 1] != ' ')
			break;
		end = b - 1;
	}
	names_range(s, 0, end, out, 0);
}

int names_glob_match(const char *globs, const char *name)
{
	struct names_parts np;
	char *form[3], pat[1024];
	const char *p = globs;
	int hit = 0;

	if (!globs || !name)
		return 0;
	names_split(name, &np);
	form[0] = strdup(name + np.name);
	form[1] = strndup(name + np.name, np.end - np.name);
	form[2] = strndup(name + np.name, np.params - np.name);
	while (*p && !hit) {
		size_t n = strcspn(p, ",");

		if (n && n < sizeof(pat)) {
			memcpy(pat, p, n);
			pat[n] = 0;
			for (int k = 0; k < 3 && !hit; k++)
				hit = form[k] && fnmatch(pat, form[k], 0) == 0;
		}
		p += n + (p[n] == ',');
	}
	for (int k = 0; k < 3; k++)
		free(form[k]);
	return hit;
}

char *names_demangle(const char *mangled)
{
	int status = -1;
	char *plain;

	if (!mangled || mangled[0] != '_' || mangled[1] != 'Z')
		return NULL;
	plain = __cxa_demangle(mangled, NULL, NULL, &status);
	if (status != 0) {
		free(plain);
		return NULL;
	}
	return plain;
}

/*
 * A constructor's or destructor's variant is one digit of its mangled
 * name (_ZN3geo3MidC2Ev), but finding that digit's place needs a full
 * parse (substitutions, template arguments, local names). Instead: a
 * candidate "C<d>" or "D<d>" is the variant exactly when another digit
 * there demangles to the same text, which a letter of an identifier or a
 * length never does (the text would change).
 */
enum names_variant names_variant(const char *mangled, char *canon, size_t len)
{
	size_t n = strlen(mangled);
	enum names_variant v = NAMES_PLAIN;
	char *plain = NULL;

	if (n + 1 > len) {
		if (len)
			canon[0] = 0;
		return NAMES_PLAIN;
	}
	memcpy(canon, mangled, n + 1);
	if (mangled[0] != '_' || mangled[1] != 'Z')
		return NAMES_PLAIN;
	for (size_t i = 2; i + 1 < n; i++) {
		char c = mangled[i], d = mangled[i + 1], *alt;
		int same;

		if (!((c == 'C' && (d == '1' || d == '2' || d == '4')) ||
		      (c == 'D' && (d == '0' || d == '1' || d == '2' || d == '4'))) ||
		    (mangled[i + 2] >= '0' && mangled[i + 2] <= '9'))
			continue;
		if (!plain && !(plain = names_demangle(mangled)))
			return NAMES_PLAIN;
		canon[i + 1] = d == '1' ? '2' : '1';
		alt = names_demangle(canon);
		same = alt && !strcmp(alt, plain);
		free(alt);
		canon[i + 1] = d;
		if (!same)
			continue;
		if (c == 'D' && d == '0') {
			/* Not folded: deleting is another function than D1. */
			v = NAMES_DELETING;
		} else {
			canon[i + 1] = '1';
			v = NAMES_STRUCTOR;
		}
		break;
	}
	free(plain);
	return v;
}
