// SPDX-License-Identifier: MIT
/*
 * residency.c - residency snapshots (MH_REC_PAGEMAP: present and swapped
 * bits per page of the anonymous writable mappings) applied to the blocks
 * live when they were taken.
 *
 * A snapshot is a run of PAGEMAP records of one process with increasing
 * start addresses; a record whose start is not above the previous one
 * begins the next snapshot. Records are held only until the replay moves
 * on to any other record, then applied in one pass over the live blocks:
 * each block gets, per page it overlaps, the overlapping bytes if the page
 * is present (or swapped), so blocks sharing a page each get their own
 * share and no byte is counted twice. Ranges that hold a live block, or
 * held one in an earlier snapshot, or lie in the kernel-reported brk heap,
 * are allocator memory: their resident bytes outside live blocks are the
 * retained free heap. Other ranges go to their mapping by name.
 *
 * Must never keep a snapshot after it is applied, nor anything per page.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "merger/attribution/attr_internal.h"
#include "common/blocks.h"
#include "merger/replay/replay.h"

#define PRESENT_BITS 0x5555555555555555ULL
#define SWAPPED_BITS 0xaaaaaaaaaaaaaaaaULL

static uint64_t bitmap_words(uint64_t pages)
{
	return (2 * pages + 63) / 64;
}

/* Present (bit 0) and swapped (bit 1) of page i of a record. */
static unsigned page_bits(const struct mh_rec_pagemap *rec, uint64_t i)
{
	const uint64_t *bits = (const uint64_t *)(rec + 1);

	return (bits[i / 32] >> (2 * (i % 32))) & 3;
}

static int part_cmp(const void *x, const void *y)
{
	const struct mh_snap_part *a = x, *b = y;

	return a->rec->start < b->rec->start ? -1 : a->rec->start > b->rec->start;
}

