// SPDX-License-Identifier: MIT
/*
 * ring_consumer.c - the recorder's half of the event ring: it merges the
 * threads' slots into one stream in timestamp order up to a watermark
 * (ring_consumer.h; the protocol is in include/memhook/ring.h, the
 * argument in docs/DESIGN.md, "Per-thread buffers").
 *
 * Must never read or write outside the mapping whatever the program wrote
 * into it: every slot is located and sized from the recorder's own layout,
 * every position bounded by it, every record copied out before it is
 * looked at, and the positions the recorder works from are its own. It
 * never writes into a traced process's memory.
 */
#include "recorder/ring_consumer.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/membarrier.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/tsc.h"
#include "trace/records.h"

/* Smallest record: a bare header. */
#define REC_MIN_BYTES ((__u32)sizeof(struct mh_rec_hdr))
/* Bytes of a record staged before it is taken: its header and timestamp. */
#define FRONT_BYTES 16
/* How often the slots of threads that are gone are looked for, ns. */
#define RECLAIM_PERIOD_NS 20000000ULL
/* Time between two passes nobody asked for, ns. */
#define PASS_PERIOD_NS (MH_RING_PASS_PERIOD_MS * 1000000ULL)

/* The consumer's own view of one slot. */
struct cursor {
	const unsigned char *base; /* the slot's first byte (mh_ring_slot_data) */
	__u64 size;		/* its bytes (mh_ring_slot_size), a power of two */
	__u64 tail;		/* own read position */
	__u64 released;		/* tail last stored in the slot */
	__u64 head;		/* the slot's head as loaded this pass, checked */
	__u64 key;		/* merge key of the last record taken */
	__u64 checked_head;	/* head at the last liveness check */
	__u64 front_key;	/* the staged record's merge key */
	struct mh_rec_hdr front; /* the staged record's header, copied */
	__u64 front_ts;		/* and its timestamp word */
	__u32 state;		/* enum mh_slot_state, as last loaded */
	__u8 front_rank;	/* 0 no timestamp, 1 FREE, 2 the rest: ties go in this order */
	bool staged;		/* front_* describe the record at tail */
	bool broken;		/* never read again */
	bool dead;		/* its thread is gone: nothing more will come */
};

struct mh_ring_merge {
	__u64 w;		/* this pass's watermark: records below it are merged */
	__u32 max_record;	/* mh_ring_max_record() */
	__u64 next_reclaim;	/* CLOCK_MONOTONIC ns of the next liveness check */
	__u64 next_pass;	/* CLOCK_MONOTONIC ns of the next paced pass */
	__u64 t0;		/* CLOCK_MONOTONIC ns this pass began */
	__u64 held_key;		/* smallest merge key this pass held back (UINT64_MAX: none) */
	bool open;		/* a pass is going on */
	bool wanted;		/* a producer asked for this pass (pass_wanted) */
	bool final;		/* the recording stopped: merge everything */
	bool membarrier;	/* GLOBAL_EXPEDITED works here */
	bool unsaid;		/* a slot was broken off and mh_ring_read has not said so */
	char why[192];		/* how, for mh_ring_read */
	__u32 nactive;		/* slots this pass may still take records from */
	__u32 active[MH_RING_SLOTS_MAX];
	struct cursor cur[MH_RING_SLOTS_MAX];
};

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static bool membarrier_works(void)
{
	long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);

	return cmds > 0 && (cmds & MEMBARRIER_CMD_GLOBAL_EXPEDITED);
}

