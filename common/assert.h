/* SPDX-License-Identifier: MIT */
/*
 * assert.h - MH_ASSERT(cond) for invariants a comment states. Checked in a
 * DEBUG=1 build (which also turns on AddressSanitizer and UBSan outside
 * the preload); compiled to nothing otherwise, so an assertion may sit on
 * a hot path. Never in preload/: the preload must not abort the program.
 */
#ifndef MEMHOOK_COMMON_ASSERT_H
#define MEMHOOK_COMMON_ASSERT_H

#ifdef MH_DEBUG
#include <stdio.h>
#include <stdlib.h>

#define MH_ASSERT(cond)								\
	((cond) ? (void)0 :							\
		  (fprintf(stderr, "memhook: %s:%d: assertion '%s' failed\n",	\
			   __FILE__, __LINE__, #cond), abort()))
#else
/* sizeof: cond is type-checked but never evaluated. */
#define MH_ASSERT(cond) ((void)sizeof(!(cond)))
#endif

#endif /* MEMHOOK_COMMON_ASSERT_H */
