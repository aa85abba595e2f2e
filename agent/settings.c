#include "settings.h"

#include <errno.h>
#include <string.h>
#include <sys/auxv.h>

#include "log.h"
#include "session_format.h"

/*
 * Hand-written parsers: strtod may allocate on long inputs and this runs
 * inside the first malloc call of the process.
 */
#define NI __attribute__((no_instrument_function))

NI int settings_parse_uint(const char *v, unsigned lo, unsigned hi, unsigned *out)
{
	uint64_t x = 0;

	if (!v || !*v)
		return -EINVAL;
	for (; *v; v++) {
		if (*v < '0' || *v > '9')
			return -EINVAL;
		x = x * 10 + (uint64_t)(*v - '0');
		if (x > hi)
			return -EINVAL;
	}
	if (x < lo)
		return -EINVAL;
	*out = (unsigned)x;
	return 0;
}

/* Decimal number with optional fraction and exponent, no sign, no inf/nan. */
NI int settings_parse_rate(const char *v, double *out)
{
	double x = 0, scale = 1;
	int digits = 0, exp = 0, eneg = 0;

	if (!v || !*v)
		return -EINVAL;
	for (; *v >= '0' && *v <= '9'; v++, digits++)
		x = x * 10 + (*v - '0');
	if (*v == '.') {
		for (v++; *v >= '0' && *v <= '9'; v++, digits++) {
			scale /= 10;
			x += (*v - '0') * scale;
		}
	}
	if (!digits)
		return -EINVAL;
	if (*v == 'e' || *v == 'E') {
		int ed = 0;
		v++;
		if (*v == '-' || *v == '+')
			eneg = *v++ == '-';
		for (; *v >= '0' && *v <= '9' && exp < 400; v++, ed++)
			exp = exp * 10 + (*v - '0');
		if (!ed)
			return -EINVAL;
	}
	if (*v)
		return -EINVAL;
	while (exp-- > 0)
		x = eneg ? x / 10 : x * 10;
	if (!(x > 0.0) || x > 1.0)
		return -EINVAL;
	*out = x;
	return 0;
}

