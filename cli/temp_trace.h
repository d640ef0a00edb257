/* SPDX-License-Identifier: MIT */
/*
 * temp_trace.h - a private temporary trace file for `memhook run` and
 * `memhook check`.
 */
#ifndef MEMHOOK_CLI_TEMP_TRACE_H
#define MEMHOOK_CLI_TEMP_TRACE_H

#include <stddef.h>

/*
 * Create an empty file $TMPDIR/memhook.XXXXXX.mht (or under /tmp), mode
 * 0600, and put its name in buf. Returns 0 or -errno.
 */
int mh_temp_trace(char *buf, size_t len);

/* The directory mh_temp_trace() uses, for error messages. */
const char *mh_temp_dir(void);

#endif /* MEMHOOK_CLI_TEMP_TRACE_H */
