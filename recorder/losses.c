// SPDX-License-Identifier: MIT
/*
 * losses.c - MH_REC_LOST records of the allocation stream, while the
 * program runs and at the end (losses.h). Never blocks the drainer: it
 * only reads the ring's counter.
 */
#include "recorder/losses.h"

#include "common/clock.h"

static void append(struct mh_losses *l, struct mh_recorder *r, __u64 now)
{
	__u64 total = __atomic_load_n(&r->ring.hdr->lost_records, __ATOMIC_ACQUIRE);
	struct mh_rec_lost lost = {
		.hdr = { .type = MH_REC_LOST, .size = sizeof(lost) },
		.ts_ns = now,
		.count = total - l->reported,
		.stream = MH_STREAM_ALLOC,
	};

	l->reported = total;
	(void)mh_recorder_append(r, MH_STREAM_META, &lost, sizeof(lost)); /* reported inside */
}

__u64 mh_losses_tick(struct mh_losses *l, struct mh_recorder *r, __u64 now)
{
	if (!l->lossy)
		return ~0ULL;
	if (now >= l->next_ns) {
		append(l, r, now);
		l->next_ns = now + MH_LOSSES_PERIOD_NS;
	}
	return l->next_ns;
}

void mh_losses_finish(struct mh_losses *l, struct mh_recorder *r)
{
	append(l, r, mh_clock_now_ns());
}
