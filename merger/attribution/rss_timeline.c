// SPDX-License-Identifier: MIT
/*
 * rss_timeline.c - the program's RSS (the process's, from the kernel's
 * rss_stat or the recorder's /proc sampler, less memhook's own pages from
 * its own samples), its peak, its figures at exit, and a bounded timeline
 * of RSS, live heap and residency snapshots, in time order.
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

/*
 * Until memhook's share of a new image is first sampled, points hold the
 * process's figures; they are made the program's when it comes.
 */
static void fill_state(const struct mh_process *p, struct mh_timeline_point *pt)
{
	const struct mh_attr *a = p->attr;

	pt->rss_anon = mh_attr_program(a, MH_RSS_ANON);
	pt->rss_file = mh_attr_program(a, MH_RSS_FILE);
	pt->rss_shmem = mh_attr_program(a, MH_RSS_SHMEM);
	pt->swap = a->rss[MH_RSS_SWAPENTS];
	pt->live_heap_bytes = p->live_bytes;
	fill_kernel(a, pt);
	pt->provisional = !a->own_known;
}

static uint64_t less(uint64_t v, uint64_t own)
{
	return v > own ? v - own : 0;
}

/*
 * memhook's share of this image is known at last: what was noted before
 * held memhook's pages too (its libraries and ring were mapped before the
 * program ran). Take today's share out of those points (memhook's share
 * only grows: this errs low) and find the peak again.
 */
static void settle_provisional(struct mh_attr *a)
{
	bool any = false;

	for (unsigned i = 0; i < a->point_count; i++) {
		struct mh_timeline_point *pt = &a->points[i];

		if (!pt->provisional)
			continue;
		pt->rss_anon = less(pt->rss_anon, a->own[MH_RSS_ANON]);
		pt->rss_file = less(pt->rss_file, a->own[MH_RSS_FILE]);
		pt->rss_shmem = less(pt->rss_shmem, a->own[MH_RSS_SHMEM]);
		pt->provisional = false;
		any = true;
	}
	if (!any)
		return;
	a->rss_peak_bytes = 0;
	a->rss_peak_ts_ns = 0;
	for (unsigned i = 0; i < a->point_count; i++) {
		if (point_rss(&a->points[i]) > a->rss_peak_bytes) {
			a->rss_peak_bytes = point_rss(&a->points[i]);
			a->rss_peak_ts_ns = a->points[i].ts_ns;
		}
	}
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
	a->rss_peak_from_hwm = false;
	a->hwm_peak_bytes = 0;
	a->hwm_ts_ns = 0;
	memset(a->rss, 0, sizeof(a->rss));
	memset(a->own, 0, sizeof(a->own));
	a->kernel_members = 0;
	a->rss_from_kernel = false;
	a->rss_from_sampler = false;
	a->rss_samples = 0;
	a->own_known = false;
	a->own_tables_known = false;
	a->own_peak_bytes = 0;
	a->pending_exit = false;
	a->rss_frozen = false;
	a->exit_known = false;
	a->point_count = 0;
	a->bucket_ns = 0;
	a->bucket_end_ns = 0;
}

void mh_rss_kernel(struct mh_process *p, const struct mh_rec_krss *r)
{
	struct mh_attr *a = p->attr;

	if (r->member > MH_RSS_SHMEM || a->rss_frozen)
		return;
	/* The kernel's counters are exact: once seen, samples no longer move this one. */
	a->rss_from_kernel = true;
	a->kernel_members |= 1U << r->member;
	a->rss[r->member] = r->bytes;
	mh_rss_timeline_note(p, r->ts_ns);
}

/* The exit scan's sample came: the program's figures at exit, and no later RSS is its. */
static void at_exit_scan(struct mh_process *p, uint64_t ts)
{
	struct mh_attr *a = p->attr;

	for (unsigned m = 0; m < 4; m++) {
		a->exit_rss[m] = m == MH_RSS_SWAPENTS ? a->rss[m] : mh_attr_program(a, m);
		a->exit_own[m] = a->own[m];
	}
	a->exit_ts_ns = ts;
	a->exit_known = true;
	a->pending_exit = false;
	a->rss_frozen = true;
}

void mh_rss_sample(struct mh_process *p, const struct mh_rec_rss_sample *s)
{
	struct mh_attr *a = p->attr;
	const uint64_t v[4] = {
		[MH_RSS_ANON] = s->anon_bytes,
		[MH_RSS_FILE] = s->file_bytes,
		[MH_RSS_SHMEM] = s->shmem_bytes,
		[MH_RSS_SWAPENTS] = s->swap_bytes,
	};

	if (a->rss_frozen)
		return;
	a->rss_from_sampler = true;
	if (!a->pending_exit)
		a->rss_samples++;
	/* Samples seed the counters the kernel has not reported (rss_stat reports changes only). */
	for (unsigned m = 0; m < 4; m++) {
		if (!(a->kernel_members & (1U << m)))
			a->rss[m] = v[m];
	}
	mh_rss_timeline_note(p, s->ts_ns);
	if (a->pending_exit)
		at_exit_scan(p, s->ts_ns);
}

void mh_rss_own(struct mh_process *p, const struct mh_rec_own_sample *o)
{
	struct mh_attr *a = p->attr;
	uint64_t own;

	if (a->rss_frozen)
		return;
	a->own[MH_RSS_ANON] = o->anon_bytes;
	a->own[MH_RSS_FILE] = o->file_bytes;
	a->own[MH_RSS_SHMEM] = o->shmem_bytes;
	a->ring_start = o->ring_start;
	a->ring_end = o->ring_end;
	if (!a->own_known)
		settle_provisional(a);
	a->own_known = true;
	a->own_tables_known = o->flags & MH_OWN_TABLES_KNOWN;
	own = mh_attr_own(a);
	if (own > a->own_peak_bytes)
		a->own_peak_bytes = own;
	/*
	 * VmHWM is the process's largest RSS so far; memhook's share only
	 * grows, so VmHWM less its share now is a peak the program reached.
	 */
	if (o->hwm_bytes > own && o->hwm_bytes - own > a->hwm_peak_bytes) {
		a->hwm_peak_bytes = o->hwm_bytes - own;
		a->hwm_ts_ns = o->ts_ns;
	}
	if (o->flags & MH_OWN_AT_EXIT_SCAN)
		a->pending_exit = true;
}

void mh_rss_scan_cost(struct mh_process *p, const struct mh_rec_scan_cost *c)
{
	struct mh_attr *a = p->attr;

	a->scans++;
	a->scan_read_pages += c->read_pages;
	a->scan_swapped_in_pages += c->swapped_in_pages;
	a->scan_untouched_pages += c->untouched_pages;
	a->scan_rss_raised_bytes += c->rss_raised_bytes;
}

void mh_rss_finish(struct mh_process *p)
{
	struct mh_attr *a = p->attr;

	/* A burst between samples: the high-water mark saw it. */
	if (a->hwm_peak_bytes > a->rss_peak_bytes) {
		a->rss_peak_bytes = a->hwm_peak_bytes;
		a->rss_peak_ts_ns = a->hwm_ts_ns;
		a->rss_peak_from_hwm = true;
	}
}
