/*
 * Launching and waiting. Signals reach the wait loop through a self-pipe:
 * the SA_SIGINFO handler only writes {signo, si_code, si_pid, value, time}
 * and the loop, woken by poll, decides what to forward. SIGCHLD writes to
 * the same pipe, so "a child exited" and "a signal came" are one wakeup and
 * there is no window between checking and sleeping.
 *
 * Every catchable signal is caught while the program runs (but SIGCHLD,
 * which is the loop's own), so that none of them kills the launcher and
 * loses the report while the program runs on: one a process sends is
 * passed on to the program, one from the kernel (the terminal, which
 * signalled the whole foreground group already; the launcher's own
 * faults) is not. Job control follows the program: when the program
 * stops on a stop signal that reached the launcher as well, the launcher
 * stops with the same signal (the shell sees what it would have seen); a
 * SIGCONT sent to the launcher alone is passed on while the program is
 * stopped; the launcher stops on the terminal's SIGTTIN/SIGTTOU as a
 * background job must.
 */
#include "launch.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define AGENT_NAME "libptrace-run.so"
#define SHEBANG_MAX 256      /* the kernel reads this much of a #! line (BINPRM_BUF_SIZE) */
#define INTERP_NEST_MAX 5    /* #! levels exec follows (fs/exec.c: depth > 5 is ELOOP) */
#define PHDRS_MAX 65536      /* bytes of program headers we accept */
#define STOP_GRACE_NS 100000000ull
#define STOP_MIRROR_NS 2000000000ull /* a stop this soon after a stop signal reached us is mirrored */

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ELFDATA_HOST ELFDATA2LSB
#else
#define ELFDATA_HOST ELFDATA2MSB
#endif

/* What the handler tells the wait loop. 32 bytes: one atomic pipe write. */
struct sig_msg {
	int signo;
	int code;              /* si_code: <= 0 when a process sent it */
	pid_t pid;             /* si_pid */
	int pad;
	uint64_t value;        /* si_value, for a sigqueue'd signal */
	uint64_t ns;           /* CLOCK_MONOTONIC at delivery */
};

static int sig_pipe[2] = { -1, -1 };   /* O_NONBLOCK, O_CLOEXEC */
static volatile sig_atomic_t chld_pending; /* a SIGCHLD wakeup is in the pipe */
static volatile sig_atomic_t conts;        /* SIGCONTs received: we may have been stopped */
static int armed;
static struct sigaction saved_act[_NSIG];
static unsigned char caught[_NSIG];        /* our handler is installed */
static sigset_t inherited_mask;
static int have_inherited;
static unsigned char inherited_ign[_NSIG]; /* SIG_IGN when launch_init ran */
static pid_t spawned_pid;              /* last launch_spawn, for duration_ns */
static uint64_t spawned_ns;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int copy_out(const char *s, char *out, size_t len)
{
	size_t n = strlen(s);

	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(out, s, n + 1);
	return 0;
}

/* -------------------------------------------------------------- resolve */

/* 0 if path is an executable regular file, -ENOENT, -EACCES, -errno. */
static int exec_ok(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return errno == ENOTDIR ? -ENOENT : -errno;
	if (!S_ISREG(st.st_mode))
		return -EACCES;
	/* Effective ids, as exec uses; also EACCES on a noexec mount. */
	if (faccessat(AT_FDCWD, path, X_OK, AT_EACCESS))
		return -errno;
	return 0;
}

int launch_resolve(const char *prog, char *path, size_t len)
{
	const char *dirs, *p;
	char buf[PATH_MAX];
	int seen_eacces = 0;
	size_t plen = strlen(prog);

	if (!plen)
		return -ENOENT;
	if (strchr(prog, '/')) {
		int rc = exec_ok(prog);

		return rc ? rc : copy_out(prog, path, len);
	}
	if (plen > NAME_MAX)
		return -ENAMETOOLONG;

	dirs = getenv("PATH");
	if (!dirs)
		dirs = "/bin:/usr/bin"; /* glibc's execvp default */
	for (p = dirs;; p++) {
		const char *end = strchrnul(p, ':');
		size_t dlen = (size_t)(end - p);
		int rc;

		if (dlen == 0) /* empty entry: the current directory */
			snprintf(buf, sizeof(buf), "./%s", prog);
		else if (dlen + 1 + plen < sizeof(buf))
			snprintf(buf, sizeof(buf), "%.*s/%s", (int)dlen, p, prog);
		else
			goto next;
		/* Like execvp: EACCES is remembered and the search goes on;
		 * everything else means "not here". */
		rc = exec_ok(buf);
		if (!rc)
			return copy_out(buf, path, len);
		if (rc == -EACCES)
			seen_eacces = 1;
next:
		p = end;
		if (!*p)
			break;
	}
	return seen_eacces ? -EACCES : -ENOENT;
}

