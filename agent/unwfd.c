/*
 * libunwind (1.6, x86-64) checks that an address is readable before it
 * dereferences it by write(2)-ing one byte from there into a pipe that it
 * opens once (pipe2, at the lowest free descriptor numbers) and keeps for
 * the life of the process. In a profiled program that pipe would be two
 * descriptors the program never opened; once the program closes and
 * reuses those numbers, libunwind reads a byte of the program's input and
 * writes a byte of memory into the program's file, and when its read
 * fails it closes both numbers: the program's by then.
 *
 * So libunwind's own imports of pipe2, read, write, syscall and close are
 * redirected (its GOT entries only: the program's calls are untouched) to
 * an emulation: pipe2 hands out two numbers no descriptor can have, reads
 * from the one say "empty", a write from the other validates the address
 * with process_vm_readv on ourselves, which fails with EFAULT instead of
 * faulting, and close of either does nothing. No descriptor, same answer.
 *
 * Two more of libunwind's imports are redirected the same way, for what
 * they cost or risk inside a signal handler: dl_iterate_phdr and
 * sigprocmask (see unwfd_dl_iterate_phdr and unwfd_sigprocmask).
 */
#include "unwfd.h"

#include <elf.h>
#include <errno.h>
#include <link.h>
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "agent.h"

#define FAKE_RFD (-1000) /* never a descriptor: the kernel's are >= 0 */
#define FAKE_WFD (-1001)

NI static ssize_t unwfd_probe(const void *addr, size_t n)
{
	char buf[64];
	struct iovec local = {buf, n < sizeof(buf) ? n : sizeof(buf)};
	struct iovec remote = {(void *)addr, local.iov_len};
	ssize_t r = process_vm_readv(agent.pid ? agent.pid : getpid(), &local, 1, &remote, 1, 0);

	/* A main thread ended by pthread_exit: the process's id names a
	 * zombie without memory; this thread's own id still works. */
	if (r < 0 && errno == ESRCH)
		r = process_vm_readv((pid_t)syscall(SYS_gettid), &local, 1, &remote, 1, 0);

	if (r > 0)
		return r;
	/* EFAULT: not readable, which is the answer libunwind asks for.
	 * Anything else (a seccomp filter refusing the call): say no too;
	 * the stack then ends early, it never faults. */
	errno = EFAULT;
	return -1;
}

NI static int unwfd_pipe2(int fds[2], int flags)
{
	(void)flags;
	fds[0] = FAKE_RFD;
	fds[1] = FAKE_WFD;
	return 0;
}

NI static ssize_t unwfd_read(int fd, void *buf, size_t n)
{
	if (fd == FAKE_RFD) {
		errno = EAGAIN; /* an empty non-blocking pipe */
		return -1;
	}
	return read(fd, buf, n);
}

NI static ssize_t unwfd_write(int fd, const void *buf, size_t n)
{
	if (fd == FAKE_WFD)
		return unwfd_probe(buf, n);
	return write(fd, buf, n);
}

NI static int unwfd_close(int fd)
{
	if (fd == FAKE_RFD || fd == FAKE_WFD)
		return 0;
	return close(fd);
}

NI static long unwfd_syscall(long nr, ...)
{
	long a[6];
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_write && (int)a[0] == FAKE_WFD)
		return unwfd_probe((const void *)a[1], (size_t)a[2]);
	if (nr == SYS_read && (int)a[0] == FAKE_RFD) {
		errno = EAGAIN;
		return -1;
	}
	return syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/*
 * libunwind finds a frame's unwind tables with dl_iterate_phdr, which
 * takes the loader's lock. Inside a signal handler (a CPU sample, a crash
 * or dump) that can deadlock: the thread the signal interrupted may hold a
 * lock (a malloc arena, mid-fork; a mutex of the program) that a thread
 * inside dlopen or dlclose, holding the loader's lock, waits for. So while
 * the agent unwinds (ts.in_unwind), the lookup goes through
 * _dl_find_object instead, which glibc makes lock-free and async-signal-
 * safe for unwinders: the one object holding the address, described as
 * dl_iterate_phdr would (its program headers read from its own mapping).
 * The address is the first field of libunwind's callback data (its
 * dwarf_callback_data: ip, then the rest); a callback that looks for
 * something else finds nothing in the one object offered, and the stack
 * ends there, never worse.
 *
 * libunwind's GOT entry for dl_iterate_phdr points here, so only its own
 * calls are answered this way; outside our unwinding (a program that
 * uses libunwind itself) they go to the real one. A handler of the
 * program's that interrupts our unwinding and calls dl_iterate_phdr gets
 * the real one too.
 */
