// SPDX-License-Identifier: MIT
/*
 * peek.c - read a stopped process's memory only where it has pages
 * (peek.h).
 *
 * Memory is read a chunk (MH_PEEK_CHUNK_PAGES pages) at a time into a
 * direct-mapped cache: the chunk's present pages in one process_vm_readv,
 * the pages it does not have left as zeros. A swapped-out page is read
 * only when asked for (reading it brings it back into RAM, which a
 * neighbour's read must not do); once read it is in the chunk, and if
 * the chunk is read again pagemap says it is present, so it is counted
 * as swapped in once. Never writes to the process, never prints.
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

/*
 * Fill chunk c (its data at out) with the present pages of the chunk
 * starting at page first, in one system call; the rest is zeros. A run
 * that cannot be read (a page made unreadable) stays zeros.
 */
static void load_chunk(struct mh_peek *pk, struct mh_peek_chunk *c, unsigned char *out,
		       __u64 first)
{
	struct iovec local[MH_PEEK_CHUNK_PAGES], remote[MH_PEEK_CHUNK_PAGES];
	unsigned int first_bit[MH_PEEK_CHUNK_PAGES];	/* each run's first page in the chunk */
	const __u64 page = pk->page_bytes;
	size_t runs = 0, want = 0;
	__u16 have = 0;

	memset(out, 0, MH_PEEK_CHUNK_PAGES * page);
	c->swapped = 0;
	for (unsigned int n = 0; n < MH_PEEK_CHUNK_PAGES; n++) {
		__u64 e = *entry_of(pk, first + n);

		if (!(e & MH_PAGEMAP_PRESENT)) {
			c->swapped |= e & MH_PAGEMAP_SWAPPED ? (__u16)(1U << n) : 0;
			continue;
		}
		pk->read_pages++;
		want += page;
		if (n && have & (1U << (n - 1))) {
			/* The page before is read too: one run. */
			local[runs - 1].iov_len += page;
			remote[runs - 1].iov_len += page;
		} else {
			void *from = (void *)(uintptr_t)((first + n) * page);

			first_bit[runs] = n;
			local[runs] = (struct iovec){ .iov_base = out + n * page, .iov_len = page };
			remote[runs++] = (struct iovec){ .iov_base = from, .iov_len = page };
		}
		have |= (__u16)(1U << n);
	}
	if (runs && process_vm_readv(pk->pid, local, runs, remote, runs, 0) != (ssize_t)want) {
		for (size_t r = 0; r < runs; r++) {
			__u64 at = (__u64)(uintptr_t)remote[r].iov_base;

			if (copy_in(pk->pid, at, local[r].iov_base, local[r].iov_len))
				continue;
			memset(local[r].iov_base, 0, local[r].iov_len);
			have &= (__u16)~(((1U << (local[r].iov_len / page)) - 1) << first_bit[r]);
		}
	}
	c->first_page = first;
	c->have = have;
	c->valid = true;
}

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
	return true;
}

int mh_peek_read(struct mh_peek *pk, __u64 addr, void *buf, size_t bytes)
{
	const __u64 page = pk->page_bytes, chunk_bytes = MH_PEEK_CHUNK_PAGES * page;
	unsigned char *out = buf;
	__u64 end = addr + bytes;
	bool any = false;

	if (pk->pagemap_fd < 0)
		return copy_in(pk->pid, addr, buf, bytes) ? 0 : -EFAULT;
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
		for (unsigned int n = lo; n <= hi; n++)
			any |= c->have & (1U << n) || ask_page(pk, c, n, data + n * page);
		memcpy(out, data + (addr - first * page), stop - addr);
		out += stop - addr;
		addr = stop;
	}
	return any ? 0 : -ENODATA;
}
