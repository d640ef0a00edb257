// SPDX-License-Identifier: MIT
/*
 * check_ring.c - the event ring's per-thread slots (preload/ring.c and
 * recorder/ring_consumer.c): records survive a slot's wrap point intact,
 * events of any sound size too, the merged stream is in timestamp order
 * across threads, a thread caught between its timestamp and its
 * publication holds back later records of every other thread, a full
 * slot makes lossless producers wait and lossy ones drop and count
 * exactly, slots of ended threads are handed out again, a slot that
 * breaks the protocol is dropped alone, and a producer whose consumer
 * died stops waiting instead of hanging.
 *
 * The oracle is the producers' own knowledge: each record carries its
 * producer id, a sequence number, the clock read after its reservation
 * and a payload derived from them.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "preload/ring.h"
#include "recorder/ring_consumer.h"
#include "trace/records.h"
#include "tests/testutil.h"

/* A test record (type THREAD, which the reader accepts at 40 bytes and up, or an event). */
struct test_rec {
	struct mh_rec_hdr hdr;
	__u64 ts;
	__u32 producer;
	__u32 seq;
	__u64 fill[2];
	/* __u64 more[]; every word = producer * 1000003 + seq + index */
};

static __u64 fill_word(__u32 producer, __u32 seq, unsigned int i)
{
	return (__u64)producer * 1000003u + seq + i;
}

/* The records are THREAD records, or events of each type in turn (test_events_of_any_size). */
static bool as_events;

static __u16 rec_type(__u32 seq)
{
	static const __u16 events[] = { MH_REC_ALLOC, MH_REC_FREE, MH_REC_REALLOC };

	return as_events ? events[seq % 3] : MH_REC_THREAD;
}

/*
 * Size of record seq of a producer: 40 bytes plus 0..30 words; an event
 * its type's size, every fourth one a word more.
 */
