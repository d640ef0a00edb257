/* SPDX-License-Identifier: MIT */
/*
 * ring.h - layout of the shared memory between the preload (many threads,
 * possibly in several processes after fork and exec) and the recorder (one
 * consumer): a header, a table of slot headers and the data area cut into
 * slots, each slot a single-producer single-consumer ring owned by one
 * thread at a time (docs/DESIGN.md, "Per-thread buffers").
 *
 * The memory is a memfd created by the recorder and inherited by the
 * traced program (MEMHOOK_RING_FD, env.h): MH_RING_HEADER_BYTES of header
 * (struct mh_ring_header, then the slot table at MH_RING_SLOT_TABLE), then
 * the slots (mh_ring_layout): in an area of at least MH_RING_BIG_MIN_AREA,
 * MH_RING_BIG_SLOTS large slots of an eighth of it each, for the first
 * thread of a process to claim one and for threads whose small slot made
 * them wait (promotion, below), then small ones in the other half for the
 * other threads (and when no large one is free); in smaller areas, slots
 * of one size. Every size is a power of two.
 *
 * Protocol of a slot (positions are bytes since the recording started and
 * grow forever, also across owners; position & (size - 1) is the
 * offset in the slot). A record never straddles the slot's end: a producer
 * that would cross it writes an all-zero record header there (a wrap mark)
 * and goes on at the slot's start; a producer may also end a lap early
 * with a wrap mark at any other offset but 0 (preload/ring.c, reuse).
 *   claim:    CAS state FREE -> CLAIMED (with a promotion's, the only
 *             atomic read-modify-writes of a thread's life), then owner
 *             pid and tid.
 *   producer: wait for room (head + bytes - tail <= size; lossy:
 *             drop and count instead), store busy = 1 (an exchange when
 *             the process has no membarrier registration, see below), read
 *             the clock, write the record, store last_ts, release-store
 *             head, store busy = 0.
 *   close:    CLAIMED -> CLOSED at the thread's end, process exit, an
 *             untraced image's note, and for the slots of the image an
 *             exec replaced; a fork child forgets its parent's slot.
 *   promotion: a lossless producer whose small slot has no room claims a
 *             FREE large slot (CAS, then owner pid and tid), closes the
 *             small one, waits until the small one's tail reaches its head
 *             (every record of it taken by the consumer; or the slot
 *             BROKEN), and only then writes into the large one. So a
 *             thread's records never sit in two slots at once and come out
 *             in its own order, whatever their stamps; the wait is the one
 *             the full slot cost anyway. No large slot free: it waits for
 *             room as before.
 *   consumer: passes are paced: one starts MH_RING_PASS_PERIOD_MS after
 *             the last, or at once when a producer set pass_wanted (it
 *             waits for room or a slot, sent an exit-scan request, or
 *             its slot is half full); a pass asked for that held records
 *             back by the watermark is followed MH_RING_SKEW_NS after its
 *             T0. Each pass: T0 = CLOCK_MONOTONIC; membarrier
 *             (MEMBARRIER_CMD_GLOBAL_EXPEDITED) or a full fence; then per
 *             slot: acquire state, busy, last_ts, head (the reverse of
 *             the producer's release stores). The watermark W is T0, or
 *             last_ts of a slot seen busy if lower, minus MH_RING_SKEW_NS.
 *             Records below W are merged from all slots by (timestamp,
 *             FREE before the rest); the tails are then release-stored. A
 *             CLOSED slot drained to its head, or the slot of a thread the
 *             kernel says is gone, is set FREE again; a slot whose content
 *             breaks the protocol is set BROKEN and never read again.
 * A record without a timestamp (MH_REC_STACK) is merged at its slot's last
 * timestamp. When the recording stops, everything published is merged.
 *
 * Exit scans: a process sends MH_REC_EXIT_SCAN and waits until its slot's
 * `answered` reaches the slot position just past that record (its
 * ticket). The recorder, which counts slot positions itself, stores the
 * position there once the scan is done and wakes the waiters on scan_seq.
 * The recorder never writes into a traced process: only into this memory.
 *
 * Trust: the consumer (often root) treats everything in this mapping as
 * hostile. It sizes and bounds every access from its own copy of the
 * layout (struct mh_ring), never from the header, a slot's head or a
 * record's claims; it copies records out before it looks at them; a
 * malformed slot ends the reading of that slot only.
 *
 * Sleeping (no polling on either side):
 *   consumer: with no pass due, it sets consumer_sleeping, checks
 *             once more, and waits on the futex word wake_seq until the
 *             next paced pass, or with nothing published for
 *             MH_RING_IDLE_WAKE_MS: a missed wake costs at most that
 *             long, and the timeout is also the periodic flush.
 *   producer: when its slot's head crosses a multiple of
 *             size >> MH_RING_WAKE_SHIFT with the slot half full,
 *             when it must wait for room or for a free slot, and after an
 *             exit-scan request, it sets pass_wanted and wakes a sleeping
 *             consumer (mh_ring_wake_word). A producer waiting
 *             for room sleeps on tail_wake (the consumer bumps and wakes
 *             it after a pass while producers_sleeping is non-zero).
 * The futex words live in the shared mapping (not FUTEX_PRIVATE): the
 * producers may be several processes. A forged value can only cause a
 * spurious or a late wake, which the timeouts bound.
 *
 * Nothing here may allocate or call stdio: it runs inside malloc.
 */
