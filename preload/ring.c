// SPDX-License-Identifier: MIT
/*
 * ring.c - the producers' half of the event ring: each thread claims a
 * slot once and then appends to it with plain stores (the protocol is in
 * include/memhook/ring.h; the consumer's half is recorder/ring_consumer.c).
 *
 * Never allocates, never calls stdio, never blocks without a deadline: it
 * runs inside the target's malloc. Its own mappings are made with raw
 * system calls so the preload's mmap hook never sees them.
 */
#include "preload/ring.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/membarrier.h>
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
/*
 * How long a lossless thread waits for a free slot before it drops its
 * events (every slot held by a live thread: more threads than slots).
 */
#define CLAIM_GIVE_UP_NS 2000000000ULL
/* Smallest record: a bare header. */
#define REC_MIN_BYTES ((__u32)sizeof(struct mh_rec_hdr))
/* The steps a thread maps its first lap in, at most (see prefault): a power of two. */
#define PREFAULT_STEP_BYTES (256U << 10)
/*
 * Its first step, doubled at each step mark up to PREFAULT_STEP_BYTES: a
 * process that writes a few pages in all (/bin/true: under 4 KiB) maps 4
 * pages, not 64. Mapping 256 KiB of fresh memfd pages took 62-85 us here,
 * 16 KiB 11-25 us (MADV_POPULATE_WRITE timed, 30 tries each).
 */
#define FIRST_STEP_BYTES (16U << 10)
/*
 * A lap may be cut short at the first step mark this far into the slot
 * where the consumer is less than a quarter of it behind (see reuse), at
 * first: each wait for room doubles it for the thread (reuse_span()).
 */
#define REUSE_BYTES (1U << 20)

__thread struct mh_ring_slot_ref mh_ring_me __attribute__((tls_model("initial-exec")));
/*
 * Set once a thread of this process has claimed a slot: only the first
 * looks for a large slot at once; the others get one when their small
 * slot fills (promote()), so threads that write little keep small ones.
 */
static int claimed_once;
/* Set once the kernel refused MADV_POPULATE_WRITE (before 5.14): not asked again. */
static int prefault_refused;
static uintptr_t page_size;
/* Where the calling thread's first lap in its slot ends: its pages are mapped by then. */
static __thread __u64 prefault_lap_end __attribute__((tls_model("initial-exec")));
/* The slot position up to which the calling thread has mapped its first lap. */
static __thread __u64 prefault_done __attribute__((tls_model("initial-exec")));
/* The times the calling thread's reuse span doubled (reuse_span()). */
static __thread unsigned int reuse_doublings __attribute__((tls_model("initial-exec")));

/* How far into its slot the calling thread's laps may be cut short (reuse). */
static inline __u64 reuse_span(void)
{
	return (__u64)REUSE_BYTES << reuse_doublings;
}

/* Register for the consumer's membarrier; without it, busy = 1 is an exchange. */
static void choose_busy_store(struct mh_ring *ring)
{
	ring->busy_xchg = !(ring->hdr->flags & MH_RING_MEMBARRIER) ||
			  syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0) < 0;
}

int mh_ring_attach(struct mh_ring *ring, int fd)
{
	struct mh_ring_header h;
	struct stat st;
	int err;

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
	err = mh_ring_map(ring, fd, h.data_bytes);
	if (!err)
		choose_busy_store(ring);
	return err;
}

/*
 * Map the slot's bytes at positions [from, to) writable now, in one
 * system call, during the thread's first lap in the slot; the pages stay
 * mapped for the later laps. A first write to a page of the ring is
 * otherwise a page fault, and a fault costs a trap each (about 12 us in
 * the virtual machine this was measured in, where MADV_POPULATE_WRITE
 * takes 1.3-1.8 us a page: git log -p wrote 2,000 pages, 25 ms). The call
 * writes nothing into the pages (the consumer may be reading them) and is
 * async-signal-safe; a kernel that does not know it (EINVAL) is not asked
 * again, and any other failure leaves the faults. Keeps errno: it runs
 * inside the program's malloc. [from, to) must not wrap around the slot.
 */
