/* SPDX-License-Identifier: MIT */
/*
 * hugepages.h - ask the kernel for huge pages under a large buffer
 * (MADV_HUGEPAGE on its whole pages). Only a hint: where the kernel
 * grants none, 4 KiB pages work the same. Never fails, never prints.
 */
#ifndef MEMHOOK_COMMON_HUGEPAGES_H
#define MEMHOOK_COMMON_HUGEPAGES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

/* Buffers from this size on are worth the advice. */
#define MH_HUGEPAGES_MIN_BYTES (2UL << 20)

/*
 * Advise huge pages for the pages wholly inside [p, p + bytes), when
 * bytes >= MH_HUGEPAGES_MIN_BYTES. A buffer first touched in 4 KiB pages
 * takes a page fault per 4 KiB and misses the TLB on every pass.
 */
static inline void mh_hugepages_advise(void *p, size_t bytes)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t start = ((uintptr_t)p + page - 1) & ~(page - 1);
	uintptr_t end = ((uintptr_t)p + bytes) & ~(page - 1);

	if (bytes >= MH_HUGEPAGES_MIN_BYTES && end > start)
		(void)madvise((void *)start, end - start, MADV_HUGEPAGE);
}

#endif /* MEMHOOK_COMMON_HUGEPAGES_H */
