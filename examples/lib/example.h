/* SPDX-License-Identifier: MIT */
/*
 * example.h - the public face of libexample.so, a shared library whose
 * allocations memhook must attribute to stacks inside the library.
 */
#ifndef MEMHOOK_EXAMPLES_LIB_EXAMPLE_H
#define MEMHOOK_EXAMPLES_LIB_EXAMPLE_H

#include <stddef.h>

/* A buffer of n bytes from malloc, filled with fill; NULL if out of memory. */
char *example_buffer_new(size_t n, int fill);

/* Free a buffer from example_buffer_new(). Accepts NULL. */
void example_buffer_free(char *buf);

/* Allocate count blocks of bytes each and lose them (definitely lost). */
void example_leak(int count, size_t bytes);

#endif /* MEMHOOK_EXAMPLES_LIB_EXAMPLE_H */
