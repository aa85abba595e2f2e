#include "cfi.h"

#include <dlfcn.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent.h"

/* DWARF register numbers of x86-64 (System V psABI, figure 3.36). */
#define REG_RBP 6
#define REG_RSP 7
#define REG_RA 16

/* How a tracked register is restored: its rule in the current row. */
enum cfi_how {
	HOW_UNSET = 0, /* no rule: callee-saved registers keep their value */
	HOW_SAME,      /* DW_CFA_same_value */
	HOW_UNDEF,     /* DW_CFA_undefined */
	HOW_OFFSET,    /* saved at CFA + off */
	HOW_OTHER,     /* in a register, by expression, val_offset: not handled */
};

struct cfi_reg {
	uint8_t how;
	int64_t off;
};

/* One row of the CFI table, for the three registers a walk needs. */
struct cfi_row {
	uint64_t cfa_reg;
	int64_t cfa_off;
	int cfa_expr;          /* DW_CFA_def_cfa_expression */
	struct cfi_reg reg[3]; /* rbp, rsp, return address */
};

struct cfi_cie {
	uint64_t code_align;
	int64_t data_align;
	uint8_t fde_enc;       /* pointer encoding of the FDEs (augmentation R) */
	uint8_t has_z;
	const uint8_t *init, *init_end; /* initial instructions */
};

#define CFI_STATES 8 /* DW_CFA_remember_state nesting handled */

/* ---- Reading .eh_frame ---- */

static inline uint64_t ld(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	memcpy(&v, p, n); /* little-endian */
	return v;
}

static int uleb(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;
	unsigned shift = 0;

	do {
		if (p >= end || shift > 63)
			return -1;
		v |= (uint64_t)(*p & 0x7f) << shift;
		shift += 7;
	} while (*p++ & 0x80);
	*pp = p;
	*out = v;
	return 0;
}

static int sleb(const uint8_t **pp, const uint8_t *end, int64_t *out)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;
	unsigned shift = 0;
	uint8_t b;

	do {
		if (p >= end || shift > 63)
			return -1;
		b = *p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	if (shift < 64 && (b & 0x40))
		v |= ~0ull << shift;
	*pp = p;
	*out = (int64_t)v;
	return 0;
}

/* A pointer in encoding enc (DW_EH_PE_*): absolute, pc-relative or
 * relative to data_base. -1 for what .eh_frame does not use here. */
static int read_enc(const uint8_t **pp, const uint8_t *end, uint8_t enc, uint64_t data_base, uint64_t *out)
{
	const uint8_t *p = *pp;
	uint64_t v;
	int64_t s;
	static const uint8_t size[16] = { [0x0] = 8, [0x2] = 2, [0x3] = 4, [0x4] = 8,
					  [0xa] = 2, [0xb] = 4, [0xc] = 8 };

	if (enc == 0xff || (enc & 0x80))
		return -1; /* omitted, or indirect */
	switch (enc & 0x0f) {
	case 0x1:
		if (uleb(&p, end, &v))
			return -1;
		break;
	case 0x9:
		if (sleb(&p, end, &s))
			return -1;
		v = (uint64_t)s;
		break;
	default:
		if (!size[enc & 0x0f] || p + size[enc & 0x0f] > end)
			return -1;
		v = ld(p, size[enc & 0x0f]);
		if ((enc & 0x0f) == 0xa)
			v = (uint64_t)(int64_t)(int16_t)v;
		else if ((enc & 0x0f) == 0xb)
			v = (uint64_t)(int64_t)(int32_t)v;
		p += size[enc & 0x0f];
		break;
	}
	switch (enc & 0x70) {
	case 0x00:
		break;
	case 0x10:
		v += (uint64_t)(uintptr_t)*pp; /* pcrel: from the field itself */
		break;
	case 0x30:
		v += data_base;
		break;
	default:
		return -1;
	}
	*pp = p;
	*out = v;
	return 0;
}

/* Skip a pointer in encoding enc without reading it (a personality). */
static int skip_enc(const uint8_t **pp, const uint8_t *end, uint8_t enc)
{
	uint64_t v;

	return read_enc(pp, end, enc & 0x0f, 0, &v);
}

/* A record's extent: [*body, *end) after its length field. */
static int record(const uint8_t *p, const uint8_t **body, const uint8_t **end)
{
	uint32_t len = (uint32_t)ld(p, 4);

	if (!len || len == 0xffffffffu || len > (1u << 24))
		return -1; /* a terminator, 64-bit DWARF (not in .eh_frame), or absurd */
	*body = p + 4;
	*end = p + 4 + len;
	return 0;
}