NI static int dl_find_one(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data)
{
	struct dl_find_object fo;
	struct dl_phdr_info info;
	const ElfW(Ehdr) *eh;
	uintptr_t lo, hi, ph;

	if (!data || _dl_find_object((void *)*(const uintptr_t *)data, &fo) != 0 || !fo.dlfo_link_map)
		return 0;
	lo = (uintptr_t)fo.dlfo_map_start;
	hi = (uintptr_t)fo.dlfo_map_end;
	eh = (const ElfW(Ehdr) *)lo;
	if (hi - lo < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_phentsize != sizeof(ElfW(Phdr)))
		return 0;
	ph = lo + eh->e_phoff;
	if (eh->e_phoff >= hi - lo || (uint64_t)eh->e_phnum * sizeof(ElfW(Phdr)) > hi - ph)
		return 0;
	memset(&info, 0, sizeof(info));
	info.dlpi_addr = fo.dlfo_link_map->l_addr;
	info.dlpi_name = fo.dlfo_link_map->l_name;
	info.dlpi_phdr = (const ElfW(Phdr) *)ph;
	info.dlpi_phnum = eh->e_phnum;
	/* Without dlpi_adds and dlpi_subs: a caller caching by them (as
	 * libgcc's does) must not take these zeros for a generation. */
	return cb(&info, offsetof(struct dl_phdr_info, dlpi_adds), data);
}

NI static int unwfd_dl_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data)
{
	if (ts.in_unwind)
		return dl_find_one(cb, data);
	return dl_iterate_phdr(cb, data);
}

/*
 * libunwind blocks every signal around each of its dl_iterate_phdr calls
 * (two sigprocmask system calls per frame it looks up: ~10 for a new
 * thread's first stack, a third of what the agent cost a short thread).
 * Inside our unwinding that guards nothing: the lookup is lock-free, and
 * a signal of ours landing there takes the interrupted PC only
 * (ts.in_unwind). So while the agent unwinds, its calls do nothing; the
 * mask asked for is the empty one, which is what the paired call then
 * "restores" (nothing).
 *
 * Outside our unwinding (a program's own use of libunwind: a C++ throw
 * whose _Unwind_* calls bind to libunwind's, as in a C program that
 * dlopens a C++ library) the mask is set for real, our sampling signal
 * included, never filtered as the program's own masks are: libunwind
 * holds its cache's lock inside that window, and a sample landing there
 * would unwind into the same lock and wait for itself. The sample waits
 * for the window's end instead, as any signal does without us. (The raw
 * call: libunwind's full mask comes from sigfillset, which leaves out
 * glibc's own two signals, as libc's wrapper would.)
 */
NI static int unwfd_sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	if (!ts.in_unwind)
		return (int)syscall(SYS_rt_sigprocmask, how, set, old, _NSIG / 8);
	if (old)
		sigemptyset(old);
	return 0;
}

struct unwfd_find {
	uintptr_t addr;
	struct dl_phdr_info info;
	int found;
};

NI static int unwfd_find_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct unwfd_find *f = arg;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && f->addr >= lo && f->addr < lo + ph->p_memsz) {
			f->info = *info;
			f->found = 1;
			return 1;
		}
	}
	return 0;
}

/* A dynamic-section address: glibc has already added the bias on x86-64,
 * but be exact either way. */
NI static uintptr_t unwfd_dynaddr(uintptr_t bias, ElfW(Addr) v)
{
	return v < bias ? bias + v : v;
}

