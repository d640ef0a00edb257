/* SPDX-License-Identifier: MIT */
/*
 * series.h - per-stack timelines: the live bytes of every stack of a
 * process (and its resident bytes where a pagemap snapshot measured them)
 * sampled on one time grid, so a report can show which stack grew when.
 *
 * The grid holds MH_SERIES_POINTS points per process. A point is taken
 * before the first heap event at or after the end of the current bucket
 * (buckets start MH_SERIES_FIRST_NS wide) and once at the end of the
 * trace; when the grid is full, every second point is dropped (a point
 * where a snapshot was recorded is kept over its neighbour) and buckets
 * double. A stack gets its arrays when it is first live at a point:
 * memory is bounded by stacks x points, never by events. A point costs
 * O(1): a stack's values are written when its live bytes next change
 * (mh_series_touch: they were the same at every point since its last
 * change), and for every stack at compaction and at the end. Never
 * prints.
 */
#ifndef MEMHOOK_MERGER_REPLAY_SERIES_H
#define MEMHOOK_MERGER_REPLAY_SERIES_H

#include <stdbool.h>
#include <stdint.h>

struct mh_process;
struct mh_stack_stats;

/* Grid points kept per process. */
#define MH_SERIES_POINTS 128
/* Width of the first buckets, ns. */
#define MH_SERIES_FIRST_NS 1000000ULL

/* A process's grid. */
struct mh_series {
	unsigned count;				/* points used */
	uint64_t bucket_ns;			/* current bucket width */
	uint64_t next_ts;			/* take a point at the first event from here on */
	uint64_t ts[MH_SERIES_POINTS];		/* when each point was taken, CLOCK_MONOTONIC ns */
	uint64_t live[MH_SERIES_POINTS];	/* the process's live heap bytes then */
	uint64_t snap_ts[MH_SERIES_POINTS];	/* a snapshot measured stacks in [ts, next ts): when; 0 if none */
	bool nomem;				/* a snapshot could not be recorded */
};

/* A stack's values at the grid's points (0 where the stack had none). */
struct mh_stack_series {
	uint64_t max_live;			/* largest live value at a kept point */
	uint64_t live[MH_SERIES_POINTS];	/* bytes live */
	uint64_t *resident;			/* [MH_SERIES_POINTS], NULL until a snapshot measured it */
};

/* Take a point at ts. 0 or -ENOMEM. */
int mh_series_point(struct mh_process *p, uint64_t ts);

/*
 * st's live bytes are about to change: write their value now at every
 * point taken since they last changed (st->series_upto to the grid's
 * count), which it was. Call only when those differ. On ENOMEM the grid
 * is marked, for mh_series_end() to report.
 */
void mh_series_fill(const struct mh_process *p, struct mh_stack_stats *st);

/* A heap event at ts is about to be replayed: take a point if one is due. */
static inline int mh_series_tick(struct mh_process *p, struct mh_series *s, uint64_t ts)
{
	return !s || ts >= s->next_ts ? mh_series_point(p, ts) : 0;
}

/*
 * A residency snapshot taken at ts has been applied to p's stacks
 * (resident_bytes of those with snap_id): record them at the last point
 * at or before ts. 0 or -ENOMEM (also remembered for mh_series_end()).
 */
int mh_series_snapshot(struct mh_process *p, uint64_t ts, uint64_t snap_id);

/* End of trace: a last point at ts (the exit). 0 or -ENOMEM, now or at a snapshot. */
int mh_series_end(struct mh_process *p, uint64_t ts);

/* Free p's grid and its stacks' series. */
void mh_series_free(struct mh_process *p);

#endif /* MEMHOOK_MERGER_REPLAY_SERIES_H */
