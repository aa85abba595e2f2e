/*
 * fi_cxxnames (C++, built with -finstrument-functions): standard library
 * names that c++filt spells out in full, for the text report's short
 * ones (cli/cxxshort.c) and the JSON's full ones. Exact calls:
 *
 *   std::map<int, std::string>::operator[](int const&)        3
 *   std::vector<std::string>::push_back(std::string const&)    3
 *   copy_name(std::string const&)                              3, each
 *       malloc(100) (freed at the end)
 *
 * Every string is longer than the small-string buffer, so each copy
 * allocates. Prints "cxxnames ok <sum>".
 */
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

static std::map<int, std::string> names;
static std::vector<std::string> list;

char *copy_name(const std::string &s)
{
	char *p = static_cast<char *>(std::malloc(100)); /* @cxx:malloc */

	std::snprintf(p, 100, "%s", s.c_str());
	return p;
}

int main()
{
	char *copies[3];
	size_t sum = 0;

	for (int i = 0; i < 3; i++)
		names[i] = std::string("a name longer than the small buffer #") + char('0' + i);
	for (int i = 0; i < 3; i++) {
		const std::string &s = names.find(i)->second;

		list.push_back(s);
	}
	for (int i = 0; i < 3; i++)
		copies[i] = copy_name(list[i]); /* @cxx:copy */
	for (int i = 0; i < 3; i++) {
		sum += std::strlen(copies[i]);
		std::free(copies[i]);
	}
	std::printf("cxxnames ok %zu\n", sum);
	return 0;
}