NI static void *unwfd_replacement(const char *name)
{
	if (!strcmp(name, "pipe2"))
		return (void *)unwfd_pipe2;
	if (!strcmp(name, "read"))
		return (void *)unwfd_read;
	if (!strcmp(name, "write"))
		return (void *)unwfd_write;
	if (!strcmp(name, "close"))
		return (void *)unwfd_close;
	if (!strcmp(name, "syscall"))
		return (void *)unwfd_syscall;
	if (!strcmp(name, "dl_iterate_phdr"))
		return (void *)unwfd_dl_iterate_phdr;
	if (!strcmp(name, "sigprocmask"))
		return (void *)unwfd_sigprocmask;
	return NULL;
}

/* Overwrite one GOT slot, lifting RELRO's protection for the moment. */
NI static void unwfd_patch(void **slot, void *fn, uintptr_t relro_lo, uintptr_t relro_hi)
{
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t p = (uintptr_t)slot & ~(uintptr_t)(page - 1);
	int ro = (uintptr_t)slot >= relro_lo && (uintptr_t)slot < relro_hi;

	if (ro && mprotect((void *)p, (size_t)page, PROT_READ | PROT_WRITE))
		return;
	__atomic_store_n(slot, fn, __ATOMIC_RELEASE);
	if (ro)
		mprotect((void *)p, (size_t)page, PROT_READ);
}

NI int unwfd_install(const void *addr_in_libunwind)
{
	struct unwfd_find f = {.addr = (uintptr_t)addr_in_libunwind};
	const ElfW(Dyn) *dyn = NULL;
	const ElfW(Sym) *symtab = NULL;
	const char *strtab = NULL;
	const ElfW(Rela) *rel[2] = {NULL, NULL};
	size_t relsz[2] = {0, 0};
	uintptr_t bias, relro_lo = 0, relro_hi = 0;
	int patched = 0;

	dl_iterate_phdr(unwfd_find_cb, &f);
	if (!f.found)
		return -ENOENT;
	bias = f.info.dlpi_addr;
	for (int i = 0; i < f.info.dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &f.info.dlpi_phdr[i];

		if (ph->p_type == PT_DYNAMIC)
			dyn = (const ElfW(Dyn) *)(bias + ph->p_vaddr);
		else if (ph->p_type == PT_GNU_RELRO) {
			relro_lo = bias + ph->p_vaddr;
			relro_hi = relro_lo + ph->p_memsz;
		}
	}
	if (!dyn)
		return -ENOEXEC;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		switch (dyn->d_tag) {
		case DT_SYMTAB: symtab = (const ElfW(Sym) *)unwfd_dynaddr(bias, dyn->d_un.d_ptr); break;
		case DT_STRTAB: strtab = (const char *)unwfd_dynaddr(bias, dyn->d_un.d_ptr); break;
		case DT_JMPREL: rel[0] = (const ElfW(Rela) *)unwfd_dynaddr(bias, dyn->d_un.d_ptr); break;
		case DT_PLTRELSZ: relsz[0] = dyn->d_un.d_val; break;
		case DT_RELA: rel[1] = (const ElfW(Rela) *)unwfd_dynaddr(bias, dyn->d_un.d_ptr); break;
		case DT_RELASZ: relsz[1] = dyn->d_un.d_val; break;
		}
	}
	if (!symtab || !strtab)
		return -ENOEXEC;
	/* Calls through the PLT (JUMP_SLOT) and, built with -fno-plt, through
	 * the GOT directly (GLOB_DAT). */
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; rel[k] && i < relsz[k] / sizeof(ElfW(Rela)); i++) {
			unsigned type = ELF64_R_TYPE(rel[k][i].r_info);
			const char *name;
			void *fn;

			if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT)
				continue;
			name = strtab + symtab[ELF64_R_SYM(rel[k][i].r_info)].st_name;
			fn = unwfd_replacement(name);
			if (!fn)
				continue;
			unwfd_patch((void **)(bias + rel[k][i].r_offset), fn, relro_lo, relro_hi);
			patched++;
		}
	}
	return patched ? 0 : -ENOENT;
}