static int parse_cie(const uint8_t *cie, struct cfi_cie *c)
{
	const uint8_t *p, *end, *aug;
	uint64_t ra, auglen;
	uint8_t version;

	if (record(cie, &p, &end) || p + 5 > end || ld(p, 4) != 0)
		return -1;
	p += 4;
	version = *p++;
	if (version != 1 && version != 3)
		return -1;
	aug = p;
	while (p < end && *p)
		p++;
	if (p >= end)
		return -1;
	p++;
	if (uleb(&p, end, &c->code_align) || sleb(&p, end, &c->data_align))
		return -1;
	if (version == 1) {
		if (p >= end)
			return -1;
		ra = *p++;
	} else if (uleb(&p, end, &ra)) {
		return -1;
	}
	if (ra != REG_RA)
		return -1;
	c->fde_enc = 0; /* absptr */
	c->has_z = aug[0] == 'z';
	if (c->has_z) {
		const uint8_t *data_end;

		if (uleb(&p, end, &auglen) || auglen > (uint64_t)(end - p))
			return -1;
		data_end = p + auglen;
		for (const uint8_t *a = aug + 1; *a; a++) {
			switch (*a) {
			case 'R':
				if (p >= data_end)
					return -1;
				c->fde_enc = *p++;
				break;
			case 'L':
				if (p >= data_end)
					return -1;
				p++; /* the LSDA's encoding: the FDE's data is skipped whole */
				break;
			case 'P': {
				uint8_t enc;

				if (p >= data_end)
					return -1;
				enc = *p++;
				if (skip_enc(&p, data_end, enc))
					return -1;
				break;
			}
			case 'S': /* a signal frame: its caller is the interrupted pc */
			default:  /* an augmentation we do not know */
				return -1;
			}
		}
		p = data_end;
	} else if (aug[0]) {
		return -1; /* "eh" and other pre-'z' forms */
	}
	c->init = p;
	c->init_end = end;
	return 0;
}

/* ---- The CFI interpreter ---- */

static int slot_of(uint64_t reg)
{
	return reg == REG_RBP ? 0 : reg == REG_RSP ? 1 : reg == REG_RA ? 2 : -1;
}

static void set_reg(struct cfi_row *row, uint64_t reg, uint8_t how, int64_t off)
{
	int s = slot_of(reg);

	if (s >= 0) {
		row->reg[s].how = how;
		row->reg[s].off = off;
	}
}

/*
 * Run instructions [p, end) from location loc, stopping before the first
 * advance past addr: the rules then in row are the rules at addr. init is
 * the row after the CIE's instructions (for DW_CFA_restore), NULL while
 * running those. 0, or -1 for a malformed or unhandled instruction.
 */
static int run(const uint8_t *p, const uint8_t *end, const struct cfi_cie *c, uint64_t loc, uint64_t addr,
	       struct cfi_row *row, const struct cfi_row *init)
{
	struct cfi_row saved[CFI_STATES];
	unsigned nsaved = 0;

