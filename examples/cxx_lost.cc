// SPDX-License-Identifier: MIT
/*
 * cxx_lost.cc - C++ allocations through operator new / new[] and the
 * standard containers, some lost.
 *
 * Lost (definitely, each pointer dropped), requested bytes:
 *   new int                                      4 bytes, 1 block
 *   new int[100]                               400 bytes, 1 block
 *   new std::vector<int>, 1000 elements         24 + 4000 bytes, 2 blocks
 *                                              (the vector object definitely,
 *                                              its array indirectly lost)
 *   new std::string of 100 chars                32 + 101 bytes, 2 blocks
 *                                              (the object definitely, its
 *                                              buffer indirectly lost)
 *   new std::map<int,int>, 10 entries           48 + 10 * 40 bytes, 11 blocks
 *                                              (the map definitely, its nodes
 *                                              indirectly lost)
 * Totals lost: definitely 5 blocks (4 + 400 + 24 + 32 + 48 = 508 bytes),
 * indirectly 12 blocks (4000 + 101 + 400 = 4,501 bytes): 5,009 bytes in 17
 * blocks (libstdc++ of GCC 12 on x86-64: the sizes of a vector, string
 * and map object and of a map node are those of that ABI).
 * Also, freed: a std::vector<int> grown by push_back to 1000 elements
 * (reallocations by doubling) and a std::string built by appends.
 * libstdc++ allocates its emergency exception pool (72,704 bytes) at
 * startup; memcheck frees it at exit through __gnu_cxx::__freeres, so
 * memcheck shows "in use at exit: 5,009 bytes in 17 blocks".
 */
#include <cstdio>
#include <map>
#include <string>
#include <vector>

static __attribute__((noinline)) void lose_scalars()
{
	int *one = new int(42);
	int *many = new int[100];

	many[0] = *one;
}

static __attribute__((noinline)) void lose_containers()
{
	auto *v = new std::vector<int>(1000, 7);
	auto *s = new std::string(100, 'x');
	auto *m = new std::map<int, int>();

	for (int i = 0; i < 10; i++)
		(*m)[i] = i * i;
	(void)v;
	(void)s;
}

static __attribute__((noinline)) size_t temporaries()
{
	std::vector<int> grow;
	std::string text;

	for (int i = 0; i < 1000; i++)
		grow.push_back(i);
	for (int i = 0; i < 100; i++)
		text += "abcdefghij";
	return grow.size() + text.size();
}

int main()
{
	lose_scalars();
	lose_containers();
	size_t n = temporaries();
	std::printf("definitely_lost_blocks=5 definitely_lost_bytes=508 "
		    "indirectly_lost_blocks=12 indirectly_lost_bytes=4501 temporaries=%zu\n",
		    n);
	return 0;
}
