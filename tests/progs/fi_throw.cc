/*
 * fi_throw (C++, built with -finstrument-functions): thrower() calls f1()
 * 1000 times inside try/catch; f1 -> f2 -> f3 -> f4 -> f5 and f5 throws
 * std::runtime_error, caught in thrower(). The exception unwinds through
 * five instrumented frames; g++ runs their exit hooks in the cleanups
 * (clang++ does not: see tests/test_e2e_func.c, there they are unwound).
 *
 *   f1 .. f5   calls 1000 each, recursive 0, unwound 0 (g++; clang++: 1000)
 *   tree       thrower -> f1 -> f2 -> f3 -> f4 -> f5
 *   unmatched exits 0; prints "caught=1000".
 */
#include <cstdio>
#include <stdexcept>

static volatile int sink;

void f5(int i)
{
	sink += i;
	throw std::runtime_error("f5");
}

void f4(int i)
{
	f5(i);
	sink++;
}

void f3(int i)
{
	f4(i);
	sink++;
}

void f2(int i)
{
	f3(i);
	sink++;
}

void f1(int i)
{
	f2(i);
	sink++;
}

int thrower()
{
	int caught = 0;

	for (int i = 0; i < 1000; i++) {
		try {
			f1(i);
		} catch (const std::runtime_error &) {
			caught++;
		}
	}
	return caught;
}

int main()
{
	std::printf("caught=%d\n", thrower());
	return 0;
}
