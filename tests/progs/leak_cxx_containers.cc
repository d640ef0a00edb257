// SPDX-License-Identifier: MIT
/*
 * leak_cxx_containers.cc - standard containers allocated with new and
 * lost: each container object is definitely lost, the storage it owns
 * indirectly lost.
 *   std::vector<int>(100): 24-byte object + 400-byte buffer;
 *   std::string of 50 chars: 32-byte object + 51-byte buffer;
 *   std::map<int, int> of 5 entries: 48-byte object + 5 nodes of 40 bytes.
 *
 * memcheck --leak-check=full:
 *   definitely lost: 104 bytes in 3 blocks (3 loss records)
 *   indirectly lost: 651 bytes in 7 blocks
 *   possibly lost: 0
 *   still reachable: 0, besides what libstdc++ keeps (see docs/LEAKS.md)
 */
#include <map>
#include <string>
#include <vector>

#include "leak_scrub.h"

__attribute__((noinline)) static void lose_vector()
{
	auto *v = new std::vector<int>(100);

	(*v)[0] = 1;
}

__attribute__((noinline)) static void lose_string()
{
	auto *s = new std::string(50, 's');

	(*s)[0] = 'S';
}

__attribute__((noinline)) static void lose_map()
{
	auto *m = new std::map<int, int>();

	for (int i = 0; i < 5; i++)
		(*m)[i] = i * i;
}

int main()
{
	lose_vector();
	lose_string();
	lose_map();
	leak_scrub();
	return 0;
}
