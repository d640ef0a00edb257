// SPDX-License-Identifier: MIT
/*
 * stackstats.c - the slow path of a process's per-stack figures
 * (stackstats.h): the table behind the cache, the cache's growth, and
 * the stack peak. Never prints.
 */
#include "merger/replay/stackstats.h"

#include <stdlib.h>

#include "merger/replay/modmap.h"

/*
 * A cache of `entries` entries for p, the old one given up (its entries
 * fill again as stacks are used). Kept as it is if out of memory.
 */
static void stack_cache_resize(struct mh_process *p, uint32_t entries)
{
	struct mh_stack_stats **cache = calloc(entries, sizeof(*cache));

	if (!cache)
		return;
	free(p->stack_cache);
	p->stack_cache = cache;
	p->stack_cache_mask = entries - 1;
}

struct mh_stack_stats *mh_stats_get_slow(struct mh_replay *rp, struct mh_process *p,
					 uint64_t id, struct mh_stack_stats **slot)
{
	struct mh_stack_stats *st = mh_stack_stats_find(&p->stacks, id);

	if (!st) {
		st = mh_stack_stats_get(&p->stacks, id, p->peak_ver);
		if (!st)
			return NULL;
		st->info = id ? mh_stackdb_find(rp->stacks, id) : NULL;
		/* The module map as it is when the stack is first used. */
		if (st->info && !st->info->resolved)
			mh_stack_resolve(st->info, rp->modules, false);
		/*
		 * Four entries per stack: a cache the stacks outgrow misses
		 * most lookups (cc1: 7,600 stacks in 4,096 entries, a fifth
		 * of its report's time in the table behind it).
		 */
		if (slot && HASH_COUNT(p->stacks) > (p->stack_cache_mask + 1) / 4 &&
		    p->stack_cache_mask + 1 < MH_STACK_CACHE_MAX) {
			stack_cache_resize(p, 2 * (p->stack_cache_mask + 1));
			slot = &p->stack_cache[(id ^ (id >> 32)) & p->stack_cache_mask];
		}
	}
	if (slot)
		*slot = st;
	else if (p->alloc_calls > MH_STACK_CACHE_AFTER)
		stack_cache_resize(p, MH_STACK_CACHE_SIZE);	/* none yet: later */
	return st;
}

uint64_t mh_stack_peak_bytes(const struct mh_process *p, const struct mh_stack_stats *st)
{
	return st->peak_ver != p->peak_ver ? st->live_bytes : st->peak_snap_bytes;
}
