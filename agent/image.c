#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NI __attribute__((no_instrument_function))

char *image_base;
struct sf_header *image_hdr;

NI void image_use(void *base)
{
	image_base = base;
	image_hdr = base;
}

NI int image_attach(const char *path)
{
	struct stat st;
	void *m;
	int fd, err = 0;

	if (!path || !*path)
		return -ENOENT;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || (size_t)st.st_size < sizeof(struct sf_header)) {
		err = -EINVAL;
		goto out_close;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		err = -errno;
		goto out_close;
	}
	if (((struct sf_header *)m)->magic != SF_MAGIC || ((struct sf_header *)m)->version != SF_VERSION ||
	    ((struct sf_header *)m)->size != (uint64_t)st.st_size) {
		munmap(m, (size_t)st.st_size);
		err = -EPROTO;
		goto out_close;
	}
	/* Keep the image (shared memory, up to gigabytes) out of the
	 * program's core dumps: they must be what they would be without us. */
	madvise(m, (size_t)st.st_size, MADV_DONTDUMP);
	image_use(m);
out_close:
	close(fd);
	return err;
}

NI sf_off image_alloc(size_t len)
{
	uint64_t off;

	len = (len + 63) & ~(size_t)63;
	/* A failed reservation leaves bump past the end; later callers fail too,
	 * which is what we want: the image stays full. */
	off = __atomic_fetch_add(&image_hdr->bump, len, __ATOMIC_RELAXED);
	if (off + len > image_hdr->size || off + len < off)
		return 0;
	return off;
}

NI void image_list_push(sf_off *head, sf_off off, sf_off *next_field)
{
	sf_off old = __atomic_load_n(head, __ATOMIC_RELAXED);

	do {
		*next_field = old;
		/* Release: the record's contents are visible before its offset. */
	} while (!__atomic_compare_exchange_n(head, &old, off, 1, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

NI uint64_t image_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

NI size_t image_read_file(const char *path, char *buf, size_t cap)
{
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	while (n < cap) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	return n;
}

NI struct sf_process *image_register_process(int pid, int ppid, int parent_index, uint32_t flags,
					     uint32_t *index)
{
	struct sf_process *procs = image_ptr(image_hdr->procs);
	uint32_t idx = __atomic_fetch_add(&image_hdr->nprocs, 1, __ATOMIC_RELAXED);
	struct sf_process *p;
	ssize_t n;

	if (idx >= SF_MAX_PROCS) {
		__atomic_fetch_add(&image_hdr->dropped_procs, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	p = &procs[idx];
	__atomic_store_n(&p->state, SF_PROC_INIT, __ATOMIC_RELAXED);
	p->pid = pid;
	p->ppid = ppid;
	p->parent_index = parent_index;
	p->exit_code = -1;
	p->start_ns = image_now_ns();
	p->flags = flags;
	n = readlink("/proc/self/exe", p->exe, sizeof(p->exe) - 1);
	p->exe[n > 0 ? n : 0] = 0;
	p->cmd_len = (uint32_t)image_read_file("/proc/self/cmdline", p->cmd, sizeof(p->cmd));
	/* An exec'd image replaces a record with the same pid. */
	for (uint32_t i = 0; i < idx && i < SF_MAX_PROCS; i++) {
		if (procs[i].pid == pid && __atomic_load_n(&procs[i].state, __ATOMIC_ACQUIRE) == SF_PROC_RUNNING) {
			__atomic_fetch_or(&procs[i].flags, SF_PF_EXECED, __ATOMIC_RELAXED);
			procs[i].end_ns = p->start_ns;
			__atomic_store_n(&procs[i].state, SF_PROC_DONE, __ATOMIC_RELEASE);
		}
	}
	*index = idx;
	__atomic_store_n(&p->state, SF_PROC_RUNNING, __ATOMIC_RELEASE);
	return p;
}
