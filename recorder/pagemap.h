/* SPDX-License-Identifier: MIT */
/*
 * pagemap.h - residency snapshots of a process's anonymous memory from
 * /proc/PID/pagemap (present and swapped bits, readable without
 * privileges for one's own processes), as MH_REC_PAGEMAP records.
 */
#ifndef MEMHOOK_RECORDER_PAGEMAP_H
#define MEMHOOK_RECORDER_PAGEMAP_H

#include <stddef.h>
#include <sys/types.h>

#include "common/procmaps.h"

/* Receives whole records; stream is an enum mh_stream. Returns 0 or -errno. */
typedef int (*mh_record_sink_fn)(void *ctx, int stream, const void *records, size_t bytes);

/* True for the mappings a snapshot covers: private, writable, anonymous memory. */
bool mh_pagemap_wants(const struct mh_map *map);

/*
 * Emit one or more MH_REC_PAGEMAP records into MH_STREAM_SAMPLE for every
 * mapping of maps that mh_pagemap_wants(). Returns 0 or -errno (-ESRCH
 * when the process is gone).
 */
int mh_pagemap_snapshot(pid_t pid, const struct mh_maps *maps, mh_record_sink_fn sink, void *ctx);

#endif /* MEMHOOK_RECORDER_PAGEMAP_H */
