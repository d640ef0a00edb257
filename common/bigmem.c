// SPDX-License-Identifier: MIT
/*
 * bigmem.c - memory for memhook's own large buffers and tables, mapped so
 * that filling them takes few page faults (bigmem.h). Never maps huge
 * pages where a short run would not have touched the memory anyway:
 * memhook's own RSS must stay small for small programs.
 */
#include "common/bigmem.h"

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* A transparent huge page on x86-64 and arm64 with 4 KiB pages. */
#define HUGE_BYTES ((size_t)2 << 20)

/* Set once the kernel refused MADV_POPULATE_WRITE (before 5.14): not asked again. */
static int populate_refused;

static size_t page_round(size_t bytes)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (bytes + page - 1) & ~(page - 1);
}

/*
 * Bytes mapped for a buffer of `len` bytes whose first `small` are in
 * small pages: the rest rounded up to whole huge pages, so its end takes
 * one too (the pages past len are never touched by the buffer's user).
 */
static size_t mapped_bytes(size_t len, size_t small)
{
	if (len <= small + HUGE_BYTES)
		return len;	/* no whole huge page past the small part: small pages only */
	return small + ((len - small + HUGE_BYTES - 1) & ~(HUGE_BYTES - 1));
}

void *mh_bigmem_alloc(size_t bytes, size_t small)
{
	size_t len, map, lead;
	unsigned char *p, *start;

	small = page_round(small);
	len = mapped_bytes(page_round(bytes), small);
	if (len <= small + HUGE_BYTES) {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		return p == MAP_FAILED ? NULL : p;
	}
	/* Map a huge page more, then cut it so that the huge part starts on a boundary. */
	map = len + HUGE_BYTES;
	p = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	start = (unsigned char *)(((uintptr_t)p + small + HUGE_BYTES - 1) & ~(HUGE_BYTES - 1)) -
		small;
	lead = (size_t)(start - p);
	if (lead)
		(void)munmap(p, lead);
	(void)munmap(start + len, map - lead - len);
	(void)madvise(start + small, len - small, MADV_HUGEPAGE);
	return start;
}

void mh_bigmem_free(void *p, size_t bytes, size_t small)
{
	/* Our own mapping: nothing to do if unmapping fails. */
	if (p)
		(void)munmap(p, mapped_bytes(page_round(bytes), page_round(small)));
}

void mh_bigmem_fill(void *buf, size_t small, size_t *mapped, size_t upto)
{
	size_t to;

	if (upto <= *mapped || *mapped >= small)
		return;
	to = page_round(upto > small / 2 ? small : 2 * upto);
	mh_prefault((unsigned char *)buf + *mapped, to - *mapped);
	*mapped = to;
}

void mh_prefault(void *p, size_t bytes)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), lo, hi;
	int saved = errno;

	if (!bytes || __atomic_load_n(&populate_refused, __ATOMIC_RELAXED))
		return;
	lo = (uintptr_t)p & ~(page - 1);
	hi = (uintptr_t)p + bytes;
	if (madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE) < 0 && errno == EINVAL)
		__atomic_store_n(&populate_refused, 1, __ATOMIC_RELAXED);
	errno = saved;
}
