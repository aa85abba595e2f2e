/*
 * The leak check at exit: every block still live, classified the way
 * memcheck and LeakSanitizer do, by a conservative scan (docs/leaks.md).
 *
 * No record of live blocks is kept while the program runs: the blocks'
 * own headers are the record. Every block we hand out carries a 16-byte
 * header whose magic depends on the block's address (agent/heap.h), and
 * free() clears it, so at exit a pass over the anonymous memory finds
 * every live block, in address order, with its size and allocation
 * stack. The cost is all at exit, proportional to resident memory.
 *
 * The steps, run by the exiting thread:
 *   1. stop every other thread: a queued sampling signal (the one the
 *      agent keeps unblocked in every thread) whose handler saves the
 *      thread's registers and waits on a futex until the check is done;
 *   2. read /proc/self/maps (the world is still now, so it stays true);
 *   3. find the blocks: private writable anonymous memory, resident pages
 *      only (mincore), every 16-byte slot tested for a header;
 *   4. mark from the roots: writable data of the modules, anonymous
 *      memory that holds no block (main thread's TLS, the program's own
 *      mmaps), the live part of each thread's stack (from its stack
 *      pointer up), each thread's registers. Every aligned word that
 *      points into a block reaches it, and the blocks reached are scanned
 *      in turn. A pointer to a block's start makes it reachable; a
 *      pointer inside it only possibly (what a block reached only through
 *      possible ones points to is possible as well);
 *   5. what nothing reached is lost: a lost block that another lost block
 *      points to is indirectly lost, the others (and one block of each
 *      cycle of lost blocks) definitely;
 *   6. the counts per allocation stack go into the image (struct
 *      sf_leaks), the threads are let go and the exit goes on.
 *
 * Memory comes from mmap, never malloc; no lock of the program's is
 * taken (not even the loader's: the module list is read from maps). A
 * thread that cannot be stopped (one that has every signal blocked while
 * it exits, say) is waited for a while; if it is still there, the check
 * is not made (SF_LK_THREADS_MISSED): reading memory a running thread
 * may unmap is not safe.
 */
#include "leakscan.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef PR_UNIT_TEST
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#endif

#include "agent.h"
#include "cfi.h"
#include "cpu.h"
#include "heap.h"
#include "image.h"
#include "modules.h"
#include "sigown.h"
#include "trace.h"

#define LK_STOP_MAGIC 0x1ea60000u /* in si_value: a stop request, slot in the low 16 bits */
#define LK_MAX_THREADS 0xffffu
#define LK_REGS 32
#define LK_WAIT_NS (500ull * 1000 * 1000) /* for threads to stop */
#define LK_MAPS_FIRST (1u << 20)
#define LK_REDZONE 128 /* below a stack pointer: the x86-64 red zone */
#define LK_HEAP_STACKS 64 /* threads running on stacks in the heap, at most */
#define LK_ALIGNED_SLACK (4096u + 64u) /* usable size past the request of an aligned block */

struct lk_thread {
	int tid;
	int state; /* 1 once stopped (release), 2 gone or a zombie */
	uint8_t probed; /* its /proc state read once */
	uintptr_t sp;
	uintptr_t stk_lo, stk_hi; /* its own stack, as the agent knows it; 0 unknown */
	uint64_t regs[LK_REGS];
	unsigned nregs;
	uintptr_t dtv; /* the start of its dynamic thread vector's block, 0 unknown */
};

static struct {
	int active;   /* stop requests are taken */
	int release;  /* futex word: 1 when stopped threads may go */
	int stopped;  /* threads stopped so far */
	int never;    /* futex word no one changes: a stopped thread's last wait */
	struct lk_thread *thr;
	unsigned nthr;
} lk;

/*
 * glibc keeps a thread's dynamic thread vector in a calloc'd block and
 * points its thread control block at the vector's second entry, 16 bytes
 * in (x86-64: tcbhead_t.dtv, the second word at %fs:0). That interior
 * pointer would make the block of every thread running at exit "possibly
 * lost" (memcheck's classic pthread_create report); it is the block's.
 */
NI static uintptr_t lk_dtv_block(void)
{
#if defined(__x86_64__)
	uintptr_t tp, dtv;

	__asm__("mov %%fs:0, %0" : "=r"(tp));
	dtv = tp ? ((const uintptr_t *)tp)[1] : 0;
	return dtv > 16 ? dtv - 16 : 0;
#else
	return 0;
#endif
}

/* --- memory of our own ---------------------------------------------------- */