#ifndef MEMHOOK_INCLUDE_RING_H
#define MEMHOOK_INCLUDE_RING_H

#include <errno.h>
#include <linux/futex.h>
#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "memhook/events.h"

#define MH_RING_MAGIC 0x474e495248484d4dULL /* "MMHHRING" */
#define MH_RING_VERSION 6
/* Bytes reserved for the header and the slot table, a multiple of every page size we run on. */
#define MH_RING_HEADER_BYTES 65536
/* Offset of the slot table in the header. */
#define MH_RING_SLOT_TABLE 4096
/* Default data area: 64 MiB; --ring-size changes it (a power of two). */
#define MH_RING_DEFAULT_DATA_BYTES (64ULL << 20)
#define MH_CACHELINE 64
/* Most slots a ring has (the table's room), and fewest. */
#define MH_RING_SLOTS_MAX 256U
#define MH_RING_SLOTS_MIN 4U
/* A slot's size when the data area allows it (larger areas: more slots, then larger ones). */
#define MH_RING_SLOT_BYTES (256ULL << 10)
/*
 * The first thread of a process to write (its main thread, mostly) gets a
 * large slot: a program that frees 100,000 objects at once (Python
 * dropping a list) writes several MiB in a few milliseconds, which a slot
 * of 256 KiB cannot hold until the recorder's next pass, so the program
 * waited. A thread that fills its small slot moves to a free large one
 * (promotion). Large slots only from an area this big on.
 */
#define MH_RING_BIG_SLOTS 4U
#define MH_RING_BIG_MIN_AREA (4ULL << 20)
/*
 * Largest record a producer writes (a stack of MH_STACK_MAX_DEPTH frames is
 * 1 KiB, a module record a path and its segments); also at most a quarter
 * of a slot.
 */
#define MH_RING_RECORD_MAX (64U << 10)
/*
 * A producer whose slot is half full wakes the consumer each time its
 * head crosses its slot's size >> this.
 */
#define MH_RING_WAKE_SHIFT 3
/* The longest a consumer with nothing to read sleeps before looking again, ms. */
#define MH_RING_IDLE_WAKE_MS 10
/*
 * Time between two passes nobody asked for, ms. Each pass with two
 * threads writing costs a membarrier, which interrupts every CPU running
 * the program; a millisecond of records fits in a slot many times over.
 */
#define MH_RING_PASS_PERIOD_MS 1
/*
 * The watermark's margin, ns: how far a producer's clock (TSC readings
 * converted per thread, preload/clock.c) may lag CLOCK_MONOTONIC.
 */
#define MH_RING_SKEW_NS 20000ULL
/* A ticket: slot index above this bit, slot position below. */
#define MH_RING_TICKET_SHIFT 48

enum mh_ring_flags {
	MH_RING_LOSSY = 0x1,	/* drop and count when full instead of waiting */
	/*
	 * The consumer answers MH_REC_EXIT_SCAN (writes the ack): a producer
	 * process waits for it at exit. Without it, none is sent.
	 */
	MH_RING_EXIT_SCAN = 0x2,
	/*
	 * The consumer runs MEMBARRIER_CMD_GLOBAL_EXPEDITED each pass: a
	 * process registered for it may store busy plainly.
	 */
	MH_RING_MEMBARRIER = 0x4,
	/*
	 * The TSC may stand in for CLOCK_MONOTONIC on this machine
	 * (common/tsc.h): asked once by the consumer, not by each producer.
	 */
	MH_RING_TSC = 0x8,
};

enum mh_ring_consumer_state {
	MH_RING_CONSUMER_ALIVE = 1,
	MH_RING_CONSUMER_GONE = 2,	/* recorder closed the ring: pass through */
};

enum mh_slot_state {
	MH_SLOT_FREE = 0,
	MH_SLOT_CLAIMED = 1,	/* a thread writes into it */
	MH_SLOT_CLOSED = 2,	/* its thread is done: free once drained */
	MH_SLOT_BROKEN = 3,	/* the consumer found it malformed: never read again */
};

