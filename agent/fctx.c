/*
 * Function timing across ucontext switches: see fctx.h for the model.
 *
 * Per thread, in private memory made at its first context call: the
 * thread's own stack as a segment, the chain of running segments, the
 * coroutines' segments (in chunks, so that pointers to them stay valid)
 * and an open-addressed table from ucontext_t address to resume point.
 * A segment's frames are in the image (struct sf_fstack), as the thread's
 * own are (sf_fthread.frames), so that the launcher can close them.
 */
#include "fctx.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "agent.h"
#include "func.h"
#include "image.h"

#define FSEG_CHAIN 64u /* running contexts nested at most; more: the oldest is suspended */
#define FSEG_CHUNK 128u
#define FCTX_MIN 64u /* table slots at first */

enum fctx_kind { FCTX_SAVED = 1, FCTX_GOT, FCTX_MADE };

struct fseg {
	struct sf_fstack *rec; /* NULL: the thread's own stack */
	uint32_t depth;	       /* the top frame's index while not current */
	uint32_t in_chain;
	uint32_t grafted;    /* frames[0].node set: it hangs from its first resumer */
	uint32_t depth_base; /* the tree depth of frames[0]: its first resumer's */
	uint64_t t_in;	/* ticks: last pushed on the chain */
	uint64_t t_out; /* ticks: last suspended; 0: never */
};

/* A ucontext_t the program used: where switching to it resumes. */
struct fctx_ent {
	uintptr_t uc;	  /* 0: free slot */
	struct fseg *seg; /* NULL: the thread's own stack */
	struct fseg *own; /* the coroutine made in it, reused when it is made again */
	uint64_t fn, start;
	uintptr_t sp; /* FCTX_GOT: the stack pointer getcontext saved */
	uint32_t depth;
	uint32_t kind; /* enum fctx_kind */
};

struct fseg_chunk {
	struct fseg_chunk *next;
	uint32_t used;
	struct fseg segs[FSEG_CHUNK];
};

struct fctx_state {
	struct fseg own;
	struct fseg *cur; /* == chain[nchain - 1] */
	struct fseg *chain[FSEG_CHAIN];
	uint32_t nchain;
	uint32_t cap, n;
	struct fctx_ent *tab;
	struct fseg_chunk *chunks;
};

NI static void *fctx_map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

NI static struct fctx_state *fctx_state(void)
{
	struct fctx_state *st = ft.ctx;

	if (st)
		return st;
	st = fctx_map(sizeof(*st));
	if (!st)
		return NULL;
	st->tab = fctx_map(FCTX_MIN * sizeof(*st->tab));
	if (!st->tab) {
		munmap(st, sizeof(*st));
		return NULL;
	}
	st->cap = FCTX_MIN;
	st->own.in_chain = 1;
	st->chain[0] = st->cur = &st->own;
	st->nchain = 1;
	ft.ctx = st;
	return st;
}

static struct fframe *fctx_frames(struct fseg *s, uint32_t *cap)
{
	if (!s->rec) {
		*cap = ft.th->frames_cap;
		return image_ptr(ft.th->frames);
	}
	*cap = s->rec->cap;
	return image_ptr(s->rec->frames);
}

/* --- the table ---------------------------------------------------------- */

static inline uint32_t fctx_hash(uintptr_t uc)
{
	return (uint32_t)(((uint64_t)uc * 0x9e3779b97f4a7c15ull) >> 32);
}

NI static struct fctx_ent *fctx_find(struct fctx_state *st, uintptr_t uc)
{
	for (uint32_t i = fctx_hash(uc) & (st->cap - 1);; i = (i + 1) & (st->cap - 1)) {
		if (st->tab[i].uc == uc)
			return &st->tab[i];
		if (!st->tab[i].uc)
			return NULL;
	}
}

/* The entry of uc, made (zeroed but for uc) if new; NULL: no memory. */
NI static struct fctx_ent *fctx_entry(struct fctx_state *st, uintptr_t uc)
{
	struct fctx_ent *e = fctx_find(st, uc);
	uint32_t i;

	if (e)
		return e;
	if ((st->n + 1) * 2 > st->cap) {
		uint32_t ncap = st->cap * 2;
		struct fctx_ent *nt = fctx_map(ncap * sizeof(*nt));

		if (!nt)
			return NULL;
		for (uint32_t k = 0; k < st->cap; k++) {
			if (!st->tab[k].uc)
				continue;
			for (i = fctx_hash(st->tab[k].uc) & (ncap - 1); nt[i].uc; i = (i + 1) & (ncap - 1))
				;
			nt[i] = st->tab[k];
		}
		munmap(st->tab, st->cap * sizeof(*st->tab));
		st->tab = nt;
		st->cap = ncap;
	}
	for (i = fctx_hash(uc) & (st->cap - 1); st->tab[i].uc; i = (i + 1) & (st->cap - 1))
		;
	st->n++;
	st->tab[i] = (struct fctx_ent){.uc = uc};
	return &st->tab[i];
}