int mh_ring_create(struct mh_ring *ring, __u64 data_bytes, __u32 flags)
{
	struct mh_ring_header *h;
	long page = sysconf(_SC_PAGESIZE);
	int fd, err;

	memset(ring, 0, sizeof(*ring));
	ring->fd = -1;
	if (!mh_ring_size_ok(data_bytes) || page <= 0 || data_bytes % (__u64)page ||
	    MH_RING_HEADER_BYTES % page)
		return -EINVAL;
	ring->merge = calloc(1, sizeof(*ring->merge));
	if (!ring->merge)
		return -ENOMEM;
	ring->merge->membarrier = membarrier_works();
	if (ring->merge->membarrier)
		flags |= MH_RING_MEMBARRIER;
	if (mh_tsc_usable())
		flags |= MH_RING_TSC;

	/* Not MFD_CLOEXEC: the traced program inherits it across exec. */
	fd = memfd_create("memhook-ring", MFD_ALLOW_SEALING);
	if (fd < 0) {
		err = -errno;
		goto out_free;
	}
	if (ftruncate(fd, MH_RING_HEADER_BYTES + data_bytes) < 0) {
		err = -errno;
		goto out_close;
	}
	/* The size is part of the protocol: nobody may change it. */
	(void)fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);

	err = mh_ring_map(ring, fd, data_bytes);
	if (err)
		goto out_close;
	/* Where each slot is, once: the merge looks at it for every record. */
	ring->merge->max_record = mh_ring_max_record(ring);
	/* run() takes events of their own size without a look at it (1 KiB at least). */
	if (ring->merge->max_record < sizeof(struct mh_rec_realloc)) {
		mh_ring_unmap(ring);
		err = -EINVAL;
		goto out_free;
	}
	for (__u32 i = 0; i < ring->slot_count; i++) {
		ring->merge->cur[i].base = mh_ring_slot_data(ring, i);
		ring->merge->cur[i].size = mh_ring_slot_size(ring, i);
	}

	h = ring->hdr;
	h->version = MH_RING_VERSION;
	h->flags = flags;
	h->data_bytes = data_bytes;
	h->slot_bytes = ring->slot_bytes;
	h->slot_count = ring->slot_count;
	h->consumer_pid = (__u32)getpid();
	h->consumer_state = MH_RING_CONSUMER_ALIVE;
	/* Producers in this process (tests) did not register for membarrier. */
	ring->busy_xchg = 1;
	__atomic_store_n(&h->magic, MH_RING_MAGIC, __ATOMIC_RELEASE);
	return 0;

out_close:
	close(fd);
out_free:
	free(ring->merge);
	memset(ring, 0, sizeof(*ring));
	ring->fd = -1;
	return err;
}

void mh_ring_destroy(struct mh_ring *ring)
{
	free(ring->merge);
	ring->merge = NULL;
	mh_ring_unmap(ring);
}

bool mh_ring_uses_membarrier(const struct mh_ring *ring)
{
	return ring->merge && ring->merge->membarrier;
}

/* Stop reading slot i for good; why says where and how, for mh_ring_read. */
static void break_slot(struct mh_ring *ring, __u32 i, const char *why)
{
	struct mh_ring_merge *m = ring->merge;
	struct cursor *c = &m->cur[i];

	snprintf(m->why, sizeof(m->why), "at ring byte %llu of slot %u: %s; that slot was not read further",
		 (unsigned long long)c->tail, i, why);
	c->broken = true;
	c->staged = false;
	m->unsaid = true;
	__atomic_store_n(&ring->slots[i].state, MH_SLOT_BROKEN, __ATOMIC_RELEASE);
}

static const char *frame_error(const struct mh_ring *ring, struct mh_rec_hdr hdr)
{
	if (!hdr.type)
		return "record of type 0";
	if (hdr.size < REC_MIN_BYTES || hdr.size % MH_REC_ALIGN)
		return "record size not a multiple of 8";
	if (hdr.size > ring->merge->max_record)
		return "record larger than any the preload writes";
	return NULL;
}

/*
 * Copy the first bytes of the record at slot i's tail (past a wrap mark)
 * and give it its merge key. false when the slot has nothing published
 * there or broke the protocol (then broken).
 */
static inline __attribute__((always_inline)) bool stage(struct mh_ring *ring, __u32 i)
{
	struct cursor *c = &ring->merge->cur[i];
	const unsigned char *base = c->base;
	__u64 off, size = c->size;
	const char *why;

	while (c->tail != c->head) {
		off = c->tail & (size - 1);
		memcpy(&c->front, base + off, sizeof(c->front));
		if (!c->front.type && !c->front.kind && !c->front.size) {
			if (!off || c->tail + (size - off) > c->head) {
				break_slot(ring, i, "wrap mark past what is published");
				return false;
			}
			c->tail += size - off;
			continue;
		}
		why = frame_error(ring, c->front);
		if (!why && (off + c->front.size > size || c->tail + c->front.size > c->head))
			why = "record past the end of its slot or of what is published";
		if (why) {
			break_slot(ring, i, why);
			return false;
		}
		c->front_ts = 0;
		if (c->front.size >= FRONT_BYTES)
			memcpy(&c->front_ts, base + off + sizeof(c->front), sizeof(c->front_ts));
		c->front_key = c->key;
		if (mh_ring_type_has_ts(c->front.type) && c->front.size >= FRONT_BYTES &&
		    c->front_ts > c->key)
			c->front_key = c->front_ts;
		c->front_rank = !mh_ring_type_has_ts(c->front.type) ? 0 :
				c->front.type == MH_REC_FREE ? 1 : 2;
		c->staged = true;
		return true;
	}
	return false;
}