/* Last part starting at or before addr, or -1. */
static long part_find(const struct mh_attr *a, uint64_t addr)
{
	long lo = 0, hi = (long)a->part_count;

	while (lo < hi) {
		long mid = lo + (hi - lo) / 2;

		if (a->parts[mid].rec->start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo - 1;
}

struct apply_ctx {
	struct mh_attr *a;
};

/*
 * Walk the pages of one block through the parts, charging its stack:
 * sums and flags only, so the block table's order never shows.
 */
static void apply_block(struct mh_block *blk, void *arg)
{
	struct mh_attr *a = ((struct apply_ctx *)arg)->a;
	uint64_t cur = blk->addr, end = blk->addr + blk->size;
	uint64_t res = 0, swp = 0;
	long i = part_find(a, cur);
	struct mh_stack_stats *st = blk->stack;

	while (cur < end) {
		struct mh_snap_part *pt = i >= 0 ? &a->parts[i] : NULL;

		if (!pt || cur >= pt->end) {
			/* In a gap: jump to the next part if the block reaches it. */
			if (i + 1 >= (long)a->part_count || a->parts[i + 1].rec->start >= end)
				break;
			i++;
			cur = a->parts[i].rec->start > cur ? a->parts[i].rec->start : cur;
			continue;
		}
		pt->has_block = true;
		while (cur < end && cur < pt->end) {
			uint64_t ps = pt->rec->page_size;
			uint64_t idx = (cur - pt->rec->start) / ps;
			uint64_t page_end = pt->rec->start + (idx + 1) * ps;
			uint64_t n = (end < page_end ? end : page_end) - cur;
			unsigned bits = page_bits(pt->rec, idx);

			if (bits & 1) {
				res += n;
				pt->covered += n;
			} else if (bits & 2) {
				swp += n;
				pt->covered_swapped += n;
			}
			cur += n;
		}
	}
	if (st->snap_id != a->snap_id) {
		st->snap_id = a->snap_id;
		st->resident_bytes = 0;
		st->swapped_bytes = 0;
	}
	st->resident_bytes += res;
	st->swapped_bytes += swp;
}

static bool held_heap(const struct mh_attr *a, uint64_t start, uint64_t end)
{
	size_t i;

	if (a->brk_end > a->brk_start && start < a->brk_end && end > a->brk_start)
		return true;
	for (i = 0; i < a->heap_range_count; i++) {
		if (start < a->heap_ranges[i][1] && end > a->heap_ranges[i][0])
			return true;
	}
	return false;
}

/* Remember a range that held heap: widen the one it overlaps, or add it. */
static int remember_heap_range(struct mh_attr *a, uint64_t start, uint64_t end)
{
	uint64_t (*r)[2];
	size_t i, cap;

	for (i = 0; i < a->heap_range_count; i++) {
		r = &a->heap_ranges[i];
		if (start < (*r)[1] && end > (*r)[0]) {
			if (start < (*r)[0])
				(*r)[0] = start;
			if (end > (*r)[1])
				(*r)[1] = end;
			return 0;
		}
	}
	if (a->heap_range_count == a->heap_range_cap) {
		cap = a->heap_range_cap ? 2 * a->heap_range_cap : 16;
		r = realloc(a->heap_ranges, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		a->heap_ranges = r;
		a->heap_range_cap = cap;
	}
	a->heap_ranges[a->heap_range_count][0] = start;
	a->heap_ranges[a->heap_range_count][1] = end;
	a->heap_range_count++;
	return 0;
}

static uint64_t popcount_bits(const struct mh_rec_pagemap *rec, uint64_t mask)
{
	const uint64_t *bits = (const uint64_t *)(rec + 1);
	uint64_t i, n = 0;

	for (i = 0; i < bitmap_words(rec->page_count); i++)
		n += (uint64_t)__builtin_popcountll(bits[i] & mask);
	return n;
}

/* Totals of one applied part: heap or mapping. */
static int account_part(struct mh_attribution *at, struct mh_process *p, struct mh_snap_part *pt)
{
	struct mh_attr *a = p->attr;
	uint64_t ps = pt->rec->page_size;
	uint64_t res = popcount_bits(pt->rec, PRESENT_BITS) * ps;
	uint64_t swp = popcount_bits(pt->rec, SWAPPED_BITS) * ps;
	struct mh_map_stats *ms;

	a->snap_resident += res;
	a->snap_swapped += swp;
	if (pt->has_block || held_heap(a, pt->rec->start, pt->end) ||
	    mh_replay_held_heap(p, pt->rec->start, pt->end)) {
		a->snap_heap_resident += res;
		a->snap_covered += pt->covered;
		return pt->has_block ? remember_heap_range(a, pt->rec->start, pt->end) : 0;
	}
	ms = mh_attr_mapping_of(at, p, pt->rec->start);
	if (!ms)
		return -ENOMEM;
	if (ms->snap_id != a->snap_id) {
		ms->snap_id = a->snap_id;
		ms->resident_bytes = 0;
		ms->swapped_bytes = 0;
	}
	ms->resident_bytes += res;
	ms->swapped_bytes += swp;
	return 0;
}

int mh_attr_apply_pending(struct mh_attribution *at)
{
	struct mh_process *p = at->snap_pending;
	struct mh_attr *a;
	struct apply_ctx ctx;
	size_t i;
	int err = 0;

	at->snap_pending = NULL;
	if (!p || !p->attr || !p->attr->part_count)
		return 0;
	a = p->attr;
	ctx.a = a;
	qsort(a->parts, a->part_count, sizeof(*a->parts), part_cmp);
	mh_blocks_foreach(p->blocks, apply_block, &ctx);
	for (i = 0; i < a->part_count; i++) {
		if (!err)
			err = account_part(at, p, &a->parts[i]);
		free(a->parts[i].rec);
	}
	a->part_count = 0;
	return err;
}

void mh_residency_close(struct mh_process *p)
{
	struct mh_attr *a = p->attr;
	struct mh_stack_stats *st;
	struct mh_map_stats *ms;
	uint64_t rss;

	if (!a || !a->snap_open)
		return;
	a->snap_open = false;
	a->resident_bytes = a->snap_resident;
	a->heap_resident_bytes = a->snap_heap_resident;
	a->retained_free_heap_bytes = a->snap_heap_resident > a->snap_covered ?
				      a->snap_heap_resident - a->snap_covered : 0;
	a->exit_snap_ts_ns = a->snap_ts_ns;
	/* "[heap free]" in mappings[] is the retained free heap. */
	ms = mh_map_stats_get(a, MH_MAP_HEAP_FREE, "[heap free]", 0);
	if (ms) {
		ms->snap_id = a->snap_id;
		ms->resident_bytes = a->retained_free_heap_bytes;
		ms->swapped_bytes = 0;
	}
	rss = a->snap_rss_known ? a->snap_rss[MH_RSS_ANON] + a->snap_rss[MH_RSS_FILE] +
				  a->snap_rss[MH_RSS_SHMEM] : a->snap_resident;
	/*
	 * RSS samples come less often than snapshots, so several snapshots
	 * can share the peak sample: among those, the one with most resident
	 * anonymous memory is nearest the peak.
	 */
	if (rss > a->peak_snap_rss || a->snapshots == 1 ||
	    (rss == a->peak_snap_rss && a->snap_resident >= a->peak_snap_resident)) {
		a->peak_snap_rss = rss;
		a->peak_snap_resident = a->snap_resident;
		a->peak_snap_ts_ns = a->snap_ts_ns;
		a->retained_at_rss_peak = a->retained_free_heap_bytes;
		for (st = p->stacks; st; st = st->hh.next)
			st->resident_at_rss_peak =
				st->snap_id == a->snap_id ? st->resident_bytes : 0;
	}
	mh_rss_timeline_snapshot(p, a->snap_ts_ns);
}

int mh_residency_add(struct mh_attribution *at, struct mh_process *p,
		     const struct mh_rec_pagemap *rec)
{
	struct mh_attr *a = mh_attr_get(at, p);
	uint64_t words = bitmap_words(rec->page_count);
	struct mh_snap_part *pt;
	int err;

	if (!a)
		return -ENOMEM;
	if (!rec->page_size || (rec->page_size & (rec->page_size - 1)) ||
	    rec->page_count > (UINT64_MAX - rec->start) / rec->page_size ||
	    (rec->hdr.size - sizeof(*rec)) / sizeof(uint64_t) < words)
		return -EBADMSG;
	if (at->snap_pending && at->snap_pending != p) {
		err = mh_attr_apply_pending(at);
		if (err)
			return err;
	}
	if (!a->snap_open || rec->start <= a->snap_last_start) {
		err = mh_attr_apply_pending(at);
		if (err)
			return err;
		mh_residency_close(p);
		a->snapshots++;
		a->snap_id++;
		a->snap_open = true;
		a->snap_ts_ns = rec->ts_ns;
		a->snap_resident = a->snap_heap_resident = a->snap_covered = a->snap_swapped = 0;
		for (unsigned m = 0; m < 4; m++)
			a->snap_rss[m] = m == MH_RSS_SWAPENTS ? a->rss[m] : mh_attr_program(a, m);
		a->snap_rss_known = a->rss_from_kernel || a->rss_from_sampler;
		a->snap_live_bytes = p->live_bytes;
	}
	if (a->part_count == a->part_cap) {
		size_t cap = a->part_cap ? 2 * a->part_cap : 64;
		struct mh_snap_part *parts = realloc(a->parts, cap * sizeof(*parts));

		if (!parts)
			return -ENOMEM;
		a->parts = parts;
		a->part_cap = cap;
	}
	pt = &a->parts[a->part_count];
	memset(pt, 0, sizeof(*pt));
	pt->rec = malloc(rec->hdr.size);
	if (!pt->rec)
		return -ENOMEM;
	memcpy(pt->rec, rec, rec->hdr.size);
	pt->end = rec->start + rec->page_count * rec->page_size;
	a->part_count++;
	a->snap_last_start = rec->start;
	if (!a->page_size)
		a->page_size = rec->page_size;
	at->snap_pending = p;
	/* Applied before the next record, unless that is another part (mh_attr_apply_pending()). */
	mh_replay_call_before_next(at->rp);
	return 0;
}
