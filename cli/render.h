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

/* Write the text report to f and flush it. 0, or -EIO when a write
 * failed (f says why). Every string from the image or the program is
 * printed escaped (render_text_esc). */
int render_text(const struct report *r, FILE *f);

/* Write the JSON report to f and flush it. 0, -ENOMEM, or -EIO when a
 * write failed. */
int render_json(const struct report *r, FILE *f);

/* For the text renderers: str when it can go to a terminal as is, else a
 * copy with every control byte, invalid UTF-8 byte (\xNN) and code point
 * a terminal acts on (C1 controls, line separators, bidi controls: \uNNNN)
 * escaped, so that no name, path or argument from the program can start
 * a new line or an escape sequence. The copy stays valid for the next 7
 * calls. NULL for NULL. */
const char *render_text_esc(const char *str);

/* For the text renderers: the text a function name shows while
 * render_text runs: its short form (cli/cxxshort.h: std::string,
 * std::map<K, V>), or name itself when another name of the report would
 * show alike, when it is not a name of the report, or outside
 * render_text. Not escaped. NULL for NULL. */
const char *render_text_name(const char *name);

/* For the other renderers: a stack as render_text prints one (at most a
 * few frames, down to main), and as render_json writes one. */
void render_text_stack(FILE *f, const struct rstack *st, const char *indent);
/* A site in one line: its frame 0 and that frame's caller. */
void render_text_site_line(FILE *f, const struct rstack *st);

/* cli/render_time.c: figures over time, after the heap. */
void render_time_text(const struct report *r, const struct rprocess *p, FILE *f);
struct json_t;
struct json_t *render_json_stack(const struct rstack *st);
/* A JSON string (valid UTF-8 whatever s holds), or null for NULL. */
struct json_t *render_jstr(const char *s);

/* cli/render_cpu.c: the CPU profile, crash and dumps. */
void render_cpu_agent_text(const struct report *r, FILE *f);  /* after the agent line */
void render_crash_text(const struct rprocess *p, FILE *f);    /* before the heap */
void render_cpu_text(const struct rprocess *p, FILE *f);      /* after the heap */
void render_cpu_agent_json(const struct report *r, struct json_t *agent);
void render_cpu_json(const struct rprocess *p, struct json_t *proc); /* cpu, crash, dumps */
void render_time_json(const struct report *r, const struct rprocess *p, struct json_t *proc); /* "time" */

#endif
