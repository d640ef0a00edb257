// SPDX-License-Identifier: MIT
/*
 * bootstrap.c - the static arena that answers allocations before dlsym
 * has found the real allocator. Bump allocation only: the loader and
 * dlsym make a handful of small requests, once.
 *
 * Never calls anything: no allocator, no system call, no stdio.
 */
#include "preload/bootstrap.h"

#include <errno.h>
#include <stdint.h>

#define BOOT_MIN_ALIGN 16

/* Each block is preceded by its size, in the 16 bytes before it. */
struct boot_hdr {
	size_t size;
	size_t pad;
};

_Alignas(BOOT_MIN_ALIGN) unsigned char mh_boot_arena[MH_BOOT_ARENA_BYTES];
static size_t arena_used;

void *mh_boot_alloc(size_t size, size_t align)
{
	size_t used = __atomic_load_n(&arena_used, __ATOMIC_RELAXED), start, end;

	if (align < BOOT_MIN_ALIGN)
		align = BOOT_MIN_ALIGN;
	if (align & (align - 1) || size > MH_BOOT_ARENA_BYTES)
		goto out_nomem;
	do {
		start = (used + sizeof(struct boot_hdr) + align - 1) & ~(align - 1);
		end = start + size;
		if (end > MH_BOOT_ARENA_BYTES)
			goto out_nomem;
	} while (!__atomic_compare_exchange_n(&arena_used, &used, end, true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	((struct boot_hdr *)(mh_boot_arena + start))[-1].size = size;
	return mh_boot_arena + start;

out_nomem:
	errno = ENOMEM;
	return NULL;
}

size_t mh_boot_size(const void *p)
{
	return ((const struct boot_hdr *)p)[-1].size;
}
