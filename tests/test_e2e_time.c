/*
 * End-to-end figures over time (issue 10): the heap's steps as the
 * launcher read them, what was live at the peak, the massif export read
 * by ms_print, snapshots every second and by signal, and a profile file
 * that stays readable when everything is killed.
 */
#include "testutil.h"

#define MIB (1024ll * 1024)

static char *tmp_profile(void)
{
	return tu_tmpfile("time");
}

/* `report ARGS... --format=json FILE`, parsed. */
static json_t *report_json(const char *file, const char *opt)
{
	struct tu_run r;
	json_error_t jerr;
	json_t *j;

	if (opt)
		tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "report", "--format=json", opt, file));
	else
		tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "report", "--format=json", file));
	cr_assert(eq(int, r.exit_code, 0), "report %s %s; stderr: %s", opt ? opt : "", file, r.err);
	j = json_loads(r.out, 0, &jerr);
	cr_assert(j != NULL, "JSON: %s", jerr.text);
	tu_run_free(&r);
	return j;
}

/*
 * time_steps holds 10 MiB, none, 30 MiB, 10 MiB for 300 ms each: read
 * every 10 ms, every point is one of those exact values (the program
 * allocates nothing else, and each step's blocks are allocated back to
 * back), and the values held for 3 reads or more come in that order.
 * 3 reads is 30 ms of the 300: a busy machine can stretch a step, never
 * shorten it.
 */
Test(e2e_time, the_heap_over_time_has_the_programs_steps, .timeout = 60)
{
	static const long long want[] = {10 * MIB, 0, 30 * MIB, 10 * MIB};
	char *prof = tmp_profile();
	struct tu_run r;
	json_t *proc, *pts, *at_peak, *sites;
	long long plateaus[16], prev = -1, sum = 0;
	size_t np = 0, run = 0;

	tu_profile(&r, NULL, TU_LIST("-q", "-p", prof, "--interval=10ms", "--", TU_PROG("time_steps")));
	cr_assert(eq(int, r.exit_code, 0), "the run; stderr: %s", r.err);
	proc = tu_proc(r.json, 0);
	pts = tu_arr(proc, "time.points");
	cr_assert(eq(i64, tu_int(proc, "time.interval_ns"), 10000000), "the interval");
	/* 1.2 s of steps at 10 ms: over 60 reads even when the budget
	 * stretched some. */
	cr_assert(json_array_size(pts) > 60, "reads: %zu", json_array_size(pts));
	for (size_t i = 0; i <= json_array_size(pts); i++) {
		long long v = i < json_array_size(pts) ? tu_int(json_array_get(pts, i), "live_bytes") : -2;

		if (i < json_array_size(pts))
			cr_assert(v == 0 || v == 10 * MIB || v == 20 * MIB || v == 30 * MIB,
				  "point %zu: %lld bytes live", i, v);
		if (v == prev) {
			run++;
			continue;
		}
		/* A value held for 3 reads, unless it repeats the last one. */
		if (run >= 3 && (!np || plateaus[np - 1] != prev) && np < 16)
			plateaus[np++] = prev;
		prev = v;
		run = 1;
	}
	/* The start, before the first block, may have been read as 0 too. */
	size_t first = np && plateaus[0] == 0 ? 1 : 0;
	cr_assert(eq(sz, np - first, 4), "four steps (%zu plateaus, first %lld)", np, np ? plateaus[0] : -1);
	for (size_t k = 0; k < 4; k++)
		cr_assert(eq(i64, plateaus[first + k], want[k]), "step %zu", k);

	/* What was live at the peak: the two blocks of thirty_mib. */
	cr_assert(eq(i64, tu_int(proc, "memory.peak_bytes"), 30 * MIB), "the agent's peak");
	cr_assert(eq(i64, tu_int(proc, "time.highest.live_bytes"), 30 * MIB), "the highest read");
	at_peak = tu_obj(proc, "time.at_peak");
	cr_assert(eq(i64, tu_int(at_peak, "live_bytes"), 30 * MIB), "the read at the peak");
	sites = tu_arr(at_peak, "sites");
	cr_assert(eq(sz, json_array_size(sites), 2), "two sites live at the peak");
	for (size_t i = 0; i < 2; i++) {
		json_t *x = json_array_get(sites, i);

		cr_assert(eq(str, (char *)tu_str(json_array_get(tu_arr(x, "stack"), 0), "function"), "thirty_mib"),
			  "site %zu", i);
		cr_assert(eq(i64, tu_int(x, "live_blocks"), 1), "site %zu: one block", i);
		sum += tu_int(x, "live_bytes");
	}
	cr_assert(eq(i64, tu_int(json_array_get(sites, 0), "live_bytes"), 20 * MIB), "the bigger first");
	cr_assert(eq(i64, sum, 30 * MIB), "the sites add up to the peak");
	tu_run_free(&r);

	/* The text report of the file: the same peak, and the peak's sites. */
	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "report", prof));
	cr_assert(eq(int, r.exit_code, 0), "report; stderr: %s", r.err);
	cr_assert(strstr(r.out, "peak 30.0 MiB\n") != NULL, "the heap line: %s", r.out);
	cr_assert(strstr(r.out, "  heap over time (") != NULL, "the chart: %s", r.out);
	cr_assert(strstr(r.out, "30.0 MiB live; the exact peak, 30.0 MiB,") != NULL, "the peak's read: %s", r.out);
	cr_assert(strstr(r.out, "   #1 20.0 MiB in 1 blocks (66.7%): thirty_mib (time_steps.c:") != NULL,
		  "the peak's first site: %s", r.out);
	tu_run_free(&r);
	unlink(prof);
	free(prof);
}

