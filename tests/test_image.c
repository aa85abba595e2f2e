/* The agent's mapping of the session image and its process slots: mapped
 * as used and grown in place; slots past the first array in chunks, read
 * back by the launcher's reader. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "image.h"
#include "session.h"

static struct session sess;

static void setup(void)
{
	cr_assert(eq(int, session_create(&sess, 64u << 20), 0), "session image created");
}

static void teardown(void)
{
	session_close(&sess);
}

TestSuite(image, .init = setup, .fini = teardown);

Test(image, attach_maps_what_is_used_and_grows_in_place)
{
	size_t first;
	sf_off off;
	char *before;

	cr_assert(eq(int, image_attach(sess.path), 0), "attached through the /proc path");
	first = image_mapped;
	cr_assert(lt(sz, first, sess.size), "not the whole 64 MiB image: %zu bytes", first);
	cr_assert(eq(int, first >= ((struct sf_header *)sess.base)->bump, 1), "the launcher's tables are mapped");
	before = image_base;
	off = image_alloc(8u << 20);
	cr_assert(ne(u64, off, 0), "8 MiB beyond the first mapping");
	cr_assert(eq(ptr, image_base, before), "the mapping did not move");
	cr_assert(eq(int, image_mapped >= off + (8u << 20), 1), "and covers the allocation");
	memset(image_ptr(off), 0x5a, 8u << 20);
	cr_assert(eq(int, ((unsigned char *)sess.base)[off + (8u << 20) - 1], 0x5a), "the same memory as the launcher's");
	cr_assert(eq(int, image_contains(image_ptr(off)), 1), "inside the mapping");
	cr_assert(eq(int, image_contains(image_base + image_mapped), 0), "past the mapping");
	cr_assert(eq(ptr, image_reach(sess.size - 64, 64), image_base + sess.size - 64), "the last line reachable");
	cr_assert(eq(ptr, image_reach(sess.size - 64, 65), NULL), "nothing past the image");
	munmap(image_base, image_mapped);
}

Test(image, a_mapping_that_cannot_grow_makes_the_image_full_here)
{
	uint64_t bump;
	char *guard;

	cr_assert(eq(int, image_attach(sess.path), 0), "attached");
	/* Take the range right above the mapping, as a program's own mapping would. */
	guard = mmap(image_base + image_mapped, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	cr_assert(eq(ptr, guard, image_base + image_mapped), "range above taken");
	cr_assert(eq(u64, image_alloc(image_mapped), 0), "no room: the allocation fails softly");
	bump = ((struct sf_header *)sess.base)->bump;
	cr_assert(eq(u64, image_alloc(64), 0), "full for this process from then on");
	cr_assert(eq(u64, ((struct sf_header *)sess.base)->bump, bump), "without taking shared space");
	munmap(guard, 4096);
	munmap(image_base, image_mapped);
}

Test(image, process_slots_continue_in_chunks)
{
	const uint32_t n = SF_MAX_PROCS + 2 * SF_PROC_CHUNK + 7;
	uint32_t idx;

	image_use(sess.base);
	for (uint32_t i = 0; i < n; i++) {
		struct sf_process *p = image_register_process(100000 + (int)i, 1, -1, SF_PF_FORKED, &idx);

		cr_assert(ne(ptr, p, NULL), "slot %u", i);
		cr_assert(eq(u32, idx, i), "index %u", i);
	}
	cr_assert(eq(u64, ((struct sf_header *)sess.base)->dropped_procs, 0), "none dropped");
	cr_assert(eq(u32, session_nprocs(&sess), n), "the reader sees every slot");
	for (uint32_t i = 0; i < n; i++) {
		const struct sf_process *p = session_process(&sess, i);

		cr_assert(eq(i32, p->pid, 100000 + (int)i), "slot %u read back", i);
		cr_assert(eq(u32, p->state, SF_PROC_RUNNING), "slot %u running", i);
	}
}

Test(image, a_missing_chunk_reads_as_empty_slots)
{
	struct sf_header *h = sess.base;
	uint32_t idx;

	image_use(sess.base);
	for (uint32_t i = 0; i < SF_MAX_PROCS + 1; i++)
		cr_assert(ne(ptr, image_register_process(1, 1, -1, SF_PF_FORKED, &idx), NULL), "slot %u", i);
	/* A torn or scribbled chunk list: the reader stops at the first
	 * chunk that does not say it is the one expected. */
	((struct sf_proc_chunk *)((char *)sess.base + h->proc_chunks))->first = 12345;
	cr_assert(eq(u32, session_nprocs(&sess), SF_MAX_PROCS), "only the first array");
	cr_assert(eq(u32, session_process(&sess, SF_MAX_PROCS)->state, SF_PROC_FREE), "an empty slot, not a crash");
}
