/* SPDX-License-Identifier: MIT */
/*
 * frametab.h - the frames of a report's stacks as one table of distinct
 * frames (function, file, line, module), each with a dense index: what
 * speedscope's shared frames and the HTML page's flame graphs and leak
 * records refer to.
 *
 * Internal to the report writers. Never prints.
 */
#ifndef MEMHOOK_MERGER_REPORT_FRAMETAB_H
#define MEMHOOK_MERGER_REPORT_FRAMETAB_H

#include <stddef.h>
#include <stdint.h>

struct mh_frame;
struct mh_report_ctx;
struct mh_stack_stats;
struct mh_frametab;

/* An empty table for ctx's stacks. NULL with errno set. */
struct mh_frametab *mh_frametab_new(struct mh_report_ctx *ctx);
void mh_frametab_free(struct mh_frametab *t);

/*
 * The frame indexes of st, innermost first (as mh_report_frames() walks
 * them), into *ids: owned by the table, valid until the next call.
 * Returns how many (0 when every frame was memhook's own), or -ENOMEM.
 */
long mh_frametab_stack(struct mh_frametab *t, const struct mh_stack_stats *st,
		       const uint32_t **ids);

/* Distinct frames so far. */
size_t mh_frametab_count(const struct mh_frametab *t);
/* Frame i: its name (mh_report_frame_name()) and the symbolized frame. */
const char *mh_frametab_name(const struct mh_frametab *t, size_t i);
const struct mh_frame *mh_frametab_frame(const struct mh_frametab *t, size_t i);

#endif /* MEMHOOK_MERGER_REPORT_FRAMETAB_H */
