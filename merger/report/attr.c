// SPDX-License-Identifier: MIT
/*
 * attr.c - the report's residency and kernel-event parts (JSON and
 * text): resident bytes, faults, swap-ins and reclaim stalls per stack,
 * the retained free heap, mappings outside live blocks, the timeline.
 * docs/REPORT.md is the schema, docs/ATTRIBUTION.md the definitions.
 *
 * Must never print a figure whose source the trace lacks as a number: it
 * is null in JSON and left out (with the reason) in text.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "merger/attribution/attribute.h"
#include "merger/report/json_writer.h"
#include "merger/replay/modmap.h"
#include "merger/report/model.h"

/* Mappings listed in the text report. */
#define TEXT_MAPPINGS 5
/* Timeline lines in the text report. */
#define TEXT_TIMELINE_LINES 12
/* First-touch locations shown per stack in the text report. */
#define TEXT_TOUCH_IPS 3

static const char *const map_kind_names[] = {
	[MH_MAP_ANON] = "anon",
	[MH_MAP_HEAP_FREE] = "heap_free",
	[MH_MAP_LIBC_MMAP] = "libc_mmap",
	[MH_MAP_PROGRAM_MMAP] = "mmap",
	[MH_MAP_STACK] = "stack",
	[MH_MAP_FILE] = "file",
	[MH_MAP_SHMEM] = "shmem",
	[MH_MAP_OTHER] = "other",
};

bool mh_report_has_residency(const struct mh_process *p)
{
	return p->attr && p->attr->snapshots;
}

bool mh_report_has_kernel(const struct mh_process *p)
{
	return p->attr && p->attr->kernel;
}

bool mh_report_has_rss(const struct mh_process *p)
{
	return p->attr && (p->attr->rss_from_kernel || p->attr->rss_from_sampler);
}

static const char *rss_source(const struct mh_process *p)
{
	if (!mh_report_has_rss(p))
		return NULL;
	if (p->attr->rss_from_kernel)
		return "kernel rss_stat";
	return p->attr->rss_samples ? "proc sampler" : "/proc at the exit scan";
}

static uint64_t since_start(const struct mh_process *p, uint64_t ts)
{
	return ts > p->start_ts_ns && p->start_ts_ns ? ts - p->start_ts_ns : 0;
}

static void json_uint_if(struct mh_json *j, const char *key, bool known, uint64_t v)
{
	if (known)
		mh_json_uint(j, key, v);
	else
		mh_json_null(j, key);
}

/* "memhook_own": memhook's own pages in the process, never counted as the program's. */
static void json_own(struct mh_json *j, const struct mh_attr *a)
{
	bool known = a && a->own_known;
	const uint64_t *own = known && a->exit_known ? a->exit_own : known ? a->own : NULL;

	mh_json_object_begin(j, "memhook_own");
	json_uint_if(j, "anon_bytes", known, known ? own[MH_RSS_ANON] : 0);
	json_uint_if(j, "file_bytes", known, known ? own[MH_RSS_FILE] : 0);
	json_uint_if(j, "shmem_bytes", known, known ? own[MH_RSS_SHMEM] : 0);
	json_uint_if(j, "peak_bytes", known, known ? a->own_peak_bytes : 0);
	mh_json_bool(j, "tables_known", known && a->own_tables_known);
	mh_json_object_end(j);
}

/* "exit_scan": what the exit-time leak scan did to the process (memhook's, not the program's). */
static void json_scan_cost(struct mh_json *j, const struct mh_attr *a)
{
	bool known = a && a->scans;

	mh_json_object_begin(j, "exit_scan");
	json_uint_if(j, "pages_read", known, known ? a->scan_read_pages : 0);
	json_uint_if(j, "pages_swapped_in", known, known ? a->scan_swapped_in_pages : 0);
	json_uint_if(j, "pages_untouched_skipped", known, known ? a->scan_untouched_pages : 0);
	json_uint_if(j, "rss_raised_bytes", known, known ? a->scan_rss_raised_bytes : 0);
	mh_json_object_end(j);
}