/*
 * Has thread tid of process pid ended? tgkill(pid, tid, 0) no longer finds
 * it, or its process has exited (a zombie nobody reaps still answers
 * tgkill; its pidfd polls readable). Harmless with forged ids: signal 0 is
 * never sent, a pidfd only looked at.
 */
static bool thread_gone(long pid, long tid)
{
	struct pollfd p = { .events = POLLIN };
	bool gone;

	if (syscall(SYS_tgkill, pid, tid, 0) < 0)
		return errno == ESRCH;
	p.fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (p.fd < 0)
		return errno == ESRCH;
	gone = poll(&p, 1, 0) == 1;
	close(p.fd);
	return gone;
}

/*
 * Look for slots whose thread is gone (killed, or ended without closing):
 * a claimed slot whose head has not moved since the last look and whose
 * owner thread_gone() says has ended.
 */
static void find_dead(struct mh_ring *ring, __u64 now)
{
	struct mh_ring_merge *m = ring->merge;

	if (now < m->next_reclaim && !__atomic_load_n(&ring->hdr->producers_sleeping, __ATOMIC_RELAXED))
		return;
	m->next_reclaim = now + RECLAIM_PERIOD_NS;
	for (__u32 i = 0; i < ring->slot_count; i++) {
		struct cursor *c = &m->cur[i];
		struct mh_slot_header *s = &ring->slots[i];
		long pid = __atomic_load_n(&s->pid, __ATOMIC_RELAXED);
		long tid = __atomic_load_n(&s->tid, __ATOMIC_RELAXED);

		if (c->broken || c->dead || c->state != MH_SLOT_CLAIMED)
			continue;
		if (c->head == c->checked_head && pid > 0 && tid > 0 && thread_gone(pid, tid))
			c->dead = true;
		c->checked_head = c->head;
	}
}

/*
 * Slots a thread writes into. With at most one, the barrier below is
 * skipped: that thread's records are in its own order, and a thread that
 * claims a slot after this count did so with a compare-and-swap (a full
 * barrier), so it reads its clock after this pass read T0 and its records
 * sort after every record this pass can merge. The barrier interrupts
 * every CPU running the program; a single-threaded program never needs it.
 */
static unsigned int claimed_slots(const struct mh_ring *ring)
{
	unsigned int n = 0;

	for (__u32 i = 0; i < ring->slot_count; i++)
		n += __atomic_load_n(&ring->slots[i].state, __ATOMIC_ACQUIRE) == MH_SLOT_CLAIMED;
	return n;
}

/*
 * Passes are paced (ring.h): ns until the next one may start, 0 now. A
 * forged pass_wanted only brings a pass forward.
 */
static __u64 pass_wait_ns(const struct mh_ring *ring, __u64 now)
{
	const struct mh_ring_merge *m = ring->merge;

	if (m->final || now >= m->next_pass ||
	    __atomic_load_n(&ring->hdr->pass_wanted, __ATOMIC_SEQ_CST))
		return 0;
	return m->next_pass - now;
}

/*
 * Start a merge pass: T0, the barrier that makes every busy flag set
 * before it visible, then each slot's state, busy flag and head. The
 * watermark is T0, or the last timestamp of a slot caught mid-record if
 * lower, less the clocks' skew.
 */
