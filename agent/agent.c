/*
 * Agent lifecycle: one-time process initialisation (from the first hook or
 * the constructor, whichever runs first), thread records, fork, exit.
 */
#include "agent.h"
#include "cfi.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "cpu.h"
#include "crash.h"
#include "heap.h"
#include "leakscan.h"
#include "image.h"
#include "log.h"
#include "follow.h"
#include "modules.h"
#include "unwfd.h"

struct agent agent;
__thread struct tstate ts __attribute__((tls_model("initial-exec")));

static pthread_key_t thread_key;
static struct sf_thread fallback_rec; /* used when the image has no room */
static struct sf_process fallback_proc; /* a fork child that found no slot */

extern char **environ;

NI int agent_gettid(void)
{
	return (int)syscall(SYS_gettid);
}

/* Environment before libc has set environ: read what exec gave us. */
NI static char **early_environ(void)
{
	static char buf[65536];
	static char *vec[512];
	size_t n, k = 0;

	if (environ)
		return environ;
	n = image_read_file("/proc/self/environ", buf, sizeof(buf) - 1);
	buf[n] = 0;
	for (size_t i = 0; i < n && k < 511; i += strlen(buf + i) + 1)
		vec[k++] = buf + i;
	vec[k] = NULL;
	return vec;
}

NI static void resolve_real(void)
{
	struct real_alloc real, *r = &real;

	r->malloc = dlsym(RTLD_NEXT, "malloc");
	r->free = dlsym(RTLD_NEXT, "free");
	r->calloc = dlsym(RTLD_NEXT, "calloc");
	r->realloc = dlsym(RTLD_NEXT, "realloc");
	r->memalign = dlsym(RTLD_NEXT, "memalign");
	r->posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
	r->aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
	r->valloc = dlsym(RTLD_NEXT, "valloc");
	r->pvalloc = dlsym(RTLD_NEXT, "pvalloc");
	r->usable_size = dlsym(RTLD_NEXT, "malloc_usable_size");
	r->dlopen = dlsym(RTLD_NEXT, "dlopen");
	r->dlclose = dlsym(RTLD_NEXT, "dlclose");
	r->exit_raw = dlsym(RTLD_NEXT, "_exit");
	/* Published at once: dlsym above may allocate, and those calls must
	 * see either no allocator (arena) or a complete one. */
	memcpy(&agent.real, &real, sizeof(real));
}

NI static void on_exit_cb(int code, void *arg)
{
	(void)arg;
	agent_process_exit(code);
}

NI static void thread_key_dtor(void *arg)
{
	(void)arg;
	agent_thread_exit();
}

NI static void after_fork_child(void);
NI static void after_fork_parent(void);

/* Tags of this process's ancestors (inherited by fork): blocks they
 * allocated may be live here, and must never look like ours. */
static uint64_t ancestor_tags[4096 / 64];

/* The 12-bit tag of process slot idx in block headers: never 0 (a zeroed
 * header must not look like ours) and never an ancestor's, since with
 * more than 4095 processes slots share tags. */
NI static uint32_t pick_tag(uint32_t idx)
{
	uint32_t tag = (idx % 4095u) + 1;

	for (uint32_t n = 0; n < 4095u; n++, tag = tag % 4095u + 1)
		if (!(ancestor_tags[tag / 64] & (1ull << (tag % 64))))
			return tag;
	return tag; /* 4095 generations of forks: give up, counts may mix */
}

