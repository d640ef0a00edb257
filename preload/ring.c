// SPDX-License-Identifier: MIT
/*
 * ring.c - the producers' half of the event ring (the protocol is in
 * include/memhook/ring.h; the consumer's half is recorder/ring_consumer.c).
 *
 * Never allocates, never calls stdio, never blocks without a deadline: it
 * runs inside the target's malloc. Its own mappings are made with raw
 * system calls so the preload's mmap hook never sees them.
 */
#include "preload/ring.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "preload/sys.h"
#include "common/compiler.h"

/* Busy-wait rounds before a waiting producer starts sleeping. */
#define SPIN_ROUNDS 200
/* Longest sleep of a waiting producer between checks, in ns. */
#define WAIT_SLEEP_NS 1000000
/* How often a waiting producer checks that the consumer lives, in ns. */
#define LIVENESS_PERIOD_NS 1000000
/* How often a process waiting for its exit scan checks that the consumer lives, in ns. */
#define ANSWER_POLL_NS 1000000L
/* A lossy producer checks the consumer once per this many drops. */
#define LOSSY_PROBE_EVERY 1024
/* Bytes ahead of a reservation a producer prefetches for writing. */
#define PREFETCH_AHEAD (4 * MH_CACHELINE)
/*
 * A producer pre-faults the data area this far ahead of its writes, in
 * bytes, on the first lap (see populate_ahead).
 */
#define POPULATE_CHUNK (256 << 10)
/* ring->populated once the whole data area is mapped in this process. */
#define POPULATED_ALL UINT64_MAX
/* Smallest record: a bare header. */
#define REC_MIN_BYTES ((__u32)sizeof(struct mh_rec_hdr))

int mh_ring_attach(struct mh_ring *ring, int fd)
{
	struct mh_ring_header h;
	struct stat st;

	memset(ring, 0, sizeof(*ring));
	ring->fd = -1;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return -EPROTO;
	if (h.magic != MH_RING_MAGIC || h.version != MH_RING_VERSION)
		return -EPROTO;
	if (!mh_ring_size_ok(h.data_bytes) ||
	    (__u64)st.st_size != MH_RING_HEADER_BYTES + h.data_bytes)
		return -EPROTO;
	return mh_ring_map(ring, fd, h.data_bytes);
}

bool mh_ring_consumer_gone(const struct mh_ring *ring)
{
	return __atomic_load_n(&ring->hdr->consumer_state, __ATOMIC_ACQUIRE) ==
	       MH_RING_CONSUMER_GONE;
}

/*
 * True once the consumer has exited. kill(pid, 0) is not enough: a killed
 * recorder whose parent has not reaped it yet is a zombie that kill()
 * still finds, and a producer would wait on it for as long as the parent
 * keeps it (forever, for a parent that waits on something else). A pidfd
 * polls readable as soon as the process has exited, zombie or not.
 */
static bool consumer_exited(pid_t pid)
{
	struct pollfd p = { .events = POLLIN };
	bool exited;

	p.fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (p.fd < 0)
		return errno == ESRCH || (kill(pid, 0) < 0 && errno == ESRCH);
	exited = poll(&p, 1, 0) == 1;
	(void)syscall(SYS_close, p.fd);	/* our own fd: nothing to do if close fails */
	return exited;
}

/*
 * Probe the consumer; if it no longer exists, mark the ring gone in the
 * shared header so every producer (in every process) stops at once.
 * Preserves errno: we run inside the program's malloc.
 */
