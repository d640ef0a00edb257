// SPDX-License-Identifier: MIT
/*
 * peek.c - read a stopped process's memory only where it has pages
 * (peek.h).
 *
 * Reads shorter than a page go through a direct-mapped cache of chunks
 * (MH_PEEK_CHUNK_PAGES pages): the chunk's present pages in one
 * process_vm_readv, the pages it does not have left as zeros. Longer
 * reads (roots, large blocks: most of a scan's bytes) go straight into
 * the caller's buffer, present pages gathered into one process_vm_readv.
 * A swapped-out page is read only when asked for (reading it brings it
 * back into RAM, which a neighbour's read must not do); once read, both
 * paths see it present, so it is counted as swapped in once. Never
 * writes to the process, never prints.
 */
#include "recorder/exitscan/peek.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "recorder/pagemap.h"

int mh_peek_open(struct mh_peek *pk, pid_t pid)
{
	memset(pk, 0, sizeof(*pk));
	pk->pid = pid;
	pk->page_bytes = (__u64)sysconf(_SC_PAGESIZE);
	pk->pagemap_fd = mh_pagemap_open(pid);
	if (pk->pagemap_fd < 0) {
		pk->pagemap_fd = -1;
		return 0;
	}
	pk->data = malloc(MH_PEEK_CHUNKS * MH_PEEK_CHUNK_PAGES * pk->page_bytes);
	if (!pk->data) {
		close(pk->pagemap_fd);
		pk->pagemap_fd = -1;
		return -ENOMEM;
	}
	return 0;
}

void mh_peek_close(struct mh_peek *pk)
{
	if (pk->pagemap_fd >= 0)
		close(pk->pagemap_fd);
	pk->pagemap_fd = -1;
	free(pk->data);
	pk->data = NULL;
}

/* The pagemap entry of page number n; 0 (no page) where pagemap cannot say. */
static __u64 *entry_of(struct mh_peek *pk, __u64 n)
{
	if (n - pk->cache_first >= pk->cache_count) {
		/* Aligned: neighbouring chunks share a window, whichever is read first. */
		pk->cache_first = n & ~(__u64)(MH_PEEK_CACHE_PAGES - 1);
		pk->cache_count = 0;
		if (mh_pagemap_entries(pk->pagemap_fd, pk->cache_first, MH_PEEK_CACHE_PAGES,
				       pk->cache) == 0) {
			pk->cache_count = MH_PEEK_CACHE_PAGES;
		} else if (mh_pagemap_entries(pk->pagemap_fd, n, 1, pk->cache) == 0) {
			pk->cache_first = n;
			/* Near the end of the address space: one page at a time. */
			pk->cache_count = 1;
		} else {
			pk->no_entry = 0;
			return &pk->no_entry;
		}
	}
	return &pk->cache[n - pk->cache_first];
}

static bool copy_in(pid_t pid, __u64 addr, void *buf, size_t bytes)
{
	struct iovec local = { .iov_base = buf, .iov_len = bytes };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = bytes };

	return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)bytes;
}

/* Runs of pages to read with one process_vm_readv: local and remote alike contiguous. */
struct run_list {
	struct iovec local[MH_PEEK_DIRECT_RUNS], remote[MH_PEEK_DIRECT_RUNS];
	size_t count, bytes;
};
_Static_assert(MH_PEEK_DIRECT_RUNS <= 64 && MH_PEEK_CHUNK_PAGES <= MH_PEEK_DIRECT_RUNS,
	       "a run list's failures fit in a mask, a chunk's runs in a list");

/* Add [addr, addr + bytes) to be read into out, the last run grown where both follow on. */
static void add_run(struct run_list *l, __u64 addr, unsigned char *out, size_t bytes)
{
	struct iovec *last = l->count ? &l->local[l->count - 1] : NULL;

	l->bytes += bytes;
	if (last && (unsigned char *)last->iov_base + last->iov_len == out) {
		last->iov_len += bytes;
		l->remote[l->count - 1].iov_len += bytes;
		return;
	}
	l->local[l->count] = (struct iovec){ .iov_base = out, .iov_len = bytes };
	l->remote[l->count++] = (struct iovec){ .iov_base = (void *)(uintptr_t)addr,
						 .iov_len = bytes };
}