static void pass_begin(struct mh_ring *ring, __u64 t0)
{
	struct mh_ring_merge *m = ring->merge;
	__u64 w = t0;

	/* Cleared before the slots are read: a later request gets a pass of its own. */
	m->wanted = __atomic_exchange_n(&ring->hdr->pass_wanted, 0, __ATOMIC_SEQ_CST) != 0;
	m->t0 = t0;
	m->next_pass = t0 + PASS_PERIOD_NS;
	m->held_key = UINT64_MAX;

	if (claimed_slots(ring) < 2 || !m->membarrier ||
	    syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0) < 0)
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	m->nactive = 0;
	for (__u32 i = 0; i < ring->slot_count; i++) {
		struct cursor *c = &m->cur[i];
		struct mh_slot_header *s = &ring->slots[i];
		__u64 head, last;
		__u32 busy;

		c->state = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
		if (c->broken || c->state == MH_SLOT_FREE)
			continue;
		/*
		 * busy, last_ts, head, each acquire (the producer stores them
		 * release in the other order): a last_ts newer than the record
		 * in flight when busy was read comes with that record's head.
		 */
		busy = __atomic_load_n(&s->busy, __ATOMIC_ACQUIRE);
		last = __atomic_load_n(&s->last_ts, __ATOMIC_ACQUIRE);
		head = __atomic_load_n(&s->head, __ATOMIC_ACQUIRE);
		if (head < c->tail || head - c->tail > mh_ring_slot_size(ring, i)) {
			break_slot(ring, i, "head outside its slot");
			continue;
		}
		c->head = head;
		if (busy && !c->dead && last < w)
			w = last;
		if (c->staged || c->tail != c->head)
			m->active[m->nactive++] = i;
	}
	find_dead(ring, t0);
	m->w = m->final ? UINT64_MAX : w > MH_RING_SKEW_NS ? w - MH_RING_SKEW_NS : 0;
	m->open = true;
}

/* Does slot i's staged record c come before slot j's d? Ties: the lower rank, then the lower slot. */
static inline bool precedes(const struct cursor *c, __u32 i, const struct cursor *d, __u32 j)
{
	if (c->front_key != d->front_key)
		return c->front_key < d->front_key;
	return c->front_rank != d->front_rank ? c->front_rank < d->front_rank : i < j;
}

/*
 * The slot whose staged record comes next and is below the watermark, or
 * -1; -2 when a slot was just broken off (say it first). Only the slots
 * that had records at the pass's start are looked at; one that runs out
 * leaves the list. *next gets the slot that comes after it (-1: none
 * below the watermark): until the slot picked has a record that does not
 * come before that one's, it is the one to take from again.
 */
static int pick(struct mh_ring *ring, int *next)
{
	struct mh_ring_merge *m = ring->merge;
	int best = -1, second = -1;

	for (__u32 k = 0; k < m->nactive && !m->unsaid; k++) {
		__u32 i = m->active[k];
		struct cursor *c = &m->cur[i];

		if (c->broken || (!c->staged && !stage(ring, i))) {
			m->active[k--] = m->active[--m->nactive];
			continue;
		}
		if (c->front_key >= m->w) {
			if (c->front_key < m->held_key)
				m->held_key = c->front_key;
			continue;
		}
		if (best < 0 || precedes(c, i, &m->cur[best], (__u32)best)) {
			second = best;
			best = (int)i;
		} else if (second < 0 || precedes(c, i, &m->cur[second], (__u32)second)) {
			second = (int)i;
		}
	}
	*next = second;
	return m->unsaid ? -2 : best;
}

/*
 * Copy a record of `size` bytes: the event records' sizes as constants,
 * so that the copy is a few moves, not a libc call per record.
 */
static inline void copy_record(unsigned char *out, const unsigned char *from, __u32 size)
{
	switch (size) {
	case sizeof(struct mh_rec_free):
		memcpy(out, from, sizeof(struct mh_rec_free));
		break;
	case sizeof(struct mh_rec_alloc):
		memcpy(out, from, sizeof(struct mh_rec_alloc));
		break;
	case sizeof(struct mh_rec_realloc):
		memcpy(out, from, sizeof(struct mh_rec_realloc));
		break;
	default:
		memcpy(out, from, size);
	}
}

/*
 * Copy slot i's staged record to out, its header and timestamp the ones
 * staged (the program may have changed the slot since), and check it. An
 * exit-scan request's ticket becomes the recorder's own: slot and
 * position past it. false: the slot is broken off, nothing copied.
 */
