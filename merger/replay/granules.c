// SPDX-License-Identifier: MIT
/*
 * granules.c - the heap granules of a process (granules.h): a uthash by
 * granule number with a direct-mapped cache in front. Grows with the
 * address space the heap ever covered (one entry per MiB), never with
 * the number of events.
 */
#include "merger/replay/granules.h"

#include <errno.h>
#include <stdlib.h>

int mh_granule_note_slow(struct mh_process *p, uint64_t addr)
{
	uint64_t number = addr >> MH_GRANULE_SHIFT;
	struct mh_granule *g;

	HASH_FIND(hh, p->granules, &number, sizeof(number), g);
	if (!g) {
		g = calloc(1, sizeof(*g));
		if (!g)
			return -ENOMEM;
		g->number = number;
		g->lo = g->hi = addr;
		HASH_ADD(hh, p->granules, number, sizeof(g->number), g);
	}
	if (addr < g->lo)
		g->lo = addr;
	if (addr > g->hi)
		g->hi = addr;
	/* Most processes have a granule or two: the hash is fast enough, the cache costs 2 KiB. */
	if (!p->granule_cache && HASH_COUNT(p->granules) > MH_GRANULE_CACHE_AFTER)
		p->granule_cache = calloc(MH_GRANULE_CACHE, sizeof(*p->granule_cache));
	if (p->granule_cache)
		p->granule_cache[number % MH_GRANULE_CACHE] = g;
	return 0;
}

bool mh_replay_held_heap(const struct mh_process *p, uint64_t start, uint64_t end)
{
	uint64_t n;
	struct mh_granule *g;

	if (!p->granules || end <= start)
		return false;
	for (n = start >> MH_GRANULE_SHIFT; n <= (end - 1) >> MH_GRANULE_SHIFT; n++) {
		HASH_FIND(hh, p->granules, &n, sizeof(n), g);
		if (g && g->lo < end && g->hi >= start)
			return true;
	}
	return false;
}

void mh_granules_free(struct mh_process *p)
{
	struct mh_granule *g, *tmp;

	free(p->granule_cache);
	p->granule_cache = NULL;
	HASH_ITER(hh, p->granules, g, tmp) {
		HASH_DEL(p->granules, g);
		free(g);
	}
}