bool mh_ring_consumer_probe(struct mh_ring *ring)
{
	struct mh_ring_header *h = ring->hdr;
	int saved = errno;
	bool gone = false;

	if (mh_ring_consumer_gone(ring))
		return true;
	if (h->consumer_pid && consumer_exited((pid_t)h->consumer_pid)) {
		__atomic_store_n(&h->consumer_state, MH_RING_CONSUMER_GONE, __ATOMIC_RELEASE);
		gone = true;
	}
	errno = saved;
	return gone;
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* Sleep on tail_wake until the consumer releases something (or a timeout). */
static void sleep_for_room(struct mh_ring *ring, __u64 need)
{
	struct mh_ring_header *h = ring->hdr;
	int saved = errno;
	__u32 seen;

	__atomic_fetch_add(&h->producers_sleeping, 1, __ATOMIC_SEQ_CST);
	seen = __atomic_load_n(&h->tail_wake, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&h->tail, __ATOMIC_SEQ_CST) < need)
		mh_ring_futex_wait(&h->tail_wake, seen, WAIT_SLEEP_NS);
	__atomic_fetch_sub(&h->producers_sleeping, 1, __ATOMIC_SEQ_CST);
	errno = saved;
}

void mh_ring_wake_consumer(struct mh_ring *ring)
{
	struct mh_ring_header *h = ring->hdr;
	int saved = errno;

	mh_ring_wake_word(&h->wake_seq, &h->consumer_sleeping);
	errno = saved;
}

/* Wake the consumer when [pos, pos + bytes) crosses a wake boundary. */
static inline void wake_on_crossing(struct mh_ring *ring, __u64 pos, __u32 bytes)
{
	if (mh_unlikely((pos ^ (pos + bytes)) >= (ring->mask + 1) >> MH_RING_WAKE_SHIFT))
		mh_ring_wake_consumer(ring);
}

/*
 * Lossless: wait until [pos, pos + bytes) is free, i.e. the consumer's
 * tail has passed pos + bytes - data_bytes. Wakes the consumer, spins a
 * little, then sleeps on tail_wake (the consumer wakes it after a
 * release), probing the consumer about every millisecond. false if the
 * consumer went away: the reservation is then abandoned, which is
 * harmless since nobody will read the ring again.
 */
static bool wait_for_room(struct mh_ring *ring, __u64 pos, __u32 bytes)
{
	struct mh_ring_header *h = ring->hdr;
	__u64 need = pos + bytes - (ring->mask + 1);
	__u64 next_probe = 0;
	unsigned int round;

	__atomic_fetch_add(&h->producer_waits, 1, __ATOMIC_RELAXED);
	mh_ring_wake_consumer(ring);
	for (round = 0;; round++) {
		if (__atomic_load_n(&h->tail, __ATOMIC_ACQUIRE) >= need)
			return true;
		if (round < SPIN_ROUNDS) {
			cpu_relax();
			continue;
		}
		sleep_for_room(ring, need);
		__u64 now = mh_now_ns();
		if (now >= next_probe) {
			if (mh_ring_consumer_probe(ring))
				return false;
			next_probe = now + LIVENESS_PERIOD_NS;
		}
	}
}

