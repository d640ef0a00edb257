/* SPDX-License-Identifier: MIT */
/*
 * granules.h - where in its address space a process ever had heap blocks,
 * 1 MiB granule by granule (the lowest and highest block start in each):
 * what residency needs to tell allocator regions from other memory.
 * Internal to the replay; others ask mh_replay_held_heap().
 */
#ifndef MEMHOOK_MERGER_REPLAY_GRANULES_H
#define MEMHOOK_MERGER_REPLAY_GRANULES_H

#include <stdint.h>

#include "merger/replay/replay.h"

/* The slow path of mh_granule_note(): a granule not in the cache. 0 or -ENOMEM. */
int mh_granule_note_slow(struct mh_process *p, uint64_t addr);

/* Note that a heap block starts at addr; cheap when its granule is in the cache. */
static inline int mh_granule_note(struct mh_process *p, uint64_t addr)
{
	uint64_t number = addr >> MH_GRANULE_SHIFT;
	struct mh_granule *g = p->granule_cache ? p->granule_cache[number % MH_GRANULE_CACHE] : NULL;

	if (!g || g->number != number)
		return mh_granule_note_slow(p, addr);
	if (addr < g->lo)
		g->lo = addr;
	else if (addr > g->hi)
		g->hi = addr;
	return 0;
}

/* Free p's granules. */
void mh_granules_free(struct mh_process *p);

#endif /* MEMHOOK_MERGER_REPLAY_GRANULES_H */
