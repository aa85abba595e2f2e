/* The agent's own settings parsers: strict, and lenient in effect (a bad
 * value warns and falls back to the default). */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <stdio.h>

#include "session_format.h"
#include "settings.h"

Test(settings, rate_accepts_decimals_and_exponents)
{
	double r = 0;

	cr_assert(eq(int, settings_parse_rate("0.25", &r), 0), "0.25 is a valid rate");
	cr_assert(epsilon_eq(dbl, r, 0.25, 1e-12), "0.25 parses to 0.25");
	cr_assert(eq(int, settings_parse_rate("1e-2", &r), 0), "1e-2 is a valid rate");
	cr_assert(epsilon_eq(dbl, r, 0.01, 1e-12), "1e-2 parses to 0.01");
	cr_assert(eq(int, settings_parse_rate("1", &r), 0), "1 is a valid rate");
	cr_assert(epsilon_eq(dbl, r, 1.0, 1e-12), "1 parses to 1");
	cr_assert(eq(int, settings_parse_rate(".5", &r), 0), ".5 is a valid rate");
	cr_assert(epsilon_eq(dbl, r, 0.5, 1e-12), ".5 parses to 0.5");
}

Test(settings, rate_rejects_garbage_zero_and_above_one)
{
	static const char *const bad[] = {"abc", "", "0", "2", "1.5", "-0.5", "0.5x", "nan", "inf", "1e", ".", "e5"};
	double r = 7;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert(eq(int, settings_parse_rate(bad[i], &r), -EINVAL), "rate '%s' must be rejected", bad[i]);
	cr_assert(epsilon_eq(dbl, r, 7.0, 0), "a rejected value leaves the output alone");
}

Test(settings, uint_enforces_range_and_digits)
{
	unsigned v = 0;

	cr_assert(eq(int, settings_parse_uint("64", 1, 256, &v), 0), "64 in 1..256");
	cr_assert(eq(u32, v, 64), "64 parses to 64");
	cr_assert(eq(int, settings_parse_uint("256", 1, 256, &v), 0), "upper bound included");
	cr_assert(eq(int, settings_parse_uint("257", 1, 256, &v), -EINVAL), "above range");
	cr_assert(eq(int, settings_parse_uint("0", 1, 256, &v), -EINVAL), "below range");
	cr_assert(eq(int, settings_parse_uint("-1", 1, 256, &v), -EINVAL), "negative");
	cr_assert(eq(int, settings_parse_uint("12a", 1, 256, &v), -EINVAL), "trailing garbage");
	cr_assert(eq(int, settings_parse_uint("99999999999999999999", 1, 256, &v), -EINVAL), "overflow");
}

Test(settings, load_uses_defaults_and_flags_bad_values)
{
	char *env[] = {"PTRACE_SAMPLE_RATE=abc", "PTRACE_MAX_DEPTH=-1", "PTRACE_TRACK_MEMORY=0",
		       "PTRACE_SESSION=/proc/1/fd/3", "OTHER=1", NULL};
	struct settings s;

	settings_load(&s, env);
	cr_assert(epsilon_eq(dbl, s.sample_rate, 1.0, 0), "bad rate falls back to 1");
	cr_assert(eq(u32, s.max_depth, SF_DEFAULT_DEPTH), "bad depth falls back to the default");
	cr_assert(eq(int, s.track_memory, 0), "a valid value is used");
	cr_assert(eq(u32, s.bad, SF_PF_BAD_SAMPLE_RATE | SF_PF_BAD_MAX_DEPTH), "both bad values flagged");
	cr_assert(eq(str, (char *)s.session, "/proc/1/fd/3"), "session path read");
}

