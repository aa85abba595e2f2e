/*
 * The hooks' own stack walker (x86-64): each return address's unwind rule
 * is read once from its module's .eh_frame (found through _dl_find_object
 * and the .eh_frame_hdr search table) and kept in a lock-free table; a walk
 * is then one lookup and one or two loads per frame, where libunwind's
 * unw_backtrace costs ~10 ns a frame and ~60 ns to set up.
 *
 * It follows the same DWARF rules libunwind does, and only the common
 * shape of frame: CFA = rsp or rbp + constant, return address at CFA - 8,
 * rbp unchanged or saved at a constant offset from the CFA. Any other
 * frame (a signal frame, a CFA computed by an expression, code without
 * unwind information, a stack pointer outside the thread's stack) makes
 * cfi_backtrace return 0 and the caller unwinds with libunwind: the frames
 * are libunwind's either way. PTRACE_UNWIND=check compares the two on
 * every stack (tests/test_e2e_unwind.c).
 */
#ifndef PTRACE_CFI_H
#define PTRACE_CFI_H

#include <stddef.h>
#include <stdint.h>

/* A frame's rule, packed in 64 bits (0 is never a valid rule). */
#define CFI_KIND_MASK 3ull
#define CFI_STEP 1ull       /* the common shape: unwind through it */
#define CFI_LAST 2ull       /* return address undefined: the outermost frame */
#define CFI_NONE 3ull       /* not handled here: libunwind must walk this stack */
#define CFI_CFA_RBP (1ull << 2) /* CFA = rbp + off (else rsp + off) */
#define CFI_RBP_SAVED (1ull << 3) /* caller's rbp at CFA + rbp_off */
/* With CFI_NONE: no FDE of the module holding the address covers it. A
 * return address there whose frame's rbp is 0 ends the stack, as libunwind
 * ends it (its frame-pointer fallback: rbp 0 is the end, unless a
 * sigreturn trampoline is there; ld.so's _dl_start_user, below every
 * constructor, is such a frame). */
#define CFI_NO_FDE (1ull << 5)

static inline int32_t cfi_cfa_off(uint64_t rule)
{
	return (int32_t)(rule >> 32);
}

static inline int16_t cfi_rbp_off(uint64_t rule)
{
	return (int16_t)(rule >> 16);
}

/*
 * A thread's recent walks, for the next one to stop early where the stack
 * is still the same (cfi_backtrace): CFI_WALKS of them, in sets of
 * CFI_WAYS chosen by the first frame's stack pointer (one call site at
 * one depth: one set), the least recently used of a set giving way. Ways,
 * not one walk a stack pointer: stacks that alternate at one depth (two
 * callers of one allocating function) each keep theirs. Measured in the
 * sequences of (stack pointer, trace) of whole runs: of Lua's 2.39M
 * walks 73.8% were the walk its slot held with 16 slots of one walk,
 * 96.4% with 8 sets of 2, 99.98% with 4 sets of 4 (sqlite3: 85.4%, 99.9%,
 * 99.94%). CFI_MEMO frames a walk: the default depth and our own frames;
 * deeper walks keep none.
 */
#define CFI_MEMO 96
#define CFI_WALKS_BITS 4
#define CFI_WAYS_BITS 2
#define CFI_WALKS (1u << CFI_WALKS_BITS)
#define CFI_WAYS (1u << CFI_WAYS_BITS)
#define CFI_L0_BITS 9

struct cfi_mframe {
	uint64_t rip, rsp, rbp; /* as they were in the frame */
	uint64_t rule;          /* its rule, | CFI_NEEDS_RBP (cfi.c); no kind: not stepped from */
};

