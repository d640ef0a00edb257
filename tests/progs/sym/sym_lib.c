// SPDX-License-Identifier: MIT
/*
 * sym_lib.c - the shared library of the symbolization tests: an exported
 * entry point, a static helper (not in .dynsym) and an inline function
 * (inlined at -O2) between the caller and its callback.
 */

void sym_lib_entry(void (*cb)(void));

static inline void lib_inlined(void (*cb)(void))
{
	cb();
	__asm__ __volatile__("" ::: "memory");
}

__attribute__((noinline)) static void lib_helper(void (*cb)(void))
{
	lib_inlined(cb);
	__asm__ __volatile__("" ::: "memory");
}

void sym_lib_entry(void (*cb)(void))
{
	lib_helper(cb);
	__asm__ __volatile__("" ::: "memory");
}
