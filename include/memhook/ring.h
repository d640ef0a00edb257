/* SPDX-License-Identifier: MIT */
/*
 * ring.h - layout of the shared-memory event ring between the preload
 * (many producers, possibly in several processes after fork) and the
 * recorder (one consumer).
 *
 * The ring lives in a memfd created by the recorder and inherited by the
 * traced program (MEMHOOK_RING_FD, env.h). Its first MH_RING_HEADER_BYTES
 * hold struct mh_ring_header; the data area follows and is mapped twice,
 * back to back, so a record never has to be split at the wrap point.
 *
 * Protocol (byte positions grow forever; position & (data_bytes - 1) is
 * the offset in the data area):
 *   producer: lossless: pos = fetch_add(head, len), then wait until
 *             pos + len - tail <= data_bytes; lossy: compare-and-swap head
 *             only while the record fits, else count it in lost_records.
 *             Write the payload, then release-store the 8-byte record
 *             header: a non-zero header is the commit mark.
 *   consumer: acquire-load the header at tail; zero means "not committed
 *             yet"; copy the record out, zero its bytes, release-store the
 *             new tail.
 *
 * Sleeping (no polling on either side):
 *   consumer: with nothing committed, it sets consumer_sleeping, checks
 *             once more, and waits on the futex word wake_seq with a
 *             timeout (MH_RING_IDLE_WAKE_MS): a missed wake costs at most
 *             that long.
 *   producer: when its reservation crosses a multiple of
 *             data_bytes >> MH_RING_WAKE_SHIFT, when it must wait for room,
 *             and after a record the consumer must answer (an exit-scan
 *             request), it wakes a sleeping consumer (mh_ring_wake_word).
 *   A lossless producer waiting for room sleeps on the futex word
 *   tail_wake (the consumer bumps and wakes it after a release while
 *   producers_sleeping is non-zero), with a timeout for its liveness check.
 * The futex words live in the shared mapping (not FUTEX_PRIVATE): the
 * producers may be several processes. A forged value can only cause a
 * spurious or a late wake, which the timeouts bound.
 *
 * Nothing here may allocate or call stdio: it runs inside malloc.
 */
#ifndef MEMHOOK_INCLUDE_RING_H
#define MEMHOOK_INCLUDE_RING_H

#include <linux/futex.h>
#include <linux/types.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MH_RING_MAGIC 0x474e495248484d4dULL /* "MMHHRING" */
#define MH_RING_VERSION 2
/* Bytes reserved for the header, a multiple of every page size we run on. */
#define MH_RING_HEADER_BYTES 65536
/* Default data area: 64 MiB; --ring-size changes it (a power of two). */
#define MH_RING_DEFAULT_DATA_BYTES (64ULL << 20)
#define MH_CACHELINE 64
/* A producer wakes the consumer each time it crosses data_bytes >> this. */
#define MH_RING_WAKE_SHIFT 3
/* The longest a consumer with nothing to read sleeps before looking again, ms. */
#define MH_RING_IDLE_WAKE_MS 10

enum mh_ring_flags {
	MH_RING_LOSSY = 0x1,	/* drop and count when full instead of waiting */
	/*
	 * The consumer answers MH_REC_EXIT_SCAN (writes the ack): a producer
	 * process waits for it at exit. Without it, none is sent.
	 */
	MH_RING_EXIT_SCAN = 0x2,
};

enum mh_ring_consumer_state {
	MH_RING_CONSUMER_ALIVE = 1,
	MH_RING_CONSUMER_GONE = 2,	/* recorder closed the ring: pass through */
};

struct mh_ring_header {
	__u64 magic;			/* MH_RING_MAGIC */
	__u32 version;			/* MH_RING_VERSION */
	__u32 flags;			/* enum mh_ring_flags */
	__u64 data_bytes;		/* size of the data area, a power of two */
	__u32 consumer_pid;		/* the recorder; producers probe it with a pidfd */
	__u32 consumer_state;		/* enum mh_ring_consumer_state */

	/* Producers' reservation cursor, in bytes since creation. */
	_Alignas(MH_CACHELINE) __u64 head;
	/* Consumer's cursor, in bytes since creation. */
	_Alignas(MH_CACHELINE) __u64 tail;
	/* Records dropped in lossy mode (or by a producer that gave up). */
	_Alignas(MH_CACHELINE) __u64 lost_records;
	/* Times a producer had to wait for space (lossless mode). */
	__u64 producer_waits;

	/* Futex word the consumer sleeps on; producers bump it to wake it. */
	_Alignas(MH_CACHELINE) __u32 wake_seq;
	/* Non-zero while the consumer sleeps (or is about to). */
	__u32 consumer_sleeping;
	/* Futex word waiting producers sleep on; the consumer bumps it after a release. */
	_Alignas(MH_CACHELINE) __u32 tail_wake;
	/* Producers sleeping on tail_wake. */
	__u32 producers_sleeping;
};

_Static_assert(sizeof(struct mh_ring_header) <= MH_RING_HEADER_BYTES, "ring header fits");

/* FUTEX_WAIT on a shared word while it equals val, at most timeout_ns. */
static inline void mh_ring_futex_wait(__u32 *word, __u32 val, long timeout_ns)
{
	struct timespec ts = { timeout_ns / 1000000000L, timeout_ns % 1000000000L };

	(void)syscall(SYS_futex, word, FUTEX_WAIT, val, &ts, NULL, 0); /* any return: look again */
}

/* Bump *word and wake every waiter on it if *sleepers says someone waits. */
static inline void mh_ring_wake_word(__u32 *word, const __u32 *sleepers)
{
	if (!__atomic_load_n(sleepers, __ATOMIC_SEQ_CST))
		return;
	__atomic_fetch_add(word, 1, __ATOMIC_SEQ_CST);
	(void)syscall(SYS_futex, word, FUTEX_WAKE, 0x7fffffff, NULL, NULL, 0); /* best effort */
}

#endif /* MEMHOOK_INCLUDE_RING_H */
