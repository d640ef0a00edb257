/* SPDX-License-Identifier: MIT */
/*
 * ring.h - the producers' half of the event ring (layout and protocol in
 * include/memhook/ring.h): attach to it and write to it. The consumer's
 * half is recorder/ring_consumer.h.
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

/* Map an inherited ring fd and check its header. 0 or -errno. */
int mh_ring_attach(struct mh_ring *ring, int fd);

/*
 * Reserve room for one record of `bytes` (a multiple of 8, at most
 * mh_ring_max_record()). Returns where to write it, or NULL when the record
 * must be dropped: lossy ring full (counted in lost_records) or consumer
 * gone (mh_ring_consumer_gone() then returns true). Lossless mode waits
 * for room, checking the consumer's liveness while it waits.
 * Thread-safe and async-signal-safe.
 */
void *mh_ring_reserve(struct mh_ring *ring, __u32 bytes);

/* mh_ring_reserve that also gives the record's ring position in *pos. */
void *mh_ring_reserve_at(struct mh_ring *ring, __u32 bytes, __u64 *pos);

/*
 * Publish a record written at rec (returned by mh_ring_reserve); hdr is
 * its header, stored last with release semantics. rec's header bytes
 * must not have been written before.
 */
void mh_ring_commit(void *rec, struct mh_rec_hdr hdr);

/*
 * Wake the consumer if it sleeps (a record it must answer was committed,
 * or the recorder is stopping). Preserves errno.
 */
void mh_ring_wake_consumer(struct mh_ring *ring);

/*
 * Wait until the consumer has answered the exit-scan request that ends at
 * ring position ticket, or is gone. Preserves errno. Async-signal-safe.
 */
void mh_ring_wait_answer(struct mh_ring *ring, __u64 ticket);

/* True once the consumer has closed the ring or died. */
bool mh_ring_consumer_gone(const struct mh_ring *ring);

/*
 * Like mh_ring_consumer_gone, but also probes the consumer's pid
 * (kill(pid, 0)) and marks the ring gone if it no longer exists. One
 * system call; preserves errno. Async-signal-safe.
 */
bool mh_ring_consumer_probe(struct mh_ring *ring);

#endif /* MEMHOOK_PRELOAD_RING_H */
