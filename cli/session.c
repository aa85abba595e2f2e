#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* What the checks found, and the work left to the current reader. Shared
 * by the launcher's threads (the symbol warmer reads while the main
 * thread closes out reaped processes): atomics throughout. */
struct session_read {
	uint64_t work;                     /* units left (session_charge) */
	uint32_t bits[SF_MAX_PROCS + 1];   /* per slot; [SF_MAX_PROCS]: the session */
};

static const char *const part_names[SP_NPARTS] = {
	[SP_HEADER] = "header",
	[SP_PROCESS] = "process record",
	[SP_THREADS] = "thread list",
	[SP_THREAD_LOG] = "exited threads' log",
	[SP_SITES] = "allocation-site table",
	[SP_HEAP] = "heap counters",
	[SP_MODULES] = "module list",
	[SP_TRACES] = "stack traces",
	[SP_CPU] = "CPU samples",
	[SP_CRASH] = "crash record",
	[SP_DUMPS] = "stack dumps",
	[SP_FUNC] = "function timing",
	[SP_CALL_TREE] = "call tree",
	[SP_OPEN_CALLS] = "open calls",
	[SP_CUT] = "more records than the image can hold",
};

const char *session_part_name(unsigned part)
{
	return part < SP_NPARTS ? part_names[part] : "?";
}

