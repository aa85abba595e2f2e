/*
 * names: demangled names as c++filt prints them (the strings below are
 * its output for real g++ symbols), split into return type, qualified
 * name, parameters and suffixes; globs on the name without the return
 * type; constructor and destructor variants of real mangled names.
 */
#include "names.h"

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>
#include <string.h>

struct split_case {
	const char *in;
	const char *sig;  /* [name, end) */
	const char *bare; /* [name, params) */
};

static const struct split_case cases[] = {
    {"main", "main", "main"},
    {"geo::scale(int)", "geo::scale(int)", "geo::scale"},
    {"double geo::sum_areas<double>(geo::Shape* const*, int)", "geo::sum_areas<double>(geo::Shape* const*, int)",
     "geo::sum_areas<double>"},
    {"geo::Shape*&& std::forward<geo::Shape*>(std::remove_reference<geo::Shape*>::type&)",
     "std::forward<geo::Shape*>(std::remove_reference<geo::Shape*>::type&)", "std::forward<geo::Shape*>"},
    {"main::{lambda(int, int)#1}::operator()(int, int) const", "main::{lambda(int, int)#1}::operator()(int, int) const",
     "main::{lambda(int, int)#1}::operator()"},
    {"(anonymous namespace)::anon(int)", "(anonymous namespace)::anon(int)", "(anonymous namespace)::anon"},
    {"int (*geo::choose<double>(double))(int)", "geo::choose<double>(double)", "geo::choose<double>"},
    {"bool geo::operator< <int>(geo::Box<int> const&, geo::Box<int> const&)",
     "geo::operator< <int>(geo::Box<int> const&, geo::Box<int> const&)", "geo::operator< <int>"},
    {"geo::Box<int>::operator<(geo::Box<int> const&) const", "geo::Box<int>::operator<(geo::Box<int> const&) const",
     "geo::Box<int>::operator<"},
    {"geo::Box<int>::operator>>(int)", "geo::Box<int>::operator>>(int)", "geo::Box<int>::operator>>"},
    {"geo::It::operator->() const", "geo::It::operator->() const", "geo::It::operator->"},
    {"geo::Box<int>::operator int() const", "geo::Box<int>::operator int() const", "geo::Box<int>::operator int"},
    {"operator new(unsigned long)", "operator new(unsigned long)", "operator new"},
    {"std::vector<int, std::allocator<int> > const& geo::ref<int>(int)", "geo::ref<int>(int)", "geo::ref<int>"},
    {"geo::foo(int) [clone .isra.0]", "geo::foo(int)", "geo::foo"},
    {"geo::Circle::~Circle() [deleting]", "geo::Circle::~Circle()", "geo::Circle::~Circle"},
    {"__static_initialization_and_destruction_0(int, int)", "__static_initialization_and_destruction_0(int, int)",
     "__static_initialization_and_destruction_0"},
    {"void geo::apply<void (*)(int)>(void (*)(int))", "geo::apply<void (*)(int)>(void (*)(int))",
     "geo::apply<void (*)(int)>"},
    {"std::function<int (int)> geo::wrap<int>(int)", "geo::wrap<int>(int)", "geo::wrap<int>"},
    {"geo::Str geo::name[abi:cxx11]<int>()", "geo::name[abi:cxx11]<int>()", "geo::name[abi:cxx11]<int>"},
    {"geo::Fn<int>::operator()<double>(double) &&", "geo::Fn<int>::operator()<double>(double) &&",
     "geo::Fn<int>::operator()<double>"},
};

Test(names, split_drops_return_type_and_finds_parameters)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct split_case *c = &cases[i];
		struct names_parts np;
		char *sig, *bare;

		names_split(c->in, &np);
		sig = strndup(c->in + np.name, np.end - np.name);
		bare = strndup(c->in + np.name, np.params - np.name);
		cr_assert(eq(str, sig, (char *)c->sig), "name with parameters of \"%s\"", c->in);
		cr_assert(eq(str, bare, (char *)c->bare), "name without parameters of \"%s\"", c->in);
		free(sig);
		free(bare);
	}
}