struct cfi_walk {
	uint32_t n;             /* frames held; 0: none */
	/* The trace id the caller interned this walk's frames as (every
	 * frame held, at most the walk's max, is the walk it made); 0:
	 * unknown. Cleared whenever the frames change. */
	uint32_t trace;
	uint32_t used;          /* cfi_memo.tick when last found or made; 0: never */
	uint32_t pad0;
	uint64_t end_cfa, end_rip; /* the walk's last read, of a return address below
	                              0x4000 that ended it at CFA end_cfa; 0: none */
	struct cfi_mframe f[CFI_MEMO];
	/* Every stack word the walk read, with what it read, for a walk that
	 * is this one again (from its first frame): 1 + how many; 0: not
	 * made. Made at the first such walk after a trace id is known,
	 * dropped with it. Last: its pages are made only if used. */
	uint32_t nchk;
	uint32_t pad;
	struct {
		uint64_t at, val;
	} chk[2 * CFI_MEMO + 1];
} __attribute__((aligned(64))); /* its head and first frame: one cache line */

struct cfi_memo {
	uint32_t gen;           /* the rule table's generation all this is of */
	/* Set by the caller for one walk: a walk that is again the one a
	 * memo walk holds, whose trace is known, copies no frames and says
	 * its id in hit instead. */
	uint8_t want_id;
	uint8_t pad;
	/* Bit i: w[i] written since the last reset. A way never written is
	 * never read: its pages are made by their first write, not first
	 * mapped as the zero page by a read and then faulted again. */
	uint16_t ways;
	uint32_t hit;           /* that id, from the last walk; 0: its frames are in ips */
	uint32_t tick;          /* the walks' clock of use */
	struct cfi_walk *done;  /* the memo walk that is exactly the last walk, for its id; NULL: none */
	/* The thread's own small cache of rules, in front of the table
	 * (whose 1 MiB a hot path's lookups would miss in). */
	struct {
		uint64_t addr, rule;
	} l0[1u << CFI_L0_BITS];
	struct cfi_walk w[CFI_WALKS];
};

/* Forget what m holds (a thread taking a record over, a fork child). */
void cfi_memo_reset(struct cfi_memo *m);

/* Make zeroed memory m an empty memo, writing only its header. */
void cfi_memo_fresh(struct cfi_memo *m);

/* Map the rule table (once, at the agent's set-up). 0 or -errno; without
 * it every walk falls back to libunwind. */
int cfi_init(void);

/* The rule table's mapping ([*lo, *hi), empty before cfi_init): ours, not
 * the program's, so the leak scan leaves it out. */
void cfi_table_span(uintptr_t *lo, uintptr_t *hi);

/* Rules cached before this call are not used again: a dlclose may have
 * unmapped their code, and a dlopen may map other code there. */
void cfi_forget(void);

/* Walk the calling thread's stack into ips (at most max frames, the first
 * one inside this function), through frames whose stack addresses lie in
 * [lo, hi), with the thread's memo m (NULL: none; never one a signal
 * handler may be using). Returns the depth, or 0 when some frame needs
 * libunwind. With m->want_id, m->hit may say instead that the walk is the
 * one whose trace id it is, ips left unwritten; m->done is the memo walk
 * the caller gives the id of the walk's frames (cfi_walk.trace). */
unsigned cfi_backtrace(uint64_t *ips, unsigned max, uintptr_t lo, uintptr_t hi, struct cfi_memo *m);

/* The same from a frame whose registers are rip (an exact pc: a signal's
 * interrupted instruction), rsp and rbp, with no memo. */
unsigned cfi_backtrace_from(uint64_t *ips, unsigned max, uintptr_t lo, uintptr_t hi, uint64_t rip, uint64_t rsp,
			    uint64_t rbp);

/* The rule for code address addr (a return address minus 1, or an exact
 * pc) from the FDE at fde, in an .eh_frame whose pointers are relative to
 * nothing unusual; CFI_NONE | CFI_NO_FDE when the FDE does not cover addr
 * (the caller found it as the last FDE starting at or below addr),
 * CFI_NONE when it uses what this walker does not handle. Exposed for the
 * unit tests. */
uint64_t cfi_rule_from_fde(const uint8_t *fde, uint64_t addr);

/* The rule for addr through the table (computed and cached on a miss). */
uint64_t cfi_rule(uint64_t addr);

#endif