/* With memory tracking off there are no heap figures over time (not a
 * heap of 0 B): the chart is of the RSS, which follows the program's
 * steps, 30 MiB of written blocks at the highest. */
Test(e2e_time, without_memory_tracking_the_chart_is_the_rss, .timeout = 60)
{
	struct tu_run r;
	const char *at;
	double mib = 0;

	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "--no-memory", "--no-profile", "-o", "-", "--interval=10ms", "--",
				 TU_PROG("time_steps")));
	cr_assert(eq(int, r.exit_code, 0), "the run; stderr: %s", r.err);
	cr_assert(strstr(r.out, "  RSS over time (memory tracking off: no heap figures; ") != NULL, "the chart: %s",
		  r.out);
	cr_assert(strstr(r.out, "heap over time") == NULL, "no heap chart: %s", r.out);
	cr_assert(strstr(r.out, "   live |") == NULL, "no live bytes: %s", r.out);
	cr_assert(strstr(r.out, "\n           time        RSS      CPU\n") != NULL, "the table's columns: %s", r.out);
	cr_assert(strstr(r.out, "  <- highest\n") != NULL, "the highest read marked: %s", r.out);
	at = strstr(r.out, "    RSS |");
	cr_assert(at && (at = strstr(at, "| ")) && sscanf(at, "| %lf MiB at most", &mib) == 1, "the top: %s", r.out);
	cr_assert(mib >= 30.0, "30 MiB written at once: %.1f MiB", mib);
	tu_run_free(&r);
}

/* ms_print (valgrind) reads the massif file: its graph tops at 30 MiB,
 * and the snapshot it calls the peak holds 31,457,280 bytes. */
