/* The image reader's checks (cli/session.c) on hand-made hostile images. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "session.h"

static struct session sess;

static void setup(void)
{
	cr_assert(eq(int, session_create(&sess, 16u << 20), 0), "session image created");
}

static void teardown(void)
{
	session_close(&sess);
}

/* n list nodes of 64 bytes past the bump pointer, linked in order; the
 * pointer moves past them. Returns the first one's offset. */
static sf_off nodes(unsigned n)
{
	struct sf_header *h = sess.base;
	sf_off first = h->bump;

	for (unsigned i = 0; i < n; i++)
		*(sf_off *)((char *)sess.base + first + 64 * i) = i + 1 < n ? first + 64 * (i + 1) : 0;
	h->bump += 64 * n;
	return first;
}

#define LEN(head) session_list_len(&sess, NULL, SP_THREADS, (head), 64, 0)
#define NEXT(off) (*(sf_off *)((char *)sess.base + (off)))

Test(session, a_list_is_counted_to_its_end, .init = setup, .fini = teardown)
{
	sf_off h = nodes(1000);

	cr_assert(eq(u64, LEN(h), 1000), "1000 nodes");
	cr_assert(eq(u64, LEN(0), 0), "an empty list");
	cr_assert(eq(u32, session_corrupt_bits(&sess, SF_MAX_PROCS), 0), "nothing corrupt");
}

Test(session, a_loop_is_cut_at_its_last_distinct_node, .init = setup, .fini = teardown)
{
	sf_off h = nodes(10);

	NEXT(h) = h; /* a node pointing at itself */
	cr_assert(eq(u64, LEN(h), 1), "a self loop is one node");
	cr_assert(eq(u32, session_corrupt_bits(&sess, SF_MAX_PROCS), 1u << SP_THREADS), "the thread list is corrupt");
	h = nodes(1000);
	NEXT(h + 64 * 999) = h + 64 * 300; /* 300 nodes, then a loop of 700 */
	cr_assert(eq(u64, LEN(h), 1000), "every distinct node, each once");
}

Test(session, a_bad_link_ends_the_list, .init = setup, .fini = teardown)
{
	sf_off h = nodes(5);
	struct sf_header *hd = sess.base;

	NEXT(h + 64 * 2) = hd->bump + 4096; /* above the bump pointer */
	cr_assert(eq(u64, LEN(h), 3), "three good nodes");
	NEXT(h + 64 * 2) = h + 64 * 3 + 4; /* misaligned */
	cr_assert(eq(u64, LEN(h), 3), "a misaligned link is a bad one");
	cr_assert(eq(ptr, (void *)session_at(&sess, h + 4, 8), NULL), "session_at: misaligned");
	cr_assert(eq(ptr, (void *)session_at(&sess, hd->bump, 8), NULL), "session_at: above the bump pointer");
	cr_assert(eq(ptr, (void *)session_at(&sess, h, hd->bump), NULL), "session_at: too long");
}

Test(session, the_budget_bounds_the_work_of_a_report, .init = setup, .fini = teardown)
{
	struct sf_header *h = sess.base;
	uint64_t budget;

	session_read_begin(&sess);
	budget = h->bump / 2 > (1u << 16) ? h->bump / 2 : (1u << 16);
	cr_assert(eq(u64, session_charge(&sess, NULL, budget - 10), budget - 10), "within the budget");
	cr_assert(eq(u64, session_charge(&sess, NULL, 100), 10), "what is left");
	cr_assert(eq(u64, session_charge(&sess, NULL, 1), 0), "nothing more");
	cr_assert(eq(u32, session_corrupt_bits(&sess, SF_MAX_PROCS), 1u << SP_CUT), "the cut is reported");
}

Test(session, the_layout_is_the_launchers_not_the_headers, .init = setup, .fini = teardown)
{
	struct sf_header *h = sess.base;
	sf_off procs = h->procs;

	h->nprocs = 2;
	h->procs = 0x4141414141414141ull;
	cr_assert(eq(ptr, (void *)session_process(&sess, 1), (char *)sess.base + procs + sizeof(struct sf_process)),
		  "slot 1 where the launcher put it");
	h->nprocs = UINT32_MAX;
	cr_assert(eq(u32, session_nprocs(&sess), SF_MAX_PROCS), "never more slots than the layout has");
}

Test(session, the_image_cannot_be_shrunk, .init = setup, .fini = teardown)
{
	int fd = open(sess.path, O_RDWR);

	cr_assert(ge(int, fd, 0), "the image opens by its path");
	cr_assert(ne(int, ftruncate(fd, 4096), 0), "truncation is refused");
	cr_assert(eq(int, errno, EPERM), "by the seal");
	close(fd);
}
