/*
 * The agent's view of the session image: attach to the launcher's memfd,
 * hand out space with the atomic bump allocator, register processes.
 */
#ifndef PTRACE_IMAGE_H
#define PTRACE_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "session_format.h"

extern char *image_base;          /* NULL until attached */
extern struct sf_header *image_hdr;

/* Map the image at path (opened and closed again: no descriptor is left
 * in the program). 0, or -errno when absent, unmappable or not ours. */
int image_attach(const char *path);

/* Use an image already in memory (unit tests, fork children). */
void image_use(void *base);

/* Reserve len bytes aligned to 64; 0 when the image is full. */
sf_off image_alloc(size_t len);

static inline void *image_ptr(sf_off off)
{
	return off ? image_base + off : NULL;
}

static inline sf_off image_off(const void *p)
{
	return p ? (sf_off)((const char *)p - image_base) : 0;
}

/* Claim a process slot and fill its identity; NULL when none is left
 * (counted in dropped_procs). The record is RUNNING on return. */
struct sf_process *image_register_process(int pid, int ppid, int parent_index, uint32_t flags,
					  uint32_t *index);

/* Read a small file (/proc) into buf: the bytes read, 0 on failure. No
 * allocation, no stdio: safe inside a hook. */
size_t image_read_file(const char *path, char *buf, size_t cap);

/* CLOCK_MONOTONIC in ns: the session's time base. */
uint64_t image_now_ns(void);

/* Push a record at off onto the list whose head is *head (release). */
void image_list_push(sf_off *head, sf_off off, sf_off *next_field);

#endif
