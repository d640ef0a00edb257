// SPDX-License-Identifier: MIT
/*
 * unwind_cxx.cc - C++ allocations through libstdc++'s operator new (built
 * without frame pointers), for tests/check_unwind.c: new[] of 1004 bytes,
 * a std::vector grown to 1005 ints' worth of reserve, a std::string of
 * 1006 characters, each many times from two depths. Deterministic and
 * single-threaded: the k-th block of a size has the same stack in every
 * run.
 */
#include <string>
#include <vector>

#define ROUNDS 600

static char *volatile sink;

static __attribute__((noinline)) void allocate(void)
{
	char *p = new char[1004];
	std::vector<int> v;
	std::string s(1006, 'x');

	sink = p;
	v.reserve(1005);
	v.push_back(s.size() > 0);
	sink = reinterpret_cast<char *>(v.data());
	delete[] p;
}

static __attribute__((noinline)) void deeper(void)
{
	allocate();
	__asm__ __volatile__("" ::: "memory");
}

int main()
{
	for (int i = 0; i < ROUNDS; i++) {
		if (i % 2)
			deeper();
		else
			allocate();
	}
	return 0;
}
