/* SPDX-License-Identifier: MIT */
/*
 * compact_table.h - the compact encoder's hash tables (trace/compact.c
 * alone includes it): 64-bit key -> index, open addressing, valid for one
 * chunk, forgotten in O(1) by bumping a generation number. Inline, since
 * the encoder looks up two or three keys per event. Never prints.
 */
#ifndef MEMHOOK_TRACE_COMPACT_TABLE_H
#define MEMHOOK_TRACE_COMPACT_TABLE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

/* Open-addressing hash slot: valid only in the chunk whose gen it carries. */
struct slot {
	__u64 key;
	__u32 gen;
	__u32 index;
};

struct table {
	struct slot *slots;
	__u32 mask;			/* slot count - 1; slot count a power of two */
	__u32 used;
};

static inline void table_clear(struct table *t, bool slots)
{
	if (slots && t->slots)
		memset(t->slots, 0, (t->mask + 1ULL) * sizeof(struct slot));
	t->used = 0;
}

static inline __u64 mix(__u64 k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return k;
}

/* Double the table (64 slots at first), keeping this chunk's entries. 0 or -ENOMEM. */
static inline int table_grow(struct table *t, __u32 gen)
{
	size_t n = t->slots ? (t->mask + 1ULL) * 2 : 64, i, j;
	struct slot *s = calloc(n, sizeof(*s));

	if (!s || n > UINT32_MAX) {
		free(s);
		return -ENOMEM;
	}
	for (i = 0; t->slots && i <= t->mask; i++) {
		if (t->slots[i].gen != gen)
			continue;
		for (j = mix(t->slots[i].key) & (n - 1); s[j].gen == gen; j = (j + 1) & (n - 1))
			;
		s[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = s;
	t->mask = (__u32)(n - 1);
	return 0;
}

/*
 * The slot of key in this chunk; when absent it is added and *fresh set
 * (the caller fills in its index). NULL when out of memory.
 */
static inline struct slot *table_slot(struct table *t, __u32 gen, __u64 key, bool *fresh)
{
	struct slot *s;
	size_t i;

	if ((t->used + 1ULL) * 2 > t->mask + 1ULL && table_grow(t, gen))
		return NULL;
	for (i = mix(key) & t->mask;; i = (i + 1) & t->mask) {
		s = &t->slots[i];
		if (s->gen != gen) {
			s->key = key;
			s->gen = gen;
			t->used++;
			*fresh = true;
			return s;
		}
		if (s->key == key) {
			*fresh = false;
			return s;
		}
	}
}

#endif /* MEMHOOK_TRACE_COMPACT_TABLE_H */