static __u32 rec_bytes(__u32 producer, __u32 seq)
{
	if (as_events)
		return mh_rec_min_size(rec_type(seq)) + (seq % 4 == 3 ? 8 : 0);
	return sizeof(struct test_rec) + 8 * ((seq * 7 + producer) % 31);
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* Reserve and stamp one record of `bytes` (not published yet). */
static struct test_rec *begin(struct mh_ring *ring, __u32 producer, __u32 seq, __u32 bytes)
{
	struct test_rec *r = mh_ring_reserve(ring, bytes);
	unsigned int i;

	if (!r)
		return NULL;
	r->ts = now_ns();
	r->producer = producer;
	r->seq = seq;
	for (i = 0; i < (bytes - offsetof(struct test_rec, fill)) / 8; i++)
		r->fill[i] = fill_word(producer, seq, i);
	return r;
}

static void publish(struct test_rec *r, __u32 bytes)
{
	mh_ring_commit(r, (struct mh_rec_hdr){ .type = rec_type(r->seq), .size = bytes });
}

/* Write one record; false if the ring refused it. */
static bool put(struct mh_ring *ring, __u32 producer, __u32 seq)
{
	__u32 bytes = rec_bytes(producer, seq);
	struct test_rec *r = begin(ring, producer, seq, bytes);

	if (r)
		publish(r, bytes);
	return r != NULL;
}

#define MAX_PRODUCERS 8

/* The merged order seen so far: timestamps never go back. */
static __u64 last_ts;

/* Drain what the watermark lets through, checking each record; returns records seen. */
static unsigned int drain(struct mh_ring *ring, __u32 *next_seq)
{
	const unsigned char *p;
	size_t bytes, off = 0;
	unsigned int n = 0;

	p = mh_test_ring_peek(ring, &bytes);
	while (off < bytes) {
		const struct test_rec *r = (const void *)(p + off);
		unsigned int i;
		bool ok;

		/* One assertion per record: each one costs Check a write in fork mode. */
		ok = r->producer < MAX_PRODUCERS && r->seq == next_seq[r->producer] &&
		     r->hdr.size == rec_bytes(r->producer, r->seq);
		for (i = 0; ok && i < (r->hdr.size - offsetof(struct test_rec, fill)) / 8; i++)
			ok = r->fill[i] == fill_word(r->producer, r->seq, i);
		if (!ok)
			ck_abort_msg("record at %zu: producer %u seq %u size %u", off, r->producer,
				     r->seq, r->hdr.size);
		if (r->ts < last_ts)
			ck_abort_msg("producer %u seq %u at %llu after %llu", r->producer, r->seq,
				     (unsigned long long)r->ts, (unsigned long long)last_ts);
		last_ts = r->ts;
		next_seq[r->producer]++;
		off += r->hdr.size;
		n++;
	}
	mh_ring_release(ring, bytes);
	return n;
}

/*
 * Ask for a pass now, as a producer waiting for room does, and wait out
 * the watermark's margin.
 */
static void settle(struct mh_ring *r)
{
	__atomic_store_n(&r->hdr->pass_wanted, 1, __ATOMIC_SEQ_CST);
	usleep(2 * MH_RING_SKEW_NS / 1000);
}

/* Drain until nothing more comes, the watermark's margin included. */
static unsigned int drain_all(struct mh_ring *ring, __u32 *next_seq)
{
	unsigned int n = 0, got;

	settle(ring);
	do {
		got = drain(ring, next_seq);
		n += got;
	} while (got);
	return n;
}

static struct mh_ring ring;

static void ring_teardown(void)
{
	mh_ring_destroy(&ring);
}

static void make_ring(__u64 data_bytes, __u32 flags)
{
	ck_assert_int_eq(mh_ring_create(&ring, data_bytes, flags), 0);
	last_ts = 0;
}

/*
 * Put total records from producer 0 in uneven batches, so that they meet
 * the slot's end at every offset, draining after each. Returns how many
 * were drained.
 */
static unsigned int put_in_uneven_batches(__u32 total, __u32 *next)
{
	__u32 seq = 0, seen = 0;

	while (seq < total) {
		unsigned int batch = 1 + seq % 13;

		while (batch-- && seq < total)
			ck_assert(put(&ring, 0, seq++));
		seen += drain_all(&ring, next);
	}
	return seen;
}

START_TEST(test_wraparound)
{
	__u32 next[MAX_PRODUCERS] = { 0 };
	__u32 seen, total = 30000;

	make_ring(64 << 10, 0);
	seen = put_in_uneven_batches(total, next);
	seen += drain_all(&ring, next);
	ck_assert_uint_eq(seen, total);
	ck_assert_uint_eq(next[0], total);
	for (__u32 i = 0; i < ring.slot_count; i++)
		if (ring.slots[i].state == MH_SLOT_CLAIMED)
			ck_assert_uint_gt(ring.slots[i].head, 10 * ring.slot_bytes);
	ck_assert_uint_eq(mh_ring_busy_slots(&ring), 0);
}
END_TEST

/*
 * Events come out whole and in order across the slot's wrap whatever
 * their size, that of their type (a run takes them at once) or one the
 * preload never writes (a run leaves them to the record-by-record checks).
 */
START_TEST(test_events_of_any_size)
{
	__u32 next[MAX_PRODUCERS] = { 0 };
	__u32 total = 30000;

	as_events = true;
	make_ring(64 << 10, 0);
	ck_assert_uint_eq(put_in_uneven_batches(total, next), total);
	ck_assert_uint_eq(next[0], total);
}
END_TEST

/*
 * Passes are paced: right after one, a record nobody asked about waits
 * for the next (a read gets nothing), one a producer asks for comes at
 * once, and a paced wait ends when the next pass is due, not after the
 * idle timeout. Attempts the scheduler stretched past half a period say
 * nothing and are retried.
 */
START_TEST(test_passes_paced)
{
	const __u64 half = MH_RING_PASS_PERIOD_MS * 1000000ULL / 2;
	__u32 next[MAX_PRODUCERS] = { 0 };
	__u32 seq = 0;
	unsigned int timed = 0;
	__u64 t;

	make_ring(64 << 10, 0);
	for (int attempt = 0; attempt < 50 && timed < 5; attempt++) {
		ck_assert(put(&ring, 0, seq++));
		ck_assert_uint_eq(drain_all(&ring, next), 1);
		t = now_ns();
		ck_assert(put(&ring, 0, seq++));
		usleep(2 * MH_RING_SKEW_NS / 1000);
		if (drain(&ring, next)) {
			if (now_ns() - t < half)
				ck_abort_msg("a pass nobody asked for came %llu ns after the last",
					     (unsigned long long)(now_ns() - t));
			continue;
		}
		timed += now_ns() - t < half;
		t = now_ns();
		mh_ring_wait(&ring, MH_RING_IDLE_WAKE_MS * 1000000L);
		ck_assert_uint_lt(now_ns() - t, MH_RING_IDLE_WAKE_MS * 1000000ULL);
		ck_assert_uint_eq(drain(&ring, next), 1);
	}
	ck_assert_uint_ge(timed, 5);
}
END_TEST

struct held {
	struct mh_ring *ring;
	int stamped;		/* 1: reserved and stamped, not published */
	int go;			/* 1: publish now */
};

static void *hold_one(void *arg)
{
	struct held *h = arg;
	__u32 bytes = rec_bytes(1, 0);
	struct test_rec *r = begin(h->ring, 1, 0, bytes);

	ck_assert_ptr_nonnull(r);
	__atomic_store_n(&h->stamped, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&h->go, __ATOMIC_ACQUIRE))
		usleep(1000);
	publish(r, bytes);
	return NULL;
}

