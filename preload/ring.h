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
#include <string.h>

#include "memhook/events.h"
#include "memhook/ring.h"
#include "common/compiler.h"

/*
 * Map an inherited ring fd and check its header; register for the
 * consumer's membarrier if it uses one (ring->busy_xchg says if not).
 * 0 or -errno.
 */
int mh_ring_attach(struct mh_ring *ring, int fd);

/* True once the consumer has closed the ring or died. */
static inline bool mh_ring_consumer_gone(const struct mh_ring *ring)
{
	return __atomic_load_n(&ring->hdr->consumer_state, __ATOMIC_ACQUIRE) ==
	       MH_RING_CONSUMER_GONE;
}

/*
 * The calling thread's slot: written by the inline fast paths below and
 * by ring.c. Not for other users.
 */
struct mh_ring_slot_ref {
	struct mh_ring *ring;		/* the ring it is in, NULL: none (then slot is too) */
	struct mh_slot_header *slot;
	unsigned char *data;		/* the slot's bytes */
	__u64 bytes;			/* the slot's size */
	__u64 head;			/* own copy of the published head */
	__u64 tail;			/* the consumer's tail when last read */
	__u64 step;			/* a commit past a multiple calls ring.c (power of 2) */
	__u64 limit;			/* a record past this offset starts a new lap */
	int starved;			/* gave up waiting for a slot: do not wait again */
};

extern __thread struct mh_ring_slot_ref mh_ring_me
	__attribute__((tls_model("initial-exec"), visibility("hidden")));

/* Records up to this size may take the inline path (every ring takes records of 1 KiB). */
#define MH_RING_FAST_BYTES 256U

/*
 * busy = 1 before the caller reads the clock (include/memhook/ring.h).
 * The consumer's membarrier orders this store for registered processes;
 * the others pay for a full barrier here.
 */
static inline __attribute__((always_inline)) void mh_ring_mark_busy(const struct mh_ring *ring,
								    struct mh_slot_header *s)
{
	if (ring->busy_xchg) {
		__atomic_exchange_n(&s->busy, 1, __ATOMIC_SEQ_CST);
	} else {
		__atomic_store_n(&s->busy, 1, __ATOMIC_RELEASE);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
	}
}

/* mh_ring_reserve_at's general path: a first record, a full or wrapping slot, odd sizes. */
void *mh_ring_reserve_slow(struct mh_ring *ring, __u32 bytes, __u64 *pos);

/*
 * mh_ring_commit's rare path: the head crossed a multiple of step (from
 * old): its first lap mapped on ahead, or the lap cut short (ring.c), and
 * at a wake mark (step divides them) a wake if the slot is half full.
 */
void mh_ring_commit_crossed(__u64 old);

/*
 * Reserve room for one record of `bytes` (a multiple of 8, at most
 * mh_ring_max_record()) in the calling thread's slot, claiming one on the
 * thread's first record, and mark the slot busy: read the record's clock
 * after this. Returns where to write it, and its slot position in *pos,
 * or NULL when the record must be dropped: lossy ring full (counted in
 * lost_records), no slot to be had, or consumer gone
 * (mh_ring_consumer_gone() then returns true). Lossless mode waits for
 * room, checking the consumer's liveness while it waits. One record at a
 * time per thread; async-signal-safe as long as a handler never runs
 * between a reserve and its commit on the same thread. A thread closes
 * its slot (mh_ring_close_slot) before the ring is unmapped.
 *
 * Inline: a small record that fits behind the cached tail, without
 * wrapping, is a few loads and one store.
 */
static inline __attribute__((always_inline)) void *mh_ring_reserve_at(struct mh_ring *ring,
								     __u32 bytes, __u64 *pos)
{
	struct mh_ring_slot_ref *me = &mh_ring_me;
	__u64 off = me->head & (me->bytes - 1);

	if (mh_unlikely(me->ring != ring || bytes < sizeof(struct mh_rec_hdr) ||
			bytes % MH_REC_ALIGN || bytes > MH_RING_FAST_BYTES ||
			off + bytes > me->limit || me->head + bytes - me->tail > me->bytes ||
			mh_ring_consumer_gone(ring)))
		return mh_ring_reserve_slow(ring, bytes, pos);
	mh_ring_mark_busy(ring, me->slot);
	*pos = me->head;
	/* A claimed slot's bytes are mapped: the callers' NULL checks fold away here. */
	if (!me->data)
		__builtin_unreachable();
	return me->data + off;
}

/* mh_ring_reserve_at without the position. */
static inline __attribute__((always_inline)) void *mh_ring_reserve(struct mh_ring *ring,
								  __u32 bytes)
{
	__u64 pos;

	return mh_ring_reserve_at(ring, bytes, &pos);
}

/*
 * Publish the record the calling thread reserved last, written at rec;
 * hdr is its header, its size the bytes reserved (a constant in the
 * event paths, so the checks below fold away). The slot's last_ts is the
 * record's stamp (the 8 bytes after the header) for a type with one.
 */
static inline __attribute__((always_inline)) void mh_ring_commit(void *rec,
								 struct mh_rec_hdr hdr)
{
	struct mh_ring_slot_ref *me = &mh_ring_me;
	struct mh_slot_header *s = me->slot;
	__u64 old = me->head, head = old + hdr.size, ts;

	memcpy(rec, &hdr, sizeof(hdr));
	if (mh_ring_type_has_ts(hdr.type) && hdr.size >= 2 * sizeof(__u64)) {
		memcpy(&ts, (const unsigned char *)rec + sizeof(hdr), sizeof(ts));
		__atomic_store_n(&s->last_ts, ts, __ATOMIC_RELEASE);
	}
	me->head = head;
	__atomic_store_n(&s->head, head, __ATOMIC_RELEASE);
	__atomic_store_n(&s->busy, 0, __ATOMIC_RELEASE);
	if (mh_unlikely((old ^ head) >= me->step))
		mh_ring_commit_crossed(old);
}

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

/*
 * True if a slot of process pid other than the calling thread's is marked
 * busy (its owner between the reserve and the commit of a record).
 * Async-signal-safe.
 */
bool mh_ring_others_busy(const struct mh_ring *ring, __u32 pid);

/* The calling thread is done with its slot (its end, process exit): the consumer frees it. */
void mh_ring_close_slot(struct mh_ring *ring);

/* In a fork child: forget the parent's slot (a new one is claimed) and register again. */
void mh_ring_fork_child(struct mh_ring *ring);

/* In a new image: close the slots its pid's previous image held (an exec ended them). */
void mh_ring_close_stale(struct mh_ring *ring);

/*
 * Like mh_ring_consumer_gone, but also probes the consumer's pid (a
 * pidfd) and marks the ring gone if it no longer exists. Preserves errno.
 * Async-signal-safe.
 */
bool mh_ring_consumer_probe(struct mh_ring *ring);

#endif /* MEMHOOK_PRELOAD_RING_H */
