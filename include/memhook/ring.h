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
 * Nothing here may allocate or call stdio: it runs inside malloc.
 */
#ifndef MEMHOOK_INCLUDE_RING_H
#define MEMHOOK_INCLUDE_RING_H

#include <linux/types.h>

#define MH_RING_MAGIC 0x474e495248484d4dULL /* "MMHHRING" */
#define MH_RING_VERSION 1
/* Bytes reserved for the header, a multiple of every page size we run on. */
#define MH_RING_HEADER_BYTES 65536
/* Default data area: 64 MiB; --ring-size changes it (a power of two). */
#define MH_RING_DEFAULT_DATA_BYTES (64ULL << 20)
#define MH_CACHELINE 64

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
};

_Static_assert(sizeof(struct mh_ring_header) <= MH_RING_HEADER_BYTES, "ring header fits");

#endif /* MEMHOOK_INCLUDE_RING_H */
