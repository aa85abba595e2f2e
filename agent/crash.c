#include "crash.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "cpu.h"
#include "image.h"
#include "modules.h"
#include "sigown.h"
#include "trace.h"

#define DUMP_MAGIC 0x70747264u /* "ptrd": high half of a passed-on request's si_value */

static const int fatal[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};

static int dump_sig;

/* Trace slabs of these handlers: a crash may interrupt any other. */
static __thread struct tstate crash_slab __attribute__((tls_model("initial-exec")));
static __thread struct tstate dump_slab __attribute__((tls_model("initial-exec")));

/* The thread's comm, as pthread_setname_np left it. Async-signal-safe. */
NI static void comm_of(int tid, char *name)
{
	char path[48] = "/proc/self/task/", digits[12];
	size_t n = strlen(path), k = 0;
	ssize_t got;
	int fd;

	do
		digits[k++] = (char)('0' + tid % 10);
	while ((tid /= 10) && k < sizeof(digits));
	while (k)
		path[n++] = digits[--k];
	memcpy(path + n, "/comm", 6);
	memset(name, 0, SF_NAME_LEN);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	got = read(fd, name, SF_NAME_LEN - 1);
	close(fd);
	if (got > 0 && name[got - 1] == '\n')
		name[got - 1] = 0;
}

/* The stack of the interrupted code, interned with slab. */
NI static uint32_t stack_of(void *uc, struct tstate *slab, int *pc_only)
{
	uint64_t ips[SF_DEPTH_LIMIT + CPU_CAPTURE_SLACK];
	uint8_t state = ts.state;
	uint32_t id = 0;
	unsigned n;

	/* Allocations from here on (libunwind) are not the program's. */
	ts.state = TS_BUSY;
	/* In a signal handler: never dl_iterate_phdr (another thread may
	 * hold the loader's lock and wait for this one; after a fork it may
	 * be held for ever). */
	if (__atomic_load_n(&agent.modules_dirty, __ATOMIC_RELAXED) && !ts.in_unwind && agent_can_unwind(&ts))
		modules_scan_maps(0);
	n = cpu_capture(uc, ips, agent.set.max_depth, pc_only);
	if (n)
		id = trace_intern(slab, ips, n);
	ts.state = state;
	return id;
}

/* --- crashes -------------------------------------------------------------- */

