#include "follow.h"

#include <dlfcn.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "image.h"

#define FOLLOW_MAX_VARS 32
#define FOLLOW_BUF 8192

/* Copies: the program may rewrite its environment strings in place
 * (setproctitle) or drop them. Written once, at start. */
static char saved_buf[FOLLOW_BUF];
static const char *saved[FOLLOW_MAX_VARS + 1]; /* "NAME=value" */
static unsigned nsaved;
static const char *self_path;              /* the agent, as LD_PRELOAD names it */
static size_t self_len;
static int have_preload;                   /* saved[] holds LD_PRELOAD with us in it */

NI static int is_preload(const char *e)
{
	return !strncmp(e, "LD_PRELOAD=", 11);
}

/* Does an LD_PRELOAD value name the agent (ld.so splits it at ' ' and ':')? */
NI static int preload_has_self(const char *v)
{
	while (self_len && *v) {
		size_t n = strcspn(v, " :");

		if (n == self_len && !memcmp(v, self_path, n))
			return 1;
		v += n;
		if (*v)
			v++;
	}
	return 0;
}

NI static size_t name_len(const char *e)
{
	const char *eq = strchr(e, '=');

	return eq ? (size_t)(eq - e) : strlen(e);
}

NI static int env_has_name(char *const *envp, const char *entry)
{
	size_t n = name_len(entry);

	for (; envp && *envp; envp++)
		if (!strncmp(*envp, entry, n) && (*envp)[n] == '=')
			return 1;
	return 0;
}

NI void follow_save_as(char *const *envp, const char *agent_path)
{
	size_t used = 0;

	nsaved = 0;
	saved[0] = NULL;
	have_preload = 0;
	self_path = NULL;
	self_len = 0;
	if (agent_path && *agent_path && strlen(agent_path) < 4096) {
		size_t n = strlen(agent_path) + 1;

		memcpy(saved_buf, agent_path, n);
		self_path = saved_buf;
		self_len = n - 1;
		used = n;
	}
	for (; envp && *envp && nsaved < FOLLOW_MAX_VARS; envp++) {
		size_t n;

		if (strncmp(*envp, "PTRACE_", 7) && !is_preload(*envp))
			continue;
		if (env_has_name((char *const *)saved, *envp))
			continue; /* the first of duplicates, as getenv */
		n = strlen(*envp) + 1;
		if (used + n > sizeof(saved_buf))
			continue;
		if (is_preload(*envp)) {
			if (!preload_has_self(*envp + 11))
				continue; /* not ours to put back */
			have_preload = 1;
		}
		memcpy(saved_buf + used, *envp, n);
		saved[nsaved++] = saved_buf + used;
		saved[nsaved] = NULL;
		used += n;
	}
}

NI void follow_save(char *const *envp)
{
	Dl_info info;

	if (!dladdr((const void *)follow_save, &info))
		info.dli_fname = NULL;
	follow_save_as(envp, info.dli_fname);
}

NI int follow_env_need(char *const *envp, size_t *nptrs, size_t *nbytes)
{
	size_t n = 0, bytes = 0, add = 0;
	int change = 0, has_preload = 0;

	for (char *const *e = envp; e && *e; e++) {
		n++;
		if (have_preload && is_preload(*e)) {
			has_preload = 1;
			if (!preload_has_self(*e + 11)) {
				/* The program's own preloads stay, after ours. */
				bytes += 11 + self_len + 1 + strlen(*e + 11) + 1;
				change = 1;
			}
		}
	}
	for (unsigned i = 0; i < nsaved; i++) {
		if (is_preload(saved[i]) ? has_preload : env_has_name(envp, saved[i]))
			continue;
		add++;
		change = 1;
	}
	*nptrs = n + add + 1;
	*nbytes = bytes;
	return change;
}

NI char **follow_env_build(char *const *envp, char **ptrs, char *buf)
{
	size_t k = 0;
	int has_preload = 0;

	for (char *const *e = envp; e && *e; e++) {
		char *v = *e;

		if (have_preload && is_preload(v)) {
			has_preload = 1;
			if (!preload_has_self(v + 11)) {
				size_t tl = strlen(v + 11);
				char *start = buf;

				memcpy(buf, "LD_PRELOAD=", 11);
				buf += 11;
				memcpy(buf, self_path, self_len);
				buf += self_len;
				if (tl)
					*buf++ = ':';
				memcpy(buf, v + 11, tl + 1);
				buf += tl + 1;
				v = start;
			}
		}
		ptrs[k++] = v;
	}
	for (unsigned i = 0; i < nsaved; i++)
		if (!(is_preload(saved[i]) ? has_preload : env_has_name(envp, saved[i])))
			ptrs[k++] = (char *)saved[i];
	ptrs[k] = NULL;
	return ptrs;
}

NI uint32_t follow_secure_why(const struct stat *st, int caps, int nnp, unsigned ruid, unsigned euid,
			      unsigned rgid, unsigned egid)
{
	uint32_t why = 0;

	(void)euid;
	(void)egid;
	if (!S_ISREG(st->st_mode) || nnp)
		return 0; /* no_new_privs: the kernel grants nothing at exec */
	if ((st->st_mode & S_ISUID) && st->st_uid != ruid)
		why |= SF_UF_SETUID;
	/* Without group execute, S_ISGID means mandatory locking. */
	if ((st->st_mode & S_ISGID) && (st->st_mode & S_IXGRP) && st->st_gid != rgid)
		why |= SF_UF_SETGID;
	if (caps && ruid != 0)
		why |= SF_UF_CAPS;
	return why;
}

NI struct sf_unfollowed *follow_note(const char *path, uint32_t why, int pid)
{
	struct sf_process *p = agent.proc;
	struct sf_unfollowed *u;
	size_t n = strlen(path);
	sf_off off;

	if (!p || !image_base || n > 4096 || !(off = image_alloc(sizeof(*u) + n + 1)))
		return NULL;
	u = image_ptr(off);
	u->pid = pid;
	u->why = why;
	u->path_len = (uint32_t)n;
	memcpy(u->path, path, n + 1);
	image_list_push(&p->unfollowed, off, &u->next);
	return u;
}

NI void follow_note_failed(struct sf_unfollowed *u)
{
	if (u)
		__atomic_fetch_or(&u->why, SF_UF_FAILED, __ATOMIC_RELAXED);
}