/*
 * Read the runs: all in one system call, else (a page made unreadable)
 * run by run. Bit r set: run r could not be read, its bytes untouched.
 */
static __u64 read_runs(pid_t pid, const struct run_list *l)
{
	__u64 failed = 0;

	if (!l->count ||
	    process_vm_readv(pid, l->local, l->count, l->remote, l->count, 0) == (ssize_t)l->bytes)
		return 0;
	for (size_t r = 0; r < l->count; r++)
		if (!copy_in(pid, (__u64)(uintptr_t)l->remote[r].iov_base, l->local[r].iov_base,
			     l->local[r].iov_len))
			failed |= 1ULL << r;
	return failed;
}

/*
 * Fill chunk c (its data at out) with the present pages of the chunk
 * starting at page first, in one system call; the rest is left as it
 * was, never read from (a fresh page costs more to fault in than to
 * read). A run that cannot be read (a page made unreadable) is not had.
 */
static void load_chunk(struct mh_peek *pk, struct mh_peek_chunk *c, unsigned char *out,
		       __u64 first)
{
	const __u64 page = pk->page_bytes;
	struct run_list runs = { .count = 0 };
	__u16 have = 0;
	__u64 failed;

	c->swapped = 0;
	for (unsigned int n = 0; n < MH_PEEK_CHUNK_PAGES; n++) {
		__u64 e = *entry_of(pk, first + n);

		if (!(e & MH_PAGEMAP_PRESENT)) {
			c->swapped |= e & MH_PAGEMAP_SWAPPED ? (__u16)(1U << n) : 0;
			continue;
		}
		pk->read_pages++;
		add_run(&runs, (first + n) * page, out + n * page, page);
		have |= (__u16)(1U << n);
	}
	for (failed = read_runs(pk->pid, &runs); failed; failed &= failed - 1) {
		const struct iovec *r = &runs.local[__builtin_ctzll(failed)];
		size_t bit = (size_t)((unsigned char *)r->iov_base - out) / page;

		have &= (__u16)~(((1U << (r->iov_len / page)) - 1) << bit);
	}
	c->first_page = first;
	c->have = have;
	c->valid = true;
}

static void swapped_in(struct mh_peek *pk, __u64 n);

/*
 * Page n (bit of chunk c, data at p) was asked for and not read: read it
 * if it is swapped out, else count it as never touched. Whether it is
 * now read.
 */
static bool ask_page(struct mh_peek *pk, struct mh_peek_chunk *c, unsigned int bit,
		     unsigned char *p)
{
	if (!(c->swapped & (1U << bit)) ||
	    !copy_in(pk->pid, (c->first_page + bit) * pk->page_bytes, p, pk->page_bytes)) {
		pk->untouched_pages++;
		return false;
	}
	pk->swapped_in_pages++;
	c->swapped &= (__u16)~(1U << bit);
	c->have |= (__u16)(1U << bit);
	swapped_in(pk, c->first_page + bit);
	return true;
}

/*
 * Page n was read back from swap: it is present now, for both paths.
 * The cached entry says so, and a cached chunk that still holds it as
 * swapped out is loaded again when next asked.
 */
static void swapped_in(struct mh_peek *pk, __u64 n)
{
	struct mh_peek_chunk *c = &pk->chunks[n / MH_PEEK_CHUNK_PAGES % MH_PEEK_CHUNKS];

	if (n - pk->cache_first < pk->cache_count)
		pk->cache[n - pk->cache_first] = MH_PAGEMAP_PRESENT;
	if (c->valid && c->first_page == n / MH_PEEK_CHUNK_PAGES * MH_PEEK_CHUNK_PAGES &&
	    c->swapped & (1U << (n % MH_PEEK_CHUNK_PAGES)))
		c->valid = false;
}

