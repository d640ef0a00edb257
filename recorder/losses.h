/* SPDX-License-Identifier: MIT */
/*
 * losses.h - when a lossy ring dropped events, say when: MH_REC_LOST
 * records in the meta stream, each counting the allocation events lost
 * since the previous one. The merger makes leak kinds unknown only for
 * the processes alive between two of them (docs/LEAKS.md, "Lossy"), so
 * the records come often while the program runs, not once at the end.
 */
#ifndef MEMHOOK_RECORDER_LOSSES_H
#define MEMHOOK_RECORDER_LOSSES_H

#include <stdbool.h>

#include <linux/types.h>

#include "recorder/drain.h"

/* How often a lossy ring's loss counter is read and recorded, ns. */
#define MH_LOSSES_PERIOD_NS (50ULL * 1000 * 1000)

struct mh_losses {
	bool lossy;		/* the recording's own setting (--lossy), not the shared header's */
	__u64 reported;		/* ring losses already in MH_REC_LOST records */
	__u64 next_ns;		/* when the next record is due; 0: now */
};

/*
 * In a lossy ring, append an MH_REC_LOST (stream ALLOC, possibly count 0:
 * it bounds the next loss in time) when one is due. Returns when the next
 * one is due (CLOCK_MONOTONIC ns), or ~0 for a lossless ring. Call from
 * one thread.
 */
__u64 mh_losses_tick(struct mh_losses *l, struct mh_recorder *r, __u64 now);

/* The last MH_REC_LOST: what the ring lost since the last record. Once, at the end. */
void mh_losses_finish(struct mh_losses *l, struct mh_recorder *r);

#endif /* MEMHOOK_RECORDER_LOSSES_H */