/* --- segments ----------------------------------------------------------- */

/* The root frame's level for a coroutine on u's stack: its top, so that
 * the hooks' level check passes for calls on it. Unknown: every first
 * call goes to the slow path, which is right too. */
static uintptr_t fctx_stack_top(const ucontext_t *u)
{
	return u->uc_stack.ss_size ? (uintptr_t)u->uc_stack.ss_sp + u->uc_stack.ss_size : UINTPTR_MAX;
}

/* A new coroutine stack for the context u; NULL when memory is short. */
NI static struct fseg *fctx_seg_new(struct fctx_state *st, const ucontext_t *u)
{
	struct fseg_chunk *c = st->chunks;
	struct sf_fstack *rec;
	struct fseg *s;
	struct fframe *f;
	sf_off off;

	if (!c || c->used == FSEG_CHUNK) {
		c = fctx_map(sizeof(*c));
		if (!c)
			return NULL;
		c->next = st->chunks;
		st->chunks = c;
	}
	off = image_alloc(sizeof(*rec));
	if (!off)
		return NULL;
	rec = image_ptr(off);
	if (func_frames_alloc(&rec->frames, &rec->cap, 0))
		return NULL;
	s = &c->segs[c->used++];
	memset(s, 0, sizeof(*s));
	s->rec = rec;
	f = image_ptr(rec->frames);
	f[0].csp = fctx_stack_top(u);
	image_list_push(&ft.th->stacks, off, &rec->next);
	return s;
}

/* Close the calls left open in a suspended segment (a coroutine made
 * again before it finished) at its suspension. */
NI static void fctx_seg_reset(struct fctx_state *st, struct fseg *s, const ucontext_t *u)
{
	struct fframe *base = ft.base, *sp = ft.sp, *limit = ft.limit, *f;
	uint32_t cap;

	if (s->in_chain)
		return; /* making a running context again: undefined */
	f = fctx_frames(s, &cap);
	if (s->depth) {
		ft.base = f;
		ft.sp = f + s->depth;
		ft.limit = f + cap;
		while (ft.sp != ft.base)
			func_close(ft.sp, s->t_out);
		ft.base = base;
		ft.sp = sp;
		ft.limit = limit;
	}
	(void)st;
	s->depth = 0;
	s->grafted = 0;
	s->depth_base = 0;
	s->t_out = 0;
	s->rec->suspended = 0;
	f[0].csp = fctx_stack_top(u);
	f[0].adj = f[0].sub = f[0].allocs = f[0].bytes = 0;
}

static void fctx_load(struct fctx_state *st, struct fseg *s)
{
	uint32_t cap;
	struct fframe *f = fctx_frames(s, &cap);

	ft.base = f;
	ft.sp = f + s->depth;
	ft.limit = f + cap;
	ft.depth_base = s->depth_base;
	st->cur = s;
}

/* The top of the chain goes back to waiting; its time since it was
 * pushed is time its resumer's top frame spent inside swapcontext. */
NI static void fctx_pop(struct fctx_state *st, uint64_t now)
{
	struct fseg *s = st->chain[st->nchain - 1], *r = st->chain[st->nchain - 2];
	uint32_t cap;
	struct fframe *top = fctx_frames(r, &cap) + r->depth;
	uint64_t d = now > s->t_in ? now - s->t_in : 0;

	top->adj += d;
	top->sub += d;
	s->t_out = now ? now : 1;
	s->rec->suspended = s->t_out;
	s->in_chain = 0;
	st->nchain--;
}

NI static void fctx_push(struct fctx_state *st, struct fseg *s, uint64_t now)
{
	struct fseg *r;
	uint32_t cap;
	struct fframe *f;

	if (st->nchain == FSEG_CHAIN)
		fctx_pop(st, now);
	r = st->chain[st->nchain - 1];
	f = fctx_frames(s, &cap);
	/* Its calls' clocks stood still while it was suspended. */
	if (s->t_out && now > s->t_out)
		for (uint32_t i = 1; i <= s->depth; i++)
			f[i].start += now - s->t_out;
	if (!s->grafted) {
		uint32_t rcap;

		f[0].node = fctx_frames(r, &rcap)[r->depth].node;
		s->depth_base = r->depth_base + r->depth;
		s->grafted = 1;
	}
	s->rec->suspended = 0;
	s->t_in = now;
	s->in_chain = 1;
	st->chain[st->nchain++] = s;
}

NI void fctx_switch(struct fseg *s, uint64_t now)
{
	struct fctx_state *st = fctx_state();

	if (!st)
		return;
	if (!s)
		s = &st->own;
	if (ft.overflow)
		func_overflow_end();
	st->cur->depth = (uint32_t)(ft.sp - ft.base);
	if (s == st->cur)
		return;
	if (s->in_chain)
		while (st->chain[st->nchain - 1] != s)
			fctx_pop(st, now);
	else
		fctx_push(st, s, now);
	fctx_load(st, s);
}

