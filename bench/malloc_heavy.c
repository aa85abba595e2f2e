/*
 * malloc_heavy: the allocator-bound workload of bench/run.
 *
 * THREADS threads each run OPS operations over a private working set of
 * SLOTS blocks: malloc, calloc, realloc, free and C string building, with
 * small sizes far more common than large ones (16 B .. 4 KiB), the way
 * real programs allocate. A few blocks are handed to the next thread and
 * freed there, because servers free across threads and a heap profiler
 * must match those frees to allocations made elsewhere.
 *
 * Every allocation is reached through several noinline helpers, none of
 * them a tail call, so each call site has a realistic stack depth: stack
 * capture is what a heap profiler pays for on every event.
 *
 * The run is deterministic: each thread has its own seeded PRNG and the
 * checksum covers block contents and sizes only, never addresses or
 * timing, so a profiled run must print the same line as an unprofiled one.
 * realloc is checked to preserve contents; a mismatch exits with 1.
 *
 * Usage: malloc_heavy [THREADS [OPS [SEED]]]   (defaults 4 4000000 1)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

#define SLOTS 4096          /* working set per thread, power of two */
#define MAILBOX_CAP 256     /* blocks in flight towards one thread */
#define DRAIN_EVERY 64      /* ops between two drains of the own mailbox */
#define TOUCH_BYTES 32      /* bytes written at the start of each block */

enum op { OP_MALLOC, OP_CALLOC, OP_STRDUP, OP_FREE, OP_REALLOC, OP_APPEND, OP_HANDOFF, OP_NR };

static const char *const op_names[OP_NR] = {
	"malloc", "calloc", "strdup", "free", "realloc", "append", "handoff",
};

struct rng {
	uint64_t s;
};

enum kind { KIND_BLOCK, KIND_ARRAY, KIND_STRING };

struct slot {
	unsigned char *p; /* NULL when the slot is empty */
	size_t size;      /* bytes usable; for strings the buffer capacity */
	size_t len;       /* strings only: strlen(p) */
	enum kind kind;
	unsigned char tag; /* first byte pattern, checked on realloc */
};

/* Blocks handed to a thread by its predecessor; freed by the owner. */
struct mailbox {
	pthread_mutex_t lock;
	unsigned n;
	void *blocks[MAILBOX_CAP];
};

/* Cache-line aligned: counters written on every op must not share lines. */
struct worker {
	pthread_t tid;
	unsigned id;
	unsigned long ops;
	struct rng rng;
	struct slot *slots;
	struct mailbox *inbox; /* ours */
	struct mailbox *next;  /* the next thread's */
	uint64_t checksum;     /* contents and sizes, never addresses */
	unsigned long count[OP_NR];
	unsigned long steps;
	unsigned long corrupt; /* reallocs that lost bytes */
} __attribute__((aligned(64)));

static const char *const words[] = {
	"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
	"india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa",
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

/* splitmix64: tiny, fast, good enough, and the same on every machine. */
static inline uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Size in [16, 4096): size class k with probability 2^-(k+1), then uniform
 * within [16 << k, 32 << k). Half of all blocks are 16..31 bytes. */
static size_t size_pick(struct rng *r)
{
	uint64_t x = rng_next(r);
	unsigned k = (unsigned)__builtin_ctzll((x & 0x7f) | 0x80);
	size_t lo = (size_t)16 << k;
	return lo + (size_t)((x >> 8) % lo);
}

static inline uint64_t mix(uint64_t h, uint64_t v)
{
	return (h ^ v) * 0x100000001b3ULL;
}

static NOINLINE void die_oom(const char *what, size_t n)
{
	fprintf(stderr, "malloc_heavy: %s(%zu) failed: %s\n", what, n, strerror(errno));
	exit(1);
}

/* Layer 1: the program's own allocation wrappers, as most C code has. */
static NOINLINE void *mem_alloc(size_t n)
{
	void *p = malloc(n);
	if (!p)
		die_oom("malloc", n);
	return p;
}

static NOINLINE void *mem_zalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb, size);
	if (!p)
		die_oom("calloc", nmemb * size);
	return p;
}

