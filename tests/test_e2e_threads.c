/*
 * End-to-end figures of multi-threaded programs: per-thread entries and
 * exact totals with 8 busy threads (threads) and with 2000 short-lived ones
 * (churn). Besides the programs' own allocations, glibc's pthread_create
 * callocs one DTV per new thread stack from ld.so, in the creating thread;
 * the programs arrange for that count to be exact (see their comments).
 */
#include "testutil.h"

#define THREADS_SRC TU_SRC("threads.c")
#define CHURN_SRC TU_SRC("churn.c")
#define LDSO "ld-linux-x86-64.so.2"

/* The per-worker figures of threads.c. */
#define WORKER_ALLOCS 10000
#define WORKER_BYTES 1360000
#define WORKER_FREES 9990

/* The sites whose frame 0 is not in src: glibc's DTVs, all from ld.so. */
static struct tu_sum check_dtv_sites(json_t *sites, const char *src, long long nthreads)
{
	struct tu_sum dtv = tu_sum_frame0(sites, "file", src, 1);

	for (size_t i = 0; i < json_array_size(sites); i++) {
		json_t *s = json_array_get(sites, i);
		const char *module = tu_frame_str(tu_frame(s, 0), "module");

		if (!tu_ends_with(tu_frame_str(tu_frame(s, 0), "file"), src))
			cr_assert(tu_ends_with(module, LDSO), "site %zu: frame 0 neither in %s nor in ld.so but in %s",
				  i, src, module ? module : "(null)");
	}
	cr_assert(eq(i64, dtv.allocations, nthreads), "ld.so allocations: one DTV per new thread stack");
	cr_assert(eq(i64, dtv.frees, 0), "ld.so frees: cached stacks keep their DTV");
	cr_assert(eq(i64, dtv.live_blocks, nthreads), "ld.so live blocks");
	return dtv;
}

Test(e2e_threads, each_worker_has_its_name_and_counts)
{
	struct tu_run r;
	json_t *proc;
	long long tids[8];

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("threads")));
	cr_assert(eq(int, r.exit_code, 0), "threads exit code; its stderr: %s", r.err);
	proc = tu_proc(r.json, 0);
	for (int i = 0; i < 8; i++) {
		char name[16];
		json_t *t;

		snprintf(name, sizeof name, "worker-%d", i);
		t = tu_thread_named(proc, name);
		cr_assert(eq(i64, tu_int(t, "allocations"), WORKER_ALLOCS), "%s allocations", name);
		cr_assert(eq(i64, tu_int(t, "bytes_allocated"), WORKER_BYTES), "%s bytes_allocated", name);
		cr_assert(eq(i64, tu_int(t, "frees"), WORKER_FREES), "%s frees", name);
		tids[i] = tu_int(t, "tid");
		cr_assert(ne(i64, tids[i], tu_int(proc, "pid")), "%s tid is not the main thread's", name);
		for (int j = 0; j < i; j++)
			cr_assert(ne(i64, tids[i], tids[j]), "worker-%d and worker-%d have distinct tids", i, j);
	}
	tu_run_free(&r);
}

Test(e2e_threads, threads_totals_are_exact)
{
	struct tu_run r;
	json_t *m, *sites, *threads;
	struct tu_sum mine, dtv, all;
	long long thread_allocs = 0;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("threads")));
	cr_assert(eq(int, r.exit_code, 0), "threads exit code; its stderr: %s", r.err);
	cr_assert(eq(i64, tu_int(r.json, "agent.events_dropped"), 0), "agent.events_dropped");
	m = tu_memory(r.json, 0);
	sites = tu_arr(m, "sites");

	mine = tu_sum_frame0(sites, "file", THREADS_SRC, 0);
	tu_assert_sum(&mine, &(struct tu_sum){1, 80000, 10880000, 79920, 0, 14720, 80}, "sites in threads.c");
	tu_assert_frame(tu_frame(tu_find_frame0(sites, "worker"), 0), "worker", THREADS_SRC,
			tu_marker_line(THREADS_SRC, "@site:worker"), "worker site frame 0");
	dtv = check_dtv_sites(sites, THREADS_SRC, 8);
	all = tu_sum_all(sites);
	tu_assert_totals(m, &(struct tu_totals){80008, 79920, 10880000 + dtv.bytes, -1, 14720 + dtv.bytes, 88, 0, 0, 0},
			 "threads");
	cr_assert(eq(i64, all.bytes, tu_int(m, "bytes_allocated")), "bytes_allocated = sum of sites");

	threads = tu_arr(tu_proc(r.json, 0), "threads");
	for (size_t i = 0; i < json_array_size(threads); i++)
		thread_allocs += tu_int(json_array_get(threads, i), "allocations");
	cr_assert(eq(i64, thread_allocs, 80008), "sum of threads[].allocations");
	tu_run_free(&r);
}

/*
 * Sampling one allocation in 100 must not change any total or any per-thread
 * figure. The DTV bytes depend on how many modules have TLS, so they are
 * taken from the main thread, which allocates nothing else.
 */