struct mh_ring_header {
	__u64 magic;			/* MH_RING_MAGIC */
	__u32 version;			/* MH_RING_VERSION */
	__u32 flags;			/* enum mh_ring_flags */
	__u64 data_bytes;		/* size of the data area (mh_ring_layout cuts it) */
	__u64 slot_bytes;		/* size of the smallest slots, a power of two */
	__u32 slot_count;		/* slots, at most MH_RING_SLOTS_MAX */
	__u32 consumer_pid;		/* the recorder; producers probe it with a pidfd */
	__u32 consumer_state;		/* enum mh_ring_consumer_state */

	/* Records dropped in lossy mode (or by a producer that gave up). */
	_Alignas(MH_CACHELINE) __u64 lost_records;
	/* Times a producer had to wait for room or for a slot (lossless mode). */
	__u64 producer_waits;
	/* Their total length, ns (the producers' clock): how long memhook held the program up. */
	__u64 producer_wait_ns;
	/* Threads moved from a full small slot to a large one. */
	__u64 promotions;

	/* Futex word the consumer sleeps on; producers bump it to wake it. */
	_Alignas(MH_CACHELINE) __u32 wake_seq;
	/* Non-zero while the consumer sleeps (or is about to). */
	__u32 consumer_sleeping;
	/* Non-zero: a producer needs a pass now, not at the next paced one. */
	__u32 pass_wanted;
	/* Futex word waiting producers sleep on; the consumer bumps it after a pass. */
	_Alignas(MH_CACHELINE) __u32 tail_wake;
	/* Producers sleeping on tail_wake. */
	__u32 producers_sleeping;

	/* Futex word processes waiting for their exit scan sleep on. */
	_Alignas(MH_CACHELINE) __u32 scan_seq;
	/* Processes sleeping on scan_seq. */
	__u32 scan_waiters;
};

/* One slot's header: the producer's cache line, then the shared one. */
struct mh_slot_header {
	/* Position past the last published record (release-stored). */
	_Alignas(MH_CACHELINE) __u64 head;
	/* Timestamp of the last published record that has one. */
	__u64 last_ts;
	/* 1 while the owner is between taking a timestamp and publishing it. */
	__u32 busy;

	/* Consumer's position: everything before it may be overwritten. */
	_Alignas(MH_CACHELINE) __u64 tail;
	/* Position past the last exit-scan request answered. */
	__u64 answered;
	__u32 state;			/* enum mh_slot_state */
	__u32 pid;			/* owner, set after the claim */
	__u32 tid;
};

/*
 * One process's mapping of the ring. Its fields are that process's own:
 * the consumer never takes a size or a position from the shared memory.
 */
struct mh_ring {
	struct mh_ring_header *hdr;	/* shared header */
	struct mh_slot_header *slots;	/* shared slot table */
	unsigned char *data;		/* data area: slot i at mh_ring_slot_data() */
	__u64 big_bytes;		/* size of each of the big_count first slots */
	__u64 slot_bytes;		/* size of the others, the smallest: a power of two */
	__u32 big_count;		/* 0 or MH_RING_BIG_SLOTS */
	__u32 slot_count;		/* all slots, big ones included */
	int busy_xchg;			/* producer: no membarrier here, busy = 1 by exchange */
	size_t map_bytes;		/* bytes of the whole mapping */
	int fd;				/* the memfd */
	struct mh_ring_merge *merge;	/* consumer: its cursors (ring_consumer.c), else NULL */
};

_Static_assert(sizeof(struct mh_ring_header) <= MH_RING_SLOT_TABLE, "ring header fits");
_Static_assert(MH_RING_SLOT_TABLE + MH_RING_SLOTS_MAX * sizeof(struct mh_slot_header) <=
	       MH_RING_HEADER_BYTES, "slot table fits");

/* Largest record a producer may write into this ring. */
static inline __u32 mh_ring_max_record(const struct mh_ring *ring)
{
	__u64 quarter = ring->slot_bytes / 4;

	return quarter < MH_RING_RECORD_MAX ? (__u32)quarter : MH_RING_RECORD_MAX;
}

static inline bool mh_ring_size_ok(__u64 data_bytes)
{
	return data_bytes >= 4 * 4096 && !(data_bytes & (data_bytes - 1)) &&
	       data_bytes < (1ULL << 40);
}

