/*
 * `ptrace-run diff BASE NEW`: two profile files compared, for a regression
 * check in CI. The comparison (cli/diff.c) matches what can be matched
 * across two builds of a program, by name rather than address: functions
 * by name (instrumented timing and CPU samples), allocation sites by the
 * names along their stacks, summed over the processes of each run. A
 * change is a regression when the new figure exceeds the base by more than
 * the threshold (percent) and by at least min_share percent of the base
 * run's total of that figure (so that noise in tiny functions is not
 * one): self time for functions (inclusive time would flag every caller),
 * bytes allocated and bytes live at exit for sites, the share of CPU
 * samples (in percentage points) for CPU functions, where the change must
 * also exceed three standard errors of the sampled shares. The views
 * (cli/render_diff.c) only format the result.
 */
#ifndef PTRACE_CLI_DIFF_H
#define PTRACE_CLI_DIFF_H

#include <stdint.h>
#include <stdio.h>

#include "report.h"
#include "view.h"

enum diff_kind { DK_TIME = 1, DK_MEMORY = 2, DK_CPU = 4 };

struct dfunc {
	const char *name;
	int in_base, in_new;
	uint64_t calls[2], total_ns[2], self_ns[2], p95_ns[2]; /* [0] base, [1] new */
};

struct dsite {
	char *key;              /* the stack's frame names, innermost first, " <- " between */
	const char *name;       /* its innermost frame */
	int in_base, in_new;
	uint64_t allocs[2], bytes[2], live_blocks[2], live_bytes[2];
};

struct dcpu {
	const char *name;
	uint64_t self[2];
	double share[2];        /* percent of the run's samples */
};

struct dchange {
	enum diff_kind kind;
	const char *name;       /* function, or a site's key */
	const char *metric;     /* "self_ns", "bytes", "live_bytes", "cpu_share" */
	double base, now;
	double change_pct;      /* (now - base) / base * 100; base 0: 1e300 */
};

struct dtotals {
	uint64_t duration_ns[2], cpu_samples[2], allocations[2], bytes[2], peak_bytes[2], live_bytes[2],
		calls[2], func_ns[2];
	/* Lost at exit by the leak check (definitely, indirectly, possibly;
	 * suppressed blocks not counted), of the processes it checked. */
	uint64_t lost_bytes[2];
	int leak_checked[2];
};

struct diff {
	const char *base_name, *new_name;
	double threshold, min_share;
	unsigned fail_on;       /* DK_* */
	struct dtotals tot;
	struct dfunc *funcs;    /* by self time change, largest rise first */
	size_t nfuncs;
	struct dsite *sites;    /* by bytes change */
	size_t nsites;
	struct dcpu *cpu;       /* by share change */
	size_t ncpu;
	struct dchange *regressions, *improvements; /* by change, largest first */
	size_t nregressions, nimprovements;
	/* For the folded view: each stack of the chosen metric in either run. */
	struct dstack { char *stack; uint64_t v[2]; } *stacks;
	size_t nstacks;
};

/* Compare base and new into d; metric: what the folded view counts.
 * 0 or -ENOMEM. Strings point into the reports: keep them until
 * diff_free. */
int diff_build(struct diff *d, const struct report *base, const struct report *now, enum view_metric metric);
void diff_free(struct diff *d);

/* How many regressions of kinds in d->fail_on. */
size_t diff_failures(const struct diff *d);

int render_diff_text(const struct diff *d, FILE *f);
int render_diff_json(const struct diff *d, FILE *f);
int render_diff_folded(const struct diff *d, FILE *f);

/* argv[0] is "diff". The exit status: 0 nothing regressed, 1 something
 * did, 2 bad input (one line on stderr). */
int diff_main(int argc, char **argv);

#endif