/*
 * The watermark: a thread stamped before another thread's record but
 * publishing after it must still come first. While it is busy, the later
 * record is held back; once it publishes, both come in timestamp order.
 */
START_TEST(test_busy_holds_back)
{
	struct held h = { .ring = &ring };
	__u32 next[MAX_PRODUCERS] = { 0 };
	pthread_t t;
	size_t bytes;

	make_ring(1 << 20, 0);
	ck_assert_int_eq(pthread_create(&t, NULL, hold_one, &h), 0);
	while (!__atomic_load_n(&h.stamped, __ATOMIC_ACQUIRE))
		usleep(100);
	ck_assert(put(&ring, 0, 0));
	usleep(5 * MH_RING_SKEW_NS / 1000);
	mh_test_ring_peek(&ring, &bytes);
	ck_assert_uint_eq(bytes, 0);
	ck_assert_uint_eq(mh_ring_busy_slots(&ring), 1);
	__atomic_store_n(&h.go, 1, __ATOMIC_RELEASE);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_uint_eq(drain_all(&ring, next), 2);	/* drain() checks the order */
	ck_assert_uint_eq(next[0], 1);
	ck_assert_uint_eq(next[1], 1);
}
END_TEST

struct filler {
	struct mh_ring *ring;
	unsigned int filled;	/* records that fit the slot */
	int done;
	bool ok;
};

