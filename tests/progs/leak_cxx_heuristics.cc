// SPDX-License-Identifier: MIT
/*
 * leak_cxx_heuristics.cc - blocks whose only pointers are interior ones
 * that memcheck's default heuristics (--leak-check-heuristics=all) accept
 * as start pointers, so they are still reachable, not possibly lost:
 *   multipleinheritance: a global Right * to a Both object (Both derives
 *   from Left, then Right; both have virtual functions), which points 16
 *   bytes into the 24-byte block, at the Right sub-object's vtable pointer;
 *   length64: a global pointing 8 bytes into a 72-byte block whose first
 *   word is 64, the length of the rest (as sqlite allocates);
 *   newarray: a global pointing 8 bytes into new Item[5] (Item has a
 *   destructor: the block starts with the element count, 5).
 * A pointer 16 bytes into a 40-byte block fits no heuristic: possibly lost.
 *
 * memcheck --leak-check=full:
 *   definitely lost: 0, indirectly lost: 0
 *   possibly lost: 40 bytes in 1 blocks
 *   still reachable: 144 bytes in 3 blocks (all three via a heuristic)
 */
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "leak_scrub.h"

struct Left {
	virtual ~Left() {}
	long l = 1;
};

struct Right {
	virtual ~Right() {}
	virtual long get() { return 2; }
};

struct Both : Left, Right {
	long get() override { return 3; }
};

struct Item {
	long v = 0;
	~Item() { v = -1; }
};

Right *g_right;
char *g_length64;
Item *g_items;
char *g_interior;

__attribute__((noinline)) static void make_blocks()
{
	uint64_t *block = static_cast<uint64_t *>(malloc(72));

	g_right = new Both();
	memset(block, 0, 72);
	block[0] = 64;
	g_length64 = reinterpret_cast<char *>(block) + 8;
	g_items = new Item[5];
	g_interior = static_cast<char *>(calloc(1, 40)) + 16;
}

int main()
{
	make_blocks();
	leak_scrub();
	return g_right->get() == 3 ? 0 : 1;
}
