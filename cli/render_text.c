#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cxxshort.h"
#include "render.h"
#include "render_func.h"

#define TEXT_MAX_LEAKS 10
#define TEXT_MAX_SITES 10
#define TEXT_MAX_FRAMES 8
#define TEXT_MAX_THREADS 20
/* Processes shown in full; a run with more (a shell script, a build)
 * lists the others a line each: ptrace-run report --pid shows any. */
#define TEXT_MAX_PROCS 16
#define ESC_SLOTS 8 /* escaped strings alive at once: more than one printf uses */

#define E render_text_esc
#define N render_text_name

/*
 * Length of the valid UTF-8 sequence at p and its code point, or 0 when p
 * does not start one (a stray continuation byte, an overlong form, a
 * surrogate, past U+10FFFF, cut short).
 */
static int utf8_seq(const unsigned char *p, unsigned *cp)
{
	int len = (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3 : (*p >> 3) == 30 ? 4 : 0;
	static const unsigned min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	unsigned c;

	if (!len)
		return 0;
	c = *p & (0x7fu >> len);
	for (int k = 1; k < len; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[k] & 0x3fu);
	}
	if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Code points a terminal acts on rather than shows: C1 controls (U+009B
 * is CSI), line and paragraph separators, and the bidirectional controls
 * that reorder what is displayed around them. */
static int cp_unsafe(unsigned c)
{
	return (c >= 0x80 && c <= 0x9f) || c == 0x2028 || c == 0x2029 || c == 0x200e || c == 0x200f ||
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/* Escaped length of s, or 0 when it needs no escape. */
static size_t esc_len(const unsigned char *s)
{
	size_t n = 0;
	int any = 0;
	unsigned c;

	for (const unsigned char *p = s; *p;) {
		int len;

		if (*p < 0x20 || *p == 0x7f) {
			n += 4, p++, any = 1;
			continue;
		}
		if (*p < 0x80) {
			n++, p++;
			continue;
		}
		len = utf8_seq(p, &c);
		if (!len) {
			n += 4, p++, any = 1;
		} else if (cp_unsafe(c)) {
			n += 6, p += len, any = 1;
		} else {
			n += (size_t)len, p += len;
		}
	}
	return any ? n : 0;
}

const char *render_text_esc(const char *str)
{
	static char *slot[ESC_SLOTS];
	static unsigned next;
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t n;
	char *o, *out;
	unsigned c;

	if (!s || !(n = esc_len(s)))
		return str;
	out = malloc(n + 1);
	if (!out)
		return "<unprintable>";
	o = out;
	for (const unsigned char *p = s; *p;) {
		int len = *p < 0x80 ? 1 : utf8_seq(p, &c);

		if (*p < 0x20 || *p == 0x7f || !len) {
			*o++ = '\\', *o++ = 'x', *o++ = hex[*p >> 4], *o++ = hex[*p & 15];
			p++;
		} else if (len > 1 && cp_unsafe(c)) {
			o += sprintf(o, "\\u%04x", c);
			p += len;
		} else {
			memcpy(o, p, (size_t)len);
			o += len, p += len;
		}
	}
	*o = 0;
	/* The view runs in one thread; a slot is reused ESC_SLOTS calls later,
	 * long after the printf that used it. */
	free(slot[next]);
	slot[next] = out;
	next = (next + 1) % ESC_SLOTS;
	return out;
}

static const char *base_name(const char *p)
{
	const char *s = p ? strrchr(p, '/') : NULL;
	return s ? s + 1 : p;
}

/*
 * The report's function names while render_text runs, each with the
 * text it shows (cli/cxxshort.h): every name of the report goes in
 * before the first line is written, so that two names that would
 * shorten alike anywhere in it both show in full, everywhere. NULL: all
 * in full (out of memory, or a renderer called outside render_text).
 */
static struct cxxshort_map *text_names;

const char *render_text_name(const char *name)
{
	return cxxshort_map_get(text_names, name);
}

static void names_add_proc(struct cxxshort_map *m, const struct rprocess *p)
{
	for (size_t i = 0; i < p->cpu.nfns; i++)
		cxxshort_map_add(m, p->cpu.fns[i].name);
	for (size_t i = 0; p->func && i < p->func->nfuncs; i++)
		if (!p->func->funcs[i].region) /* named by the program: shown as it is */
			cxxshort_map_add(m, p->func->funcs[i].name);
}

static struct cxxshort_map *names_of(const struct report *r)
{
	struct cxxshort_map *m;

	if (cxxshort_map_new(&m))
		return NULL;
	for (size_t i = 0; i < r->nprocs; i++)
		names_add_proc(m, &r->procs[i]);
	/* Every stack's frames are in the report's store, each once. */
	for (uint32_t i = 0; r->frames && i < r->frames->n; i++)
		cxxshort_map_add(m, rframes_at(r->frames, i)->function); /* -ENOMEM: that name in full */
	cxxshort_map_settle(m); /* -ENOMEM: every name in full */
	return m;
}

static void print_argv(FILE *f, char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		fprintf(f, "%s%s", i ? " " : "", E(argv[i]));
}

static void print_frame_note(FILE *f, const struct rframe *fr, const char *note)
{
	if (fr->function)
		fprintf(f, "%s", E(N(fr->function)));
	else
		fprintf(f, "??");
	if (fr->file && fr->line)
		fprintf(f, " (%s:%d)", E(fr->file), fr->line);
	else if (fr->module)
		fprintf(f, " (%s+0x%" PRIx64 ")", E(base_name(fr->module)), fr->offset);
	else
		fprintf(f, " (0x%" PRIx64 ")", fr->address);
	if (fr->inlined)
		fprintf(f, " [inlined]");
	if (fr->file && fr->line && fr->module)
		fprintf(f, "  %s", E(base_name(fr->module)));
	if (note)
		fprintf(f, "%s", note);
	fputc('\n', f);
}

static void print_frame(FILE *f, const struct rframe *fr)
{
	print_frame_note(f, fr, NULL);
}

/*
 * A frame of the C/C++ runtime or of the standard library: in a runtime
 * module (libc, libstdc++, ld.so, libgcc_s, the agent), or the library's
 * templates inlined into the program (their file is under include/c++),
 * or operator new/delete. The text folds a run of them that the
 * program's own code called into one line; the JSON keeps every frame.
 */
static int library_frame(const struct rframe *fr)
{
	if (fr->module && report_runtime_module(fr->module))
		return 1;
	if (fr->file && strstr(fr->file, "/include/c++/"))
		return 1;
	return fr->function && (!strncmp(fr->function, "std::", 5) || !strncmp(fr->function, "__gnu_cxx::", 11) ||
				!strncmp(fr->function, "operator new", 12) ||
				!strncmp(fr->function, "operator delete", 15));
}

/* The end of the run of library frames from i that a frame of the
 * program's own code called, or i when there is none (a run that reaches
 * the stack's bottom is libc's start-up or a thread's: not folded). */
static unsigned library_run(const struct rstack *st, unsigned i)
{
	unsigned j = i;

	if (!library_frame(rstack_frame(st, i)))
		return i;
	while (j + 1 < st->n && library_frame(rstack_frame(st, j + 1)))
		j++;
	return j + 1 < st->n ? j : i;
}



/* Frames below main (libc's start-up) say nothing to a person: the text
 * stops at main; the JSON keeps every frame. A run of library frames the
 * program called shows as its outermost frame, the one the program's
 * code called, with the count of the frames inside it. */
static void print_stack_from(FILE *f, const struct rstack *st, const char *indent, unsigned fold_from)
{
	unsigned i = 0, lines = 0;

	if (!st->n) {
		fprintf(f, "%s<no stack>\n", indent);
		return;
	}
	while (i < st->n && lines < TEXT_MAX_FRAMES) {
		unsigned j = i >= fold_from ? library_run(st, i) : i;
		char note[64] = "";

		if (j > i)
			snprintf(note, sizeof(note), "  [+%u library frame%s inside]", j - i, j - i == 1 ? "" : "s");
		fprintf(f, "%s", indent);
		print_frame_note(f, rstack_frame(st, j), j > i ? note : NULL);
		lines++;
		if (rstack_frame(st, j)->function && !strcmp(rstack_frame(st, j)->function, "main"))
			return;
		i = j + 1;
	}
	if (i < st->n)
		fprintf(f, "%s... %u more frames\n", indent, st->n - i);
}

/* An allocation's stack: a library run at its top folds too. */
static void print_stack(FILE *f, const struct rstack *st, const char *indent)
{
	print_stack_from(f, st, indent, 0);
}

/* A CPU sample's, a crash's or a dump's: frame 0 is what was running,
 * always shown. */
void render_text_stack(FILE *f, const struct rstack *st, const char *indent)
{
	print_stack_from(f, st, indent, 1);
}

void render_text_site_line(FILE *f, const struct rstack *st)
{
	unsigned k = st->n ? library_run(st, 0) : 0;

	/* A site reached through the library: the library call the program
	 * made, and the program's frame that made it. */
	if (k > 0 && k + 1 < st->n) {
		const struct rframe *l = rstack_frame(st, k), *c = rstack_frame(st, k + 1);

		fprintf(f, "%s <- %s", l->function ? E(N(l->function)) : "??", c->function ? E(N(c->function)) : "??");
		if (c->file && c->line)
			fprintf(f, " (%s:%d)", E(base_name(c->file)), c->line);
		fputc('\n', f);
	} else if (st->n > 1 && !rstack_frame(st, 0)->inlined && rstack_frame(st, 0)->function &&
		   strcmp(rstack_frame(st, 0)->function, "main")) {
		/* Frame 0 and its caller: sites differ by caller often. */
		const struct rframe *c = rstack_frame(st, 1);
		const struct rframe *f0 = rstack_frame(st, 0);
		fprintf(f, "%s", E(N(f0->function)));
		if (f0->file && f0->line)
			fprintf(f, " (%s:%d)", E(base_name(f0->file)), f0->line);
		fprintf(f, " <- %s", c->function ? E(N(c->function)) : "??");
		if (c->file && c->line)
			fprintf(f, " (%s:%d)", E(base_name(c->file)), c->line);
		fputc('\n', f);
	} else if (st->n)
		print_frame(f, rstack_frame(st, 0));
	else
		fprintf(f, "<no stack>\n");
}

static void print_status(FILE *f, int has_exit, int code, int has_sig, int sig)
{
	if (has_exit)
		fprintf(f, "exit %d", code);
	else if (has_sig)
		fprintf(f, "killed by signal %d (%s)", sig, strsignal(sig));
	else
		fprintf(f, "exit status unknown");
}

#define TEXT_MAX_REACHABLE 5

/* Why live blocks were not classified: the leak check was off, or not made. */
static const char *leak_unchecked_why(const struct rmemory *m)
{
	if (m->leak_off)
		return "not classified: --leak-check=off";
	if (m->leak_flags & SF_LK_THREADS_MISSED)
		return "not classified: a thread could not be stopped for the leak check";
	if (m->leak_flags & SF_LK_NOT_RUN)
		return "not classified: no memory for the leak check";
	if (m->lk_fork_child)
		return "not classified: a fork child that exits without exec is not leak-checked";
	return "not classified: no leak check, the process did not exit";
}

static const char *const leak_class_name[SF_LEAK_CLASSES] = {"still reachable", "possibly lost", "indirectly lost",
							     "definitely lost"};

/* "1.1 KiB in 1 blocks definitely lost, 130 B in 1 blocks indirectly lost" */
static void print_site_classes(FILE *f, const struct rsite *x)
{
	static const unsigned order[] = {SF_LEAK_DEFINITE, SF_LEAK_INDIRECT, SF_LEAK_POSSIBLE};
	char b[32];
	int any = 0;

	for (unsigned k = 0; k < 3; k++) {
		unsigned c = order[k];
		if (!x->lk_blocks[c])
			continue;
		fprintf(f, "%s%s in %" PRIu64 " blocks %s", any ? ", " : "", report_bytes(x->lk_bytes[c], b, sizeof(b)),
			x->lk_blocks[c], leak_class_name[c]);
		any = 1;
	}
	if (!any)
		fprintf(f, "%s in %" PRIu64 " blocks live, not found by the leak check",
			report_bytes(x->live_bytes, b, sizeof(b)), x->live_blocks);
}

static void print_leak_check(FILE *f, const struct rmemory *m)
{
	char b1[32], b2[32], b3[32], b4[32], b5[32];

	fprintf(f, "        live at exit: %s in %" PRIu64 " blocks\n", report_bytes(m->live_bytes, b1, sizeof(b1)),
		m->live_blocks);
	fprintf(f,
		"        leak check: definitely lost %s in %" PRIu64 " blocks, indirectly lost %s in %" PRIu64
		" blocks,\n                    possibly lost %s in %" PRIu64 " blocks, still reachable %s in %" PRIu64
		" blocks",
		report_bytes(m->lk_bytes[SF_LEAK_DEFINITE], b1, sizeof(b1)), m->lk_blocks[SF_LEAK_DEFINITE],
		report_bytes(m->lk_bytes[SF_LEAK_INDIRECT], b2, sizeof(b2)), m->lk_blocks[SF_LEAK_INDIRECT],
		report_bytes(m->lk_bytes[SF_LEAK_POSSIBLE], b3, sizeof(b3)), m->lk_blocks[SF_LEAK_POSSIBLE],
		report_bytes(m->lk_bytes[SF_LEAK_REACHABLE], b4, sizeof(b4)), m->lk_blocks[SF_LEAK_REACHABLE]);
	if (m->suppressed_blocks)
		fprintf(f, ", suppressed %s in %" PRIu64 " blocks", report_bytes(m->suppressed_bytes, b5, sizeof(b5)),
			m->suppressed_blocks);
	fputc('\n', f);
	if (m->lk_found != m->live_blocks && !m->sampled)
		fprintf(f, "                    (%" PRIu64 " of the %" PRIu64 " live blocks found by the scan)\n",
			m->lk_found, m->live_blocks);
}

#define TEXT_MAX_MSITES 5

/* The program's own anonymous mappings, and what the resident memory was. */
static void print_mapped(FILE *f, const struct rmapped *mp, const struct rmemory *m, const struct report *r,
			 const struct rprocess *p)
{
	char b1[32], b2[32], b3[32], b4[32];

	if (mp->present) {
		fprintf(f, "\n  mapped memory (the program's anonymous mmap): %" PRIu64 " maps, %" PRIu64 " unmaps, %s mapped, "
			   "peak %s, %s live at %s\n",
			mp->maps, mp->unmaps, report_bytes(mp->bytes, b1, sizeof(b1)),
			report_bytes(mp->peak_bytes, b2, sizeof(b2)), report_bytes(mp->live_bytes, b3, sizeof(b3)),
			r->snapshot ? "this snapshot" : "exit");
		if (mp->untracked)
			fprintf(f, "        %" PRIu64 " mappings not recorded (table full)\n", mp->untracked);
		for (size_t i = 0; i < mp->nsites && i < TEXT_MAX_MSITES; i++) {
			const struct rmsite *x = &mp->sites[i];

			fprintf(f, "   #%zu peak %s, %s mapped in %" PRIu64 " maps, %s live in %" PRIu64 " regions\n", i + 1,
				report_bytes(x->peak_bytes, b1, sizeof(b1)), report_bytes(x->bytes, b2, sizeof(b2)), x->maps,
				report_bytes(x->live_bytes, b3, sizeof(b3)), x->live_regions);
			print_stack(f, &x->stack, "        ");
		}
		if (mp->nsites > TEXT_MAX_MSITES)
			fprintf(f, "   ... %zu more mapping sites (see --json)\n", mp->nsites - TEXT_MAX_MSITES);
	}
	/* The run's max RSS is the first process's (and its children's). */
	if (!r->snapshot && r->nprocs && p->pid == r->procs[0].pid && !p->execed && !p->forked && r->ru.ru_maxrss > 0) {
		uint64_t rss = (uint64_t)r->ru.ru_maxrss * 1024, known = m->peak_bytes + mp->peak_bytes;

		fprintf(f, "\n  resident memory: max RSS %s; heap peak %s requested, the program's mappings' peak %s"
			   " (mapped, resident or not; the two peaks need not coincide)",
			report_bytes(rss, b1, sizeof(b1)), report_bytes(m->peak_bytes, b2, sizeof(b2)),
			report_bytes(mp->peak_bytes, b3, sizeof(b3)));
		if (rss > known)
			fprintf(f, "; at least %s is neither: code, stacks, the allocator's overhead, other mappings",
				report_bytes(rss - known, b4, sizeof(b4)));
		fputc('\n', f);
	}
}

static void print_memory(FILE *f, const struct rmemory *m, int snapshot)
{
	char b1[32], b2[32], b3[32];
	const char *est = m->sampled ? " (estimated from sampled stacks)" : "";

	fprintf(f, "  heap: %" PRIu64 " allocations, %" PRIu64 " frees, %s allocated, peak %s\n", m->allocations,
		m->frees, report_bytes(m->bytes_allocated, b1, sizeof(b1)), report_bytes(m->peak_bytes, b2, sizeof(b2)));
	fprintf(f, "        %" PRIu64 " temporary allocations, %" PRIu64 " failed\n", m->temporary, m->failed);
	if (m->walks_checked)
		fprintf(f, "        stack walks checked against libunwind: %" PRIu64 ", %" PRIu64 " differed\n",
			m->walks_checked, m->walks_differ);
	if (m->freed_by_exec)
		fprintf(f, "        live at exec: %s in %" PRIu64 " blocks (freed by the exec, not leaked)\n",
			report_bytes(m->exec_freed_bytes, b3, sizeof(b3)), m->exec_freed_blocks);
	else if (snapshot)
		fprintf(f, "        live now: %s in %" PRIu64 " blocks\n", report_bytes(m->live_bytes, b3, sizeof(b3)),
			m->live_blocks);
	else if (m->leak_checked)
		print_leak_check(f, m);
	else if (m->suppressed_blocks && m->live_blocks >= m->suppressed_blocks)
		fprintf(f, "        live at exit: %s in %" PRIu64 " blocks (%s): %s in %" PRIu64
			   " blocks not suppressed, %s in %" PRIu64 " suppressed\n",
			report_bytes(m->live_bytes, b3, sizeof(b3)), m->live_blocks, leak_unchecked_why(m),
			report_bytes(m->live_bytes - m->suppressed_bytes, b1, sizeof(b1)),
			m->live_blocks - m->suppressed_blocks, report_bytes(m->suppressed_bytes, b2, sizeof(b2)),
			m->suppressed_blocks);
	else
		fprintf(f, "        live at exit: %s in %" PRIu64 " blocks%s%s%s\n",
			report_bytes(m->live_bytes, b3, sizeof(b3)), m->live_blocks, m->live_blocks ? " (" : "",
			m->live_blocks ? leak_unchecked_why(m) : "", m->live_blocks ? ")" : "");
	if (m->inherited_frees)
		fprintf(f, "        %" PRIu64 " frees of blocks inherited from the parent (not counted)\n",
			m->inherited_frees);

	if (m->nleaks) {
		fprintf(f, "\n  %s, by bytes%s:\n",
			snapshot ? "live now" : m->leak_checked ? "leaks (lost blocks)" : "live at exit", est);
		for (size_t i = 0; i < m->nleaks && i < TEXT_MAX_LEAKS; i++) {
			const struct rsite *x = m->leaks[i];
			if (m->leak_checked) {
				fprintf(f, "   #%zu ", i + 1);
				print_site_classes(f, x);
				fputc('\n', f);
			} else {
				fprintf(f, "   #%zu %s in %" PRIu64 " blocks\n", i + 1,
					report_bytes(x->live_bytes, b1, sizeof(b1)), x->live_blocks);
			}
			print_stack(f, &x->stack, "        ");
		}
		if (m->nleaks > TEXT_MAX_LEAKS)
			fprintf(f, "   ... %zu more leak sites (see --json)\n", m->nleaks - TEXT_MAX_LEAKS);
	}
	if (m->nsuppressed) {
		fprintf(f, "\n  suppressed (live at exit, not leaks): %s in %" PRIu64 " blocks at %zu site%s\n",
			report_bytes(m->suppressed_bytes, b1, sizeof(b1)), m->suppressed_blocks, m->nsuppressed,
			m->nsuppressed == 1 ? "" : "s");
		for (size_t i = 0; i < m->nsuppressed && i < TEXT_MAX_LEAKS; i++) {
			const struct rsite *x = m->suppressed[i];

			fprintf(f, "   %s in %" PRIu64 " blocks: %s: ", report_bytes(x->live_bytes, b1, sizeof(b1)),
				x->live_blocks, E(x->suppressed_by));
			render_text_site_line(f, &x->stack);
		}
		if (m->nsuppressed > TEXT_MAX_LEAKS)
			fprintf(f, "   ... %zu more suppressed sites (see --json)\n", m->nsuppressed - TEXT_MAX_LEAKS);
	}
	if (m->nreachable && !snapshot) {
		uint64_t rb = 0, rn = 0;

		for (size_t i = 0; i < m->nreachable; i++) {
			rb += m->reachable[i]->lk_bytes[SF_LEAK_REACHABLE];
			rn += m->reachable[i]->lk_blocks[SF_LEAK_REACHABLE];
		}
		fprintf(f, "\n  still reachable (not leaks): %s in %" PRIu64 " blocks at %zu site%s%s:\n",
			report_bytes(rb, b1, sizeof(b1)), rn, m->nreachable, m->nreachable == 1 ? "" : "s", est);
		for (size_t i = 0; i < m->nreachable && i < TEXT_MAX_REACHABLE; i++) {
			const struct rsite *x = m->reachable[i];

			fprintf(f, "   %s in %" PRIu64 " blocks: ", report_bytes(x->lk_bytes[SF_LEAK_REACHABLE], b1, sizeof(b1)),
				x->lk_blocks[SF_LEAK_REACHABLE]);
			render_text_site_line(f, &x->stack);
		}
		if (m->nreachable > TEXT_MAX_REACHABLE)
			fprintf(f, "   ... %zu more sites (see --json)\n", m->nreachable - TEXT_MAX_REACHABLE);
	}
	if (m->sampled && m->unsampled_live_blocks)
		fprintf(f, "   + %s in %" PRIu64 " live blocks without a sampled stack\n",
			report_bytes(m->unsampled_live_bytes, b1, sizeof(b1)), m->unsampled_live_blocks);

	if (m->nsites) {
		fprintf(f, "\n  top allocation sites by bytes%s:\n", est);
		for (size_t i = 0; i < m->nsites && i < TEXT_MAX_SITES; i++) {
			const struct rsite *x = &m->sites[i];
			fprintf(f, "   #%zu %s in %" PRIu64 " allocations (%" PRIu64 " temporary, %s live)\n", i + 1,
				report_bytes(x->bytes, b1, sizeof(b1)), x->allocs, x->temporary,
				report_bytes(x->live_bytes, b2, sizeof(b2)));
			print_stack(f, &x->stack, "        ");
		}
		/* By count: the same sites ordered differently, frame 0 only. */
		const struct rsite *top[TEXT_MAX_SITES];
		size_t k = 0;
		for (size_t i = 0; i < m->nsites; i++) {
			const struct rsite *x = &m->sites[i];
			size_t j;
			if (k == TEXT_MAX_SITES && top[k - 1]->allocs >= x->allocs)
				continue;
			j = k < TEXT_MAX_SITES ? k++ : k - 1;
			while (j > 0 && top[j - 1]->allocs < x->allocs) {
				top[j] = top[j - 1];
				j--;
			}
			top[j] = x;
		}
		fprintf(f, "\n  top allocation sites by count%s:\n", est);
		for (size_t i = 0; i < k; i++) {
			const struct rsite *x = top[i];
			fprintf(f, "   #%zu %" PRIu64 " allocations, %s: ", i + 1, x->allocs,
				report_bytes(x->bytes, b1, sizeof(b1)));
			render_text_site_line(f, &x->stack);
		}
	}

	fprintf(f, "\n  allocation sizes:\n");
	uint64_t maxc = 0;
	for (unsigned b = 0; b < SF_HIST_BUCKETS; b++)
		if (m->hist[b] > maxc)
			maxc = m->hist[b];
	for (unsigned b = 0; b < SF_HIST_BUCKETS; b++) {
		uint64_t lo, hi;
		int bar;
		if (!m->hist[b])
			continue;
		report_bucket_range(b, &lo, &hi);
		bar = (int)(m->hist[b] * 40 / (maxc ? maxc : 1));
		fprintf(f, "   %10s", report_bytes(lo, b1, sizeof(b1)));
		fprintf(f, " .. %-10s %12" PRIu64 " %.*s\n", hi == UINT64_MAX ? "" : report_bytes(hi, b2, sizeof(b2)),
			m->hist[b], bar ? bar : 1, "########################################");
	}
}

/*
 * What the image could not hold, each kind as what it means for the
 * figures: a process or thread without a record is missing altogether;
 * a lost stack (trace, site, CPU sample) keeps its count in the totals.
 */
static void print_dropped(const struct report *r, FILE *f)
{
	uint64_t stacks = r->dropped_traces + r->dropped_sites + r->dropped_samples;

	if (r->dropped_procs)
		fprintf(f,
			"warning: %" PRIu64 " process%s not recorded (the session image's process table was full): "
			"%s heap, CPU and function figures are missing from this report\n",
			r->dropped_procs, r->dropped_procs == 1 ? " was" : "es were",
			r->dropped_procs == 1 ? "its" : "their");
	if (r->dropped_threads)
		fprintf(f,
			"warning: %" PRIu64 " thread%s not recorded (the session image filled up): %s figures are "
			"missing from this report; raise --session-size\n",
			r->dropped_threads, r->dropped_threads == 1 ? " was" : "s were",
			r->dropped_threads == 1 ? "its" : "their");
	if (stacks)
		fprintf(f,
			"warning: %" PRIu64 " events lost their stack (%" PRIu64 " stacks, %" PRIu64
			" allocation sites, %" PRIu64 " CPU samples: the session image filled up): the totals count "
			"them, the per-site and per-stack figures do not; raise --session-size\n",
			stacks, r->dropped_traces, r->dropped_sites, r->dropped_samples);
}

static int render_text_names(const struct report *r, FILE *f);

int render_text(const struct report *r, FILE *f)
{
	int rc;

	text_names = names_of(r);
	rc = render_text_names(r, f);
	cxxshort_map_free(text_names);
	text_names = NULL;
	return rc;
}

/* Which come first for a section in full: a crash or a fatal signal,
 * then the highest heap peak, then the most CPU samples, then the
 * earliest. */
static int proc_rank_cmp(const void *a, const void *b, void *arg)
{
	const struct report *r = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	const struct rprocess *p = &r->procs[i], *q = &r->procs[j];
	int pc = p->crash.present || p->has_signal, qc = q->crash.present || q->has_signal;

	if (pc != qc)
		return qc - pc;
	if (p->mem.peak_bytes != q->mem.peak_bytes)
		return p->mem.peak_bytes > q->mem.peak_bytes ? -1 : 1;
	if (p->cpu.samples != q->cpu.samples)
		return p->cpu.samples > q->cpu.samples ? -1 : 1;
	return i < j ? -1 : i > j;
}

/* full[i]: process i gets its section; all do up to TEXT_MAX_PROCS,
 * else the first (the program run) and the best ranked others. NULL
 * when that is every one, or on no memory (then every one too). */
static unsigned char *procs_in_full(const struct report *r)
{
	unsigned char *full;
	size_t *order;

	if (r->nprocs <= TEXT_MAX_PROCS || !(full = calloc(r->nprocs, 1)))
		return NULL;
	if (!(order = malloc(r->nprocs * sizeof(*order)))) {
		free(full);
		return NULL;
	}
	for (size_t i = 0; i < r->nprocs; i++)
		order[i] = i;
	qsort_r(order, r->nprocs, sizeof(*order), proc_rank_cmp, (void *)r);
	full[0] = 1; /* the program that was run */
	for (size_t k = 0, taken = 1; taken < TEXT_MAX_PROCS; k++)
		if (!full[order[k]]) {
			full[order[k]] = 1;
			taken++;
		}
	free(order);
	return full;
}

/* The processes without a section, a line each, in the run's order. */
static void print_proc_lines(const struct report *r, const unsigned char *full, FILE *f)
{
	char b1[32], b2[32], st[32];
	size_t n = r->nprocs - TEXT_MAX_PROCS;

	fprintf(f, "\n-- %zu more process%s, a line each (%d above in full: the program, then crashes, by heap "
		   "peak, by CPU samples; `ptrace-run report --pid=PID` on the profile shows any in full):\n",
		n, n == 1 ? "" : "es", TEXT_MAX_PROCS);
	fprintf(f, "   %-8s %-10s %9s %12s %10s %10s  %s\n", "pid", "status", "wall", "allocations", "peak",
		"lost", "command");
	/* lost: definitely and indirectly, where the leak check was made. */
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct rprocess *p = &r->procs[i];

		if (full[i])
			continue;
		if (p->execed)
			snprintf(st, sizeof(st), "exec'd");
		else if (p->has_exit)
			snprintf(st, sizeof(st), "exit %d", p->exit_code);
		else if (p->has_signal)
			snprintf(st, sizeof(st), "signal %d", p->signal);
		else
			snprintf(st, sizeof(st), "running");
		fprintf(f, "   %-8d %-10s %7.3f s %12" PRIu64 " %10s %10s  ", p->pid, st, p->duration_ns / 1e9,
			p->track_memory ? p->mem.allocations : 0,
			p->track_memory ? report_bytes(p->mem.peak_bytes, b1, sizeof(b1)) : "-",
			p->track_memory && p->mem.leak_checked
				? report_bytes(p->mem.lk_bytes[SF_LEAK_DEFINITE] + p->mem.lk_bytes[SF_LEAK_INDIRECT], b2,
					       sizeof(b2))
				: "-");
		print_argv(f, p->argv);
		fputc('\n', f);
	}
}

static int render_text_names(const struct report *r, FILE *f)
{
	unsigned char *full;
	char b1[32];

	fprintf(f, "\n== ptrace-run report: ");
	print_argv(f, r->argv);
	fprintf(f, " ==\n");
	if (r->snapshot)
		fprintf(f, "snapshot %u (%s) at %.3f s: the program was still running\n", r->snapshot,
			E(r->snapshot_label ? r->snapshot_label : ""), r->snapshot_ns / 1e9);
	fprintf(f, "result: ");
	if (r->snapshot) {
		fprintf(f, "running, wall %.3f s so far (resource usage comes with the run's end)\n",
			r->duration_ns / 1e9);
	} else {
		print_status(f, r->has_exit, r->exit_code, r->has_signal, r->signal);
		fprintf(f, ", wall %.3f s, user %.3f s, sys %.3f s, max RSS %s\n", r->duration_ns / 1e9,
			r->ru.ru_utime.tv_sec + r->ru.ru_utime.tv_usec / 1e6,
			r->ru.ru_stime.tv_sec + r->ru.ru_stime.tv_usec / 1e6,
			report_bytes((uint64_t)r->ru.ru_maxrss * 1024, b1, sizeof(b1)));
		fprintf(f, "        page faults %ld minor / %ld major, context switches %ld voluntary / %ld involuntary\n",
			r->ru.ru_minflt, r->ru.ru_majflt, r->ru.ru_nvcsw, r->ru.ru_nivcsw);
	}
	if (!r->loaded) {
		fprintf(f, "agent: NOT loaded: %s\n", E(r->reason));
		fprintf(f, "       no profile was recorded; only the resource usage above is known.\n");
		return fflush(f) || ferror(f) ? -EIO : 0;
	}
	fprintf(f, "agent: loaded; memory tracking %s; stacks: ", r->track_memory ? "on" : "off");
	if (r->sample_bytes) {
		char b[32];

		fprintf(f, "sampled by bytes, one per %s allocated on average and every allocation that big (per-site figures are estimates)",
			report_bytes(r->sample_bytes, b, sizeof(b)));
	} else if (r->sample_rate >= 1)
		fprintf(f, "every allocation");
	else
		fprintf(f, "sample rate %g (per-site figures are estimates)", r->sample_rate);
	fprintf(f, ", max depth %u machine frames (inlined ones besides); events dropped %" PRIu64 "\n", r->max_depth,
		r->events_dropped);
	render_cpu_agent_text(r, f);
	for (size_t i = 0; i < r->nwarnings; i++)
		fprintf(f, "warning: %s\n", E(r->warnings[i]));
	print_dropped(r, f);

	full = procs_in_full(r);
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct rprocess *p = &r->procs[i];

		if (full && !full[i])
			continue;
		fprintf(f, "\n-- process %d", p->pid);
		if (p->forked)
			fprintf(f, " (forked from %d)", p->ppid);
		fprintf(f, ": ");
		print_argv(f, p->argv);
		fprintf(f, " -- ");
		if (p->execed)
			fprintf(f, "replaced by exec");
		else if (r->snapshot && !p->has_exit && !p->has_signal)
			fprintf(f, "running");
		else
			print_status(f, p->has_exit, p->exit_code, p->has_signal, p->signal);
		fprintf(f, ", %.3f s\n", p->duration_ns / 1e9);
		render_crash_text(p, f);
		if (p->api.resets)
			fprintf(f, "  figures since ptrace_reset() at %.3f s (%u reset%s): what happened before is not counted\n",
				p->api.reset_ns / 1e9, p->api.resets, p->api.resets == 1 ? "" : "s");
		if (p->api.refused_resets)
			fprintf(f, "  %u ptrace_reset() call%s refused (no room in the session image, another thread's reset "
				   "under way, or %u made already)\n",
				p->api.refused_resets, p->api.refused_resets == 1 ? "" : "s", SF_API_HOLES);
		if (p->api.pauses)
			fprintf(f, "  recording paused %" PRIu64 " time%s (ptrace_pause)%s: %" PRIu64
				   " allocations (%s) and %" PRIu64 " CPU samples not recorded\n",
				p->api.pauses, p->api.pauses == 1 ? "" : "s", p->api.paused_now ? ", still paused at the end" : "",
				p->api.paused_allocs, report_bytes(p->api.paused_bytes, b1, sizeof(b1)),
				p->api.paused_samples);
		if (p->track_memory)
			print_memory(f, &p->mem, r->snapshot != 0);
		if (p->track_memory)
			print_mapped(f, &p->mapped, &p->mem, r, p);
		render_time_text(r, p, f);
		if (p->nthreads > 1) {
			fprintf(f, "\n  threads (%zu):\n", p->nthreads);
			for (size_t k = 0; k < p->nthreads && k < TEXT_MAX_THREADS; k++) {
				const struct rthread *t = &p->threads[k];
				fprintf(f, "   tid %-8d %-16s %10" PRIu64 " allocations %10s\n", t->tid,
					t->name[0] ? E(t->name) : "-", t->allocs, report_bytes(t->bytes, b1, sizeof(b1)));
			}
			if (p->nthreads > TEXT_MAX_THREADS)
				fprintf(f, "   ... %zu more threads (see --json)\n", p->nthreads - TEXT_MAX_THREADS);
		}
		render_cpu_text(p, f);
		render_func_text(r, p, f);
	}
	if (full)
		print_proc_lines(r, full, f);
	free(full);
	fputc('\n', f);
	return fflush(f) || ferror(f) ? -EIO : 0;
}
