/*
 * Renderers of the report model: text for a person, JSON for tools.
 * Both only format what report_build computed.
 */
#ifndef PTRACE_RENDER_H
#define PTRACE_RENDER_H

#include <stdio.h>

#include "report.h"

#define RENDER_SCHEMA 1
#define PTRACE_VERSION "0.1.0"

/* Write the text report to f. 0 or -errno. */
int render_text(const struct report *r, FILE *f);

/* Write the JSON report to path ("-" for stdout). 0 or -errno. */
int render_json(const struct report *r, const char *path);

#endif