NI static void *lk_map(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Grow *p (of *cap bytes) to hold at least need bytes; 0 or -1. */
NI static int lk_grow(void **p, size_t *cap, size_t need)
{
	size_t n = *cap ? *cap : 65536;
	void *q;

	while (n < need)
		n *= 2;
	if (n == *cap)
		return 0;
	q = *p ? mremap(*p, *cap, n, MREMAP_MAYMOVE) : lk_map(n);
	if (q == MAP_FAILED || !q)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

NI static void lk_unmap(void *p, size_t n)
{
	if (p && n)
		munmap(p, n);
}

/* --- stopping the world ----------------------------------------------------- */

NI static long lk_futex(int *w, int op, int val, const struct timespec *to)
{
	return syscall(SYS_futex, w, op, val, to, NULL, 0);
}

NI int leakscan_stop_here(const siginfo_t *si, void *ucv)
{
	unsigned v, i;
	struct lk_thread *t;
	int saved;

	if (si->si_code != SI_QUEUE || si->si_pid != agent.pid)
		return 0;
	v = (unsigned)si->si_value.sival_int;
	if ((v & 0xffff0000u) != LK_STOP_MAGIC)
		return 0;
	if (!__atomic_load_n(&lk.active, __ATOMIC_ACQUIRE))
		return 1; /* a request that came late: the check is over */
	i = v & 0xffffu;
	if (i >= lk.nthr || lk.thr[i].tid != (int)syscall(SYS_gettid))
		return 1;
	t = &lk.thr[i];
	if (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE))
		return 1; /* a resent request */
	saved = errno;
#if defined(__x86_64__)
	{
		const ucontext_t *uc = ucv;

		t->sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
		for (i = 0; i < NGREG && i < LK_REGS; i++)
			t->regs[i] = (uint64_t)uc->uc_mcontext.gregs[i];
		t->nregs = i;
	}
#elif defined(__aarch64__)
	{
		const ucontext_t *uc = ucv;

		t->sp = (uintptr_t)uc->uc_mcontext.sp;
		for (i = 0; i < 31 && i < LK_REGS; i++)
			t->regs[i] = uc->uc_mcontext.regs[i];
		t->nregs = i;
	}
#else
	(void)ucv;
	t->sp = (uintptr_t)__builtin_frame_address(0);
	t->nregs = 0;
#endif
	t->dtv = lk_dtv_block();
	t->stk_lo = ts.stack_lo;
	t->stk_hi = ts.stack_hi;
	/* The agent's own reference to the last block is no root. */
	ts.last_alloc = NULL;
	__atomic_store_n(&t->state, 1, __ATOMIC_RELEASE);
	__atomic_fetch_add(&lk.stopped, 1, __ATOMIC_RELEASE);
	lk_futex(&lk.stopped, FUTEX_WAKE_PRIVATE, 1, NULL);
	while (!__atomic_load_n(&lk.release, __ATOMIC_ACQUIRE))
		lk_futex(&lk.release, FUTEX_WAIT_PRIVATE, 0, NULL);
	/*
	 * The process is ending: exit_group comes next. Returning now would
	 * end this thread's interrupted call with EINTR (nanosleep, poll,
	 * select, pause: SA_RESTART restarts none of them), which the program
	 * would see and may act on. So wait for the end here instead, for a
	 * bounded while, in case the rest of the exit path waits for this
	 * thread (a lock it holds).
	 */
	for (int k = 0; k < 20; k++) {
		struct timespec to = {0, 100 * 1000 * 1000};
		lk_futex(&lk.never, FUTEX_WAIT_PRIVATE, 0, &to);
	}
	errno = saved;
	return 1;
}

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* Add the threads of /proc/self/task not yet in lk.thr; returns how many
 * were added, -1 when the list cannot be read. */
NI static int lk_list_threads(int self)
{
	char buf[8192];
	int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC), added = 0;
	long n;

	if (fd < 0)
		return -1;
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(void *)(buf + off);
			int tid = 0;
			unsigned k;

			off += d->d_reclen;
			for (const char *c = d->d_name; *c >= '0' && *c <= '9'; c++)
				tid = tid * 10 + (*c - '0');
			if (tid <= 0 || tid == self)
				continue;
			for (k = 0; k < lk.nthr && lk.thr[k].tid != tid; k++)
				;
			if (k < lk.nthr || lk.nthr >= LK_MAX_THREADS)
				continue;
			lk.thr[lk.nthr].tid = tid;
			lk.thr[lk.nthr].state = 0;
			lk.nthr++;
			added++;
		}
	}
	close(fd);
	return n < 0 ? -1 : added;
}

NI static int lk_ask(int pid, unsigned i, int sig)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_signo = sig;
	si.si_code = SI_QUEUE;
	si.si_pid = pid;
	si.si_uid = getuid();
	si.si_value.sival_int = (int)(LK_STOP_MAGIC | i);
	return (int)syscall(SYS_rt_tgsigqueueinfo, pid, lk.thr[i].tid, sig, &si);
}

/* Is thread tid a zombie (a main thread that ended with pthread_exit,
 * whose entry stays until the process ends)? It never answers. */
NI static int lk_zombie(int tid)
{
	char path[48], buf[512];
	int fd, n, len = 0;
	const char *rp;

	memcpy(path, "/proc/self/task/", 16);
	len = 16;
	{
		char d[12];
		int k = 0;
		do
			d[k++] = (char)('0' + tid % 10);
		while ((tid /= 10) && k < 11);
		while (k)
			path[len++] = d[--k];
	}
	memcpy(path + len, "/stat", 6);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT; /* gone meanwhile */
	n = (int)read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	rp = strrchr(buf, ')'); /* the name may hold anything, ')' too */
	return rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X');
}

/* A spare signal's handler: only stop requests come this way. */
NI static void lk_spare_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	leakscan_stop_here(si, uc);
}

/*
 * The signal to stop the threads with: the sampling signal while the
 * agent holds it. Once the program took it over, its handler must never
 * see a request of ours: a real-time signal the program left at SIG_DFL
 * gets our handler instead, for good (a request that comes late must not
 * find the default action, which ends the process). A thread that has
 * that one blocked does not stop, and the check is then not made.
 */
