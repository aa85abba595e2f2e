/*
 * What the exporters (folded, pprof, callgrind, csv) share: the metrics a
 * view can show, chosen with --metric, and how a frame is named outside
 * the text report. Each exporter lives in a file of its own
 * (cli/render_<format>.c) and only formats the report model.
 */
#ifndef PTRACE_CLI_VIEW_H
#define PTRACE_CLI_VIEW_H

#include <stddef.h>
#include <stdio.h>

#include "report.h"

enum view_metric {
	VM_AUTO,          /* cpu if sampled, else func_ns if timed, else alloc_space */
	VM_CPU,           /* CPU samples */
	VM_ALLOC_SPACE,   /* bytes allocated, by allocation stack */
	VM_ALLOC_OBJECTS, /* allocations, by allocation stack */
	VM_INUSE_SPACE,   /* bytes live at exit (leaked), by allocation stack */
	VM_INUSE_OBJECTS, /* blocks live at exit */
	VM_FUNC_NS,       /* instrumented function time: each call path's self time */
	VM_FUNC_CALLS,    /* instrumented calls per call path */
};

struct view_opts {
	enum view_metric metric;
	int no_pid;       /* label processes by executable alone (diff: pids differ between runs) */
};

/* The metric named s ("cpu", "alloc_space", ...): 0, or -1. */
int view_metric_parse(const char *s, enum view_metric *out);
/* Comma-separated names of every metric, for messages. */
const char *view_metric_names(void);
const char *view_metric_name(enum view_metric m);

/* VM_AUTO made concrete for report r. */
enum view_metric view_metric_resolve(const struct report *r, enum view_metric m);

/* A frame's name: its function, else "module+0xOFFSET" (the module's base
 * name), else "0xADDRESS". Into buf; returns buf or the function name. */
const char *view_frame_name(const struct rframe *f, char *buf, size_t len);

/* The name of function i of a process's timing, "[hidden]" for an index
 * outside it (a function --filter left out). */
const char *view_func_name(const struct rfuncs *F, size_t i, char *buf, size_t len);

/* A process's label where a view holds several: "prog [pid 123]", or
 * "prog" alone with no_pid. */
const char *view_proc_label(const struct rprocess *p, char *buf, size_t len);
const char *view_proc_label_opt(const struct rprocess *p, int no_pid, char *buf, size_t len);

int render_folded(const struct report *r, FILE *f, const struct view_opts *o);
int render_pprof(const struct report *r, FILE *f, const struct view_opts *o);
int render_callgrind(const struct report *r, FILE *f, const struct view_opts *o);
int render_csv(const struct report *r, FILE *f, const struct view_opts *o);
int render_html(const struct report *r, FILE *f, const struct view_opts *o);
int render_massif(const struct report *r, FILE *f, const struct view_opts *o);
int render_chrome(const struct report *r, FILE *f, const struct view_opts *o);

#endif