/* --------------------------------------------------------- check binary */

static void say(char *reason, size_t len, const char *s)
{
	if (reason && len)
		snprintf(reason, len, "%s", s);
}

/* Class and machine of the launcher itself: the agent is built alike. */
static int self_arch(unsigned char *cls, unsigned *machine)
{
	static unsigned char s_cls;
	static unsigned s_machine;
	unsigned char id[EI_NIDENT + 4];
	uint16_t m;
	int fd;

	if (!s_cls) {
		fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (pread(fd, id, sizeof(id), 0) != (ssize_t)sizeof(id) ||
		    memcmp(id, ELFMAG, SELFMAG)) {
			close(fd);
			return -ENOEXEC;
		}
		close(fd);
		/* e_machine sits right after e_type in both classes. */
		memcpy(&m, id + EI_NIDENT + 2, sizeof(m));
		s_machine = m;
		s_cls = id[EI_CLASS];
	}
	*cls = s_cls;
	*machine = s_machine;
	return 0;
}

/*
 * Judge an ELF file whose first n bytes are in buf: 1 dynamic, 0 static or
 * foreign (reason set), -ENOEXEC malformed, -errno.
 */
static int check_elf(int fd, const unsigned char *buf, size_t n, char *reason, size_t len)
{
	uint64_t phoff;
	unsigned phnum, phentsize, type, machine, self_machine = 0;
	unsigned char cls = buf[EI_CLASS], self_cls = 0;
	unsigned char *ph;
	size_t phsize;
	int has_interp = 0;

	/* Host byte order only: anything else the kernel will not run. */
	if (n < EI_NIDENT || buf[EI_DATA] != ELFDATA_HOST)
		return -ENOEXEC;
	if (cls == ELFCLASS64 && n >= sizeof(Elf64_Ehdr)) {
		Elf64_Ehdr eh;

		memcpy(&eh, buf, sizeof(eh));
		phoff = eh.e_phoff;
		phnum = eh.e_phnum;
		phentsize = eh.e_phentsize;
		type = eh.e_type;
		machine = eh.e_machine;
		if (phentsize != sizeof(Elf64_Phdr))
			return -ENOEXEC;
	} else if (cls == ELFCLASS32 && n >= sizeof(Elf32_Ehdr)) {
		Elf32_Ehdr eh;

		memcpy(&eh, buf, sizeof(eh));
		phoff = eh.e_phoff;
		phnum = eh.e_phnum;
		phentsize = eh.e_phentsize;
		type = eh.e_type;
		machine = eh.e_machine;
		if (phentsize != sizeof(Elf32_Phdr))
			return -ENOEXEC;
	} else {
		return -ENOEXEC;
	}
	if (type != ET_EXEC && type != ET_DYN)
		return -ENOEXEC;
	phsize = (size_t)phnum * phentsize;
	if (!phnum || phsize > PHDRS_MAX)
		return -ENOEXEC;
	ph = malloc(phsize);
	if (!ph)
		return -ENOMEM;
	if (pread(fd, ph, phsize, (off_t)phoff) != (ssize_t)phsize) {
		free(ph);
		return -ENOEXEC;
	}
	/* p_type is the first 32-bit word of a program header in both classes. */
	for (unsigned i = 0; i < phnum; i++) {
		uint32_t pt;

		memcpy(&pt, ph + (size_t)i * phentsize, sizeof(pt));
		if (pt == PT_INTERP)
			has_interp = 1;
	}
	free(ph);

	if (!has_interp) {
		say(reason, len, "statically linked: LD_PRELOAD cannot load the agent");
		return 0;
	}
	if (!self_arch(&self_cls, &self_machine)) {
		char msg[128];

		if (cls != self_cls) {
			snprintf(msg, sizeof(msg),
				 "%d-bit executable: the %d-bit agent cannot be preloaded into it",
				 cls == ELFCLASS64 ? 64 : 32, self_cls == ELFCLASS64 ? 64 : 32);
			say(reason, len, msg);
			return 0;
		}
		if (machine != self_machine) {
			snprintf(msg, sizeof(msg),
				 "executable for another architecture (ELF machine %u): "
				 "the agent cannot be preloaded into it", machine);
			say(reason, len, msg);
			return 0;
		}
	}
	return 1;
}

