/*
 * Seed images for tests/fuzz_report.c: small session images laid out as
 * the agent lays them out (header, a few process slots, then records from
 * a bump pointer), one per feature, so the fuzzer starts from inputs that
 * reach every reader: threads, site tables, traces, the thread log,
 * modules, CPU tables, owners, a crash, dumps, function timing (entries,
 * call-tree chunks, open frames, a coroutine's stack, owners) and a
 * forked child. Usage: fuzz_seed DIR (writes DIR/seed-N.img).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session_format.h"

#define IMG_SIZE 24576u
#define NSLOTS 3u

static unsigned char img[IMG_SIZE] __attribute__((aligned(64)));
static uint64_t bump;

static sf_off alloc(size_t len)
{
	sf_off off = bump;

	bump += (len + 63) & ~(size_t)63;
	if (bump > IMG_SIZE) {
		fprintf(stderr, "fuzz_seed: image too small\n");
		exit(1);
	}
	return off;
}

#define AT(type, off) ((type *)(img + (off)))

static uint32_t trace(const uint64_t *ips, uint16_t depth)
{
	sf_off off = alloc(sizeof(struct sf_trace) + depth * sizeof(uint64_t));
	struct sf_trace *t = AT(struct sf_trace, off);

	t->depth = depth;
	t->hash = (uint32_t)off;
	t->hash64 = off * 0x9e3779b97f4a7c15ull;
	memcpy(t->ips, ips, depth * sizeof(uint64_t));
	return (uint32_t)(off >> 3);
}

static void module(struct sf_process *p, const char *path, uint64_t bias, uint64_t start, uint64_t end)
{
	size_t len = strlen(path);
	sf_off off = alloc(sizeof(struct sf_module) + len + 1);
	struct sf_module *m = AT(struct sf_module, off);

	m->bias = bias;
	m->start = start;
	m->end = end;
	m->path_len = (uint32_t)len;
	memcpy(m->path, path, len + 1);
	m->next = p->modules;
	p->modules = off;
}

static struct sf_process *process(uint32_t i, int pid, int parent)
{
	struct sf_header *h = AT(struct sf_header, 0);
	struct sf_process *p = AT(struct sf_process, h->procs) + i;
	static const char cmd[] = "./app\0--flag\0";

	p->state = SF_PROC_DONE;
	p->pid = pid;
	p->ppid = 1;
	p->parent_index = parent;
	p->flags = SF_PF_EXITED | (parent >= 0 ? SF_PF_FORKED : 0);
	p->exit_code = 3;
	p->start_ns = 2000;
	p->end_ns = 900000;
	p->track_memory = 1;
	p->max_depth = 64;
	p->sample_rate = 1.0;
	p->peak_bytes = 4096;
	strcpy(p->exe, "/nonexistent/app");
	memcpy(p->cmd, cmd, sizeof(cmd));
	p->cmd_len = sizeof(cmd) - 1;
	h->nprocs = i + 1;
	return p;
}

static void heap(struct sf_process *p, int tid, uint32_t tr)
{
	sf_off off = alloc(sizeof(struct sf_thread)), sites = alloc(4 * sizeof(struct sf_site));
	struct sf_thread *t = AT(struct sf_thread, off);
	struct sf_site *s = AT(struct sf_site, sites);
	sf_off lo = alloc(sizeof(struct sf_thread_log));
	struct sf_thread_log *l = AT(struct sf_thread_log, lo);

	t->state = SF_THREAD_USED;
	t->tid = tid;
	strcpy(t->name, "worker");
	t->allocs = 10;
	t->frees = 7;
	t->bytes = 1000;
	t->freed_bytes = 600;
	t->hist[5] = 10;
	t->nostack.allocs = 2;
	t->nostack.bytes = 100;
	t->sites = sites;
	t->sites_cap = 4;
	t->sites_used = 1;
	s[1].trace = tr;
	s[1].allocs = 8;
	s[1].bytes = 900;
	s[1].frees = 5;
	s[1].freed_bytes = 500;
	t->next = p->threads;
	p->threads = off;
	l->tid = tid + 1;
	strcpy(l->name, "gone");
	l->allocs = 3;
	l->bytes = 30;
	l->frees = 3;
	l->next = p->thread_log;
	p->thread_log = lo;
}

static void cpu(struct sf_process *p, uint32_t tr, uint32_t tr2)
{
	sf_off cpo = alloc(sizeof(struct sf_cpu_proc));
	struct sf_cpu_proc *cp = AT(struct sf_cpu_proc, cpo);
	struct sf_thread *t = AT(struct sf_thread, p->threads);
	sf_off cto = alloc(sizeof(struct sf_cpu_thread)), tabo = alloc(sizeof(struct sf_cpu_table) + 4 * sizeof(struct sf_cpu_site));
	struct sf_cpu_thread *ct = AT(struct sf_cpu_thread, cto);
	struct sf_cpu_table *tab = AT(struct sf_cpu_table, tabo);
	sf_off oo = alloc(sizeof(struct sf_cpu_owner)), ko = alloc(sizeof(struct sf_crash));
	struct sf_cpu_owner *o = AT(struct sf_cpu_owner, oo);
	struct sf_crash *k = AT(struct sf_crash, ko);

	cp->hz = 1000;
	cp->flags = SF_CPU_SAMPLING;
	cp->dump_signal = 12;
	cp->dumps = 1;
	ct->samples = 30;
	ct->signals = 20;
	ct->owner_tid = t->tid;
	ct->table = tabo;
	ct->max_weight = 2;
	tab->cap = 4;
	tab->used = 2;
	tab->slots[0].trace = tr;
	tab->slots[0].samples = 20;
	tab->slots[3].trace = tr2;
	tab->slots[3].samples = 10;
	t->cpu = cto;
	o->tid = 77;
	strcpy(o->name, "old");
	o->samples = 5;
	cp->owners = oo;
	k->signal = 11;
	k->code = 1;
	k->tid = t->tid;
	k->flags = SF_CRASH_ADDRESS;
	k->address = 0x10;
	k->ns = 5000;
	strcpy(k->name, "worker");
	k->trace = tr2;
	cp->crash = ko;
	for (int i = 0; i < 2; i++) {
		sf_off so = alloc(sizeof(struct sf_cpu_stack));
		struct sf_cpu_stack *st = AT(struct sf_cpu_stack, so);

		st->seq = 1;
		st->tid = t->tid + i;
		st->ns = 6000;
		strcpy(st->name, "dumped");
		st->trace = i ? tr : tr2;
		st->flags = i ? 0 : SF_STACK_REQUESTER;
		st->threads = 2;
		st->next = cp->stacks;
		cp->stacks = so;
	}
	p->cpu = cpo;
}

static void func(struct sf_process *p)
{
	sf_off fpo = alloc(sizeof(struct sf_fproc)), tho = alloc(sizeof(struct sf_fthread));
	struct sf_fproc *fp = AT(struct sf_fproc, fpo);
	struct sf_fthread *th = AT(struct sf_fthread, tho);
	struct sf_thread *t = AT(struct sf_thread, p->threads);
	sf_off fo[2], co = alloc(sizeof(struct sf_fchunk) + 4 * sizeof(struct sf_fnode));
	struct sf_fchunk *c = AT(struct sf_fchunk, co);
	sf_off fro = alloc(4 * sizeof(struct sf_fframe)), sto = alloc(sizeof(struct sf_fstack));
	sf_off sfo = alloc(3 * sizeof(struct sf_fframe)), ow = alloc(sizeof(struct sf_fowner));
	struct sf_fframe *fr = AT(struct sf_fframe, fro), *sf = AT(struct sf_fframe, sfo);
	struct sf_fstack *st = AT(struct sf_fstack, sto);
	struct sf_fowner *o = AT(struct sf_fowner, ow);

	fp->clock = SF_FCLOCK_MONOTONIC;
	fp->corrected = 1;
	fp->max_call_depth = 64;
	fp->ns_per_tick = 1.0;
	fp->hook_ticks = 30;
	fp->inner_ticks = 10;
	fp->image_base = 0x7f0000000000ull;
	for (int i = 0; i < 2; i++) {
		struct sf_func *fe;

		fo[i] = alloc(sizeof(struct sf_func));
		fe = AT(struct sf_func, fo[i]);
		fe->addr = 0x401000 + 0x40 * (uint64_t)i;
		fe->calls = 5 + (uint64_t)i;
		fe->total = 500;
		fe->self = 300;
		fe->min = 50;
		fe->max = 200;
		fe->sumsq = 60000;
		fe->hist[20] = 5;
		fe->nslow = 1;
		fe->slow[0].start = 3000;
		fe->slow[0].ticks = 200;
		fe->slow[0].tid = t->tid;
		fe->min = i ? 40 : 50;
		fe->next = th->funcs;
		th->funcs = fo[i];
	}
	c->cap = 4;
	c->used = 3;
	c->nodes[1].parent = co + sizeof(*c);
	c->nodes[1].func = fo[0];
	c->nodes[1].calls = 5;
	c->nodes[1].total = 500;
	c->nodes[1].self = 300;
	c->nodes[2].parent = co + sizeof(*c) + sizeof(struct sf_fnode);
	c->nodes[2].func = fo[1];
	c->nodes[2].calls = 6;
	c->nodes[2].total = 200;
	th->nodes = co;
	th->nslow = 1;
	th->slow[0] = (struct sf_fcall){.start = 3000, .ticks = 200, .func = fo[0], .tid = t->tid};
	th->frames = fro;
	th->frames_cap = 4;
	fr[1] = (struct sf_fframe){.fn = 0x401000, .start = 100, .fe = fp->image_base + fo[0],
				   .node = fp->image_base + co + sizeof(*c) + sizeof(struct sf_fnode)};
	fr[2] = (struct sf_fframe){.fn = 0x401040, .start = 200, .fe = fp->image_base + fo[1],
				   .node = fp->image_base + co + sizeof(*c) + 2 * sizeof(struct sf_fnode)};
	sf[1] = fr[1];
	st->frames = sfo;
	st->cap = 3;
	st->suspended = 4000;
	th->stacks = sto;
	o->tid = 99;
	strcpy(o->name, "earlier");
	o->calls = 2;
	o->ticks = 100;
	th->owners = ow;
	th->max_depth = 2;
	t->func = tho;
	p->func = fpo;
}

static int write_seed(const char *dir, int n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/seed-%d.img", dir, n);
	AT(struct sf_header, 0)->bump = bump;
	if (!(f = fopen(path, "wb")) || fwrite(img, 1, bump, f) != bump || fclose(f)) {
		perror(path);
		return 1;
	}
	return 0;
}

static void reset(void)
{
	struct sf_header *h = AT(struct sf_header, 0);

	memset(img, 0, sizeof(img));
	h->magic = SF_MAGIC;
	h->version = SF_VERSION;
	h->header_size = sizeof(*h);
	h->start_ns = 1000;
	h->cli_pid = 1;
	h->procs = (sizeof(*h) + 63) & ~(size_t)63;
	bump = h->procs + ((NSLOTS * sizeof(struct sf_process) + 63) & ~(size_t)63);
}

int main(int argc, char **argv)
{
	uint64_t ips[] = {0x401010, 0x401050, 0x7f0000001234ull}, ips2[] = {0x401044, 0x401010};
	struct sf_process *p, *c;
	uint32_t tr, tr2;
	int err = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_seed DIR\n");
		return 2;
	}
	/* 1: heap only. */
	reset();
	p = process(0, 100, -1);
	module(p, "/nonexistent/app", 0, 0x400000, 0x402000);
	module(p, "/nonexistent/libc.so.6", 0x7f0000000000ull, 0x7f0000000000ull, 0x7f0000100000ull);
	tr = trace(ips, 3);
	heap(p, 100, tr);
	err |= write_seed(argv[1], 1);
	/* 2: heap, CPU, crash, dumps. */
	tr2 = trace(ips2, 2);
	cpu(p, tr, tr2);
	err |= write_seed(argv[1], 2);
	/* 3: function timing too. */
	func(p);
	err |= write_seed(argv[1], 3);
	/* 4: and a forked child sharing the traces, with its parent's modules. */
	c = process(1, 101, 0);
	heap(c, 101, tr2);
	c->flags |= SF_PF_BAD_SAMPLE_RATE;
	err |= write_seed(argv[1], 4);
	return err;
}
