#include "trace.h"

#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "image.h"

#define SLAB_MIN 4096u
#define SLAB_MAX 65536u

NI uint64_t trace_hash(const uint64_t *ips, unsigned n)
{
	/* Two independent lanes: the multiply chain's latency, not its work,
	 * is what a 16-frame stack waits for. */
	uint64_t a = 0x9e3779b97f4a7c15ull ^ n, b = 0xc2b2ae3d27d4eb4full;
	unsigned i = 0;

	for (; i + 1 < n; i += 2) {
		a = (a ^ ips[i]) * 0xff51afd7ed558ccdull;
		b = (b ^ ips[i + 1]) * 0xc4ceb9fe1a85ec53ull;
		a ^= a >> 29;
		b ^= b >> 31;
	}
	if (i < n)
		a = (a ^ ips[i]) * 0xff51afd7ed558ccdull;
	a ^= b * 0x9e3779b97f4a7c15ull;
	a ^= a >> 32;
	a *= 0xd6e8feb86659fd93ull;
	a ^= a >> 32;
	return a | 1; /* never 0 */
}

#ifdef PR_UNIT_TEST
/* Unit tests set the "stack" the next captures return. */
uint64_t trace_test_ips[SF_DEPTH_LIMIT];
unsigned trace_test_depth;

unsigned trace_capture(uint64_t *ips, unsigned max)
{
	unsigned n = trace_test_depth < max ? trace_test_depth : max;

	memcpy(ips, trace_test_ips, n * sizeof(uint64_t));
	return n;
}
#endif

#ifndef PR_UNIT_TEST
/*
 * Walk memos are the agent's own scratch, in private memory: nobody but
 * their thread reads them, and in the image every profile and snapshot
 * copied and compressed 33 KiB a thread for nothing (half the image of a
 * build's short processes). Carved lock-free from chunks mapped as
 * needed (MAP_NORESERVE: a page is made only as walks use it); a thread
 * record keeps its memo for the next thread that takes the record.
 * Beyond MEMO_CHUNKS * MEMO_PER_CHUNK records a thread walks without one:
 * slower, as exact.
 */
#define MEMO_PER_CHUNK 16u
#define MEMO_CHUNKS 64u

static struct {
	char *chunk[MEMO_CHUNKS]; /* atomic */
	uint32_t next;            /* atomic: memos handed out */
} memos;

