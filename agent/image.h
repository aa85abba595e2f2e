/*
 * The agent's view of the session image: attach to the launcher's memfd,
 * hand out space with the atomic bump allocator, register processes.
 *
 * Only the part of the image in use is mapped (image_mapped bytes from
 * image_base), and the mapping grows in place, in steps, as the bump
 * allocator advances: a program that lowers its own RLIMIT_AS keeps the
 * address space it would have had. When the mapping cannot grow (the
 * range above is taken, or the limit is reached) the image is full for
 * this process: allocations fail softly, as when the image itself is full.
 */
#ifndef PTRACE_IMAGE_H
#define PTRACE_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "session_format.h"

extern char *image_base;          /* NULL until attached */
extern struct sf_header *image_hdr;
extern size_t image_mapped;       /* bytes mapped at image_base (atomic; only grows) */
extern uint32_t *image_full_flags; /* gets SF_PF_MAP_FULL when the mapping cannot grow */

/* Map the image at path (opened and closed again: no descriptor is left
 * in the program). 0, or -errno when absent, unmappable or not ours. */
int image_attach(const char *path);

/* Use an image already in memory (unit tests, fork children). */
void image_use(void *base);

/* Reserve len bytes aligned to 64, mapped; 0 when the image is full or
 * this process's mapping cannot grow. */
sf_off image_alloc(size_t len);

/* [off, off + len) made by any process, mapped here (the mapping grown if
 * need be); NULL when off is 0, outside the image, or cannot be mapped. */
void *image_reach(sf_off off, size_t len);

/* Is p inside this process's mapping of the image? */
static inline int image_contains(const void *p)
{
	return image_base && (const char *)p >= image_base &&
	       (const char *)p < image_base + __atomic_load_n(&image_mapped, __ATOMIC_ACQUIRE);
}

/* In a fork child: a growth the parent's other threads were making is
 * not ours to wait for. */
void image_after_fork(void);

static inline void *image_ptr(sf_off off)
{
	return off ? image_base + off : NULL;
}

static inline sf_off image_off(const void *p)
{
	return p ? (sf_off)((const char *)p - image_base) : 0;
}

/* Claim a process slot (the first array, then chunks of the image made
 * as needed) and fill its identity; NULL when the image has no room
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
