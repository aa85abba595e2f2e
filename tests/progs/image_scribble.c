/*
 * A program that turns on its profiler: it finds the session image among
 * its own mappings (/proc/self/maps: the memfd "ptrace-run-session") and
 * writes over it, then exits 7. The launcher must survive whatever it
 * did, report what is corrupt and exit 7 too.
 *
 *   image_scribble procs      8 bytes over the header's procs offset
 *   image_scribble loop       its thread list made to point at itself,
 *                             then SIGKILL (its own agent would loop)
 *   image_scribble counts     counts and sizes set huge (peak, dropped,
 *                             table capacities, a trace's depth)
 *   image_scribble fifo PATH  a module path replaced by PATH, a FIFO it makes
 *   image_scribble truncate   the image truncated to one page through
 *                             $PTRACE_SESSION (prints what ftruncate said)
 *   image_scribble random N   N random 8-byte writes over the records,
 *                             then SIGKILL (its own agent follows the
 *                             image's offsets: exiting would crash it)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../agent/session_format.h"

static char *image(size_t *len)
{
	char line[4096];
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long lo, hi;

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "ptrace-run-session") && sscanf(line, "%lx-%lx", &lo, &hi) == 2) {
			fclose(f);
			*len = hi - lo;
			return (char *)lo;
		}
	fprintf(stderr, "image_scribble: no session mapping\n");
	exit(1);
}

static struct sf_process *me(char *base)
{
	struct sf_header *h = (struct sf_header *)base;
	struct sf_process *p = (struct sf_process *)(base + h->procs);

	for (uint32_t i = 0; i < h->nprocs && i < SF_MAX_PROCS; i++)
		if (p[i].pid == getpid())
			return &p[i];
	fprintf(stderr, "image_scribble: no process record\n");
	exit(1);
}

int main(int argc, char **argv)
{
	static char *volatile keep[64];
	const char *mode = argc > 1 ? argv[1] : "";
	size_t len;
	char *base = image(&len);
	struct sf_header *h = (struct sf_header *)base;
	struct sf_process *p = me(base);

	/* Something to record: a thread record, sites, traces. */
	for (int i = 0; i < 64; i++)
		keep[i] = malloc(100 + i);
	if (!strcmp(mode, "procs")) {
		h->procs = 0x4141414141414141ull;
	} else if (!strcmp(mode, "loop")) {
		struct sf_thread *t = (struct sf_thread *)(base + p->threads);

		t->next = p->threads;
		kill(getpid(), SIGKILL);
	} else if (!strcmp(mode, "counts")) {
		struct sf_thread *t = (struct sf_thread *)(base + p->threads);

		p->peak_bytes = UINT64_MAX - 100;
		h->dropped_traces = UINT64_MAX - 4;
		h->nprocs = UINT32_MAX;
		t->sites_cap = UINT32_MAX;
		t->allocs = UINT64_MAX / 2;
		p->cmd_len = UINT32_MAX;
		for (uint32_t i = 1; i < 4; i++)
			p[i] = p[0]; /* the same lists from other slots */
	} else if (!strcmp(mode, "fifo") && argc > 2) {
		struct sf_module *m = (struct sf_module *)(base + p->modules);

		if (mkfifo(argv[2], 0600) && errno != EEXIST) {
			perror("mkfifo");
			return 1;
		}
		/* Every module of the list: the launcher must open none of them. */
		for (; (char *)m != base; m = (struct sf_module *)(base + m->next))
			if (m->path_len >= strlen(argv[2])) {
				strcpy(m->path, argv[2]);
				m->path_len = (uint32_t)strlen(argv[2]);
			}
	} else if (!strcmp(mode, "truncate")) {
		const char *path = getenv("PTRACE_SESSION");
		int fd = path ? open(path, O_RDWR) : -1;

		if (fd < 0) {
			perror("open PTRACE_SESSION");
			return 1;
		}
		printf("ftruncate: %s\n", ftruncate(fd, 4096) ? strerror(errno) : "done");
		close(fd);
	} else if (!strcmp(mode, "random") && argc > 2) {
		/* Over the records (past the launcher's tables), and every
		 * tenth write over the process slots or the header. */
		uint64_t used = h->bump < len ? h->bump : len, x = 88172645463325252ull;
		uint64_t lo = (h->trace_slots + (uint64_t)h->trace_cap * 4 + 63) & ~63ull;
		long n = atol(argv[2]);

		for (long i = 0; i < n && used > lo; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			if (i % 10)
				((uint64_t *)base)[(lo + (x >> 3) % (used - lo)) / 8] = x * 0x9e3779b97f4a7c15ull;
			else
				((uint64_t *)base)[(x >> 3) % ((h->procs + sizeof(*p) * 4) / 8)] = x;
		}
		kill(getpid(), SIGKILL);
	} else {
		fprintf(stderr, "usage: image_scribble procs|loop|counts|fifo PATH|truncate|random N\n");
		return 2;
	}
	fflush(stdout);
	return keep[0] ? 7 : 1;
}