void mh_report_json_attr_summary(struct mh_json *j, const struct mh_process *p)
{
	const struct mh_attr *a = p->attr;
	bool res = mh_report_has_residency(p), kern = mh_report_has_kernel(p);
	bool rss = mh_report_has_rss(p), at_exit = rss && a->exit_known;

	json_uint_if(j, "rss_peak_bytes", rss, rss ? a->rss_peak_bytes : 0);
	json_uint_if(j, "rss_peak_time_ns", rss && !a->rss_peak_from_hwm,
		     rss ? since_start(p, a->rss_peak_ts_ns) : 0);
	mh_json_bool(j, "rss_peak_from_high_water_mark", rss && a->rss_peak_from_hwm);
	json_uint_if(j, "rss_at_exit_anon_bytes", at_exit, at_exit ? a->exit_rss[MH_RSS_ANON] : 0);
	json_uint_if(j, "rss_at_exit_file_bytes", at_exit, at_exit ? a->exit_rss[MH_RSS_FILE] : 0);
	json_uint_if(j, "rss_at_exit_shmem_bytes", at_exit,
		     at_exit ? a->exit_rss[MH_RSS_SHMEM] : 0);
	json_uint_if(j, "rss_at_exit_time_ns", at_exit, at_exit ? since_start(p, a->exit_ts_ns) : 0);
	json_own(j, a);
	json_scan_cost(j, a);
	json_uint_if(j, "resident_bytes", res, res ? a->resident_bytes : 0);
	json_uint_if(j, "heap_resident_bytes", res, res ? a->heap_resident_bytes : 0);
	json_uint_if(j, "retained_free_heap_bytes", res, res ? a->retained_free_heap_bytes : 0);
	json_uint_if(j, "retained_free_heap_at_rss_peak_bytes", res && rss,
		     res ? a->retained_at_rss_peak : 0);
	json_uint_if(j, "residency_time_ns", res, res ? since_start(p, a->exit_snap_ts_ns) : 0);
	json_uint_if(j, "residency_at_rss_peak_time_ns", res && rss,
		     res ? since_start(p, a->peak_snap_ts_ns) : 0);
	json_uint_if(j, "residency_snapshots", true, a ? a->snapshots : 0);
	json_uint_if(j, "faults", kern, kern ? a->faults : 0);
	json_uint_if(j, "faults_in_blocks", kern, kern ? a->faults_in_blocks : 0);
	json_uint_if(j, "faults_during_alloc", kern, kern ? a->faults_during_alloc : 0);
	json_uint_if(j, "major_faults", kern, kern ? a->major_faults : 0);
	json_uint_if(j, "swapins", kern, kern ? a->swapins : 0);
	json_uint_if(j, "reclaim_stall_ns", kern, kern ? a->reclaim_stall_ns : 0);
	json_uint_if(j, "reclaim_unattributed_ns", kern, kern ? a->reclaim_unattributed_ns : 0);
	mh_json_object_begin(j, "sources");
	mh_json_string(j, "resident", res ? "pagemap" : NULL);
	mh_json_string(j, "rss", rss_source(p));
	mh_json_string(j, "faults", kern ? "kernel" : NULL);
	mh_json_object_end(j);
}

/* Call fn on the first frame of a first-touch ip (exact ip, not a return address). */
static const struct mh_frame *touch_frame(struct mh_report_ctx *ctx, const struct mh_process *p,
					  uint64_t ip)
{
	struct mh_module *mod = mh_modmap_lookup_any(ctx->rp->modules, p->pid, ip);
	const struct mh_frame *frames;
	int n = mh_symbolize(ctx->sym, mod, ip + 1, &frames);

	/* The outermost of the inlined frames is the function holding the code. */
	return n > 0 ? &frames[0] : NULL;
}

/* Indexes of st->touch by faults, largest first; returns how many are used. */
static unsigned touch_order(const struct mh_stack_stats *st, unsigned *order)
{
	unsigned n = 0, i, k;

	for (i = 0; i < MH_TOUCH_IPS; i++) {
		if (!st->touch[i].faults)
			continue;
		for (k = n; k > 0 && st->touch[order[k - 1]].faults < st->touch[i].faults; k--)
			order[k] = order[k - 1];
		order[k] = i;
		n++;
	}
	return n;
}

static void json_touch(struct mh_report_ctx *ctx, struct mh_json *j, const struct mh_process *p,
		       const struct mh_stack_stats *st)
{
	unsigned order[MH_TOUCH_IPS], n = touch_order(st, order), i;

	mh_json_array_begin(j, "first_touch");
	for (i = 0; i < n; i++) {
		const struct mh_touch *t = &st->touch[order[i]];
		const struct mh_frame *f = touch_frame(ctx, p, t->ip);

		mh_json_object_begin(j, NULL);
		mh_json_hex(j, "address", t->ip);
		mh_json_uint(j, "faults", t->faults);
		mh_json_string(j, "function", f ? f->function : NULL);
		mh_json_string(j, "file", f ? f->file : NULL);
		json_uint_if(j, "line", f && f->line, f ? f->line : 0);
		mh_json_string(j, "module", f && f->module ? f->module->path : NULL);
		mh_json_object_end(j);
	}
	mh_json_array_end(j);
}

