// SPDX-License-Identifier: MIT
/*
 * rss_timeline.c - process RSS (kernel rss_stat or the recorder's /proc
 * sampler), its peak, and a bounded timeline of RSS, live heap and
 * residency snapshots.
 *
 * The timeline holds MH_TIMELINE_POINTS points: each RSS point is the
 * largest RSS seen in a time bucket (first 1 ms wide); when the array is
 * full, neighbouring points are merged pairwise (keeping the larger RSS,
 * and a snapshot point over a plain one) and buckets double in width.
 * Must never grow with the number of RSS records.
 */
#include <string.h>

#include "merger/attribution/attr_internal.h"
#include "merger/replay/replay.h"
#include "merger/replay/series.h"

/* Width of the first timeline buckets, ns. */
#define FIRST_BUCKET_NS 1000000ULL

static uint64_t point_rss(const struct mh_timeline_point *pt)
{
	return pt->rss_anon + pt->rss_file + pt->rss_shmem;
}

/* Halve the points: each pair becomes its more telling member. */
static void compact(struct mh_attr *a)
{
	unsigned i, n = 0;

	for (i = 0; i + 1 < a->point_count; i += 2) {
		struct mh_timeline_point *x = &a->points[i], *y = &a->points[i + 1];
		bool take_y = y->snapshot != x->snapshot ? y->snapshot :
			      point_rss(y) > point_rss(x);

		a->points[n++] = take_y ? *y : *x;
	}
	if (i < a->point_count)
		a->points[n++] = a->points[i];
	a->point_count = n;
	a->bucket_ns *= 2;
}

static struct mh_timeline_point *point_new(struct mh_attr *a, uint64_t ts)
{
	struct mh_timeline_point *pt;

	if (a->point_count == MH_TIMELINE_POINTS)
		compact(a);
	if (!a->bucket_ns)
		a->bucket_ns = FIRST_BUCKET_NS;
	pt = &a->points[a->point_count++];
	memset(pt, 0, sizeof(*pt));
	pt->ts_ns = ts;
	a->bucket_end_ns = ts + a->bucket_ns;
	return pt;
}

static void fill_kernel(const struct mh_attr *a, struct mh_timeline_point *pt)
{
	pt->faults = a->faults;
	pt->major_faults = a->major_faults;
	pt->swapins = a->swapins;
	pt->reclaim_stall_ns = a->reclaim_stall_ns;
}

static void fill_kernel_from(const struct mh_timeline_point *from, struct mh_timeline_point *pt)
{
	pt->faults = from->faults;
	pt->major_faults = from->major_faults;
	pt->swapins = from->swapins;
	pt->reclaim_stall_ns = from->reclaim_stall_ns;
}

static void fill_state(const struct mh_process *p, struct mh_timeline_point *pt)
{
	const struct mh_attr *a = p->attr;

	pt->rss_anon = a->rss[MH_RSS_ANON];
	pt->rss_file = a->rss[MH_RSS_FILE];
	pt->rss_shmem = a->rss[MH_RSS_SHMEM];
	pt->swap = a->rss[MH_RSS_SWAPENTS];
	pt->live_heap_bytes = p->live_bytes;
	fill_kernel(a, pt);
}

void mh_rss_timeline_note(struct mh_process *p, uint64_t ts)
{
	struct mh_attr *a = p->attr;
	struct mh_timeline_point *pt;
	uint64_t rss = mh_attr_rss(a);

	if (rss > a->rss_peak_bytes) {
		a->rss_peak_bytes = rss;
		a->rss_peak_ts_ns = ts;
	}
	pt = a->point_count ? &a->points[a->point_count - 1] : NULL;
	if (!pt || pt->snapshot || ts >= a->bucket_end_ns)
		pt = point_new(a, ts);
	else if (rss <= point_rss(pt))
		return;
	fill_state(p, pt);
	pt->ts_ns = ts;
}

