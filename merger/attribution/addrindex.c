// SPDX-License-Identifier: MIT
/*
 * addrindex.c - address-range ownership index.
 *
 * Small ranges (at most one page) live in per-page buckets, found through
 * an open-addressing table of page number -> bucket (linear probing,
 * backward-shift deletion), each an array sorted by start holding the
 * ranges that START in that page; a small range can reach at most into the next page, so a
 * lookup looks at the page of the address and the page before it. Large
 * ranges live in glibc's tsearch tree (a red-black tree), ordered by
 * start; lookups descend it with a containment comparison, valid because
 * ranges never overlap. Emptied buckets are kept for reuse, so a block
 * that comes and goes on a page costs no allocation here.
 */
#include "merger/attribution/addrindex.h"

#include <errno.h>
#include <search.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/*
 * Why not uthash, our hash library: every allocation and free looks its
 * page up here, and uthash lets chains grow to 10 nodes before it
 * doubles, each link a cache miss; the lookup took 19% of a report's
 * cycles (20M events, two threads, perf record). A slot here holds the
 * page number beside the bucket, so a probe reads no bucket.
 */
struct page_slot {
	__u64 page;
	struct bucket *bucket;		/* NULL: empty */
};

/* Slots of the first table. Power of two. */
#define PAGE_TABLE_MIN_SLOTS 64

/* Page numbers are clustered: mix all bits (murmur3 finalizer). */
static inline __u64 page_hash(__u64 k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return k;
}

struct range {
	__u64 start;
	__u64 size;
	void *owner;
};

struct bucket {
	__u64 page;		/* start >> page_shift of every range in it */
	struct range *ranges;	/* sorted by start */
	size_t count;
	size_t capacity;
	struct bucket *next_spare;	/* in mh_addrindex's spare list */
};

struct mh_addrindex {
	__u64 page_bytes;
	unsigned int page_shift;
	struct page_slot *slots;	/* page -> bucket; NULL until the first small range */
	size_t mask;			/* slot count - 1 */
	size_t used;			/* slots holding a bucket */
	struct bucket *spare;	/* emptied buckets kept for reuse */
	void *large;		/* tsearch root of struct range * */
	size_t count;
};

struct mh_addrindex *mh_addrindex_new(__u64 page_bytes)
{
	struct mh_addrindex *idx;

	if (!page_bytes || (page_bytes & (page_bytes - 1))) {
		errno = EINVAL;
		return NULL;
	}
	idx = calloc(1, sizeof(*idx));
	if (!idx)
		return NULL;
	idx->page_bytes = page_bytes;
	idx->page_shift = __builtin_ctzll(page_bytes);
	return idx;
}

static void free_range(void *node)
{
	free(node);
}

void mh_addrindex_free(struct mh_addrindex *idx)
{
	struct bucket *b;

	if (!idx)
		return;
	for (size_t i = 0; idx->slots && i <= idx->mask; i++) {
		if (idx->slots[i].bucket) {
			free(idx->slots[i].bucket->ranges);
			free(idx->slots[i].bucket);
		}
	}
	free(idx->slots);
	while (idx->spare) {
		b = idx->spare;
		idx->spare = b->next_spare;
		free(b->ranges);
		free(b);
	}
	tdestroy(idx->large, free_range);
	free(idx);
}

size_t mh_addrindex_count(const struct mh_addrindex *idx)
{
	return idx->count;
}

static bool is_small(const struct mh_addrindex *idx, __u64 size)
{
	return size <= idx->page_bytes;
}

