// SPDX-License-Identifier: MIT
/*
 * timelines.c - the per-stack timelines of a process (replay/series.h) as
 * the JSON report's "stack_timeline" member, which the HTML page draws:
 * the grid's times, the live heap, and for the stacks that were largest
 * at some point their live bytes (and resident bytes where a pagemap
 * snapshot measured them). docs/REPORT.md is the schema.
 *
 * Must never write a resident figure no snapshot measured: it is null.
 */
#include <stdlib.h>

#include "merger/report/json_writer.h"
#include "merger/replay/series.h"
#include "merger/report/model.h"

static uint64_t since_start(const struct mh_process *p, uint64_t ts)
{
	return ts > p->start_ts_ns && p->start_ts_ns ? ts - p->start_ts_ns : 0;
}

static int by_max_live(const void *x, const void *y)
{
	const struct mh_stack_stats *a = *(struct mh_stack_stats *const *)x;
	const struct mh_stack_stats *b = *(struct mh_stack_stats *const *)y;

	if (a->series->max_live != b->series->max_live)
		return a->series->max_live < b->series->max_live ? 1 : -1;
	return a->stack_id < b->stack_id ? -1 : a->stack_id > b->stack_id;
}

/* p's stacks that were live at a point, largest maximum first; *n of them. */
static struct mh_stack_stats **stacks_by_max(const struct mh_process *p, size_t *n)
{
	struct mh_stack_stats **v, *st;
	size_t count = 0;

	*n = 0;
	for (st = p->stacks; st; st = st->hh.next)
		count += st->series && st->series->max_live;
	v = count ? malloc(count * sizeof(*v)) : NULL;
	if (!v)
		return NULL;
	for (st = p->stacks; st; st = st->hh.next) {
		if (st->series && st->series->max_live)
			v[(*n)++] = st;
	}
	qsort(v, *n, sizeof(*v), by_max_live);
	return v;
}

static void write_stack(struct mh_report_ctx *ctx, struct mh_json *j, const struct mh_process *p,
			const struct mh_stack_stats *st)
{
	const struct mh_series *s = p->series;
	const struct mh_stack_series *ss = st->series;
	unsigned i;

	mh_json_object_begin(j, NULL);
	mh_json_hex(j, "id", st->stack_id);
	mh_json_uint(j, "max_live_bytes", ss->max_live);
	mh_json_array_begin(j, "live_bytes");
	for (i = 0; i < s->count; i++)
		mh_json_uint(j, NULL, ss->live[i]);
	mh_json_array_end(j);
	mh_json_array_begin(j, "resident_bytes");
	for (i = 0; i < s->count; i++) {
		if (s->snap_ts[i] && mh_report_has_residency(p))
			mh_json_uint(j, NULL, ss->resident ? ss->resident[i] : 0);
		else
			mh_json_null(j, NULL);
	}
	mh_json_array_end(j);
	mh_json_array_begin(j, "frames");
	(void)mh_report_frames(ctx, st, mh_report_json_frame, j); /* best effort, as mappings */
	mh_json_array_end(j);
	mh_json_object_end(j);
}

void mh_report_json_stack_timeline(struct mh_report_ctx *ctx, struct mh_json *j,
				   const struct mh_process *p)
{
	const struct mh_series *s = p->series;
	struct mh_stack_stats **v;
	unsigned i, count = s ? s->count : 0;
	size_t n;

	mh_json_object_begin(j, "stack_timeline");
	mh_json_array_begin(j, "time_ns");
	for (i = 0; i < count; i++)
		mh_json_uint(j, NULL, since_start(p, s->ts[i]));
	mh_json_array_end(j);
	mh_json_array_begin(j, "live_heap_bytes");
	for (i = 0; i < count; i++)
		mh_json_uint(j, NULL, s->live[i]);
	mh_json_array_end(j);
	mh_json_array_begin(j, "snapshot_time_ns");
	for (i = 0; i < count; i++) {
		if (s->snap_ts[i])
			mh_json_uint(j, NULL, since_start(p, s->snap_ts[i]));
		else
			mh_json_null(j, NULL);
	}
	mh_json_array_end(j);
	mh_json_array_begin(j, "stacks");
	v = count ? stacks_by_max(p, &n) : NULL;
	for (i = 0; v && i < n && i < MH_REPORT_TIMELINE_STACKS; i++)
		write_stack(ctx, j, p, v[i]);
	free(v);
	mh_json_array_end(j);
	mh_json_object_end(j);
}