	while (p < end) {
		uint8_t op = *p++;
		uint64_t reg, u, delta;
		int64_t s;

		switch (op & 0xc0) {
		case 0x40: /* DW_CFA_advance_loc */
			loc += (uint64_t)(op & 0x3f) * c->code_align;
			if (loc > addr)
				return 0;
			continue;
		case 0x80: /* DW_CFA_offset */
			if (uleb(&p, end, &u))
				return -1;
			set_reg(row, op & 0x3f, HOW_OFFSET, (int64_t)u * c->data_align);
			continue;
		case 0xc0: /* DW_CFA_restore */
			if (!init)
				return -1;
			if (slot_of(op & 0x3f) >= 0)
				row->reg[slot_of(op & 0x3f)] = init->reg[slot_of(op & 0x3f)];
			continue;
		}
		switch (op) {
		case 0x00: /* DW_CFA_nop */
			break;
		case 0x01: /* DW_CFA_set_loc */
			if (read_enc(&p, end, c->fde_enc, 0, &loc))
				return -1;
			if (loc > addr)
				return 0;
			break;
		case 0x02: /* DW_CFA_advance_loc1, 2, 4 */
		case 0x03:
		case 0x04: {
			unsigned n = op == 0x02 ? 1 : op == 0x03 ? 2 : 4;

			if (p + n > end)
				return -1;
			delta = ld(p, n);
			p += n;
			loc += delta * c->code_align;
			if (loc > addr)
				return 0;
			break;
		}
		case 0x05: /* DW_CFA_offset_extended */
			if (uleb(&p, end, &reg) || uleb(&p, end, &u))
				return -1;
			set_reg(row, reg, HOW_OFFSET, (int64_t)u * c->data_align);
			break;
		case 0x06: /* DW_CFA_restore_extended */
			if (uleb(&p, end, &reg) || !init)
				return -1;
			if (slot_of(reg) >= 0)
				row->reg[slot_of(reg)] = init->reg[slot_of(reg)];
			break;
		case 0x07: /* DW_CFA_undefined */
		case 0x08: /* DW_CFA_same_value */
			if (uleb(&p, end, &reg))
				return -1;
			set_reg(row, reg, op == 0x07 ? HOW_UNDEF : HOW_SAME, 0);
			break;
		case 0x0a: /* DW_CFA_remember_state: the whole row, CFA included */
			if (nsaved == CFI_STATES)
				return -1;
			saved[nsaved++] = *row;
			break;
		case 0x0b: /* DW_CFA_restore_state */
			if (!nsaved)
				return -1;
			*row = saved[--nsaved];
			break;
		case 0x0c: /* DW_CFA_def_cfa */
			if (uleb(&p, end, &reg) || uleb(&p, end, &u))
				return -1;
			row->cfa_reg = reg;
			row->cfa_off = (int64_t)u;
			row->cfa_expr = 0;
			break;
		case 0x0d: /* DW_CFA_def_cfa_register */
			if (uleb(&p, end, &reg))
				return -1;
			row->cfa_reg = reg;
			break;
		case 0x0e: /* DW_CFA_def_cfa_offset */
			if (uleb(&p, end, &u))
				return -1;
			row->cfa_off = (int64_t)u;
			break;
		case 0x0f: /* DW_CFA_def_cfa_expression */
			if (uleb(&p, end, &u) || u > (uint64_t)(end - p))
				return -1;
			p += u;
			row->cfa_expr = 1;
			break;
		case 0x10: /* DW_CFA_expression */
		case 0x16: /* DW_CFA_val_expression */
			if (uleb(&p, end, &reg) || uleb(&p, end, &u) || u > (uint64_t)(end - p))
				return -1;
			p += u;
			set_reg(row, reg, HOW_OTHER, 0);
			break;
		case 0x11: /* DW_CFA_offset_extended_sf */
			if (uleb(&p, end, &reg) || sleb(&p, end, &s))
				return -1;
			set_reg(row, reg, HOW_OFFSET, s * c->data_align);
			break;
		case 0x12: /* DW_CFA_def_cfa_sf */
			if (uleb(&p, end, &reg) || sleb(&p, end, &s))
				return -1;
			row->cfa_reg = reg;
			row->cfa_off = s * c->data_align;
			row->cfa_expr = 0;
			break;
		case 0x13: /* DW_CFA_def_cfa_offset_sf */
			if (sleb(&p, end, &s))
				return -1;
			row->cfa_off = s * c->data_align;
			break;
		case 0x09: /* DW_CFA_register */
		case 0x14: /* DW_CFA_val_offset */
			if (uleb(&p, end, &reg) || uleb(&p, end, &u))
				return -1;
			set_reg(row, reg, HOW_OTHER, 0);
			break;
		case 0x15: /* DW_CFA_val_offset_sf */
			if (uleb(&p, end, &reg) || sleb(&p, end, &s))
				return -1;
			set_reg(row, reg, HOW_OTHER, 0);
			break;
		case 0x2e: /* DW_CFA_GNU_args_size */
			if (uleb(&p, end, &u))
				return -1;
			break;
		case 0x2f: /* DW_CFA_GNU_negative_offset_extended */
			if (uleb(&p, end, &reg) || uleb(&p, end, &u))
				return -1;
			set_reg(row, reg, HOW_OFFSET, -((int64_t)u * c->data_align));
			break;
		default:
			return -1;
		}
	}
	return 0;
}

/* The row's rule, when it has the shape cfi_backtrace walks. */
static uint64_t pack(const struct cfi_row *r)
{
	const struct cfi_reg *rbp = &r->reg[0], *rsp = &r->reg[1], *ra = &r->reg[2];
	uint64_t rule = CFI_STEP;

	if (r->cfa_expr || (r->cfa_reg != REG_RSP && r->cfa_reg != REG_RBP))
		return CFI_NONE;
	if (ra->how == HOW_UNDEF)
		return CFI_LAST;
	if (ra->how != HOW_OFFSET || ra->off != -8 || rsp->how != HOW_UNSET)
		return CFI_NONE;
	if (r->cfa_off < INT32_MIN || r->cfa_off > INT32_MAX)
		return CFI_NONE;
	if (r->cfa_reg == REG_RBP)
		rule |= CFI_CFA_RBP;
	if (rbp->how == HOW_OFFSET) {
		if (rbp->off < INT16_MIN || rbp->off > INT16_MAX)
			return CFI_NONE;
		rule |= CFI_RBP_SAVED | (uint64_t)(uint16_t)(int16_t)rbp->off << 16;
	} else if (rbp->how != HOW_UNSET && rbp->how != HOW_SAME) {
		return CFI_NONE;
	}
	return rule | (uint64_t)(uint32_t)(int32_t)r->cfa_off << 32;
}

uint64_t cfi_rule_from_fde(const uint8_t *fde, uint64_t addr)
{
	const uint8_t *p, *end;
	struct cfi_cie c;
	struct cfi_row row, init;
	uint64_t begin, range, auglen;
	uint32_t cie_off;

	if (record(fde, &p, &end) || p + 4 > end)
		return CFI_NONE;
	cie_off = (uint32_t)ld(p, 4);
	if (!cie_off || parse_cie(p - cie_off, &c))
		return CFI_NONE;
	p += 4;
	if (read_enc(&p, end, c.fde_enc, 0, &begin))
		return CFI_NONE;
	if (read_enc(&p, end, c.fde_enc & 0x0f, 0, &range))
		return CFI_NONE;
	if (addr < begin || addr - begin >= range)
		return CFI_NONE | CFI_NO_FDE;
	if (c.has_z) {
		if (uleb(&p, end, &auglen) || auglen > (uint64_t)(end - p))
			return CFI_NONE;
		p += auglen;
	}
	memset(&row, 0, sizeof(row));
	if (run(c.init, c.init_end, &c, 0, UINT64_MAX, &row, NULL))
		return CFI_NONE;
	init = row;
	if (run(p, end, &c, begin, addr, &row, &init))
		return CFI_NONE;
	return pack(&row);
}