/* Fill this thread's slot exactly with 64-byte records, then put one more. */
static void *fill_then_put(void *arg)
{
	struct filler *f = arg;
	unsigned int i, n = (unsigned int)(f->ring->slot_bytes / 64);
	struct test_rec *r;

	for (i = 0; i < n; i++) {
		r = begin(f->ring, 1, i, 64);
		ck_assert_ptr_nonnull(r);
		publish(r, 64);
	}
	f->filled = n;
	r = begin(f->ring, 1, n, 64);
	f->ok = r != NULL;
	if (r)
		publish(r, 64);
	__atomic_store_n(&f->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void wait_until_producer_waits(struct mh_ring *r)
{
	while (!__atomic_load_n(&r->hdr->producer_waits, __ATOMIC_ACQUIRE))
		usleep(1000);
}

static size_t drain_bytes(struct mh_ring *r)
{
	size_t bytes, total = 0;

	settle(r);
	do {
		mh_test_ring_peek(r, &bytes);
		mh_ring_release(r, bytes);
		total += bytes;
	} while (bytes);
	return total;
}

START_TEST(test_full_lossless_waits)
{
	struct filler f = { .ring = &ring };
	pthread_t t;
	size_t total;

	make_ring(64 << 10, 0);
	ck_assert_int_eq(pthread_create(&t, NULL, fill_then_put, &f), 0);
	wait_until_producer_waits(&ring);
	/* It waits for the tail, which has not moved: it cannot have finished. */
	usleep(10000);
	ck_assert_int_eq(__atomic_load_n(&f.done, __ATOMIC_ACQUIRE), 0);
	total = drain_bytes(&ring);
	ck_assert_uint_ge(total, ring.slot_bytes);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert(f.ok);
	ck_assert_uint_eq(total + drain_bytes(&ring), ring.slot_bytes + 64);
	ck_assert_uint_eq(ring.hdr->lost_records, 0);
}
END_TEST

START_TEST(test_full_lossy_counts)
{
	unsigned int i, n = 0, dropped = 37;
	struct test_rec *r;

	make_ring(64 << 10, MH_RING_LOSSY);
	while ((r = begin(&ring, 0, n, 64))) {
		publish(r, 64);
		n++;
	}
	ck_assert_uint_eq(n, ring.slot_bytes / 64);
	ck_assert_uint_eq(ring.hdr->lost_records, 1);
	for (i = 0; i < dropped; i++)
		ck_assert_ptr_null(mh_ring_reserve(&ring, 8 * (1 + i % 4)));
	ck_assert_uint_eq(ring.hdr->lost_records, dropped + 1);
	ck_assert_uint_eq(ring.hdr->producer_waits, 0);
	ck_assert_uint_eq(drain_bytes(&ring), (size_t)n * 64);
	r = begin(&ring, 0, n, 64);
	ck_assert_ptr_nonnull(r);
	publish(r, 64);
}
END_TEST

#define PER_PRODUCER 20000
#define THREAD_PRODUCERS 4
#define PROCESS_PRODUCERS 2

struct producer_arg {
	struct mh_ring *ring;
	__u32 id;
};

static void *produce(void *arg)
{
	struct producer_arg *a = arg;
	__u32 seq;

	for (seq = 0; seq < PER_PRODUCER; seq++)
		if (!put(a->ring, a->id, seq))
			return (void *)1;
	return NULL;
}

/*
 * Six producers, threads and processes, on a ring of four slots: the later
 * ones wait until the slots of producers that ended are handed out again
 * (no producer closes its slot here: the reader finds them gone). Every
 * record is seen once, each producer's in order, all in timestamp order.
 */
START_TEST(test_many_producers)
{
	struct producer_arg args[THREAD_PRODUCERS];
	pid_t pids[PROCESS_PRODUCERS];
	pthread_t threads[THREAD_PRODUCERS];
	__u32 next[MAX_PRODUCERS] = { 0 };
	unsigned int i, seen = 0, total = PER_PRODUCER * (THREAD_PRODUCERS + PROCESS_PRODUCERS);

	make_ring(64 << 10, 0);
	ck_assert_uint_eq(ring.slot_count, 4);
	for (i = 0; i < PROCESS_PRODUCERS; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			/* A child maps the inherited fd itself, as the preload does. */
			struct mh_ring mine;
			struct producer_arg a = { .ring = &mine, .id = THREAD_PRODUCERS + i };

			if (mh_ring_attach(&mine, ring.fd))
				_exit(2);
			_exit(produce(&a) ? 1 : 0);
		}
	}
	for (i = 0; i < THREAD_PRODUCERS; i++) {
		args[i] = (struct producer_arg){ .ring = &ring, .id = i };
		ck_assert_int_eq(pthread_create(&threads[i], NULL, produce, &args[i]), 0);
	}
	while (seen < total) {
		unsigned int got = drain(&ring, next);

		seen += got;
		/* Reaped as the recorder reaps them: a zombie still holds its slot. */
		for (i = 0; i < PROCESS_PRODUCERS; i++) {
			int status;

			if (pids[i] && waitpid(pids[i], &status, WNOHANG) == pids[i]) {
				ck_assert(WIFEXITED(status));
				ck_assert_int_eq(WEXITSTATUS(status), 0);
				pids[i] = 0;
			}
		}
		if (!got)
			mh_ring_wait(&ring, 1000000);
	}
	for (i = 0; i < THREAD_PRODUCERS; i++) {
		void *ret;

		ck_assert_int_eq(pthread_join(threads[i], &ret), 0);
		ck_assert_ptr_null(ret);
	}
	for (i = 0; i < PROCESS_PRODUCERS; i++) {
		int status;

		if (!pids[i])
			continue;
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert(WIFEXITED(status));
		ck_assert_int_eq(WEXITSTATUS(status), 0);
	}
	for (i = 0; i < THREAD_PRODUCERS + PROCESS_PRODUCERS; i++)
		ck_assert_uint_eq(next[i], PER_PRODUCER);
	ck_assert_uint_eq(seen, total);
	ck_assert_uint_eq(drain_all(&ring, next), 0);
	ck_assert_uint_eq(ring.hdr->lost_records, 0);
}
END_TEST

static void *put_and_close(void *arg)
{
	struct producer_arg *a = arg;

	ck_assert(put(a->ring, a->id, 0));
	mh_ring_close_slot(a->ring);
	return NULL;
}

/* A closed slot is handed out again once drained; positions go on from where they were. */
START_TEST(test_closed_slot_reused)
{
	struct producer_arg a = { .ring = &ring, .id = 1 };
	__u32 next[MAX_PRODUCERS] = { 0 };
	__u64 heads[MH_RING_SLOTS_MAX];
	pthread_t t;
	unsigned int freed = 0;

	make_ring(64 << 10, 0);
	ck_assert_int_eq(pthread_create(&t, NULL, put_and_close, &a), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	for (__u32 i = 0; i < ring.slot_count; i++)
		heads[i] = ring.slots[i].head;
	ck_assert_uint_eq(drain_all(&ring, next), 1);
	for (__u32 i = 0; i < ring.slot_count; i++) {
		ck_assert_uint_eq(ring.slots[i].state, MH_SLOT_FREE);
		ck_assert_uint_eq(ring.slots[i].tail, heads[i]);
		freed += heads[i] != 0;
	}
	ck_assert_uint_eq(freed, 1);
	a.id = 2;
	ck_assert_int_eq(pthread_create(&t, NULL, put_and_close, &a), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_uint_eq(drain_all(&ring, next), 1);
	ck_assert_uint_eq(next[2], 1);
}
END_TEST

/* A slot whose head leaves its bounds is dropped; the other slots are read on. */
START_TEST(test_bad_slot_alone)
{
	__u32 next[MAX_PRODUCERS] = { 0 };
	struct producer_arg a = { .ring = &ring, .id = 1 };
	const char *why = NULL;
	unsigned char *buf;
	pthread_t t;
	size_t n;
	int err = 0, bad = -1;

	make_ring(64 << 10, 0);
	ck_assert_int_eq(pthread_create(&t, NULL, put_and_close, &a), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert(put(&ring, 0, 0));
	for (__u32 i = 0; i < ring.slot_count; i++)
		if (ring.slots[i].state == MH_SLOT_CLOSED)
			bad = (int)i;
	ck_assert_int_ge(bad, 0);
	ring.slots[bad].head += 3 * ring.slot_bytes;
	settle(&ring);
	buf = malloc(ring.slot_bytes * ring.slot_count);
	ck_assert_ptr_nonnull(buf);
	do {
		err = mh_ring_read(&ring, buf, ring.slot_bytes, &n, &why);
		mh_ring_release(&ring, n);
	} while (!err && n);
	ck_assert_int_eq(err, -EBADMSG);
	ck_assert_ptr_nonnull(strstr(why, "head outside its slot"));
	ck_assert_uint_eq(ring.slots[bad].state, MH_SLOT_BROKEN);
	free(buf);
	ck_assert_uint_eq(drain_all(&ring, next), 1);
	ck_assert_uint_eq(next[0], 1);
	ck_assert_uint_eq(next[1], 0);
}
END_TEST

/*
 * A record with a sound frame but of a type the preload never writes is
 * refused when taken (the drainer trusts mh_ring_read's check alone):
 * the records before it come out, it does not, and its slot breaks.
 */
START_TEST(test_foreign_type_refused)
{
	size_t n, total = 0, cap = 64 << 10;
	unsigned char *buf = malloc(cap);
	const char *why = NULL;
	struct test_rec *r;
	int err = 0;

	ck_assert_ptr_nonnull(buf);
	make_ring(64 << 10, 0);
	ck_assert(put(&ring, 0, 0));
	r = begin(&ring, 0, 1, sizeof(*r));
	ck_assert_ptr_nonnull(r);
	mh_ring_commit(r, (struct mh_rec_hdr){ .type = 300, .size = sizeof(*r) });
	settle(&ring);
	do {
		err = mh_ring_read(&ring, buf + total, cap - total, &n, &why);
		total += n;
		mh_ring_release(&ring, n);
	} while (!err && n);
	ck_assert_int_eq(err, -EBADMSG);
	ck_assert_ptr_nonnull(strstr(why, "type the preload never writes"));
	ck_assert_uint_eq(total, rec_bytes(0, 0));
	ck_assert_uint_eq(((const struct test_rec *)buf)->seq, 0);
	free(buf);
}
END_TEST

START_TEST(test_consumer_death)
{
	struct filler f = { .ring = &ring };
	pthread_t t;
	pid_t consumer;
	int status;

	make_ring(64 << 10, 0);
	/* A stand-in recorder that never drains, then dies. */
	consumer = fork();
	ck_assert_int_ge(consumer, 0);
	if (consumer == 0) {
		for (;;)
			pause();
	}
	ring.hdr->consumer_pid = (__u32)consumer;
	ck_assert_int_eq(pthread_create(&t, NULL, fill_then_put, &f), 0);
	wait_until_producer_waits(&ring);
	ck_assert(!mh_ring_consumer_gone(&ring));
	ck_assert_int_eq(kill(consumer, SIGKILL), 0);
	ck_assert_int_eq(waitpid(consumer, &status, 0), consumer);
	/* Check's timeout fails the test if the producer hangs here. */
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert(!f.ok);
	ck_assert(mh_ring_consumer_gone(&ring));
	ck_assert_ptr_null(mh_ring_reserve(&ring, 64));
}
END_TEST

START_TEST(test_close_stops_producers)
{
	make_ring(64 << 10, 0);
	ck_assert(put(&ring, 0, 0));
	mh_ring_close(&ring);
	ck_assert(mh_ring_consumer_gone(&ring));
	ck_assert(!put(&ring, 0, 1));
}
END_TEST

/*
 * A process's first thread gets a large slot: with nobody draining, a
 * lossy 4 MiB ring takes 400 KiB of its records without dropping one (a
 * slot of the small size, 128 KiB there, would have dropped most).
 */
START_TEST(test_first_thread_gets_a_large_slot)
{
	__u32 next[MAX_PRODUCERS] = { 0 };
	__u32 seq = 0, seen = 0;
	__u64 written = 0;

	make_ring(4 << 20, MH_RING_LOSSY);
	ck_assert_uint_le(ring.slot_bytes, 128 << 10);
	while (written < (400 << 10)) {
		ck_assert(put(&ring, 0, seq));
		written += rec_bytes(0, seq++);
	}
	ck_assert_uint_eq(ring.hdr->lost_records, 0);
	usleep(2 * MH_RING_SKEW_NS / 1000);	/* past the watermark's margin */
	for (int round = 0; round < 1000 && seen < seq; round++) {
		seen += drain(&ring, next);
		usleep(1000);
	}
	ck_assert_uint_eq(seen, seq);
}
END_TEST

/* A stamp every record of the promotion test carries: only the slots' order can order them. */
#define SAME_STAMP 1000

struct mover {
	struct mh_ring *ring;
	unsigned int count;	/* records to write */
	pid_t tid;
	int done;
};

static void *put_same_stamp(void *arg)
{
	struct mover *m = arg;

	m->tid = (pid_t)gettid();
	for (__u32 seq = 0; seq < m->count; seq++) {
		__u32 bytes = rec_bytes(1, seq);
		struct test_rec *r = begin(m->ring, 1, seq, bytes);

		ck_assert_ptr_nonnull(r);
		r->ts = SAME_STAMP;
		publish(r, bytes);
	}
	__atomic_store_n(&m->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * A thread whose small slot fills moves to a free large one, and its
 * records still come out in its own order: every record here has the same
 * stamp, so the merge's order at equal stamps (the lower slot first, and
 * the large slots come first) would put the large slot's records before
 * the rest of the small one's, unless the small one was drained before
 * the thread wrote into the large one. The records fill the small slot
 * and part of the large one, so a thread that moved without waiting
 * would finish with records in both.
 */
START_TEST(test_promotion_keeps_thread_order)
{
	__u32 next[MAX_PRODUCERS] = { 0 };
	struct mover m = { .ring = &ring };
	unsigned int seen = 0;
	pthread_t t;
	int big = -1;

	make_ring(4 << 20, 0);
	ck_assert_uint_gt(ring.big_bytes, ring.slot_bytes);
	/* This thread takes the process's first large slot, as a main thread does. */
	ck_assert(put(&ring, 0, 0));
	ck_assert_uint_eq(drain_all(&ring, next), 1);
	last_ts = 0;
	for (__u64 bytes = 0; bytes < ring.slot_bytes + ring.big_bytes / 2; m.count++)
		bytes += rec_bytes(1, m.count);
	ck_assert_int_eq(pthread_create(&t, NULL, put_same_stamp, &m), 0);
	while (!__atomic_load_n(&ring.hdr->producer_waits, __ATOMIC_ACQUIRE) &&
	       !__atomic_load_n(&m.done, __ATOMIC_ACQUIRE))
		usleep(1000);
	usleep(10000);
	while (seen < m.count) {
		unsigned int got = drain(&ring, next);

		seen += got;
		if (!got)
			mh_ring_wait(&ring, 1000000);
	}
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_uint_eq(next[1], m.count);
	/* It did move: a large slot other than this thread's is the mover's. */
	for (__u32 i = 1; i < ring.big_count; i++)
		if (ring.slots[i].state == MH_SLOT_CLAIMED && (pid_t)ring.slots[i].tid == m.tid)
			big = (int)i;
	ck_assert_int_ge(big, 1);
	ck_assert_uint_gt(ring.slots[big].head, ring.slot_bytes);
	ck_assert_uint_eq(ring.hdr->producer_waits, 1);
	ck_assert_uint_eq(ring.hdr->lost_records, 0);
}
END_TEST

static Suite *ring_suite(void)
{
	Suite *s = suite_create("ring");
	TCase *core = tcase_create("Core");
	TCase *limits = tcase_create("Limits");

	tcase_add_checked_fixture(core, NULL, ring_teardown);
	tcase_add_test(core, test_wraparound);
	tcase_add_test(core, test_events_of_any_size);
	tcase_add_test(core, test_busy_holds_back);
	tcase_add_test(core, test_passes_paced);
	tcase_add_test(core, test_many_producers);
	tcase_add_test(core, test_closed_slot_reused);
	tcase_add_test(core, test_bad_slot_alone);
	tcase_add_test(core, test_foreign_type_refused);
	tcase_add_test(core, test_first_thread_gets_a_large_slot);
	tcase_add_test(core, test_promotion_keeps_thread_order);
	suite_add_tcase(s, core);

	tcase_add_checked_fixture(limits, NULL, ring_teardown);
	tcase_add_test(limits, test_full_lossless_waits);
	tcase_add_test(limits, test_full_lossy_counts);
	tcase_add_test(limits, test_consumer_death);
	tcase_add_test(limits, test_close_stops_producers);
	suite_add_tcase(s, limits);
	return s;
}

int main(void)
{
	return mh_test_run_suite(ring_suite());
}
