#include "log.h"

#include <string.h>
#include <unistd.h>

#define LOG_MAX_LINES 8 /* per process, ever: warnings are for settings */

static int log_lines;

__attribute__((no_instrument_function)) static size_t log_append(char *buf, size_t at, size_t cap, const char *s)
{
	while (s && *s && at < cap)
		buf[at++] = *s++;
	return at;
}

__attribute__((no_instrument_function)) void log_warn(const char *a, const char *b, const char *c)
{
	char buf[256];
	size_t n = 0;

	if (__atomic_fetch_add(&log_lines, 1, __ATOMIC_RELAXED) >= LOG_MAX_LINES)
		return;
	n = log_append(buf, n, sizeof(buf) - 1, "ptrace-run agent: ");
	n = log_append(buf, n, sizeof(buf) - 1, a);
	n = log_append(buf, n, sizeof(buf) - 1, b);
	n = log_append(buf, n, sizeof(buf) - 1, c);
	buf[n++] = '\n';
	/* Best effort: a failed write must not disturb the program. */
	while (n > 0) {
		ssize_t w = write(2, buf, n);
		if (w <= 0)
			break;
		n -= (size_t)w;
	}
}