/*
 * Would exec of this file run in secure mode (AT_SECURE), where the loader
 * ignores LD_PRELOAD? Mirrors the kernel: set-ID bits and capabilities are
 * not applied on nosuid mounts or under no_new_privs; capabilities do not
 * make a real-root caller's exec secure.
 */
static int check_setid(int fd, const struct stat *st, char *reason, size_t len)
{
	struct statvfs vfs;

	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1)
		return 1;
	if (!fstatvfs(fd, &vfs) && (vfs.f_flag & ST_NOSUID))
		return 1;
	if ((st->st_mode & S_ISUID) && st->st_uid != getuid()) {
		say(reason, len, "set-user-ID binary: the loader ignores LD_PRELOAD");
		return 0;
	}
	/* Set-group-ID without group execute marks mandatory locking instead. */
	if ((st->st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) && st->st_gid != getgid()) {
		say(reason, len, "set-group-ID binary: the loader ignores LD_PRELOAD");
		return 0;
	}
	if (getuid() != 0 && fgetxattr(fd, "security.capability", NULL, 0) > 0) {
		say(reason, len, "file capabilities: the loader ignores LD_PRELOAD");
		return 0;
	}
	return 1;
}

static int check_binary_nested(const char *path, char *reason, size_t len, int depth);

/* A #! script: judge its interpreter, as the kernel would run it. */
static int check_script(const unsigned char *buf, size_t n, char *reason, size_t len, int depth)
{
	char interp[SHEBANG_MAX];
	char sub[256];
	size_t i = 2, k = 0;
	int rc;

	while (i < n && (buf[i] == ' ' || buf[i] == '\t'))
		i++;
	while (i < n && buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\n' && buf[i] != '\0')
		interp[k++] = (char)buf[i++];
	interp[k] = '\0';
	/* Empty, or cut off by the kernel's buffer: exec fails with ENOEXEC. */
	if (!k || (i == n && n == SHEBANG_MAX))
		return -ENOEXEC;
	sub[0] = '\0';
	rc = check_binary_nested(interp, sub, sizeof(sub), depth + 1);
	if (rc == 0 && reason && len)
		snprintf(reason, len, "interpreter %s: %s", interp, sub);
	return rc;
}

static int check_binary_nested(const char *path, char *reason, size_t len, int depth)
{
	unsigned char buf[SHEBANG_MAX];
	struct stat st;
	ssize_t n;
	int fd, rc;

	if (depth > INTERP_NEST_MAX)
		return -ELOOP;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		rc = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = -EISDIR;
		goto out;
	}
	n = pread(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		rc = -errno;
		goto out;
	}
	if (n >= 2 && buf[0] == '#' && buf[1] == '!') {
		/* Linux ignores set-ID bits on scripts: only the interpreter counts. */
		rc = check_script(buf, (size_t)n, reason, len, depth);
	} else if (n >= SELFMAG && !memcmp(buf, ELFMAG, SELFMAG)) {
		rc = check_elf(fd, buf, (size_t)n, reason, len);
		if (rc == 1)
			rc = check_setid(fd, &st, reason, len);
	} else {
		rc = 1; /* not ours to judge: exec says ENOEXEC if it cannot run it */
	}
out:
	close(fd);
	return rc;
}

int launch_check_binary(const char *path, char *reason, size_t len)
{
	if (reason && len)
		reason[0] = '\0';
	return check_binary_nested(path, reason, len, 0);
}

/* ---------------------------------------------------------------- agent */

