/*
 * Little-endian byte strings: a growing writer and a bounded reader, for
 * the profile file (cli/profile.c) and what goes into it. The reader never
 * reads past its end: a short or corrupt input sets err and every later
 * read gives zeros, so a parser checks err once, where it matters.
 */
#ifndef PTRACE_CLI_BYTES_H
#define PTRACE_CLI_BYTES_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a of a string, its high bits folded in (hash tables mask the low). */
static inline uint64_t bytes_hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h ^ (h >> 31);
}

struct wbuf {
	unsigned char *p;
	size_t n, cap;
	int err; /* -ENOMEM once a write failed; the buffer is then incomplete */
};

static inline void wbuf_put(struct wbuf *w, const void *data, size_t len)
{
	if (w->err)
		return;
	if (w->n + len < w->n) {
		w->err = -12; /* ENOMEM */
		return;
	}
	if (w->n + len > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;
		unsigned char *np;

		while (cap < w->n + len)
			cap *= 2;
		np = realloc(w->p, cap);
		if (!np) {
			w->err = -12;
			return;
		}
		w->p = np;
		w->cap = cap;
	}
	if (len)
		memcpy(w->p + w->n, data, len);
	w->n += len;
}

static inline void wbuf_u8(struct wbuf *w, uint8_t v)
{
	wbuf_put(w, &v, 1);
}

static inline void wbuf_u32(struct wbuf *w, uint32_t v)
{
	unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
			      (unsigned char)(v >> 24)};

	wbuf_put(w, b, 4);
}

static inline void wbuf_u64(struct wbuf *w, uint64_t v)
{
	wbuf_u32(w, (uint32_t)v);
	wbuf_u32(w, (uint32_t)(v >> 32));
}

static inline void wbuf_free(struct wbuf *w)
{
	free(w->p);
	memset(w, 0, sizeof(*w));
}

struct rbuf {
	const unsigned char *p;
	size_t n, off;
	int err; /* -EPROTO once a read went past the end */
};

/* A pointer to the next len bytes, or NULL (and err set) past the end. */
static inline const unsigned char *rbuf_take(struct rbuf *r, size_t len)
{
	const unsigned char *q;

	if (r->err || len > r->n - r->off) {
		r->err = -71; /* EPROTO */
		return NULL;
	}
	q = r->p + r->off;
	r->off += len;
	return q;
}

static inline uint8_t rbuf_u8(struct rbuf *r)
{
	const unsigned char *q = rbuf_take(r, 1);

	return q ? q[0] : 0;
}

static inline uint32_t rbuf_u32(struct rbuf *r)
{
	const unsigned char *q = rbuf_take(r, 4);

	return q ? (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24 : 0;
}

static inline uint64_t rbuf_u64(struct rbuf *r)
{
	uint64_t lo = rbuf_u32(r);

	return lo | (uint64_t)rbuf_u32(r) << 32;
}

#endif