void mh_report_json_attr_stack(struct mh_report_ctx *ctx, struct mh_json *j,
			       const struct mh_process *p, const struct mh_stack_stats *st)
{
	bool res = mh_report_has_residency(p), kern = mh_report_has_kernel(p);

	json_uint_if(j, "resident_bytes", res, st->resident_bytes);
	json_uint_if(j, "resident_bytes_at_rss_peak", res && mh_report_has_rss(p),
		     st->resident_at_rss_peak);
	json_uint_if(j, "swapped_bytes", res, st->swapped_bytes);
	json_uint_if(j, "faults", kern, st->faults);
	json_uint_if(j, "major_faults", kern, st->major_faults);
	json_uint_if(j, "faults_during_alloc", kern, st->faults_during_alloc);
	json_uint_if(j, "swapins", kern, st->swapins);
	json_uint_if(j, "reclaim_stall_ns", kern, st->reclaim_stall_ns);
	json_touch(ctx, j, p, st);
}

bool mh_report_stack_of(struct mh_report_ctx *ctx, uint64_t id, struct mh_stack_stats *out)
{
	struct mh_stack_info *info = mh_stackdb_find(ctx->rp->stacks, id);

	memset(out, 0, sizeof(*out));
	out->stack_id = id;
	if (!info)
		return false;
	mh_stack_resolve(info, ctx->rp->modules, true);
	out->info = info;
	return true;
}

/* The first frame with a function name, for one-line text. */
static int first_named(const struct mh_frame *f, void *arg)
{
	const char **name = arg;

	if (!f->function)
		return 0;
	*name = f->function;
	return 1;
}

static int map_cmp(const void *x, const void *y)
{
	const struct mh_map_stats *a = *(struct mh_map_stats *const *)x;
	const struct mh_map_stats *b = *(struct mh_map_stats *const *)y;
	uint64_t va = a->resident_bytes + a->faults * 4096, vb = b->resident_bytes + b->faults * 4096;

	if (va != vb)
		return va < vb ? 1 : -1;
	return strcmp(a->name, b->name);
}

/* p's mapping entries, most resident (then most faulting) first. NULL if none. */
static struct mh_map_stats **maps_sorted(const struct mh_process *p, size_t *n)
{
	const struct mh_attr *a = p->attr;
	struct mh_map_stats **v, *ms;
	size_t i = 0;

	*n = a ? HASH_COUNT(a->map_stats) : 0;
	if (!*n)
		return NULL;
	v = malloc(*n * sizeof(*v));
	if (!v) {
		*n = 0;
		return NULL;
	}
	for (ms = a->map_stats; ms; ms = ms->hh.next) {
		if (ms->snap_id != a->snap_id)
			ms->resident_bytes = ms->swapped_bytes = 0;
		v[i++] = ms;
	}
	qsort(v, *n, sizeof(*v), map_cmp);
	return v;
}

void mh_report_json_mappings(struct mh_report_ctx *ctx, struct mh_json *j,
			     const struct mh_process *p)
{
	bool res = mh_report_has_residency(p), kern = mh_report_has_kernel(p);
	struct mh_stack_stats mst;
	struct mh_map_stats **v;
	size_t n, i;

	v = maps_sorted(p, &n);
	mh_json_array_begin(j, "mappings");
	for (i = 0; i < n; i++) {
		const struct mh_map_stats *ms = v[i];

		mh_json_object_begin(j, NULL);
		mh_json_string(j, "name", mh_attr_map_name(ctx->attribution, p, ms));
		mh_json_string(j, "kind", map_kind_names[ms->kind]);
		if (ms->kind == MH_MAP_PROGRAM_MMAP)
			mh_json_hex(j, "stack_id", ms->stack_id);
		else
			mh_json_null(j, "stack_id");
		json_uint_if(j, "resident_bytes", res, ms->resident_bytes);
		json_uint_if(j, "swapped_bytes", res, ms->swapped_bytes);
		json_uint_if(j, "faults", kern, ms->faults);
		json_uint_if(j, "major_faults", kern, ms->major_faults);
		json_uint_if(j, "swapins", kern, ms->swapins);
		json_uint_if(j, "reclaim_stall_ns", kern, ms->reclaim_stall_ns);
		mh_json_array_begin(j, "frames");
		if (ms->kind == MH_MAP_PROGRAM_MMAP && mh_report_stack_of(ctx, ms->stack_id, &mst))
			(void)mh_report_frames(ctx, &mst, mh_report_json_frame, j); /* best effort */
		mh_json_array_end(j);
		mh_json_object_end(j);
	}
	mh_json_array_end(j);
	free(v);
}