static NOINLINE void *mem_resize(void *old, size_t n)
{
	void *p = realloc(old, n);
	if (!p)
		die_oom("realloc", n);
	return p;
}

static NOINLINE void mem_release(void *p, uint64_t *checksum)
{
	/* Read before free so the compiler cannot drop the touches; fold it in
	 * after, so free() is not a tail call and this frame stays visible. */
	unsigned char first = ((unsigned char *)p)[0];
	free(p);
	*checksum = mix(*checksum, first);
}

static NOINLINE char *str_dup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		die_oom("strdup", strlen(s));
	return p;
}

/* Layer 2: object constructors. */
static void touch(unsigned char *p, size_t size, unsigned char tag)
{
	size_t n = size < TOUCH_BYTES ? size : TOUCH_BYTES;
	memset(p, tag, n);
}

static NOINLINE unsigned char *block_new(size_t size, unsigned char tag)
{
	unsigned char *p = mem_alloc(size);
	touch(p, size, tag);
	return p;
}

/* An array of records, zeroed: calloc(count, record size). */
static NOINLINE unsigned char *array_new(size_t size, unsigned char tag)
{
	size_t elem = 8 << (tag & 3);
	size_t nmemb = (size + elem - 1) / elem;
	unsigned char *p = mem_zalloc(nmemb, elem);
	p[0] = tag; /* the rest of the first bytes stay zero, as calloc left them */
	return p;
}

/* A name like "kilo-17/echo.3", formatted then duplicated. */
static NOINLINE char *name_new(struct rng *r, size_t *len)
{
	char buf[96];
	uint64_t x = rng_next(r);
	int n = snprintf(buf, sizeof(buf), "%s-%u/%s.%u", words[x % NWORDS],
			 (unsigned)(x >> 8) % 1000, words[(x >> 20) % NWORDS],
			 (unsigned)(x >> 32) % 10);
	char *s = str_dup(buf);
	*len = (size_t)n;
	return s;
}

/* Append "/word" to a growing string, doubling its buffer like a strbuf. */
static NOINLINE char *strbuf_append(char *s, size_t *len, size_t *cap, const char *word)
{
	size_t wl = strlen(word);
	size_t need = *len + 1 + wl + 1;
	if (need > *cap) {
		size_t ncap = *cap * 2;
		while (ncap < need)
			ncap *= 2;
		s = mem_resize(s, ncap);
		*cap = ncap;
	}
	s[*len] = '/';
	memcpy(s + *len + 1, word, wl + 1);
	*len += 1 + wl;
	return s;
}

/* Layer 3: what happens to a slot. */
static NOINLINE void slot_fill(struct worker *w, struct slot *sl)
{
	uint64_t x = rng_next(&w->rng);
	unsigned pick = (unsigned)(x % 100);
	unsigned char tag = (unsigned char)(x >> 40) | 1;

	if (pick < 50) {
		sl->size = size_pick(&w->rng);
		sl->p = block_new(sl->size, tag);
		sl->kind = KIND_BLOCK;
		w->count[OP_MALLOC]++;
	} else if (pick < 70) {
		sl->size = size_pick(&w->rng);
		sl->p = array_new(sl->size, tag);
		sl->kind = KIND_ARRAY;
		w->count[OP_CALLOC]++;
	} else {
		sl->p = (unsigned char *)name_new(&w->rng, &sl->len);
		sl->size = sl->len + 1;
		sl->kind = KIND_STRING;
		tag = sl->p[0];
		w->count[OP_STRDUP]++;
	}
	sl->tag = tag;
	w->checksum = mix(w->checksum, sl->size);
}