NI static void on_fatal(int sig, siginfo_t *si, void *uc)
{
	struct sf_cpu_proc *cp;
	struct sf_crash *k;
	sf_off off, none = 0;
	int saved = errno, tid = agent_gettid(), pc_only = 0;

	sigown_forget(sig); /* SA_RESETHAND: SIG_DFL is back already */
	/* The process's end: what it has mapped now names its addresses (no
	 * exit path runs after this one). */
	if (!ts.in_unwind && agent_can_unwind(&ts))
		modules_scan_maps(0);
	cp = cpu_proc();
	if (cp && !__atomic_load_n(&cp->crash, __ATOMIC_ACQUIRE) && (off = image_alloc(sizeof(*k)))) {
		k = image_ptr(off);
		k->signal = sig;
		k->code = si->si_code;
		k->tid = tid;
		k->ns = image_now_ns();
		if (si->si_code > 0 && sig != SIGABRT) {
			/* A fault: si_addr is the address (or instruction) at fault. */
			k->address = (uint64_t)(uintptr_t)si->si_addr;
			k->flags |= SF_CRASH_ADDRESS;
		}
		comm_of(tid, k->name);
		/* Published before the stack: if unwinding faults in its turn,
		 * the signal and the address are there already. */
		if (__atomic_compare_exchange_n(&cp->crash, &none, off, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
			uint32_t id = stack_of(uc, &crash_slab, &pc_only);

			if (pc_only)
				k->flags |= SF_CRASH_PC_ONLY;
			__atomic_store_n(&k->trace, id, __ATOMIC_RELEASE);
		}
	}
	/*
	 * Now what SIG_DFL would have done. A fault (si_code > 0) returns to
	 * the faulting instruction, which faults again and kills the process
	 * the kernel's way (same siginfo in the core). A sent signal (kill,
	 * raise, abort) is sent again: blocked while we run, it is delivered
	 * with SIG_DFL as we return.
	 */
	if (si->si_code <= 0)
		syscall(SYS_tgkill, getpid(), tid, sig);
	errno = saved;
}

/* --- dumps ---------------------------------------------------------------- */

NI int crash_own_signal(const siginfo_t *si)
{
	uint64_t v = (uint64_t)(uintptr_t)si->si_value.sival_ptr;

	return dump_sig && si->si_signo == dump_sig && si->si_code == SI_QUEUE && si->si_pid == agent.pid &&
	       (v >> 32) == DUMP_MAGIC;
}

struct dirent64_raw {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* Pass dump seq on to every other thread; returns how many were asked. */
NI static unsigned relay(int sig, uint32_t seq)
{
	char buf[2048];
	siginfo_t info;
	int fd, self = agent_gettid();
	unsigned asked = 0;
	long got;

	fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	info.si_signo = sig;
	info.si_code = SI_QUEUE;
	info.si_pid = agent.pid;
	info.si_uid = getuid();
	info.si_value.sival_ptr = (void *)(uintptr_t)(((uint64_t)DUMP_MAGIC << 32) | seq);
	while ((got = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (long at = 0; at < got;) {
			struct dirent64_raw *d = (struct dirent64_raw *)(buf + at);
			int tid = 0;

			for (const char *c = d->d_name; *c >= '0' && *c <= '9'; c++)
				tid = tid * 10 + (*c - '0');
			if (tid > 0 && tid != self && syscall(SYS_rt_tgsigqueueinfo, agent.pid, tid, sig, &info) == 0)
				asked++;
			at += d->d_reclen;
		}
	}
	close(fd);
	return asked;
}

NI static void on_dump(int sig, siginfo_t *si, void *uc)
{
	struct sf_cpu_proc *cp = cpu_proc();
	struct sf_cpu_stack *s;
	uint32_t seq, flags = 0, asked = 0;
	int saved = errno, pc_only = 0, tid = agent_gettid();
	sf_off off;

	if (!cp)
		goto out;
	if (crash_own_signal(si)) {
		seq = (uint32_t)(uint64_t)(uintptr_t)si->si_value.sival_ptr;
	} else {
		/* A request, from the launcher, a user or the program itself. */
		seq = __atomic_add_fetch(&cp->dumps, 1, __ATOMIC_RELAXED);
		asked = relay(sig, seq) + 1;
		flags = SF_STACK_REQUESTER;
	}
	off = image_alloc(sizeof(*s));
	if (!off)
		goto out;
	s = image_ptr(off);
	s->seq = seq;
	s->tid = tid;
	s->ns = image_now_ns();
	s->threads = asked;
	comm_of(tid, s->name);
	s->trace = stack_of(uc, &dump_slab, &pc_only);
	s->flags = flags | (pc_only ? SF_STACK_PC_ONLY : 0);
	image_list_push(&cp->stacks, off, &s->next);
out:
	errno = saved;
}

/* The program installed a disposition of its own for the dump signal. */
NI static void on_dump_release(int sig)
{
	(void)sig;
	cpu_flag(SF_CPU_DUMP_TAKEN);
}

NI int crash_dump_signal(void)
{
	return dump_sig && sigown_held(dump_sig) ? dump_sig : 0;
}

NI void crash_dump_taken(void)
{
	if (dump_sig && sigown_held(dump_sig)) {
		cpu_flag(SF_CPU_DUMP_TAKEN);
		sigown_drop(dump_sig);
	}
}

NI void crash_init(void)
{
	sigset_t mask;

	if (!cpu_proc())
		return;
	/* Neither the sampler nor a dump request interrupts a crash report. */
	sigemptyset(&mask);
	if (cpu_signal())
		sigaddset(&mask, cpu_signal());
	if (agent.set.dump_signal)
		sigaddset(&mask, agent.set.dump_signal);
	for (unsigned i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		sigown_claim(fatal[i], on_fatal, SA_RESETHAND | SA_ONSTACK, &mask, NULL);
	if (!agent.set.dump_signal)
		return;
	sigemptyset(&mask);
	if (cpu_signal())
		sigaddset(&mask, cpu_signal());
	if (sigown_claim(agent.set.dump_signal, on_dump, SA_RESTART, &mask, on_dump_release)) {
		cpu_flag(SF_CPU_DUMP_BUSY);
		return;
	}
	dump_sig = agent.set.dump_signal;
}

/* In a fork child: the slabs point into memory the parent goes on using. */
NI void crash_after_fork(void)
{
	crash_slab.slab = NULL;
	crash_slab.slab_left = 0;
	crash_slab.slab_next = 0;
	dump_slab.slab = NULL;
	dump_slab.slab_left = 0;
	dump_slab.slab_next = 0;
}
