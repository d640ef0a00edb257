/* SPDX-License-Identifier: MIT */
/*
 * timeline.h - read a trace's streams and feed them to a replay in one
 * causal order.
 *
 * The ALLOC stream is the master: its records are replayed in file order
 * (the ring's order is causal by construction, even where two threads'
 * timestamps interleave). Every other stream is a secondary source in
 * timestamp order; before a master record is replayed, every secondary
 * record with a timestamp below the master clock (the largest master
 * timestamp so far) is replayed first, and those equal to it too when the
 * master record ends something (FREE, REALLOC, MODULE_UNLOAD, EXIT): at
 * equal stamps the kernel's records come after allocations, before frees
 * (docs/DESIGN.md, "Time resolution"). A secondary whose records
 * are only roughly ordered (the kernel's per-CPU buffers) is smoothed by a
 * small reorder window. Memory is bounded by one chunk per stream plus the
 * window. Never prints.
 */
#ifndef MEMHOOK_MERGER_MERGE_TIMELINE_H
#define MEMHOOK_MERGER_MERGE_TIMELINE_H

#include <stdbool.h>
#include <stdint.h>

struct mh_replay;
struct mh_timeline;

/* Called about every progress_every master records with the bytes read so far. */
typedef void (*mh_timeline_progress_fn)(uint64_t records, void *arg);

/*
 * Open path once per stream used. NULL with errno set (as
 * mh_trace_reader_open()); *reason (may be NULL) then points to a static
 * description.
 */
struct mh_timeline *mh_timeline_open(const char *path);
void mh_timeline_free(struct mh_timeline *tl);

/*
 * Replay every record into rp. 0 or -errno (-EBADMSG: corrupt trace,
 * -EIO, -ENOMEM); mh_timeline_error() then says why.
 */
int mh_timeline_run(struct mh_timeline *tl, struct mh_replay *rp, mh_timeline_progress_fn fn,
		    void *arg);

/* True when any stream ended without the writer's END chunk. */
bool mh_timeline_truncated(const struct mh_timeline *tl);
uint64_t mh_timeline_truncated_at(const struct mh_timeline *tl);

/* One line about the last failure. */
const char *mh_timeline_error(const struct mh_timeline *tl);

#endif /* MEMHOOK_MERGER_MERGE_TIMELINE_H */