Test(e2e_time, massif_file_opens_in_ms_print, .timeout = 60)
{
	char *prof = tmp_profile(), *ms = tu_tmpfile("massif"), *line, want[64];
	struct tu_run r, m;
	const char *peak;
	long snap;

	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "-q", "-p", prof, "--", TU_PROG("time_steps")));
	cr_assert(eq(int, r.exit_code, 0), "the run; stderr: %s", r.err);
	tu_run_free(&r);
	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "report", "--format=massif", "-o", ms, prof));
	cr_assert(eq(int, r.exit_code, 0), "report --format=massif; stderr: %s", r.err);
	tu_run(&m, NULL, TU_LIST("/usr/bin/ms_print", ms));
	cr_assert(eq(int, m.exit_code, 0), "ms_print: rc %d; stderr: %s", m.exit_code, m.err);
	cr_assert(eq(str, m.err, ""), "ms_print says nothing on stderr");
	cr_assert(strstr(m.out, "\n30.00^") != NULL, "the graph's top is 30 MB: %s", m.out);
	peak = strstr(m.out, " (peak)");
	cr_assert(peak != NULL, "a peak snapshot: %s", m.out);
	while (peak[-1] >= '0' && peak[-1] <= '9')
		peak--;
	snap = strtol(peak, NULL, 10);
	/* Its row: "  41   434   31,457,280   31,457,280   0   0". */
	snprintf(want, sizeof(want), "\n%3ld ", snap);
	line = strstr(m.out, want);
	cr_assert(line != NULL, "the row of snapshot %ld: %s", snap, m.out);
	cr_assert(strstr(line, "31,457,280") != NULL && strstr(line, "31,457,280") < strchr(line + 1, '\n'),
		  "the peak's total: %.120s", line);
	cr_assert(strstr(m.out, "thirty_mib (time_steps.c:") != NULL, "its site: %s", m.out);
	tu_run_free(&r);
	tu_run_free(&m);
	unlink(ms);
	unlink(prof);
	free(ms);
	free(prof);
}

/* live_bytes of the leak_mib site in a report's JSON, -1 when absent. */
static long long leak_site_live(json_t *j)
{
	json_t *sites = tu_arr(tu_proc(j, 0), "memory.sites");

	for (size_t i = 0; i < json_array_size(sites); i++) {
		json_t *x = json_array_get(sites, i), *st = tu_arr(x, "stack");

		if (json_array_size(st) && !strcmp(tu_str(json_array_get(st, 0), "function"), "leak_mib"))
			return tu_int(x, "live_bytes");
	}
	return -1;
}

/*
 * time_leak 3 leaks 1 MiB at 0.5, 1.5 and 2.5 s; a snapshot every second
 * (at 1, 2, 3 s: 0.5 s from each leak, either way) sees 1, 2, 3 MiB.
 * diff FILE:1 FILE:3 finds the site 2 MiB bigger and exits 1.
 */