static int agent_try(const char *cand, char *path, size_t len)
{
	char real[PATH_MAX];
	struct stat st;

	if (!realpath(cand, real))
		return -errno;
	if (stat(real, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOENT;
	if (access(real, R_OK))
		return -errno;
	return copy_out(real, path, len);
}

int launch_find_agent_near(const char *exe, char *path, size_t len)
{
	char cand[PATH_MAX];
	const char *slash = strrchr(exe, '/');
	int dlen = slash ? (int)(slash - exe) : 1;
	const char *dir = slash ? exe : ".";
	int rc;

	if (slash == exe) /* the launcher sits in / */
		dlen = 0;
	if (snprintf(cand, sizeof(cand), "%.*s/" AGENT_NAME, dlen, dir) >= (int)sizeof(cand))
		return -ENAMETOOLONG;
	rc = agent_try(cand, path, len);
	if (!rc || rc == -ENAMETOOLONG)
		return rc;
	if (snprintf(cand, sizeof(cand), "%.*s/../lib/ptrace-run/" AGENT_NAME, dlen, dir) >=
	    (int)sizeof(cand))
		return -ENAMETOOLONG;
	rc = agent_try(cand, path, len);
	if (!rc || rc == -ENAMETOOLONG)
		return rc;
	return -ENOENT;
}

int launch_find_agent(char *path, size_t len)
{
	const char *env = getenv("PTRACE_AGENT");
	char exe[PATH_MAX];
	ssize_t n;

	if (env && *env)
		return agent_try(env, path, len);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -ENOENT;
	exe[n] = '\0';
	return launch_find_agent_near(exe, path, len);
}

int launch_preload(const char *agent_path)
{
	const char *old = getenv("LD_PRELOAD");
	size_t alen = strlen(agent_path);
	char *buf, *w;
	int rc = 0;

	if (!alen || strpbrk(agent_path, " :"))
		return -EINVAL;
	buf = malloc(alen + (old ? strlen(old) : 0) + 2);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, agent_path, alen);
	w = buf + alen;
	/* ld.so splits LD_PRELOAD at ' ' and ':' (strsep " :"). */
	for (const char *p = old; p && *p;) {
		size_t tlen = strcspn(p, " :");

		if (tlen && !(tlen == alen && !memcmp(p, agent_path, alen))) {
			*w++ = ':';
			memcpy(w, p, tlen);
			w += tlen;
		}
		p += tlen;
		if (*p)
			p++;
	}
	*w = '\0';
	if (setenv("LD_PRELOAD", buf, 1))
		rc = -errno;
	free(buf);
	return rc;
}

/* -------------------------------------------------------------- signals */

/* Signals the kernel raises for a fault of the thread itself. */
static int is_fault(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP || sig == SIGSYS;
}

/*
 * Stop the launcher with sig as its default action would (the parent's
 * wait sees WSTOPSIG == sig), return once continued. SIGSTOP as such. A
 * SIGTSTP, SIGTTIN or SIGTTOU in an orphaned process group is discarded
 * by the kernel, as it would be for the program alone. Async-signal-safe.
 */
static void stop_self(int sig)
{
	struct sigaction dfl, old;
	sigset_t one, prev;

	if (sig == SIGSTOP) {
		kill(getpid(), SIGSTOP);
		return;
	}
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&one);
	sigaddset(&one, sig);
	sigaction(sig, &dfl, &old);
	/* Our other threads block everything: it comes to this one, now. */
	pthread_sigmask(SIG_UNBLOCK, &one, &prev);
	kill(getpid(), sig);
	pthread_sigmask(SIG_SETMASK, &prev, NULL);
	sigaction(sig, &old, NULL);
}

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	int saved_errno = errno;
	struct sig_msg m = { .signo = sig, .code = si->si_code, .pid = si->si_pid };
	ssize_t r;

	(void)uc;
	if (is_fault(sig) && si->si_code > 0) {
		/* The launcher's own fault: die of it as before. Returning
		 * re-runs the instruction, now with the default action. */
		struct sigaction dfl;

		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigaction(sig, &dfl, NULL);
		goto out;
	}
	if (sig == SIGCONT)
		conts++;
	if ((sig == SIGTTIN || sig == SIGTTOU) && si->si_code == SI_KERNEL) {
		/* The terminal stops its background process group (one of us
		 * read or wrote it). Stop here: returning would restart the
		 * launcher's own read or write into the same signal forever. */
		stop_self(sig);
		goto out;
	}
	if (sig == SIGCHLD) {
		/* One wakeup is enough; the loop reaps everything that is ready. */
		if (chld_pending)
			goto out;
		chld_pending = 1;
	}
	if (si->si_code == SI_QUEUE)
		m.value = (uint64_t)(uintptr_t)si->si_value.sival_ptr;
	m.ns = now_ns();
	/* A full pipe (thousands of unread messages) drops this one. */
	r = write(sig_pipe[1], &m, sizeof(m));
	(void)r;
out:
	errno = saved_errno;
}