static void *reserve_lossy(struct mh_ring *ring, __u32 bytes, __u64 *at)
{
	struct mh_ring_header *h = ring->hdr;
	__u64 head = __atomic_load_n(&h->head, __ATOMIC_RELAXED);

	for (;;) {
		__u64 tail = __atomic_load_n(&h->tail, __ATOMIC_ACQUIRE);

		if (head + bytes - tail > ring->mask + 1) {
			__u64 lost = __atomic_add_fetch(&h->lost_records, 1, __ATOMIC_RELAXED);

			if (lost % LOSSY_PROBE_EVERY == 0)
				mh_ring_consumer_probe(ring);
			return NULL;
		}
		if (__atomic_compare_exchange_n(&h->head, &head, head + bytes, true,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
			wake_on_crossing(ring, head, bytes);
			*at = head;
			return ring->data + (head & ring->mask);
		}
	}
}

/*
 * On the ring's first lap every page is new to this process, and a write
 * fault per page (allocating it, zeroing it, mapping it) costs more than
 * the records written into it. One MADV_POPULATE_WRITE per chunk, ahead of
 * the writes, does the same work in one system call. Threads race for the
 * chunk with a compare-and-swap; a loser just takes the faults. A fork
 * child starts again from its own position (its page tables are its own). Kernels
 * before 5.14 refuse the advice: then the faults are taken as they come.
 */
static __attribute__((noinline, cold)) void populate_ahead(struct mh_ring *ring, __u64 end)
{
	__u64 done = __atomic_load_n(&ring->populated, __ATOMIC_RELAXED);
	__u64 data_bytes = ring->mask + 1;
	__u64 target = (end + POPULATE_CHUNK - 1) / POPULATE_CHUNK * POPULATE_CHUNK +
		       POPULATE_CHUNK;
	int saved = errno;

	if (target >= data_bytes)
		target = POPULATED_ALL;
	if (done >= end ||
	    !__atomic_compare_exchange_n(&ring->populated, &done, target, false,
					 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	/* What lies behind us (a fork child, a new image) is reached again only on the next lap. */
	if (done < end - end % POPULATE_CHUNK)
		done = end - end % POPULATE_CHUNK;
	if (madvise(ring->data + done, (target == POPULATED_ALL ? data_bytes : target) - done,
		    MADV_POPULATE_WRITE) < 0 && errno == EINVAL)
		__atomic_store_n(&ring->populated, POPULATED_ALL, __ATOMIC_RELAXED);
	errno = saved;
}

static inline __attribute__((always_inline)) void *reserve(struct mh_ring *ring, __u32 bytes,
							    __u64 *at)
{
	struct mh_ring_header *h = ring->hdr;
	__u64 pos;

	if (!h || bytes < REC_MIN_BYTES || bytes % MH_REC_ALIGN || bytes > mh_ring_max_record(ring) ||
	    mh_ring_consumer_gone(ring))
		return NULL;
	if (h->flags & MH_RING_LOSSY)
		return reserve_lossy(ring, bytes, at);

	pos = __atomic_fetch_add(&h->head, bytes, __ATOMIC_RELAXED);
	if (pos + bytes - __atomic_load_n(&h->tail, __ATOMIC_ACQUIRE) > ring->mask + 1 &&
	    !wait_for_room(ring, pos, bytes))
		return NULL;
	wake_on_crossing(ring, pos, bytes);
	if (__builtin_expect(pos + bytes > __atomic_load_n(&ring->populated, __ATOMIC_RELAXED), 0))
		populate_ahead(ring, pos + bytes);
	/*
	 * The lines ahead were last touched by the consumer (it zeroes what it
	 * releases). Ask for them now, so the next reservation's locked add
	 * does not stall draining our stores behind cross-core misses.
	 */
	__builtin_prefetch(ring->data + ((pos + PREFETCH_AHEAD) & ring->mask), 1);
	*at = pos;
	return ring->data + (pos & ring->mask);
}

void *mh_ring_reserve(struct mh_ring *ring, __u32 bytes)
{
	__u64 pos;

	return reserve(ring, bytes, &pos);
}

void *mh_ring_reserve_at(struct mh_ring *ring, __u32 bytes, __u64 *pos)
{
	return reserve(ring, bytes, pos);
}

void mh_ring_wait_answer(struct mh_ring *ring, __u64 ticket)
{
	struct mh_ring_header *h = ring->hdr;
	int saved = errno;
	__u32 seen;

	while (__atomic_load_n(&h->scans_answered, __ATOMIC_ACQUIRE) < ticket &&
	       !mh_ring_consumer_probe(ring)) {
		__atomic_fetch_add(&h->scan_waiters, 1, __ATOMIC_SEQ_CST);
		seen = __atomic_load_n(&h->scan_seq, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&h->scans_answered, __ATOMIC_SEQ_CST) < ticket)
			mh_ring_futex_wait(&h->scan_seq, seen, ANSWER_POLL_NS);
		__atomic_fetch_sub(&h->scan_waiters, 1, __ATOMIC_SEQ_CST);
	}
	errno = saved;
}

void mh_ring_commit(void *rec, struct mh_rec_hdr hdr)
{
	__u64 word;

	memcpy(&word, &hdr, sizeof(word));
	__atomic_store_n((__u64 *)rec, word, __ATOMIC_RELEASE);
}

