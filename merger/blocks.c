// SPDX-License-Identifier: MIT
/*
 * blocks.c - the live allocation table of one process (uthash keyed by
 * address), with block nodes recycled through a free list of slabs.
 *
 * Must never grow with the number of events: a freed block's node goes
 * back to the free list and is reused by the next allocation.
 */
#include "blocks.h"

#include <errno.h>
#include <stdlib.h>

/*
 * Heap addresses are 16-byte aligned and clustered; mix all bits so that
 * uthash's power-of-two buckets see the entropy (a murmur3 finalizer).
 */
static inline uint32_t addr_hash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (uint32_t)k;
}

#undef HASH_FUNCTION
#define HASH_FUNCTION(keyptr, keylen, hashv) ((hashv) = addr_hash(*(const uint64_t *)(keyptr)))
/* Keys are one address: compare it directly, not through memcmp(). */
#undef HASH_KEYCMP
#define HASH_KEYCMP(a, b, n) (*(const uint64_t *)(a) != *(const uint64_t *)(b))

/* Block nodes allocated together; a slab is never returned before the end. */
#define BLOCKS_PER_SLAB 4096

struct slab {
	struct slab *next;
	struct mh_block nodes[BLOCKS_PER_SLAB];
};

struct mh_blocks {
	struct mh_block *table;	/* uthash head */
	struct mh_block *free_list; /* recycled nodes, linked through ->stack */
	struct slab *slabs;
	uint64_t count;
};

struct mh_blocks *mh_blocks_new(void)
{
	return calloc(1, sizeof(struct mh_blocks));
}

void mh_blocks_free(struct mh_blocks *b)
{
	struct slab *s, *next;

	if (!b)
		return;
	HASH_CLEAR(hh, b->table);
	for (s = b->slabs; s; s = next) {
		next = s->next;
		free(s);
	}
	free(b);
}

struct mh_block *mh_blocks_find(struct mh_blocks *b, uint64_t addr)
{
	struct mh_block *blk;

	HASH_FIND(hh, b->table, &addr, sizeof(addr), blk);
	return blk;
}

static struct mh_block *node_get(struct mh_blocks *b)
{
	struct mh_block *blk = b->free_list;
	struct slab *s;
	int i;

	if (blk) {
		b->free_list = (struct mh_block *)blk->stack;
		return blk;
	}
	s = malloc(sizeof(*s));
	if (!s)
		return NULL;
	s->next = b->slabs;
	b->slabs = s;
	for (i = BLOCKS_PER_SLAB - 1; i > 0; i--) {
		s->nodes[i].stack = (struct mh_stack_stats *)b->free_list;
		b->free_list = &s->nodes[i];
	}
	return &s->nodes[0];
}

struct mh_block *mh_blocks_add(struct mh_blocks *b, uint64_t addr, uint64_t size,
			       struct mh_stack_stats *stack)
{
	struct mh_block *blk = node_get(b);

	if (!blk) {
		errno = ENOMEM;
		return NULL;
	}
	blk->addr = addr;
	blk->size = size;
	blk->stack = stack;
	HASH_ADD(hh, b->table, addr, sizeof(blk->addr), blk);
	b->count++;
	return blk;
}

void mh_blocks_remove(struct mh_blocks *b, struct mh_block *blk)
{
	HASH_DELETE(hh, b->table, blk);
	blk->stack = (struct mh_stack_stats *)b->free_list;
	b->free_list = blk;
	b->count--;
}

uint64_t mh_blocks_count(const struct mh_blocks *b)
{
	return b->count;
}

void mh_blocks_foreach(struct mh_blocks *b, void (*fn)(struct mh_block *blk, void *arg),
		       void *arg)
{
	struct mh_block *blk, *tmp;

	HASH_ITER(hh, b->table, blk, tmp)
		fn(blk, arg);
}
