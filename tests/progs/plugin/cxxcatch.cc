/* A C++ library that throws and catches inside itself; the C program
 * dlopen_cxx loads it RTLD_LOCAL, so libstdc++ is in its scope only. */
#include <stdexcept>

extern "C" int cxxcatch_run(int n)
{
	int caught = 0;

	for (int i = 0; i < n; i++) {
		try {
			if (i >= 0)
				throw std::runtime_error("x");
		} catch (const std::exception &) {
			caught++;
		}
	}
	return caught;
}