NI static struct cfi_memo *memo_new(void)
{
	uint32_t i = __atomic_fetch_add(&memos.next, 1, __ATOMIC_RELAXED), c = i / MEMO_PER_CHUNK;
	size_t len = MEMO_PER_CHUNK * sizeof(struct cfi_memo);
	char *base;

	if (c >= MEMO_CHUNKS)
		return NULL;
	base = __atomic_load_n(&memos.chunk[c], __ATOMIC_ACQUIRE);
	if (!base) {
		/* The system call, not the mmap shim: this is no mapping of
		 * the program's (and recording one would walk a stack here). */
		char *mine = (char *)syscall(SYS_mmap, NULL, len, PROT_READ | PROT_WRITE,
					     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		char *none = NULL;

		if (mine == MAP_FAILED)
			return NULL;
		if (__atomic_compare_exchange_n(&memos.chunk[c], &none, mine, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			base = mine;
		} else {
			syscall(SYS_munmap, mine, len);
			base = none;
		}
	}
	return (struct cfi_memo *)(void *)(base + (size_t)(i % MEMO_PER_CHUNK) * sizeof(struct cfi_memo));
}

unsigned trace_memo_spans(uintptr_t (*span)[2], unsigned max)
{
	unsigned n = 0;

	for (unsigned c = 0; c < MEMO_CHUNKS && n < max; c++) {
		char *base = __atomic_load_n(&memos.chunk[c], __ATOMIC_ACQUIRE);

		if (base) {
			span[n][0] = (uintptr_t)base;
			span[n][1] = (uintptr_t)base + MEMO_PER_CHUNK * sizeof(struct cfi_memo);
			n++;
		}
	}
	return n;
}

NI struct cfi_memo *trace_memo_slow(void)
{
	struct sf_thread *r = ts.rec;
	struct cfi_memo *m;

	/* Only a record of this thread's own (not the shared stand-in used
	 * when the image is full): a memo is one thread's. */
	if (!r || !image_contains(r))
		return NULL;
	/* A record is this process's own (a fork child makes new ones), so
	 * the address it keeps is one of this process's memos. */
	m = (struct cfi_memo *)(uintptr_t)r->walk_memo;
	if (m) {
		/* It holds its last owner's walks. */
		cfi_memo_reset(m);
	} else {
		m = memo_new();
		if (!m)
			return NULL;
		/* Fresh, it is zeroed: an empty memo. Left untouched, its
		 * pages are made only as walks use them. */
		cfi_memo_fresh(m);
		r->walk_memo = (uint64_t)(uintptr_t)m;
	}
	ts.memo = m;
	return m;
}

#else
unsigned trace_memo_spans(uintptr_t (*span)[2], unsigned max)
{
	(void)span, (void)max;
	return 0;
}
#endif

#ifndef PR_UNIT_TEST
NI int trace_unwind_other(uint64_t *ips, unsigned max)
{
	uint64_t mine[max + TRACE_SLACK];
	struct cfi_memo *m;
	unsigned a, b;
	int n;

	ts.rec->unwind_slow++;
	/* The reference walk of a check steps: exact through every frame
	 * libunwind knows, its caches flushed at each dlclose. */
	n = trace_unwind_libunwind(ips, max, agent.set.unwind == SET_UNWIND_CHECK);
	if (agent.set.unwind != SET_UNWIND_CHECK || n <= 0)
		return n;
	m = trace_memo();
	if (m)
		m->want_id = 1; /* the memo's trace ids are checked too */
	b = cfi_backtrace(mine, max + TRACE_SLACK, ts.stack_lo, ts.stack_hi, m);
	if (m)
		m->want_id = 0;
	if (!b)
		return n; /* a stack ours leaves to libunwind */
	/* Compared as they would be recorded: our frames out, at most max. */
	{
		uint64_t theirs[max + TRACE_SLACK];

		memcpy(theirs, ips, (size_t)n * sizeof(uint64_t));
		a = trace_drop_agent_frames(theirs, (unsigned)n, max);
		ts.rec->unwind_checked++;
		if (m && m->hit) {
			/* No frames of ours: the id the memo says against the
			 * id of libunwind's frames. */
			if (!a || trace_intern(&ts, theirs, a) != m->hit)
				ts.rec->unwind_differ++;
			else if (ts.rec->walks_repeated != UINT32_MAX)
				ts.rec->walks_repeated++;
			return n;
		}
		b = trace_drop_agent_frames(mine, b, max);
		if (a != b || memcmp(theirs, mine, a * sizeof(uint64_t)))
			ts.rec->unwind_differ++;
		else if (m && m->done && a)
			m->done->trace = trace_intern(&ts, mine, a);
	}
	return n;
}
#endif

/* Carve a trace record out of the thread's slab; 0 when the image is full. */
NI static sf_off trace_store(struct tstate *t, uint64_t h, const uint64_t *ips, unsigned n)
{
	size_t len = sizeof(struct sf_trace) + n * sizeof(uint64_t);
	struct sf_trace *tr;

	if (t->slab_left < len) {
		size_t want = t->slab_next ? t->slab_next : SLAB_MIN;
		sf_off off;

		if (want < len)
			want = len;
		off = image_alloc(want);
		if (!off)
			return 0;
		t->slab = image_ptr(off);
		t->slab_left = want;
		t->slab_next = want * 2 > SLAB_MAX ? SLAB_MAX : want * 2;
	}
	tr = (struct sf_trace *)t->slab;
	tr->hash = (uint32_t)h;
	tr->hash64 = h;
	tr->depth = (uint16_t)n;
	tr->flags = 0;
	memcpy(tr->ips, ips, n * sizeof(uint64_t));
	t->slab += (len + 7) & ~(size_t)7;
	t->slab_left -= len < t->slab_left ? (len + 7) & ~(size_t)7 : t->slab_left;
	return image_off(tr);
}

/* Stacks are identified by depth and 64-bit hash: comparing every frame
 * cost as much as the lookup itself (sqlite3: 4% of the run), and two
 * distinct stacks of the same depth collide with probability 2^-64 (for a
 * million distinct stacks, all pairs together: ~3e-8). */
NI static int trace_equal(const struct sf_trace *tr, uint64_t h, unsigned n)
{
	return tr->hash64 == h && tr->depth == n;
}

/*
 * A trace's slots: first TRACE_HOME_PROBES of its process's home run of
 * TRACE_HOME slots (one 2 KiB stretch of the table, picked by pid), then
 * the whole table from a place its hash picks. Every lookup and insert of
 * a trace follows the same sequence and slots are never emptied, so a
 * trace is found before any empty slot of its sequence. A short process's
 * few hundred traces then write one page of the table, not one page
 * each (the table is 1/256 of the image: ls under a 1 GiB session wrote
 * 33 pages of it, a shared-memory page fault each). A fork child keeps
 * its parent's home, as it keeps its code at the same addresses: a stack
 * both walk is one trace, one site for a view that sums the processes
 * (e2e_live); an exec'd image starts a home of its own.
 */
#define TRACE_HOME 512u
#define TRACE_HOME_PROBES 8u

static inline uint32_t trace_slot(uint32_t home, uint64_t h, uint32_t mask, uint32_t probe)
{
	if (probe < TRACE_HOME_PROBES)
		return (home + (((uint32_t)h + probe) & (TRACE_HOME - 1))) & mask;
	return ((uint32_t)(h >> 32) + probe - TRACE_HOME_PROBES) & mask;
}

NI uint32_t trace_intern(struct tstate *t, const uint64_t *ips, unsigned n)
{
	struct sf_header *hdr = image_hdr;
	uint32_t *slots = image_ptr(hdr->trace_slots);
	uint32_t mask = hdr->trace_cap - 1;
	uint64_t h = trace_hash(ips, n);
	__typeof__(&t->tcache[0]) c = &t->tcache[(h >> 40) & (TS_TCACHE - 1)];
	/* A run of the table (of 2^14 slots at least, cli/session.c; a
	 * smaller one wraps, as exact). */
	uint32_t home = (((uint32_t)(agent.trace_pid ? agent.trace_pid : agent.pid) * 0x9e3779b1u) >> 7) & mask &
			~(TRACE_HOME - 1);
	sf_off mine = 0;

	/* The shared table is large and sparse: a lookup there is a cache
	 * miss, and comparing every frame costs as much again. Hot stacks
	 * repeat, so each thread remembers recent ones by their 64-bit hash:
	 * two different stacks share one with probability ~2^-64 per pair. */
	if (c->hash64 == h && c->depth == n)
		return c->id;

	for (uint32_t probes = 0; probes <= mask + TRACE_HOME_PROBES; probes++) {
		uint32_t i = trace_slot(home, h, mask, probes);
		/* Acquire pairs with the release CAS below: a visible id means a
		 * fully written record. */
		uint32_t id = __atomic_load_n(&slots[i], __ATOMIC_ACQUIRE);

		if (!id) {
			if (__atomic_load_n(&hdr->trace_count, __ATOMIC_RELAXED) >= hdr->trace_cap / 4 * 3)
				break;
			if (!mine && !(mine = trace_store(t, h, ips, n)))
				break;
			if (__atomic_compare_exchange_n(&slots[i], &id, (uint32_t)(mine >> 3), 0, __ATOMIC_RELEASE,
							__ATOMIC_ACQUIRE)) {
				__atomic_fetch_add(&hdr->trace_count, 1, __ATOMIC_RELAXED);
				c->hash64 = h;
				c->depth = n;
				c->id = (uint32_t)(mine >> 3);
				return c->id;
			}
			/* Lost the race: id now holds the winner; compare it. */
		}
		/* Another process's record may lie beyond our mapping. */
		const struct sf_trace *tr = image_reach((sf_off)id << 3, sizeof(struct sf_trace));

		if (tr && trace_equal(tr, h, n)) {
			c->hash64 = h;
			c->depth = n;
			c->id = id;
			return id;
		}
	}
	__atomic_fetch_add(&hdr->dropped_traces, 1, __ATOMIC_RELAXED);
	return 0;
}
