/*
 * fi_names (C++, built with -finstrument-functions): function names as
 * c++filt prints them, and the functions g++ emits more than once.
 * Exact calls:
 *
 *   geo::Circle* geo::make<geo::Circle, double>(double&&)              4
 *   double&& std::forward<double>(std::remove_reference<double>::type&) 4
 *   geo::Circle::Circle(double)                                         4
 *   geo::Circle::~Circle() [deleting]   (D0: delete through Shape*)     4
 *   geo::Circle::~Circle()              (D1, called by D0)              4
 *   geo::Circle::area() const                                           4
 *   double geo::sum_areas<double>(geo::Shape* const*, int)              1
 *   void geo::keep<geo::Shape*>(geo::Shape*&&)                          4
 *   geo::Shape*&& std::forward<geo::Shape*>(std::remove_reference<geo::Shape*>::type&)  4
 *   geo::scale(int)                     (an overload)                   2
 *   geo::scale(double)                                                  3
 *   int (*geo::choose<double>(double))(int)                             1
 *   main::{lambda(int, int)#1}::operator()(int, int) const              3
 *   (anonymous namespace)::bump(int)                                    5
 *   __static_initialization_and_destruction_0(int, int)  (g++ < 13; no
 *       parameters from 13 on)                                          1
 *   Registry::Registry()  (the static object)                           1
 *   geo::build_all()                                                    1
 *
 * Virtual inheritance makes g++ emit two bodies for Mid's constructor
 * and destructor (complete object C1/D1, base object C2/D2), one name:
 * build_all() makes 2 Mid and 3 Leaf; each Leaf constructor builds its
 * Mid base (C2) and a local Mid (C1), so
 *
 *   geo::Mid::Mid()   8 calls (2 + 3 x 2), geo::Mid::~Mid() 8
 *   geo::Leaf::Leaf() 3, geo::Leaf::~Leaf() 3
 *   geo::Base::Base(int) 8 (2 Mid, 3 Leaf, 3 local Mid), ~Base() 8
 *   tree: build_all -> Leaf::Leaf() -> Mid::Mid() one node, 6 calls;
 *         build_all -> Mid::Mid() 2 calls
 *
 * Prints "names ok <sum>" with a sum that depends on every call.
 */
#include <cstdio>
#include <utility>

namespace geo {

struct Shape {
	virtual ~Shape() {}
	virtual double area() const = 0;
};

struct Circle : Shape {
	double r;
	explicit Circle(double x) : r(x) {}
	~Circle() override {}
	double area() const override { return 3.0 * r * r; }
};

static Shape *kept[4];
static int nkept;

template <typename T> T sum_areas(Shape *const *v, int n)
{
	T s = 0;

	for (int i = 0; i < n; i++)
		s += v[i]->area();
	return s;
}

template <typename T, typename... A> T *make(A &&...a)
{
	return new T(std::forward<A>(a)...);
}

template <typename T> void keep(T &&p)
{
	kept[nkept++] = std::forward<T>(p);
}

int scale(int x)
{
	return 2 * x;
}

double scale(double x)
{
	return 2 * x;
}

template <class T> int (*choose(T))(int)
{
	return nullptr;
}

struct Base {
	int b;
	Base(int x) : b(x) {}
	~Base() {}
};

struct Mid : virtual Base {
	Mid() : Base(1) {}
	~Mid() {}
};

struct Leaf : Mid {
	Leaf() : Base(2)
	{
		Mid local;
	}
	~Leaf() {}
};

int build_all()
{
	int n = 0;

	for (int i = 0; i < 2; i++) {
		Mid m;
		n += m.b;
	}
	for (int i = 0; i < 3; i++) {
		Leaf l;
		n += l.b;
	}
	return n;
}

} // namespace geo

namespace {
int bump(int x)
{
	return x + 1;
}
} // namespace

struct Registry {
	int n;
	Registry() : n(1) {}
};

static Registry registry;

int main()
{
	auto add = [](int a, int b) { return a + b; }; /* @fn:lambda */
	double s;
	int n = registry.n;

	for (int i = 0; i < 4; i++)
		geo::keep(static_cast<geo::Shape *>(geo::make<geo::Circle>(1.0 + i)));
	s = geo::sum_areas<double>(geo::kept, 4);
	for (int i = 0; i < 4; i++)
		delete geo::kept[i];
	n += geo::build_all();
	n += geo::scale(1) + geo::scale(2);
	s += geo::scale(0.5) + geo::scale(1.5) + geo::scale(2.5);
	n += add(1, 2) + add(3, 4) + add(5, 6);
	for (int i = 0; i < 5; i++)
		n = bump(n);
	n += geo::choose(1.0) != nullptr;
	std::printf("names ok %g\n", s + n);
	return 0;
}