Test(names, malformed_names_stay_in_bounds)
{
	static const char *const odd[] = {"", ")", "(", "f(", "f)", "a b)", " [x]", "]", "x [", "(*)(", "operator",
					  "int (*)(int)", "f() const const"};
	struct names_parts np;

	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		size_t n = strlen(odd[i]);

		names_split(odd[i], &np);
		cr_assert(le(sz, np.name, np.params), "\"%s\": name <= params", odd[i]);
		cr_assert(le(sz, np.params, np.end), "\"%s\": params <= end", odd[i]);
		cr_assert(le(sz, np.end, n), "\"%s\": end within the string", odd[i]);
	}
}

Test(names, globs_match_the_name_without_return_type)
{
	const char *fwd = "geo::Shape*&& std::forward<geo::Shape*>(std::remove_reference<geo::Shape*>::type&)";
	const char *sum = "double geo::sum_areas<double>(geo::Shape* const*, int)";

	cr_assert(not(names_glob_match("geo::*", fwd)), "std::forward is not a geo function");
	cr_assert(names_glob_match("geo::*", sum), "a geo template instance");
	cr_assert(names_glob_match("std::*", fwd), "std::forward is std's");
	cr_assert(names_glob_match("foo", "foo(int)"), "a name without its parameters");
	cr_assert(names_glob_match("foo(int)", "foo(int)"), "a name with its parameters");
	cr_assert(not(names_glob_match("foo", "foobar(int)")), "whole names only");
	cr_assert(names_glob_match("geo::sum_areas<*>", sum), "template arguments, no parameters");
	cr_assert(names_glob_match("*::~Circle()", "geo::Circle::~Circle() [deleting]"), "suffix left out");
	cr_assert(names_glob_match("*\\[deleting\\]", "geo::Circle::~Circle() [deleting]"), "suffix kept");
	cr_assert(names_glob_match("x,main", "main"), "C names as they are");
	cr_assert(not(names_glob_match("double*", sum)), "the return type is not part of the name");
	cr_assert(not(names_glob_match(NULL, "main")), "no globs");
	cr_assert(not(names_glob_match("*", NULL)), "no name");
}

struct variant_case {
	const char *mangled;
	enum names_variant v;
	const char *canon;
};

static const struct variant_case variants[] = {
    {"_ZN3geo3MidC1Ev", NAMES_STRUCTOR, "_ZN3geo3MidC1Ev"},
    {"_ZN3geo3MidC2Ev", NAMES_STRUCTOR, "_ZN3geo3MidC1Ev"},
    {"_ZN3geo3MidC4Ev", NAMES_STRUCTOR, "_ZN3geo3MidC1Ev"},
    {"_ZN3geo3MidD2Ev", NAMES_STRUCTOR, "_ZN3geo3MidD1Ev"},
    {"_ZN3geo6CircleD0Ev", NAMES_DELETING, "_ZN3geo6CircleD0Ev"},
    {"_ZN3geo6CircleC2Ed", NAMES_STRUCTOR, "_ZN3geo6CircleC1Ed"},
    /* A template constructor: template arguments follow the variant. */
    {"_ZN3geo3BoxIiEC2IdEET_", NAMES_STRUCTOR, "_ZN3geo3BoxIiEC1IdEET_"},
    /* "C2" inside identifiers and lengths: not a variant. */
    {"_ZN2C24C2abEv", NAMES_PLAIN, "_ZN2C24C2abEv"},
    {"_ZN1C2abEv", NAMES_PLAIN, "_ZN1C2abEv"},
    {"_Z41__static_initialization_and_destruction_0ii", NAMES_PLAIN,
     "_Z41__static_initialization_and_destruction_0ii"},
    {"main", NAMES_PLAIN, "main"},
};

Test(names, constructor_and_destructor_variants_fold_onto_one_name)
{
	char canon[256];

	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		const struct variant_case *c = &variants[i];

		cr_assert(eq(int, (int)names_variant(c->mangled, canon, sizeof(canon)), (int)c->v), "variant of %s",
			  c->mangled);
		cr_assert(eq(str, canon, (char *)c->canon), "canonical name of %s", c->mangled);
	}
	cr_assert(eq(int, (int)names_variant("_ZN3geo3MidC2Ev", canon, 4), NAMES_PLAIN), "too long for canon");
	cr_assert(eq(str, canon, ""), "empty canon when it does not fit");
}