void mh_report_json_timeline(struct mh_json *j, const struct mh_process *p)
{
	const struct mh_attr *a = p->attr;
	bool rss = mh_report_has_rss(p), kern = mh_report_has_kernel(p);
	unsigned i, k;

	mh_json_array_begin(j, "timeline");
	for (i = 0; a && i < a->point_count; i++) {
		const struct mh_timeline_point *pt = &a->points[i];

		mh_json_object_begin(j, NULL);
		mh_json_uint(j, "time_ns", since_start(p, pt->ts_ns));
		json_uint_if(j, "rss_anon_bytes", rss, pt->rss_anon);
		json_uint_if(j, "rss_file_bytes", rss, pt->rss_file);
		json_uint_if(j, "rss_shmem_bytes", rss, pt->rss_shmem);
		json_uint_if(j, "swap_bytes", rss, pt->swap);
		mh_json_uint(j, "live_heap_bytes", pt->live_heap_bytes);
		json_uint_if(j, "faults", kern, pt->faults);
		json_uint_if(j, "major_faults", kern, pt->major_faults);
		json_uint_if(j, "swapins", kern, pt->swapins);
		json_uint_if(j, "reclaim_stall_ns", kern, pt->reclaim_stall_ns);
		mh_json_bool(j, "snapshot", pt->snapshot);
		json_uint_if(j, "resident_bytes", pt->snapshot, pt->resident_bytes);
		json_uint_if(j, "retained_free_heap_bytes", pt->snapshot,
			     pt->retained_free_heap_bytes);
		mh_json_array_begin(j, "top_stacks");
		for (k = 0; pt->snapshot && k < MH_TIMELINE_TOP_STACKS && pt->top_bytes[k]; k++) {
			mh_json_object_begin(j, NULL);
			mh_json_hex(j, "id", pt->top_id[k]);
			mh_json_uint(j, "resident_bytes", pt->top_bytes[k]);
			mh_json_object_end(j);
		}
		mh_json_array_end(j);
		mh_json_object_end(j);
	}
	mh_json_array_end(j);
}

/* ---- text ---- */

static void text_retained(struct mh_report_ctx *ctx, const struct mh_process *p)
{
	const struct mh_attr *a = p->attr;
	char b1[32], b2[32], b3[32];

	fprintf(ctx->out, "  resident at +%.3f s (pagemap snapshot): %s in anonymous memory, %s of"
		" it in allocator regions\n", (double)since_start(p, a->exit_snap_ts_ns) / 1e9,
		mh_human_bytes(a->resident_bytes, b1, sizeof(b1)),
		mh_human_bytes(a->heap_resident_bytes, b2, sizeof(b2)));
	fprintf(ctx->out, "  retained free heap: %s resident in allocator regions but in no live"
		" block", mh_human_bytes(a->retained_free_heap_bytes, b3, sizeof(b3)));
	/* Which snapshot was at the RSS peak is known only with RSS figures. */
	if (mh_report_has_rss(p))
		fprintf(ctx->out, " (at the RSS peak: %s)",
			mh_human_bytes(a->retained_at_rss_peak, b1, sizeof(b1)));
	fputc('\n', ctx->out);
	if (a->retained_free_heap_bytes)
		fprintf(ctx->out, "    = memory the allocator keeps after free(): try malloc_trim(0),"
			" fewer arenas (MALLOC_ARENA_MAX=2 / mallopt(M_ARENA_MAX)) or another"
			" allocator (jemalloc, mimalloc, tcmalloc)\n");
}

