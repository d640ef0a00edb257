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
 * Exit scans: a producer process sends MH_REC_EXIT_SCAN and waits until
 * scans_answered reaches the ring position just past that record (its
 * ticket); the recorder, which counts positions itself, publishes each
 * answered request's end position there, in ring order, and wakes the
 * waiters on scan_seq. The recorder never writes into a traced process.
 *
 * Trust: the consumer (often root) treats everything in this mapping as
 * hostile. It sizes and bounds every access from its own copy of the
 * layout (struct mh_ring, never the header's data_bytes, head or tail),
 * copies records out before it looks at them, and on the first malformed
 * record stops reading the ring, says so in the trace and closes the ring.
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

#include <errno.h>
#include <linux/futex.h>
#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/mman.h>
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
/*
 * Largest record a producer writes (a stack of MH_STACK_MAX_DEPTH frames is
 * 1 KiB, a module record a path and its segments); the consumer takes a
 * larger one for a broken ring. Also at most a quarter of the data area.
 */
#define MH_RING_RECORD_MAX (64U << 10)
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

	/* Ring position past the last exit-scan request answered. */
	_Alignas(MH_CACHELINE) __u64 scans_answered;
	/* Futex word processes waiting for their exit scan sleep on. */
	__u32 scan_seq;
	/* Processes sleeping on scan_seq. */
	__u32 scan_waiters;
};

/*
 * One process's mapping of the ring. Its fields are that process's own:
 * the consumer never takes a size or a cursor from the shared header.
 */
struct mh_ring {
	struct mh_ring_header *hdr;	/* shared header page(s) */
	unsigned char *data;		/* data area, mapped twice back to back */
	__u64 mask;			/* data_bytes - 1 */
	size_t map_bytes;		/* bytes of the whole mapping */
	__u64 populated;		/* producer: data bytes this process pre-faulted */
	__u64 tail;			/* consumer: its cursor (the header's is a copy for producers) */
	int fd;				/* the memfd */
};

_Static_assert(sizeof(struct mh_ring_header) <= MH_RING_HEADER_BYTES, "ring header fits");

/* Largest record a producer may write into this ring. */
static inline __u32 mh_ring_max_record(const struct mh_ring *ring)
{
	__u64 quarter = (ring->mask + 1) / 4;

	return quarter < MH_RING_RECORD_MAX ? (__u32)quarter : MH_RING_RECORD_MAX;
}

static inline bool mh_ring_size_ok(__u64 data_bytes)
{
	return data_bytes && !(data_bytes & (data_bytes - 1)) && data_bytes < (1ULL << 40);
}

/*
 * Map header + data of the memfd, then the data pages a second time right
 * after, inside one PROT_NONE reservation so nothing else can land between
 * the two. Raw system calls: the preload's own mmap hook must not see
 * them. data_bytes comes from the caller's own knowledge (the creator) or
 * the checked file size (an attaching producer). 0 or -errno.
 */
static inline int mh_ring_map(struct mh_ring *ring, int fd, __u64 data_bytes)
{
	size_t total = MH_RING_HEADER_BYTES + 2 * data_bytes;
	unsigned char *base, *p;
	int err;

	/* Every argument a long: syscall() is variadic, the kernel reads whole registers. */
	base = (unsigned char *)syscall(SYS_mmap, 0L, (long)total, (long)PROT_NONE,
					(long)(MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE), -1L, 0L);
	if (base == MAP_FAILED)
		return -errno;
	p = (unsigned char *)syscall(SYS_mmap, (long)base, (long)(MH_RING_HEADER_BYTES + data_bytes),
				     (long)(PROT_READ | PROT_WRITE), (long)(MAP_SHARED | MAP_FIXED),
				     (long)fd, 0L);
	if (p != MAP_FAILED)
		p = (unsigned char *)syscall(SYS_mmap, (long)(base + MH_RING_HEADER_BYTES + data_bytes),
					     (long)data_bytes, (long)(PROT_READ | PROT_WRITE),
					     (long)(MAP_SHARED | MAP_FIXED), (long)fd,
					     (long)MH_RING_HEADER_BYTES);
	if (p == MAP_FAILED) {
		err = -errno;
		(void)syscall(SYS_munmap, base, total);
		return err;
	}
	ring->hdr = (struct mh_ring_header *)base;
	ring->data = base + MH_RING_HEADER_BYTES;
	ring->mask = data_bytes - 1;
	ring->map_bytes = total;
	ring->fd = fd;
	return 0;
}

/* Unmap and close. Safe on a zeroed or already unmapped ring. */
static inline void mh_ring_unmap(struct mh_ring *ring)
{
	if (!ring->hdr)
		return;
	(void)syscall(SYS_munmap, ring->hdr, (long)ring->map_bytes);
	(void)syscall(SYS_close, (long)ring->fd);
	ring->hdr = NULL;
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

#endif /* MEMHOOK_INCLUDE_RING_H */
