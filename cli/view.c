/* Shared by the exporters: see view.h. */
#include "view.h"

#include <inttypes.h>
#include <string.h>

static const char *const metric_names[] = {
	[VM_AUTO] = "auto",
	[VM_CPU] = "cpu",
	[VM_ALLOC_SPACE] = "alloc_space",
	[VM_ALLOC_OBJECTS] = "alloc_objects",
	[VM_INUSE_SPACE] = "inuse_space",
	[VM_INUSE_OBJECTS] = "inuse_objects",
	[VM_FUNC_NS] = "func_ns",
	[VM_FUNC_CALLS] = "func_calls",
};

#define NMETRICS (sizeof(metric_names) / sizeof(metric_names[0]))

int view_metric_parse(const char *s, enum view_metric *out)
{
	for (size_t i = 0; i < NMETRICS; i++)
		if (!strcmp(s, metric_names[i])) {
			*out = (enum view_metric)i;
			return 0;
		}
	return -1;
}

const char *view_metric_names(void)
{
	return "cpu, alloc_space, alloc_objects, inuse_space, inuse_objects, func_ns, func_calls";
}

const char *view_metric_name(enum view_metric m)
{
	return (size_t)m < NMETRICS ? metric_names[m] : "?";
}

enum view_metric view_metric_resolve(const struct report *r, enum view_metric m)
{
	int func = 0;

	if (m != VM_AUTO)
		return m;
	for (size_t i = 0; i < r->nprocs; i++) {
		if (r->procs[i].cpu.nstacks)
			return VM_CPU;
		func |= r->procs[i].func && r->procs[i].func->nnodes > 1;
	}
	return func ? VM_FUNC_NS : VM_ALLOC_SPACE;
}

const char *view_frame_name(const struct rframe *f, char *buf, size_t len)
{
	const char *base;

	if (f->function)
		return f->function;
	if (f->module) {
		base = strrchr(f->module, '/');
		snprintf(buf, len, "%s+0x%" PRIx64, base ? base + 1 : f->module, f->offset);
	} else {
		snprintf(buf, len, "0x%" PRIx64, f->address);
	}
	return buf;
}

const char *view_func_name(const struct rfuncs *F, size_t i, char *buf, size_t len)
{
	const struct rfunc *fn;
	const char *base;

	if (i >= F->nfuncs)
		return "[hidden]";
	fn = &F->funcs[i];
	if (fn->name)
		return fn->name;
	base = fn->module ? strrchr(fn->module, '/') : NULL;
	snprintf(buf, len, "%s+0x%" PRIx64, base ? base + 1 : fn->module ? fn->module : "?", fn->offset);
	return buf;
}

const char *view_proc_label_opt(const struct rprocess *p, int no_pid, char *buf, size_t len)
{
	const char *exe = p->argv && p->argv[0] ? p->argv[0] : p->exe ? p->exe : "?", *base = strrchr(exe, '/');

	if (no_pid)
		snprintf(buf, len, "%s", base ? base + 1 : exe);
	else
		snprintf(buf, len, "%s [pid %d]", base ? base + 1 : exe, p->pid);
	return buf;
}

const char *view_proc_label(const struct rprocess *p, char *buf, size_t len)
{
	return view_proc_label_opt(p, 0, buf, len);
}
