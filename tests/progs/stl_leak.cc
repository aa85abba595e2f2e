// A leak behind the standard library: fill_vector's vector (lost with
// it when main returns: definitely lost, its buffer indirectly) grows by
// push_back, whose buffer comes through libstdc++'s allocator templates
// and operator new.
#include <vector>

__attribute__((noinline)) std::vector<int> *fill_vector()
{
	std::vector<int> *v = new std::vector<int>();
	for (int i = 0; i < 100; i++)
		v->push_back(i); /* @site:push */
	return v;
}

int main()
{
	std::vector<int> *v = fill_vector();
	return v->size() != 100;
}
