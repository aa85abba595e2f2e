// A leak behind the standard library: fill_vector's vector (leaked with
// it) grows by push_back, whose buffer comes through libstdc++'s
// allocator templates and operator new.
#include <vector>

static std::vector<int> *keep;

__attribute__((noinline)) void fill_vector()
{
	keep = new std::vector<int>();
	for (int i = 0; i < 100; i++)
		keep->push_back(i); /* @site:push */
}

int main()
{
	fill_vector();
	return keep->size() != 100;
}
