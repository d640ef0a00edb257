/* SPDX-License-Identifier: MIT */
/*
 * streams.h - which of a trace's streams were recorded, and why the
 * others were not, as the report states them (docs/REPORT.md "Streams"):
 * the allocation stream, the kernel stream, RSS samples and pagemap
 * snapshots. Internal to merger/report/. Never prints except to the
 * stream it is given.
 */
#ifndef MEMHOOK_MERGER_REPORT_STREAMS_H
#define MEMHOOK_MERGER_REPORT_STREAMS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct mh_json;
struct mh_process;
struct mh_report_ctx;

enum mh_report_stream {
	MH_RSTREAM_ALLOC = 0,	/* the preload's allocation records */
	MH_RSTREAM_KERNEL,	/* the BPF collector's records */
	MH_RSTREAM_RSS,		/* /proc RSS samples */
	MH_RSTREAM_PAGEMAP,	/* periodic pagemap snapshots */
	MH_RSTREAM_COUNT,
};

struct mh_stream_state {
	bool on;
	char what[320];		/* "on", "every 100 ms", or "off: <why>" */
};

/* The state of every stream of the trace in ctx. */
void mh_report_streams(const struct mh_report_ctx *ctx,
		       struct mh_stream_state states[MH_RSTREAM_COUNT]);

/* JSON name of a stream ("allocations", "kernel", "rss_samples", "pagemap_snapshots"). */
const char *mh_report_stream_name(enum mh_report_stream s);

/* True if p's heap figures were measured (its allocation stream was recorded). */
bool mh_report_has_heap(const struct mh_report_ctx *ctx, const struct mh_process *p);

/*
 * How often and how long (ns) the program waited for room in the ring;
 * false when the trace does not say (both then 0).
 */
bool mh_report_waits(const struct mh_report_ctx *ctx, uint64_t *waits, uint64_t *wait_ns);

/* Text: one line per stream, under the report's title; then the waits, if any. */
void mh_report_text_streams(const struct mh_report_ctx *ctx, FILE *out);

/* JSON: "streams": { NAME: "on" | "every N ms" | "off: why" }; and a warning per stream off. */
void mh_report_json_streams(const struct mh_report_ctx *ctx, struct mh_json *j);
/* JSON: "recorder_waits" and "recorder_wait_ns", null when the trace does not say. */
void mh_report_json_waits(const struct mh_report_ctx *ctx, struct mh_json *j);
void mh_report_json_stream_warnings(const struct mh_report_ctx *ctx, struct mh_json *j);

#endif /* MEMHOOK_MERGER_REPORT_STREAMS_H */
