/* SPDX-License-Identifier: MIT */
/*
 * bigmem.h - memory for memhook's own large buffers and tables, mapped so
 * that filling them takes few page faults. A first touch of a 4 KiB page
 * is a trap: 11-15 us each in a virtual machine (25-44 us loaded), where
 * a 2 MiB transparent huge page maps 512 of them for about one fault's
 * cost and MADV_POPULATE_WRITE maps pages without a trap each. Hints
 * only: whatever the kernel refuses, the memory works as plain pages.
 */
#ifndef MEMHOOK_COMMON_BIGMEM_H
#define MEMHOOK_COMMON_BIGMEM_H

#include <stddef.h>

/*
 * Zeroed, page-aligned memory of `bytes` bytes, in small pages for its
 * first `small` bytes and in transparent huge pages after them where the
 * kernel grants them. For a buffer filled from its start, `small` is what
 * a short run fills: such a run touches no more memory than with small
 * pages. For a table touched all over, 0. NULL (errno set) if it cannot
 * be mapped. Free with mh_bigmem_free.
 */
void *mh_bigmem_alloc(size_t bytes, size_t small);

/*
 * About to write a buffer from mh_bigmem_alloc up to `upto` bytes from
 * its start: map what of its small part is not yet (*mapped bytes from
 * the start are), ahead to twice upto, in one system call. Small pages
 * then fault in a few calls rather than one by one, and a short run maps
 * at most twice what it writes. `small` as given to mh_bigmem_alloc, and
 * no more than the buffer's bytes.
 */
void mh_bigmem_fill(void *buf, size_t small, size_t *mapped, size_t upto);

/* Unmap memory from mh_bigmem_alloc (bytes and small as given to it); NULL is a no-op. */
void mh_bigmem_free(void *p, size_t bytes, size_t small);

/*
 * Map the pages of [p, p + bytes) that are not yet mapped, writable, in
 * one system call (MADV_POPULATE_WRITE, Linux 5.14): for memory about to
 * be written all over. Writes nothing, keeps errno; a kernel that does
 * not know the call is not asked again.
 */
void mh_prefault(void *p, size_t bytes);

#endif /* MEMHOOK_COMMON_BIGMEM_H */
