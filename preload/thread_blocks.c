// SPDX-License-Identifier: MIT
/*
 * thread_blocks.c - pools of per-thread blocks (thread_blocks.h): one
 * anonymous mapping per pool, a bitmap of the blocks threads hold.
 *
 * A fork child inherits the mapping, the bitmap and its thread's block,
 * all still right for it; the blocks of the parent's other threads stay
 * held there (the child has fewer to hand out). Never allocates through
 * malloc, never prints, never blocks: it runs inside the target's malloc.
 */
#include "preload/thread_blocks.h"

#include <errno.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload/ownmaps.h"
#include "preload/sys.h"

int mh_thread_blocks_setup(struct mh_thread_blocks *p, size_t block_bytes)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t bytes;
	void *base;

	block_bytes = (block_bytes + page - 1) & ~(page - 1);
	bytes = block_bytes * MH_THREAD_BLOCKS;
	base = mh_sys_mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return -errno;
	mh_ownmaps_note(base, bytes);
	p->block_bytes = block_bytes;
	__atomic_store_n(&p->base, base, __ATOMIC_RELEASE);
	return 0;
}

static void *take(struct mh_thread_blocks *p)
{
	char *base = __atomic_load_n(&p->base, __ATOMIC_ACQUIRE);
	unsigned int i, b;
	__u64 w;

	if (!base)
		return NULL;
	for (i = 0; i < MH_THREAD_BLOCKS / 64; i++) {
		w = __atomic_load_n(&p->held[i], __ATOMIC_RELAXED);
		while (~w) {
			b = (unsigned int)__builtin_ctzll(~w);
			if (__atomic_compare_exchange_n(&p->held[i], &w, w | 1ULL << b, true,
							__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
				return base + ((size_t)i * 64 + b) * p->block_bytes;
		}
	}
	return NULL;
}

static void give(struct mh_thread_blocks *p, void *block)
{
	int saved = errno;
	size_t i;

	if (!block)
		return;
	i = (size_t)((char *)block - p->base) / p->block_bytes;
	/* Zero pages for the next holder, and none resident meanwhile. */
	(void)syscall(SYS_madvise, block, p->block_bytes, MADV_DONTNEED);
	errno = saved;
	__atomic_fetch_and(&p->held[i / 64], ~(1ULL << i % 64), __ATOMIC_RELEASE);
}

void *mh_thread_block_first(struct mh_thread_blocks *p, struct mh_thread_block *b)
{
	if (b->none)
		return NULL;
	b->none = true;
	b->at = take(p);
	b->none = !b->at;
	return b->at;
}

void mh_thread_block_end(struct mh_thread_blocks *p, struct mh_thread_block *b)
{
	void *at = b->at;

	b->none = true;
	b->at = NULL;
	__asm__ __volatile__("" ::: "memory");	/* a signal handler's capture sees it gone */
	give(p, at);
}
