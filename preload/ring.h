/* SPDX-License-Identifier: MIT */
/*
 * ring.h - the event ring (layout and protocol in include/memhook/ring.h):
 * create and drain it (recorder), attach and write to it (preload).
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

/* A mapping of the ring. Plain data so the preload can keep it static. */
struct mh_ring {
	struct mh_ring_header *hdr;	/* shared header page(s) */
	unsigned char *data;		/* data area, mapped twice back to back */
	__u64 mask;			/* data_bytes - 1 */
	size_t map_bytes;		/* bytes of the whole mapping */
	__u64 populated;		/* producer: data bytes this process pre-faulted (see ring.c) */
	int fd;				/* the memfd */
};

/*
 * Recorder: create the memfd (not CLOEXEC, so the child inherits it),
 * size it and map it. data_bytes must be a power of two and a multiple of
 * the page size. flags: enum mh_ring_flags. Returns 0 or -errno.
 */
int mh_ring_create(struct mh_ring *ring, __u64 data_bytes, __u32 flags);

/* Preload: map an inherited ring fd and check its header. 0 or -errno. */
int mh_ring_attach(struct mh_ring *ring, int fd);

/* Unmap and close. Safe on a zeroed or already unmapped ring. */
void mh_ring_unmap(struct mh_ring *ring);

/*
 * Producer: reserve room for one record of `bytes` (a multiple of 8, at
 * most data_bytes / 4). Returns where to write it, or NULL when the record
 * must be dropped: lossy ring full (counted in lost_records) or consumer
 * gone (mh_ring_consumer_gone() then returns true). Lossless mode waits
 * for room, checking the consumer's liveness while it waits.
 * Thread-safe and async-signal-safe.
 */
void *mh_ring_reserve(struct mh_ring *ring, __u32 bytes);

/*
 * Producer: publish a record written at rec (returned by mh_ring_reserve);
 * hdr is its header, stored last with release semantics. rec's header
 * bytes must not have been written before.
 */
void mh_ring_commit(void *rec, struct mh_rec_hdr hdr);

/*
 * Wake the consumer if it sleeps in mh_ring_wait (a record it must answer
 * was committed, or the recorder is stopping). Preserves errno.
 */
void mh_ring_wake_consumer(struct mh_ring *ring);

/* Producer: true once the consumer has closed the ring or died. */
bool mh_ring_consumer_gone(const struct mh_ring *ring);

/*
 * Producer: like mh_ring_consumer_gone, but also probes the consumer's pid
 * (kill(pid, 0)) and marks the ring gone if it no longer exists. One
 * system call; preserves errno. Async-signal-safe.
 */
bool mh_ring_consumer_probe(struct mh_ring *ring);

/*
 * Consumer: the committed records starting at the tail, contiguous in
 * memory. Sets *bytes to their total size (0 if none) and returns a
 * pointer to the first. Stops at the first record not yet committed.
 */
const void *mh_ring_peek(struct mh_ring *ring, size_t *bytes);

/*
 * Consumer: zero `bytes` of records returned by mh_ring_peek, advance the
 * tail and wake producers waiting for room.
 */
void mh_ring_release(struct mh_ring *ring, size_t bytes);

/*
 * Consumer: sleep until a producer wakes us (mh_ring_wake_consumer, a wake
 * boundary crossed, a producer waiting for room) or timeout_ns pass;
 * returns at once if a record is committed at the tail.
 */
void mh_ring_wait(struct mh_ring *ring, long timeout_ns);

/*
 * Consumer: bytes reserved by producers but not committed (a producer is
 * mid-write, or died mid-write). Used at the end to report a torn tail.
 */
__u64 mh_ring_pending_bytes(const struct mh_ring *ring);

/* Consumer: mark the ring closed; producers then pass through. */
void mh_ring_close(struct mh_ring *ring);

#endif /* MEMHOOK_PRELOAD_RING_H */
