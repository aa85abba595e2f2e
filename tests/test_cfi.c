/*
 * agent/cfi.c: the CFI interpreter on hand-made .eh_frame records (exact
 * rules at every address of a function), and the walk of this test's own
 * stack against libunwind's, with and without a memo.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "cfi.h"

/* ---- Records ---- */

struct rec {
	uint8_t b[512];
	size_t n;
};

static void put(struct rec *r, const void *p, size_t n)
{
	cr_assert(r->n + n <= sizeof(r->b), "record too long");
	memcpy(r->b + r->n, p, n);
	r->n += n;
}

static void put_u32(struct rec *r, uint32_t v)
{
	put(r, &v, 4);
}

static void put_u64(struct rec *r, uint64_t v)
{
	put(r, &v, 8);
}

/* A CIE at offset 0 (augmentation aug, FDE pointers absolute and 8 bytes,
 * data alignment -8, CFA = rsp + 8 and the return address at CFA - 8),
 * then an FDE for [begin, begin + range) with the given instructions. */
static const uint8_t *make(struct rec *r, const char *aug, uint64_t begin, uint64_t range, const uint8_t *ins,
			   size_t nins)
{
	static const uint8_t init[] = { 0x0c, 0x07, 0x08, /* def_cfa rsp, 8 */
					0x90, 0x01 };	  /* offset r16, 1 * -8 */
	size_t cie_len_at, fde_at, fde_len_at;

	memset(r, 0, sizeof(*r));
	cie_len_at = r->n;
	put_u32(r, 0);
	put_u32(r, 0); /* CIE id */
	put(r, "\1", 1);
	put(r, aug, strlen(aug) + 1);
	put(r, "\1\x78\x10", 3); /* code align 1, data align -8, RA column 16 */
	put(r, "\1", 1);	  /* augmentation data: 1 byte */
	put(r, "\0", 1);	  /* R: DW_EH_PE_absptr */
	put(r, init, sizeof(init));
	while ((r->n - cie_len_at - 4) % 8)
		put(r, "\0", 1); /* DW_CFA_nop */
	*(uint32_t *)(r->b + cie_len_at) = (uint32_t)(r->n - cie_len_at - 4);

	fde_at = r->n;
	fde_len_at = r->n;
	put_u32(r, 0);
	put_u32(r, (uint32_t)(r->n - cie_len_at)); /* back to the CIE */
	put_u64(r, begin);
	put_u64(r, range);
	put(r, "\0", 1); /* no augmentation data */
	put(r, ins, nins);
	while ((r->n - fde_len_at - 4) % 8)
		put(r, "\0", 1);
	*(uint32_t *)(r->b + fde_len_at) = (uint32_t)(r->n - fde_len_at - 4);
	put_u32(r, 0); /* terminator */
	return r->b + fde_at;
}

static uint64_t rule_sp(int32_t off)
{
	return CFI_STEP | (uint64_t)(uint32_t)off << 32;
}

static uint64_t rule_bp(int32_t off, int16_t rbp_at)
{
	return CFI_STEP | CFI_CFA_RBP | CFI_RBP_SAVED | (uint64_t)(uint16_t)rbp_at << 16 | (uint64_t)(uint32_t)off << 32;
}

static uint64_t rule_sp_rbp(int32_t off, int16_t rbp_at)
{
	return CFI_STEP | CFI_RBP_SAVED | (uint64_t)(uint16_t)rbp_at << 16 | (uint64_t)(uint32_t)off << 32;
}

/* A frame-pointer prologue, its epilogue inside remember/restore, then an
 * expression and an outermost frame. */
static const uint8_t prologue[] = {
	0x41,		   /* advance 1: 0x1001 */
	0x0e, 0x10,	   /* def_cfa_offset 16 */
	0x86, 0x02,	   /* offset rbp, 2 * -8 */
	0x43,		   /* advance 3: 0x1004 */
	0x0d, 0x06,	   /* def_cfa_register rbp */
	0x02, 0x20,	   /* advance_loc1 32: 0x1024 */
	0x0a,		   /* remember_state */
	0x0c, 0x07, 0x08,  /* def_cfa rsp, 8 */
	0x41,		   /* advance 1: 0x1025 */
	0x0b,		   /* restore_state */
	0x41,		   /* advance 1: 0x1026 */
	0x0f, 0x02, 0x77, 0x08, /* def_cfa_expression (DW_OP_breg7 8) */
	0x41,		   /* advance 1: 0x1027 */
	0x0c, 0x07, 0x10,  /* def_cfa rsp, 16 */
	0x07, 0x10,	   /* undefined r16 */
};