Test(e2e_time, snapshots_every_second_and_the_leak_between_two, .timeout = 60)
{
	char *prof = tmp_profile(), *s1 = NULL, *s3 = NULL, *cut = tu_tmpfile("cut");
	struct tu_run r;
	json_t *j, *regs;
	int found = 0;
	unsigned char *data;
	size_t len;

	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "-q", "-p", prof, "--snapshot-every=1s", "--", TU_PROG("time_leak"), "3"));
	cr_assert(eq(int, r.exit_code, 0), "the run; stderr: %s", r.err);
	tu_run_free(&r);
	for (int k = 1; k <= 3; k++) {
		char opt[32];

		snprintf(opt, sizeof(opt), "--snapshot=%d", k);
		j = report_json(prof, opt);
		cr_assert(eq(int, (int)tu_int(j, "snapshot.number"), k), "snapshot %d", k);
		cr_assert(eq(str, (char *)tu_str(j, "snapshot.label"), "every 1 s"), "its label");
		cr_assert(eq(i64, leak_site_live(j), k * MIB), "snapshot %d: %d MiB live", k, k);
		cr_assert(tu_is_null(j, "exit_code"), "no exit status yet");
		json_decref(j);
	}
	j = report_json(prof, NULL);
	cr_assert(tu_is_null(j, "snapshot"), "the end");
	cr_assert(eq(i64, leak_site_live(j), 3 * MIB), "the end: 3 MiB");
	json_decref(j);

	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "report", "--snapshot=4", prof));
	cr_assert(eq(int, r.exit_code, 2), "no snapshot 4: rc 2");
	cr_assert(asprintf(&s1, "ptrace-run report: %s: no snapshot 4: the profile holds 3\n", prof) > 0, "asprintf");
	cr_assert(eq(str, r.err, s1), "the line");
	free(s1);
	tu_run_free(&r);

	cr_assert(asprintf(&s1, "%s:1", prof) > 0 && asprintf(&s3, "%s:3", prof) > 0, "asprintf");
	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "diff", "--format=json", s1, s3));
	cr_assert(eq(int, r.exit_code, 1), "diff FILE:1 FILE:3 regressed; stderr: %s; out: %s", r.err, r.out);
	j = json_loads(r.out, 0, NULL);
	cr_assert(j != NULL, "diff JSON");
	regs = tu_arr(j, "regressions");
	for (size_t i = 0; i < json_array_size(regs); i++) {
		json_t *x = json_array_get(regs, i);

		if (!strcmp(tu_str(x, "metric"), "live_bytes") && !strncmp(tu_str(x, "name"), "leak_mib ", 9)) {
			cr_assert(eq(i64, (long long)tu_num(x, "base"), MIB), "1 MiB at 1 s");
			cr_assert(eq(i64, (long long)tu_num(x, "new"), 3 * MIB), "3 MiB at 3 s");
			found = 1;
		}
	}
	cr_assert(found, "the leak_mib site regressed in live bytes: %s", r.out);
	json_decref(j);
	tu_run_free(&r);

	/* The end record cut short (the launcher killed while writing it):
	 * the last snapshot reads, and stderr says what was left out. */
	data = (unsigned char *)tu_read_file(prof, &len);
	cr_assert(data && len > 100, "the profile");
	{
		FILE *f = fopen(cut, "w");

		cr_assert(f != NULL, "cut");
		fwrite(data, 1, len - 40, f);
		fclose(f);
	}
	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "report", "--format=json", cut));
	cr_assert(eq(int, r.exit_code, 0), "report of the cut file; stderr: %s", r.err);
	cr_assert(strstr(r.err, ": left out\n") != NULL && strstr(r.err, "a record cut short") != NULL,
		  "the line: %s", r.err);
	j = json_loads(r.out, 0, NULL);
	cr_assert(j != NULL, "JSON of the cut file");
	cr_assert(eq(int, (int)tu_int(j, "snapshot.number"), 3), "the last whole record: snapshot 3");
	json_decref(j);
	tu_run_free(&r);
	free(data);
	unlink(cut);
	unlink(prof);
	free(cut);
	free(prof);
	free(s1);
	free(s3);
}

/* Wait until path holds more than n bytes (a record was appended). */
static void wait_bigger(const char *path, long long n)
{
	long long end = tu_now_ms() + 10000;
	struct stat st;

	while ((stat(path, &st) || st.st_size <= n) && tu_now_ms() < end)
		usleep(5000);
	cr_assert(stat(path, &st) == 0 && st.st_size > n, "%s grew past %lld bytes", path, n);
}

/*
 * With --snapshot-signal=USR2, USR2 to the launcher is a snapshot, not a
 * signal for the program (whose default action for USR2 is to die):
 * time_leak 1 runs to its end. Without it (the default) USR2 goes to the
 * program like every signal. Then SIGKILL of everything in a third run:
 * the file keeps its snapshot.
 */