static void text_mappings(struct mh_report_ctx *ctx, const struct mh_process *p)
{
	bool res = mh_report_has_residency(p), kern = mh_report_has_kernel(p);
	struct mh_stack_stats mst;
	struct mh_map_stats **v;
	const char *fn;
	char b1[32];
	size_t n, i;

	v = maps_sorted(p, &n);
	if (n)
		fprintf(ctx->out, "  outside live blocks (top %d):\n", TEXT_MAPPINGS);
	for (i = 0; i < n && i < TEXT_MAPPINGS; i++) {
		fn = NULL;
		if (v[i]->kind == MH_MAP_PROGRAM_MMAP && mh_report_stack_of(ctx, v[i]->stack_id, &mst))
			(void)mh_report_frames(ctx, &mst, first_named, &fn); /* 1: found one */
		fputs("    ", ctx->out);
		mh_escape_fputs(mh_attr_map_name(ctx->attribution, p, v[i]), ctx->out);
		if (fn) {
			fputs(" in ", ctx->out);
			mh_escape_fputs(fn, ctx->out);
		}
		fputc(':', ctx->out);
		if (res)
			fprintf(ctx->out, " resident %s%s",
				mh_human_bytes(v[i]->resident_bytes, b1, sizeof(b1)), kern ? "," : "");
		if (kern)
			fprintf(ctx->out, " %" PRIu64 " faults (%" PRIu64 " major), %" PRIu64
				" swap-ins", v[i]->faults, v[i]->major_faults, v[i]->swapins);
		fputc('\n', ctx->out);
	}
	free(v);
}

static void text_timeline(struct mh_report_ctx *ctx, const struct mh_process *p)
{
	const struct mh_attr *a = p->attr;
	unsigned i, step = (a->point_count + TEXT_TIMELINE_LINES - 1) / TEXT_TIMELINE_LINES;
	char b1[32], b2[32], b3[32];

	if (a->point_count < 2)
		return;
	fprintf(ctx->out, "  timeline (time: program RSS anon+file+shmem / swap / live heap):\n");
	for (i = 0; i < a->point_count; i += step ? step : 1) {
		const struct mh_timeline_point *pt = &a->points[i];

		fprintf(ctx->out, "    +%8.3f s: %10s / %10s / %10s%s\n",
			(double)since_start(p, pt->ts_ns) / 1e9,
			mh_human_bytes(pt->rss_anon + pt->rss_file + pt->rss_shmem, b1, sizeof(b1)),
			mh_human_bytes(pt->swap, b2, sizeof(b2)),
			mh_human_bytes(pt->live_heap_bytes, b3, sizeof(b3)),
			pt->snapshot ? "  (snapshot)" : "");
	}
}

/* The program's RSS peak and RSS at exit, memhook's own pages left out. */
static void text_rss(struct mh_report_ctx *ctx, const struct mh_process *p)
{
	const struct mh_attr *a = p->attr;
	char b1[32], b2[32], b3[32], b4[32];

	if (a->rss_peak_from_hwm)
		fprintf(ctx->out, "  RSS peak: %s by +%.3f s (the kernel's high-water mark; %s between"
			" samples)\n", mh_human_bytes(a->rss_peak_bytes, b1, sizeof(b1)),
			(double)since_start(p, a->rss_peak_ts_ns) / 1e9, rss_source(p));
	else
		fprintf(ctx->out, "  RSS peak: %s at +%.3f s (%s)\n",
			mh_human_bytes(a->rss_peak_bytes, b1, sizeof(b1)),
			(double)since_start(p, a->rss_peak_ts_ns) / 1e9, rss_source(p));
	if (a->exit_known)
		fprintf(ctx->out, "  RSS at exit: %s (anon %s, file %s, shmem %s)\n",
			mh_human_bytes(a->exit_rss[MH_RSS_ANON] + a->exit_rss[MH_RSS_FILE] +
					a->exit_rss[MH_RSS_SHMEM], b1, sizeof(b1)),
			mh_human_bytes(a->exit_rss[MH_RSS_ANON], b2, sizeof(b2)),
			mh_human_bytes(a->exit_rss[MH_RSS_FILE], b3, sizeof(b3)),
			mh_human_bytes(a->exit_rss[MH_RSS_SHMEM], b4, sizeof(b4)));
}