/* Tree order: by start. */
static int by_start(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Tree search: a key whose start is the address, against ranges that may contain it. */
static int containing(const void *key, const void *node)
{
	const struct range *k = key, *r = node;
	__u64 extent = r->size ? r->size : 1;

	if (k->start < r->start)
		return -1;
	return k->start - r->start >= extent;
}

/* First index in b whose start is >= start. */
static size_t lower_bound(const struct bucket *b, __u64 start)
{
	size_t lo = 0, hi = b->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (b->ranges[mid].start < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct bucket *find_bucket(const struct mh_addrindex *idx, __u64 page)
{
	size_t i;

	if (!idx->slots)
		return NULL;
	for (i = page_hash(page) & idx->mask; idx->slots[i].bucket; i = (i + 1) & idx->mask)
		if (idx->slots[i].page == page)
			return idx->slots[i].bucket;
	return NULL;
}

/* Put b in the first free slot of its probe sequence (the table has room). */
static void place_bucket(struct page_slot *slots, size_t mask, struct bucket *b)
{
	size_t i;

	for (i = page_hash(b->page) & mask; slots[i].bucket; i = (i + 1) & mask)
		;
	slots[i] = (struct page_slot){ b->page, b };
}

/* Add b (its page not in the table), doubling the table above half full. 0 or -ENOMEM. */
static int add_bucket(struct mh_addrindex *idx, struct bucket *b)
{
	size_t n = idx->slots ? (idx->mask + 1) * 2 : PAGE_TABLE_MIN_SLOTS;
	struct page_slot *slots;

	if (idx->slots && (idx->used + 1) * 2 <= idx->mask + 1) {
		place_bucket(idx->slots, idx->mask, b);
		idx->used++;
		return 0;
	}
	slots = calloc(n, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; idx->slots && i <= idx->mask; i++)
		if (idx->slots[i].bucket)
			place_bucket(slots, n - 1, idx->slots[i].bucket);
	free(idx->slots);
	idx->slots = slots;
	idx->mask = n - 1;
	place_bucket(idx->slots, idx->mask, b);
	idx->used++;
	return 0;
}

/* Take b's slot out, shifting back the entries after it that probed past it. */
static void del_bucket(struct mh_addrindex *idx, const struct bucket *b)
{
	size_t hole, i, home;

	for (hole = page_hash(b->page) & idx->mask; idx->slots[hole].bucket != b;
	     hole = (hole + 1) & idx->mask)
		;
	for (i = (hole + 1) & idx->mask; idx->slots[i].bucket; i = (i + 1) & idx->mask) {
		home = page_hash(idx->slots[i].page) & idx->mask;
		/* Move i into the hole unless its home lies cyclically in (hole, i]. */
		if (((i - home) & idx->mask) >= ((i - hole) & idx->mask)) {
			idx->slots[hole] = idx->slots[i];
			hole = i;
		}
	}
	idx->slots[hole] = (struct page_slot){ 0, NULL };
	idx->used--;
}

static int insert_small(struct mh_addrindex *idx, const struct range *r)
{
	__u64 page = r->start >> idx->page_shift;
	struct bucket *b = find_bucket(idx, page);
	size_t at;

	if (!b && idx->spare) {
		b = idx->spare;
		b->page = page;
		if (add_bucket(idx, b))
			return -ENOMEM;
		idx->spare = b->next_spare;
	} else if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b)
			return -ENOMEM;
		b->page = page;
		if (add_bucket(idx, b)) {
			free(b);
			return -ENOMEM;
		}
	}
	at = lower_bound(b, r->start);
	if (at < b->count && b->ranges[at].start == r->start)
		return -EEXIST;
	if (b->count == b->capacity) {
		size_t grown = b->capacity ? 2 * b->capacity : 4;
		struct range *ranges = realloc(b->ranges, grown * sizeof(*ranges));

		if (!ranges)
			return -ENOMEM;
		b->ranges = ranges;
		b->capacity = grown;
	}
	memmove(&b->ranges[at + 1], &b->ranges[at], (b->count - at) * sizeof(*b->ranges));
	b->ranges[at] = *r;
	b->count++;
	return 0;
}

static int insert_large(struct mh_addrindex *idx, const struct range *r)
{
	struct range *node = malloc(sizeof(*node));
	struct range **found;

	if (!node)
		return -ENOMEM;
	*node = *r;
	found = tsearch(node, &idx->large, by_start);
	if (!found) {
		free(node);
		return -ENOMEM;
	}
	if (*found != node) {
		free(node);
		return -EEXIST;
	}
	return 0;
}

int mh_addrindex_insert(struct mh_addrindex *idx, __u64 start, __u64 size, void *owner)
{
	struct range r = { .start = start, .size = size, .owner = owner };
	int err = is_small(idx, size) ? insert_small(idx, &r) : insert_large(idx, &r);

	if (!err)
		idx->count++;
	return err;
}

static void *remove_small(struct mh_addrindex *idx, __u64 start)
{
	struct bucket *b = find_bucket(idx, start >> idx->page_shift);
	void *owner;
	size_t at;

	if (!b)
		return NULL;
	at = lower_bound(b, start);
	if (at == b->count || b->ranges[at].start != start)
		return NULL;
	owner = b->ranges[at].owner;
	memmove(&b->ranges[at], &b->ranges[at + 1], (b->count - at - 1) * sizeof(*b->ranges));
	if (--b->count == 0) {
		del_bucket(idx, b);
		b->next_spare = idx->spare;
		idx->spare = b;
	}
	return owner;
}

static void *remove_large(struct mh_addrindex *idx, __u64 start)
{
	struct range key = { .start = start };
	struct range **found = tfind(&key, &idx->large, by_start);
	struct range *node;
	void *owner;

	if (!found)
		return NULL;
	node = *found;
	owner = node->owner;
	tdelete(node, &idx->large, by_start);
	free(node);
	return owner;
}

void *mh_addrindex_remove(struct mh_addrindex *idx, __u64 start)
{
	/* The size is not known here: a range starting at start is in one place or the other. */
	void *owner = remove_small(idx, start);

	if (!owner)
		owner = remove_large(idx, start);
	if (owner)
		idx->count--;
	return owner;
}

static const struct range *find_small(const struct mh_addrindex *idx, __u64 addr)
{
	__u64 page = addr >> idx->page_shift;

	for (int back = 0; back <= 1 && page >= (__u64)back; back++) {
		const struct bucket *b = find_bucket(idx, page - back);
		size_t at;

		if (!b)
			continue;
		/* The last range starting at or before addr. */
		at = lower_bound(b, addr + 1);
		if (at) {
			const struct range *r = &b->ranges[at - 1];
			__u64 extent = r->size ? r->size : 1;

			if (addr - r->start < extent)
				return r;
		}
	}
	return NULL;
}

void *mh_addrindex_find(const struct mh_addrindex *idx, __u64 addr, __u64 *start, __u64 *size)
{
	const struct range *r = find_small(idx, addr);

	if (!r && idx->large) {
		struct range key = { .start = addr };
		struct range *const *found = tfind(&key, (void *const *)&idx->large, containing);

		r = found ? *found : NULL;
	}
	if (!r)
		return NULL;
	if (start)
		*start = r->start;
	if (size)
		*size = r->size;
	return r->owner;
}