static bool take(struct mh_ring *ring, __u32 i, unsigned char *out)
{
	struct cursor *c = &ring->merge->cur[i];
	__u64 off = c->tail & (c->size - 1);
	const char *why;

	copy_record(out, c->base + off, c->front.size);
	memcpy(out, &c->front, sizeof(c->front));
	if (c->front.size >= FRONT_BYTES)
		memcpy(out + sizeof(c->front), &c->front_ts, sizeof(c->front_ts));
	/* The events, nearly every record: only their size to check. */
	why = c->front.type >= MH_REC_ALLOC && c->front.type <= MH_REC_REALLOC &&
	      c->front.size >= mh_rec_min_size(c->front.type) ?
	      NULL : mh_ring_record_error((const struct mh_rec_hdr *)out);
	if (why) {
		break_slot(ring, i, why);
		return false;
	}
	c->tail += c->front.size;
	c->key = c->front_key;
	c->staged = false;
	if (c->front.type == MH_REC_EXIT_SCAN) {
		struct mh_rec_exit_scan *s = (struct mh_rec_exit_scan *)out;

		s->ticket = ((__u64)i << MH_RING_TICKET_SHIFT) | c->tail;
	}
	return true;
}

/* Does a record of this key and rank come before a run's bound (run())? */
static inline bool before(__u64 key, __u8 rank, __u64 lim, __u32 ties)
{
	return key < lim || (key == lim && ties >> rank & 1);
}

/* The sizes the preload writes ALLOC, FREE and REALLOC records with, by type - MH_REC_ALLOC. */
static const __u32 event_bytes[] = {
	sizeof(struct mh_rec_alloc), sizeof(struct mh_rec_free), sizeof(struct mh_rec_realloc),
};
_Static_assert(MH_REC_FREE == MH_REC_ALLOC + 1 && MH_REC_REALLOC == MH_REC_ALLOC + 2,
	       "event types follow each other");

/*
 * Go on taking slot i's records into out after the one just taken while
 * each comes before slot next's staged record (-1: before the watermark),
 * as precedes() says, and fits in cap. A record that passes every check
 * of stage() and take() at once, an ALLOC, FREE or REALLOC of its own
 * size (within max_record: mh_ring_create()) inside the slot and what is
 * published (nearly all of them), is copied once: its header, then the
 * record to out, its stamp read from that copy. An exact size is one test
 * where a sound one took three, and the bounds of the slot's end, of what
 * is published and of cap are one, the bytes left before the nearest:
 * mh_ring_read took 72 instructions an event, 54 since (callgrind of the
 * recorder, alloc_bench 2 3000000 30 64).
 * Anything else, and the record that ends the run, goes through stage()
 * and take() as if the run had been theirs from the start, so what is
 * taken and what is said of a bad record are theirs. Returns false when
 * out is full.
 */
static bool run(struct mh_ring *ring, __u32 i, int next, unsigned char *out, size_t cap,
		size_t *bytes)
{
	struct mh_ring_merge *m = ring->merge;
	struct cursor *c = &m->cur[i];
	const unsigned char *base = c->base;
	__u64 size = c->size, head = c->head, lim = m->w, tail, key, left;
	__u32 ties = 0;		/* bit r: a record of rank r at key lim still comes first */
	size_t n = *bytes;

	if (next >= 0) {
		const struct cursor *d = &m->cur[next];

		/* pick() saw it below the watermark: the ties are the only other question. */
		lim = d->front_key;
		ties = ((1U << d->front_rank) - 1) | (__u32)(i < (__u32)next) << d->front_rank;
	}
	for (;;) {
		const unsigned char *from = base + (c->tail & (size - 1));

		tail = c->tail;
		key = c->key;
		/* A wrap mark (type 0) ends the run before the slot's end. */
		left = size - (tail & (size - 1));
		if (left > head - tail)
			left = head - tail;
		if (left > cap - n)
			left = cap - n;
		for (;;) {
			struct mh_rec_hdr h;
			__u64 ts, k;

			memcpy(&h, from, sizeof(h));
			if ((__u16)(h.type - MH_REC_ALLOC) > MH_REC_REALLOC - MH_REC_ALLOC ||
			    h.size != event_bytes[h.type - MH_REC_ALLOC] || h.size > left)
				break;
			copy_record(out + n, from, h.size);
			memcpy(out + n, &h, sizeof(h));
			memcpy(&ts, out + n + sizeof(h), sizeof(ts));
			k = ts > key ? ts : key;
			if (!before(k, h.type == MH_REC_FREE ? 1 : 2, lim, ties))
				break;
			from += h.size;
			left -= h.size;
			tail += h.size;
			key = k;
			n += h.size;
		}
		c->tail = tail;
		c->key = key;
		*bytes = n;
		if (!stage(ring, i) || !before(c->front_key, c->front_rank, lim, ties))
			return true;
		if (n + c->front.size > cap)
			return false;
		if (!take(ring, i, out + n))
			return true;	/* pick() says it */
		n += c->front.size;
	}
}

