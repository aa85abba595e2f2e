#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NI __attribute__((no_instrument_function))

#define IMAGE_STEP (1ul << 20)   /* smallest growth of the mapping */
#define IMAGE_GAP (4ull << 40)   /* free address space left above the image's place */

char *image_base;
struct sf_header *image_hdr;
size_t image_mapped;
static size_t image_size;        /* the whole image, from fstat: not from the header,
                                    which the program could overwrite */
static int grow_owner;           /* atomic: tid growing the mapping, 0 none */
static int grow_failed;          /* atomic: the mapping cannot grow: full here */
uint32_t *image_full_flags;

NI void image_use(void *base)
{
	image_base = base;
	image_hdr = base;
	image_size = ((struct sf_header *)base)->size;
	image_mapped = image_size; /* a test's image is mapped whole */
	grow_failed = 0;
}

/* What to map to cover need bytes: need and an eighth more, at least a
 * step, so that growth costs one system call per few allocations of
 * megabytes, and the address space taken stays within 1/8 + 1 MiB of use. */
NI static size_t image_want(size_t need)
{
	size_t want = need + (need / 8 > IMAGE_STEP ? need / 8 : IMAGE_STEP);

	want = (want + IMAGE_STEP - 1) & ~(IMAGE_STEP - 1);
	return want < image_size ? want : image_size;
}

/*
 * Map the first len bytes of the image where it can grow in place. The
 * kernel puts mappings top-down, each right below the previous one, so a
 * mapping made now would have the program's last one right above it and
 * could never grow. Placed far below the agent's own code (a libraries'
 * neighbour), the image has terabytes of free space above it that the
 * program's own mappings, coming down from above, reach last.
 */
NI static void *image_place(int fd, size_t len)
{
	uintptr_t self = (uintptr_t)(void *)image_place;
	void *m = MAP_FAILED;

	if (self > IMAGE_GAP + image_size + (1ull << 32)) {
		void *hint = (void *)((self - IMAGE_GAP - image_size) & ~(uintptr_t)((1u << 21) - 1));

		m = mmap(hint, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);
		if (m != MAP_FAILED && m != hint) {
			munmap(m, len); /* a kernel older than 4.17 took it as a hint */
			m = MAP_FAILED;
		}
	}
	if (m == MAP_FAILED)
		m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	return m;
}

NI int image_attach(const char *path)
{
	struct sf_header h;
	struct stat st;
	size_t len;
	void *m;
	int fd, err = 0;

	if (!path || !*path)
		return -ENOENT;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || (size_t)st.st_size < sizeof(struct sf_header) ||
	    pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
		err = -EINVAL;
		goto out_close;
	}
	if (h.magic != SF_MAGIC || h.version != SF_VERSION || h.size != (uint64_t)st.st_size) {
		err = -EPROTO;
		goto out_close;
	}
	/* What exists now (the launcher's tables, what earlier processes
	 * made), and room for this process's first records. */
	image_size = (size_t)st.st_size;
	len = image_want(h.bump < image_size ? (size_t)h.bump : image_size);
	m = image_place(fd, len);
	if (m == MAP_FAILED) {
		err = -errno;
		goto out_close;
	}
	/* Keep the image (shared memory, up to gigabytes) out of the
	 * program's core dumps: they must be what they would be without us. */
	madvise(m, len, MADV_DONTDUMP);
	image_base = m;
	image_hdr = m;
	grow_failed = 0;
	__atomic_store_n(&image_mapped, len, __ATOMIC_RELEASE);
out_close:
	close(fd);
	return err;
}

NI void image_after_fork(void)
{
	__atomic_store_n(&grow_owner, 0, __ATOMIC_RELEASE);
}

/* Extend the mapping in place to cover need bytes: mremap without
 * MREMAP_MAYMOVE never moves it (the offsets handed out are pointers
 * already) and never replaces what is above; it fails when that range is
 * taken or RLIMIT_AS would be exceeded. A failure is final: the image is
 * full for this process, which costs no more system calls from then on. */
