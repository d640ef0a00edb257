/* SPDX-License-Identifier: MIT */
/*
 * stackstats.h - a process's per-stack figures (struct mh_stack_stats) as
 * the replay reaches them on every allocation and free: through a
 * direct-mapped cache of stack ids in front of the process's table,
 * created and grown in stackstats.c; and what must happen before a
 * stack's live bytes change. Internal to merger/replay. Never prints.
 */
#ifndef MEMHOOK_MERGER_REPLAY_STACKSTATS_H
#define MEMHOOK_MERGER_REPLAY_STACKSTATS_H

#include <stdint.h>

#include "merger/replay/replay.h"
#include "merger/replay/series.h"
#include "merger/replay/stackdb.h"

/*
 * p's figures for stack id, created (its stack resolved against the
 * module map as it is now) on first use; fills *slot when slot is not
 * NULL. NULL on ENOMEM.
 */
struct mh_stack_stats *mh_stats_get_slow(struct mh_replay *rp, struct mh_process *p,
					 uint64_t id, struct mh_stack_stats **slot);

static inline struct mh_stack_stats *mh_stats_get(struct mh_replay *rp, struct mh_process *p,
						  uint64_t id)
{
	struct mh_stack_stats **slot, *st;

	if (!p->stack_cache)
		return mh_stats_get_slow(rp, p, id, NULL);
	/* Stack ids are content hashes: their low bits index the cache. */
	slot = &p->stack_cache[(id ^ (id >> 32)) & p->stack_cache_mask];
	st = *slot;
	return st && st->stack_id == id ? st : mh_stats_get_slow(rp, p, id, slot);
}

/*
 * Before a stack's live bytes change: if a new heap peak happened since
 * its last change, its live bytes then were its live bytes now; so were
 * they at the grid points taken since (series.h).
 */
static inline void mh_stats_touch(const struct mh_process *p, struct mh_stack_stats *st)
{
	if (st->peak_ver != p->peak_ver) {
		st->peak_snap_bytes = st->live_bytes;
		st->peak_ver = p->peak_ver;
	}
	if (p->series && st->series_upto != p->series->count)
		mh_series_fill(p, st);
}

#endif /* MEMHOOK_MERGER_REPLAY_STACKSTATS_H */