/* Read the runs of a direct read, zeros where one cannot be; whether any was read. */
static bool read_direct_runs(struct mh_peek *pk, struct run_list *l)
{
	__u64 failed = read_runs(pk->pid, l);
	bool any = l->count && failed != (~0ULL >> (64 - l->count));

	for (; failed; failed &= failed - 1)
		memset(l->local[__builtin_ctzll(failed)].iov_base, 0,
		       l->local[__builtin_ctzll(failed)].iov_len);
	l->count = l->bytes = 0;
	return any;
}

/*
 * A read of a page or more: straight into the caller's buffer, page by
 * page as pagemap says, without the chunk cache. A scan reads most of
 * its bytes this way (roots, large blocks) into one buffer it keeps:
 * copied through the cache, every chunk would land in memory the
 * recorder never touched before, and a fresh page costs more to fault
 * in than to read.
 */
static int read_direct(struct mh_peek *pk, __u64 addr, unsigned char *out, size_t bytes)
{
	const __u64 page = pk->page_bytes;
	struct run_list runs = { .count = 0 };
	__u64 end = addr + bytes;
	bool any = false;

	for (__u64 n = addr / page; n * page < end; n++) {
		__u64 lo = n * page > addr ? n * page : addr;
		__u64 hi = (n + 1) * page < end ? (n + 1) * page : end;
		__u64 *e = entry_of(pk, n);

		if (*e & MH_PAGEMAP_PRESENT) {
			pk->read_pages++;
			if (runs.count == MH_PEEK_DIRECT_RUNS)
				any |= read_direct_runs(pk, &runs);
			add_run(&runs, lo, out + (lo - addr), hi - lo);
		} else if (*e & MH_PAGEMAP_SWAPPED && copy_in(pk->pid, lo, out + (lo - addr), hi - lo)) {
			pk->swapped_in_pages++;
			swapped_in(pk, n);
			any = true;
		} else {
			pk->untouched_pages++;
			memset(out + (lo - addr), 0, hi - lo);
		}
	}
	any |= read_direct_runs(pk, &runs);
	return any ? 0 : -ENODATA;
}

int mh_peek_read(struct mh_peek *pk, __u64 addr, void *buf, size_t bytes)
{
	const __u64 page = pk->page_bytes, chunk_bytes = MH_PEEK_CHUNK_PAGES * page;
	unsigned char *out = buf;
	__u64 end = addr + bytes;
	bool any = false;

	if (pk->pagemap_fd < 0)
		return copy_in(pk->pid, addr, buf, bytes) ? 0 : -EFAULT;
	if (bytes >= page)
		return read_direct(pk, addr, buf, bytes);
	while (addr < end) {
		__u64 first = addr / chunk_bytes * MH_PEEK_CHUNK_PAGES;
		size_t slot = (size_t)(first / MH_PEEK_CHUNK_PAGES % MH_PEEK_CHUNKS);
		struct mh_peek_chunk *c = &pk->chunks[slot];
		unsigned char *data = pk->data + slot * chunk_bytes;
		__u64 stop = (first * page + chunk_bytes < end) ? first * page + chunk_bytes : end;
		unsigned int lo = (unsigned int)(addr / page - first);
		unsigned int hi = (unsigned int)((stop - 1) / page - first);

		if (!c->valid || c->first_page != first)
			load_chunk(pk, c, data, first);
		for (unsigned int n = lo; n <= hi; n++) {
			__u64 from = (first + n) * page > addr ? (first + n) * page : addr;
			__u64 to = (first + n + 1) * page < stop ? (first + n + 1) * page : stop;
			bool has = c->have & (1U << n) || ask_page(pk, c, n, data + n * page);

			/* Pages not read are not touched in the cache either: zeros go to out. */
			if (has)
				memcpy(out + (from - addr), data + (from - first * page), to - from);
			else
				memset(out + (from - addr), 0, to - from);
			any |= has;
		}
		out += stop - addr;
		addr = stop;
	}
	return any ? 0 : -ENODATA;
}