/* The FDE covering addr, through its module's .eh_frame_hdr search table;
 * NULL, with *none set when certainly no FDE covers addr: it lies in a
 * module, before its first FDE. (An address of no module gets no such
 * mark: its rule is kept, and a module dlopen'd there later, say by an
 * IFUNC resolver that allocates before the loader registers the module,
 * would find a stale end; CFI_NONE alone only hands the walk to
 * libunwind.) */
static const uint8_t *find_fde(uint64_t addr, int *none)
{
	struct dl_find_object o;
	const uint8_t *h, *p, *t;
	uint64_t frame, count, lo, hi;

	*none = 0;
	if (_dl_find_object((void *)(uintptr_t)addr, &o) != 0 || !o.dlfo_eh_frame)
		return NULL;
	h = o.dlfo_eh_frame;
	/* version 1; the table as sorted (datarel sdata4 initial pc, FDE) pairs */
	if (h[0] != 1 || h[3] != 0x3b)
		return NULL;
	p = h + 4;
	if (read_enc(&p, p + 16, h[1], (uint64_t)(uintptr_t)h, &frame) ||
	    read_enc(&p, p + 16, h[2], (uint64_t)(uintptr_t)h, &count) || count > (1u << 28))
		return NULL;
	t = p;
	lo = 0;
	hi = count;
	while (lo < hi) { /* the first entry starting above addr */
		uint64_t mid = lo + (hi - lo) / 2;
		uint64_t start = (uint64_t)(uintptr_t)h + (uint64_t)(int64_t)(int32_t)ld(t + mid * 8, 4);

		if (start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo) {
		*none = 1;
		return NULL;
	}
	return h + (int64_t)(int32_t)ld(t + (lo - 1) * 8 + 4, 4);
}

static uint64_t rule_compute(uint64_t addr)
{
	int none;
	const uint8_t *fde = find_fde(addr, &none);

	return fde ? cfi_rule_from_fde(fde, addr) : CFI_NONE | (none ? CFI_NO_FDE : 0);
}

/* ---- The rule table ---- */

/*
 * Open addressing, never shrunk: a slot's key is the address with the
 * table's generation in bits 48-62 (user addresses are below 2^47), and
 * CFI_BUSY while its first writer fills the rule. A reader sees a key
 * only after its rule (release store, acquire load). Slots of an older
 * generation are dead weight; at 3/4 full nothing is added, and misses
 * are computed each time (correct, slower).
 */
#define CFI_BITS 16
#define CFI_SLOTS (1u << CFI_BITS)
#define CFI_PROBES 32
#define CFI_BUSY (1ull << 63)

struct cfi_slot {
	uint64_t key;
	uint64_t rule;
};

static struct cfi_slot *cfi_tab;
static uint32_t cfi_used; /* atomic */
static uint32_t cfi_gen;  /* atomic; 15 bits used */

/* The table's pages this process wrote (a bit each, atomic). A slot in a
 * page never written is empty: the lookup that misses there reads
 * nothing, so the page is made once, by the write, and not first mapped
 * as the zero page by the read (two page faults where one will do: a
 * short process faulted 42 times on 21 pages of the table). */
#define CFI_SLOTS_PAGE (4096u / sizeof(struct cfi_slot))
static uint64_t cfi_written[CFI_SLOTS / CFI_SLOTS_PAGE / 64 + 1];

int cfi_init(void)
{
	void *p;

	if (cfi_tab)
		return 0;
	/* The system call, not the mmap shim: no mapping of the program's. */
	p = (void *)syscall(SYS_mmap, NULL, CFI_SLOTS * sizeof(struct cfi_slot), PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	cfi_tab = p;
	return 0;
}

void cfi_table_span(uintptr_t *lo, uintptr_t *hi)
{
	*lo = (uintptr_t)cfi_tab;
	*hi = cfi_tab ? *lo + CFI_SLOTS * sizeof(struct cfi_slot) : *lo;
}

void cfi_forget(void)
{
	__atomic_fetch_add(&cfi_gen, 1, __ATOMIC_RELAXED);
}

void cfi_memo_fresh(struct cfi_memo *m)
{
	m->gen = __atomic_load_n(&cfi_gen, __ATOMIC_RELAXED);
}

NI uint64_t cfi_rule(uint64_t addr)
{
	struct cfi_slot *tab = cfi_tab;
	uint64_t key, rule;
	uint32_t i;

	if (unlikely(!tab || (addr >> 48)))
		return rule_compute(addr);
	key = addr | (uint64_t)(__atomic_load_n(&cfi_gen, __ATOMIC_RELAXED) & 0x7fff) << 48;
	/* A slot per 64 bytes of code, in address order (the table wraps
	 * every 4 MiB of code): the rules of 16 KiB of code share one page
	 * of the table, so a short process touches a page of it per 16 KiB
	 * of code it returns into, not one per rule or per page of code.
	 * Return addresses closer than 64 bytes take the next slots. */
	i = (uint32_t)(addr >> 6) & (CFI_SLOTS - 1);
	for (unsigned probe = 0; probe < CFI_PROBES; probe++, i = (i + 1) & (CFI_SLOTS - 1)) {
		uint32_t page = i / CFI_SLOTS_PAGE;
		uint64_t bit = 1ull << (page % 64), k = 0;

		/* Acquire pairs with the release store of the key below. */
		if (__atomic_load_n(&cfi_written[page / 64], __ATOMIC_RELAXED) & bit)
			k = __atomic_load_n(&tab[i].key, __ATOMIC_ACQUIRE);
		if (likely(k == key))
			return __atomic_load_n(&tab[i].rule, __ATOMIC_RELAXED);
		if (k)
			continue;
		rule = rule_compute(addr);
		if (__atomic_load_n(&cfi_used, __ATOMIC_RELAXED) < CFI_SLOTS / 4 * 3 &&
		    __atomic_compare_exchange_n(&tab[i].key, &k, key | CFI_BUSY, 0, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED)) {
			__atomic_store_n(&tab[i].rule, rule, __ATOMIC_RELAXED);
			__atomic_store_n(&tab[i].key, key, __ATOMIC_RELEASE);
			__atomic_fetch_add(&cfi_used, 1, __ATOMIC_RELAXED);
		}
		__atomic_fetch_or(&cfi_written[page / 64], bit, __ATOMIC_RELAXED);
		return rule;
	}
	return rule_compute(addr);
}

/* ---- The walk ---- */

/* In a memo frame's rule: the walk on from this frame reads its rbp. No
 * kind (CFI_KIND_MASK bits 0): the walk was cut here (max frames)
 * without stepping on. */
#define CFI_NEEDS_RBP (1ull << 4)

void cfi_memo_reset(struct cfi_memo *m)
{
	memset(m->l0, 0, sizeof(m->l0));
	m->tick = 0;
	m->ways = 0; /* no walk is read again before it is written */
}

/* rip is a sigreturn trampoline's first instruction, "mov $15, %rax;
 * syscall", what libunwind's x86-64 unw_is_signal_frame looks for before
 * its frame-pointer fallback: a signal frame there, not the end. */
static inline int sigreturn_at(uint64_t rip)
{
	static const unsigned char code[9] = {0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};

	return !memcmp((const void *)(uintptr_t)rip, code, sizeof(code));
}

/* The rule for addr: the thread's own cache first, when it has one. */
static inline __attribute__((always_inline)) uint64_t rule_at(struct cfi_memo *m, uint64_t addr)
{
	uint64_t rule;

	if (m) {
		__typeof__(&m->l0[0]) e = &m->l0[(addr * 0x9e3779b97f4a7c15ull) >> (64 - CFI_L0_BITS)];

		if (likely(e->addr == addr))
			return e->rule;
		rule = cfi_rule(addr);
		e->addr = addr;
		e->rule = rule;
		return rule;
	}
	return cfi_rule(addr);
}

/* The walk a set with no way written is matched against: none (never
 * written: a match needs frames). */
static struct cfi_walk memo_none;

/*
 * A walk is a function of its first frame's (rip, rsp, rbp), the rules
 * and the stack words it reads: each frame's return address and, where a
 * rule says so, its saved rbp. So when a new walk reaches a frame the
 * memo holds with the same rip and rsp (and rbp, where the rest of the
 * walk reads it), and every word the memoized walk read on from there
 * still holds what it read, the rest is the memo's. The words are checked
 * with independent loads, not the walk's chain of dependent ones (a table
 * lookup and a load: ~20 cycles a frame).
 */
static int memo_holds(const struct cfi_walk *m, unsigned k, uint64_t floor, int *bad)
{
	*bad = (int)k;
	if (k + 1 < m->n && m->f[k + 1].rsp - 8 < floor)
		return 0;
	for (unsigned j = k; j + 1 < m->n; j++) {
		const struct cfi_mframe *a = &m->f[j], *b = &m->f[j + 1];

		*bad = (int)j; /* a match at j or before reads this step's words too */
		if (*(const uint64_t *)(uintptr_t)(b->rsp - 8) != b->rip)
			return 0;
		if (a->rule & CFI_RBP_SAVED) {
			uint64_t at = b->rsp + (uint64_t)(int64_t)cfi_rbp_off(a->rule);

			if (at < floor || *(const uint64_t *)(uintptr_t)at != b->rbp)
				return 0;
		}
	}
	*bad = (int)m->n;
	if (m->end_cfa && (m->end_cfa - 8 < floor || *(const uint64_t *)(uintptr_t)(m->end_cfa - 8) != m->end_rip))
		return 0;
	return 1;
}

/*
 * The words a walk matching m at its first frame (floor: that frame's
 * stack pointer) must find as m's walk read them, with those values, into
 * m->chk: every return address, the end's word, and a saved rbp only
 * where the frame it is restored into needs it (CFI_NEEDS_RBP: the walk
 * on from there reads it). Fewer than memo_holds compares, as exact: a
 * frame's rip, rsp and (where needed) rbp come from these words and the
 * rules alone, so the walk is m's frame for frame (an interpreter keeps
 * data in rbp: a saved value that changed sent Lua's repeated walks the
 * long way, 113k of 176k). Frames whose rbp no walk reads keep the rbp
 * m's walk had; memo_holds and the partial match still compare every
 * saved one. Left unmade when a word lies below floor: such a walk takes
 * memo_holds' way.
 */
static void memo_words_make(struct cfi_walk *m, uint64_t floor)
{
	uint32_t c = 0;

	m->nchk = 0;
	if (m->n > 1 && m->f[1].rsp - 8 < floor)
		return;
	for (unsigned j = 0; j + 1 < m->n; j++) {
		const struct cfi_mframe *a = &m->f[j], *b = &m->f[j + 1];

		m->chk[c].at = b->rsp - 8;
		m->chk[c++].val = b->rip;
		if ((a->rule & CFI_RBP_SAVED) && (b->rule & CFI_NEEDS_RBP)) {
			uint64_t at = b->rsp + (uint64_t)(int64_t)cfi_rbp_off(a->rule);

			if (at < floor)
				return;
			m->chk[c].at = at;
			m->chk[c++].val = b->rbp;
		}
	}
	if (m->end_cfa) {
		if (m->end_cfa - 8 < floor)
			return;
		m->chk[c].at = m->end_cfa - 8;
		m->chk[c++].val = m->end_rip;
	}
	m->nchk = c + 1;
}

/* The words memo_words_make listed all hold: one load
 * and one compare a word. */
__attribute__((noinline)) static int memo_words_hold(const struct cfi_walk *m)
{
	const __typeof__(m->chk[0]) *c = m->chk, *e = m->chk + (m->nchk - 1);
	uint64_t diff = 0;

#define W(j) (*(const uint64_t *)(uintptr_t)c[j].at ^ c[j].val)
	/* Four words a branch: the loads are independent of each other. */
	for (; c + 4 <= e; c += 4)
		if ((diff = W(0) | W(1) | W(2) | W(3)))
			return 0;
	for (; c < e; c++)
		diff |= W(0);
#undef W
	return !diff;
}

/* Which frames' walks read their rbp, from frame j down to 0; next: does
 * the frame after j's need it (0 past the end). */
static void memo_needs(struct cfi_mframe *f, unsigned j, int next)
{
	while (j-- > 0) {
		uint64_t r = f[j].rule & ~CFI_NEEDS_RBP;

		if ((r & CFI_KIND_MASK) == CFI_STEP)
			next = (r & CFI_CFA_RBP) || (!(r & CFI_RBP_SAVED) && next);
		else /* cut here: what comes next may read it; the last frame:
		      * nothing, but where its rbp of 0 ended the walk */
			next = !r || (r & CFI_NO_FDE);
		f[j].rule = r | (next ? CFI_NEEDS_RBP : 0);
	}
}

/* Memo walk d becomes fresh[0..nf) followed by memo walk m's frames from
 * k on (none when k >= m->n; d may be m), the walk having ended as
 * end_cfa/end_rip say (a final read of a return address below 0x4000; 0:
 * none). */
static void memo_store(struct cfi_memo *ms, struct cfi_walk *d, const struct cfi_walk *m,
		       const struct cfi_mframe *fresh, unsigned nf, unsigned k, uint64_t end_cfa, uint64_t end_rip)
{
	d->trace = 0; /* other frames, or the same ones: the caller says */
	d->nchk = 0;
	d->used = ++ms->tick;
	ms->ways |= (uint16_t)(1u << (d - ms->w));
	if (k < m->n) {
		unsigned keep = m->n - k;
		int cut = 0;

		end_cfa = m->end_cfa;
		end_rip = m->end_rip;
		if (nf + keep > CFI_MEMO) {
			keep = CFI_MEMO - nf; /* >= 1: a match needs room (cfi_backtrace) */
			end_cfa = 0;
			cut = 1;
		}
		if (d != m)
			memcpy(&d->f[nf], &m->f[k], keep * sizeof(m->f[0]));
		else if (nf != k)
			memmove(&d->f[nf], &m->f[k], keep * sizeof(m->f[0]));
		memcpy(d->f, fresh, nf * sizeof(d->f[0]));
		d->n = nf + keep;
		d->end_cfa = end_cfa;
		d->end_rip = end_rip;
		if (cut) { /* the kept frames' needs change with their new end */
			d->f[d->n - 1].rule = 0;
			memo_needs(d->f, d->n, 0);
		} else {
			memo_needs(d->f, nf, !!(d->f[nf].rule & CFI_NEEDS_RBP));
		}
	} else {
		memcpy(d->f, fresh, nf * sizeof(d->f[0]));
		d->n = nf;
		d->end_cfa = end_cfa;
		d->end_rip = end_rip;
		memo_needs(d->f, nf, 0);
	}
}

#ifndef __x86_64__
NI unsigned cfi_backtrace(uint64_t *ips, unsigned max, uintptr_t lo, uintptr_t hi, struct cfi_memo *m)
{
	(void)ips, (void)max, (void)lo, (void)hi, (void)m;
	return 0; /* libunwind walks every stack */
}

NI unsigned cfi_backtrace_from(uint64_t *ips, unsigned max, uintptr_t lo, uintptr_t hi, uint64_t rip, uint64_t rsp,
			       uint64_t rbp)
{
	(void)ips, (void)max, (void)lo, (void)hi, (void)rip, (void)rsp, (void)rbp;
	return 0;
}
#else
/* The walk from a frame whose registers are rip (an exact pc), rsp, rbp,
 * with the thread's memo ms (NULL: none). */
static inline __attribute__((always_inline)) unsigned walk(uint64_t *ips, unsigned max, uintptr_t lo, uintptr_t hi,
							   uint64_t rip, uint64_t rsp, uint64_t rbp,
							   struct cfi_memo *ms)
{
	struct cfi_mframe fresh[CFI_MEMO];
	struct cfi_walk *m = NULL; /* the memo walk this one is matched against */
	struct cfi_walk *d = NULL; /* the one it is memoized in (may be m); NULL: none */
	struct cfi_memo *rules = ms; /* whose rule cache serves the whole walk */
	uint64_t addr, floor = rsp, rule, cfa;
	unsigned n = 0, k = 0, nf = 0;
	int bad = -1;              /* the memo's step that no longer holds */

	if (ms) {
		ms->hit = 0;
		ms->done = NULL;
	}
	if (floor < lo || floor >= hi || !max)
		return 0;
	if (ms) {
		uint32_t gen = __atomic_load_n(&cfi_gen, __ATOMIC_RELAXED);

		if (ms->gen != gen) {
			cfi_memo_reset(ms);
			ms->gen = gen;
		}
		struct cfi_walk *set, *same = NULL, *last_used;

		/* By the first frame's stack pointer: one call site at one
		 * depth gives one set, and the walk from it is the same, ours
		 * and the program's frames alike, as long as the stack is. */
		set = &ms->w[((rsp * 0x9e3779b97f4a7c15ull) >> (64 - CFI_WALKS_BITS + CFI_WAYS_BITS)) << CFI_WAYS_BITS];
		int d_fresh = 0;

		d = NULL;
		last_used = &memo_none;
		for (unsigned w = 0; w < CFI_WAYS; w++) {
			struct cfi_walk *c = &set[w];

			if (!(ms->ways & (1u << (c - ms->w)))) {
				/* Never written: nothing to match, the first to fill
				 * (what the least recently used would be). */
				if (!d_fresh) {
					d = c;
					d_fresh = 1;
				}
				continue;
			}
			if (!d_fresh && (!d || c->used < d->used))
				d = c;
			if (c->used > last_used->used)
				last_used = c;
			if (!c->n || c->f[0].rsp != rsp || c->f[0].rip != rip ||
			    ((c->f[0].rule & CFI_NEEDS_RBP) && c->f[0].rbp != rbp))
				continue;
			/* Its walk again from the first frame, known by its id,
			 * its words listed: those alone are checked. */
			if (c->trace && ms->want_id) {
				if (!c->nchk && ((c->f[c->n - 1].rule & CFI_KIND_MASK) || c->n >= max))
					memo_words_make(c, floor);
				if (c->nchk && memo_words_hold(c)) {
					c->f[0].rbp = rbp;
					c->used = ++ms->tick;
					ms->hit = c->trace;
					ms->done = c;
					return c->n < max ? c->n : max;
				}
			}
			if (!same || c->used > same->used)
				same = c;
		}
		/* Matched against the latest walk from this frame, else the
		 * set's latest; memoized in the set's least recently used. */
		m = same ? same : last_used;
	}
	addr = rip;
	for (;;) {
		/* A frame: rip, rsp and rbp as they are in it. */
		ips[n++] = rip;
		if (ms && nf == CFI_MEMO) {
			m = d = NULL; /* deeper than a memo holds: keep none */
			ms = NULL;
		}
		if (m) {
			while (k < m->n && m->f[k].rsp < rsp)
				k++;
			if (k < m->n && (int)k > bad && m->f[k].rsp == rsp && m->f[k].rip == rip &&
			    (!(m->f[k].rule & CFI_NEEDS_RBP) || m->f[k].rbp == rbp)) {
				unsigned j, last;

				if (memo_holds(m, k, floor, &bad)) {
					struct cfi_mframe tail = m->f[m->n - 1];
					uint32_t trace = m->trace;

					last = m->n - 1;
					/* The walk the memo holds, again: its frames
					 * above the match are these too. */
					if (trace && ms->want_id && nf == k &&
					    ((tail.rule & CFI_KIND_MASK) || m->n >= max)) {
						for (j = 0; j < nf && fresh[j].rip == m->f[j].rip; j++)
							;
						if (j < nf)
							trace = 0;
					} else {
						trace = 0;
					}
					if (trace) {
						n = m->n < max ? m->n : max;
						ms->hit = trace;
						d = m; /* the same walk: kept where it was */
					} else {
						for (j = k + 1; j < m->n && n < max; j++)
							ips[n++] = m->f[j].rip;
					}
					memo_store(ms, d, m, fresh, nf, k, 0, 0);
					d->f[nf].rbp = rbp; /* m's frame k, as it is now */
					if (n == max || (tail.rule & CFI_KIND_MASK)) {
						/* max frames, or the memo reached the end */
						d->trace = trace;
						ms->done = d;
						return n;
					}
					/* The memo stops short of the end: walk on
					 * from its last frame, memoizing no more. */
					rip = tail.rip;
					rsp = tail.rsp;
					rbp = tail.rbp;
					addr = last ? rip - 1 : rip; /* frame 0's pc is exact */
					m = d = NULL;
					ms = NULL;
					goto step;
				}
				/*
				 * Not the whole memo, but its frames up to the
				 * first step whose words changed (bad; all of them
				 * when only the end differs) are this stack's: with
				 * rbp the same here, every register they carry is
				 * (inherited, or read from words that held). Take
				 * them and walk on from the last.
				 */
				last = bad >= (int)m->n ? m->n - 1 : (unsigned)bad;
				if (m->f[k].rbp == rbp && last > k && nf + (last - k) < CFI_MEMO) {
					fresh[nf++] = m->f[k];
					for (j = k + 1; j <= last; j++) {
						if (n == max) {
							fresh[nf - 1].rule = 0; /* cut here */
							memo_store(ms, d, m, fresh, nf, CFI_MEMO, 0, 0);
							ms->done = d;
							return n;
						}
						ips[n++] = m->f[j].rip;
						fresh[nf++] = m->f[j];
					}
					fresh[nf - 1].rule = 0; /* stepped from below */
					rip = m->f[last].rip;
					rsp = m->f[last].rsp;
					rbp = m->f[last].rbp;
					addr = rip - 1;
					k = last + 1;
					goto step;
				}
			}
		}
		if (ms) {
			fresh[nf].rip = rip;
			fresh[nf].rsp = rsp;
			fresh[nf].rbp = rbp;
			fresh[nf].rule = 0;
			nf++;
		}
step:
		if (n == max) {
			if (d) {
				memo_store(ms, d, m, fresh, nf, CFI_MEMO, 0, 0);
				ms->done = d;
			}
			return n;
		}
		rule = rule_at(rules, addr);
		if (ms)
			fresh[nf - 1].rule = rule;
		if (unlikely((rule & CFI_KIND_MASK) != CFI_STEP)) {
			/* The end: the outermost frame's rule, or a return
			 * address no FDE covers whose frame's rbp is 0. */
			if ((rule & CFI_KIND_MASK) != CFI_LAST &&
			    !((rule & CFI_NO_FDE) && !rbp && addr != rip && !sigreturn_at(rip)))
				goto fall_back;
			if (d) {
				memo_store(ms, d, m, fresh, nf, CFI_MEMO, 0, 0);
				ms->done = d;
			}
			return n;
		}
		cfa = (rule & CFI_CFA_RBP ? rbp : rsp) + (uint64_t)(int64_t)cfi_cfa_off(rule);
		/* Only stack this thread's frames hold: between the walk's
		 * first frame and the stack's top. */
		if (unlikely(cfa <= rsp || cfa - 8 < floor || cfa > hi))
			goto fall_back;
		rip = *(const uint64_t *)(uintptr_t)(cfa - 8);
		if (rule & CFI_RBP_SAVED) {
			uint64_t at = cfa + (uint64_t)(int64_t)cfi_rbp_off(rule);

			if (unlikely(at < floor || at > hi - 8))
				goto fall_back;
			rbp = *(const uint64_t *)(uintptr_t)at;
		}
		rsp = cfa;
		if (rip < 0x4000) {
			/* as libunwind: the end, or nowhere */
			if (d) {
				memo_store(ms, d, m, fresh, nf, CFI_MEMO, cfa, rip);
				ms->done = d;
			}
			return n;
		}
		addr = rip - 1; /* a return address: its call is the instruction before */
	}
fall_back:
	return 0; /* the memo as it was: nothing of this walk kept */
}

NI __attribute__((noinline)) unsigned cfi_backtrace(uint64_t *ips, unsigned max, uintptr_t lo, uintptr_t hi,
						   struct cfi_memo *m)
{
	uint64_t rip, rsp, rbp;

	/* This instruction's address and the registers there: its rule (an
	 * exact pc, not a return address) gives the first step. */
	__asm__ volatile("leaq 1f(%%rip), %0\n\t"
			 "1:\n\t"
			 "movq %%rsp, %1\n\t"
			 "movq %%rbp, %2"
			 : "=&r"(rip), "=&r"(rsp), "=&r"(rbp));
	return walk(ips, max, lo, hi, rip, rsp, rbp, m);
}

NI unsigned cfi_backtrace_from(uint64_t *ips, unsigned max, uintptr_t lo, uintptr_t hi, uint64_t rip, uint64_t rsp,
			       uint64_t rbp)
{
	return walk(ips, max, lo, hi, rip, rsp, rbp, NULL);
}
#endif
