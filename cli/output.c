#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void say(char *err, size_t len, const char *s)
{
	if (err && len)
		snprintf(err, len, "%s", s);
}

/*
 * The launcher's descriptor a name stands for, or -1. These names are
 * symlinks into /proc (magic ones, to whatever the descriptor is), which
 * O_NOFOLLOW would refuse; what they mean is "that descriptor", so they
 * are taken as such.
 */
static int named_fd(const char *name)
{
	static const char *const prefixes[] = { "/dev/fd/", "/proc/self/fd/" };
	long n = 0;

	if (!strcmp(name, "-") || !strcmp(name, "/dev/stdout"))
		return 1;
	if (!strcmp(name, "/dev/stderr"))
		return 2;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t plen = strlen(prefixes[i]);
		const char *d = name + plen;

		if (strncmp(name, prefixes[i], plen) || !*d)
			continue;
		for (; *d >= '0' && *d <= '9' && n <= INT_MAX; d++)
			n = n * 10 + (*d - '0');
		return *d || n > INT_MAX ? -1 : (int)n;
	}
	return -1;
}

/* stdio writes through here: every failure is kept with its errno (stdio
 * itself only keeps "an error happened"), a short write is retried, and a
 * descriptor someone left non-blocking (a shared stdout) is waited for. */
static ssize_t cookie_write(void *cookie, const char *buf, size_t len)
{
	struct output *o = cookie;
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(o->fd, buf + done, len - done);

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = o->fd, .events = POLLOUT };

			if (poll(&p, 1, -1) >= 0 || errno == EINTR)
				continue;
		}
		if (!o->err)
			o->err = n < 0 ? -errno : -EIO;
		return done ? (ssize_t)done : -1;
	}
	return (ssize_t)done;
}

static int cookie_close(void *cookie)
{
	struct output *o = cookie;
	int rc = close(o->fd);

	if (rc && errno != EINTR && !o->err)
		o->err = -errno; /* NFS and the like report write errors here */
	o->fd = -1;
	return rc && errno != EINTR ? -1 : 0;
}

/* Move fd above 2 (a closed stdio slot stays closed for the program). */
static int high_fd(int fd)
{
	int nfd;

	if (fd > 2)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return nfd;
}

/* Keep fd (ours, -1: its errno says why) as o's descriptor, with what it
 * is in *st and o: 0, or -errno with one line in err and fd closed. */
static int output_keep(struct output *o, int fd, struct stat *st, char *err, size_t errlen)
{
	int e;

	if (fd < 0 || fstat(fd, st)) {
		e = errno;
		if (fd >= 0)
			close(fd);
		say(err, errlen, strerror(e));
		return -e;
	}
	o->fd = fd;
	o->dev = st->st_dev;
	o->ino = st->st_ino;
	o->type = st->st_mode & S_IFMT;
	return 0;
}

static int open_named(struct output *o, const char *name, unsigned mode, char *err, size_t errlen)
{
	const int flags = O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
	struct stat st;
	int fd, e;

	fd = open(name, flags);
	if (fd < 0 && errno == ENOENT) {
		/* O_EXCL: we know whether we created it, and a symlink
		 * planted in between is not followed either. */
		fd = open(name, flags | O_CREAT | O_EXCL, (mode_t)mode);
		if (fd >= 0)
			o->created = 1;
		else if (errno == EEXIST)
			fd = open(name, flags);
	}
	if (fd < 0) {
		e = errno;
		if (e == ELOOP && !lstat(name, &st) && S_ISLNK(st.st_mode))
			say(err, errlen, "is a symbolic link: not followed (name the file it points to)");
		else if (e == ENXIO && !lstat(name, &st) && S_ISFIFO(st.st_mode))
			say(err, errlen, "a FIFO that no process reads: nothing would read the report");
		else if (e == ENXIO && !lstat(name, &st) && S_ISSOCK(st.st_mode))
			say(err, errlen, "a socket: not a file to write a report to");
		else
			say(err, errlen, strerror(e));
		return -e;
	}
	if ((e = output_keep(o, high_fd(fd), &st, err, errlen)))
		return e;
	if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode)) {
		close(o->fd);
		o->fd = -1;
		say(err, errlen, "not a regular file, character device or FIFO: refused");
		return -EINVAL;
	}
	return 0;
}

static int open_dup(struct output *o, int n, char *err, size_t errlen)
{
	struct stat st;
	int fl = fcntl(n, F_GETFL), e;

	if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY) {
		say(err, errlen, fl < 0 ? "names a descriptor that is not open" :
		    "names a descriptor that is not open for writing");
		return -EBADF;
	}
	/* Our own copy: closing it at the end leaves the program's alone. */
	if ((e = output_keep(o, fcntl(n, F_DUPFD_CLOEXEC, 3), &st, err, errlen)))
		return e;
	o->dup = 1;
	return 0;
}

int output_open(struct output *o, const char *name, unsigned mode, char *err, size_t errlen)
{
	static const cookie_io_functions_t io = { .write = cookie_write, .close = cookie_close };
	int n = named_fd(name), rc;

	memset(o, 0, sizeof(*o));
	o->name = name;
	o->fd = -1;
	rc = n >= 0 ? open_dup(o, n, err, errlen) : open_named(o, name, mode, err, errlen);
	if (rc)
		return rc;
	o->f = fopencookie(o, "w", io);
	if (!o->f) {
		say(err, errlen, strerror(ENOMEM));
		output_discard(o);
		return -ENOMEM;
	}
	return 0;
}

int output_same(const struct output *a, const struct output *b)
{
	if (!a->f || !b->f || a->dev != b->dev || a->ino != b->ino)
		return 0;
	return a->type != S_IFCHR;
}

int output_ready(struct output *o)
{
	int fl;

	if (o->dup)
		return 0; /* shared with the program: its offset, its flags */
	if (o->type == S_IFREG && ftruncate(o->fd, 0))
		return -errno;
	fl = fcntl(o->fd, F_GETFL);
	if (fl < 0 || fcntl(o->fd, F_SETFL, fl & ~O_NONBLOCK))
		return -errno;
	return 0;
}

int output_close(struct output *o)
{
	if (o->f) {
		fclose(o->f); /* errors land in o->err through the cookie */
		o->f = NULL;
	}
	return o->err;
}

void output_discard(struct output *o)
{
	struct stat st;

	if (o->f) {
		/* Nothing was written: there is nothing to flush. */
		fclose(o->f);
		o->f = NULL;
	} else if (o->fd >= 0) {
		close(o->fd);
		o->fd = -1;
	}
	/* Only the file we made, not whatever has taken its name since. */
	if (o->created && !lstat(o->name, &st) && st.st_dev == o->dev && st.st_ino == o->ino)
		unlink(o->name);
	o->created = 0;
}