/* Trace slots: a 4-byte id each, sized to the image (1/256 of it). */
static uint32_t trace_cap_for(size_t size)
{
	uint32_t cap = 1u << 14;

	while ((size_t)cap * 4 * 256 < size && cap < (1u << 24))
		cap <<= 1;
	return cap;
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

int session_create(struct session *s, size_t size)
{
	struct sf_header *h;
	size_t off;
	int err;

	memset(s, 0, sizeof(*s));
	s->rd = calloc(1, sizeof(*s->rd));
	if (!s->rd)
		return -ENOMEM;
	s->fd = memfd_create("ptrace-run-session", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (s->fd < 0) {
		err = -errno;
		goto out_free;
	}
	if (ftruncate(s->fd, (off_t)size) < 0) {
		err = -errno;
		goto out_close;
	}
	/* The program can open the image by its /proc path: it must not be
	 * able to shrink it under the mappings (SIGBUS in the launcher, the
	 * program and every process of the session) nor seal it further. The
	 * agent never truncates it. */
	if (fcntl(s->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_SEAL) < 0) {
		err = -errno;
		goto out_close;
	}
	s->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
	if (s->base == MAP_FAILED) {
		err = -errno;
		goto out_close;
	}
	s->mapped = 1;
	s->size = size;
	snprintf(s->path, sizeof(s->path), "/proc/%d/fd/%d", (int)getpid(), s->fd);

	h = s->base;
	h->magic = SF_MAGIC;
	h->version = SF_VERSION;
	h->header_size = sizeof(*h);
	h->size = size;
	h->cli_pid = (int32_t)getpid();
	h->start_ns = s->start_ns = now_ns();
	off = (sizeof(*h) + 63) & ~(size_t)63;
	h->procs = s->procs = off;
	s->nslots = SF_MAX_PROCS;
	off += (sizeof(struct sf_process) * SF_MAX_PROCS + 63) & ~(size_t)63;
	h->trace_cap = trace_cap_for(size);
	h->trace_slots = off;
	off += ((size_t)h->trace_cap * 4 + 63) & ~(size_t)63;
	if (off >= size) {
		err = -ENOSPC;
		goto out_unmap;
	}
	h->bump = off;
	session_read_begin(s);
	return 0;

out_unmap:
	munmap(s->base, size);
out_close:
	close(s->fd);
out_free:
	free(s->rd);
	s->rd = NULL;
	s->fd = -1;
	s->base = NULL;
	s->mapped = 0;
	return err;
}

int session_use(struct session *s, void *buf, size_t size)
{
	const struct sf_header *h = buf;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (((uintptr_t)buf & 63) || size < sizeof(*h) || h->magic != SF_MAGIC || h->version != SF_VERSION ||
	    h->size != size || (h->procs & 63) || h->procs < sizeof(*h) || h->procs >= size)
		return -EPROTO;
	s->rd = calloc(1, sizeof(*s->rd));
	if (!s->rd)
		return -ENOMEM;
	s->base = buf;
	s->size = size;
	s->procs = h->procs;
	s->nslots = (size - h->procs) / sizeof(struct sf_process) < SF_MAX_PROCS
			    ? (uint32_t)((size - h->procs) / sizeof(struct sf_process))
			    : SF_MAX_PROCS;
	s->start_ns = h->start_ns;
	session_read_begin(s);
	return 0;
}

void session_close(struct session *s)
{
	if (s->base && s->mapped)
		munmap(s->base, s->size);
	if (s->fd >= 0)
		close(s->fd);
	free(s->rd);
	s->rd = NULL;
	s->base = NULL;
	s->mapped = 0;
	s->fd = -1;
}

int session_reader(struct session *dst, const struct session *src)
{
	*dst = *src;
	dst->fd = -1;
	dst->mapped = 0;
	dst->rd = calloc(1, sizeof(*dst->rd));
	if (!dst->rd)
		return -ENOMEM;
	session_read_begin(dst);
	return 0;
}

int session_validate(const void *base, size_t size)
{
	const struct sf_header *h = base;

	if (size < sizeof(*h) || h->magic != SF_MAGIC || h->version != SF_VERSION || h->size != size ||
	    h->procs > size || (uint64_t)SF_MAX_PROCS * sizeof(struct sf_process) > size - h->procs ||
	    h->trace_slots > size || (uint64_t)h->trace_cap * 4 > size - h->trace_slots ||
	    (h->trace_cap & (h->trace_cap - 1)))
		return -EPROTO;
	return 0;
}

/* Bytes of the image records can be in: below the bump pointer (the agent
 * never writes above it), within the image. */
static uint64_t session_limit(const struct session *s)
{
	uint64_t bump = __atomic_load_n(&((const struct sf_header *)s->base)->bump, __ATOMIC_ACQUIRE);

	return bump < s->size ? bump : s->size;
}

const void *session_at(const struct session *s, sf_off off, size_t len)
{
	uint64_t lim = session_limit(s);

	/* Records hold 8-byte fields: a misaligned one is not a record (and
	 * reading it would be undefined behaviour). */
	if (!off || (off & 7) || off > lim || len > lim - off)
		return NULL;
	return (const char *)s->base + off;
}

uint32_t session_slot_of(const struct session *s, const struct sf_process *p)
{
	uintptr_t a = (uintptr_t)p, lo = (uintptr_t)s->base + s->procs;

	if (!p || a < lo || (a - lo) % sizeof(*p) || (a - lo) / sizeof(*p) >= s->nslots)
		return SF_MAX_PROCS;
	return (uint32_t)((a - lo) / sizeof(*p));
}

void session_corrupt(const struct session *s, const struct sf_process *p, unsigned part)
{
	if (s->rd && part < SP_NPARTS)
		__atomic_fetch_or(&s->rd->bits[session_slot_of(s, p)], 1u << part, __ATOMIC_RELAXED);
}

uint32_t session_corrupt_bits(const struct session *s, uint32_t i)
{
	return s->rd && i <= SF_MAX_PROCS ? __atomic_load_n(&s->rd->bits[i], __ATOMIC_RELAXED) : 0;
}

const void *session_get(const struct session *s, const struct sf_process *p, unsigned part, sf_off off,
			size_t len)
{
	const void *r = session_at(s, off, len);

	if (!r && off)
		session_corrupt(s, p, part);
	return r;
}

void session_read_begin(const struct session *s)
{
	/* Half a unit per byte in use: a real image needs far less (a list
	 * node or a table slot is 16 to 3000 bytes; a stack frame is 8 bytes
	 * shared by a few processes at most), a hostile one gets linear time
	 * and memory. */
	uint64_t work = session_limit(s) / 2;

	if (s->rd)
		__atomic_store_n(&s->rd->work, work > (1u << 16) ? work : (1u << 16), __ATOMIC_RELAXED);
}

uint64_t session_charge(const struct session *s, const struct sf_process *p, uint64_t n)
{
	uint64_t left;

	if (!s->rd || !n)
		return n;
	left = __atomic_load_n(&s->rd->work, __ATOMIC_RELAXED);
	for (;;) {
		uint64_t take = left < n ? left : n;

		if (__atomic_compare_exchange_n(&s->rd->work, &left, left - take, 0, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED)) {
			if (take < n)
				session_corrupt(s, p, SP_CUT);
			return take;
		}
	}
}

static sf_off list_next(const struct session *s, sf_off off, size_t next_at)
{
	return __atomic_load_n((const sf_off *)((const char *)s->base + off + next_at), __ATOMIC_ACQUIRE);
}

uint64_t session_list_len(const struct session *s, const struct sf_process *p, unsigned part, sf_off head,
			  size_t len, size_t next_at)
{
	uint64_t n = 1, lam = 1, power = 1, mu = 0, max;
	sf_off tort = head, hare;

	if (!head)
		return 0;
	if (next_at + sizeof(sf_off) > len || !session_at(s, head, len)) {
		session_corrupt(s, p, part);
		return 0;
	}
	/* No more distinct records than fit: a backstop for a list that a
	 * live writer keeps changing under the walk. */
	max = session_limit(s) / 8;
	/* Brent's cycle detection: constant memory, a few steps per node. */
	hare = list_next(s, head, next_at);
	while (hare) {
		if (hare == tort)
			break;
		if (!session_at(s, hare, len) || n >= max) {
			session_corrupt(s, p, part);
			return session_charge(s, p, n);
		}
		if (power == lam) {
			tort = hare;
			power <<= 1;
			lam = 0;
		}
		hare = list_next(s, hare, next_at);
		lam++;
		n++;
	}
	if (!hare)
		return session_charge(s, p, n);
	/* A loop of lam nodes: the distinct ones are the mu before it and
	 * the loop itself. */
	session_corrupt(s, p, part);
	tort = hare = head;
	for (uint64_t i = 0; i < lam; i++)
		hare = list_next(s, hare, next_at);
	while (tort != hare && mu < n) {
		tort = list_next(s, tort, next_at);
		hare = list_next(s, hare, next_at);
		mu++;
	}
	return session_charge(s, p, mu + lam < n ? mu + lam : n);
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

	if (n <= s->nslots || s->nslots < SF_MAX_PROCS)
		return n < s->nslots ? n : s->nslots;
	/* Slots beyond the first array exist as far as the chunk list goes
	 * (bounded by the image: a chunk takes SF_PROC_CHUNK_BYTES of it). */
	while ((uint64_t)k * SF_PROC_CHUNK < n - SF_MAX_PROCS && session_chunk(s, k))
		k++;
	return (uint64_t)SF_MAX_PROCS + (uint64_t)k * SF_PROC_CHUNK < n ? SF_MAX_PROCS + k * SF_PROC_CHUNK : n;
}

const struct sf_process *session_process(const struct session *s, uint32_t i)
{
	static const struct sf_process none; /* SF_PROC_FREE: skipped by every reader */
	const struct sf_proc_chunk *c;

	if (i < s->nslots)
		return (const struct sf_process *)((const char *)s->base + s->procs) + i;
	c = session_chunk(s, (i - SF_MAX_PROCS) / SF_PROC_CHUNK);
	return c ? sf_chunk_slots(c) + (i - c->first) : &none;
}

const struct sf_trace *session_trace_depth(const struct session *s, uint32_t id, unsigned *depth)
{
	const struct sf_trace *t = session_at(s, (sf_off)id << 3, sizeof(struct sf_trace));
	unsigned d;

	*depth = 0;
	if (!t)
		return NULL;
	d = __atomic_load_n(&t->depth, __ATOMIC_RELAXED);
	if (d > SF_DEPTH_LIMIT || !session_at(s, (sf_off)id << 3, sizeof(*t) + d * sizeof(uint64_t)))
		return NULL;
	*depth = d;
	return t;
}

const struct sf_trace *session_trace(const struct session *s, uint32_t id)
{
	unsigned d;

	return session_trace_depth(s, id, &d);
}

char *session_str(char *dst, size_t dstlen, const char *src, size_t cap)
{
	size_t n = 0;

	if (!dstlen)
		return dst;
	while (n < cap && n + 1 < dstlen && src[n]) {
		dst[n] = src[n];
		n++;
	}
	dst[n] = 0;
	return dst;
}