static void populate(__u64 from, __u64 to)
{
	uintptr_t lo, hi;
	int saved;

	lo = (uintptr_t)mh_ring_me.data + (from & (mh_ring_me.bytes - 1));
	hi = lo + (to - from);
	lo &= ~(page_size - 1);
	saved = errno;
	if (syscall(SYS_madvise, lo, hi - lo, MADV_POPULATE_WRITE) < 0 && errno == EINVAL)
		__atomic_store_n(&prefault_refused, 1, __ATOMIC_RELAXED);
	errno = saved;
}

/*
 * Map the first lap on from where it is mapped up to position to (at most
 * the lap's end), in two calls where it passes the slot's end.
 */
static void prefault(__u64 to)
{
	__u64 from = prefault_done, wrap;

	if (to > prefault_lap_end)
		to = prefault_lap_end;
	if (from >= to || !page_size || __atomic_load_n(&prefault_refused, __ATOMIC_RELAXED))
		return;
	prefault_done = to;
	wrap = (from | (mh_ring_me.bytes - 1)) + 1;
	if (to > wrap) {
		populate(from, wrap);
		from = wrap;
	}
	populate(from, to);
}

/* The longest step: it divides the slot's wake marks (ring.h), and is mapped in one call. */
static __u64 step_max(void)
{
	__u64 wake = mh_ring_me.bytes >> MH_RING_WAKE_SHIFT;

	return wake < PREFAULT_STEP_BYTES ? wake : PREFAULT_STEP_BYTES;
}

