/*
 * cxxshort: demangled names as c++filt prints them (the inputs below are
 * its output for real g++ 12 symbols, or built the way it builds them)
 * and the short text the report shows for each; the collision rule of a
 * report's names.
 */
#include "cxxshort.h"

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STR "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >"
#define WSTR "std::__cxx11::basic_string<wchar_t, std::char_traits<wchar_t>, std::allocator<wchar_t> >"
#define OSTREAM "std::basic_ostream<char, std::char_traits<char> >"
#define VINT "std::vector<int, std::allocator<int> >"

struct short_case {
	const char *in;
	const char *out;
};

static const struct short_case cases[] = {
    /* The typedefs of std::basic_string and the streams. */
    {STR, "std::string"},
    {WSTR, "std::wstring"},
    {"std::__cxx11::basic_string<char16_t, std::char_traits<char16_t>, std::allocator<char16_t> >", "std::u16string"},
    {"std::__cxx11::basic_string<char32_t, std::char_traits<char32_t>, std::allocator<char32_t> >", "std::u32string"},
    {"std::basic_string_view<char, std::char_traits<char> >", "std::string_view"},
    {"f(" STR " const&)", "f(std::string const&)"},
    {"std::__cxx11::basic_string<char, geo::ci_traits, std::allocator<char> >::size() const",
     "std::basic_string<char, geo::ci_traits>::size() const"},
    {OSTREAM "::operator<<(int)", "std::ostream::operator<<(int)"},
    {OSTREAM "& std::operator<< <std::char_traits<char> >(" OSTREAM "&, char const*)",
     "std::ostream& std::operator<< <std::char_traits<char>>(std::ostream&, char const*)"},
    {"std::basic_ostream<wchar_t, std::char_traits<wchar_t> >::flush()", "std::wostream::flush()"},
    {"std::basic_istream<char, std::char_traits<char> >::get()", "std::istream::get()"},
    {"std::basic_iostream<char, std::char_traits<char> >::~basic_iostream()", "std::iostream::~basic_iostream()"},
    {"std::__cxx11::basic_ostringstream<char, std::char_traits<char>, std::allocator<char> >::str() const",
     "std::ostringstream::str() const"},
    {"std::__cxx11::basic_stringstream<char, std::char_traits<char>, std::allocator<char> >::basic_stringstream()",
     "std::stringstream::basic_stringstream()"},
    /* Containers: trailing default arguments dropped, ">>". */
    {VINT "::push_back(int const&)", "std::vector<int>::push_back(int const&)"},
    {"std::vector<" STR ", std::allocator<" STR " > >::push_back(" STR " const&)",
     "std::vector<std::string>::push_back(std::string const&)"},
    {"std::map<int, " STR ", std::less<int>, std::allocator<std::pair<int const, " STR " > > >::operator[](int const&)",
     "std::map<int, std::string>::operator[](int const&)"},
    {"std::map<" STR ", int, std::less<" STR " >, std::allocator<std::pair<" STR " const, int> > >::find(" STR
     " const&)",
     "std::map<std::string, int>::find(std::string const&)"},
    {"std::multimap<char*, int, std::less<char*>, std::allocator<std::pair<char* const, int> > >::clear()",
     "std::multimap<char*, int>::clear()"},
    {"std::set<int, std::less<int>, std::allocator<int> >::insert(int&&)", "std::set<int>::insert(int&&)"},
    {"std::multiset<" WSTR ", std::less<" WSTR " >, std::allocator<" WSTR " > >::size() const",
     "std::multiset<std::wstring>::size() const"},
    {"std::unordered_map<" STR ", " VINT ", std::hash<" STR " >, std::equal_to<" STR " >, std::allocator<std::pair<" STR
     " const, " VINT " > > >::operator[](" STR "&&)",
     "std::unordered_map<std::string, std::vector<int>>::operator[](std::string&&)"},
    {"std::unordered_set<long, std::hash<long>, std::equal_to<long>, std::allocator<long> >::unordered_set()",
     "std::unordered_set<long>::unordered_set()"},
    {"std::__cxx11::list<double, std::allocator<double> >::sort()", "std::list<double>::sort()"},
    {"std::deque<int, std::allocator<int> >::pop_front()", "std::deque<int>::pop_front()"},
    {"std::queue<int, std::deque<int, std::allocator<int> > >::push(int&&)", "std::queue<int>::push(int&&)"},
    {"std::priority_queue<int, " VINT ", std::less<int> >::push(int&&)", "std::priority_queue<int>::push(int&&)"},
    {"std::unique_ptr<" STR ", std::default_delete<" STR " > >::~unique_ptr()",
     "std::unique_ptr<std::string>::~unique_ptr()"},
    {"std::unique_ptr<int [], std::default_delete<int []> >::get_deleter()", "std::unique_ptr<int []>::get_deleter()"},
    {"std::vector<std::vector<" VINT ", std::allocator<" VINT " > >, std::allocator<std::vector<" VINT
     ", std::allocator<" VINT " > > > >::size() const",
     "std::vector<std::vector<std::vector<int>>>::size() const"},
    /* Arguments that are not the defaults stay, the defaults after them go. */
    {"std::map<int, int, geo::Cmp, std::allocator<std::pair<int const, int> > >::size() const",
     "std::map<int, int, geo::Cmp>::size() const"},
    {"std::vector<int, geo::Alloc<int> >::size() const", "std::vector<int, geo::Alloc<int>>::size() const"},
    {"std::set<int, std::greater<int>, std::allocator<int> >::begin()", "std::set<int, std::greater<int>>::begin()"},
    {"std::unique_ptr<FILE, int (*)(FILE*)>::~unique_ptr()", "std::unique_ptr<FILE, int (*)(FILE*)>::~unique_ptr()"},
    /* Not std's: a vector of another namespace keeps its arguments. */
    {"geo::vector<int, std::allocator<int> >::size()", "geo::vector<int, std::allocator<int>>::size()"},
    /* Operators whose symbols are brackets. */
    {"bool geo::operator< <int>(geo::Box<int> const&, geo::Box<int> const&)",
     "bool geo::operator< <int>(geo::Box<int> const&, geo::Box<int> const&)"},
    {"geo::Box<" VINT " >::operator<(geo::Box<" VINT " > const&) const",
     "geo::Box<std::vector<int>>::operator<(geo::Box<std::vector<int>> const&) const"},
    {"geo::Box<" VINT " >::operator>>(int)", "geo::Box<std::vector<int>>::operator>>(int)"},
    {"geo::Box<" VINT " >::operator>(int) const", "geo::Box<std::vector<int>>::operator>(int) const"},
    {"geo::It<" STR " >::operator->() const", "geo::It<std::string>::operator->() const"},
    {"geo::Fn<int>::operator()<" VINT " >(" VINT ") &&",
     "geo::Fn<int>::operator()<std::vector<int>>(std::vector<int>) &&"},
    {"__gnu_cxx::__normal_iterator<int*, " VINT " >::difference_type __gnu_cxx::operator-<int*, " VINT
     " >(__gnu_cxx::__normal_iterator<int*, " VINT " > const&)",
     "__gnu_cxx::__normal_iterator<int*, std::vector<int>>::difference_type __gnu_cxx::operator-<int*, "
     "std::vector<int>>(__gnu_cxx::__normal_iterator<int*, std::vector<int>> const&)"},
    {"geo::operator,(geo::A<" VINT " >, int)", "geo::operator,(geo::A<std::vector<int>>, int)"},
    {"geo::Box<int>::operator " STR "() const", "geo::Box<int>::operator std::string() const"},
    /* Lambdas, anonymous namespaces, function pointer and function types. */
    {"main::{lambda(" STR " const&)#1}::operator()(" STR " const&) const",
     "main::{lambda(std::string const&)#1}::operator()(std::string const&) const"},
    {"(anonymous namespace)::count(std::vector<" STR ", std::allocator<" STR " > > const&)",
     "(anonymous namespace)::count(std::vector<std::string> const&)"},
    {"void geo::apply<void (*)(" VINT "&)>(void (*)(" VINT "&))",
     "void geo::apply<void (*)(std::vector<int>&)>(void (*)(std::vector<int>&))"},
    {"call(std::function<void (" STR ")>)", "call(std::function<void (std::string)>)"},
    {"int (*geo::choose<" VINT " >(double))(int)", "int (*geo::choose<std::vector<int>>(double))(int)"},
    {"decltype (({parm#1}->size)()) sz<" VINT " >(" VINT "*)",
     "decltype (({parm#1}->size)()) sz<std::vector<int>>(std::vector<int>*)"},
    {"geo::name[abi:cxx11]<" VINT " >()", "geo::name[abi:cxx11]<std::vector<int>>()"},
    {"geo::Arr<((3)>(2)), " VINT " >::get()", "geo::Arr<((3)>(2)), std::vector<int>>::get()"},
    {"geo::f<>()", "geo::f<>()"},
    /* More arguments than any default list has. */
    {"std::tuple<int, int, int, int, int, int, int, int, int, " VINT " >::get()",
     "std::tuple<int, int, int, int, int, int, int, int, int, std::vector<int>>::get()"},
    /* Names with nothing to shorten, suffixes, malformed names. */
    {"main", "main"},
    {"geo::scale(int)", "geo::scale(int)"},
    {"std::vector<int>::size() const", "std::vector<int>::size() const"},
    {"geo::Circle::~Circle() [deleting]", "geo::Circle::~Circle() [deleting]"},
    {VINT "::push_back(int const&) [clone .cold]", "std::vector<int>::push_back(int const&) [clone .cold]"},
    {"std::vector<int", "std::vector<int"},
    {"f<int(>", "f<int(>"},
    {"f<int)>()", "f<int)>()"},
    {"a::std::__cxx11::b", "a::std::__cxx11::b"},
    {"", ""},
    {"<", "<"},
    {"operator", "operator"},
    {"operator<", "operator<"},
};