/*
 * How a data area of data_bytes is cut (sets the ring's big_bytes,
 * big_count, slot_bytes and slot_count): as many slots as areas of
 * MH_RING_SLOT_BYTES, 4 to 256 of them; from MH_RING_BIG_MIN_AREA on, the
 * first MH_RING_BIG_SLOTS of them take half of the area and the others
 * share the other half.
 */
static inline void mh_ring_layout(struct mh_ring *ring, __u64 data_bytes)
{
	__u64 n = data_bytes / MH_RING_SLOT_BYTES, small;

	if (n < MH_RING_SLOTS_MIN)
		n = MH_RING_SLOTS_MIN;
	if (n > MH_RING_SLOTS_MAX)
		n = MH_RING_SLOTS_MAX;
	ring->slot_count = (__u32)n;
	ring->big_count = 0;
	ring->big_bytes = ring->slot_bytes = data_bytes / n;
	if (data_bytes < MH_RING_BIG_MIN_AREA)
		return;
	ring->big_count = MH_RING_BIG_SLOTS;
	ring->big_bytes = data_bytes / 2 / MH_RING_BIG_SLOTS;
	/* The largest power of two that lets the other slots fit in the other half. */
	for (small = ring->big_bytes; small * (n - MH_RING_BIG_SLOTS) > data_bytes / 2;)
		small /= 2;
	ring->slot_bytes = small;
}

/* Size of slot i (i < slot_count). */
static inline __u64 mh_ring_slot_size(const struct mh_ring *ring, __u32 i)
{
	return i < ring->big_count ? ring->big_bytes : ring->slot_bytes;
}

/* The first byte of slot i (i < slot_count). */
static inline unsigned char *mh_ring_slot_data(const struct mh_ring *ring, __u32 i)
{
	if (i < ring->big_count)
		return ring->data + (__u64)i * ring->big_bytes;
	return ring->data + ring->big_count * ring->big_bytes +
	       (__u64)(i - ring->big_count) * ring->slot_bytes;
}

/*
 * Map header + data of the memfd, shared. Raw system calls: the preload's
 * own mmap hook must not see them. data_bytes comes from the caller's own
 * knowledge (the creator) or the checked file size (an attaching
 * producer); the slot layout follows from it. 0 or -errno.
 */
static inline int mh_ring_map(struct mh_ring *ring, int fd, __u64 data_bytes)
{
	size_t total = MH_RING_HEADER_BYTES + data_bytes;
	unsigned char *base;

	/* Every argument a long: syscall() is variadic, the kernel reads whole registers. */
	base = (unsigned char *)syscall(SYS_mmap, 0L, (long)total, (long)(PROT_READ | PROT_WRITE),
					(long)MAP_SHARED, (long)fd, 0L);
	if (base == MAP_FAILED)
		return -errno;
	ring->hdr = (struct mh_ring_header *)base;
	ring->slots = (struct mh_slot_header *)(base + MH_RING_SLOT_TABLE);
	ring->data = base + MH_RING_HEADER_BYTES;
	mh_ring_layout(ring, data_bytes);
	ring->map_bytes = total;
	ring->fd = fd;
	return 0;
}

/* Unmap and close. Safe on a zeroed or already unmapped ring (the consumer frees its merge first). */
static inline void mh_ring_unmap(struct mh_ring *ring)
{
	if (!ring->hdr)
		return;
	(void)syscall(SYS_munmap, ring->hdr, (long)ring->map_bytes);
	(void)syscall(SYS_close, (long)ring->fd);
	ring->hdr = NULL;
	ring->slots = NULL;
	ring->data = NULL;
	ring->fd = -1;
}

/* FUTEX_WAIT on a shared word while it equals val, at most timeout_ns. */
static inline void mh_ring_futex_wait(__u32 *word, __u32 val, long timeout_ns)
{
	struct timespec ts = { timeout_ns / 1000000000L, timeout_ns % 1000000000L };

	/* any return: look again */
	(void)syscall(SYS_futex, word, (long)FUTEX_WAIT, (long)val, &ts, NULL, 0L);
}

/* Bump *word and wake every waiter on it if *sleepers says someone waits. */
static inline void mh_ring_wake_word(__u32 *word, const __u32 *sleepers)
{
	if (!__atomic_load_n(sleepers, __ATOMIC_SEQ_CST))
		return;
	__atomic_fetch_add(word, 1, __ATOMIC_SEQ_CST);
	(void)syscall(SYS_futex, word, (long)FUTEX_WAKE, 0x7fffffffL, NULL, NULL, 0L); /* best effort */
}

/* Does a record of this type carry a timestamp (ts_ns right after its header)? */
static inline bool mh_ring_type_has_ts(__u16 type)
{
	return type != MH_REC_STACK;
}

#endif /* MEMHOOK_INCLUDE_RING_H */
