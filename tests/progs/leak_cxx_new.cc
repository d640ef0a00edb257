// SPDX-License-Identifier: MIT
/*
 * leak_cxx_new.cc - C++ new and new[] lost and kept:
 *   lost: new Widget (24 bytes), new int[25] (100 bytes), new Gadget[4]
 *   (Gadget has a destructor, so new[] stores the count first: 8 + 4 * 16
 *   = 72 bytes);
 *   kept in globals: new Widget (24 bytes) and new Gadget[3] (8 + 48 = 56
 *   bytes, the global points 8 bytes in: memcheck's newarray heuristic
 *   counts it as still reachable).
 *
 * memcheck --leak-check=full:
 *   definitely lost: 196 bytes in 3 blocks (3 loss records)
 *   indirectly lost: 0, possibly lost: 0
 *   still reachable: 80 bytes in 2 blocks (56 of them via the newarray
 *   heuristic), besides what libstdc++ keeps (see docs/LEAKS.md)
 */
#include <cstring>

#include "leak_scrub.h"

struct Widget {
	long a, b, c;
};

struct Gadget {
	long x, y;
	~Gadget() { x = 0; }
};

static Widget *kept_widget;
static Gadget *kept_gadgets;

__attribute__((noinline)) static void lose_widget()
{
	Widget *w = new Widget();

	w->a = 1;
}

__attribute__((noinline)) static void lose_ints()
{
	int *v = new int[25]();

	v[0] = 1;
}

__attribute__((noinline)) static void lose_gadgets()
{
	Gadget *g = new Gadget[4]();

	g[0].x = 1;
}

int main()
{
	lose_widget();
	lose_ints();
	lose_gadgets();
	kept_widget = new Widget();
	kept_gadgets = new Gadget[3]();
	leak_scrub();
	return 0;
}
