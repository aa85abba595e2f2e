/*
 * The timeline's rings, drained (timeline.h).
 */
#include "timeline.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"

#define TL_MAGIC 0x4c545250u /* "PRTL" */
#define TL_FORMAT 1u
#define EVENT_BYTES (4 + 4 + 8 + 8 + 8 + 2)

static int push(struct timeline *tl, const struct tl_event *e, const char *meta)
{
	if (tl->n >= TIMELINE_MAX_EVENTS) {
		tl->left_out++;
		return 0;
	}
	if (tl->n == tl->cap) {
		size_t ncap = tl->cap ? tl->cap * 2 : 1024;
		struct tl_event *nv = realloc(tl->ev, ncap * sizeof(*nv));

		if (!nv) {
			tl->left_out++;
			return -ENOMEM;
		}
		tl->ev = nv;
		tl->cap = ncap;
	}
	tl->ev[tl->n] = *e;
	tl->ev[tl->n].meta = 0;
	if (e->meta_len) {
		if (tl->ntext + e->meta_len > tl->text_cap) {
			size_t ncap = tl->text_cap ? tl->text_cap * 2 : 4096;
			char *nt;

			while (ncap < tl->ntext + e->meta_len)
				ncap *= 2;
			nt = realloc(tl->text, ncap);
			if (!nt) {
				tl->left_out++;
				return -ENOMEM;
			}
			tl->text = nt;
			tl->text_cap = ncap;
		}
		memcpy(tl->text + tl->ntext, meta, e->meta_len);
		tl->ev[tl->n].meta = (uint32_t)tl->ntext;
		tl->ntext += e->meta_len;
	}
	tl->n++;
	return 0;
}

/* Bytes [pos, pos + n) of a ring's data, wrapping, into dst. */
static void ring_read(const char *data, uint32_t cap, uint64_t pos, void *dst, size_t n)
{
	for (size_t k = 0; k < n; k++)
		((char *)dst)[k] = data[(pos + k) & (cap - 1)];
}

static size_t drain_ring(struct timeline *tl, const struct session *s, uint32_t slot, struct sf_ring *r)
{
	uint32_t cap = __atomic_load_n(&r->cap, __ATOMIC_RELAXED);
	uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE), tail = r->tail, pos;
	const char *data;
	size_t taken = 0;

	if (cap < 4096 || cap > (1u << 24) || (cap & (cap - 1)) || !session_at(s, (sf_off)((char *)r - (char *)s->base),
									   sizeof(*r) + cap))
		return 0;
	data = (const char *)(r + 1);
	if (head - tail > cap || head < tail) {
		tl->bad_rings++;
		__atomic_store_n(&r->tail, head, __ATOMIC_RELEASE);
		return 0;
	}
	for (pos = tail; head - pos >= sizeof(struct sf_tevent);) {
		struct sf_tevent ev;
		struct tl_event e;
		char meta[SF_META_LEN];

		ring_read(data, cap, pos, &ev, sizeof(ev));
		if (ev.size < sizeof(ev) || (ev.size & 7) || ev.size > head - pos ||
		    ev.meta_len > ev.size - sizeof(ev) || ev.meta_len >= SF_META_LEN) {
			tl->bad_rings++;
			pos = head;
			break;
		}
		ring_read(data, cap, pos + sizeof(ev), meta, ev.meta_len);
		e = (struct tl_event){.slot = slot, .tid = ev.tid, .start = ev.start, .ticks = ev.ticks,
				      .func = ev.func, .meta_len = ev.meta_len};
		push(tl, &e, meta);
		pos += ev.size;
		taken++;
	}
	/* Release: the producer may reuse the bytes from here. */
	__atomic_store_n(&r->tail, pos, __ATOMIC_RELEASE);
	return taken;
}

