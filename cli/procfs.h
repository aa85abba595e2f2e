/*
 * Reading the small /proc files the launcher looks at while the program
 * runs (statm, stat): one read, NUL-terminated.
 */
#ifndef PTRACE_CLI_PROCFS_H
#define PTRACE_CLI_PROCFS_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

/* path's bytes into buf (len > 1), NUL-terminated: how many, or -errno
 * (-EIO for an empty file). */
static inline ssize_t procfs_read(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	return n;
}

/* Resident bytes of pid (/proc/PID/statm); -errno when unreadable. */
static inline int procfs_rss(int pid, uint64_t *rss)
{
	char path[64], buf[128];
	unsigned long long size, res;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/statm", pid);
	if ((n = procfs_read(path, buf, sizeof(buf))) < 0)
		return (int)n;
	if (sscanf(buf, "%llu %llu", &size, &res) != 2)
		return -EIO;
	*rss = (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
	return 0;
}

#endif
