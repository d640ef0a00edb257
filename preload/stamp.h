/* SPDX-License-Identifier: MIT */
/*
 * stamp.h - the timestamps of this process's records: clock.h's read,
 * fenced where another thread's records may have to come first, unfenced
 * where none can (docs/DESIGN.md, "One thread, no fence"). Two cases go
 * without the fence: the process's first stamping thread while it stamps
 * alone, and the thread holding the solo token, which a thread takes
 * (membarrier, then no other slot of the process busy) after many fenced
 * stamps of its own and any other thread's stamp takes back.
 *
 * Never allocates, never prints, never blocks; async-signal-safe.
 * mh_stamp() is called only with the calling thread's slot marked busy
 * (between mh_ring_reserve and mh_ring_commit): the argument rests on it.
 */
#ifndef MEMHOOK_PRELOAD_STAMP_H
#define MEMHOOK_PRELOAD_STAMP_H

#include <linux/types.h>
#include <stdbool.h>

#include "preload/clock.h"
#include "preload/ring.h"
#include "common/compiler.h"

/* What the inline stamp below needs from stamp.c; not for other users. */
struct mh_stamp_thread {
	__u64 token;		/* this thread's stamper number in this image, 0 before its first */
	__u64 run;		/* fenced stamps since the thread last tried for the token */
};

extern __thread struct mh_stamp_thread mh_stamp_me
	__attribute__((tls_model("initial-exec"), visibility("hidden")));

/* Read on every stamp, written rarely: a cache line of their own. */
extern struct mh_stamp_words {
	int ordered;		/* a second thread has stamped: fence unless solo */
	__u64 solo;		/* token of the thread that may stamp unfenced, 0: none */
	__u64 acquire_after;	/* fenced stamps before a thread tries for the token */
} mh_stamp_words __attribute__((visibility("hidden"), aligned(64)));

void mh_stamp_first(void) __attribute__((visibility("hidden")));
void mh_stamp_contend(__u64 solo) __attribute__((visibility("hidden")));

/*
 * Start over in a new image or a fork child, with ring attached (r->hdr
 * set): no thread of this process has stamped yet. A ring whose busy = 1
 * is an exchange (no membarrier) keeps every stamp fenced.
 */
void mh_stamp_reset(struct mh_ring *r);

/* Fenced stamps a thread makes before it tries for the solo token (doubles per take-back). */
#define MH_STAMP_ACQUIRE_AFTER 4096ULL

/*
 * A record's timestamp (CLOCK_MONOTONIC ns), for the record the calling
 * thread has just reserved.
 */
static inline __attribute__((always_inline)) __u64 mh_stamp(void)
{
	struct mh_stamp_words *w = &mh_stamp_words;
	__u64 solo, ts;

	if (mh_unlikely(!mh_stamp_me.token))
		mh_stamp_first();
	if (!__atomic_load_n(&w->ordered, __ATOMIC_RELAXED))
		return mh_clock_read(false);
	/* After busy = 1 in program order (the reserve's compiler fence): DESIGN.md. */
	solo = __atomic_load_n(&w->solo, __ATOMIC_RELAXED);
	if (solo == mh_stamp_me.token)
		return mh_clock_read(false);
	ts = mh_clock_read(true);
	if (mh_unlikely(solo || ++mh_stamp_me.run >=
					__atomic_load_n(&w->acquire_after, __ATOMIC_RELAXED)))
		mh_stamp_contend(solo);
	return ts;
}

#endif /* MEMHOOK_PRELOAD_STAMP_H */