/* Where the step of the slot's head ends: steps are mh_ring_me.step apart (ring.h). */
static __u64 step_end(void)
{
	return (mh_ring_me.head | (mh_ring_me.step - 1)) + 1;
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

void mh_ring_wake_consumer(struct mh_ring *ring)
{
	struct mh_ring_header *h = ring->hdr;
	int saved = errno;

	/* Before the wake: the consumer clears it as a pass starts. */
	__atomic_store_n(&h->pass_wanted, 1, __ATOMIC_SEQ_CST);
	mh_ring_wake_word(&h->wake_seq, &h->consumer_sleeping);
	errno = saved;
}

/* Count a dropped record; now and then look whether the consumer still lives. */
static void count_lost(struct mh_ring *ring)
{
	__u64 lost = __atomic_add_fetch(&ring->hdr->lost_records, 1, __ATOMIC_RELAXED);

	if (lost % LOSSY_PROBE_EVERY == 0)
		mh_ring_consumer_probe(ring);
}

/*
 * Sleep on tail_wake until the consumer ends a pass (or a timeout), unless
 * done() already holds. Preserves errno.
 */
static void sleep_for_consumer(struct mh_ring *ring, bool (*done)(struct mh_ring *, __u64),
			       __u64 arg)
{
	struct mh_ring_header *h = ring->hdr;
	int saved = errno;
	__u32 seen;

	__atomic_fetch_add(&h->producers_sleeping, 1, __ATOMIC_SEQ_CST);
	seen = __atomic_load_n(&h->tail_wake, __ATOMIC_SEQ_CST);
	if (!done(ring, arg))
		mh_ring_futex_wait(&h->tail_wake, seen, WAIT_SLEEP_NS);
	__atomic_fetch_sub(&h->producers_sleeping, 1, __ATOMIC_SEQ_CST);
	errno = saved;
}

/* Add the time since start to the ring's total of producer waits. */
static void count_wait_ns(struct mh_ring *ring, __u64 start)
{
	__u64 now = mh_now_ns();

	if (now > start)
		__atomic_fetch_add(&ring->hdr->producer_wait_ns, now - start, __ATOMIC_RELAXED);
}

/* Does a record of need bytes fit behind the consumer's tail? */
static bool room_for(struct mh_ring *ring, __u64 need)
{
	mh_ring_me.tail = __atomic_load_n(&mh_ring_me.slot->tail, __ATOMIC_ACQUIRE);
	return mh_ring_me.head + need - mh_ring_me.tail <= mh_ring_me.bytes ||
	       __atomic_load_n(&mh_ring_me.slot->state, __ATOMIC_RELAXED) == MH_SLOT_BROKEN;
}

/*
 * Lossless: wait until done(ring, arg) holds for our slot. Wakes the
 * consumer, spins a little, then sleeps on tail_wake, probing the consumer
 * about every millisecond. Counted as a producer wait. false if the
 * consumer went away.
 */
static bool wait_until(struct mh_ring *ring, bool (*done)(struct mh_ring *, __u64), __u64 arg)
{
	__u64 start = mh_now_ns(), next_probe = 0;
	unsigned int round;
	bool ok = true;

	__atomic_fetch_add(&ring->hdr->producer_waits, 1, __ATOMIC_RELAXED);
	mh_ring_wake_consumer(ring);
	for (round = 0;; round++) {
		if (done(ring, arg))
			break;
		if (round < SPIN_ROUNDS) {
			cpu_relax();
			continue;
		}
		sleep_for_consumer(ring, done, arg);
		__u64 now = mh_now_ns();
		if (now >= next_probe) {
			ok = !mh_ring_consumer_probe(ring);
			if (!ok)
				break;
			next_probe = now + LIVENESS_PERIOD_NS;
		}
	}
	count_wait_ns(ring, start);
	return ok;
}

static bool slot_broken(void)
{
	return __atomic_load_n(&mh_ring_me.slot->state, __ATOMIC_RELAXED) == MH_SLOT_BROKEN;
}

/*
 * Claim slot i if it is free, owned at once by the calling thread (the
 * consumer frees it should the thread die before it writes).
 */
static bool try_claim(struct mh_ring *ring, __u32 i, __u32 tid)
{
	struct mh_slot_header *s = &ring->slots[i];
	__u32 free_state = MH_SLOT_FREE;

	if (__atomic_load_n(&s->state, __ATOMIC_RELAXED) != MH_SLOT_FREE ||
	    !__atomic_compare_exchange_n(&s->state, &free_state, MH_SLOT_CLAIMED, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
		return false;
	__atomic_store_n(&s->pid, (__u32)syscall(SYS_getpid), __ATOMIC_RELAXED);
	__atomic_store_n(&s->tid, tid, __ATOMIC_RELAXED);
	return true;
}

/* Take slot i, claimed, as the calling thread's. */
static void take(struct mh_ring *ring, __u32 i)
{
	struct mh_slot_header *s = &ring->slots[i];

	__atomic_store_n(&s->last_ts, mh_now_ns(), __ATOMIC_RELAXED);
	mh_ring_me.ring = ring;
	mh_ring_me.slot = s;
	mh_ring_me.data = mh_ring_slot_data(ring, i);
	mh_ring_me.bytes = mh_ring_slot_size(ring, i);
	mh_ring_me.head = __atomic_load_n(&s->head, __ATOMIC_ACQUIRE);
	mh_ring_me.tail = __atomic_load_n(&s->tail, __ATOMIC_ACQUIRE);
	mh_ring_me.starved = 0;
	mh_ring_me.limit = mh_ring_me.bytes;
	mh_ring_me.step = step_max() < FIRST_STEP_BYTES ? step_max() : FIRST_STEP_BYTES;
	if (!page_size)
		page_size = (uintptr_t)sysconf(_SC_PAGESIZE);
	prefault_lap_end = mh_ring_me.head + mh_ring_me.bytes;
	prefault_done = mh_ring_me.head;
	/* The rest of this step only: most processes write a few pages in all. */
	prefault(step_end());
}

/*
 * One look over the table for a free slot: the big ones first if big,
 * then the others from this thread's own place on.
 */
static bool claim_once(struct mh_ring *ring, __u32 tid, bool big)
{
	__u32 nbig = ring->big_count, n = ring->slot_count;

	for (__u32 k = big ? 0 : nbig; k < n; k++) {
		__u32 i = k < nbig ? k : nbig + (tid + k) % (n - nbig);

		if (try_claim(ring, i, tid)) {
			take(ring, i);
			return true;
		}
	}
	return false;
}

/* Has the consumer taken our slot's records up to pos (or broken the slot off)? */
static bool drained_to(struct mh_ring *ring, __u64 pos)
{
	(void)ring;
	return __atomic_load_n(&mh_ring_me.slot->tail, __ATOMIC_ACQUIRE) >= pos || slot_broken();
}

/*
 * Our small slot is full: move to a free large one, if there is one (the
 * promotion, ring.h). Claim it, close the small one, wait until the
 * consumer has taken every record of the small one, and only then write
 * into the large one: the thread's records come out in its own order
 * whatever their stamps. That wait is the one a full slot costs anyway;
 * afterwards the thread has room for its bursts. 1: moved; 0: no large
 * slot free, nothing changed; -1: moved, but the consumer went away.
 */
static int promote(struct mh_ring *ring)
{
	__u32 tid = (__u32)syscall(SYS_gettid), claimed = MH_SLOT_CLAIMED;
	struct mh_slot_header *old = mh_ring_me.slot;
	__u64 end = mh_ring_me.head;
	bool ok;

	if (mh_ring_me.bytes >= ring->big_bytes)
		return 0;
	for (__u32 i = 0; i < ring->big_count; i++) {
		if (!try_claim(ring, i, tid))
			continue;
		__atomic_compare_exchange_n(&old->state, &claimed, MH_SLOT_CLOSED, false,
					    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
		__atomic_fetch_add(&ring->hdr->promotions, 1, __ATOMIC_RELAXED);
		ok = wait_until(ring, drained_to, end);
		take(ring, i);
		return ok ? 1 : -1;
	}
	return 0;
}

/*
 * Our slot has no room for the need bytes a record takes there. Lossy:
 * drop and count. Lossless: move to a large slot, or wait for room. true:
 * there is room now, in the slot mh_ring_me describes (perhaps another one
 * than before).
 */
static __attribute__((noinline, cold)) bool make_room(struct mh_ring *ring, __u64 need)
{
	int moved;

	/* A slot the consumer broke off takes no more records (ring.h). */
	if (slot_broken())
		goto lost;
	if (room_for(ring, need))
		return true;
	if (!(ring->hdr->flags & MH_RING_LOSSY)) {
		moved = promote(ring);
		if (moved > 0)
			return true;
		if (!moved) {
			/* Out of room: the thread's next cuts leave it twice as much (reuse). */
			if (reuse_span() < mh_ring_me.bytes)
				reuse_doublings++;
			if (wait_until(ring, room_for, need) && !slot_broken())
				return true;
		}
	}
lost:
	count_lost(ring);
	return false;
}

static bool any_free(struct mh_ring *ring, __u64 unused)
{
	(void)unused;
	for (__u32 i = 0; i < ring->slot_count; i++)
		if (__atomic_load_n(&ring->slots[i].state, __ATOMIC_RELAXED) == MH_SLOT_FREE)
			return true;
	return false;
}

/*
 * The calling thread's first record (or first since its slot was closed):
 * claim a free slot. Lossy, or after having given up once: drop if none is
 * free. Lossless: wake the consumer (it frees the slots of threads that
 * are gone) and wait, for at most CLAIM_GIVE_UP_NS.
 */
static __attribute__((noinline, cold)) bool claim(struct mh_ring *ring)
{
	__u32 tid = (__u32)syscall(SYS_gettid);
	bool big = !__atomic_exchange_n(&claimed_once, 1, __ATOMIC_RELAXED), ok = true;
	__u64 start = 0, deadline = 0;
	int saved = errno;

	mh_ring_me.ring = NULL;	/* the inline path takes a set ring for a claimed slot */
	mh_ring_me.slot = NULL;
	while (!claim_once(ring, tid, big)) {
		__u64 now = mh_now_ns();

		if (ring->hdr->flags & MH_RING_LOSSY || mh_ring_me.starved ||
		    mh_ring_consumer_probe(ring) || (deadline && now > deadline)) {
			mh_ring_me.starved = !(ring->hdr->flags & MH_RING_LOSSY);
			count_lost(ring);
			ok = false;
			break;
		}
		if (!deadline) {
			start = now;
			deadline = now + CLAIM_GIVE_UP_NS;
			__atomic_fetch_add(&ring->hdr->producer_waits, 1, __ATOMIC_RELAXED);
		}
		mh_ring_wake_consumer(ring);
		sleep_for_consumer(ring, any_free, 0);
	}
	if (start)
		count_wait_ns(ring, start);
	errno = saved;
	return ok;
}

void *mh_ring_reserve_slow(struct mh_ring *ring, __u32 bytes, __u64 *pos)
{
	__u64 off, need;

	if (!ring->hdr || bytes < REC_MIN_BYTES || bytes % MH_REC_ALIGN ||
	    bytes > mh_ring_max_record(ring) || mh_ring_consumer_gone(ring))
		return NULL;
	if ((mh_ring_me.ring != ring || !mh_ring_me.slot) && !claim(ring))
		return NULL;
	off = mh_ring_me.head & (mh_ring_me.bytes - 1);
	/* A record never straddles the lap's end (the slot's, or reuse's): the rest is skipped. */
	need = off + bytes > mh_ring_me.limit ? mh_ring_me.bytes - off + bytes : bytes;
	if (mh_ring_me.head + need - mh_ring_me.tail > mh_ring_me.bytes) {
		if (!make_room(ring, need))
			return NULL;
		/* The thread may be in another slot now. */
		off = mh_ring_me.head & (mh_ring_me.bytes - 1);
	}
	if (off + bytes > mh_ring_me.limit) {
		memset(mh_ring_me.data + off, 0, sizeof(struct mh_rec_hdr));	/* the wrap mark */
		mh_ring_me.head += mh_ring_me.bytes - off;
		mh_ring_me.limit = mh_ring_me.bytes;
		/* A lap cut short: what it skipped is not mapped ahead. */
		if (prefault_done < mh_ring_me.head)
			prefault_done = mh_ring_me.head;
		off = 0;
	}
	mh_ring_mark_busy(ring, mh_ring_me.slot);
	*pos = mh_ring_me.head;
	return mh_ring_me.data + off;
}

/*
 * Cut the lap short here (the next record starts the next lap: a wrap
 * mark, as at the slot's end) if the head is the thread's reuse span
 * (REUSE_BYTES at first) or more into the slot and the consumer less
 * than a quarter of that behind. The first write to each page of the
 * ring costs a trap to the hypervisor where its page tables are shadowed
 * (the PVM guest this was measured in: 12-26 us a page,
 * MADV_POPULATE_WRITE or not): git log -p wrote its 11 MB through all
 * 2,048 pages of its 8 MiB slot (25-50 ms at those rates) while the
 * consumer, which takes the records every millisecond, was a few dozen
 * KiB behind. A thread whose consumer keeps up so stays in the slot's
 * first MiB or so, and one whose consumer lags (a burst) goes on through
 * the slot, as it has room there. Right after a cut the lap's skipped
 * rest counts as used until the consumer passes the mark (its next
 * pass): the room is then three quarters of the span and more, which a
 * thread that writes fast fills whenever the consumer is held up a
 * moment: python3 (bench/run.sh's workload, 14.7M records, about 650 MB
 * in 2 s) waited for room 16 to 87 times a run, 15 to 73 ms in all (four
 * runs), and 0 to 2 times without cuts. So every wait for room doubles
 * the thread's span, up to its slot (no more cuts): such a thread soon
 * goes through its whole slot, and one that never waits (git log -p)
 * keeps to its first MiB. A lossy ring keeps whole laps: its records are
 * dropped, not waited for.
 */
static bool reuse(void)
{
	__u64 off = mh_ring_me.head & (mh_ring_me.bytes - 1);
	__u64 span = reuse_span();

	if (off < span || mh_ring_me.ring->hdr->flags & MH_RING_LOSSY ||
	    mh_ring_me.head - __atomic_load_n(&mh_ring_me.slot->tail, __ATOMIC_ACQUIRE) > span / 4)
		return false;
	mh_ring_me.limit = off;
	return true;
}

void mh_ring_commit_crossed(__u64 old)
{
	/*
	 * A step ahead: the writes up to the next crossing find their pages
	 * mapped (but the record that crossed the first step's end).
	 */
	if (mh_ring_me.step < step_max())
		mh_ring_me.step <<= 1;
	if (!reuse())
		prefault(step_end() + mh_ring_me.step);
	/* Half full behind the consumer at a wake mark: a pass now, not at the next paced one. */
	if ((old ^ mh_ring_me.head) >= mh_ring_me.bytes >> MH_RING_WAKE_SHIFT &&
	    mh_ring_me.head - __atomic_load_n(&mh_ring_me.slot->tail, __ATOMIC_ACQUIRE) >=
		    mh_ring_me.bytes / 2)
		mh_ring_wake_consumer(mh_ring_me.ring);
}

static bool answered(struct mh_ring *ring, __u64 ticket)
{
	(void)ring;
	return __atomic_load_n(&mh_ring_me.slot->answered, __ATOMIC_ACQUIRE) >= ticket;
}

void mh_ring_wait_answer(struct mh_ring *ring, __u64 ticket)
{
	struct mh_ring_header *h = ring->hdr;
	int saved = errno;
	__u32 seen;

	if (mh_ring_me.ring != ring || !mh_ring_me.slot)
		return;
	/* The consumer was there a moment ago: look for its exit (3 syscalls) only after a wait. */
	for (bool waited = false; !answered(ring, ticket); waited = true) {
		if (waited ? mh_ring_consumer_probe(ring) : mh_ring_consumer_gone(ring))
			break;
		__atomic_fetch_add(&h->scan_waiters, 1, __ATOMIC_SEQ_CST);
		seen = __atomic_load_n(&h->scan_seq, __ATOMIC_SEQ_CST);
		if (!answered(ring, ticket))
			mh_ring_futex_wait(&h->scan_seq, seen, ANSWER_POLL_NS);
		__atomic_fetch_sub(&h->scan_waiters, 1, __ATOMIC_SEQ_CST);
	}
	errno = saved;
}

bool mh_ring_others_busy(const struct mh_ring *ring, __u32 pid)
{
	for (__u32 i = 0; i < ring->slot_count; i++) {
		const struct mh_slot_header *s = &ring->slots[i];

		if (s != mh_ring_me.slot && __atomic_load_n(&s->pid, __ATOMIC_RELAXED) == pid &&
		    __atomic_load_n(&s->busy, __ATOMIC_ACQUIRE))
			return true;
	}
	return false;
}

void mh_ring_close_slot(struct mh_ring *ring)
{
	__u32 claimed = MH_SLOT_CLAIMED;

	if (mh_ring_me.ring != ring || !mh_ring_me.slot)
		return;
	/* A slot the consumer broke off stays so. */
	__atomic_compare_exchange_n(&mh_ring_me.slot->state, &claimed, MH_SLOT_CLOSED, false,
				    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
	mh_ring_me.slot = NULL;
	mh_ring_me.ring = NULL;
}

void mh_ring_fork_child(struct mh_ring *ring)
{
	claimed_once = 0;	/* the child's only thread claims first */
	mh_ring_me.slot = NULL;
	mh_ring_me.ring = NULL;
	mh_ring_me.starved = 0;
	if (ring->hdr)
		choose_busy_store(ring);
}

void mh_ring_close_stale(struct mh_ring *ring)
{
	__u32 pid = (__u32)syscall(SYS_getpid);

	for (__u32 i = 0; i < ring->slot_count; i++) {
		struct mh_slot_header *s = &ring->slots[i];
		__u32 claimed = MH_SLOT_CLAIMED;

		if (&ring->slots[i] != mh_ring_me.slot &&
		    __atomic_load_n(&s->pid, __ATOMIC_RELAXED) == pid)
			__atomic_compare_exchange_n(&s->state, &claimed, MH_SLOT_CLOSED, false,
						    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
	}
}
