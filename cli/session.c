#include "session.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* Trace slots: a 4-byte id each, sized to the image (1/256 of it). */
static uint32_t trace_cap_for(size_t size)
{
	uint32_t cap = 1u << 14;

	while ((size_t)cap * 4 * 256 < size && cap < (1u << 24))
		cap <<= 1;
	return cap;
}

int session_create(struct session *s, size_t size)
{
	struct sf_header *h;
	struct timespec t;
	size_t off;
	int err;

	memset(s, 0, sizeof(*s));
	s->fd = memfd_create("ptrace-run-session", MFD_CLOEXEC);
	if (s->fd < 0)
		return -errno;
	if (ftruncate(s->fd, (off_t)size) < 0) {
		err = -errno;
		goto out_close;
	}
	s->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
	if (s->base == MAP_FAILED) {
		err = -errno;
		goto out_close;
	}
	s->size = size;
	snprintf(s->path, sizeof(s->path), "/proc/%d/fd/%d", (int)getpid(), s->fd);

	h = s->base;
	h->magic = SF_MAGIC;
	h->version = SF_VERSION;
	h->header_size = sizeof(*h);
	h->size = size;
	h->cli_pid = (int32_t)getpid();
	clock_gettime(CLOCK_MONOTONIC, &t);
	h->start_ns = (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
	off = (sizeof(*h) + 63) & ~(size_t)63;
	h->procs = off;
	off += (sizeof(struct sf_process) * SF_MAX_PROCS + 63) & ~(size_t)63;
	h->trace_cap = trace_cap_for(size);
	h->trace_slots = off;
	off += ((size_t)h->trace_cap * 4 + 63) & ~(size_t)63;
	if (off >= size) {
		err = -ENOSPC;
		goto out_unmap;
	}
	h->bump = off;
	return 0;

out_unmap:
	munmap(s->base, size);
out_close:
	close(s->fd);
	s->fd = -1;
	s->base = NULL;
	return err;
}

void session_close(struct session *s)
{
	if (s->base)
		munmap(s->base, s->size);
	if (s->fd >= 0)
		close(s->fd);
	s->base = NULL;
	s->fd = -1;
}

int session_validate(const void *base, size_t size)
{
	const struct sf_header *h = base;

	if (size < sizeof(*h) || h->magic != SF_MAGIC || h->version != SF_VERSION || h->size != size ||
	    h->procs + (uint64_t)SF_MAX_PROCS * sizeof(struct sf_process) > size ||
	    h->trace_slots + (uint64_t)h->trace_cap * 4 > size || (h->trace_cap & (h->trace_cap - 1)))
		return -EPROTO;
	return 0;
}

const void *session_at(const struct session *s, sf_off off, size_t len)
{
	if (!off || off > s->size || len > s->size - off)
		return NULL;
	return (const char *)s->base + off;
}

static int session_chunk_ok(const struct sf_proc_chunk *c, uint32_t k)
{
	return c && c->first == SF_MAX_PROCS + k * SF_PROC_CHUNK && c->cap == SF_PROC_CHUNK;
}

/* The k-th chunk of process slots, or NULL when absent or malformed. A
 * walk is bounded: the k-th chunk must say it is the k-th. Readers go in
 * slot order, so the last chunk found is remembered (by offset, checked
 * again; per thread: the launcher reads from two). */
static const struct sf_proc_chunk *session_chunk(const struct session *s, uint32_t k)
{
	static __thread const void *last_base;
	static __thread sf_off last_off;
	static __thread uint32_t last_k;
	const struct sf_proc_chunk *c = NULL;
	sf_off off;
	uint32_t i = 0;

	if (last_base == s->base && last_off && last_k <= k) {
		c = session_at(s, last_off, SF_PROC_CHUNK_BYTES);
		i = last_k;
		if (!session_chunk_ok(c, i))
			c = NULL;
	}
	if (!c) {
		i = 0;
		c = session_at(s, __atomic_load_n(&((const struct sf_header *)s->base)->proc_chunks, __ATOMIC_ACQUIRE),
			       SF_PROC_CHUNK_BYTES);
	}
	off = c ? (sf_off)((const char *)c - (const char *)s->base) : 0;
	while (session_chunk_ok(c, i) && i < k) {
		off = __atomic_load_n(&c->next, __ATOMIC_ACQUIRE);
		c = session_at(s, off, SF_PROC_CHUNK_BYTES);
		i++;
	}
	if (!session_chunk_ok(c, i))
		return NULL;
	last_base = s->base;
	last_off = off;
	last_k = k;
	return c;
}

uint32_t session_nprocs(const struct session *s)
{
	uint32_t n = __atomic_load_n(&((const struct sf_header *)s->base)->nprocs, __ATOMIC_ACQUIRE);
	uint32_t k = 0;

	if (n <= SF_MAX_PROCS)
		return n;
	/* Slots beyond the first array exist as far as the chunk list goes
	 * (bounded by the image: a chunk takes SF_PROC_CHUNK_BYTES of it). */
	while ((uint64_t)k * SF_PROC_CHUNK < n - SF_MAX_PROCS && session_chunk(s, k))
		k++;
	return (uint64_t)SF_MAX_PROCS + (uint64_t)k * SF_PROC_CHUNK < n ? SF_MAX_PROCS + k * SF_PROC_CHUNK : n;
}

const struct sf_process *session_process(const struct session *s, uint32_t i)
{
	static const struct sf_process none; /* SF_PROC_FREE: skipped by every reader */
	const struct sf_header *h = s->base;
	const struct sf_proc_chunk *c;

	if (i < SF_MAX_PROCS)
		return (const struct sf_process *)((const char *)s->base + h->procs) + i;
	c = session_chunk(s, (i - SF_MAX_PROCS) / SF_PROC_CHUNK);
	return c ? sf_chunk_slots(c) + (i - c->first) : &none;
}

const struct sf_trace *session_trace(const struct session *s, uint32_t id)
{
	const struct sf_trace *t = session_at(s, (sf_off)id << 3, sizeof(struct sf_trace));

	if (!t || t->depth > SF_DEPTH_LIMIT ||
	    !session_at(s, (sf_off)id << 3, sizeof(*t) + t->depth * sizeof(uint64_t)))
		return NULL;
	return t;
}
