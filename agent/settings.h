/*
 * Settings the agent reads from its environment. The launcher validates
 * them and refuses bad values; when the agent is preloaded by hand, a bad
 * value gets one warning and the default, never harm to the program.
 */
#ifndef PTRACE_SETTINGS_H
#define PTRACE_SETTINGS_H

#include <errno.h>
#include <stdint.h>
#include <string.h>

struct settings {
	const char *session;  /* PTRACE_SESSION: path of the session image */
	int track_memory;     /* PTRACE_TRACK_MEMORY, default 1 */
	double sample_rate;   /* PTRACE_SAMPLE_RATE in (0,1], default 1 */
	uint64_t sample_bytes; /* PTRACE_SAMPLE_BYTES: mean bytes between sampled
	                          allocations; 0: off (default). Wins over sample_rate */
	unsigned max_depth;   /* PTRACE_MAX_DEPTH in 1..SF_DEPTH_LIMIT */
	uint32_t bad;         /* SF_PF_BAD_* for each value rejected */
	unsigned cpu_hz;      /* PTRACE_CPU_HZ in 0..SF_MAX_CPU_HZ, default SF_DEFAULT_CPU_HZ; 0: off */
	int dump_signal;      /* PTRACE_DUMP_SIGNAL as a number; 0: none (default) */
	uint32_t cpu_bad;     /* SF_CPU_BAD_* for each of those two rejected */
	int leak_check;       /* PTRACE_LEAK_CHECK: full (1, default) or off (0) */
	int unwind;           /* PTRACE_UNWIND: enum settings_unwind */
	int cpu_timer;        /* PTRACE_CPU_TIMER: enum settings_cpu_timer */
};

/* What raises a thread's CPU samples (agent/cpu.c). */
enum settings_cpu_timer {
	SET_CPU_TIMER_TICK = 0, /* "tick" (default): a POSIX CPU timer, checked at the kernel's tick */
	SET_CPU_TIMER_EXACT,    /* "exact": a perf event, a signal every period */
};

/* Who walks the hooks' stacks (agent/cfi.h). */
enum settings_unwind {
	SET_UNWIND_CFI = 0,   /* "cfi" (default): our walker, libunwind where it can't */
	SET_UNWIND_LIBUNWIND, /* "libunwind": libunwind alone */
	SET_UNWIND_CHECK,     /* "check": both, libunwind's kept, differences counted */
};

/* Secure execution (AT_SECURE): the agent must stay off and read no
 * variable. 1 or 0. */
int settings_secure(void);

/* Fill s from envp (NULL-terminated); never fails, bad values -> defaults.
 * Under secure execution: no session, nothing read, nothing printed. */
void settings_load(struct settings *s, char *const *envp);

/* Strict parsers; 0 on success, -EINVAL otherwise. */
int settings_parse_rate(const char *v, double *out);
int settings_parse_uint(const char *v, unsigned lo, unsigned hi, unsigned *out);
int settings_parse_bool(const char *v, int *out);
/* A size: digits, then nothing or K, M, G, T (powers of 1024); at most 1 TiB.
 * 0 or -EINVAL. Inline: the launcher checks --sample-bytes with it too. */
static inline int settings_parse_bytes(const char *v, uint64_t *out)
{
	static const char units[] = "KMGT";
	uint64_t n = 0, mul = 1;
	const char *p = v;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (uint64_t)(*p - '0');
		if (n > (1ull << 40))
			return -EINVAL;
	}
	if (*p) {
		const char *u = strchr(units, *p == 'k' ? 'K' : *p);

		if (!u || p[1])
			return -EINVAL;
		mul = 1ull << (10 * (u - units + 1));
	}
	if (n > (1ull << 40) / mul)
		return -EINVAL;
	*out = n * mul;
	return 0;
}

/* A dump signal: QUIT, USR1, USR2 (optionally with SIG), RTMIN+N, RTMAX-N,
 * or their numbers (3, 10, 12, 34..64); "0" is none. 0 or -EINVAL. */
int settings_parse_signal(const char *v, int *out);

#endif
