/* SPDX-License-Identifier: MIT */
/*
 * ring.h - the producers' half of the event ring (layout and protocol in
 * include/memhook/ring.h): attach to it, and write to the calling thread's
 * slot of it. The consumer's half is recorder/ring_consumer.h.
 *
 * Never allocates, never calls stdio, never blocks without a deadline or
 * a liveness check: the producer side runs inside the target's malloc.
 */
#ifndef MEMHOOK_PRELOAD_RING_H
#define MEMHOOK_PRELOAD_RING_H

#include <stdbool.h>
#include <stddef.h>

#include "memhook/events.h"
#include "memhook/ring.h"

/*
 * Map an inherited ring fd and check its header; register for the
 * consumer's membarrier if it uses one (ring->busy_xchg says if not).
 * 0 or -errno.
 */
int mh_ring_attach(struct mh_ring *ring, int fd);

/*
 * Reserve room for one record of `bytes` (a multiple of 8, at most
 * mh_ring_max_record()) in the calling thread's slot, claiming one on the
 * thread's first record, and mark the slot busy: read the record's clock
 * after this. Returns where to write it, or NULL when the record must be
 * dropped: lossy ring full (counted in lost_records), no slot to be had,
 * or consumer gone (mh_ring_consumer_gone() then returns true). Lossless
 * mode waits for room, checking the consumer's liveness while it waits.
 * One record at a time per thread; async-signal-safe as long as a handler
 * never runs between a reserve and its commit on the same thread.
 */
void *mh_ring_reserve(struct mh_ring *ring, __u32 bytes);

/* mh_ring_reserve that also gives the record's slot position in *pos. */
void *mh_ring_reserve_at(struct mh_ring *ring, __u32 bytes, __u64 *pos);

/*
 * Publish the record the calling thread reserved last, written at rec;
 * hdr is its header (its size the reserved bytes).
 */
void mh_ring_commit(void *rec, struct mh_rec_hdr hdr);

/*
 * Ask the consumer for a pass now and wake it if it sleeps (a record it
 * must answer was committed, or the recorder is stopping). Preserves errno.
 */
void mh_ring_wake_consumer(struct mh_ring *ring);

/*
 * Wait until the consumer has answered the exit-scan request that ends at
 * position ticket of the calling thread's slot, or is gone. Preserves
 * errno. Async-signal-safe.
 */
void mh_ring_wait_answer(struct mh_ring *ring, __u64 ticket);

/* The calling thread is done with its slot (its end, process exit): the consumer frees it. */
void mh_ring_close_slot(struct mh_ring *ring);

/* In a fork child: forget the parent's slot (a new one is claimed) and register again. */
void mh_ring_fork_child(struct mh_ring *ring);

/* In a new image: close the slots its pid's previous image held (an exec ended them). */
void mh_ring_close_stale(struct mh_ring *ring);

/* True once the consumer has closed the ring or died. */
bool mh_ring_consumer_gone(const struct mh_ring *ring);

/*
 * Like mh_ring_consumer_gone, but also probes the consumer's pid (a
 * pidfd) and marks the ring gone if it no longer exists. Preserves errno.
 * Async-signal-safe.
 */
bool mh_ring_consumer_probe(struct mh_ring *ring);

#endif /* MEMHOOK_PRELOAD_RING_H */
