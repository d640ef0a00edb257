// SPDX-License-Identifier: MIT
/*
 * check_ring.c - the event ring (preload/ring.c): records survive the wrap
 * point intact, a full ring makes lossless producers wait and lossy ones
 * drop and count exactly, concurrent producers (threads and processes)
 * each have every record seen once and in order, and a producer whose
 * consumer died stops waiting instead of hanging.
 *
 * The oracle is the producers' own knowledge: each record carries its
 * producer id, a sequence number and a payload derived from both.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "preload/ring.h"
#include "recorder/ring_consumer.h"
#include "tests/testutil.h"

/* A test record: header, producer, sequence, then filler words. */
struct test_rec {
	struct mh_rec_hdr hdr;
	__u32 producer;
	__u32 seq;
	/* __u64 fill[]; each word = producer * 1000003 + seq + index */
};

static __u64 fill_word(__u32 producer, __u32 seq, unsigned int i)
{
	return (__u64)producer * 1000003u + seq + i;
}

/* Size of record seq of a producer: 16 bytes plus 0..30 filler words. */
static __u32 rec_bytes(__u32 producer, __u32 seq)
{
	return sizeof(struct test_rec) + 8 * ((seq * 7 + producer) % 31);
}

/* Write one record; false if the ring refused it. */
static bool put(struct mh_ring *ring, __u32 producer, __u32 seq)
{
	__u32 bytes = rec_bytes(producer, seq);
	struct test_rec *r = mh_ring_reserve(ring, bytes);
	__u64 *fill;
	unsigned int i;

	if (!r)
		return false;
	r->producer = producer;
	r->seq = seq;
	fill = (__u64 *)(r + 1);
	for (i = 0; i < (bytes - sizeof(*r)) / 8; i++)
		fill[i] = fill_word(producer, seq, i);
	mh_ring_commit(r, (struct mh_rec_hdr){ .type = MH_REC_INFO, .size = bytes });
	return true;
}

#define MAX_PRODUCERS 8

/* Drain what is committed, checking each record; returns records seen. */
static unsigned int drain(struct mh_ring *ring, __u32 *next_seq)
{
	const unsigned char *p;
	size_t bytes, off = 0;
	unsigned int n = 0;

	p = mh_test_ring_peek(ring, &bytes);
	while (off < bytes) {
		const struct test_rec *r = (const void *)(p + off);
		const __u64 *fill = (const __u64 *)(r + 1);
		unsigned int i;

		ck_assert_uint_lt(r->producer, MAX_PRODUCERS);
		ck_assert_uint_eq(r->seq, next_seq[r->producer]);
		ck_assert_uint_eq(r->hdr.size, rec_bytes(r->producer, r->seq));
		for (i = 0; i < (r->hdr.size - sizeof(*r)) / 8; i++)
			ck_assert_uint_eq(fill[i], fill_word(r->producer, r->seq, i));
		next_seq[r->producer]++;
		off += r->hdr.size;
		n++;
	}
	mh_ring_release(ring, bytes);
	return n;
}

static struct mh_ring ring;

static void ring_teardown(void)
{
	mh_ring_unmap(&ring);
}

static void make_ring(__u64 data_bytes, __u32 flags)
{
	ck_assert_int_eq(mh_ring_create(&ring, data_bytes, flags), 0);
}

START_TEST(test_wraparound)
{
	__u32 next[MAX_PRODUCERS] = { 0 };
	__u32 seq = 0, seen = 0, total = 100000;
	size_t left;
	long page = sysconf(_SC_PAGESIZE);

	make_ring((__u64)page, 0);
	while (seq < total) {
		/* Fill in uneven batches so records straddle the wrap point. */
		unsigned int batch = 1 + seq % 13;

		while (batch-- && seq < total)
			ck_assert(put(&ring, 0, seq++));
		seen += drain(&ring, next);
	}
	seen += drain(&ring, next);
	ck_assert_uint_eq(seen, total);
	ck_assert_uint_eq(next[0], total);
	ck_assert_uint_gt(ring.hdr->head, 10 * ring.hdr->data_bytes);
	mh_test_ring_peek(&ring, &left);
	ck_assert_uint_eq(left, 0);
	ck_assert_uint_eq(mh_ring_pending_bytes(&ring), 0);
}
END_TEST