/* Switch to e's context and close its calls above the saved depth, when
 * the frame there is still the one that saved it. */
NI static void fctx_goto(const struct fctx_ent *e, uint64_t now)
{
	struct fframe *to;

	fctx_switch(e->seg, now);
	to = ft.base + e->depth;
	if (to < ft.sp && (!e->depth || ((to->fn & ~SF_FN_HIDDEN) == e->fn && to->start == e->start)))
		while (ft.sp != to)
			func_close(ft.sp, now);
}

/* Where switching to the context u resumes (made by makecontext since it
 * was saved: a fresh coroutine stack). NULL: no memory. */
NI static struct fctx_ent *fctx_target(struct fctx_state *st, const ucontext_t *u)
{
	struct fctx_ent *e = fctx_entry(st, (uintptr_t)u);

	if (!e)
		return NULL;
	if (e->kind == FCTX_GOT && (uintptr_t)u->uc_mcontext.gregs[REG_RSP] == e->sp)
		return e;
	if (e->kind == FCTX_SAVED || e->kind == FCTX_MADE)
		return e;
	/* New to us, or getcontext'd and then made: a coroutine. */
	if (e->own)
		fctx_seg_reset(st, e->own, u);
	else
		e->own = fctx_seg_new(st, u);
	if (!e->own)
		return NULL;
	e->seg = e->own;
	e->depth = 0;
	e->kind = FCTX_MADE;
	return e;
}

/* Mark the current position as where uc resumes. */
NI static void fctx_mark(struct fctx_state *st, const void *uc, enum fctx_kind kind, uintptr_t sp)
{
	struct fctx_ent *e = fctx_entry(st, (uintptr_t)uc);

	if (!e)
		return;
	e->seg = st->cur == &st->own ? NULL : st->cur;
	e->depth = (uint32_t)(ft.sp - ft.base);
	e->fn = ft.sp->fn & ~SF_FN_HIDDEN;
	e->start = ft.sp->start;
	e->sp = sp;
	e->kind = kind;
}

/* --- entry points (thread marked busy around each) ----------------------- */

static int fctx_begin(void)
{
	if (ts.state != TS_READY || !ft.limit)
		return 0;
	ts.state = TS_BUSY;
	func_barrier();
	return 1;
}

static void fctx_done(void)
{
	func_barrier();
	ts.state = TS_READY;
}

NI void fctx_get(void *uc, uintptr_t sp)
{
	int saved = errno;
	struct fctx_state *st;

	if (!fctx_begin())
		return;
	if ((st = fctx_state()))
		fctx_mark(st, uc, FCTX_GOT, sp);
	fctx_done();
	errno = saved;
}

NI void fctx_swap(void *save, const void *to)
{
	int saved = errno;
	struct fctx_state *st;
	struct fctx_ent *e;

	if (!fctx_begin())
		return;
	if ((st = fctx_state())) {
		fctx_mark(st, save, FCTX_SAVED, 0);
		if ((e = fctx_target(st, to)))
			fctx_goto(e, func_clock());
	}
	fctx_done();
	errno = saved;
}

NI void fctx_resumed(const void *save)
{
	int saved = errno;
	struct fctx_state *st = ft.ctx;
	struct fctx_ent *e;

	/* Resumed through our own switch: already current. Through a
	 * uc_link (libc's own setcontext when a coroutine returns): not. */
	if (!st || !(e = fctx_find(st, (uintptr_t)save)) || (e->seg ? e->seg : &st->own) == st->cur ||
	    !fctx_begin())
		return;
	fctx_goto(e, func_clock());
	fctx_done();
	errno = saved;
}

NI void fctx_set(const void *to)
{
	int saved = errno;
	struct fctx_state *st;
	struct fctx_ent *e;

	if (!fctx_begin())
		return;
	if ((st = fctx_state()) && (e = fctx_target(st, to)))
		fctx_goto(e, func_clock());
	fctx_done();
	errno = saved;
}

/* --- for func.c --------------------------------------------------------- */

NI struct fseg *fctx_current(void)
{
	struct fctx_state *st = ft.ctx;

	return st && st->cur != &st->own ? st->cur : NULL;
}

NI struct sf_fstack *fctx_current_record(void)
{
	struct fseg *s = fctx_current();

	return s ? s->rec : NULL;
}

NI void fctx_end(uint64_t now)
{
	struct fctx_state *st = ft.ctx;

	if (!st)
		return;
	st->cur->depth = (uint32_t)(ft.sp - ft.base);
	while (st->nchain > 1)
		fctx_pop(st, now);
	fctx_load(st, &st->own);
}

NI void fctx_forget(void)
{
	ft.ctx = NULL;
	ft.depth_base = 0;
}
