// SPDX-License-Identifier: MIT
/*
 * series.c - per-stack timelines on a bounded time grid (series.h).
 *
 * Must never grow with the number of events: a point costs O(1), a
 * stack's values are written when its live bytes next change, every
 * stack's in one pass at each compaction and at the end, and the grid
 * never holds more than MH_SERIES_POINTS points.
 */
#include "merger/replay/series.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "merger/replay/replay.h"

static struct mh_series *series_get(struct mh_process *p)
{
	if (!p->series) {
		p->series = calloc(1, sizeof(*p->series));
		if (p->series)
			p->series->bucket_ns = MH_SERIES_FIRST_NS;
	}
	return p->series;
}

static struct mh_stack_series *stack_series_get(struct mh_stack_stats *st)
{
	if (!st->series)
		st->series = calloc(1, sizeof(*st->series));
	return st->series;
}

void mh_series_fill(const struct mh_process *p, struct mh_stack_stats *st)
{
	struct mh_series *s = p->series;
	struct mh_stack_series *ss = st->series;

	if (!ss && st->live_bytes && !(ss = stack_series_get(st))) {
		s->nomem = true;
		return;
	}
	/* Without arrays it was never live at a point: its zeros need no writing. */
	if (ss) {
		for (unsigned i = st->series_upto; i < s->count; i++)
			ss->live[i] = st->live_bytes;
		if (st->live_bytes > ss->max_live)
			ss->max_live = st->live_bytes;
	}
	st->series_upto = s->count;
}

/* Every stack's values up to the last point, as mh_series_fill writes them. */
static void fill_all(struct mh_process *p)
{
	struct mh_stack_stats *st;

	for (st = p->stacks; st; st = st->hh.next)
		if (st->series_upto != p->series->count)
			mh_series_fill(p, st);
}

/*
 * Keep every second point, a snapshot's over its neighbour; buckets
 * double. Residency the dropped points held goes, so the points to come
 * start from zero there as a new grid's do.
 */
static void compact(struct mh_process *p)
{
	struct mh_series *s = p->series;
	unsigned keep[MH_SERIES_POINTS], n = 0, i, k;
	struct mh_stack_stats *st;

	fill_all(p);
	for (i = 0; i + 1 < s->count; i += 2)
		keep[n++] = s->snap_ts[i + 1] && !s->snap_ts[i] ? i + 1 : i;
	if (i < s->count)
		keep[n++] = i;
	for (k = 0; k < n; k++) {
		s->ts[k] = s->ts[keep[k]];
		s->live[k] = s->live[keep[k]];
		s->snap_ts[k] = s->snap_ts[keep[k]];
	}
	for (st = p->stacks; st; st = st->hh.next) {
		struct mh_stack_series *ss = st->series;

		st->series_upto = n;
		if (!ss)
			continue;
		ss->max_live = 0;
		for (k = 0; k < n; k++) {
			ss->live[k] = ss->live[keep[k]];
			if (ss->live[k] > ss->max_live)
				ss->max_live = ss->live[k];
			if (ss->resident)
				ss->resident[k] = ss->resident[keep[k]];
		}
		if (ss->resident)
			memset(ss->resident + n, 0, (MH_SERIES_POINTS - n) * sizeof(*ss->resident));
	}
	s->count = n;
	s->bucket_ns *= 2;
}

int mh_series_point(struct mh_process *p, uint64_t ts)
{
	struct mh_series *s = series_get(p);
	unsigned i;

	if (!s)
		return -ENOMEM;
	if (s->count == MH_SERIES_POINTS)
		compact(p);
	i = s->count++;
	s->ts[i] = ts;
	s->live[i] = p->live_bytes;
	s->snap_ts[i] = 0;
	s->next_ts = ts + s->bucket_ns;
	return 0;
}

int mh_series_snapshot(struct mh_process *p, uint64_t ts, uint64_t snap_id)
{
	struct mh_series *s = p->series;
	struct mh_stack_stats *st;
	unsigned i;
	int err;

	if (!s || !s->count) {
		err = mh_series_point(p, ts);
		if (err)
			return err;
		s = p->series;
	}
	for (i = s->count - 1; i > 0 && s->ts[i] > ts; i--)
		;
	s->snap_ts[i] = ts;
	for (st = p->stacks; st; st = st->hh.next) {
		struct mh_stack_series *ss = st->series;
		bool measured = st->snap_id == snap_id && st->resident_bytes;

		if (!measured && (!ss || !ss->resident))
			continue;
		if ((!ss && !(ss = stack_series_get(st))) ||
		    (!ss->resident && !(ss->resident = calloc(MH_SERIES_POINTS, sizeof(uint64_t))))) {
			s->nomem = true;
			return -ENOMEM;
		}
		ss->resident[i] = measured ? st->resident_bytes : 0;
	}
	return 0;
}

int mh_series_end(struct mh_process *p, uint64_t ts)
{
	struct mh_series *s = p->series;

	if (!s)
		return 0;	/* no heap event: nothing to show over time */
	if (s->nomem)
		return -ENOMEM;
	if (s->count && ts < s->ts[s->count - 1])
		ts = s->ts[s->count - 1];
	if (mh_series_point(p, ts))
		return -ENOMEM;
	fill_all(p);
	return s->nomem ? -ENOMEM : 0;
}

void mh_series_free(struct mh_process *p)
{
	struct mh_stack_stats *st;

	for (st = p->stacks; st; st = st->hh.next) {
		if (st->series)
			free(st->series->resident);
		free(st->series);
		st->series = NULL;
	}
	free(p->series);
	p->series = NULL;
}