static int signals_arm(void)
{
	struct sigaction sa;

	if (armed)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sigfillset(&sa.sa_mask);
	/* SA_RESTART: the rest of the launcher need not expect EINTR; the wait
	 * loop does not rely on it, the pipe wakes it. No SA_NOCLDSTOP: the
	 * loop follows the program's stops. */
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	for (int sig = 1; sig < _NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP || inherited_ign[sig])
			continue; /* nohup / background shell: keep ignoring it */
		/* EINVAL: one of libc's own (SIGCANCEL, SIGSETXID). */
		if (sigaction(sig, &sa, &saved_act[sig]) == 0)
			caught[sig] = 1;
		else if (errno != EINVAL)
			return -errno;
	}
	armed = 1;
	return 0;
}

static void signals_disarm(void)
{
	if (!armed)
		return;
	for (int sig = 1; sig < _NSIG; sig++) {
		if (caught[sig])
			sigaction(sig, &saved_act[sig], NULL);
		caught[sig] = 0;
	}
	armed = 0;
}

static void pipe_drain(void)
{
	struct sig_msg m[16];

	while (read(sig_pipe[0], m, sizeof(m)) > 0)
		;
}

int launch_init(void)
{
	struct sigaction sa;

	if (sig_pipe[0] < 0 && pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	if (!have_inherited) {
		if (sigprocmask(SIG_SETMASK, NULL, &inherited_mask))
			return -errno;
		for (int sig = 1; sig < _NSIG; sig++) {
			if (!sigaction(sig, NULL, &sa) && sa.sa_handler == SIG_IGN)
				inherited_ign[sig] = 1;
		}
		have_inherited = 1;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
		return -errno;
	return signals_arm();
}

/* ---------------------------------------------------------------- spawn */

/* In the forked child: only async-signal-safe calls until exec. */
static void __attribute__((noreturn))
child_exec(const char *path, char **argv, int errfd, const sigset_t *mask)
{
	struct sigaction sa;
	int err;
	ssize_t r;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	for (int sig = 1; sig < _NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		sa.sa_handler = inherited_ign[sig] ? SIG_IGN : SIG_DFL;
		sigaction(sig, &sa, NULL); /* EINVAL for libc's reserved signals */
	}
	sigprocmask(SIG_SETMASK, mask, NULL);
	execv(path, argv);
	err = errno;
	r = write(errfd, &err, sizeof(err));
	(void)r;
	_exit(127);
}

int launch_spawn(const char *path, char **argv, pid_t *pid)
{
	sigset_t all, old;
	int ep[2], err = 0, saved;
	uint64_t t0;
	pid_t child;
	ssize_t n;

	if (sig_pipe[0] >= 0) {
		int rc = signals_arm();

		if (rc)
			return rc;
	}
	if (pipe2(ep, O_CLOEXEC))
		return -errno;
	/* No handler may run in the child between fork and the reset of the
	 * dispositions: it would write to our self-pipe or signal our child. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	t0 = now_ns();
	child = fork();
	if (child == 0)
		child_exec(path, argv, ep[1], have_inherited ? &inherited_mask : &old);
	saved = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(ep[1]);
	if (child < 0) {
		close(ep[0]);
		return -saved;
	}
	/* EOF: the exec closed the CLOEXEC end. Four bytes: its errno. */
	do
		n = read(ep[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(ep[0]);
	if (n == (ssize_t)sizeof(err)) {
		while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
			;
		return -err;
	}
	spawned_pid = child;
	spawned_ns = t0;
	*pid = child;
	return 0;
}

/* ----------------------------------------------------------------- wait */

/* The signals that, once the program is gone, end the wait for what it
 * left behind (and that a user sends to stop a run). */
static int ends_wait(int sig)
{
	return sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT;
}

/* Pass m on to pid: sigqueue'd signals with their value. */
static void forward(pid_t pid, const struct sig_msg *m)
{
	if (m->code == SI_QUEUE) {
		union sigval v;

		v.sival_ptr = (void *)(uintptr_t)m->value;
		sigqueue(pid, m->signo, v);
	} else {
		kill(pid, m->signo);
	}
}

static int kept_sig;
static void (*kept_fn)(void *);
static void *kept_arg;

void launch_keep_signal(int sig, void (*fn)(void *), void *arg)
{
	kept_sig = sig;
	kept_fn = fn;
	kept_arg = arg;
}

int launch_wait(pid_t pid, struct launch_result *res, launch_reap_fn reap, void *arg)
{
	uint64_t start = (pid == spawned_pid) ? spawned_ns : now_ns();
	uint64_t last = start, main_ns = 0, stop_at = 0;
	uint64_t stop_sig_ns = 0;
	int main_done = 0, main_stopped = 0, mirror = 0, rc;
	pid_t self = getpid();

	memset(res, 0, sizeof(*res));
	res->start_ns = start;
	conts = 0;
	rc = launch_init();
	if (rc)
		return rc;

	for (;;) {
		struct pollfd pfd = { .fd = sig_pipe[0], .events = POLLIN };
		struct sig_msg m[16];
		int timeout = -1;
		ssize_t n;

		/* Reset before reaping: a SIGCHLD from now on writes again. */
		chld_pending = 0;
		for (;;) {
			uint64_t before = now_ns();
			struct rusage ru;
			int st;
			pid_t r = wait4(-1, &st, WNOHANG | __WALL | WUNTRACED | WCONTINUED, &ru);

			if (r > 0 && (WIFSTOPPED(st) || WIFCONTINUED(st))) {
				/* Only the program's own stops are mirrored. */
				if (r == pid && !main_done) {
					main_stopped = WIFSTOPPED(st);
					mirror = WIFSTOPPED(st) ? WSTOPSIG(st) : 0;
				}
				continue;
			}
			if (r > 0) {
				last = now_ns();
				if (r == pid) {
					res->status = st;
					res->ru = ru;
					res->main_end_ns = last;
					main_done = 1;
					main_stopped = mirror = 0;
					/* Before the wait4 that found it dead: a signal
					 * stamped later cannot predate our noticing. */
					main_ns = before;
				} else if (reap) {
					reap(r, st, arg);
				}
				continue;
			}
			if (r == 0)
				break;
			if (errno == EINTR)
				continue;
			rc = errno == ECHILD ? 0 : -errno;
			goto out;
		}
		if (stop_at) {
			uint64_t t = now_ns();

			if (t >= stop_at)
				goto out;
			timeout = (int)((stop_at - t + 999999) / 1000000);
		}
		/* Messages first, then poll: a SIGCONT that continued us must be
		 * seen before we mirror a stop it may have undone. */
		if (!mirror && poll(&pfd, 1, timeout) < 0 && errno != EINTR) {
			rc = -errno;
			goto out;
		}
		while ((n = read(sig_pipe[0], m, sizeof(m))) > 0) {
			for (size_t i = 0; i < (size_t)n / sizeof(m[0]); i++) {
				/* si_code <= 0: sent by a process (kill, sigqueue,
				 * tgkill). SI_KERNEL: the tty, which already
				 * signalled the child's process group. A signal
				 * from the child itself (kill(0, ...) or to its
				 * parent) is not sent back to it, nor the SIGPIPE
				 * or SIGXFSZ our own write raised. */
				int sig = m[i].signo;
				int sent = m[i].code <= 0 && m[i].pid != pid &&
					   !(m[i].pid == self && (sig == SIGPIPE || sig == SIGXFSZ));

				if (sig == SIGCHLD)
					continue;
				if (sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
					stop_sig_ns = m[i].ns;
				if (!main_done && sig == SIGCONT) {
					/* Only to a stopped program: the shell's fg
					 * continued the whole group already. */
					if (sent && main_stopped) {
						forward(pid, &m[i]);
						main_stopped = mirror = 0;
					}
				} else if (!main_done) {
					if (sent && kept_sig && sig == kept_sig && kept_fn)
						kept_fn(kept_arg);
					else if (sent)
						forward(pid, &m[i]);
				} else if (ends_wait(sig) && m[i].ns >= main_ns && !stop_at) {
					/* Only a signal that came after the main child
					 * exited gives up on the descendants. */
					stop_at = now_ns() + STOP_GRACE_NS;
				}
			}
		}
		/*
		 * Mirror the program's stop only when a stop signal reached us
		 * too (the terminal's Ctrl-Z, a SIGTSTP we forwarded, the
		 * program's own kill(0, SIGTSTP)): then whoever continues the
		 * job continues us. A stop aimed at the program alone (kill
		 * -STOP PID) may be undone by a SIGCONT to the program alone,
		 * which would leave us stopped for good.
		 */
		if (mirror) {
			int sig = mirror;

			mirror = 0;
			if (stop_sig_ns && now_ns() - stop_sig_ns < STOP_MIRROR_NS) {
				stop_sig_ns = 0;
				stop_self(sig);
			}
		}
	}
out:
	if (!rc && !main_done)
		rc = -ECHILD;
	res->duration_ns = last - start;
	res->continued = conts != 0;
	if (pid == spawned_pid)
		spawned_pid = 0;
	signals_disarm();
	pipe_drain();
	return rc;
}

int launch_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}