NI static void register_process(int forked)
{
	uint32_t flags = agent.set.bad | (forked ? SF_PF_FORKED : 0) | (agent.set.leak_check ? 0 : SF_PF_LEAK_OFF);
	int parent = forked && agent.proc ? (int)agent.proc_index : -1;
	/* A fork child names addresses by its parent's module list too. */
	uint32_t gen = forked && agent.proc ? __atomic_load_n(&agent.proc->map_gen, __ATOMIC_RELAXED) : 0;
	/* The parent is who forked us: by now it may have exited (daemon())
	 * and getppid() would name the reaper instead. */
	int ppid = forked && agent.pid ? agent.pid : getppid();
	struct sf_process *p;

	if (forked && agent.proc && agent.proc != &fallback_proc) {
		memmove(&agent.lineage[1], &agent.lineage[0], sizeof(agent.lineage) - sizeof(agent.lineage[0]));
		agent.lineage[0] = agent.proc;
	}
	agent.pid = getpid();
	if (!forked)
		agent.trace_pid = agent.pid; /* a fork child shares its parent's traces */
	p = image_register_process(agent.pid, ppid, parent, flags, &agent.proc_index);
	if (!p) {
		agent.proc = NULL;
		image_full_flags = NULL;
		return;
	}
	p->track_memory = (uint32_t)!!agent.tracking; /* 2: paused (a fork child's), still tracking */
	p->max_depth = agent.set.max_depth;
	p->sample_rate = agent.set.sample_rate;
	p->sample_bytes = agent.set.sample_bytes;
	p->map_gen = gen;
	if (forked && agent.ptag)
		ancestor_tags[agent.ptag / 64] |= 1ull << (agent.ptag % 64);
	agent.ptag = pick_tag(agent.proc_index);
	agent.proc = p;
	image_full_flags = &p->flags;
}

