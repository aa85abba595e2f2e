/*
 * Following children into exec: a program that execs or spawns with an
 * environment of its own (execve/posix_spawn with an explicit envp, a
 * cleared LD_PRELOAD) would lose the agent and the session. The exec
 * shims (shim/exec.c) put back what the launcher gave this process:
 * LD_PRELOAD with the agent and the PTRACE_* variables, saved at start,
 * leaving every other entry as the program made it. They also note, in
 * the process record, an exec that cannot be followed (a set-user-ID,
 * set-group-ID or file-capability program runs in secure mode, where the
 * loader ignores LD_PRELOAD), so the report can say so.
 *
 * Everything here may run in a vfork child or after a fork in a
 * multithreaded program: no malloc, no lock; the caller provides memory.
 */
#ifndef PTRACE_FOLLOW_H
#define PTRACE_FOLLOW_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct sf_unfollowed;

/* Copy LD_PRELOAD and the PTRACE_* entries of envp (start-up
 * environment), and find our own path. Once, at start. */
void follow_save(char *const *envp);

/* As follow_save with the agent's path given (unit tests). */
void follow_save_as(char *const *envp, const char *agent_path);

/* What the environment of a child needs: 0 when envp lacks nothing
 * (pass it on as it is), else 1 with *nptrs pointers (the final NULL
 * included) and *nbytes bytes for follow_env_build. */
int follow_env_need(char *const *envp, size_t *nptrs, size_t *nbytes);

/* Build the child's environment into ptrs and buf, sized as
 * follow_env_need said; returns ptrs. envp itself is not changed. */
char **follow_env_build(char *const *envp, char **ptrs, char *buf);

/* SF_UF_SETUID/SETGID/CAPS when exec'ing a file with st (and caps, 1 if
 * it has file capabilities) runs in secure mode for a process with these
 * real and effective ids; 0 when it does not. */
uint32_t follow_secure_why(const struct stat *st, int caps, int nnp, unsigned ruid, unsigned euid,
			   unsigned rgid, unsigned egid);

/* Note in this process's record an exec (spawn: a posix_spawn) of path
 * that will run unprofiled; NULL when there is no record or no room. */
struct sf_unfollowed *follow_note(const char *path, uint32_t why, int pid);

/* The exec noted in u failed (or the spawn: then pid is not set). */
void follow_note_failed(struct sf_unfollowed *u);

#endif
