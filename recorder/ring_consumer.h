/* SPDX-License-Identifier: MIT */
/*
 * ring_consumer.h - the recorder's half of the event ring (layout and
 * protocol in include/memhook/ring.h): create it, merge the threads' slots
 * into one stream in timestamp order, sleep until producers wake it,
 * answer exit scans, close it.
 *
 * The ring is memory the traced program can write. Nothing read from it
 * is trusted: sizes and cursors come from struct mh_ring (the recorder's
 * own copy), records are copied out before they are looked at, and the
 * copy is checked record by record. Not thread-safe: one consumer thread
 * (mh_ring_answer may run on another).
 */
#ifndef MEMHOOK_RECORDER_RING_CONSUMER_H
#define MEMHOOK_RECORDER_RING_CONSUMER_H

#include <stdbool.h>
#include <stddef.h>

#include "memhook/events.h"
#include "memhook/ring.h"
#include "recorder/ring_records.h"

/*
 * Create the memfd (not CLOEXEC, so the child inherits it), size it, seal
 * its size, map it and set up the consumer's cursors. data_bytes must be a
 * power of two and a multiple of the page size. flags: enum
 * mh_ring_flags (MH_RING_MEMBARRIER is added when the kernel has it).
 * Returns 0 or -errno. Undo with mh_ring_destroy().
 */
int mh_ring_create(struct mh_ring *ring, __u64 data_bytes, __u32 flags);

/* Free the cursors, unmap and close. */
void mh_ring_destroy(struct mh_ring *ring);

/* Does this consumer order its passes with membarrier (else producers use an exchange)? */
bool mh_ring_uses_membarrier(const struct mh_ring *ring);

/*
 * Copy published records into buf, merged from every slot in timestamp
 * order up to this pass's watermark (whole records, at most cap bytes, but
 * always one if there is one), and set *bytes to how many were copied.
 * Each copied record passed mh_ring_record_error(); an exit-scan request's
 * ticket is the recorder's own (for mh_ring_answer). A read that finds
 * nothing more below the watermark ends the pass; the next read starts
 * one. Returns 0, or -EBADMSG when a slot broke the protocol: *why says
 * which and how, that slot is never read again (the others are), and the
 * records before it in *bytes are good. buf must hold
 * mh_ring_max_record(ring) bytes at least.
 */
int mh_ring_read(struct mh_ring *ring, void *buf, size_t cap, size_t *bytes, const char **why);

/*
 * Give the slots back the room of every record read so far (bytes is
 * ignored), hand out again the slots of ended threads drained to their
 * end, and wake waiting producers.
 */
void mh_ring_release(struct mh_ring *ring, size_t bytes);

/*
 * Sleep until a producer wakes us or timeout_ns pass; returns at once if
 * a slot published something not yet read, and sleeps briefly when only
 * records held back by the watermark wait.
 */
void mh_ring_wait(struct mh_ring *ring, long timeout_ns);

/* Wake the consumer thread sleeping in mh_ring_wait (the recording is stopping). */
void mh_ring_wake(struct mh_ring *ring);

/*
 * Slots whose thread is between taking a timestamp and publishing it (a
 * producer mid-write, or one that died mid-write and is not known dead).
 */
unsigned int mh_ring_busy_slots(const struct mh_ring *ring);

/* The recording stopped: from the next pass on, merge all that is published. */
void mh_ring_finish(struct mh_ring *ring);

/*
 * Tell the process waiting for the exit scan of ticket (as mh_ring_read
 * made it) that it is answered. May run on another thread than the reader.
 */
void mh_ring_answer(struct mh_ring *ring, __u64 ticket);

/* Mark the ring closed; producers then pass through. */
void mh_ring_close(struct mh_ring *ring);

#endif /* MEMHOOK_RECORDER_RING_CONSUMER_H */
