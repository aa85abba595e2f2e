/*
 * Many processes (a build, a shell loop): one line per executable before
 * anyone reads 400 sections. summary_build merges the model's processes
 * by executable (processes, wall time, CPU samples, heap figures, and the
 * functions with the most CPU samples and instrumented self time, summed
 * by name over them); render_summary_text formats it. `ptrace-run report`
 * shows it instead of every section when there are more than
 * SUMMARY_MIN_PROCS processes and no --pid, --exe or --all.
 */
#ifndef PTRACE_CLI_SUMMARY_H
#define PTRACE_CLI_SUMMARY_H

#include <stdio.h>

#include "report.h"

#define SUMMARY_MIN_PROCS 8
#define SUMMARY_TOP 5

struct sum_fn {
	const char *name;
	uint64_t value;
};

struct sum_exe {
	const char *exe;
	size_t procs;
	uint64_t wall_ns, cpu_samples, allocations, bytes, peak_bytes, live_bytes;
	unsigned hz;
	struct sum_fn cpu[SUMMARY_TOP], func[SUMMARY_TOP]; /* by samples / self ns */
	size_t ncpu, nfunc;
};

struct summary {
	struct sum_exe *exes;   /* by CPU samples, then wall time */
	size_t nexes, nprocs;
};

int summary_build(struct summary *s, const struct report *r);
void summary_free(struct summary *s);
int render_summary_text(const struct summary *s, const struct report *r, FILE *f);

#endif