Test(cfi, rules_at_every_address_of_a_function)
{
	struct rec r;
	const uint8_t *fde = make(&r, "zR", 0x1000, 0x100, prologue, sizeof(prologue));

	cr_assert(eq(u64, cfi_rule_from_fde(fde, 0x1000), rule_sp(8)), "entry: CFA rsp+8");
	cr_assert(eq(u64, cfi_rule_from_fde(fde, 0x1001), rule_sp_rbp(16, -16)), "after push rbp");
	cr_assert(eq(u64, cfi_rule_from_fde(fde, 0x1003), rule_sp_rbp(16, -16)), "up to mov rsp, rbp");
	cr_assert(eq(u64, cfi_rule_from_fde(fde, 0x1004), rule_bp(16, -16)), "body: CFA rbp+16");
	cr_assert(eq(u64, cfi_rule_from_fde(fde, 0x1023), rule_bp(16, -16)), "last of the body");
	cr_assert(eq(u64, cfi_rule_from_fde(fde, 0x1024), rule_sp_rbp(8, -16)), "epilogue: CFA rsp+8");
	cr_assert(eq(u64, cfi_rule_from_fde(fde, 0x1025), rule_bp(16, -16)), "restore_state: the body's rule");
	cr_assert(eq(u64, cfi_rule_from_fde(fde, 0x1026), CFI_NONE), "a CFA expression is libunwind's");
	cr_assert(eq(u64, cfi_rule_from_fde(fde, 0x1027), CFI_LAST), "return address undefined: the end");
	cr_assert(eq(u64, cfi_rule_from_fde(fde, 0x10ff), CFI_LAST), "to the FDE's end");
	cr_assert(eq(u64, cfi_rule_from_fde(fde, 0x1100), CFI_NONE | CFI_NO_FDE), "past the FDE");
	cr_assert(eq(u64, cfi_rule_from_fde(fde, 0x0fff), CFI_NONE | CFI_NO_FDE), "before the FDE");
}