Test(e2e_threads, threads_totals_are_exact_when_sampled)
{
	struct tu_run r;
	json_t *proc, *m, *main_thread = NULL, *threads;
	long long dtv_bytes;

	tu_profile(&r, NULL, TU_LIST("-q", "--sample-rate", "0.01", "--", TU_PROG("threads")));
	cr_assert(eq(int, r.exit_code, 0), "threads exit code; its stderr: %s", r.err);
	proc = tu_proc(r.json, 0);
	m = tu_memory(r.json, 0);
	cr_assert(tu_bool(m, "sampled"), "memory.sampled at rate 0.01");
	threads = tu_arr(proc, "threads");
	for (size_t i = 0; i < json_array_size(threads); i++)
		if (tu_int(json_array_get(threads, i), "tid") == tu_int(proc, "pid"))
			main_thread = json_array_get(threads, i);
	cr_assert(main_thread != NULL, "threads[] has the main thread (tid = pid)");
	cr_assert(eq(i64, tu_int(main_thread, "allocations"), 8), "main thread: 8 DTV allocations");
	cr_assert(eq(i64, tu_int(main_thread, "frees"), 0), "main thread frees");
	dtv_bytes = tu_int(main_thread, "bytes_allocated");
	tu_assert_totals(m, &(struct tu_totals){80008, 79920, 10880000 + dtv_bytes, -1, 14720 + dtv_bytes, 88, 0, 0, 0},
			 "threads sampled at 0.01");
	for (int i = 0; i < 8; i++) {
		char name[16];
		json_t *t;

		snprintf(name, sizeof name, "worker-%d", i);
		t = tu_thread_named(proc, name);
		cr_assert(eq(i64, tu_int(t, "allocations"), WORKER_ALLOCS), "%s allocations", name);
		cr_assert(eq(i64, tu_int(t, "bytes_allocated"), WORKER_BYTES), "%s bytes_allocated", name);
		cr_assert(eq(i64, tu_int(t, "frees"), WORKER_FREES), "%s frees", name);
	}
	tu_run_free(&r);
}

Test(e2e_threads, churn_totals_are_exact)
{
	struct tu_run r;
	json_t *m, *sites;
	struct tu_sum mine, dtv;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("churn")));
	cr_assert(eq(int, r.exit_code, 0), "churn exit code; its stderr: %s", r.err);
	cr_assert(eq(i64, tu_int(r.json, "agent.events_dropped"), 0), "agent.events_dropped");
	m = tu_memory(r.json, 0);
	sites = tu_arr(m, "sites");
	mine = tu_sum_frame0(sites, "file", CHURN_SRC, 0);
	tu_assert_sum(&mine, &(struct tu_sum){1, 10000, 300000, 10000, -1, 0, 0}, "sites in churn.c");
	tu_assert_frame(tu_frame(tu_find_frame0(sites, "worker"), 0), "worker", CHURN_SRC,
			tu_marker_line(CHURN_SRC, "@site:churn"), "worker site frame 0");
	dtv = check_dtv_sites(sites, CHURN_SRC, 50);
	tu_assert_totals(m, &(struct tu_totals){10050, 10000, 300000 + dtv.bytes, -1, dtv.bytes, 50, -1, 0, 0},
			 "churn");
	tu_run_free(&r);
}

Test(e2e_threads, churn_lists_every_thread)
{
	struct tu_run r;
	json_t *proc, *threads;
	long long workers = 0, allocs = 0, frees = 0;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("churn")));
	cr_assert(eq(int, r.exit_code, 0), "churn exit code; its stderr: %s", r.err);
	proc = tu_proc(r.json, 0);
	threads = tu_arr(proc, "threads");
	for (size_t i = 0; i < json_array_size(threads); i++) {
		json_t *t = json_array_get(threads, i);

		allocs += tu_int(t, "allocations");
		frees += tu_int(t, "frees");
		if (tu_int(t, "tid") == tu_int(proc, "pid"))
			continue;
		cr_assert(eq(i64, tu_int(t, "allocations"), 5), "thread %lld allocations", tu_int(t, "tid"));
		cr_assert(eq(i64, tu_int(t, "bytes_allocated"), 150), "thread %lld bytes_allocated", tu_int(t, "tid"));
		cr_assert(eq(i64, tu_int(t, "frees"), 5), "thread %lld frees", tu_int(t, "tid"));
		workers++;
	}
	cr_assert(eq(i64, workers, 2000), "threads[] entries besides the main thread");
	cr_assert(eq(i64, allocs, 10050), "sum of threads[].allocations");
	cr_assert(eq(i64, frees, 10000), "sum of threads[].frees");
	tu_run_free(&r);
}

/*
 * Each churn thread frees its 5 blocks in allocation order: the 50-byte one,
 * allocated last, is freed with no allocation since, so it is temporary.
 */
Test(e2e_threads, churn_temporary_allocations)
{
	struct tu_run r;
	json_t *m;

	tu_profile(&r, NULL, TU_LIST("-q", "--", TU_PROG("churn")));
	m = tu_memory(r.json, 0);
	cr_assert(eq(i64, tu_int(m, "temporary_allocations"), 2000), "churn temporary_allocations");
	cr_assert(eq(i64, tu_sum_frame0(tu_arr(m, "sites"), "file", CHURN_SRC, 0).temporary, 2000),
		  "churn.c site temporary");
	tu_run_free(&r);
}