Test(cxxshort, names_shorten_to_what_the_source_says)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = cxxshort_name(cases[i].in);

		cr_assert(not(zero(ptr, s)), "shortened \"%s\"", cases[i].in);
		cr_assert(eq(str, s, (char *)cases[i].out), "short form of \"%s\"", cases[i].in);
		free(s);
	}
}

Test(cxxshort, short_names_stay_as_they_are)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = cxxshort_name(cases[i].out);

		cr_assert(eq(str, s, (char *)cases[i].out), "shortening \"%s\" again", cases[i].out);
		free(s);
	}
}

Test(cxxshort, deep_and_odd_names_stay_in_bounds)
{
	char deep[4096] = "", odd[64];
	char *s;

	/* 50 lists inside each other: all rewritten; 200: beyond what is
	 * followed, the name as it is. */
	for (int i = 0; i < 50; i++)
		strcat(deep, "a<");
	strcat(deep, "int");
	for (int i = 0; i < 50; i++)
		strcat(deep, " >");
	s = cxxshort_name(deep);
	cr_assert(not(zero(ptr, s)), "a name 50 lists deep");
	cr_assert(eq(sz, strlen(s), strlen(deep) - 50), "50 deep: no space before any '>' (%s)", s);
	free(s);
	deep[0] = 0;
	for (int i = 0; i < 200; i++)
		strcat(deep, "a<");
	strcat(deep, "int");
	for (int i = 0; i < 200; i++)
		strcat(deep, " >");
	s = cxxshort_name(deep);
	cr_assert(eq(str, s, deep), "200 deep: as it is");
	free(s);
	/* Every short string of brackets and operators: no crash, no read
	 * past the end (ASan), an answer. */
	static const char alpha[] = "a<>(),[]{} -";
	for (unsigned n = 0; n < 12 * 12 * 12 * 12; n++) {
		unsigned v = n;
		size_t k = 0;

		strcpy(odd, "operator");
		k = n % 2 ? 8 : 0;
		for (int j = 0; j < 4; j++, v /= 12)
			odd[k++] = alpha[v % 12];
		odd[k] = 0;
		s = cxxshort_name(odd);
		cr_assert(not(zero(ptr, s)), "\"%s\"", odd);
		free(s);
	}
	cr_assert(zero(ptr, cxxshort_name(NULL)), "NULL for NULL");
}