Test(cfi, frames_it_leaves_to_libunwind)
{
	struct rec r;
	static const uint8_t in_reg[] = { 0x41, 0x09, 0x06, 0x03 };   /* rbp in rbx */
	static const uint8_t val_off[] = { 0x41, 0x14, 0x07, 0x02 };  /* rsp = CFA + 2 */
	static const uint8_t ra_moved[] = { 0x41, 0x90, 0x02 };       /* RA at CFA - 16 */
	static const uint8_t r10_cfa[] = { 0x41, 0x0c, 0x0a, 0x00 };  /* CFA = r10 (realigned stack) */
	static const uint8_t unknown[] = { 0x41, 0x3f };              /* no such opcode */
	static const uint8_t pop_empty[] = { 0x41, 0x0b };            /* restore_state, nothing remembered */
	static const uint8_t restore[] = { 0x41, 0x86, 0x02, 0x41, 0xc6 }; /* rbp saved, then restored */

	const struct {
		const char *aug;
		const uint8_t *ins;
		size_t nins;
		uint64_t addr, want;
		const char *what;
	} cases[] = {
		{ "zR", in_reg, sizeof(in_reg), 0x1001, CFI_NONE, "rbp kept in another register" },
		{ "zR", in_reg, sizeof(in_reg), 0x1000, rule_sp(8), "before that instruction: plain" },
		{ "zR", val_off, sizeof(val_off), 0x1001, CFI_NONE, "rsp not the CFA" },
		{ "zR", ra_moved, sizeof(ra_moved), 0x1001, CFI_NONE, "return address elsewhere" },
		{ "zR", r10_cfa, sizeof(r10_cfa), 0x1001, CFI_NONE, "CFA from r10" },
		{ "zR", unknown, sizeof(unknown), 0x1001, CFI_NONE, "an opcode it does not know" },
		{ "zR", pop_empty, sizeof(pop_empty), 0x1001, CFI_NONE, "malformed: restore_state, nothing remembered" },
		{ "zRS", restore, sizeof(restore), 0x1000, CFI_NONE, "a signal frame's CIE" },
		{ "zR", restore, sizeof(restore), 0x1001, rule_sp_rbp(8, -16), "rbp saved" },
		{ "zR", restore, sizeof(restore), 0x1002, rule_sp(8), "DW_CFA_restore: the CIE's rule (none) again" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_assert(eq(u64, cfi_rule_from_fde(make(&r, cases[i].aug, 0x1000, 16, cases[i].ins, cases[i].nins),
						     cases[i].addr),
			     cases[i].want),
			  "%s", cases[i].what);
}

/* ---- Walks of this stack ---- */

static uintptr_t stack_lo, stack_hi;

static void bounds(void)
{
	pthread_attr_t a;
	void *addr;
	size_t size;

	cr_assert(eq(int, pthread_getattr_np(pthread_self(), &a), 0));
	cr_assert(eq(int, pthread_attr_getstack(&a, &addr, &size), 0));
	pthread_attr_destroy(&a);
	stack_lo = (uintptr_t)addr;
	stack_hi = (uintptr_t)addr + size;
	cr_assert(eq(int, cfi_init(), 0));
}

static struct cfi_memo memo;
static int walks, walks_same;

/* Walk from here both ways: libunwind's frames from its caller on are
 * ours from ours[2] on (ours[0] is inside cfi_backtrace, ours[1] here). */
__attribute__((noinline)) static void walk_both(struct cfi_memo *m)
{
	void *theirs[128];
	uint64_t ours[128];
	int n = unw_backtrace(theirs, 127); /* one frame fewer: ours has its own on top */
	unsigned k = cfi_backtrace(ours, 128, stack_lo, stack_hi, m);

	cr_assert(k > 3, "our walk: %u frames", k);
	cr_assert(eq(int, (int)k - 2, n - 1), "as many frames as libunwind");
	for (int i = 1; i < n; i++)
		cr_assert(eq(u64, ours[i + 1], (uint64_t)(uintptr_t)theirs[i]), "frame %d", i);
	walks++;
	walks_same += (int)k - 2 == n - 1;
}

__attribute__((noinline)) static int with_alloca(int d, struct cfi_memo *m)
{
	volatile char *buf = __builtin_alloca(32 + d * 16);

	buf[0] = (char)d;
	if (d)
		return with_alloca(d - 1, m) + buf[0];
	walk_both(m);
	return buf[0];
}

__attribute__((noinline)) static int deep(int d, struct cfi_memo *m)
{
	int r;

	if (!d) {
		walk_both(m);
		return 0;
	}
	r = deep(d - 1, m);
	if (d % 3 == 0)
		walk_both(m); /* a walk starting above the last one */
	return r + 1;
}

Test(cfi, walks_this_stack_as_libunwind)
{
	bounds();
	walks = walks_same = 0;
	deep(20, NULL);
	with_alloca(6, NULL);
	cr_assert(eq(int, walks, 7 + 1), "deep(20) walks at 0, 3, ..., 18; with_alloca once");
	cr_assert(eq(int, walks_same, 8));
}

Test(cfi, with_a_memo_as_without)
{
	bounds();
	cfi_memo_reset(&memo);
	walks = 0;
	for (int i = 0; i < 3; i++) {
		deep(20, &memo);
		with_alloca(6, &memo);
		deep(40, &memo);
		deep(100, &memo); /* past the memo's 96 frames */
	}
	cr_assert(eq(int, walks, 3 * (7 + 1 + 14 + 34)), "deep(d) walks at 0 and at every multiple of 3");
	for (unsigned i = 0; i < CFI_WALKS; i++)
		cr_assert(memo.w[i].n <= CFI_MEMO, "memo walk %u: %u frames", i, memo.w[i].n);
}
