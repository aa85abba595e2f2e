/*
 * cxx_new: C++ allocation through new/delete, new[]/delete[], aligned new
 * and std::vector growth. The allocating functions are extern "C" so their
 * names in the report are plain (make_object, not make_object()); each
 * reaches malloc or aligned_alloc through libstdc++'s operator new, so
 * frame 0 of these sites is operator new and the function below is a
 * deeper frame. No iostream or other allocating library code.
 *
 *   function      what                                allocs bytes frees temp live
 *   make_object   new Obj (48 bytes) + delete          1      48    1     1    0
 *   make_array    new int[250] + delete[]             1      1000  1     1    0
 *   make_aligned  new Aligned (alignas(64), 128 bytes) 1      128   1     1    0
 *                 -> aligned_alloc(64, 128)
 *   grow_vector   vector<int>: reserve(16) then 40    3      448   3     1    0
 *                 push_backs: 64 + 128 + 256 bytes
 *   leak_node     new Node (32 bytes), never deleted  1      32    0     0    1
 *   total of these functions                          7      1656  6     4    1 (32 bytes)
 *
 * Beyond these, libstdc++ 12 allocates its emergency exception pool
 * (72704 bytes, never freed) from its own static initialiser, before main.
 * Exits 0, or 1 when the aligned object is misaligned.
 */
#include <cstdint>
#include <cstdlib>
#include <unistd.h>
#include <vector>

struct Obj {
	long v[6];
};
static_assert(sizeof(Obj) == 48, "Obj is 48 bytes");

struct alignas(64) Aligned {
	char b[100];
};
static_assert(sizeof(Aligned) == 128, "Aligned is 128 bytes");

struct Node {
	Node *next;
	long a, b, c;
};
static_assert(sizeof(Node) == 32, "Node is 32 bytes");

static Node *kept;
static volatile long sink;

extern "C" void make_object(void)
{
	Obj *o = new Obj(); /* @cxx:object */
	sink = o->v[0];
	delete o;
}

extern "C" void make_array(void)
{
	int *a = new int[250]; /* @cxx:array */
	a[0] = 1;
	sink = a[0];
	delete[] a;
}

extern "C" void make_aligned(void)
{
	Aligned *p = new Aligned(); /* @cxx:aligned */
	if ((uintptr_t)p % 64) {
		write(2, "cxx_new: misaligned new\n", 24);
		exit(1);
	}
	sink = p->b[0];
	delete p;
}

extern "C" void grow_vector(void)
{
	std::vector<int> v;

	v.reserve(16);
	for (int i = 0; i < 40; i++)
		v.push_back(i);
	sink = v[39];
}

extern "C" void leak_node(void)
{
	kept = new Node(); /* @cxx:leak */
}

int main()
{
	make_object();
	make_array();
	make_aligned();
	grow_vector();
	leak_node();
	return 0;
}