/*
 * The pass is done: the next read starts one. A pass a producer asked for
 * that held records back by the watermark is followed, not a period
 * later, but as soon as the watermark passes every record published when
 * it began: its start plus the skew (or its first held record's stamp
 * plus the skew, for a clock ahead of ours). The producer is mostly a
 * process waiting for the answer to its exit-scan request, made a few
 * microseconds before the consumer, awake already, began the pass. It
 * waited a whole period at the second of its two requests, 1.1 ms of its
 * 2.4 ms at exit (median of 50 /bin/true under memhook check, uprobes).
 * At most one such pass per pass asked for.
 */
static void pass_end(struct mh_ring_merge *m)
{
	__u64 from = m->held_key > m->t0 ? m->held_key : m->t0;

	m->open = false;
	/* Compared below next_pass (t0 plus a period): a forged key cannot overflow. */
	if (m->wanted && m->held_key != UINT64_MAX && from < m->next_pass - MH_RING_SKEW_NS - 1)
		m->next_pass = from + MH_RING_SKEW_NS + 1;
}

int mh_ring_read(struct mh_ring *ring, void *buf, size_t cap, size_t *bytes, const char **why)
{
	struct mh_ring_merge *m = ring->merge;
	unsigned char *out = buf;
	size_t n = 0;
	int i, next;

	*why = NULL;
	*bytes = 0;
	if (!m->open) {
		__u64 t0 = now_ns();

		if (pass_wait_ns(ring, t0))
			return 0;
		pass_begin(ring, t0);
	}
	while ((i = pick(ring, &next)) >= 0) {
		struct cursor *c = &m->cur[i];

		/* pick() staged it: taken if it fits, then as many of that slot's as come first. */
		if (n && n + c->front.size > cap)
			break;
		if (!take(ring, (__u32)i, out + n))
			continue;	/* pick() says it */
		n += c->front.size;
		if (!run(ring, (__u32)i, next, out, cap, &n))
			break;
	}
	*bytes = n;
	if (i == -1)
		pass_end(m);
	if (m->unsaid) {
		m->unsaid = false;
		*why = m->why;
		return -EBADMSG;
	}
	return 0;
}

/* Slot i's thread is done and all it published is taken: hand the slot out again. */
static bool free_if_done(struct mh_ring *ring, __u32 i)
{
	struct cursor *c = &ring->merge->cur[i];
	struct mh_slot_header *s = &ring->slots[i];

	if (c->broken || c->staged || (c->state != MH_SLOT_CLOSED && !c->dead) ||
	    c->tail != __atomic_load_n(&s->head, __ATOMIC_ACQUIRE))
		return false;
	/* No stale owner for the next claimer's first instants (find_dead). */
	__atomic_store_n(&s->pid, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->tid, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->busy, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->state, MH_SLOT_FREE, __ATOMIC_RELEASE);
	c->state = MH_SLOT_FREE;
	c->dead = false;
	c->key = 0;
	return true;
}

void mh_ring_release(struct mh_ring *ring, size_t bytes)
{
	struct mh_ring_merge *m = ring->merge;
	bool moved = false;

	(void)bytes;	/* every slot's taken records are released */
	for (__u32 i = 0; i < ring->slot_count; i++) {
		struct cursor *c = &m->cur[i];

		if (c->tail != c->released && !c->broken) {
			__atomic_store_n(&ring->slots[i].tail, c->tail, __ATOMIC_SEQ_CST);
			c->released = c->tail;
			moved = true;
		}
		if (c->state != MH_SLOT_FREE && free_if_done(ring, i)) {
			c->released = c->tail;
			moved = true;
		}
	}
	if (moved)
		mh_ring_wake_word(&ring->hdr->tail_wake, &ring->hdr->producers_sleeping);
}