NI int agent_init(void)
{
	int st = __atomic_load_n(&agent.state, __ATOMIC_ACQUIRE);
	int expect = AGENT_UNINIT;
	uint8_t saved = ts.state;
	uint64_t lo, hi;

	if (st == AGENT_READY || st == AGENT_OFF)
		return st;
	if (!__atomic_compare_exchange_n(&agent.state, &expect, AGENT_INITIALIZING, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		if (agent.init_tid == agent_gettid())
			return AGENT_INITIALIZING; /* a hook called from inside init */
		/* Another thread is initialising: a one-time wait of microseconds. */
		while ((st = __atomic_load_n(&agent.state, __ATOMIC_ACQUIRE)) == AGENT_INITIALIZING)
			sched_yield();
		return st;
	}
	agent.init_tid = agent_gettid();
	ts.state = TS_BUSY;

	if (settings_secure()) {
		/* Secure execution (set-user-ID, set-group-ID, file capabilities):
		 * the environment is the caller's, not to be trusted. Do nothing,
		 * read nothing; every entry point passes through to libc. */
		resolve_real();
		ts.state = saved == TS_BUSY ? TS_UNINIT : saved;
		__atomic_store_n(&agent.state, AGENT_OFF, __ATOMIC_RELEASE);
		return AGENT_OFF;
	}
	settings_load(&agent.set, early_environ());
	follow_save(early_environ());
	resolve_real();
	if (agent.set.session && image_attach(agent.set.session) == 0) {
		agent.tracking = agent.set.track_memory && agent.real.malloc && agent.real.free;
		register_process(0);
	}
	if (!agent.proc) {
		agent.tracking = 0;
		ts.state = saved == TS_BUSY ? TS_UNINIT : saved;
		__atomic_store_n(&agent.state, AGENT_OFF, __ATOMIC_RELEASE);
		return AGENT_OFF;
	}
	if (modules_range_of((const void *)agent_init, &lo, &hi) == 0) {
		agent.self_lo = lo;
		agent.self_hi = hi;
	}
	modules_scan(0);
#ifndef PR_UNIT_TEST
	/* Before libunwind's first use: it would open its pipe then. */
	unwfd_install((const void *)unw_backtrace);
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
#endif
	cfi_init(); /* without its table, libunwind walks every stack */
	pthread_key_create(&thread_key, thread_key_dtor);
	pthread_atfork(NULL, after_fork_parent, after_fork_child);
	on_exit(on_exit_cb, NULL);
	cpu_init();
	crash_init();

	ts.state = TS_UNINIT;
	__atomic_store_n(&agent.state, AGENT_READY, __ATOMIC_RELEASE);
	return AGENT_READY;
}

/* A record whose previous owner is gone for good, or NULL. */
NI static struct sf_thread *thread_reclaim(struct sf_process *p)
{
	for (struct sf_thread *r = image_ptr(__atomic_load_n(&p->threads, __ATOMIC_ACQUIRE)); r;
	     r = image_ptr(r->next)) {
		uint32_t exp = SF_THREAD_EXITING;

		if (__atomic_load_n(&r->state, __ATOMIC_RELAXED) != SF_THREAD_EXITING)
			continue;
		/* The owner still runs its last destructors until the kernel
		 * reaps it; only then may anyone else write this record. */
		if (syscall(SYS_tgkill, agent.pid, r->tid, 0) == 0 || errno != ESRCH)
			continue;
		if (__atomic_compare_exchange_n(&r->state, &exp, SF_THREAD_USED, 0, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return r;
	}
	return NULL;
}

/* Keep the summary of the record's previous owner. */
NI static void thread_log_owner(struct sf_process *p, struct sf_thread *r)
{
	sf_off off;
	struct sf_thread_log *l;

	if (r->allocs == r->base_allocs && r->frees == r->base_frees)
		return;
	off = image_alloc(sizeof(*l));
	if (!off)
		return;
	l = image_ptr(off);
	l->tid = r->tid;
	memcpy(l->name, r->name, SF_NAME_LEN);
	l->allocs = r->allocs - r->base_allocs;
	l->bytes = r->bytes - r->base_bytes;
	l->frees = r->frees - r->base_frees;
	image_list_push(&p->thread_log, off, &l->next);
}

NI static struct sf_thread *thread_claim(struct sf_process *p, int tid)
{
	struct sf_thread *r = thread_reclaim(p);
	sf_off off;

	if (r) {
		thread_log_owner(p, r);
	} else {
		off = image_alloc(sizeof(*r));
		if (!off) {
			__atomic_fetch_add(&image_hdr->dropped_threads, 1, __ATOMIC_RELAXED);
			__atomic_fetch_or(&p->flags, SF_PF_THREADS_FULL, __ATOMIC_RELAXED);
			return NULL;
		}
		r = image_ptr(off);
		r->state = SF_THREAD_USED;
		image_list_push(&p->threads, off, &r->next);
		__atomic_fetch_add(&p->nthreads, 1, __ATOMIC_RELAXED);
	}
	r->tid = tid;
	memset(r->name, 0, sizeof(r->name));
	r->generation++;
	r->base_allocs = r->allocs;
	r->base_bytes = r->bytes;
	r->base_frees = r->frees;
	__atomic_fetch_add(&p->nthreads_seen, 1, __ATOMIC_RELAXED);
	return r;
}

/* Set by the loader to the stack pointer the kernel gave the program
 * (pointing at argc): every frame of the main thread lies below it. */
extern void *__libc_stack_end;

/*
 * The main thread's stack: from the page above __libc_stack_end down by
 * its rlimit (8 MiB where unlimited or absurd). That is what the walker
 * needs: a frame's stack lies between the stack pointer it starts from
 * and that top; above it are argv, the environment and the aux vector.
 * glibc's pthread_getattr_np finds the same by reading /proc/self/maps
 * with stdio (a third of a short process's start-up cost, measured).
 */
NI static int main_stack_bounds(struct tstate *t)
{
	struct rlimit rl;
	uintptr_t top = (uintptr_t)__libc_stack_end, lim = (uintptr_t)8 << 20;

	if (!top || agent_gettid() != agent.pid)
		return -1;
	if (!getrlimit(RLIMIT_STACK, &rl) && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= 65536 &&
	    rl.rlim_cur <= (rlim_t)1 << 32)
		lim = (uintptr_t)rl.rlim_cur;
	top = (top + 8 + 4095) & ~(uintptr_t)4095;
	if (top < lim)
		return -1;
	t->stack_lo = top - lim;
	t->stack_hi = top;
	return 0;
}

NI static void thread_stack_bounds(struct tstate *t)
{
	pthread_attr_t attr;
	void *addr;
	size_t size;

	t->stack_lo = t->stack_hi = 0;
	if (!main_stack_bounds(t))
		return;
	if (pthread_getattr_np(pthread_self(), &attr))
		return;
	if (!pthread_attr_getstack(&attr, &addr, &size)) {
		t->stack_lo = (uintptr_t)addr;
		t->stack_hi = (uintptr_t)addr + size;
	}
	pthread_attr_destroy(&attr);
}

/* Setting a thread up makes system calls (tgkill, timer_create, ...):
 * the program's errno must not see them. */
NI static void agent_thread_init_raw(void);

NI void agent_thread_init(void)
{
	int saved = errno;

	agent_thread_init_raw();
	errno = saved;
}

NI static void agent_thread_init_raw(void)
{
	struct sf_thread *r;

	if (agent_init() != AGENT_READY) {
		if (__atomic_load_n(&agent.state, __ATOMIC_ACQUIRE) == AGENT_OFF)
			ts.state = TS_OFF;
		return;
	}
	ts.state = TS_BUSY;
	r = thread_claim(agent.proc, agent_gettid());
	if (!r) {
		/* No room: count nothing per site, lose the figures, harm nothing. */
		r = &fallback_rec;
		ts.rec = r;
		ts.memo = NULL;
		ts.sites = NULL;
		ts.countdown = ~0ull;
		ts.state = TS_READY;
		return;
	}
	ts.rec = r;
	ts.memo = NULL; /* the record's memo, if any, was its last owner's */
	/* A fork child's thread keeps its stack (and pthread_getattr_np
	 * reads /proc with stdio for the main thread: malloc, a lock). */
	if (!ts.stack_hi)
		thread_stack_bounds(&ts);
	heap_thread_setup(&ts);
	pthread_setspecific(thread_key, r);
	cpu_thread_init(r);
	ts.state = TS_READY;
}

NI static void read_comm(int tid, char *name)
{
	char path[64] = "/proc/self/task/";
	char buf[SF_NAME_LEN + 1];
	size_t n = strlen(path), k = 0, got;
	char digits[16];

	do
		digits[k++] = (char)('0' + tid % 10);
	while ((tid /= 10) && k < sizeof(digits));
	while (k)
		path[n++] = digits[--k];
	memcpy(path + n, "/comm", 6);
	got = image_read_file(path, buf, SF_NAME_LEN);
	if (!got)
		return;
	if (buf[got - 1] == '\n')
		got--;
	memset(name, 0, SF_NAME_LEN);
	memcpy(name, buf, got < SF_NAME_LEN - 1 ? got : SF_NAME_LEN - 1);
}

NI void agent_thread_exit(void)
{
	struct sf_thread *r = ts.rec;
	char name[17] = {0}; /* PR_GET_NAME: up to 16 bytes, NUL included */

	if (ts.state != TS_READY || !r || r == &fallback_rec)
		return;
	heap_flush(&ts);
	/* Our own name: one prctl, not a /proc open, read and close. */
	if (prctl(PR_GET_NAME, (unsigned long)name, 0, 0, 0) == 0) {
		memset(r->name, 0, SF_NAME_LEN);
		memcpy(r->name, name, strnlen(name, SF_NAME_LEN - 1));
	} else {
		read_comm(r->tid, r->name);
	}
	cpu_thread_exit(r);
	func_thread_exit();
	/* Our record stays ours (late frees still land here) until the kernel
	 * has reaped this thread; see thread_reclaim. */
	__atomic_store_n(&r->state, SF_THREAD_EXITING, __ATOMIC_RELEASE);
}

/*
 * Every exit path (exit, _exit, quick_exit, a daemon()'s parent) comes
 * here, often where only async-signal-safe work is allowed: a fork child
 * whose other threads held the loader's or the allocator's locks at the
 * fork, a signal handler calling _exit. So: system calls and plain stores
 * into the image, nothing that allocates or locks (the module map comes
 * from /proc/self/maps, not dl_iterate_phdr).
 */
NI static void process_end(struct sf_process *p, int code, int maps_fresh)
{
	/* A library loaded since the last scan (the dlopen shim cannot see
	 * dlopen return) is still mapped now; the leak scan may have read
	 * the map just now. */
	if (!maps_fresh || __atomic_load_n(&agent.modules_dirty, __ATOMIC_RELAXED))
		modules_scan_maps(0);
	for (struct sf_thread *r = image_ptr(p->threads); r; r = image_ptr(r->next))
		if (r->state == SF_THREAD_USED && !r->name[0])
			read_comm(r->tid, r->name);
	p->exit_code = code;
	p->end_ns = image_now_ns();
	__atomic_fetch_or(&p->flags, SF_PF_EXITED, __ATOMIC_RELAXED);
}

NI void agent_process_exit(int code)
{
	struct sf_process *p = agent.proc;

	/* A vfork child (same memory, another pid) must not end our record. */
	if (!p || p == &fallback_proc || agent.pid != getpid())
		return;
	if (ts.state == TS_READY)
		heap_flush(&ts);
	func_process_exit();
	if (__atomic_load_n(&p->state, __ATOMIC_ACQUIRE) == SF_PROC_DONE)
		return;
	process_end(p, code, leakscan_run());
	__atomic_store_n(&p->state, SF_PROC_DONE, __ATOMIC_RELEASE);
}

NI void agent_daemon_enter(void)
{
	__atomic_store_n(&agent.daemon_tid, agent_gettid(), __ATOMIC_RELAXED);
}

NI void agent_daemon_leave(int ret)
{
	struct sf_process *p = agent.proc;

	__atomic_store_n(&agent.daemon_tid, 0, __ATOMIC_RELAXED);
	/* daemon() failed (fork did): its parent did not end after all. */
	if (ret < 0 && p && p != &fallback_proc && agent.pid == getpid() && p->end_ns &&
	    __atomic_load_n(&p->state, __ATOMIC_ACQUIRE) == SF_PROC_RUNNING) {
		p->end_ns = 0;
		p->exit_code = -1;
		__atomic_fetch_and(&p->flags, ~SF_PF_EXITED, __ATOMIC_RELAXED);
	}
}

/*
 * In the parent of fork(). Inside daemon(), the parent ends right after
 * this, by glibc's internal _exit(0), which no wrapper sees: its end is
 * now, not when someone reaps it (its own parent may never, or only when
 * the daemon is done). Only the end is stamped; the open calls are closed
 * at it by the launcher.
 */
NI static void after_fork_parent(void)
{
	struct sf_process *p = agent.proc;
	int saved = errno;

	if (__atomic_load_n(&agent.daemon_tid, __ATOMIC_RELAXED) == agent_gettid() && p && p != &fallback_proc &&
	    agent.pid == getpid() && __atomic_load_n(&p->state, __ATOMIC_ACQUIRE) == SF_PROC_RUNNING) {
		if (ts.state == TS_READY)
			heap_flush(&ts);
		process_end(p, 0, 0);
	}
	errno = saved;
}

/* In the child of fork(): a process of its own, a record of its own. The
 * parent's records are shared memory and must not be touched again. */
NI static void after_fork_child(void)
{
	int saved = errno;

	/* Whatever the parent's threads were doing is not ours any more: a
	 * scan they held, the slab this thread was carving (shared memory the
	 * parent goes on carving). */
	__atomic_store_n(&agent.modules_busy, 0, __ATOMIC_RELAXED);
	/* Until exec only async-signal-safe work: a thread the fork left
	 * behind may hold the loader's lock for ever. The parent's modules
	 * are the child's (the launcher reads the parent's list for it);
	 * what the child maps itself (a dlopen marks the map dirty) is found
	 * in /proc/self/maps, as is what the parent had not yet scanned (its
	 * dirty mark is inherited). Not a scan at the child's first
	 * allocation for nothing: a shell's child that only execs paid
	 * ~50 us for it (a read of /proc/self/maps), half its agent's time. */
	__atomic_store_n(&agent.fork_child, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&agent.daemon_tid, 0, __ATOMIC_RELAXED);
	image_after_fork();
	ts.slab = NULL;
	ts.slab_left = 0;
	ts.slab_next = 0;
	crash_after_fork();
	register_process(1);
	if (!agent.proc) {
		/* Headers stay valid; this process's figures are lost, not wrong. */
		agent.proc = &fallback_proc;
		ts.rec = &fallback_rec;
		ts.memo = NULL;
		ts.sites = NULL;
		ts.countdown = ~0ull; /* no stacks: nowhere of our own to store them */
		ts.state = ts.state == TS_READY ? TS_READY : TS_OFF;
		errno = saved;
		return;
	}
	if (ts.state == TS_READY || ts.state == TS_BUSY) {
		ts.state = TS_UNINIT;
		agent_thread_init();
	}
	errno = saved;
}

#ifndef PR_UNIT_TEST
__attribute__((constructor)) NI static void agent_ctor(void)
{
	if (agent_init() == AGENT_READY && ts.state == TS_UNINIT)
		agent_thread_init();
}
#endif