NI static int lk_stop_signal(void)
{
	int sig = cpu_signal();

	if (sig && sigown_held(sig))
		return sig;
	for (int s = SIGRTMAX; s > SIGRTMIN + 2; s--) {
		struct sigaction old, act;

		if (s == sig || sigown_held(s) || sigown_real(s, NULL, &old))
			continue;
		if ((old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL)
			continue;
		memset(&act, 0, sizeof(act));
		act.sa_sigaction = lk_spare_handler;
		act.sa_flags = SA_SIGINFO | SA_RESTART;
		sigfillset(&act.sa_mask);
		if (!sigown_real(s, &act, NULL))
			return s;
	}
	return 0;
}

/*
 * Stop every other thread; 0 when all did (or are gone), -1 when one
 * could not be stopped in time. A legacy signal already pending is not
 * queued twice, so requests are sent again until each thread answers.
 */
NI static int lk_stop_world(int pid, int self, unsigned *nthreads)
{
	int sig;
	uint64_t start = image_now_ns();
	int missing;

	if (lk_list_threads(self) < 0)
		return -1;
	if (!lk.nthr) {
		*nthreads = 0;
		return 0;
	}
	sig = lk_stop_signal();
	if (!sig)
		return -1;
	__atomic_store_n(&lk.active, 1, __ATOMIC_RELEASE);
	for (int round = 0;; round++) {
		missing = 0;
		for (unsigned i = 0; i < lk.nthr; i++) {
			if (__atomic_load_n(&lk.thr[i].state, __ATOMIC_ACQUIRE))
				continue;
			if (lk_ask(pid, i, sig) < 0 && errno == ESRCH) {
				lk.thr[i].state = 2; /* gone */
				continue;
			}
			if (round >= 3 && !lk.thr[i].probed) {
				lk.thr[i].probed = 1;
				if (lk_zombie(lk.thr[i].tid)) {
					lk.thr[i].state = 2;
					continue;
				}
			}
			missing++;
		}
		if (!missing) {
			/* Threads made by a thread not yet stopped. */
			int more = lk_list_threads(self);
			if (more <= 0)
				break;
			continue;
		}
		if (image_now_ns() - start > LK_WAIT_NS)
			return -1;
		{
			int seen = __atomic_load_n(&lk.stopped, __ATOMIC_ACQUIRE);
			struct timespec to = {0, round < 10 ? 200000 : 5000000};

			lk_futex(&lk.stopped, FUTEX_WAIT_PRIVATE, seen, &to);
		}
	}
	*nthreads = 0;
	for (unsigned i = 0; i < lk.nthr; i++)
		*nthreads += lk.thr[i].state == 1;
	return 0;
}

NI static void lk_release_world(void)
{
	__atomic_store_n(&lk.active, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&lk.release, 1, __ATOMIC_RELEASE);
	lk_futex(&lk.release, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL);
}

/* --- the memory map ------------------------------------------------------- */

enum lk_kind {
	LK_SKIP = 0,
	LK_HEAP,      /* holds blocks: not a root */
	LK_ROOT,      /* anonymous, read directly */
	LK_ROOT_FILE, /* file-backed private: read through process_vm_readv */
};

struct lk_region {
	uintptr_t lo, hi;
	uintptr_t scan_lo; /* a stack's: from its stack pointer up */
	uint8_t kind;
	uint8_t anon;
	uint8_t stack;
	uint8_t named_heap; /* [heap] */
	uint8_t shared;     /* rw-s: read only where the program mapped it (lk_mapped_roots) */
};

/* Read /proc/self/maps into a buffer of ours; its length, 0 on failure. */
NI static size_t lk_read_maps(char **out, size_t *cap)
{
	for (size_t want = LK_MAPS_FIRST; want <= (256u << 20); want *= 4) {
		char *buf = lk_map(want);
		size_t len = 0;
		int fd;
		long n;

		if (!buf)
			return 0;
		/* The thread's own: a main thread that ended by pthread_exit
		 * leaves /proc/self's maps empty. */
		fd = open("/proc/thread-self/maps", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			lk_unmap(buf, want);
			return 0;
		}
		while (len < want && (n = read(fd, buf + len, want - len)) > 0)
			len += (size_t)n;
		close(fd);
		if (len < want) {
			*out = buf;
			*cap = want;
			return len;
		}
		lk_unmap(buf, want);
	}
	return 0;
}

NI static uintptr_t lk_hex(const char **s)
{
	uintptr_t v = 0;

	for (;; (*s)++) {
		char c = **s;
		if (c >= '0' && c <= '9')
			v = v * 16 + (uintptr_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (uintptr_t)(c - 'a' + 10);
		else
			return v;
	}
}

/* The writable segments of our own module: no roots. */
extern const ElfW(Ehdr) __ehdr_start __attribute__((visibility("hidden")));

NI static void lk_self_rw(uintptr_t *lo, uintptr_t *hi)
{
	const ElfW(Ehdr) *eh = &__ehdr_start;
	const ElfW(Phdr) *ph = (const ElfW(Phdr) *)(const void *)((const char *)eh + eh->e_phoff);
	uintptr_t bias = 0;
	int have_bias = 0;

	*lo = UINTPTR_MAX;
	*hi = 0;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		if (!have_bias) {
			bias = (uintptr_t)eh - (ph[i].p_vaddr - ph[i].p_offset);
			have_bias = 1;
		}
		if (ph[i].p_flags & PF_W) {
			uintptr_t a = (bias + ph[i].p_vaddr) & ~(uintptr_t)4095;
			uintptr_t b = (bias + ph[i].p_vaddr + ph[i].p_memsz + 4095) & ~(uintptr_t)4095;
			if (a < *lo)
				*lo = a;
			if (b > *hi)
				*hi = b;
		}
	}
}

/*
 * Where the exiting thread's live stack starts: at the innermost frame of
 * the program's own, below the C library's exit path (exit(), the exit
 * handlers) and ours. The frames of exit() lie where main's were when
 * main returned: scanning them would find main's dead locals. Its
 * callee-saved registers, as that frame had them, go into regs (the exit
 * path may have saved them below). Unwound before the other threads stop:
 * libunwind takes the loader's lock, which a stopped thread could hold.
 * fallback when no such frame is found.
 */
NI static uintptr_t lk_program_sp(uintptr_t fallback, uint64_t *regs, unsigned nregs)
{
#if defined(PR_UNIT_TEST) || !defined(__x86_64__)
	(void)regs;
	(void)nregs;
	return fallback;
#else
	static const int saved[] = {UNW_X86_64_RBX, UNW_X86_64_RBP, UNW_X86_64_R12,
				    UNW_X86_64_R13, UNW_X86_64_R14, UNW_X86_64_R15};
	unw_context_t uc;
	unw_cursor_t c;
	struct dl_find_object fo;
	const struct link_map *libc_map = NULL, *self_map = NULL;

	/* _dl_find_object, not dladdr: dladdr searches the module's symbols
	 * for a name we do not need (a fifth of the check's time in a short
	 * process such as ls). */
	if (_dl_find_object((void *)&exit, &fo) == 0)
		libc_map = fo.dlfo_link_map;
	if (_dl_find_object((void *)&lk_program_sp, &fo) == 0)
		self_map = fo.dlfo_link_map;
	if (!libc_map || !self_map || unw_getcontext(&uc) || unw_init_local(&c, &uc))
		return fallback;
	ts.in_unwind = 1;
	for (int n = 0; n < 128 && unw_step(&c) > 0; n++) {
		unw_word_t ip, sp;

		if (unw_get_reg(&c, UNW_REG_IP, &ip) || unw_get_reg(&c, UNW_REG_SP, &sp) || !ip)
			break;
		if (_dl_find_object((void *)(uintptr_t)(ip - 1), &fo) != 0)
			break; /* code of no module (a JIT's): keep every frame */
		if (fo.dlfo_link_map == libc_map || fo.dlfo_link_map == self_map)
			continue;
		for (unsigned k = 0; k < nregs && k < sizeof(saved) / sizeof(saved[0]); k++) {
			unw_word_t v = 0;
			if (!unw_get_reg(&c, saved[k], &v))
				regs[k] = v;
		}
		ts.in_unwind = 0;
		return (uintptr_t)sp;
	}
	ts.in_unwind = 0;
	return fallback;
#endif
}

/* --- blocks ----------------------------------------------------------------- */

struct lk_block {
	uintptr_t user;
	uint64_t size;     /* requested */
	uint64_t readable; /* bytes from user that lie in its region */
	uint32_t trace;
	uint8_t state;     /* 0 unreached, 1 possibly, 2 reachable */
	uint8_t mine;      /* counted, this process and epoch */
	uint8_t lost_parent;
	uint8_t cls;       /* enum sf_leak_class, +1; 0 not yet */
};

static struct {
	struct lk_block *b;
	size_t n, cap_bytes;
	uintptr_t lo, hi; /* lowest start, highest end */
	uint32_t *work;
	size_t nwork, work_cap;
	uint64_t root_bytes, block_bytes;
	int no_room;
} bk;

NI static void lk_add_block(uintptr_t user, const struct heap_hdr *h, uintptr_t region_hi)
{
	struct lk_block *b;
	uint64_t size = heap_hdr_size(h);

	if ((bk.n + 1) * sizeof(*bk.b) > bk.cap_bytes &&
	    lk_grow((void **)&bk.b, &bk.cap_bytes, (bk.n + 1) * sizeof(*bk.b))) {
		bk.no_room = 1;
		return;
	}
	b = &bk.b[bk.n++];
	b->user = user;
	b->size = size;
	b->readable = user + size <= region_hi ? size : region_hi - user;
	b->trace = heap_hdr_trace(h);
	b->state = 0;
	b->mine = heap_hdr_counted(h) && heap_hdr_tagep(h) == heap_tag();
	b->lost_parent = 0;
	b->cls = 0;
	if (!bk.lo || user < bk.lo)
		bk.lo = user;
	if (user + (size ? size : 1) > bk.hi)
		bk.hi = user + (size ? size : 1);
}

/*
 * Find the headers in [lo, hi) of a region ending at region_hi. A front
 * header sits at user - 16 with the magic of user; an aligned block's
 * end header sits in its last 16 usable bytes, so its user is found from
 * the magic: the low 32 bits of (user >> 4), within a small slack of the
 * requested size below the header.
 */
NI static size_t lk_find_in(uintptr_t lo, uintptr_t hi, uintptr_t region_hi)
{
	size_t found = 0;

	for (uintptr_t q = lo; q + HDR_SIZE <= hi; q += 16) {
		const struct heap_hdr *h = (const struct heap_hdr *)q;
		uint32_t m = (uint32_t)(h->w1 >> 32);
		uintptr_t end = q + HDR_SIZE;

		if (m == heap_magic((void *)end)) {
			unsigned shift = heap_hdr_shift(h);
			if ((shift == 4 || shift == 5) && heap_hdr_ptag(h) && heap_hdr_size(h) <= region_hi - end) {
				lk_add_block(end, h, region_hi);
				found++;
			}
			continue;
		}
		/* end - user, in 16-byte units, if this is an end header */
		uint32_t d = (uint32_t)(end >> 4) - (m ^ HDR_MAGIC_TAIL);
		uint64_t usable = (uint64_t)d * 16, size;

		if (heap_hdr_shift(h) || !heap_hdr_ptag(h))
			continue;
		size = heap_hdr_size(h);
		if (usable < size + HDR_SIZE || usable > size + HDR_SIZE + LK_ALIGNED_SLACK || usable > end - lo + 4096)
			continue;
		uintptr_t user = end - usable;
		if ((user & (HDR_TAIL_ALIGN - 1)) || heap_magic_tail((void *)user) != m)
			continue;
		/* Blocks are kept in address order: an end header is seen
		 * after the blocks before its start. */
		if (bk.n && bk.b[bk.n - 1].user >= user)
			continue;
		lk_add_block(user, h, region_hi);
		found++;
	}
	return found;
}

/* Resident parts of [lo, hi), in calls of fn; pages not resident hold
 * nothing of interest (untouched, or swapped out: see docs/leaks.md). */
typedef void (*lk_range_fn)(uintptr_t lo, uintptr_t hi, void *arg);

NI static void lk_resident(uintptr_t lo, uintptr_t hi, lk_range_fn fn, void *arg)
{
	unsigned char vec[512];
	const uintptr_t win = sizeof(vec) * 4096;

	for (uintptr_t w = lo; w < hi; w += win) {
		uintptr_t e = w + win < hi ? w + win : hi;
		size_t pages = (e - w + 4095) / 4096;
		uintptr_t run = 0;

		if (mincore((void *)w, e - w, vec)) {
			fn(w, e, arg); /* cannot tell: read it all */
			continue;
		}
		for (size_t i = 0; i <= pages; i++) {
			int in = i < pages && (vec[i] & 1);
			uintptr_t at = w + i * 4096;
			if (in && !run)
				run = at;
			else if (!in && run) {
				fn(run, at < e ? at : e, arg);
				run = 0;
			}
		}
	}
}

struct lk_find_arg {
	uintptr_t region_hi;
	size_t found;
};

NI static void lk_find_cb(uintptr_t lo, uintptr_t hi, void *arg)
{
	struct lk_find_arg *a = arg;

	a->found += lk_find_in(lo, hi, a->region_hi);
}

/* The block v points into: its index, or -1. */
NI static long lk_lookup(uintptr_t v)
{
	size_t lo = 0, hi = bk.n;

	if (v < bk.lo || v >= bk.hi)
		return -1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (bk.b[mid].user <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -1;
	lo--;
	if (v < bk.b[lo].user + bk.b[lo].size || v == bk.b[lo].user)
		return (long)lo;
	return -1;
}

NI static void lk_push(uint32_t i)
{
	if (bk.nwork >= bk.work_cap) {
		size_t cap = bk.work_cap * sizeof(uint32_t);
		if (lk_grow((void **)&bk.work, &cap, (bk.nwork + 1) * sizeof(uint32_t))) {
			bk.no_room = 1;
			return;
		}
		bk.work_cap = cap / sizeof(uint32_t);
	}
	bk.work[bk.nwork++] = i;
}

/*
 * The aligned-allocation idiom: a block allocated larger, the pointer
 * kept rounded up to an alignment, the block's own start stored in the
 * word just below the rounded pointer, at it or just above it, for the
 * free (glibc's _dl_find_object segments keep it in their second word,
 * "to_free"). v, 8-aligned inside b, is then the block's pointer as much
 * as its start is.
 */
static inline int lk_back_pointer(const struct lk_block *b, uintptr_t v)
{
	uintptr_t end = b->user + b->readable;

	if (v & 7 || v < b->user + 8 || v + 16 > end)
		return 0;
	return ((const uintptr_t *)v)[-1] == b->user || ((const uintptr_t *)v)[0] == b->user ||
	       ((const uintptr_t *)v)[1] == b->user;
}

/*
 * A thread's dynamic thread vector, from its control block: 16 bytes in,
 * in a block of (n + 2) entries of 16 bytes whose first word is n
 * (glibc's calloc (n + 2, sizeof (dtv_t)), dtv[-1].counter = n). A
 * thread that ended keeps its control block in glibc's cache of stacks,
 * pointing there still.
 */
static inline int lk_dtv_pointer(const struct lk_block *b, uintptr_t v)
{
	uint64_t n;

	if (v != b->user + 16 || b->readable < 16)
		return 0;
	n = *(const uint64_t *)b->user;
	return n && n < (1u << 20) && b->size == (n + 2) * 16;
}

/*
 * A word v seen in memory reached with state from (2: from a root or a
 * reachable block). A pointer to a block's start passes from on; one
 * inside it at most "possibly". C++'s new[] of a type with a destructor
 * returns the block's start + 8, the element count stored in front: that
 * counts as the start.
 */
static inline void lk_reach(uintptr_t v, uint8_t from)
{
	long i;
	struct lk_block *b;
	uint8_t s;

	if (v < bk.lo || v >= bk.hi)
		return;
	i = lk_lookup(v);
	if (i < 0)
		return;
	b = &bk.b[i];
	s = from;
	if (v != b->user && s > 1) {
		int cookie = v == b->user + 8 && b->readable >= 8 && *(const uint64_t *)b->user &&
			     (b->size - 8) % *(const uint64_t *)b->user == 0 &&
			     (b->size - 8) / *(const uint64_t *)b->user > 0;
		if (!cookie && !lk_back_pointer(b, v) && !lk_dtv_pointer(b, v))
			s = 1;
	}
	if (s > b->state) {
		b->state = s;
		lk_push((uint32_t)i);
	}
}

/* A start pointer the roots hold in a form a scan would not see. */
NI static void lk_reach_start(uintptr_t v)
{
	long i = v ? lk_lookup(v) : -1;

	if (i >= 0 && bk.b[i].user == v && bk.b[i].state < 2) {
		bk.b[i].state = 2;
		lk_push((uint32_t)i);
	}
}

NI static void lk_scan_words(uintptr_t lo, uintptr_t hi, uint8_t from)
{
	lo = (lo + 7) & ~(uintptr_t)7;
	for (uintptr_t p = lo; p + 8 <= hi; p += 8)
		lk_reach(*(const uintptr_t *)p, from);
}

NI static void lk_root_cb(uintptr_t lo, uintptr_t hi, void *arg)
{
	(void)arg;
	bk.root_bytes += hi - lo;
	lk_scan_words(lo, hi, 2);
}

/* A file-backed region's pages, read safely: a page past the file's end
 * would fault if touched. */
NI static void lk_read_file_pages(uintptr_t lo, uintptr_t hi, int pid)
{
	static uintptr_t buf[8192 / sizeof(uintptr_t)];

	for (uintptr_t p = lo; p < hi; p += sizeof(buf)) {
		size_t len = hi - p < sizeof(buf) ? hi - p : sizeof(buf);
		struct iovec l = {buf, len}, r = {(void *)p, len};
		ssize_t got = syscall(SYS_process_vm_readv, pid, &l, 1UL, &r, 1UL, 0UL);

		if (got <= 0)
			continue;
		bk.root_bytes += (size_t)got;
		for (size_t k = 0; k < (size_t)got / sizeof(uintptr_t); k++)
			lk_reach(buf[k], 2);
	}
}

#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
#define PM_FILE    (1ull << 61) /* file page or shared anonymous: not written by the process */

/*
 * A private file mapping's pages hold the file's bytes until the process
 * writes one (copy on write): only those written can hold a pointer the
 * program stored. /proc/self/pagemap tells which (present or swapped,
 * and no longer the file's page), so a large mapping the program only
 * reads (a 2 GiB database file) costs a read of its page map, not of the
 * file. Without the page map (pm < 0), every page is read.
 */
NI static void lk_root_file(uintptr_t lo, uintptr_t hi, int pid, int pm)
{
	uint64_t ent[512];

	if (pm < 0) {
		lk_read_file_pages(lo, hi, pid);
		return;
	}
	for (uintptr_t w = lo; w < hi;) {
		size_t pages = (hi - w) / 4096 < 512 ? (hi - w) / 4096 : 512;
		ssize_t got = pread(pm, ent, pages * sizeof(ent[0]), (off_t)(w / 4096 * sizeof(ent[0])));
		uintptr_t run = 0;
		size_t n;

		if (got <= 0) {
			lk_read_file_pages(w, hi, pid);
			return;
		}
		n = (size_t)got / sizeof(ent[0]);
		for (size_t i = 0; i <= n; i++) {
			int written = i < n && (ent[i] & (PM_PRESENT | PM_SWAPPED)) && !(ent[i] & PM_FILE);
			uintptr_t at = w + i * 4096;
			if (written && !run)
				run = at;
			else if (!written && run) {
				lk_read_file_pages(run, at, pid);
				run = 0;
			}
		}
		w += n * 4096;
	}
}

NI static void lk_propagate(void)
{
	while (bk.nwork) {
		struct lk_block *b = &bk.b[bk.work[--bk.nwork]];

		bk.block_bytes += b->readable;
		lk_scan_words(b->user, b->user + b->readable, b->state);
	}
}

/* Lost block i points to the lost blocks it reaches: each gets f(i, j). */
NI static void lk_lost_children(size_t i, int mark_parent)
{
	struct lk_block *b = &bk.b[i];
	uintptr_t lo = b->user, hi = b->user + b->readable;

	for (uintptr_t p = lo; p + 8 <= hi; p += 8) {
		uintptr_t v = *(const uintptr_t *)p;
		long j;

		if (v < bk.lo || v >= bk.hi || (j = lk_lookup(v)) < 0 || (size_t)j == i || bk.b[j].state)
			continue;
		if (mark_parent)
			bk.b[j].lost_parent = 1;
		else if (!bk.b[j].cls) {
			bk.b[j].cls = SF_LEAK_INDIRECT + 1;
			lk_push((uint32_t)j);
		}
	}
}

NI static void lk_lead(size_t i)
{
	bk.b[i].cls = SF_LEAK_DEFINITE + 1;
	lk_push((uint32_t)i);
	while (bk.nwork)
		lk_lost_children(bk.work[--bk.nwork], 0);
}

NI static void lk_classify_lost(void)
{
	for (size_t i = 0; i < bk.n; i++)
		if (!bk.b[i].state)
			lk_lost_children(i, 1);
	for (size_t i = 0; i < bk.n; i++)
		if (!bk.b[i].state && !bk.b[i].lost_parent && !bk.b[i].cls)
			lk_lead(i);
	/* Cycles nothing outside them points to: one block leads each. */
	for (size_t i = 0; i < bk.n; i++)
		if (!bk.b[i].state && !bk.b[i].cls)
			lk_lead(i);
}

/* --- the result ------------------------------------------------------------- */

/* A classified block's enum sf_leak_class. */
static inline unsigned lk_class(const struct lk_block *b)
{
	return b->state == 2 ? SF_LEAK_REACHABLE : b->state == 1 ? SF_LEAK_POSSIBLE : b->cls - 1u;
}

/* The totals into *head, the counts per stack into a table, and both
 * into the image. */
/* The slot of key in tab[cap]: its own or the empty one it would take. */
static inline size_t lk_site_slot(const struct sf_leak_site *tab, size_t cap, uint32_t key)
{
	size_t k = sf_trace_slot(key, (uint32_t)(cap - 1));

	while (tab[k].pad && tab[k].trace != key)
		k = (k + 1) & (cap - 1);
	return k;
}

/* Double the site table (a fresh mapping, rehashed): 0, or -1 with the
 * old one kept. */
NI static int lk_sites_double(struct sf_leak_site **tab, size_t *cap, size_t *bytes)
{
	size_t ncap = *cap * 2, nbytes = 0;
	struct sf_leak_site *nt = NULL;

	if (lk_grow((void **)&nt, &nbytes, ncap * sizeof(*nt)))
		return -1;
	for (size_t k = 0; k < *cap; k++)
		if ((*tab)[k].pad)
			nt[lk_site_slot(nt, ncap, (*tab)[k].trace)] = (*tab)[k];
	lk_unmap(*tab, *bytes);
	*tab = nt;
	*cap = ncap;
	*bytes = nbytes;
	return 0;
}

NI static void lk_publish(struct sf_process *p, struct sf_leaks *head)
{
	struct sf_leak_site *tab = NULL;
	size_t cap = 64, max_cap = 64, tab_bytes = 0, nsites = 0;
	struct sf_leaks *out;
	uint32_t flags = head->flags;
	sf_off off;

	/* Sized by the sites found, not the blocks: a short process's few
	 * dozen make a page or two of it, not one per 56 slots of a table
	 * for every block. It grows to what the blocks could need. */
	while (max_cap < 2 * head->blocks_found + 2 && max_cap < (1u << 22))
		max_cap *= 2;
	if (lk_grow((void **)&tab, &tab_bytes, cap * sizeof(*tab))) {
		cap = 0;
		flags |= SF_LK_NO_ROOM;
	}
	nsites = 0;
	for (size_t i = 0; i < bk.n; i++) {
		const struct lk_block *b = &bk.b[i];
		unsigned c = lk_class(b);
		uint32_t key = b->trace;
		size_t k;

		if (!b->mine)
			continue;
		head->blocks[c]++;
		head->bytes[c] += b->size;
		if (!cap)
			continue;
		k = lk_site_slot(tab, cap, key);
		if (!tab[k].pad && nsites + 1 >= cap / 2 && cap < max_cap &&
		    !lk_sites_double(&tab, &cap, &tab_bytes))
			k = lk_site_slot(tab, cap, key);
		if (!tab[k].pad) {
			if (nsites + 1 >= cap / 2 && key) {
				/* Full: into the stackless row. */
				key = 0;
				flags |= SF_LK_SITES_FULL;
				k = 0;
				while (tab[k].pad && tab[k].trace != 0)
					k = (k + 1) & (cap - 1);
				if (tab[k].pad)
					goto add;
			}
			tab[k].pad = 1;
			tab[k].trace = key;
			nsites++;
		}
add:
		if (agent.set.sample_bytes && key) {
			/* Weighted as the site's own counts (agent/heap.h). */
			uint64_t wc, wb;

			heap_weights(b->size, agent.set.sample_bytes, &wc, &wb);
			tab[k].blocks[c] += wc;
			tab[k].bytes[c] += wb;
		} else {
			tab[k].blocks[c]++;
			tab[k].bytes[c] += b->size;
		}
	}
	off = image_alloc(sizeof(*out) + nsites * sizeof(*tab));
	if (!off && nsites) {
		off = image_alloc(sizeof(*out));
		nsites = 0;
		flags |= SF_LK_NO_ROOM;
	}
	if (off) {
		out = image_ptr(off);
		*out = *head;
		out->flags = flags;
		out->nsites = (uint32_t)nsites;
		for (size_t k = 0, n = 0; k < cap && n < nsites; k++)
			if (tab[k].pad) {
				out->sites[n] = tab[k];
				out->sites[n].pad = 0;
				n++;
			}
		__atomic_store_n(&p->leaks, off, __ATOMIC_RELEASE);
	}
	lk_unmap(tab, tab_bytes);
}

/* --- the check -------------------------------------------------------------- */


NI static size_t lk_parse_maps(const char *m, size_t len, struct lk_region *r, size_t max)
{
	const char *s = m, *end = m + len;
	size_t n = 0;

	while (s < end && n < max) {
		const char *eol = memchr(s, '\n', (size_t)(end - s));
		const char *perms, *path;
		uintptr_t inode = 0;
		struct lk_region *x = &r[n];

		if (!eol)
			eol = end;
		memset(x, 0, sizeof(*x));
		x->lo = lk_hex(&s);
		if (*s == '-')
			s++;
		x->hi = lk_hex(&s);
		if (*s == ' ')
			s++;
		perms = s;
		/* offset, device, inode */
		for (int f = 0; f < 3 && s < eol; f++) {
			while (s < eol && *s != ' ')
				s++;
			while (s < eol && *s == ' ')
				s++;
			if (f == 1)
				for (const char *c = s; c < eol && *c >= '0' && *c <= '9'; c++)
					inode = inode * 10 + (uintptr_t)(*c - '0');
		}
		while (s < eol && *s != ' ')
			s++;
		while (s < eol && *s == ' ')
			s++;
		path = s;
		if (eol - perms >= 4 && perms[0] == 'r' && perms[1] == 'w' && perms[3] == 'p' && x->hi > x->lo) {
			if (path < eol && *path == '[') {
				/* [heap], [stack] and named anonymous memory are
				 * ours to read; [vvar] and the like are not. */
				x->named_heap = !strncmp(path, "[heap]", 6);
				x->anon = x->named_heap || !strncmp(path, "[stack]", 7) || !strncmp(path, "[anon:", 6);
				x->kind = x->anon ? LK_ROOT : LK_SKIP;
			} else if (path == eol && !inode) {
				x->anon = 1;
				x->kind = LK_ROOT;
			} else {
				x->kind = LK_ROOT_FILE; /* a file, a memfd, /dev/zero: read safely */
			}
			n++;
		} else if (eol - perms >= 4 && perms[0] == 'r' && perms[1] == 'w' && perms[3] == 's' && x->hi > x->lo) {
			x->shared = 1;
			x->kind = LK_SKIP;
			n++;
		}
		s = eol + 1;
	}
	return n;
}

/* Regions an exclusion may split off: a few of ours, and the chunks the
 * walk memos are carved from (agent/trace.c). */
#define LK_SPLIT_ROOM (64 + 64)

/* Leave [lo, hi) out of every region (our own memory). */
NI static void lk_exclude(struct lk_region *r, size_t *n, size_t max, uintptr_t lo, uintptr_t hi)
{
	for (size_t i = 0; i < *n; i++) {
		struct lk_region *x = &r[i];
		if (x->hi <= lo || x->lo >= hi)
			continue;
		if (x->lo >= lo && x->hi <= hi) {
			x->kind = LK_SKIP;
		} else if (x->lo < lo && x->hi > hi) {
			/* Split in two. */
			if (*n >= max) {
				x->kind = LK_SKIP;
				continue;
			}
			memmove(&r[i + 2], &r[i + 1], (*n - i - 1) * sizeof(*r));
			r[i + 1] = *x;
			r[i + 1].lo = hi;
			x->hi = lo;
			(*n)++;
			i++;
		} else if (x->lo < lo) {
			x->hi = lo;
		} else {
			x->lo = hi;
		}
	}
}

/* Is r the start of a glibc arena's heap (64 MiB aligned, the reserve
 * after it not yet usable)? It holds blocks, even when none is live. */
NI static int lk_arena_like(const struct lk_region *r)
{
	const size_t *hi; /* glibc's heap_info: ar_ptr, prev, size, mprotect_size */

	if (!r->anon || (r->lo & ((64ul << 20) - 1)) || r->hi - r->lo > (64ul << 20) || r->hi - r->lo < 4096)
		return 0;
	hi = (const size_t *)r->lo;
	return hi[0] && hi[2] && hi[2] <= r->hi - r->lo && hi[3] >= hi[2];
}

/* The first region that ends above a. */
NI static size_t lk_region_from(const struct lk_region *r, size_t n, uintptr_t a)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r[mid].hi <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

NI static struct lk_region *lk_region_of(struct lk_region *r, size_t n, uintptr_t a)
{
	size_t lo = lk_region_from(r, n, a);

	return lo < n && r[lo].lo <= a ? &r[lo] : NULL;
}

/*
 * Where a stack the program allocated from the heap ends, for a thread
 * whose stack pointer sp lies in heap region x: its stack's own end when
 * the agent knows it, else the end of the block holding sp. That block
 * is reachable: a thread runs on it.
 */
NI static uintptr_t lk_heap_stack_end(const struct lk_region *x, uintptr_t sp, uintptr_t stk_lo, uintptr_t stk_hi)
{
	long b = lk_lookup(sp);
	uintptr_t end = x->hi;

	if (b >= 0) {
		lk_reach_start(bk.b[b].user);
		end = bk.b[b].user + bk.b[b].readable;
	}
	if (stk_hi && sp >= stk_lo && sp < stk_hi && stk_hi <= x->hi)
		end = stk_hi;
	return end > sp ? end : sp;
}

/*
 * The program's own anonymous mappings, as agent/mmaps.c recorded them,
 * are roots wherever they lie: the kernel merges one with glibc's mapping
 * of a large block next to it into one line of the memory map, which
 * then reads as heap; and a shared one (MAP_SHARED) is no private line at
 * all. Only the parts of such lines that the program mapped are read.
 */
NI static void lk_mapped_roots(const struct lk_region *r, size_t n)
{
	const struct sf_process *p = agent.proc;
	sf_off off = p ? __atomic_load_n(&p->mmaps, __ATOMIC_ACQUIRE) : 0;
	const struct sf_mmaps *t = off ? image_ptr(off) : NULL;

	for (unsigned k = 0; t && k < SF_MMAP_REGIONS; k++) {
		const struct sf_mregion *m = &t->regions[k];
		uintptr_t a, b;

		if (__atomic_load_n(&m->state, __ATOMIC_ACQUIRE) != SF_MR_LIVE)
			continue;
		a = (uintptr_t)m->start;
		b = a + (uintptr_t)m->len;
		for (size_t i = lk_region_from(r, n, a); i < n && r[i].lo < b; i++) {
			const struct lk_region *x = &r[i];

			if (x->kind != LK_HEAP && !x->shared)
				continue;
			lk_resident(a > x->lo ? a : x->lo, b < x->hi ? b : x->hi, lk_root_cb, NULL);
			lk_propagate();
		}
	}
}

NI int leakscan_run(void)
{
	static int once;
	struct sf_process *p = agent.proc;
	struct sf_leaks head;
	uint64_t self_regs[12] = {0};
	uintptr_t sp_self = (uintptr_t)__builtin_frame_address(0);
	char *maps = NULL;
	size_t maps_cap = 0, maps_len, nreg, reg_bytes = 0, thr_bytes;
	struct lk_region *reg = NULL;
	uintptr_t self_lo, self_hi;
	int pid = agent.pid, self = (int)syscall(SYS_gettid), pm;
	uint8_t saved_state = ts.state;
	uintptr_t heapstk[LK_HEAP_STACKS][2];
	unsigned nheapstk = 0;
	int maps_read = 0;

#if defined(__x86_64__)
	/* What the callers keep in callee-saved registers. */
	__asm__ volatile("mov %%rbx, 0(%0)\n\tmov %%rbp, 8(%0)\n\tmov %%r12, 16(%0)\n\t"
			 "mov %%r13, 24(%0)\n\tmov %%r14, 32(%0)\n\tmov %%r15, 40(%0)"
			 :
			 : "r"(self_regs)
			 : "memory");
#endif
	if (!agent.set.leak_check || agent.tracking != 1 || agent.fork_child || !p ||
	    __atomic_exchange_n(&once, 1, __ATOMIC_ACQ_REL))
		return 0;
	memset(&head, 0, sizeof(head));
	memset(&bk, 0, sizeof(bk));
	head.scan_ns = image_now_ns();
	ts.state = TS_BUSY;
	ts.last_alloc = NULL;

	sp_self = lk_program_sp(sp_self, self_regs + 6, 6);
	thr_bytes = (size_t)(LK_MAX_THREADS + 1) * sizeof(struct lk_thread);
	lk.thr = lk_map(thr_bytes);
	if (!lk.thr)
		goto out;
	if (lk_stop_world(pid, self, &head.threads) < 0) {
		head.flags |= SF_LK_THREADS_MISSED;
		head.threads = lk.nthr;
		head.threads_stopped = (uint32_t)__atomic_load_n(&lk.stopped, __ATOMIC_ACQUIRE);
		goto publish_empty;
	}
	head.threads_stopped = (uint32_t)__atomic_load_n(&lk.stopped, __ATOMIC_ACQUIRE);

	maps_len = lk_read_maps(&maps, &maps_cap);
	if (maps_len) {
		/* The module map from the same read (process_end's scan). */
		modules_scan_maps_text(maps, maps_len);
		maps_read = 1;
	}
	if (!maps_len) {
		head.flags |= SF_LK_NO_ROOM;
		goto publish_empty;
	}
	{
		size_t lines = 16;
		for (size_t i = 0; i < maps_len; i++)
			lines += maps[i] == '\n';
		lines += LK_SPLIT_ROOM;
		if (lk_grow((void **)&reg, &reg_bytes, lines * sizeof(*reg))) {
			head.flags |= SF_LK_NO_ROOM;
			goto publish_empty;
		}
		nreg = lk_parse_maps(maps, maps_len, reg, lines - LK_SPLIT_ROOM);
		lk_self_rw(&self_lo, &self_hi);
		if (self_lo < self_hi)
			lk_exclude(reg, &nreg, lines, self_lo, self_hi);
		lk_exclude(reg, &nreg, lines, (uintptr_t)maps, (uintptr_t)maps + maps_cap);
		lk_exclude(reg, &nreg, lines, (uintptr_t)lk.thr, (uintptr_t)lk.thr + thr_bytes);
		cfi_table_span(&self_lo, &self_hi);
		if (self_lo < self_hi)
			lk_exclude(reg, &nreg, lines, self_lo, self_hi);
		{
			uintptr_t span[64][2];
			unsigned ns = trace_memo_spans(span, 64);

			for (unsigned k = 0; k < ns; k++)
				lk_exclude(reg, &nreg, lines, span[k][0], span[k][1]);
		}
	}

	/* The blocks, and which anonymous regions hold them: stacks too, for
	 * a thread may run on a stack the program allocated (a header's
	 * magic depends on its address: a copy of one never validates). */
	for (size_t i = 0; i < nreg; i++) {
		struct lk_region *x = &reg[i];
		struct lk_find_arg a = {x->hi, 0};

		if (x->kind != LK_ROOT)
			continue;
		lk_resident(x->lo, x->hi, lk_find_cb, &a);
		if (a.found || x->named_heap || lk_arena_like(x))
			x->kind = LK_HEAP;
	}
	if (bk.no_room) {
		head.flags |= SF_LK_NO_ROOM;
		goto publish_empty;
	}
	/* Blocks are found in address order; a phantom could break that. */
	for (size_t i = 1; i < bk.n; i++)
		if (bk.b[i].user <= bk.b[i - 1].user) {
			head.flags |= SF_LK_NO_ROOM;
			goto publish_empty;
		}
	head.nodes = bk.n;
	for (size_t i = 0; i < bk.n; i++)
		head.blocks_found += bk.b[i].mine;

	/* Stacks: from each thread's stack pointer up. */
	for (unsigned i = 0; i <= lk.nthr; i++) {
		struct lk_thread *t = i < lk.nthr ? &lk.thr[i] : NULL;
		uintptr_t sp = t ? (t->state == 1 ? t->sp : 0) : sp_self;
		struct lk_region *x;

		if (!sp)
			continue;
		if (t)
			sp = sp > LK_REDZONE ? sp - LK_REDZONE : 0;
		x = lk_region_of(reg, nreg, sp);
		if (x && x->kind == LK_ROOT) {
			if (!x->stack || sp < x->scan_lo)
				x->scan_lo = sp;
			x->stack = 1;
		} else if (x && x->kind == LK_HEAP && nheapstk < LK_HEAP_STACKS) {
			heapstk[nheapstk][0] = sp;
			heapstk[nheapstk][1] = lk_heap_stack_end(x, sp, t ? t->stk_lo : ts.stack_lo,
								 t ? t->stk_hi : ts.stack_hi);
			nheapstk++;
		}
	}

	/* Mark from the roots. */
	for (unsigned i = 0; i < lk.nthr; i++)
		for (unsigned k = 0; lk.thr[i].state == 1 && k < lk.thr[i].nregs; k++)
			lk_reach((uintptr_t)lk.thr[i].regs[k], 2);
	for (unsigned k = 0; k < sizeof(self_regs) / sizeof(self_regs[0]); k++)
		lk_reach((uintptr_t)self_regs[k], 2);
	for (unsigned i = 0; i < lk.nthr; i++)
		if (lk.thr[i].state == 1)
			lk_reach_start(lk.thr[i].dtv);
	lk_reach_start(lk_dtv_block());
	lk_propagate();
	for (unsigned k = 0; k < nheapstk; k++) {
		lk_resident(heapstk[k][0], heapstk[k][1], lk_root_cb, NULL);
		lk_propagate();
	}
	pm = open("/proc/thread-self/pagemap", O_RDONLY | O_CLOEXEC);
	for (size_t i = 0; i < nreg; i++) {
		struct lk_region *x = &reg[i];

		if (x->kind == LK_ROOT)
			lk_resident(x->stack ? x->scan_lo : x->lo, x->hi, lk_root_cb, NULL);
		else if (x->kind == LK_ROOT_FILE)
			lk_root_file(x->lo, x->hi, self, pm); /* not pid: a zombie once main ended by pthread_exit */
		lk_propagate();
	}
	if (pm >= 0)
		close(pm);
	lk_mapped_roots(reg, nreg);
	lk_classify_lost();
	if (bk.no_room)
		head.flags |= SF_LK_NO_ROOM;
	head.root_bytes = bk.root_bytes;
	head.block_bytes = bk.block_bytes;
	goto publish;

publish_empty:
	head.flags |= SF_LK_NOT_RUN;
	bk.n = 0;
publish:
	/* The others go first: the image's allocator may wait for one. */
	lk_release_world();
	head.scan_ns = image_now_ns() - head.scan_ns;
	lk_publish(p, &head);
out:
	lk_release_world();
	lk_unmap(bk.b, bk.cap_bytes);
	lk_unmap(bk.work, bk.work_cap * sizeof(uint32_t));
	lk_unmap(reg, reg_bytes);
	lk_unmap(maps, maps_cap);
	/* lk.thr stays: a stopped thread reads it until it runs again. */
	memset(&bk, 0, sizeof(bk));
	ts.state = saved_state;
	return maps_read;
}
