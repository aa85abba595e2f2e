/*
 * Leak suppressions (suppress.h).
 */
#include "suppress.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

/* The C/C++ runtime's own one-time allocations, by the function that
 * made them (anywhere on the stack): none is the program's leak. */
static const struct {
	const char *pattern;
	const char *why;
} builtin[] = {
	{"^_IO_file_doallocate$", "built-in: a stdio buffer"},
	{"^setlocale$", "built-in: locale data"},
	{"^_nl_*", "built-in: locale data"},
	{"^__gconv_*", "built-in: locale data (iconv)"},
	{"^__nss_*", "built-in: NSS data"},
	{"^nss_*", "built-in: NSS data"},
	{"^tzset_internal$", "built-in: time zone data"},
	{"^__tzfile_read$", "built-in: time zone data"},
	{"^__cxa_get_globals*", "built-in: C++ exception state"},
	{"^__cxa_thread_atexit*", "built-in: C++ thread_local destructors"},
};

/* s matches glob p (only '*' special) over the whole of s. */
static int glob(const char *p, const char *s)
{
	for (; *p; p++, s++) {
		if (*p == '*') {
			while (p[1] == '*')
				p++;
			if (!p[1])
				return 1;
			for (; *s; s++)
				if (glob(p + 1, s))
					return 1;
			return glob(p + 1, s);
		}
		if (*s != *p)
			return 0;
	}
	return !*s;
}

int suppr_pattern_match(const char *pattern, const char *name)
{
	size_t n = strlen(pattern);
	int start = pattern[0] == '^', end = n > (size_t)start && pattern[n - 1] == '$';
	char buf[512];

	if (!name || n + 3 > sizeof(buf))
		return 0;
	/* Unanchored ends match anywhere: "*" around the pattern. */
	snprintf(buf, sizeof(buf), "%s%.*s%s", start ? "" : "*", (int)(n - (size_t)start - (size_t)end), pattern + start,
		 end ? "" : "*");
	return glob(buf, name);
}

static int frame_matches(const char *pattern, const struct rframe *f)
{
	const char *base = f->module ? strrchr(f->module, '/') : NULL;

	return suppr_pattern_match(pattern, f->function) || suppr_pattern_match(pattern, f->file) ||
	       suppr_pattern_match(pattern, f->module) || suppr_pattern_match(pattern, base ? base + 1 : NULL);
}

const char *suppr_match(const struct suppr *s, const struct rstack *st)
{
	int program = 0;

	for (size_t k = 0; s && k < s->n; k++)
		for (unsigned i = 0; i < st->n; i++)
			if (frame_matches(s->pat[k], rstack_frame(st, i)))
				return s->why[k];
	if (s && !s->builtin)
		return NULL;
	for (size_t k = 0; k < sizeof(builtin) / sizeof(builtin[0]); k++)
		for (unsigned i = 0; i < st->n; i++)
			if (suppr_pattern_match(builtin[k].pattern, rstack_frame(st, i)->function))
				return builtin[k].why;
	/* No frame of the program's own code at all: a library's
	 * initialiser (libstdc++'s exception pool, from _dl_init). */
	for (unsigned i = 0; i < st->n && !program; i++)
		/* A frame in no module (JIT code, a torn stack) may be the
		 * program's: not suppressed. */
		program = !rstack_frame(st, i)->module || !report_runtime_module(rstack_frame(st, i)->module);
	return st->n && !program ? "built-in: the C/C++ runtime's own (no frame of the program)" : NULL;
}

int suppr_load(struct suppr *s, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char line[1024];
	int lineno = 0, rc = 0;

	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *e, **np, **nw, *why;
		size_t len;

		lineno++;
		len = strlen(p);
		if (len && p[len - 1] != '\n' && !feof(f)) {
			snprintf(err, errlen, "%s:%d: a line longer than %zu bytes", path, lineno, sizeof(line) - 2);
			rc = -EINVAL;
			break;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		for (e = p + strlen(p); e > p && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		*e = 0;
		if (!*p || *p == '#')
			continue;
		if (strncmp(p, "leak:", 5) || !p[5]) {
			snprintf(err, errlen, "%s:%d: expected leak:PATTERN or a # comment", path, lineno);
			rc = -EINVAL;
			break;
		}
		{
			/* Every '*' can try each place: a few keep matching fast. */
			int stars = 0;

			for (const char *q = p + 5; *q; q++)
				stars += *q == '*';
			if (stars > 8 || strlen(p + 5) > 400) {
				snprintf(err, errlen, "%s:%d: a pattern of at most 400 bytes and 8 '*'", path, lineno);
				rc = -EINVAL;
				break;
			}
		}
		np = realloc(s->pat, (s->n + 1) * sizeof(*np));
		if (np)
			s->pat = np;
		nw = realloc(s->why, (s->n + 1) * sizeof(*nw));
		if (nw)
			s->why = nw;
		why = NULL;
		if (!np || !nw || !(s->pat[s->n] = strdup(p + 5)) ||
		    asprintf(&why, "%s (%s:%d)", p, path, lineno) < 0) {
			if (np && nw && s->pat[s->n])
				free(s->pat[s->n]);
			snprintf(err, errlen, "%s", strerror(ENOMEM));
			rc = -ENOMEM;
			break;
		}
		s->why[s->n++] = why;
	}
	fclose(f);
	return rc;
}

void suppr_free(struct suppr *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->pat[i]);
		free(s->why[i]);
	}
	free(s->pat);
	free(s->why);
	s->pat = s->why = NULL;
	s->n = 0;
}
