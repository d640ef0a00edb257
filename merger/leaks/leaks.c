// SPDX-License-Identifier: MIT
/*
 * leaks.c - match exit-time leak verdicts to the blocks live at the end of
 * the replay (uthash of verdicts keyed by address, per process).
 *
 * Must never count a verdict whose block is no longer live (freed after
 * the scan) and never drop a live block that has no verdict: it is counted
 * under kind 0, "unknown". Must never call a block lost when allocation
 * events of its process may have been lost (docs/LEAKS.md, "Lossy").
 */
#include "merger/leaks/leaks.h"

#include <errno.h>
#include <stdlib.h>

#include <uthash.h>

#include "common/blocks.h"
#include "merger/replay/replay.h"

struct mh_verdict {
	uint64_t addr;
	uint32_t kind;		/* enum mh_leak_kind */
	UT_hash_handle hh;
};

int mh_leaks_note(struct mh_process *p, const struct mh_rec_leak *rec)
{
	struct mh_verdict *v;

	p->leak_verdicts++;
	HASH_FIND(hh, p->verdicts, &rec->addr, sizeof(rec->addr), v);
	if (!v) {
		v = calloc(1, sizeof(*v));
		if (!v)
			return -ENOMEM;
		v->addr = rec->addr;
		HASH_ADD(hh, p->verdicts, addr, sizeof(v->addr), v);
	}
	v->kind = rec->kind < MH_LEAK_KINDS ? rec->kind : 0;
	return 0;
}

int mh_leaks_note_lost(struct mh_replay *rp, const struct mh_rec_lost *rec)
{
	struct mh_loss_window *w;

	if (rec->stream >= MH_STREAM_COUNT)
		return 0;
	rp->lost[rec->stream] += rec->count;
	if (rec->stream != MH_STREAM_ALLOC)
		return 0;
	if (rec->count) {
		if (rp->loss_window_count == rp->loss_window_cap) {
			size_t cap = rp->loss_window_cap ? 2 * rp->loss_window_cap : 16;

			w = realloc(rp->loss_windows, cap * sizeof(*w));
			if (!w)
				return -ENOMEM;
			rp->loss_windows = w;
			rp->loss_window_cap = cap;
		}
		rp->loss_windows[rp->loss_window_count++] = (struct mh_loss_window){
			.from_ns = rp->loss_seen_ns,
			.to_ns = rec->ts_ns,
		};
	}
	if (rec->ts_ns > rp->loss_seen_ns)
		rp->loss_seen_ns = rec->ts_ns;
	return 0;
}

static int by_end(const void *a, const void *b)
{
	const struct mh_loss_window *x = a, *y = b;

	return x->to_ns < y->to_ns ? -1 : x->to_ns > y->to_ns;
}

/*
 * Whether a loss window meets p's heap lifetime: from its start (or the
 * start of the parent it was forked from) to its exit. A process never
 * announced may have lost its very announcement: any loss counts.
 */
static bool lost_in_lifetime(struct mh_replay *rp, const struct mh_process *p)
{
	uint64_t begin = p->heap_since_ns ? p->heap_since_ns : p->start_ts_ns;
	uint64_t end = p->exited ? p->exit_ts_ns : UINT64_MAX;
	size_t lo = 0, hi = rp->loss_window_count;

	if (!hi)
		return false;
	if (!p->start)
		return true;
	/* The windows do not overlap: only the first one ending at or after begin can meet it. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rp->loss_windows[mid].to_ns < begin)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < rp->loss_window_count && rp->loss_windows[lo].from_ns < end;
}

static void classify_block(struct mh_block *blk, void *arg)
{
	struct mh_process *p = arg;
	struct mh_verdict *v = NULL;
	uint32_t kind;

	if (!p->events_lost)
		HASH_FIND(hh, p->verdicts, &blk->addr, sizeof(blk->addr), v);
	kind = v ? v->kind : 0;
	p->leak_kind_bytes[kind] += blk->size;
	p->leak_kind_blocks[kind]++;
	blk->stack->leak_kind_bytes[kind] += blk->size;
	blk->stack->leak_kind_blocks[kind]++;
}

void mh_leaks_classify(struct mh_replay *rp, struct mh_process *p)
{
	/* Sorted once, before the first process; LOST records come in time order anyway. */
	if (p == rp->procs && rp->loss_window_count > 1)
		qsort(rp->loss_windows, rp->loss_window_count, sizeof(*rp->loss_windows), by_end);
	p->events_lost = lost_in_lifetime(rp, p);
	mh_blocks_foreach(p->blocks, classify_block, p);
	mh_leaks_free(p);
}

void mh_leaks_free(struct mh_process *p)
{
	struct mh_verdict *v, *tmp;

	HASH_ITER(hh, p->verdicts, v, tmp) {
		HASH_DEL(p->verdicts, v);
		free(v);
	}
}
