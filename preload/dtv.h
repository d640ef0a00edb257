/* SPDX-License-Identifier: MIT */
/*
 * dtv.h - the program's size of a thread's DTV, without memhook's TLS
 * modules' slots (dtv.c).
 */
#ifndef MEMHOOK_PRELOAD_DTV_H
#define MEMHOOK_PRELOAD_DTV_H

#include <linux/types.h>
#include <stddef.h>

#include "common/compiler.h"

/* Find the loader's DTV allocation site and memhook's share. Once, at start. */
void mh_dtv_setup(void);

/*
 * The size of a calloc the program would have asked for without memhook:
 * size less memhook's share when the calloc's caller was called from the
 * loader's DTV allocation (caller_of_caller: the second return address of
 * the captured stack), else size.
 */
size_t mh_dtv_program_size(__u64 caller_of_caller, size_t size);

#endif /* MEMHOOK_PRELOAD_DTV_H */