NI int settings_parse_bool(const char *v, int *out)
{
	static const char *const yes[] = {"1", "yes", "on", "true"};
	static const char *const no[] = {"0", "no", "off", "false"};

	if (!v)
		return -EINVAL;
	for (unsigned i = 0; i < 4; i++) {
		if (!strcmp(v, yes[i])) {
			*out = 1;
			return 0;
		}
		if (!strcmp(v, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return -EINVAL;
}

/* Signals a user may pick for stack dumps: never one the program needs to
 * die or stop by, nor SIGPROF (the sampler's). */
NI int settings_parse_signal(const char *v, int *out)
{
	static const struct {
		const char *name;
		int sig;
	} named[] = {{"QUIT", 3}, {"USR1", 10}, {"USR2", 12}};
	unsigned n;

	if (!v || !*v)
		return -EINVAL;
	if (!strcmp(v, "0")) {
		*out = 0;
		return 0;
	}
	if (!strncmp(v, "SIG", 3))
		v += 3;
	for (unsigned i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (!strcmp(v, named[i].name)) {
			*out = named[i].sig;
			return 0;
		}
	if (!strncmp(v, "RTMIN+", 6) && !settings_parse_uint(v + 6, 0, 30, &n)) {
		*out = 34 + (int)n;
		return 0;
	}
	if (!strncmp(v, "RTMAX-", 6) && !settings_parse_uint(v + 6, 0, 30, &n)) {
		*out = 64 - (int)n;
		return 0;
	}
	if (settings_parse_uint(v, 1, 64, &n) || !(n == 3 || n == 10 || n == 12 || n >= 34))
		return -EINVAL;
	*out = (int)n;
	return 0;
}

#ifdef PR_UNIT_TEST
int settings_test_secure = -1; /* >= 0: what AT_SECURE says, for the tests */
#endif

NI int settings_secure(void)
{
#ifdef PR_UNIT_TEST
	if (settings_test_secure >= 0)
		return settings_test_secure;
#endif
	/* Set by the kernel for set-user-ID, set-group-ID and file-capability
	 * executions (and by LSMs): the environment came from someone with
	 * fewer privileges than this process has. */
	return getauxval(AT_SECURE) != 0;
}

NI static const char *env_find(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp && *envp; envp++)
		if (!strncmp(*envp, name, n) && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

/* Which of names (NULL-terminated, the default first) the variable name
 * has in envp: its index; 0 when it is unset or empty, and when it is
 * none of them, with a warning (NAME=VALUE and expect). */
NI static int env_choice(char *const *envp, const char *name, const char *const *names, const char *expect)
{
	const char *v = env_find(envp, name);
	size_t n = strlen(name);
	char key[32];

	if (!v || !*v)
		return 0;
	for (int i = 0; names[i]; i++)
		if (!strcmp(v, names[i]))
			return i;
	if (n + 2 <= sizeof(key)) { /* NAME= (no stdio in the agent) */
		memcpy(key, name, n);
		key[n] = '=';
		key[n + 1] = '\0';
		log_warn(key, v, expect);
	}
	return 0;
}

/* In the order of their settings' values. */
static const char *const leak_names[] = {"full", "off", NULL};
static const char *const unwind_names[] = {"cfi", "libunwind", "check", NULL};
static const char *const cpu_timer_names[] = {"tick", "exact", NULL};

NI void settings_load(struct settings *s, char *const *envp)
{
	const char *v;

	if (settings_secure()) {
		/* Read nothing, say nothing: see settings_secure. */
		memset(s, 0, sizeof(*s));
		s->sample_rate = 1.0;
		s->max_depth = SF_DEFAULT_DEPTH;
		return;
	}
	s->leak_check = !env_choice(envp, "PTRACE_LEAK_CHECK", leak_names, ": expected full or off; using full");
	s->unwind = env_choice(envp, "PTRACE_UNWIND", unwind_names, ": expected cfi, libunwind or check; using cfi");
	s->cpu_timer = env_choice(envp, "PTRACE_CPU_TIMER", cpu_timer_names, ": expected tick or exact; using tick");
	s->session = env_find(envp, "PTRACE_SESSION");
	s->track_memory = 1;
	s->sample_rate = 1.0;
	s->max_depth = SF_DEFAULT_DEPTH;
	s->bad = 0;

	v = env_find(envp, "PTRACE_TRACK_MEMORY");
	if (v && *v && settings_parse_bool(v, &s->track_memory)) {
		s->track_memory = 1;
		s->bad |= SF_PF_BAD_TRACK_MEMORY;
		log_warn("PTRACE_TRACK_MEMORY=", v, ": expected 0 or 1; using 1");
	}
	v = env_find(envp, "PTRACE_SAMPLE_RATE");
	if (v && *v && settings_parse_rate(v, &s->sample_rate)) {
		s->sample_rate = 1.0;
		s->bad |= SF_PF_BAD_SAMPLE_RATE;
		log_warn("PTRACE_SAMPLE_RATE=", v, ": expected a number in (0,1]; using 1");
	}
	s->sample_bytes = 0;
	v = env_find(envp, "PTRACE_SAMPLE_BYTES");
	if (v && *v && settings_parse_bytes(v, &s->sample_bytes)) {
		s->sample_bytes = 0;
		log_warn("PTRACE_SAMPLE_BYTES=", v, ": expected a size such as 524288 or 512K; using 0 (off)");
	}
	if (s->sample_bytes)
		s->sample_rate = 1.0; /* one way of sampling: by bytes */
	v = env_find(envp, "PTRACE_MAX_DEPTH");
	if (v && *v && settings_parse_uint(v, 1, SF_DEPTH_LIMIT, &s->max_depth)) {
		s->max_depth = SF_DEFAULT_DEPTH;
		s->bad |= SF_PF_BAD_MAX_DEPTH;
		log_warn("PTRACE_MAX_DEPTH=", v, ": expected an integer from 1 to 256; using 64");
	}
	s->cpu_hz = SF_DEFAULT_CPU_HZ;
	s->dump_signal = 0;
	s->cpu_bad = 0;
	v = env_find(envp, "PTRACE_CPU_HZ");
	if (v && *v && settings_parse_uint(v, 0, SF_MAX_CPU_HZ, &s->cpu_hz)) {
		s->cpu_hz = SF_DEFAULT_CPU_HZ;
		s->cpu_bad |= SF_CPU_BAD_HZ;
		log_warn("PTRACE_CPU_HZ=", v, ": expected an integer from 0 to 10000; using 1000");
	}
	v = env_find(envp, "PTRACE_DUMP_SIGNAL");
	if (v && *v && settings_parse_signal(v, &s->dump_signal)) {
		s->dump_signal = 0;
		s->cpu_bad |= SF_CPU_BAD_DUMP;
		log_warn("PTRACE_DUMP_SIGNAL=", v, ": expected QUIT, USR1, USR2, RTMIN+N or 34..64; no dumps");
	}
}
