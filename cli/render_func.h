/*
 * Renderers of the function-timing part of the report model
 * (struct rfuncs, cli/report_func.c): text and JSON, called by
 * render_text.c and render_json.c for each process.
 */
#ifndef PTRACE_RENDER_FUNC_H
#define PTRACE_RENDER_FUNC_H

#include <stdio.h>

#include "report.h"

struct json_t;

/* The process's function section, or one line saying how to get one. */
void render_func_text(const struct report *r, const struct rprocess *p, FILE *f);

/* function_timing, functions, call_tree and slowest_calls into proc;
 * nothing when no instrumented call ran. */
void render_func_json(const struct rprocess *p, struct json_t *proc);

/* agent.unmatched_exits and the filters into agent. */
void render_func_agent_json(const struct report *r, struct json_t *agent);

#endif