/* memhook's own pages and what its exit scan did: said once, never in the figures. */
static void text_own(struct mh_report_ctx *ctx, const struct mh_process *p)
{
	const struct mh_attr *a = p->attr;
	const uint64_t *own = a->exit_known ? a->exit_own : a->own;
	char b1[32], b2[32], b3[32], b4[32], b5[32];

	if (a->own_known)
		fprintf(ctx->out, "  memhook's own footprint: %s resident %s(ring %s, tables and data %s,"
			" libraries %s; at most %s), not counted above%s\n",
			mh_human_bytes(own[MH_RSS_ANON] + own[MH_RSS_FILE] + own[MH_RSS_SHMEM], b1,
					sizeof(b1)), a->exit_known ? "at exit " : "",
			mh_human_bytes(own[MH_RSS_SHMEM], b2, sizeof(b2)),
			mh_human_bytes(own[MH_RSS_ANON], b3, sizeof(b3)),
			mh_human_bytes(own[MH_RSS_FILE], b4, sizeof(b4)),
			mh_human_bytes(a->own_peak_bytes, b5, sizeof(b5)),
			a->own_tables_known ? "" : " (the preload's tables could not be told apart:"
			" they are in the program's figures)");
	if (a->scans)
		fprintf(ctx->out, "  exit scan: read %" PRIu64 " resident pages, brought %" PRIu64
			" pages back from swap (RSS +%s), left %" PRIu64 " never-touched pages"
			" unread; memhook's doing, not counted above\n", a->scan_read_pages,
			a->scan_swapped_in_pages,
			mh_human_bytes(a->scan_rss_raised_bytes, b1, sizeof(b1)),
			a->scan_untouched_pages);
}

void mh_report_text_attr_summary(struct mh_report_ctx *ctx, const struct mh_process *p)
{
	const struct mh_attr *a = p->attr;

	if (mh_report_has_rss(p))
		text_rss(ctx, p);
	if (a)
		text_own(ctx, p);
	if (mh_report_has_residency(p))
		text_retained(ctx, p);
	else
		fprintf(ctx->out, "  resident bytes unknown: no pagemap snapshot of this process\n");
	if (mh_report_has_kernel(p))
		fprintf(ctx->out, "  kernel: %" PRIu64 " page faults (%" PRIu64 " major; %" PRIu64
			" in live blocks, %" PRIu64 " during allocation calls), %" PRIu64
			" pages swapped in, reclaim stalls %.3f ms (%.3f ms unattributed)\n",
			a->faults, a->major_faults, a->faults_in_blocks, a->faults_during_alloc,
			a->swapins, (double)a->reclaim_stall_ns / 1e6,
			(double)a->reclaim_unattributed_ns / 1e6);
	if (a)
		text_mappings(ctx, p);
	if (a)
		text_timeline(ctx, p);
}

void mh_report_text_attr_stack(struct mh_report_ctx *ctx, const struct mh_process *p,
			       const struct mh_stack_stats *st)
{
	unsigned order[MH_TOUCH_IPS], n, i;
	char b1[32], b2[32], b3[32];

	if (mh_report_has_residency(p) && mh_report_has_rss(p))
		fprintf(ctx->out, "    resident %s (at the RSS peak %s), swapped %s\n",
			mh_human_bytes(st->resident_bytes, b1, sizeof(b1)),
			mh_human_bytes(st->resident_at_rss_peak, b2, sizeof(b2)),
			mh_human_bytes(st->swapped_bytes, b3, sizeof(b3)));
	else if (mh_report_has_residency(p))
		fprintf(ctx->out, "    resident %s, swapped %s\n",
			mh_human_bytes(st->resident_bytes, b1, sizeof(b1)),
			mh_human_bytes(st->swapped_bytes, b3, sizeof(b3)));
	if (!mh_report_has_kernel(p))
		return;
	fprintf(ctx->out, "    %" PRIu64 " faults (%" PRIu64 " major) + %" PRIu64
		" during allocation, %" PRIu64 " pages swapped in, reclaim stalls %.3f ms\n",
		st->faults, st->major_faults, st->faults_during_alloc, st->swapins,
		(double)st->reclaim_stall_ns / 1e6);
	n = touch_order(st, order);
	for (i = 0; i < n && i < TEXT_TOUCH_IPS; i++) {
		const struct mh_frame *f = touch_frame(ctx, p, st->touch[order[i]].ip);

		fputs("    first touch: ", ctx->out);
		mh_escape_fputs(f && f->function ? f->function : "?", ctx->out);
		if (f && f->file) {
			fputs(" (", ctx->out);
			mh_escape_fputs(f->file, ctx->out);
			fprintf(ctx->out, ":%u)", f->line);
		}
		fprintf(ctx->out, " 0x%" PRIx64 ": %" PRIu64 " faults\n", st->touch[order[i]].ip,
			st->touch[order[i]].faults);
	}
}