static NOINLINE void slot_clear(struct worker *w, struct slot *sl)
{
	if (sl->kind == KIND_STRING)
		w->checksum = mix(w->checksum, sl->len);
	mem_release(sl->p, &w->checksum);
	sl->p = NULL;
	w->count[OP_FREE]++;
}

static NOINLINE void slot_resize(struct worker *w, struct slot *sl)
{
	size_t nsize = size_pick(&w->rng);
	size_t keep = sl->size < nsize ? sl->size : nsize;
	unsigned char *p;

	if (keep > TOUCH_BYTES)
		keep = TOUCH_BYTES;
	if (sl->kind == KIND_ARRAY)
		keep = 1; /* only the first byte carries the tag */
	p = mem_resize(sl->p, nsize);
	if (sl->kind != KIND_STRING) {
		for (size_t i = 0; i < keep; i++) {
			if (p[i] != sl->tag) {
				w->corrupt++;
				break;
			}
		}
		touch(p, nsize, sl->tag);
		sl->kind = KIND_BLOCK;
	} else {
		/* A string cut short stays a valid string. */
		if (nsize <= sl->len) {
			sl->len = nsize - 1;
			p[sl->len] = '\0';
		}
		if (p[0] != sl->tag)
			w->corrupt++;
	}
	sl->p = p;
	sl->size = nsize;
	w->checksum = mix(w->checksum, nsize);
	w->count[OP_REALLOC]++;
}

static NOINLINE void slot_append(struct worker *w, struct slot *sl)
{
	uint64_t x = rng_next(&w->rng);
	unsigned n = 1 + (unsigned)(x % 4);

	for (unsigned i = 0; i < n; i++)
		sl->p = (unsigned char *)strbuf_append((char *)sl->p, &sl->len, &sl->size,
						       words[(x >> (8 + 4 * i)) % NWORDS]);
	w->checksum = mix(w->checksum, sl->len);
	w->count[OP_APPEND]++;
}

/* Give the block to the next thread, which frees it; free it here when
 * its mailbox is full. The checksum is taken now, so it does not depend
 * on which thread ends up freeing the block. */
static NOINLINE void slot_handoff(struct worker *w, struct slot *sl)
{
	struct mailbox *mb = w->next;
	int queued = 0;

	w->checksum = mix(w->checksum, sl->p[0]);
	pthread_mutex_lock(&mb->lock);
	if (mb->n < MAILBOX_CAP) {
		mb->blocks[mb->n++] = sl->p;
		queued = 1;
	}
	pthread_mutex_unlock(&mb->lock);
	if (!queued)
		free(sl->p);
	sl->p = NULL;
	w->count[OP_HANDOFF]++;
}

static NOINLINE void mailbox_drain(struct mailbox *mb)
{
	void *batch[MAILBOX_CAP];
	unsigned n;

	pthread_mutex_lock(&mb->lock);
	n = mb->n;
	memcpy(batch, mb->blocks, n * sizeof(batch[0]));
	mb->n = 0;
	pthread_mutex_unlock(&mb->lock);
	for (unsigned i = 0; i < n; i++)
		free(batch[i]);
}

/* Layer 4: one operation on a random slot. An empty slot gets filled, a
 * live one is mostly freed, sometimes resized or appended to, so a bit
 * more than half of the slots are live at any time. */
static NOINLINE void step(struct worker *w)
{
	uint64_t x = rng_next(&w->rng);
	struct slot *sl = &w->slots[x & (SLOTS - 1)];
	unsigned pick = (unsigned)((x >> 32) % 100);

	if (!sl->p)
		slot_fill(w, sl);
	else if (pick < 2 && w->next != w->inbox)
		slot_handoff(w, sl);
	else if (pick < 60)
		slot_clear(w, sl);
	else if (pick < 75)
		slot_resize(w, sl);
	else if (sl->kind == KIND_STRING)
		slot_append(w, sl);
	else
		slot_clear(w, sl);
	w->steps++; /* also keeps the calls above from becoming tail calls */
}

