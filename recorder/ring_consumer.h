/* SPDX-License-Identifier: MIT */
/*
 * ring_consumer.h - the recorder's half of the event ring (layout and
 * protocol in include/memhook/ring.h): create it, read records out of it,
 * sleep until producers wake it, answer exit scans, close it.
 *
 * The ring is memory the traced program can write. Nothing read from it
 * is trusted: sizes and cursors come from struct mh_ring (the recorder's
 * own copy), records are copied out before they are looked at, and the
 * copy is checked record by record. Not thread-safe: one consumer thread
 * (mh_ring_answer may run on another).
 */
#ifndef MEMHOOK_RECORDER_RING_CONSUMER_H
#define MEMHOOK_RECORDER_RING_CONSUMER_H

#include <stddef.h>

#include "memhook/events.h"
#include "memhook/ring.h"

/*
 * Create the memfd (not CLOEXEC, so the child inherits it), size it, seal
 * its size and map it. data_bytes must be a power of two and a multiple of
 * the page size. flags: enum mh_ring_flags. Returns 0 or -errno.
 */
int mh_ring_create(struct mh_ring *ring, __u64 data_bytes, __u32 flags);

/*
 * Copy the committed records at the tail into buf (whole records, at most
 * cap bytes, but always the first record if it fits in max_record) and set
 * *bytes to how many were copied. Every copied record has a sane frame: a
 * non-zero type, a size that is a multiple of MH_REC_ALIGN, at least a
 * header and at most mh_ring_max_record(). Returns 0, or -EBADMSG when the
 * record after the *bytes good ones is malformed (*why says how; the
 * ring's content is not to be read further). buf must hold
 * mh_ring_max_record(ring) bytes at least.
 */
int mh_ring_read(struct mh_ring *ring, void *buf, size_t cap, size_t *bytes, const char **why);

/*
 * Why a record with a sane frame (from mh_ring_read) may not be taken as
 * the preload's, or NULL: its type is one the preload writes, it is at
 * least as long as its type's fixed part, and a PROCESS record holds its
 * path. Pure: the fuzzer calls it on anything.
 */
const char *mh_ring_record_error(const struct mh_rec_hdr *rec);

/* Zero `bytes` read by mh_ring_read, advance the tail, wake waiting producers. */
void mh_ring_release(struct mh_ring *ring, size_t bytes);

/*
 * Sleep until a producer wakes us or timeout_ns pass; returns at once if
 * a record is committed at the tail.
 */
void mh_ring_wait(struct mh_ring *ring, long timeout_ns);

/* Wake the consumer thread sleeping in mh_ring_wait (the recording is stopping). */
void mh_ring_wake(struct mh_ring *ring);

/*
 * Bytes reserved by producers but not committed (a producer is mid-write,
 * or died mid-write), at most one data area. Used at the end to report a
 * torn tail; the producers' head it reads is only a report.
 */
__u64 mh_ring_pending_bytes(const struct mh_ring *ring);

/*
 * Tell the processes waiting for exit scans that every request ending at
 * or before ring position ticket is answered. Called in ring order.
 */
void mh_ring_answer(struct mh_ring *ring, __u64 ticket);

/* Mark the ring closed; producers then pass through. */
void mh_ring_close(struct mh_ring *ring);

#endif /* MEMHOOK_RECORDER_RING_CONSUMER_H */