size_t timeline_drain(struct timeline *tl, const struct session *s)
{
	size_t taken = 0;

	session_read_begin(s);
	for (uint32_t i = 0; i < session_nprocs(s); i++) {
		const struct sf_process *p = session_process(s, i);
		sf_off head;
		uint64_t n;

		if (__atomic_load_n(&p->state, __ATOMIC_ACQUIRE) < SF_PROC_RUNNING || !p->func)
			continue;
		head = __atomic_load_n(&p->threads, __ATOMIC_ACQUIRE);
		n = session_list_len(s, p, SP_THREADS, head, sizeof(struct sf_thread), offsetof(struct sf_thread, next));
		for (const struct sf_thread *t = session_at(s, head, sizeof(*t)); t && n;
		     t = session_at(s, __atomic_load_n(&t->next, __ATOMIC_ACQUIRE), sizeof(*t)), n--) {
			const struct sf_fthread *th =
				session_at(s, __atomic_load_n(&t->func, __ATOMIC_ACQUIRE), sizeof(*th));
			struct sf_ring *r;

			if (!th)
				continue;
			r = (struct sf_ring *)session_at(s, __atomic_load_n(&th->ring, __ATOMIC_ACQUIRE), sizeof(*r));
			if (r)
				taken += drain_ring(tl, s, i, r);
		}
	}
	return taken;
}

int timeline_save(const struct timeline *tl, size_t from, unsigned char **out, size_t *len)
{
	struct wbuf w = {0};

	if (from > tl->n)
		from = tl->n;
	wbuf_u32(&w, TL_MAGIC);
	wbuf_u32(&w, TL_FORMAT);
	wbuf_u64(&w, tl->left_out);
	wbuf_u64(&w, tl->bad_rings);
	wbuf_u32(&w, (uint32_t)(tl->n - from));
	for (size_t i = from; i < tl->n; i++) {
		const struct tl_event *e = &tl->ev[i];

		wbuf_u32(&w, e->slot);
		wbuf_u32(&w, (uint32_t)e->tid);
		wbuf_u64(&w, e->start);
		wbuf_u64(&w, e->ticks);
		wbuf_u64(&w, e->func);
		wbuf_u8(&w, (uint8_t)e->meta_len);
		wbuf_u8(&w, (uint8_t)(e->meta_len >> 8));
		wbuf_put(&w, tl->text + e->meta, e->meta_len);
	}
	if (w.err) {
		wbuf_free(&w);
		return -ENOMEM;
	}
	*out = w.p;
	*len = w.n;
	return 0;
}

int timeline_parse(struct timeline *tl, const void *data, size_t len)
{
	memset(tl, 0, sizeof(*tl));
	return timeline_append(tl, data, len);
}

int timeline_append(struct timeline *tl, const void *data, size_t len)
{
	struct rbuf r = {.p = data, .n = len};
	uint32_t n;

	if (rbuf_u32(&r) != TL_MAGIC || rbuf_u32(&r) != TL_FORMAT) {
		timeline_free(tl);
		return -EPROTO;
	}
	/* Counts so far, as of this part. */
	tl->left_out = rbuf_u64(&r);
	tl->bad_rings = rbuf_u64(&r);
	n = rbuf_u32(&r);
	if (r.err || n > TIMELINE_MAX_EVENTS || n > (r.n - r.off) / EVENT_BYTES) {
		timeline_free(tl);
		return -EPROTO;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct tl_event e = {0};
		const unsigned char *meta;

		e.slot = rbuf_u32(&r);
		e.tid = (int32_t)rbuf_u32(&r);
		e.start = rbuf_u64(&r);
		e.ticks = rbuf_u64(&r);
		e.func = rbuf_u64(&r);
		e.meta_len = rbuf_u8(&r);
		e.meta_len |= (uint32_t)rbuf_u8(&r) << 8;
		if (e.meta_len >= SF_META_LEN || e.slot >= (1u << 24)) {
			timeline_free(tl);
			return -EPROTO;
		}
		meta = rbuf_take(&r, e.meta_len);
		if (r.err) {
			timeline_free(tl);
			return -EPROTO;
		}
		if (push(tl, &e, (const char *)meta)) {
			timeline_free(tl);
			return -ENOMEM;
		}
	}
	if (r.off != r.n) {
		timeline_free(tl);
		return -EPROTO;
	}
	return 0;
}

int timeline_copy_from(struct timeline *dst, const struct timeline *src, size_t from)
{
	unsigned char *b;
	size_t n;
	int rc = timeline_save(src, from, &b, &n);

	if (rc)
		return rc;
	rc = timeline_parse(dst, b, n);
	free(b);
	return rc;
}

void timeline_free(struct timeline *tl)
{
	free(tl->ev);
	free(tl->text);
	memset(tl, 0, sizeof(*tl));
}