START_TEST(test_uncommitted_stops_peek)
{
	size_t bytes;
	void *r1, *r2;

	make_ring((__u64)sysconf(_SC_PAGESIZE), 0);
	r1 = mh_ring_reserve(&ring, 16);
	r2 = mh_ring_reserve(&ring, 24);
	ck_assert_ptr_nonnull(r1);
	ck_assert_ptr_nonnull(r2);
	mh_ring_commit(r2, (struct mh_rec_hdr){ .type = MH_REC_INFO, .size = 24 });
	mh_test_ring_peek(&ring, &bytes);
	ck_assert_uint_eq(bytes, 0);
	ck_assert_uint_eq(mh_ring_pending_bytes(&ring), 40);
	mh_ring_commit(r1, (struct mh_rec_hdr){ .type = MH_REC_INFO, .size = 16 });
	mh_test_ring_peek(&ring, &bytes);
	ck_assert_uint_eq(bytes, 40);
	ck_assert_uint_eq(mh_ring_pending_bytes(&ring), 0);
}
END_TEST

struct blocked_producer {
	struct mh_ring *ring;
	int done;
	bool ok;
};

static void *blocked_put(void *arg)
{
	struct blocked_producer *b = arg;

	b->ok = put(b->ring, 1, 0);
	__atomic_store_n(&b->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Fill the ring exactly with 64-byte records; returns how many. */
static unsigned int fill_ring(struct mh_ring *r)
{
	unsigned int i, n = (unsigned int)(r->hdr->data_bytes / 64);

	for (i = 0; i < n; i++) {
		void *rec = mh_ring_reserve(r, 64);

		ck_assert_ptr_nonnull(rec);
		mh_ring_commit(rec, (struct mh_rec_hdr){ .type = MH_REC_INFO, .size = 64 });
	}
	return n;
}

static void wait_until_producer_waits(struct mh_ring *r)
{
	while (!__atomic_load_n(&r->hdr->producer_waits, __ATOMIC_ACQUIRE))
		usleep(1000);
}

START_TEST(test_full_lossless_waits)
{
	struct blocked_producer b = { .ring = &ring };
	__u32 next[MAX_PRODUCERS] = { 0 };
	pthread_t t;
	size_t bytes;

	make_ring((__u64)sysconf(_SC_PAGESIZE), 0);
	fill_ring(&ring);
	ck_assert_int_eq(pthread_create(&t, NULL, blocked_put, &b), 0);
	wait_until_producer_waits(&ring);
	/* It waits for the tail, which has not moved: it cannot have finished. */
	ck_assert_int_eq(__atomic_load_n(&b.done, __ATOMIC_ACQUIRE), 0);
	mh_test_ring_peek(&ring, &bytes);
	ck_assert_uint_eq(bytes, ring.hdr->data_bytes);
	mh_ring_release(&ring, bytes);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert(b.ok);
	next[1] = 0;
	ck_assert_uint_eq(drain(&ring, next), 1);
	ck_assert_uint_eq(ring.hdr->lost_records, 0);
}
END_TEST

START_TEST(test_full_lossy_counts)
{
	unsigned int i, n, dropped = 37;
	size_t bytes;

	make_ring((__u64)sysconf(_SC_PAGESIZE), MH_RING_LOSSY);
	n = fill_ring(&ring);
	for (i = 0; i < dropped; i++)
		ck_assert_ptr_null(mh_ring_reserve(&ring, 8 * (1 + i % 4)));
	ck_assert_uint_eq(ring.hdr->lost_records, dropped);
	ck_assert_uint_eq(ring.hdr->producer_waits, 0);
	mh_test_ring_peek(&ring, &bytes);
	ck_assert_uint_eq(bytes, (size_t)n * 64);
	mh_ring_release(&ring, 64);
	ck_assert_ptr_nonnull(mh_ring_reserve(&ring, 64));
	ck_assert_ptr_null(mh_ring_reserve(&ring, 8));
	ck_assert_uint_eq(ring.hdr->lost_records, dropped + 1);
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

START_TEST(test_many_producers)
{
	struct producer_arg args[THREAD_PRODUCERS];
	pid_t pids[PROCESS_PRODUCERS];
	pthread_t threads[THREAD_PRODUCERS];
	__u32 next[MAX_PRODUCERS] = { 0 };
	unsigned int i, seen = 0, total = PER_PRODUCER * (THREAD_PRODUCERS + PROCESS_PRODUCERS);

	make_ring(64 << 10, 0);
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
	while (seen < total)
		seen += drain(&ring, next);
	for (i = 0; i < THREAD_PRODUCERS; i++) {
		void *ret;

		ck_assert_int_eq(pthread_join(threads[i], &ret), 0);
		ck_assert_ptr_null(ret);
	}
	for (i = 0; i < PROCESS_PRODUCERS; i++) {
		int status;

		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert(WIFEXITED(status));
		ck_assert_int_eq(WEXITSTATUS(status), 0);
	}
	for (i = 0; i < THREAD_PRODUCERS + PROCESS_PRODUCERS; i++)
		ck_assert_uint_eq(next[i], PER_PRODUCER);
	ck_assert_uint_eq(seen, total);
	ck_assert_uint_eq(drain(&ring, next), 0);
	ck_assert_uint_eq(ring.hdr->lost_records, 0);
}
END_TEST

START_TEST(test_consumer_death)
{
	struct blocked_producer b = { .ring = &ring };
	pthread_t t;
	pid_t consumer;
	int status;

	make_ring((__u64)sysconf(_SC_PAGESIZE), 0);
	/* A stand-in recorder that never drains, then dies. */
	consumer = fork();
	ck_assert_int_ge(consumer, 0);
	if (consumer == 0) {
		for (;;)
			pause();
	}
	ring.hdr->consumer_pid = (__u32)consumer;
	fill_ring(&ring);
	ck_assert_int_eq(pthread_create(&t, NULL, blocked_put, &b), 0);
	wait_until_producer_waits(&ring);
	ck_assert(!mh_ring_consumer_gone(&ring));
	ck_assert_int_eq(kill(consumer, SIGKILL), 0);
	ck_assert_int_eq(waitpid(consumer, &status, 0), consumer);
	/* Check's timeout fails the test if the producer hangs here. */
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert(!b.ok);
	ck_assert(mh_ring_consumer_gone(&ring));
	ck_assert_ptr_null(mh_ring_reserve(&ring, 16));
}
END_TEST

START_TEST(test_close_stops_producers)
{
	make_ring((__u64)sysconf(_SC_PAGESIZE), 0);
	ck_assert(put(&ring, 0, 0));
	mh_ring_close(&ring);
	ck_assert(mh_ring_consumer_gone(&ring));
	ck_assert(!put(&ring, 0, 1));
}
END_TEST

START_TEST(test_attach_rejects_garbage)
{
	struct mh_ring other;
	int fd = memfd_create("not-a-ring", 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 1 << 20), 0);
	ck_assert_int_eq(mh_ring_attach(&other, fd), -EPROTO);
	close(fd);
	ck_assert_int_eq(mh_ring_create(&other, 3 << 12, 0), -EINVAL);
	ck_assert_int_eq(mh_ring_attach(&other, -1), -EBADF);
	mh_ring_unmap(&other);
}
END_TEST

static Suite *ring_suite(void)
{
	Suite *s = suite_create("ring");
	TCase *core = tcase_create("Core");
	TCase *limits = tcase_create("Limits");

	tcase_add_checked_fixture(core, NULL, ring_teardown);
	tcase_add_test(core, test_wraparound);
	tcase_add_test(core, test_uncommitted_stops_peek);
	tcase_add_test(core, test_many_producers);
	suite_add_tcase(s, core);

	tcase_add_checked_fixture(limits, NULL, ring_teardown);
	tcase_add_test(limits, test_full_lossless_waits);
	tcase_add_test(limits, test_full_lossy_counts);
	tcase_add_test(limits, test_consumer_death);
	tcase_add_test(limits, test_close_stops_producers);
	tcase_add_test(limits, test_attach_rejects_garbage);
	suite_add_tcase(s, limits);
	return s;
}

int main(void)
{
	return mh_test_run_suite(ring_suite());
}
