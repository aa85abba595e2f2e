/*
 * output_identity: its stdout and stderr must be byte-identical with and
 * without ptrace-run. Writes, alternating between stdout and stderr, text,
 * binary bytes (NUL, 0xff, an escape sequence, a lone CR) and a final chunk
 * without a trailing newline. It echoes stdin to stdout as it reads it,
 * framed as "<stdin " BYTES "</stdin> total N" (N in decimal), and writes
 * "stdin sum S\n" to stderr (S = sum of the bytes mod 65536). No stdio, no
 * allocation: allocations 0. Exits 0, or 1 if reading stdin fails.
 */
#include <string.h>
#include <unistd.h>

static char buf[65536];

static void put(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t k = write(fd, c, n);

		if (k <= 0)
			return;
		c += k;
		n -= (size_t)k;
	}
}

static void put_str(int fd, const char *s)
{
	put(fd, s, strlen(s));
}

static void put_num(int fd, unsigned long v)
{
	char d[24];
	int i = sizeof d;

	do
		d[--i] = (char)('0' + v % 10);
	while ((v /= 10) && i > 0);
	put(fd, d + i, sizeof d - (size_t)i);
}

int main(void)
{
	static const char bin_out[] = { 'B', 0, 1, 2, (char)0xff, (char)0xfe, 0x1b, '[', '0', 'm', '\r', 'Z' };
	static const char bin_err[] = { 'e', 0, (char)0x80, (char)0xc3, (char)0x28, '\n', 0 };
	unsigned long total = 0, sum = 0;

	put_str(1, "hello stdout\n");
	put_str(2, "hello stderr\n");
	put(1, bin_out, sizeof bin_out);
	put(2, bin_err, sizeof bin_err);
	put_str(1, "<stdin ");
	for (;;) {
		ssize_t n = read(0, buf, sizeof buf);

		if (n < 0)
			return 1;
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			sum += (unsigned char)buf[i];
		total += (unsigned long)n;
		put(1, buf, (size_t)n);
	}
	put_str(1, "</stdin>");
	put_str(1, " total ");
	put_num(1, total);
	put_str(2, "stdin sum ");
	put_num(2, sum % 65536);
	put_str(2, "\n");
	put_str(1, "\nno newline at the end");
	put_str(2, "stderr without newline");
	return 0;
}
