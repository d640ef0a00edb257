/* SPDX-License-Identifier: MIT */
/*
 * pagemap.h - residency snapshots of a process's anonymous memory from
 * /proc/PID/pagemap (present and swapped bits, readable without
 * privileges for one's own processes), as MH_REC_PAGEMAP records.
 */
#ifndef MEMHOOK_RECORDER_PAGEMAP_H
#define MEMHOOK_RECORDER_PAGEMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <linux/types.h>

#include "common/procmaps.h"

/* Receives whole records; stream is an enum mh_stream. Returns 0 or -errno. */
typedef int (*mh_record_sink_fn)(void *ctx, int stream, const void *records, size_t bytes);

/* Bits of a /proc/PID/pagemap entry (Documentation/admin-guide/mm/pagemap.rst). */
#define MH_PAGEMAP_PRESENT (1ULL << 63)
#define MH_PAGEMAP_SWAPPED (1ULL << 62)
#define MH_PAGEMAP_FILE (1ULL << 61)	/* a file page or shared anonymous memory */
#define MH_PAGEMAP_EXCLUSIVE (1ULL << 56) /* mapped by this process only */
#define MH_PAGEMAP_SOFT_DIRTY (1ULL << 55) /* written (never cleared here: set since it was made) */

/* Open /proc/PID/pagemap for reading. An fd, or -errno (-ESRCH: pid gone). */
int mh_pagemap_open(pid_t pid);

/*
 * Read the entries of count pages from page number first (address /
 * page size) into entries. 0, -ESRCH at the end of the address space or
 * when the process is gone, or -errno.
 */
int mh_pagemap_entries(int fd, __u64 first, size_t count, __u64 *entries);

/* A run of present pages, [start, end) in bytes; laid out as the kernel's struct page_region. */
struct mh_pagemap_run {
	__u64 start, end;
	__u64 categories;
};

/*
 * The runs of present pages in [start, end) (page-aligned), in order, at
 * most max of them, from the PAGEMAP_SCAN ioctl (Linux 6.7): unmapped and
 * untouched memory is skipped without reading an entry for each of its
 * pages. *next is where the scan stopped (end once it got through).
 * Returns how many runs, or -errno: -ENOTTY or -EINVAL where the kernel
 * has no PAGEMAP_SCAN. A process that is gone has no pages: it is not
 * told apart here (mh_pagemap_entries() is).
 */
int mh_pagemap_present(int fd, __u64 start, __u64 end, struct mh_pagemap_run *runs, size_t max,
		       __u64 *next);

/*
 * True for the mappings a snapshot covers: private, writable, anonymous
 * memory that is not memhook's own (own may be NULL: the ring is always
 * left out).
 */
struct mh_own_map;
bool mh_pagemap_wants(const struct mh_map *map, const struct mh_own_map *own);

/*
 * Emit one or more MH_REC_PAGEMAP records into MH_STREAM_SAMPLE for every
 * mapping of maps that mh_pagemap_wants(map, own). Returns 0 or -errno
 * (-ESRCH when the process is gone).
 */
int mh_pagemap_snapshot(pid_t pid, const struct mh_maps *maps, const struct mh_own_map *own,
			mh_record_sink_fn sink, void *ctx);

#endif /* MEMHOOK_RECORDER_PAGEMAP_H */
