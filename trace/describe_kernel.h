/* SPDX-License-Identifier: MIT */
/*
 * describe_kernel.h - print kernel-stream records (kernel_events.h) one per line,
 * for `memhook dump`.
 */
#ifndef MEMHOOK_TRACE_DESCRIBE_KERNEL_H
#define MEMHOOK_TRACE_DESCRIBE_KERNEL_H

#include <stdio.h>

#include "memhook/events.h"

/*
 * Print one kernel record (hdr->type >= MH_REC_KERNEL_FIRST) as a single
 * line, without a trailing newline. Returns 0, or -EINVAL for a type this
 * build does not know (the caller prints it raw).
 */
int mh_kernel_describe(FILE *out, const struct mh_rec_hdr *rec);

#endif /* MEMHOOK_TRACE_DESCRIBE_KERNEL_H */