/* --- the map: one report's names ------------------------------------------- */

#define OLD_STR "std::basic_string<char, std::char_traits<char>, std::allocator<char> >"

Test(cxxshort, names_that_would_show_alike_show_in_full)
{
	/* libstdc++'s dual ABI: two functions, one short text. */
	const char *a = "f(" STR ")", *b = "f(" OLD_STR ")", *c = "g(" VINT ")";
	/* A name written short already, and one shortening onto it. */
	const char *d = "h(std::vector<int>)", *e = "h(" VINT ")";
	const char *lone = "k(" OLD_STR ")";
	struct cxxshort_map *m;

	cr_assert(eq(int, cxxshort_map_new(&m), 0), "new map");
	cr_assert(eq(str, (char *)cxxshort_map_get(m, c), (char *)c), "full before settling");
	const char *all[] = {a, b, c, d, e, lone, a, "main"};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		cr_assert(eq(int, cxxshort_map_add(m, all[i]), 0), "add %s", all[i]);
	cr_assert(eq(int, cxxshort_map_settle(m), 0), "settle");
	cr_assert(eq(str, (char *)cxxshort_map_get(m, a), (char *)a), "new-ABI f in full");
	cr_assert(eq(str, (char *)cxxshort_map_get(m, b), (char *)b), "old-ABI f in full");
	cr_assert(eq(str, (char *)cxxshort_map_get(m, c), "g(std::vector<int>)"), "g short");
	cr_assert(eq(str, (char *)cxxshort_map_get(m, d), (char *)d), "h(std::vector<int>) as written");
	cr_assert(eq(str, (char *)cxxshort_map_get(m, e), (char *)e), "h of the long vector in full");
	cr_assert(eq(str, (char *)cxxshort_map_get(m, lone), "k(std::string)"), "an old-ABI string alone: short");
	cr_assert(eq(str, (char *)cxxshort_map_get(m, "main"), "main"), "C name");
	cr_assert(eq(str, (char *)cxxshort_map_get(m, "x(" VINT ")"), "x(" VINT ")"), "a name never added: in full");
	cr_assert(eq(ptr, (void *)cxxshort_map_get(NULL, a), (void *)a), "no map: the name");
	cr_assert(zero(ptr, (void *)cxxshort_map_get(m, NULL)), "NULL for NULL");
	cxxshort_map_free(m);
}

Test(cxxshort, a_map_of_many_names_keeps_each)
{
	static char names[3000][64];
	struct cxxshort_map *m;
	char want[64];

	cr_assert(eq(int, cxxshort_map_new(&m), 0), "new map");
	for (int i = 0; i < 3000; i++) {
		snprintf(names[i], sizeof(names[i]), "f%d(std::vector<int, std::allocator<int> >)", i);
		cr_assert(eq(int, cxxshort_map_add(m, names[i]), 0), "add %d", i);
	}
	cr_assert(eq(int, cxxshort_map_settle(m), 0), "settle");
	for (int i = 0; i < 3000; i++) {
		snprintf(want, sizeof(want), "f%d(std::vector<int>)", i);
		cr_assert(eq(str, (char *)cxxshort_map_get(m, names[i]), want), "name %d", i);
	}
	cxxshort_map_free(m);
}
