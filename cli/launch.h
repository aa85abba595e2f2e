/*
 * Launching the profiled program: find it (PATH search), tell up front
 * whether the preload agent can load into it (static, setuid, setgid, file
 * capabilities, wrong architecture), put the agent into LD_PRELOAD, fork
 * and exec it, then wait for it and for every descendant that outlives it.
 *
 * The launcher stands between the user and the program, so it is made as
 * transparent as possible: the program gets the launcher's stdio, its
 * original signal mask, and the signal dispositions the launcher itself
 * inherited (SIG_IGN from nohup or a background shell stays SIG_IGN; every
 * other signal is SIG_DFL). Every catchable signal a process sends to the
 * launcher (but SIGCHLD) is passed on to the program; signals from the
 * terminal are not (the tty already sent them to the whole foreground
 * group). The launcher stops when the program stops for job control.
 *
 * Call launch_init() first thing in main(), before any thread starts and
 * before anything else changes signal dispositions.
 */
#ifndef PTRACE_LAUNCH_H
#define PTRACE_LAUNCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

/*
 * Resolve prog as execvp does: as given when it contains a slash, else the
 * first executable regular file in $PATH ("/bin:/usr/bin" when unset; an
 * empty entry is the current directory, returned as "./prog"). 0 with the
 * path; -ENOENT when not found; -EACCES when only a non-executable file or a
 * directory was found; -ENAMETOOLONG when the result does not fit in len.
 */
int launch_resolve(const char *prog, char *path, size_t len);

/*
 * Can the agent load into the program at path? 1 yes; 0 no, with a
 * one-line reason ("statically linked: LD_PRELOAD cannot load the agent",
 * "set-user-ID binary: ...", "set-group-ID binary: ...", "file
 * capabilities: ...", "32-bit executable: ..."). A #! script is judged by
 * its interpreter (reason prefixed "interpreter PATH: "). Set-ID bits and
 * capabilities count only when exec would honour them: not on a nosuid
 * mount, not under no_new_privs, set-user-ID only when the owner is not our
 * real uid (set-group-ID likewise, and only with group execute), file
 * capabilities not for a real-root caller. A file that is neither ELF nor a
 * script gives 1 (exec decides). -errno when it cannot be read (an
 * execute-only file gives -EACCES: the caller may still run it), -ENOEXEC
 * for a malformed ELF or #! line, -ELOOP for more than 5 nested
 * interpreters, or the error of a missing interpreter.
 */
int launch_check_binary(const char *path, char *reason, size_t len);

/*
 * Find the agent library: $PTRACE_AGENT when set and not empty (its error
 * when that file is not usable: no silent fallback), else
 * launch_find_agent_near(/proc/self/exe). The path is absolute and
 * canonical. 0 with the path; -ENOENT; -ENAMETOOLONG if len is too small.
 */
int launch_find_agent(char *path, size_t len);

/*
 * The search of launch_find_agent relative to exe (a path to the launcher
 * binary): <dir>/libptrace-run.so (build tree), then
 * <dir>/../lib/ptrace-run/libptrace-run.so (install prefix). 0 with the
 * canonical path; -ENOENT when neither is a readable regular file.
 */
int launch_find_agent_near(const char *exe, char *path, size_t len);

/*
 * Put agent_path first in LD_PRELOAD of the current environment, followed
 * by the user's own entries (empty entries and other copies of agent_path
 * dropped, the rest in order, ':'-separated). 0; -EINVAL when agent_path is
 * empty or holds a space or ':' (the loader splits at those); -ENOMEM.
 */
int launch_preload(const char *agent_path);

/*
 * Become a child subreaper, create the self-pipe and install the
 * forwarding handler for every catchable signal (except those inherited
 * as SIG_IGN, and libc's own). Records the inherited signal mask and
 * ignored signals for launch_spawn. Idempotent. 0 or -errno.
 */
int launch_init(void);

/*
 * Fork and exec path with argv and the current environment. 0 with *pid
 * once the exec succeeded; -errno of a failed fork or exec (ENOENT: the
 * caller exits 127; EACCES, ENOEXEC: 126). No PATH search, no /bin/sh
 * fallback for ENOEXEC. Re-arms the handlers launch_wait removed.
 */
int launch_spawn(const char *path, char **argv, pid_t *pid);

struct launch_result {
	int status;            /* wait status of the main child */
	struct rusage ru;      /* its rusage from wait4 (includes its waited-for children) */
	uint64_t start_ns;     /* CLOCK_MONOTONIC just before the fork */
	uint64_t duration_ns;  /* CLOCK_MONOTONIC, from spawn to the last exit reaped */
	uint64_t main_end_ns;  /* CLOCK_MONOTONIC when the main child was reaped */
	int continued;         /* the launcher got a SIGCONT while waiting: it may have
	                          been stopped, and then reaped late (the reap times
	                          above run to when it could look) */
};

/* Called for every process reaped other than the main child. */
typedef void (*launch_reap_fn)(pid_t pid, int status, void *arg);

/*
 * Wait for pid and then for every other child of the launcher (orphaned
 * descendants adopted as subreaper, but also any other child the launcher
 * has), until none remains. Until pid exits, every signal sent by a
 * process other than pid itself (si_code <= 0) is forwarded to pid
 * (sigqueue'd ones with their value; SIGCONT only while pid is stopped;
 * not a SIGPIPE or SIGXFSZ the launcher raised itself), and none of them
 * kills the launcher. When pid stops within 2 s of a SIGTSTP, SIGTTIN or
 * SIGTTOU reaching the launcher (a job-control stop), the launcher stops
 * with the same signal; on the terminal's SIGTTIN/SIGTTOU it stops too. After pid
 * exited, SIGINT/SIGTERM/SIGHUP/SIGQUIT end the wait for the remaining
 * descendants (they are left running) after a 100 ms grace to reap the
 * ones it killed; other signals are dropped. On return the original
 * dispositions are restored, so a Ctrl-C while the report is written stops
 * the launcher. 0; -ECHILD when pid is not a child of ours; -errno.
 */
int launch_wait(pid_t pid, struct launch_result *res, launch_reap_fn reap, void *arg);

/* Until the program exits, sig sent to the launcher by another process
 * calls fn(arg) (from launch_wait's thread) instead of going to the
 * program. sig 0: none. */
void launch_keep_signal(int sig, void (*fn)(void *), void *arg);

/* Exit code for the launcher: WEXITSTATUS, or 128+N for signal N. */
int launch_exit_code(int status);

#endif
