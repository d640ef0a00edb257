/* SPDX-License-Identifier: MIT */
/*
 * addrindex.h - who owns address X now: an index of non-overlapping
 * address ranges (live blocks, or mappings) with O(1) expected lookup for
 * ranges no larger than a page and O(log n) for larger ones, and no
 * per-page state for large ranges (a 100 GiB mapping costs one entry).
 * Never prints.
 */
#ifndef MEMHOOK_MERGER_ATTRIBUTION_ADDRINDEX_H
#define MEMHOOK_MERGER_ATTRIBUTION_ADDRINDEX_H

#include <stddef.h>

#include <linux/types.h>

struct mh_addrindex;

/* An empty index; page_bytes (a power of two) sets the small/large split. NULL + errno. */
struct mh_addrindex *mh_addrindex_new(__u64 page_bytes);

/* Free the index. Accepts NULL. */
void mh_addrindex_free(struct mh_addrindex *idx);

/*
 * Add [start, start + size) owned by owner (not NULL). A 0-byte range owns its start
 * address. The caller keeps ranges from overlapping. 0, -EEXIST if a range
 * already starts at start, or -ENOMEM.
 */
int mh_addrindex_insert(struct mh_addrindex *idx, __u64 start, __u64 size, void *owner);

/* Remove the range starting at start. Returns its owner, or NULL if none. */
void *mh_addrindex_remove(struct mh_addrindex *idx, __u64 start);

/*
 * The owner of the range containing addr, or NULL. *start and *size (may
 * be NULL) receive the range.
 */
void *mh_addrindex_find(const struct mh_addrindex *idx, __u64 addr, __u64 *start, __u64 *size);

/* Number of ranges held. */
size_t mh_addrindex_count(const struct mh_addrindex *idx);

#endif /* MEMHOOK_MERGER_ATTRIBUTION_ADDRINDEX_H */