/*
 * Has a slot published what no pass has taken, or records held back by
 * the watermark?
 */
static bool unread(const struct mh_ring *ring)
{
	const struct mh_ring_merge *m = ring->merge;

	for (__u32 i = 0; i < ring->slot_count; i++) {
		const struct cursor *c = &m->cur[i];

		if (c->broken)
			continue;
		if (c->tail != c->head ||
		    __atomic_load_n(&ring->slots[i].head, __ATOMIC_ACQUIRE) != c->head ||
		    __atomic_load_n(&ring->slots[i].state, __ATOMIC_ACQUIRE) != c->state)
			return true;
	}
	return false;
}

void mh_ring_wait(struct mh_ring *ring, long timeout_ns)
{
	struct mh_ring_header *h = ring->hdr;
	__u32 seen = __atomic_load_n(&h->wake_seq, __ATOMIC_SEQ_CST);
	__u64 left;

	__atomic_store_n(&h->consumer_sleeping, 1, __ATOMIC_SEQ_CST);
	/* A record published before the flag was seen would wake nobody: look once more. */
	if (unread(ring)) {
		left = pass_wait_ns(ring, now_ns());
		if (!left)
			goto out;
		if (left < (__u64)timeout_ns)
			timeout_ns = (long)left;
	}
	mh_ring_futex_wait(&h->wake_seq, seen, timeout_ns);
out:
	__atomic_store_n(&h->consumer_sleeping, 0, __ATOMIC_RELAXED);
}

void mh_ring_wake(struct mh_ring *ring)
{
	mh_ring_wake_word(&ring->hdr->wake_seq, &ring->hdr->consumer_sleeping);
}

unsigned int mh_ring_busy_slots(const struct mh_ring *ring)
{
	unsigned int n = 0;

	for (__u32 i = 0; i < ring->slot_count; i++) {
		const struct cursor *c = &ring->merge->cur[i];

		if (!c->broken && !c->dead &&
		    __atomic_load_n(&ring->slots[i].state, __ATOMIC_ACQUIRE) != MH_SLOT_FREE &&
		    __atomic_load_n(&ring->slots[i].busy, __ATOMIC_ACQUIRE))
			n++;
	}
	return n;
}

void mh_ring_finish(struct mh_ring *ring)
{
	ring->merge->final = true;
	ring->merge->open = false;
}

/*
 * Raise a slot's answered position to pos, never lower it: requests are
 * not all answered by one thread (a slot's earlier owner, killed while it
 * waited, may be answered after the next owner). The word is the
 * program's to scribble on, so a few tries, then a plain store.
 */
static void answer_up_to(__u64 *answered, __u64 pos)
{
	__u64 seen = __atomic_load_n(answered, __ATOMIC_SEQ_CST);

	for (int i = 0; i < 8; i++) {
		if (seen >= pos)
			return;
		if (__atomic_compare_exchange_n(answered, &seen, pos, false, __ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST))
			return;
	}
	__atomic_store_n(answered, pos, __ATOMIC_SEQ_CST);
}

void mh_ring_answer(struct mh_ring *ring, __u64 ticket)
{
	__u64 slot = ticket >> MH_RING_TICKET_SHIFT;
	struct mh_ring_header *h = ring->hdr;

	if (slot < ring->slot_count)
		answer_up_to(&ring->slots[slot].answered,
			     ticket & ((1ULL << MH_RING_TICKET_SHIFT) - 1));
	mh_ring_wake_word(&h->scan_seq, &h->scan_waiters);
}

void mh_ring_close(struct mh_ring *ring)
{
	__atomic_store_n(&ring->hdr->consumer_state, MH_RING_CONSUMER_GONE, __ATOMIC_RELEASE);
	/* Processes waiting for room or for an answer look again now. */
	mh_ring_wake_word(&ring->hdr->tail_wake, &ring->hdr->producers_sleeping);
	mh_ring_wake_word(&ring->hdr->scan_seq, &ring->hdr->scan_waiters);
}