/* Layer 5: the thread's main loop. */
static NOINLINE void worker_run(struct worker *w)
{
	for (unsigned long i = 0; i < w->ops; i++) {
		step(w);
		if ((i & (DRAIN_EVERY - 1)) == DRAIN_EVERY - 1)
			mailbox_drain(w->inbox);
	}
	for (unsigned i = 0; i < SLOTS; i++) {
		if (w->slots[i].p)
			slot_clear(w, &w->slots[i]);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	worker_run(w);
	return NULL;
}

static int parse_ulong(const char *what, const char *s, unsigned long min,
		       unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
		fprintf(stderr, "malloc_heavy: %s must be an integer in %lu..%lu, got '%s'\n",
			what, min, max, s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long nthreads = 4, ops = 4000000, seed = 1;
	struct worker *ws;
	struct mailbox *mbs;
	uint64_t checksum = 0xcbf29ce484222325ULL;
	unsigned long total[OP_NR] = { 0 };
	unsigned long corrupt = 0;

	if (argc > 4 || (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))) {
		fprintf(stderr, "usage: malloc_heavy [THREADS [OPS [SEED]]]\n");
		return 2;
	}
	if ((argc > 1 && parse_ulong("THREADS", argv[1], 1, 256, &nthreads)) ||
	    (argc > 2 && parse_ulong("OPS", argv[2], 1, 1000000000000UL, &ops)) ||
	    (argc > 3 && parse_ulong("SEED", argv[3], 0, ~0UL, &seed)))
		return 2;

	ws = aligned_alloc(64, nthreads * sizeof(*ws));
	if (!ws)
		die_oom("aligned_alloc", nthreads * sizeof(*ws));
	mbs = calloc(nthreads, sizeof(*mbs));
	if (!mbs)
		die_oom("calloc", nthreads * sizeof(*mbs));
	memset(ws, 0, nthreads * sizeof(*ws));
	for (unsigned long i = 0; i < nthreads; i++) {
		pthread_mutex_init(&mbs[i].lock, NULL);
		ws[i].id = (unsigned)i;
		ws[i].ops = ops;
		ws[i].rng.s = seed * 0x2545f4914f6cdd1dULL + i;
		ws[i].checksum = 0xcbf29ce484222325ULL;
		ws[i].slots = calloc(SLOTS, sizeof(struct slot));
		if (!ws[i].slots)
			die_oom("calloc", SLOTS * sizeof(struct slot));
		ws[i].inbox = &mbs[i];
		ws[i].next = &mbs[(i + 1) % nthreads];
	}
	for (unsigned long i = 0; i < nthreads; i++) {
		int err = pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]);
		if (err) {
			fprintf(stderr, "malloc_heavy: pthread_create: %s\n", strerror(err));
			return 1;
		}
	}
	for (unsigned long i = 0; i < nthreads; i++)
		pthread_join(ws[i].tid, NULL);

	for (unsigned long i = 0; i < nthreads; i++) {
		mailbox_drain(&mbs[i]);
		pthread_mutex_destroy(&mbs[i].lock);
		checksum = mix(checksum, ws[i].checksum);
		for (int k = 0; k < OP_NR; k++)
			total[k] += ws[i].count[k];
		corrupt += ws[i].corrupt;
		free(ws[i].slots);
	}
	free(ws);
	free(mbs);

	printf("malloc_heavy: threads=%lu ops=%lu seed=%lu checksum=%016" PRIx64 "\n",
	       nthreads, ops, seed, checksum);
	for (int k = 0; k < OP_NR; k++)
		printf("  %-8s %lu\n", op_names[k], total[k]);
	if (corrupt) {
		fprintf(stderr, "malloc_heavy: %lu reallocs lost block contents\n", corrupt);
		return 1;
	}
	return 0;
}
