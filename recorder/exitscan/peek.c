// SPDX-License-Identifier: MIT
/*
 * peek.c - read a stopped process's memory only where it has pages
 * (peek.h).
 *
 * Each read looks its pages up in /proc/PID/pagemap (cached by
 * MH_PEEK_CACHE_PAGES), reads runs of present or swapped-out pages with
 * one process_vm_readv each and fills the rest with zeros. A swapped-out
 * page read once is present afterwards: the cache says so, so it is
 * counted once. Never writes to the process, never prints.
 */
#include "recorder/exitscan/peek.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "recorder/pagemap.h"

void mh_peek_open(struct mh_peek *pk, pid_t pid)
{
	memset(pk, 0, sizeof(*pk));
	pk->pid = pid;
	pk->page_bytes = (__u64)sysconf(_SC_PAGESIZE);
	pk->pagemap_fd = mh_pagemap_open(pid);
	if (pk->pagemap_fd < 0)
		pk->pagemap_fd = -1;
}

void mh_peek_close(struct mh_peek *pk)
{
	if (pk->pagemap_fd >= 0)
		close(pk->pagemap_fd);
	pk->pagemap_fd = -1;
}

/* The pagemap entry of page number n; 0 (no page) where pagemap cannot say. */
static __u64 *entry_of(struct mh_peek *pk, __u64 n)
{
	if (n - pk->cache_first >= pk->cache_count) {
		pk->cache_first = n;
		pk->cache_count = 0;
		if (mh_pagemap_entries(pk->pagemap_fd, n, MH_PEEK_CACHE_PAGES, pk->cache) == 0) {
			pk->cache_count = MH_PEEK_CACHE_PAGES;
		} else if (mh_pagemap_entries(pk->pagemap_fd, n, 1, pk->cache) == 0) {
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

/* Whether the process has page n: present or swapped out (to be read), or neither. */
static bool has_page(struct mh_peek *pk, __u64 n)
{
	return *entry_of(pk, n) & (MH_PAGEMAP_PRESENT | MH_PAGEMAP_SWAPPED);
}

/* Count pages [first, end) of a run; a swapped-out page read is present afterwards. */
static void count_run(struct mh_peek *pk, __u64 first, __u64 end, bool wanted)
{
	for (__u64 n = first; n < end; n++) {
		__u64 *e = entry_of(pk, n);

		if (!wanted) {
			pk->untouched_pages++;
		} else if (*e & MH_PAGEMAP_PRESENT) {
			pk->read_pages++;
		} else {
			pk->swapped_in_pages++;
			*e |= MH_PAGEMAP_PRESENT;
		}
	}
}

int mh_peek_read(struct mh_peek *pk, __u64 addr, void *buf, size_t bytes)
{
	unsigned char *out = buf;
	__u64 end = addr + bytes, page = pk->page_bytes;
	bool any = false;

	if (pk->pagemap_fd < 0)
		return copy_in(pk->pid, addr, buf, bytes) ? 0 : -EFAULT;
	while (addr < end) {
		/* A run of pages that are all read, or all skipped. */
		__u64 first = addr / page, next = first + 1;
		bool wanted = has_page(pk, first);
		__u64 run_end;

		while (next * page < end && has_page(pk, next) == wanted)
			next++;
		count_run(pk, first, next, wanted);
		run_end = next * page < end ? next * page : end;
		if (!wanted || !copy_in(pk->pid, addr, out, run_end - addr))
			memset(out, 0, run_end - addr);
		any |= wanted;
		out += run_end - addr;
		addr = run_end;
	}
	return any ? 0 : -ENODATA;
}