Test(settings, load_without_variables_gives_defaults)
{
	char *env[] = {"PATH=/bin", NULL};
	struct settings s;

	settings_load(&s, env);
	cr_assert(eq(int, s.track_memory, 1), "memory tracking on by default");
	cr_assert(epsilon_eq(dbl, s.sample_rate, 1.0, 0), "every allocation by default");
	cr_assert(eq(u32, s.max_depth, SF_DEFAULT_DEPTH), "default depth");
	cr_assert(eq(u32, s.bad, 0), "nothing flagged");
	cr_assert(eq(ptr, (void *)s.session, NULL), "no session");
}

Test(settings, bytes_take_binary_units)
{
	uint64_t v = 7;

	cr_assert(eq(int, settings_parse_bytes("524288", &v), 0));
	cr_assert(eq(u64, v, 524288));
	cr_assert(eq(int, settings_parse_bytes("512K", &v), 0));
	cr_assert(eq(u64, v, 524288));
	cr_assert(eq(int, settings_parse_bytes("2G", &v), 0));
	cr_assert(eq(u64, v, 2ull << 30));
	cr_assert(eq(int, settings_parse_bytes("1T", &v), 0));
	cr_assert(eq(u64, v, 1ull << 40));
	cr_assert(eq(int, settings_parse_bytes("2T", &v), -EINVAL), "above 1 TiB");
	cr_assert(eq(int, settings_parse_bytes("", &v), -EINVAL));
	cr_assert(eq(int, settings_parse_bytes("12Q", &v), -EINVAL));
	cr_assert(eq(int, settings_parse_bytes("-1", &v), -EINVAL));
	cr_assert(eq(u64, v, 1ull << 40), "unchanged on failure");
}

/* The variables that name one of a few values (the default first): each
 * case's variable set, the other two at their defaults; a bad or empty
 * value is the default, with a warning. */
Test(settings, choices_name_their_settings)
{
	static const struct {
		const char *env;
		int leak_check, unwind, cpu_timer;
	} cases[] = {
		{ "PATH=/bin", 1, SET_UNWIND_CFI, SET_CPU_TIMER_TICK },
		{ "PTRACE_LEAK_CHECK=full", 1, SET_UNWIND_CFI, SET_CPU_TIMER_TICK },
		{ "PTRACE_LEAK_CHECK=off", 0, SET_UNWIND_CFI, SET_CPU_TIMER_TICK },
		{ "PTRACE_LEAK_CHECK=no", 1, SET_UNWIND_CFI, SET_CPU_TIMER_TICK },
		{ "PTRACE_UNWIND=cfi", 1, SET_UNWIND_CFI, SET_CPU_TIMER_TICK },
		{ "PTRACE_UNWIND=libunwind", 1, SET_UNWIND_LIBUNWIND, SET_CPU_TIMER_TICK },
		{ "PTRACE_UNWIND=check", 1, SET_UNWIND_CHECK, SET_CPU_TIMER_TICK },
		{ "PTRACE_UNWIND=LIBUNWIND", 1, SET_UNWIND_CFI, SET_CPU_TIMER_TICK },
		{ "PTRACE_UNWIND=", 1, SET_UNWIND_CFI, SET_CPU_TIMER_TICK },
		{ "PTRACE_CPU_TIMER=tick", 1, SET_UNWIND_CFI, SET_CPU_TIMER_TICK },
		{ "PTRACE_CPU_TIMER=exact", 1, SET_UNWIND_CFI, SET_CPU_TIMER_EXACT },
		{ "PTRACE_CPU_TIMER=perf", 1, SET_UNWIND_CFI, SET_CPU_TIMER_TICK },
		{ "PTRACE_CPU_TIMER=", 1, SET_UNWIND_CFI, SET_CPU_TIMER_TICK },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *env[] = { (char *)cases[i].env, NULL };
		struct settings s;

		settings_load(&s, env);
		cr_assert(eq(int, s.leak_check, cases[i].leak_check), "%s: leak_check", cases[i].env);
		cr_assert(eq(int, s.unwind, cases[i].unwind), "%s: unwind", cases[i].env);
		cr_assert(eq(int, s.cpu_timer, cases[i].cpu_timer), "%s: cpu_timer", cases[i].env);
	}
}
