// SPDX-License-Identifier: MIT
/*
 * unwind_nofp_cxx.cc - C++ exceptions thrown through allocating frames,
 * built without frame pointers (-O2 -fomit-frame-pointer), for
 * tests/check_unwind.c: PATHS functions of the same frame size lead to
 * mid(), whose leaf allocates 3001 bytes and then throws from a deeper
 * frame; while the exception unwinds mid(), a destructor there allocates
 * 3002 bytes. The exception is caught where the paths start, so the next
 * path's frames reuse the stack the exception left. Each path is taken
 * three times in a row, then the next (unwind_nofp.c says why).
 * Deterministic: the k-th block of a size has the same stack in every run.
 */
#include <stdexcept>

#define ROUNDS 800
#define PATHS 4

static char *volatile sink;
static volatile int mark;

static __attribute__((noinline)) void thrower(int k)
{
	throw std::runtime_error(k & 1 ? "odd" : "even");
}

static __attribute__((noinline)) void leaf(int k)
{
	char *p = new char[3001];

	sink = p;
	delete[] p;
	thrower(k);
	__asm__ __volatile__("" ::: "memory");
}

struct on_unwind {
	~on_unwind()
	{
		char *p = new char[3002];

		sink = p;
		delete[] p;
	}
};

static __attribute__((noinline)) void mid(int k)
{
	on_unwind guard;

	leaf(k);
	mark = k;
}

template <int K> static __attribute__((noinline)) void path()
{
	mid(K);
	__asm__ __volatile__("" ::: "memory");
}

static void (*const paths[PATHS])() = { path<0>, path<1>, path<2>, path<3> };

int main()
{
	int caught = 0;

	for (int i = 0; i < ROUNDS; i++) {
		try {
			paths[i / 3 % PATHS]();
		} catch (const std::runtime_error &) {
			caught++;
		}
	}
	return caught == ROUNDS ? 0 : 1;
}
