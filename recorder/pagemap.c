// SPDX-License-Identifier: MIT
/*
 * pagemap.c - residency snapshots from /proc/PID/pagemap.
 *
 * Each page's 64-bit pagemap entry is reduced to two bits (present,
 * swapped), so a snapshot of 1 GiB of 4 KiB pages is 64 KiB. memhook's
 * own mappings (own.h) are never in a snapshot. Reading pagemap never
 * faults a page in.
 */
#include "recorder/pagemap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "memhook/events.h"
#include "memhook/trace.h"
#include "common/clock.h"
#include "recorder/own.h"

/* Pages per record, so a record stays far below MH_CHUNK_MAX_RAW_BYTES. */
#define PAGES_PER_RECORD (256 * 1024)
/* pagemap entries read per pread. */
#define ENTRIES_PER_READ 4096

int mh_pagemap_open(pid_t pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	return fd;
}

int mh_pagemap_entries(int fd, __u64 first, size_t count, __u64 *entries)
{
	size_t done = 0;

	while (done < count) {
		ssize_t got = pread(fd, entries + done, (count - done) * sizeof(__u64),
				    (off_t)((first + done) * sizeof(__u64)));

		if (got < 0)
			return -errno;
		if (got == 0)
			return -ESRCH;
		done += (size_t)got / sizeof(__u64);
	}
	return 0;
}

#ifndef PAGEMAP_SCAN
/* Linux 6.7's ioctl (linux/fs.h), for headers that predate it. */
struct pm_scan_arg {
	__u64 size, flags, start, end, walk_end, vec, vec_len, max_pages;
	__u64 category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#define PAGE_IS_PRESENT (1 << 3)
#endif

int mh_pagemap_present(int fd, __u64 start, __u64 end, struct mh_pagemap_run *runs, size_t max,
		       __u64 *next)
{
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.start = start,
		.end = end,
		.vec = (__u64)(uintptr_t)runs,
		.vec_len = max,
		.category_mask = PAGE_IS_PRESENT,
		.return_mask = PAGE_IS_PRESENT,
	};
	int n = ioctl(fd, PAGEMAP_SCAN, &arg);

	if (n < 0)
		return -errno;
	*next = arg.walk_end;
	return n;
}

bool mh_pagemap_wants(const struct mh_map *map, const struct mh_own_map *own)
{
	if (!(map->prot & PROT_WRITE) || !(map->prot & PROT_READ) || map->shared)
		return false;
	if (own && mh_own_span_at(own, map->start))
		return false;
	return map->inode == 0 && !strstr(map->path, "memhook-ring") &&
	       strcmp(map->path, "[vvar]") != 0 && strcmp(map->path, "[vsyscall]") != 0;
}

/* Fill rec's bitmap for page_count pages starting at rec->start. */
static int read_bits(int fd, struct mh_rec_pagemap *rec, __u64 *bits)
{
	__u64 entries[ENTRIES_PER_READ];
	__u64 first = rec->start / rec->page_size;

	for (__u64 done = 0; done < rec->page_count;) {
		size_t want = rec->page_count - done < ENTRIES_PER_READ ?
			      (size_t)(rec->page_count - done) : ENTRIES_PER_READ;
		int err = mh_pagemap_entries(fd, first + done, want, entries);

		if (err)
			return err;
		for (size_t i = 0; i < want; i++, done++) {
			if (entries[i] & MH_PAGEMAP_PRESENT)
				bits[done / 32] |= 1ULL << (2 * (done % 32));
			if (entries[i] & MH_PAGEMAP_SWAPPED)
				bits[done / 32] |= 1ULL << (2 * (done % 32) + 1);
		}
	}
	return 0;
}

static int snapshot_range(int fd, pid_t pid, __u64 start, __u64 pages, __u32 page_size,
			  mh_record_sink_fn sink, void *ctx)
{
	size_t bitmap_bytes = (2 * pages + 63) / 64 * sizeof(__u64);
	size_t bytes = MH_REC_PAD(sizeof(struct mh_rec_pagemap) + bitmap_bytes);
	struct mh_rec_pagemap *rec = calloc(1, bytes);
	int err;

	if (!rec)
		return -ENOMEM;
	rec->hdr = (struct mh_rec_hdr){ .type = MH_REC_PAGEMAP, .size = bytes };
	rec->ts_ns = mh_clock_now_ns();
	rec->start = start;
	rec->page_count = pages;
	rec->pid = pid;
	rec->page_size = page_size;
	err = read_bits(fd, rec, (__u64 *)(rec + 1));
	if (!err)
		err = sink(ctx, MH_STREAM_SAMPLE, rec, bytes);
	free(rec);
	return err;
}

int mh_pagemap_snapshot(pid_t pid, const struct mh_maps *maps, const struct mh_own_map *own,
			mh_record_sink_fn sink, void *ctx)
{
	__u32 page_size = sysconf(_SC_PAGESIZE);
	int fd = mh_pagemap_open(pid), err = 0;

	if (fd < 0)
		return fd;
	for (size_t i = 0; i < maps->count && !err; i++) {
		const struct mh_map *m = &maps->maps[i];

		if (!mh_pagemap_wants(m, own))
			continue;
		for (__u64 at = m->start; at < m->end && !err;) {
			__u64 pages = (m->end - at) / page_size;

			if (pages > PAGES_PER_RECORD)
				pages = PAGES_PER_RECORD;
			err = snapshot_range(fd, pid, at, pages, page_size, sink, ctx);
			at += pages * page_size;
		}
	}
	close(fd);
	return err;
}
