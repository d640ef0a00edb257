// SPDX-License-Identifier: MIT
/*
 * streams.c - which streams a trace has, and why not the others
 * (streams.h), from the recorder's INFO records: "alloc.status" (memhook
 * collect), "preload.status" (no allocation events), "kernel.status",
 * "options" (--sample-interval, --pagemap-interval); and how long the
 * program waited for room in the ring ("ring.producer_waits",
 * "ring.producer_wait_ns").
 *
 * Must never call a stream on that the trace does not show: without its
 * INFO record a stream is "off" with the reason that the trace does not
 * say, unless its records are there.
 */
#include "merger/report/streams.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "merger/attribution/attribute.h"
#include "merger/report/json_writer.h"
#include "merger/report/model.h"

static const char *const names[MH_RSTREAM_COUNT] = {
	[MH_RSTREAM_ALLOC] = "allocations",
	[MH_RSTREAM_KERNEL] = "kernel",
	[MH_RSTREAM_RSS] = "rss_samples",
	[MH_RSTREAM_PAGEMAP] = "pagemap_snapshots",
};

static const char *const titles[MH_RSTREAM_COUNT] = {
	[MH_RSTREAM_ALLOC] = "allocation stream",
	[MH_RSTREAM_KERNEL] = "kernel stream",
	[MH_RSTREAM_RSS] = "RSS samples",
	[MH_RSTREAM_PAGEMAP] = "pagemap snapshots",
};

const char *mh_report_stream_name(enum mh_report_stream s)
{
	return s < MH_RSTREAM_COUNT ? names[s] : "?";
}

static void set(struct mh_stream_state *st, bool on, const char *what)
{
	st->on = on;
	snprintf(st->what, sizeof(st->what), "%s", what);
}

/* An interval option's value in "options" ("--sample-interval 100 ..."), -1 if absent. */
static long option_ms(const char *options, const char *name)
{
	const char *p = options ? strstr(options, name) : NULL;

	return p ? strtol(p + strlen(name), NULL, 10) : -1;
}

static bool any_kernel_records(const struct mh_report_ctx *ctx)
{
	return ctx->rp->kernel_records > 0;
}

static void alloc_state(const struct mh_report_ctx *ctx, struct mh_stream_state *st)
{
	const char *collect = mh_replay_info(ctx->rp, "alloc.status");
	const char *preload = mh_replay_info(ctx->rp, "preload.status");

	if (collect && strcmp(collect, "on")) {
		set(st, false, collect);
	} else if (preload) {
		set(st, false, "off: no allocation events: ");
		strncat(st->what, preload, sizeof(st->what) - strlen(st->what) - 1);
	} else {
		set(st, true, "on");
	}
}

static void kernel_state(const struct mh_report_ctx *ctx, struct mh_stream_state *st)
{
	const char *status = mh_replay_info(ctx->rp, "kernel.status");

	if (status)
		set(st, !strcmp(status, "on"), status);
	else if (any_kernel_records(ctx))
		set(st, true, "on");
	else
		set(st, false, "off: the trace has no kernel records and does not say why");
}

static void interval_state(const struct mh_report_ctx *ctx, struct mh_stream_state *st,
			   const char *option, const char *off_why)
{
	const char *options = mh_replay_info(ctx->rp, "options");
	long ms = option_ms(options, option);

	if (ms > 0) {
		snprintf(st->what, sizeof(st->what), "every %ld ms", ms);
		st->on = true;
	} else if (ms == 0) {
		snprintf(st->what, sizeof(st->what), "off: %s%.*s 0", off_why,
			 (int)strlen(option) - 1, option);
		st->on = false;
	} else if (mh_replay_info(ctx->rp, "alloc.status")) {
		set(st, false, "off: memhook collect takes no samples");
	} else {
		set(st, false, "off: the trace does not say (no \"options\" record)");
	}
}

void mh_report_streams(const struct mh_report_ctx *ctx,
		       struct mh_stream_state states[MH_RSTREAM_COUNT])
{
	alloc_state(ctx, &states[MH_RSTREAM_ALLOC]);
	kernel_state(ctx, &states[MH_RSTREAM_KERNEL]);
	interval_state(ctx, &states[MH_RSTREAM_RSS], "--sample-interval ", "disabled by ");
	interval_state(ctx, &states[MH_RSTREAM_PAGEMAP], "--pagemap-interval ",
		       "only the exit-time snapshot: disabled by ");
}

bool mh_report_has_heap(const struct mh_report_ctx *ctx, const struct mh_process *p)
{
	struct mh_stream_state st;

	/* Watched by collect, or a process the preload never ran in. */
	if (p->start == MH_PROCESS_ATTACHED || p->untraced_why)
		return false;
	alloc_state(ctx, &st);
	return st.on || p->alloc_calls || p->frees;
}

void mh_report_text_streams(const struct mh_report_ctx *ctx, FILE *out)
{
	struct mh_stream_state states[MH_RSTREAM_COUNT];
	uint64_t waits, wait_ns;

	mh_report_streams(ctx, states);
	for (unsigned i = 0; i < MH_RSTREAM_COUNT; i++)
		fprintf(out, "%s: %s\n", titles[i], states[i].what);
	if (mh_report_waits(ctx, &waits, &wait_ns) && waits)
		fprintf(out, "recorder waits: the program waited %" PRIu64 " times for room in the"
			" ring, %.1f ms in all (memhook slowed it down by that much)\n",
			waits, (double)wait_ns / 1e6);
}

bool mh_report_waits(const struct mh_report_ctx *ctx, uint64_t *waits, uint64_t *wait_ns)
{
	const char *n = mh_replay_info(ctx->rp, "ring.producer_waits");
	const char *ns = mh_replay_info(ctx->rp, "ring.producer_wait_ns");

	*waits = n ? strtoull(n, NULL, 10) : 0;
	*wait_ns = ns ? strtoull(ns, NULL, 10) : 0;
	return n && ns;
}

void mh_report_json_streams(const struct mh_report_ctx *ctx, struct mh_json *j)
{
	struct mh_stream_state states[MH_RSTREAM_COUNT];

	mh_report_streams(ctx, states);
	mh_json_object_begin(j, "streams");
	for (unsigned i = 0; i < MH_RSTREAM_COUNT; i++)
		mh_json_string(j, names[i], states[i].what);
	mh_json_object_end(j);
}

void mh_report_json_waits(const struct mh_report_ctx *ctx, struct mh_json *j)
{
	uint64_t waits, wait_ns;

	if (mh_report_waits(ctx, &waits, &wait_ns)) {
		mh_json_uint(j, "recorder_waits", waits);
		mh_json_uint(j, "recorder_wait_ns", wait_ns);
	} else {
		mh_json_null(j, "recorder_waits");
		mh_json_null(j, "recorder_wait_ns");
	}
}

void mh_report_json_stream_warnings(const struct mh_report_ctx *ctx, struct mh_json *j)
{
	struct mh_stream_state states[MH_RSTREAM_COUNT];
	char line[400];

	mh_report_streams(ctx, states);
	for (unsigned i = 0; i < MH_RSTREAM_COUNT; i++) {
		if (states[i].on)
			continue;
		snprintf(line, sizeof(line), "%s %s", titles[i], states[i].what);
		mh_json_string(j, NULL, line);
	}
}
