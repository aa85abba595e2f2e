// C++ allocation stacks for tests/test_e2e_unwind.c, built with g++ and
// clang++ at -O2: containers growing inside templates, virtual calls,
// std::function, and exceptions thrown through frames that allocate (the
// unwinder rewrites the stack the next walk sees).
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

struct Shape {
	virtual ~Shape() = default;
	virtual std::string name(int i) const = 0;
};

struct Square : Shape {
	std::string name(int i) const override { return "square-" + std::to_string(i) + std::string(i % 40, 'x'); }
};

struct Circle : Shape {
	std::string name(int i) const override { return "circle/" + std::to_string(i * 7) + std::string(i % 33, 'o'); }
};

template <int N> struct Depth {
	static __attribute__((noinline)) size_t go(std::vector<std::string> &out, int i)
	{
		if (i % (N + 2) == 0)
			out.emplace_back(std::string(16 + i % 50, char('a' + N)));
		return Depth<N - 1>::go(out, i + 1) + 1;
	}
};

template <> struct Depth<0> {
	static __attribute__((noinline)) size_t go(std::vector<std::string> &out, int i)
	{
		out.push_back(std::to_string(i) + "-end-of-the-recursion");
		return out.size();
	}
};

__attribute__((noinline)) static int thrower(std::map<int, std::string> &m, int depth, int i)
{
	m[i % 500] = std::string(24 + depth, 'e');
	if (depth == 0) {
		if (i % 3 == 0)
			throw std::runtime_error("thrown after allocating " + std::to_string(i));
		return 1;
	}
	std::vector<int> local(8 + depth);
	return thrower(m, depth - 1, i) + local[0];
}

int main()
{
	std::vector<std::unique_ptr<Shape>> shapes;
	std::map<int, std::string> m;
	std::vector<std::string> out;
	std::function<std::string(int)> f = [&](int i) { return shapes[i % shapes.size()]->name(i); };
	size_t total = 0;
	int caught = 0;

	for (int i = 0; i < 64; i++) {
		if (i % 2)
			shapes.push_back(std::make_unique<Square>());
		else
			shapes.push_back(std::make_unique<Circle>());
	}
	for (int i = 0; i < 6000; i++) {
		std::string s = f(i);
		total += s.size();
		total += Depth<12>::go(out, i);
		if (out.size() > 4000)
			out.clear();
		try {
			total += (size_t)thrower(m, i % 17, i);
		} catch (const std::exception &e) {
			caught++;
			total += std::string(e.what()).size();
		}
	}
	std::printf("total %zu caught %d\n", total, caught);
	return 0;
}
