/*
 * What a program asks through <ptrace-run.h> (include/ptrace-run.h,
 * docs/api.md): regions timed as functions, pause and resume, snapshots.
 *
 * The header calls these through weak references, so a program built
 * with it links nothing of ours and runs unchanged without ptrace-run.
 * Each entry point is safe from any thread; none allocates from the
 * program's heap, locks or blocks. Region names are interned once in the
 * process's table in the image (a CAS per new name), then found by hash;
 * a region is a function whose address is SF_REGION_FN(id) on the shadow
 * stack of agent/func.h, so it gets everything a function gets.
 */
#include <stdint.h>
#include <string.h>

#define PTRACE_RUN_AGENT 1
#include "../include/ptrace-run.h"

#include "agent.h"
#include "func.h"
#include "image.h"
#include "session_format.h"

#define EXPORT __attribute__((visibility("default"), no_instrument_function))

/* The version of the calls below, for the header's check. */
__attribute__((visibility("default"))) const int __ptrace_run_api_version = PTRACE_RUN_API_VERSION;

static uint64_t name_hash(const char *s, uint32_t *len)
{
	uint64_t h = 1469598103934665603ull;
	uint32_t n = 0;

	for (; s[n] && n < SF_REGION_NAME - 1; n++)
		h = (h ^ (unsigned char)s[n]) * 1099511628211ull;
	*len = n;
	return h ^ (h >> 29);
}

/* The process's API record, made at the first call. NULL: no image. */
NI static struct sf_api *api_rec(void)
{
	struct sf_process *p = agent.proc;
	sf_off off;

	if (!p || !image_base)
		return NULL;
	off = __atomic_load_n(&p->api, __ATOMIC_ACQUIRE);
	if (!off) {
		sf_off mine = image_alloc(sizeof(struct sf_api)), want = 0;

		if (!mine)
			return NULL;
		/* A lost race leaves one record unused: harmless. */
		off = __atomic_compare_exchange_n(&p->api, &want, mine, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) ? mine
														: want;
	}
	return image_ptr(off);
}

/* The region table of the process (fg.proc), made at the first region. */
NI static struct sf_regions *regions(void)
{
	struct sf_fproc *fp = fg.proc;
	sf_off off, want = 0, mine;

	if (!fp)
		return NULL;
	off = __atomic_load_n(&fp->regions, __ATOMIC_ACQUIRE);
	if (off)
		return image_ptr(off);
	mine = image_alloc(sizeof(struct sf_regions));
	if (!mine)
		return NULL;
	((struct sf_regions *)image_ptr(mine))->cap = SF_REGION_CAP;
	off = __atomic_compare_exchange_n(&fp->regions, &want, mine, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) ? mine
													   : want;
	return image_ptr(off);
}

/* The id of region name (1 on), interned on first use; 0 when the table
 * is full or the image is. */