Test(e2e_time, the_snapshot_signal_and_a_sigkill_of_everything, .timeout = 60)
{
	char *prof = tmp_profile();
	struct tu_bg bg;
	struct tu_run r;
	json_t *j;

	tu_bg_start(&bg, NULL, NULL, -1,
		    TU_LIST(TU_LAUNCHER, "-q", "-p", prof, "--snapshot-signal=USR2", "--", TU_PROG("time_leak"), "1"));
	usleep(1000000); /* after the leak at 0.5 s, before the exit at 1.5 s */
	kill(bg.pid, SIGUSR2);
	tu_bg_finish(&bg, &r);
	cr_assert(eq(int, r.exit_code, 0), "the program ran to its end; stderr: %s", r.err);
	tu_run_free(&r);
	j = report_json(prof, "--snapshot=1");
	cr_assert(eq(str, (char *)tu_str(j, "snapshot.label"), "signal"), "a snapshot by signal");
	cr_assert(eq(i64, leak_site_live(j), MIB), "1 MiB then");
	json_decref(j);
	unlink(prof);

	/* By default USR2 goes to the program, as any signal. */
	tu_bg_start(&bg, NULL, NULL, -1, TU_LIST(TU_LAUNCHER, "-q", "--no-profile", "--", TU_PROG("time_leak"), "1"));
	usleep(1000000);
	kill(bg.pid, SIGUSR2);
	tu_bg_finish(&bg, &r);
	cr_assert(eq(int, r.exit_code, 128 + SIGUSR2), "the program died of USR2; stderr: %s", r.err);
	tu_run_free(&r);

	/* SIGKILL of the launcher and the program after one snapshot. */
	tu_bg_start(&bg, NULL, NULL, -1,
		    TU_LIST(TU_LAUNCHER, "-q", "-p", prof, "--snapshot-signal=USR2", "--", TU_PROG("time_leak"), "5"));
	wait_bigger(prof, -1);
	usleep(1000000);
	kill(bg.pid, SIGUSR2);
	wait_bigger(prof, 24);
	kill(-bg.pid, SIGKILL);
	tu_bg_finish(&bg, &r);
	cr_assert(eq(int, r.signal, SIGKILL), "killed");
	tu_run_free(&r);
	j = report_json(prof, NULL);
	cr_assert(eq(int, (int)tu_int(j, "snapshot.number"), 1), "the run never ended: its snapshot");
	cr_assert(eq(i64, leak_site_live(j), MIB), "1 MiB then");
	json_decref(j);
	unlink(prof);
	free(prof);
}

/* `report --format=chrome FILE`, parsed; every event checked against the
 * trace event format: name, ph, pid, tid; ts for X and C, dur for X, an
 * args.name for the M events; every thread and process with an X event
 * named by an M event. */
static json_t *chrome_of(const char *prof)
{
	struct tu_run r;
	json_error_t jerr;
	json_t *j, *ev;
	int named_tid[256] = {0}, used_tid[256] = {0}, npid = 0, ntid = 0, nused = 0;

	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "report", "--format=chrome", prof));
	cr_assert(eq(int, r.exit_code, 0), "report --format=chrome; stderr: %s", r.err);
	j = json_loads(r.out, 0, &jerr);
	cr_assert(j != NULL, "Chrome JSON: %s", jerr.text);
	tu_run_free(&r);
	ev = tu_arr(j, "traceEvents");
	cr_assert(eq(str, (char *)tu_str(j, "displayTimeUnit"), "ms"), "displayTimeUnit");
	for (size_t i = 0; i < json_array_size(ev); i++) {
		json_t *e = json_array_get(ev, i);
		const char *ph = tu_str(e, "ph");

		cr_assert(tu_is_string(json_object_get(e, "name")), "event %zu: a name", i);
		cr_assert(tu_is_integer(json_object_get(e, "pid")) && tu_is_integer(json_object_get(e, "tid")),
			  "event %zu: pid and tid", i);
		cr_assert(eq(int, !strcmp(ph, "X") || !strcmp(ph, "M") || !strcmp(ph, "C"), 1), "event %zu: ph %s", i, ph);
		if (!strcmp(ph, "M")) {
			cr_assert(tu_is_string(tu_get(e, "args.name")), "event %zu: M names", i);
			if (!strcmp(tu_str(e, "name"), "process_name"))
				npid++;
			if (!strcmp(tu_str(e, "name"), "thread_name") && ntid < 256)
				named_tid[ntid++] = (int)tu_int(e, "tid");
			continue;
		}
		cr_assert(tu_is_number(json_object_get(e, "ts")) && tu_num(e, "ts") >= 0, "event %zu: ts", i);
		if (!strcmp(ph, "X")) {
			int seen = 0;

			cr_assert(tu_is_number(json_object_get(e, "dur")) && tu_num(e, "dur") >= 0, "event %zu: dur", i);
			for (int k = 0; k < nused; k++)
				seen |= used_tid[k] == (int)tu_int(e, "tid");
			if (!seen && nused < 256)
				used_tid[nused++] = (int)tu_int(e, "tid");
		}
	}
	for (int k = 0; k < nused; k++) {
		int named = 0;

		for (int m = 0; m < ntid; m++)
			named |= named_tid[m] == used_tid[k];
		cr_assert(named, "thread %d has a thread_name event", used_tid[k]);
	}
	cr_assert(npid >= 1, "a process_name event");
	return j;
}