NI static int image_grow(size_t need)
{
	size_t cur, want;
	int me = 0, owner;
	unsigned waits = 0;

	if (need > image_size)
		return -ENOSPC;
	for (;;) {
		if (need <= __atomic_load_n(&image_mapped, __ATOMIC_ACQUIRE))
			return 0;
		if (__atomic_load_n(&grow_failed, __ATOMIC_RELAXED))
			return -ENOMEM;
		if (!me)
			me = (int)syscall(SYS_gettid);
		owner = 0;
		if (__atomic_compare_exchange_n(&grow_owner, &owner, me, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			break;
		/* A signal handler that interrupted this thread's own growth
		 * must not wait for it; another thread is one mremap away. */
		if (owner == me)
			return -EDEADLK;
		/* The owner is one mremap away, unless it never comes back (a
		 * program's handler siglongjmp'd out of it, a cancellation):
		 * then this is a soft failure, not a hang. */
		if (++waits > 1000)
			return -EAGAIN;
		sched_yield();
	}
	cur = __atomic_load_n(&image_mapped, __ATOMIC_RELAXED);
	if (need > cur) {
		int saved = errno;
		long page = sysconf(_SC_PAGESIZE);

		want = image_want(need);
		if (mremap(image_base, cur, want, 0) == MAP_FAILED) {
			/* The step may be what does not fit: try the bare need. */
			want = (need + (size_t)page - 1) & ~((size_t)page - 1);
			if (want > image_size || mremap(image_base, cur, want, 0) == MAP_FAILED)
				want = 0;
		}
		if (want) {
			madvise(image_base + cur, want - cur, MADV_DONTDUMP);
			__atomic_store_n(&image_mapped, want, __ATOMIC_RELEASE);
		} else {
			__atomic_store_n(&grow_failed, 1, __ATOMIC_RELAXED);
			if (image_full_flags)
				__atomic_fetch_or(image_full_flags, SF_PF_MAP_FULL, __ATOMIC_RELAXED);
		}
		errno = saved;
	}
	__atomic_store_n(&grow_owner, 0, __ATOMIC_RELEASE);
	return need <= __atomic_load_n(&image_mapped, __ATOMIC_ACQUIRE) ? 0 : -ENOMEM;
}

NI sf_off image_alloc(size_t len)
{
	uint64_t off;

	len = (len + 63) & ~(size_t)63;
	/* Full here: do not take shared space that no one could use. */
	if (__atomic_load_n(&grow_failed, __ATOMIC_RELAXED))
		return 0;
	/* A failed reservation leaves bump past the end; later callers fail too,
	 * which is what we want: the image stays full. */
	off = __atomic_fetch_add(&image_hdr->bump, len, __ATOMIC_RELAXED);
	if (off + len > image_size || off + len < off)
		return 0;
	if (off + len > __atomic_load_n(&image_mapped, __ATOMIC_ACQUIRE) && image_grow(off + len))
		return 0;
	return off;
}

NI void *image_reach(sf_off off, size_t len)
{
	if (!off || off > image_size || len > image_size - off)
		return NULL;
	if (off + len > __atomic_load_n(&image_mapped, __ATOMIC_ACQUIRE) && image_grow(off + len))
		return NULL;
	return image_base + off;
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

/* Slot idx: in the first array, or in the chunk list (chunks missing on
 * the way made here when create is set); NULL when there is no room. */
NI static struct sf_process *image_slot(uint32_t idx, int create)
{
	sf_off *link = &image_hdr->proc_chunks;
	uint32_t k;

	if (idx < SF_MAX_PROCS)
		return (struct sf_process *)image_ptr(image_hdr->procs) + idx;
	k = (idx - SF_MAX_PROCS) / SF_PROC_CHUNK;
	for (uint32_t i = 0;; i++) {
		/* Acquire pairs with the release CAS below (in whichever
		 * process made the chunk): its first and cap are written. */
		sf_off off = __atomic_load_n(link, __ATOMIC_ACQUIRE);
		struct sf_proc_chunk *c;

		if (!off) {
			sf_off mine;

			if (!create || !(mine = image_alloc(SF_PROC_CHUNK_BYTES)))
				return NULL;
			c = image_ptr(mine);
			c->first = SF_MAX_PROCS + i * SF_PROC_CHUNK;
			c->cap = SF_PROC_CHUNK;
			/* Lost to another process: its chunk is the one; ours is
			 * unused space (never touched beyond its first line). */
			if (__atomic_compare_exchange_n(link, &off, mine, 0, __ATOMIC_RELEASE, __ATOMIC_ACQUIRE))
				off = mine;
		}
		c = image_reach(off, SF_PROC_CHUNK_BYTES);
		if (!c || c->first != SF_MAX_PROCS + i * SF_PROC_CHUNK || c->cap != SF_PROC_CHUNK)
			return NULL;
		if (i == k)
			return sf_chunk_slots(c) + (idx - c->first);
		link = &c->next;
	}
}

/* An exec'd image replaces the record of its pid that is still running. */
NI static void image_supersede(int pid, uint32_t below, uint64_t now)
{
	for (uint32_t i = 0; i < below; i++) {
		struct sf_process *q = image_slot(i, 0);

		if (!q) {
			/* A chunk no process could make: skip to the next one. */
			i = i < SF_MAX_PROCS ? SF_MAX_PROCS - 1 : i | (SF_PROC_CHUNK - 1);
			continue;
		}
		if (q->pid == pid && __atomic_load_n(&q->state, __ATOMIC_ACQUIRE) == SF_PROC_RUNNING) {
			__atomic_fetch_or(&q->flags, SF_PF_EXECED, __ATOMIC_RELAXED);
			q->end_ns = now;
			__atomic_store_n(&q->state, SF_PROC_DONE, __ATOMIC_RELEASE);
		}
	}
}

NI struct sf_process *image_register_process(int pid, int ppid, int parent_index, uint32_t flags,
					     uint32_t *index)
{
	uint32_t idx = __atomic_fetch_add(&image_hdr->nprocs, 1, __ATOMIC_RELAXED);
	struct sf_process *p = image_slot(idx, 1);
	ssize_t n;

	if (!p) {
		__atomic_fetch_add(&image_hdr->dropped_procs, 1, __ATOMIC_RELAXED);
		return NULL;
	}
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
	/* Only an exec'd image can share its pid with a running record (a
	 * fork child's pid is new): a scan over every slot at each fork would
	 * make n forks cost n^2. */
	if (!(flags & SF_PF_FORKED))
		image_supersede(pid, idx, p->start_ns);
	*index = idx;
	__atomic_store_n(&p->state, SF_PROC_RUNNING, __ATOMIC_RELEASE);
	return p;
}