/* Insert (id, bytes) into a point's top list, largest first. */
static void top_insert(struct mh_timeline_point *pt, uint64_t id, uint64_t bytes)
{
	int i = MH_TIMELINE_TOP_STACKS - 1;

	if (bytes <= pt->top_bytes[i])
		return;
	for (; i > 0 && pt->top_bytes[i - 1] < bytes; i--) {
		pt->top_bytes[i] = pt->top_bytes[i - 1];
		pt->top_id[i] = pt->top_id[i - 1];
	}
	pt->top_bytes[i] = bytes;
	pt->top_id[i] = id;
}

void mh_rss_timeline_snapshot(struct mh_process *p, uint64_t ts)
{
	struct mh_attr *a = p->attr;
	struct mh_timeline_point *pt = point_new(a, ts);
	struct mh_stack_stats *st;
	unsigned i;

	pt->rss_anon = a->snap_rss[MH_RSS_ANON];
	pt->rss_file = a->snap_rss[MH_RSS_FILE];
	pt->rss_shmem = a->snap_rss[MH_RSS_SHMEM];
	pt->swap = a->snap_rss[MH_RSS_SWAPENTS];
	pt->live_heap_bytes = a->snap_live_bytes;
	pt->snapshot = true;
	pt->resident_bytes = a->resident_bytes;
	pt->heap_resident_bytes = a->heap_resident_bytes;
	pt->retained_free_heap_bytes = a->retained_free_heap_bytes;
	fill_kernel(a, pt);
	/*
	 * A snapshot is closed when the next one begins or the trace ends,
	 * after later RSS points: move it back to its time.
	 */
	for (i = a->point_count - 1; i > 0 && a->points[i - 1].ts_ns > ts; i--) {
		struct mh_timeline_point tmp = a->points[i - 1];

		a->points[i - 1] = a->points[i];
		a->points[i] = tmp;
	}
	pt = &a->points[i];
	if (i + 1 < a->point_count) {
		/* Kernel counts at its time are not known: keep the previous point's. */
		struct mh_timeline_point none = { 0 };

		fill_kernel_from(i ? &a->points[i - 1] : &none, pt);
	}
	for (st = p->stacks; st; st = st->hh.next) {
		if (st->snap_id == a->snap_id)
			top_insert(pt, st->stack_id, st->resident_bytes);
	}
	mh_series_snapshot(p, ts, a->snap_id);	/* ENOMEM comes back from mh_series_end() */
}

void mh_attr_image_start(struct mh_process *p)
{
	struct mh_attr *a = p->attr;

	a->rss_peak_bytes = 0;
	a->rss_peak_ts_ns = 0;
	memset(a->rss, 0, sizeof(a->rss));
	a->rss_from_kernel = false;
	a->rss_from_sampler = false;
	a->point_count = 0;
	a->bucket_ns = 0;
	a->bucket_end_ns = 0;
}

void mh_rss_kernel(struct mh_process *p, const struct mh_rec_krss *r)
{
	struct mh_attr *a = p->attr;

	if (r->member > MH_RSS_SHMEM)
		return;
	/* The kernel's counters are exact: once seen, samples no longer move RSS. */
	a->rss_from_kernel = true;
	a->rss[r->member] = r->bytes;
	mh_rss_timeline_note(p, r->ts_ns);
}

void mh_rss_sample(struct mh_process *p, const struct mh_rec_rss_sample *s)
{
	struct mh_attr *a = p->attr;

	a->rss_from_sampler = true;
	if (a->rss_from_kernel)
		return;
	a->rss[MH_RSS_ANON] = s->anon_bytes;
	a->rss[MH_RSS_FILE] = s->file_bytes;
	a->rss[MH_RSS_SHMEM] = s->shmem_bytes;
	a->rss[MH_RSS_SWAPENTS] = s->swap_bytes;
	mh_rss_timeline_note(p, s->ts_ns);
}
