/*
 * ptrace-run.h: talk to ptrace-run from the program it profiles.
 *
 *   ptrace_region_begin("parse");           // time code that is not instrumented
 *   ...
 *   ptrace_region_end();
 *   ptrace_region_begin_meta("request", "user_id=123 action=create");
 *   ptrace_pause();  ...  ptrace_resume();  // recording off and on
 *   ptrace_snapshot("after warm-up");       // the figures now, into the profile file
 *   ptrace_reset();                         // figures from now on
 *
 * The program links nothing of ours: each call goes through a weak
 * reference that the ptrace-run agent (LD_PRELOAD) provides. Without
 * ptrace-run the reference is null and the call is a test and a branch
 * (about a nanosecond). Build position-independent (the default on
 * Debian: PIE executables, -fPIC libraries); in a -fno-pic -no-pie
 * executable the linker resolves a weak reference to null for good, and
 * every call stays a no-op even under ptrace-run.
 *
 * Every call is safe from any thread. Regions nest per thread:
 * ptrace_region_end() closes the innermost open region of the calling
 * thread. In a program built with -finstrument-functions, a region is a
 * call like the others: end it before the function that began it returns.
 * Names and metadata are copied (127 and 255 bytes at most); the pointers
 * need not outlive the call. Pause and resume do not nest: the last call
 * wins. From a signal handler: ptrace_snapshot() only.
 *
 * See docs/api.md.
 */
#ifndef PTRACE_RUN_H
#define PTRACE_RUN_H

#ifdef __cplusplus
extern "C" {
#endif

#define PTRACE_RUN_API_VERSION 1

#ifdef PTRACE_RUN_AGENT
#define PTRACE_RUN_REF_
#else
#define PTRACE_RUN_REF_ __attribute__((weak))
#endif

/* The agent's entry points: use the functions below. */
extern void __ptrace_run_region_begin(const char *name, const char *meta) PTRACE_RUN_REF_;
extern void __ptrace_run_region_end(void) PTRACE_RUN_REF_;
extern void __ptrace_run_pause(int thread_only) PTRACE_RUN_REF_;
extern void __ptrace_run_resume(int thread_only) PTRACE_RUN_REF_;
extern void __ptrace_run_snapshot(const char *label) PTRACE_RUN_REF_;
extern void __ptrace_run_reset(void) PTRACE_RUN_REF_;

#ifndef PTRACE_RUN_AGENT
#define PTRACE_RUN_FN_ static inline __attribute__((no_instrument_function, unused))

/* 1 when the program runs under ptrace-run. */
PTRACE_RUN_FN_ int ptrace_running(void)
{
	return __ptrace_run_region_begin != 0;
}

/* Begin a region: timed as a function named name (calls, inclusive and
 * self time, percentiles, call tree, memory allocated inside, slowest
 * calls, timeline). */
PTRACE_RUN_FN_ void ptrace_region_begin(const char *name)
{
	if (__ptrace_run_region_begin)
		__ptrace_run_region_begin(name, 0);
}

/* The same, with metadata: space-separated key=value pairs, shown with
 * the region's slowest calls. */
PTRACE_RUN_FN_ void ptrace_region_begin_meta(const char *name, const char *meta)
{
	if (__ptrace_run_region_begin)
		__ptrace_run_region_begin(name, meta);
}

/* End the calling thread's innermost open region. */
PTRACE_RUN_FN_ void ptrace_region_end(void)
{
	if (__ptrace_run_region_end)
		__ptrace_run_region_end();
}

/* Recording off for the whole process (allocations, CPU samples, calls
 * and regions; frees of blocks allocated before still count), and on
 * again. The report says how much went unrecorded. */
PTRACE_RUN_FN_ void ptrace_pause(void)
{
	if (__ptrace_run_pause)
		__ptrace_run_pause(0);
}

PTRACE_RUN_FN_ void ptrace_resume(void)
{
	if (__ptrace_run_resume)
		__ptrace_run_resume(0);
}

/* The same for the calling thread only. */
PTRACE_RUN_FN_ void ptrace_pause_thread(void)
{
	if (__ptrace_run_pause)
		__ptrace_run_pause(1);
}

PTRACE_RUN_FN_ void ptrace_resume_thread(void)
{
	if (__ptrace_run_resume)
		__ptrace_run_resume(1);
}

/* Add a snapshot of every figure to the profile file, labelled (63
 * bytes kept); report FILE --snapshot=N and diff FILE:N FILE:M read
 * them. Taken by the launcher within 50 ms; async-signal-safe. */
PTRACE_RUN_FN_ void ptrace_snapshot(const char *label)
{
	if (__ptrace_run_snapshot)
		__ptrace_run_snapshot(label);
}

/* Figures from now on: the report shows what happened after the last
 * reset, and says so. Live bytes and leaks count the blocks allocated
 * since; a block from before that is freed after counts nowhere. The
 * image is copied once per reset (as large as the image in use). */
PTRACE_RUN_FN_ void ptrace_reset(void)
{
	if (__ptrace_run_reset)
		__ptrace_run_reset();
}

#undef PTRACE_RUN_FN_
#endif
#undef PTRACE_RUN_REF_

#ifdef __cplusplus
}
#endif

#endif