NI static uint32_t region_id(const char *name)
{
	struct sf_regions *t = regions();
	uint32_t len, i;
	uint64_t h;

	if (!t)
		return 0;
	h = name_hash(name, &len);
	for (uint32_t probe = 0; probe < SF_REGION_CAP; probe++) {
		sf_off off, mine, want = 0;
		struct sf_region *r;

		i = (uint32_t)(h + probe) & (SF_REGION_CAP - 1);
		off = __atomic_load_n(&t->slots[i], __ATOMIC_ACQUIRE);
		if (off) {
			r = image_ptr(off);
			if (r->hash == h && r->len == len && !memcmp(r->name, name, len))
				return i + 1;
			continue;
		}
		mine = image_alloc(sizeof(*r));
		if (!mine)
			return 0;
		r = image_ptr(mine);
		r->hash = h;
		r->len = len;
		memcpy(r->name, name, len);
		r->name[len] = 0;
		if (__atomic_compare_exchange_n(&t->slots[i], &want, mine, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			__atomic_fetch_add(&t->count, 1, __ATOMIC_RELAXED);
			return i + 1;
		}
		/* Another thread took the slot: is it this name? */
		r = image_ptr(want);
		if (r->hash == h && r->len == len && !memcmp(r->name, name, len))
			return i + 1;
	}
	__atomic_fetch_add(&t->full, 1, __ATOMIC_RELAXED);
	return 0;
}

/* Function timing set up for this thread (the first region of a program
 * that is not instrumented sets it up), and the agent recording. */
static int ready(void)
{
	if (ts.state == TS_UNINIT)
		agent_thread_init();
	return ts.state == TS_READY;
}

EXPORT void __ptrace_run_region_begin(const char *name, const char *meta)
{
	uintptr_t csp = (uintptr_t)__builtin_frame_address(0);
	uint32_t id;

	struct fframe *top;

	if (!name || !ready() || func_ensure(csp) || !fg.proc)
		return;
	/* 0: no room for the name. Still pushed, so that its end pairs
	 * with it (the report counts id 0 nowhere). */
	id = region_id(name);
	/* Level with the frame on top: a region opened in a callee outlives
	 * the callee's return in a program that is not instrumented (no
	 * hooks say it returned), so the stack pointer must not judge it. */
	if (ft.limit && ft.sp != ft.base)
		csp = ft.sp->csp;
	top = ft.sp;
	func_enter(SF_REGION_FN(id), csp);
	/* Only on a frame this call pushed. */
	if (meta && id && ft.sp != top && sf_is_region(ft.sp->fn))
		func_meta_set(ft.sp, meta);
}

EXPORT void __ptrace_run_region_end(void)
{
	uintptr_t csp = (uintptr_t)__builtin_frame_address(0);
	struct fframe *f;

	if (ts.state != TS_READY || !ft.limit)
		return;
	/* The innermost open region; functions above it died with it. */
	for (f = ft.sp; f != ft.base && !sf_is_region(f->fn); f--)
		;
	if (f == ft.base) {
		if (ft.th)
			ft.th->unmatched_region_ends++;
		return;
	}
	func_exit_meta(f->fn, csp);
}

/* Allocations go uncounted while agent.tracking is 2 (their blocks keep
 * an uncounted header; frees of counted blocks still count), calls and
 * CPU samples while the function key has its pause bit. */
static void pause_process(int on)
{
	int want = on ? 1 : 2;

	__atomic_compare_exchange_n(&agent.tracking, &want, on ? 2 : 1, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	func_pause_process(on);
}

EXPORT void __ptrace_run_pause(int thread_only)
{
	struct sf_api *a;

	if (!ready())
		return;
	/* Made here, so that the sampler's handler finds it. */
	a = api_rec();
	if (a)
		__atomic_fetch_add(&a->pauses, 1, __ATOMIC_RELAXED);
	if (thread_only) {
		func_pause_thread(1);
		ts.paused = 1;
		return;
	}
	if (a)
		__atomic_store_n(&a->paused, 1, __ATOMIC_RELAXED);
	pause_process(1);
}

EXPORT void __ptrace_run_resume(int thread_only)
{
	struct sf_api *a;

	if (ts.state != TS_READY)
		return;
	if (thread_only) {
		ts.paused = 0;
		func_pause_thread(0);
		return;
	}
	pause_process(0);
	a = api_rec();
	if (a)
		__atomic_store_n(&a->paused, 0, __ATOMIC_RELAXED);
}

EXPORT void __ptrace_run_snapshot(const char *label)
{
	struct sf_api *a;
	uint32_t k;
	size_t n;

	/* From a signal handler too: no thread set-up, only the record. */
	if (!agent.proc || !(a = api_rec()))
		return;
	/* The label goes in before the count says it is there. Two threads
	 * asking at once may each see the other's label: a label, not a key. */
	k = __atomic_load_n(&a->snapshots, __ATOMIC_RELAXED);
	n = label ? strnlen(label, SF_API_LABEL_LEN - 1) : 0;
	memcpy(a->labels[k % SF_API_LABELS], label ? label : "", n);
	a->labels[k % SF_API_LABELS][n] = 0;
	__atomic_fetch_add(&a->snapshots, 1, __ATOMIC_RELEASE);
}

EXPORT void __ptrace_run_reset(void)
{
	struct sf_api *a;
	uint64_t used, holes = 0, at = 0, out = 0;
	uint32_t nh;
	sf_off off;
	char *dst;

	uint32_t idle = 0;

	if (!ready() || !(a = api_rec()))
		return;
	/* One reset at a time; a second thread's meanwhile is refused. */
	if (!__atomic_compare_exchange_n(&a->resetting, &idle, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		__atomic_fetch_add(&a->refused_resets, 1, __ATOMIC_RELAXED);
		return;
	}
	nh = a->nholes;
	/* The baseline: the image as it is now, copied into the image, less
	 * the earlier baselines (else each reset would copy them all). */
	used = __atomic_load_n(&image_hdr->bump, __ATOMIC_ACQUIRE);
	if (used > image_mapped)
		used = image_mapped;
	for (uint32_t k = 0; k < nh; k++)
		holes += a->hole_len[k];
	off = nh < SF_API_HOLES && used > holes ? image_alloc(used - holes) : 0;
	dst = off ? image_reach(off, used - holes) : NULL;
	if (!dst) {
		__atomic_fetch_add(&a->refused_resets, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&a->resetting, 0, __ATOMIC_RELEASE);
		return;
	}
	/* Readers (the launcher's snapshots) see no baseline meanwhile. */
	__atomic_store_n(&a->baseline, 0, __ATOMIC_RELEASE);
	/* New blocks from here carry the other epoch: a free of an older
	 * one counts as no free of the figures since (heap_on_free_slow). */
	__atomic_store_n(&agent.epoch, agent.epoch ^ 1u, __ATOMIC_RELAXED);
	a->reset_tick = func_now_ticks();
	a->reset_ns = func_clock_mono();
	/* Threads writing meanwhile land on either side; this thread's
	 * figures are exact. */
	for (uint32_t k = 0; k <= nh; k++) {
		uint64_t end = k < nh ? a->hole_off[k] : used;

		if (end > at && end <= used) {
			memcpy(dst + out, image_base + at, end - at);
			out += end - at;
		}
		if (k < nh)
			at = a->hole_off[k] + a->hole_len[k];
	}
	a->baseline_len = out;
	__atomic_store_n(&a->baseline, off, __ATOMIC_RELEASE);
	/* The next reset leaves this copy out too. */
	a->hole_off[nh] = off;
	a->hole_len[nh] = used - holes;
	a->nholes = nh + 1;
	__atomic_fetch_add(&a->resets, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&a->resetting, 0, __ATOMIC_RELEASE);
}

NI void api_note_paused_alloc(size_t n)
{
	struct sf_api *a = api_rec();

	if (a) {
		__atomic_fetch_add(&a->paused_allocs, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&a->paused_bytes, n, __ATOMIC_RELAXED);
	}
}

NI void api_note_paused_sample(uint64_t w)
{
	struct sf_process *p = agent.proc;
	struct sf_api *a = p ? image_ptr(__atomic_load_n(&p->api, __ATOMIC_ACQUIRE)) : NULL;

	/* A signal handler: only an existing record (a paused thread made
	 * it). */
	if (a)
		__atomic_fetch_add(&a->paused_samples, w, __ATOMIC_RELAXED);
}
