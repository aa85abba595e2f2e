/*
 * demo_leak: the `make demo` example. A tiny "key = value" config parser
 * with a realistic leak: parse_line() copies each line to trim it and
 * forgets to free the copy when the line holds a setting (the comment and
 * blank-line path does free it).
 *
 * The config below has 10 lines: 2 comments, 1 blank, 7 settings.
 *   parse_line, @site:copy   10 allocations (one per line, length + 1 bytes:
 *                            169 bytes), 3 freed at once (temporary); 7 leak:
 *                            115 bytes in 7 blocks (the settings lines are
 *                            20 + 14 + 17 + 17 + 17 + 14 + 9 = 108
 *                            characters, plus 7 NULs)
 *   dup_range, @site:dup     14 allocations (key and value of each setting,
 *                            90 bytes), all freed by free_config(); the last
 *                            one freed is temporary
 *   main, @site:table        calloc(16, 16): 256 bytes, freed
 * stdout gets a static buffer (setvbuf) so that glibc allocates nothing for
 * it: the report shows only the program's own allocations.
 *   allocations 25, frees 18, bytes_allocated 515, peak_bytes 461,
 *   temporary 4, live_blocks 7, live_bytes 115; leaks[0] is parse_line at
 *   @site:copy with 115 bytes in 7 blocks.
 * Prints the parsed settings to stdout; exits 0.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct setting {
	char *key;
	char *value;
};

static const char config_text[] =
	"# demo.conf: settings for a service\n"
	"listen_address = ::1\n"
	"port = 8080   \n"
	"\n"
	"  workers  =  4  \n"
	"log_level = debug\n"
	"# cache settings\n"
	"cache_mb = 64    \n"
	"timeout_s = 30\n"
	"name=demo";

static char outbuf[4096];

static char *dup_range(const char *start, const char *end)
{
	size_t n = (size_t)(end - start);
	char *s = malloc(n + 1); /* @site:dup */

	if (!s)
		exit(1);
	memcpy(s, start, n);
	s[n] = '\0';
	return s;
}

static const char *skip_space(const char *s)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	return s;
}

static const char *trim_end(const char *start, const char *end)
{
	while (end > start && isspace((unsigned char)end[-1]))
		end--;
	return end;
}

/* Parse one line into *out; returns 1 for a setting, 0 otherwise. */
static int parse_line(const char *line, size_t len, struct setting *out)
{
	char *copy = malloc(len + 1); /* @site:copy */
	const char *key, *eq, *value;

	if (!copy)
		exit(1);
	memcpy(copy, line, len);
	copy[len] = '\0';

	key = skip_space(copy);
	if (*key == '\0' || *key == '#') {
		free(copy);
		return 0;
	}
	eq = strchr(key, '=');
	if (!eq) {
		free(copy);
		return 0;
	}
	value = skip_space(eq + 1);
	out->key = dup_range(key, trim_end(key, eq));
	out->value = dup_range(value, trim_end(value, copy + len));
	return 1; /* BUG: copy is never freed on this path */
}

static int parse_config(const char *text, struct setting *table, int max)
{
	int n = 0;

	while (*text && n < max) {
		const char *nl = strchr(text, '\n');
		size_t len = nl ? (size_t)(nl - text) : strlen(text);

		n += parse_line(text, len, &table[n]);
		text += len + (nl ? 1 : 0);
	}
	return n;
}

static void free_config(struct setting *table, int n)
{
	for (int i = 0; i < n; i++) {
		free(table[i].key);
		free(table[i].value);
	}
	free(table);
}

int main(void)
{
	struct setting *table;
	int n;

	setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
	table = calloc(16, sizeof *table); /* @site:table */
	if (!table)
		return 1;
	n = parse_config(config_text, table, 16);
	printf("demo_leak: %d settings\n", n);
	for (int i = 0; i < n; i++)
		printf("  %-16s %s\n", table[i].key, table[i].value);
	free_config(table, n);
	return 0;
}
