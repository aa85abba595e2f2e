/* Unit tests of the suppression patterns (cli/suppress.c). */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "suppress.h"

Test(suppress, patterns_match_as_leaksanitizer_s)
{
	static const struct {
		const char *pattern, *name;
		int want;
	} cases[] = {
		{"other_leak", "other_leak", 1},       {"other", "my_other_leak", 1}, {"^other", "my_other", 0},
		{"^other", "other_x", 1},              {"leak$", "other_leak", 1},    {"leak$", "leak_x", 0},
		{"^a*c$", "abc", 1},                   {"^a*c$", "abd", 0},           {"libfoo*.so", "/usr/lib/libfoo-2.so", 1},
		{"*", "anything", 1},                  {"^exact$", "exact", 1},       {"^exact$", "exactly", 0},
		{"std::map*operator[]", "std::map<int, int>::operator[](int const&)", 1},
		{"x", NULL, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_assert(eq(int, suppr_pattern_match(cases[i].pattern, cases[i].name), cases[i].want), "%s against %s",
			  cases[i].pattern, cases[i].name ? cases[i].name : "(null)");
}
