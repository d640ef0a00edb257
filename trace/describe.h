/* SPDX-License-Identifier: MIT */
/*
 * describe.h - print one trace record as one line, every field named,
 * for `memhook dump`.
 */
#ifndef MEMHOOK_TRACE_DESCRIBE_H
#define MEMHOOK_TRACE_DESCRIBE_H

#include <stdio.h>

#include "memhook/events.h"

/* Name of an enum mh_stream value ("meta", "alloc", ...), "?" if unknown. */
const char *mh_dump_stream_name(int stream);

/*
 * Print rec (already validated by the trace reader) as "<stream> <TYPE>
 * field=value ..." and a newline. Kernel records go through
 * mh_kernel_describe(); unknown types print as type=N size=N.
 */
void mh_dump_record(FILE *out, int stream, const struct mh_rec_hdr *rec);

#endif /* MEMHOOK_TRACE_DESCRIBE_H */
