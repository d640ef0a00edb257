/* SPDX-License-Identifier: MIT */
/*
 * compiler.h - branch hints. Put them only on branches that were measured
 * (docs/DESIGN.md, "The hot path's budget"); a wrong hint costs more than
 * none.
 */
#ifndef MEMHOOK_COMMON_COMPILER_H
#define MEMHOOK_COMMON_COMPILER_H

#define mh_likely(x) __builtin_expect(!!(x), 1)
#define mh_unlikely(x) __builtin_expect(!!(x), 0)

#endif /* MEMHOOK_COMMON_COMPILER_H */