/* The X events named name, into v (their durations in us), by tid. */
static size_t events_named(json_t *j, const char *name, double *dur, int *tid, size_t cap)
{
	json_t *ev = tu_arr(j, "traceEvents");
	size_t n = 0;

	for (size_t i = 0; i < json_array_size(ev); i++) {
		json_t *e = json_array_get(ev, i);

		if (strcmp(tu_str(e, "ph"), "X") || strcmp(tu_str(e, "name"), name))
			continue;
		if (n < cap) {
			dur[n] = tu_num(e, "dur");
			tid[n] = (int)tu_int(e, "tid");
		}
		n++;
	}
	return n;
}

/* fi_timeline run with opt into prof, its Chrome trace parsed (the
 * file removed). */
static json_t *timeline_run(const char *prof, const char *opt)
{
	struct tu_run r;
	json_t *j;

	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "-q", "-p", prof, opt, "--", TU_PROG("fi_timeline")));
	cr_assert(eq(int, r.exit_code, 0), "the run with %s; stderr: %s", opt, r.err);
	tu_run_free(&r);
	j = chrome_of(prof);
	unlink(prof);
	return j;
}

/*
 * fi_timeline: threads 1..3 each nap k ms once; main naps 0 ms, under the
 * 100 us default: exactly three nap events, k ms each on three threads
 * (a sleep is never shorter than asked; 20 ms above it is scheduling on
 * a busy machine). --timeline-min=0 keeps the short one too; --timeline=0
 * none.
 */
Test(e2e_time, timeline_calls_as_chrome_trace_events, .timeout = 60)
{
	char *prof = tmp_profile();
	json_t *j;
	double dur[8];
	int tid[8];

	j = timeline_run(prof, "--timeline-min=100us");
	cr_assert(eq(sz, events_named(j, "nap", dur, tid, 8), 3), "three naps of 100 us or more");
	cr_assert(tid[0] != tid[1] && tid[1] != tid[2] && tid[0] != tid[2], "on three threads");
	tu_check_naps(dur);
	json_decref(j);
	j = timeline_run(prof, "--timeline-min=0");
	cr_assert(eq(sz, events_named(j, "nap", dur, tid, 8), 4), "every call: the short nap too");
	json_decref(j);
	j = timeline_run(prof, "--timeline=0");
	cr_assert(eq(sz, events_named(j, "nap", dur, tid, 8), 0), "no timeline");
	json_decref(j);
	free(prof);
}

/* Regions in the timeline carry their metadata as args. */
Test(e2e_time, timeline_regions_carry_their_metadata, .timeout = 60)
{
	char *prof = tmp_profile();
	struct tu_run r;
	json_t *j, *ev;
	int users = 0;

	tu_run(&r, NULL, TU_LIST(TU_LAUNCHER, "-q", "-p", prof, "--", TU_PROG("api_regions")));
	cr_assert(eq(int, r.exit_code, 0), "the run; stderr: %s", r.err);
	tu_run_free(&r);
	j = chrome_of(prof);
	ev = tu_arr(j, "traceEvents");
	for (size_t i = 0; i < json_array_size(ev); i++) {
		json_t *e = json_array_get(ev, i);

		if (strcmp(tu_str(e, "ph"), "X") || strcmp(tu_str(e, "name"), "request"))
			continue;
		cr_assert(eq(str, (char *)tu_str(e, "cat"), "region"), "a region");
		cr_assert(eq(str, (char *)tu_str(e, "args.action"), "create"), "its action");
		users |= 1 << (atoi(tu_str(e, "args.user_id")) - 100);
	}
	cr_assert(eq(int, users, 7), "the three requests' user_ids");
	json_decref(j);
	unlink(prof);
	free(prof);
}
