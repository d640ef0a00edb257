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

/* The verdicts of one pid whose image is not named yet. */
struct mh_pending_verdicts {
	uint32_t pid;
	uint64_t records;		/* MH_REC_LEAK records */
	struct mh_verdict *verdicts;	/* by address */
	UT_hash_handle hh;
};

/* Set the verdict on addr in *table (the last one given wins). 0 or -ENOMEM. */
static int verdict_set(struct mh_verdict **table, uint64_t addr, uint32_t kind)
{
	struct mh_verdict *v;

	HASH_FIND(hh, *table, &addr, sizeof(addr), v);
	if (!v) {
		v = calloc(1, sizeof(*v));
		if (!v)
			return -ENOMEM;
		v->addr = addr;
		HASH_ADD(hh, *table, addr, sizeof(v->addr), v);
	}
	v->kind = kind;
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

int mh_leaks_note(struct mh_replay *rp, const struct mh_rec_leak *rec)
{
	struct mh_pending_verdicts *pv;

	HASH_FIND(hh, rp->pending_verdicts, &rec->pid, sizeof(rec->pid), pv);
	if (!pv) {
		pv = calloc(1, sizeof(*pv));
		if (!pv)
			return -ENOMEM;
		pv->pid = rec->pid;
		HASH_ADD(hh, rp->pending_verdicts, pid, sizeof(pv->pid), pv);
	}
	pv->records++;
	return verdict_set(&pv->verdicts, rec->addr, rec->kind < MH_LEAK_KINDS ? rec->kind : 0);
}

static void free_table(struct mh_verdict **table)
{
	struct mh_verdict *v, *tmp;

	HASH_ITER(hh, *table, v, tmp) {
		HASH_DEL(*table, v);
		free(v);
	}
}

int mh_leaks_adopt(struct mh_replay *rp, struct mh_process *p)
{
	struct mh_pending_verdicts *pv;
	struct mh_verdict *v, *tmp;
	int err = 0;

	HASH_FIND(hh, rp->pending_verdicts, &p->pid, sizeof(p->pid), pv);
	if (!pv)
		return 0;
	HASH_DEL(rp->pending_verdicts, pv);
	p->leak_verdicts += pv->records;
	if (!p->verdicts) {
		p->verdicts = pv->verdicts;
		pv->verdicts = NULL;
	}
	HASH_ITER(hh, pv->verdicts, v, tmp) {
		if (!err)
			err = verdict_set(&p->verdicts, v->addr, v->kind);
	}
	free_table(&pv->verdicts);
	free(pv);
	return err;
}

int mh_leaks_adopt_rest(struct mh_replay *rp)
{
	struct mh_pending_verdicts *pv, *tmp;
	struct mh_process *p;
	int err = 0;

	HASH_ITER(hh, rp->pending_verdicts, pv, tmp) {
		p = mh_replay_process(rp, pv->pid);
		if (!p)
			return -ENOMEM;
		err = mh_leaks_adopt(rp, p);
		if (err)
			return err;
	}
	return 0;
}

void mh_leaks_free_pending(struct mh_replay *rp)
{
	struct mh_pending_verdicts *pv, *tmp;

	HASH_ITER(hh, rp->pending_verdicts, pv, tmp) {
		HASH_DEL(rp->pending_verdicts, pv);
		free_table(&pv->verdicts);
		free(pv);
	}
}

/* One live block into its kind's sums: only sums, so the table's order never shows. */
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
	free_table(&p->verdicts);
}
