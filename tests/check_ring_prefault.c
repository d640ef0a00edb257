// SPDX-License-Identifier: MIT
/*
 * check_ring_prefault.c - the pages of its slot of the event ring a
 * thread touches: its first lap is mapped ahead of its writes
 * (preload/ring.c, prefault), not faulted in page by page, and while the
 * consumer keeps up it cuts its laps short (reuse) and stays in the
 * slot's first part, its records intact and in order, until it has had to
 * wait for room.
 *
 * Oracle: the kernel's count of the thread's page faults, a software perf
 * event, which counts traps only (not the pages MADV_POPULATE_WRITE maps);
 * for the cut laps, the slot's head against the bytes written, and each
 * record's sequence number as the consumer reads it.
 */
#include <check.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "preload/ring.h"
#include "recorder/ring_consumer.h"
#include "tests/testutil.h"

/* A record the consumer would take (type THREAD, 40 bytes and up). */
#define REC_BYTES 128U

/*
 * bytes of records into a fresh slot of a ring of ring_bytes: a page
 * fault at a few step marks at most, not one per page. The page faults
 * the thread took, or -1 if they cannot be counted.
 */
static long faults_writing(__u64 ring_bytes, __u64 slot_bytes, __u64 bytes)
{
	struct perf_event_attr pe = { .type = PERF_TYPE_SOFTWARE, .size = sizeof(pe),
				      .config = PERF_COUNT_SW_PAGE_FAULTS, .exclude_kernel = 1,
				      .exclude_hv = 1 };
	struct mh_ring ring;
	__u64 written, faults = 0;
	int fd;

	ck_assert_int_eq(mh_ring_create(&ring, ring_bytes, MH_RING_LOSSY), 0);
	ck_assert_uint_eq(ring.big_bytes, slot_bytes);
	fd = (int)syscall(SYS_perf_event_open, &pe, 0, -1, -1, 0);
	if (fd < 0) {
		mh_ring_destroy(&ring);
		return -1;
	}
	for (written = 0; written < bytes; written += REC_BYTES) {
		unsigned char *r = mh_ring_reserve(&ring, REC_BYTES);

		ck_assert_ptr_nonnull(r);
		memset(r + sizeof(struct mh_rec_hdr), 0x5a, REC_BYTES - sizeof(struct mh_rec_hdr));
		mh_ring_commit(r, (struct mh_rec_hdr){ .type = MH_REC_THREAD, .size = REC_BYTES });
	}
	ck_assert_int_eq(read(fd, &faults, sizeof(faults)), sizeof(faults));
	close(fd);
	ck_assert_uint_eq(ring.hdr->lost_records, 0);
	mh_ring_close_slot(&ring);
	mh_ring_destroy(&ring);
	return (long)faults;
}

/* 1.5 MiB into a 2 MiB slot (wake marks 256 KiB apart): not one fault per page (384). */
START_TEST(test_first_lap_prefaulted)
{
	long faults = faults_writing(16 << 20, 2 << 20, 3 << 19);

	if (faults < 0)
		mh_test_skip("first_lap_prefaulted", "perf_event_open refused");
	else
		ck_assert_int_lt(faults, 64);
}
END_TEST

/*
 * 3 MiB into the 8 MiB slot of a default ring (wake marks 1 MiB apart):
 * mapped in steps within a wake mark's stretch too, not from the first
 * step's end on page by page (768 pages of the first stretch).
 */
START_TEST(test_first_lap_prefaulted_big_slot)
{
	long faults = faults_writing(MH_RING_DEFAULT_DATA_BYTES, 8 << 20, 3 << 20);

	if (faults < 0)
		mh_test_skip("first_lap_prefaulted_big_slot", "perf_event_open refused");
	else
		ck_assert_int_lt(faults, 64);
}
END_TEST

/* Read every record the consumer lets through; each must carry the next sequence number. */
static __u64 drain(struct mh_ring *ring, __u64 next)
{
	const unsigned char *p;
	size_t bytes, off;

	do {
		__atomic_store_n(&ring->hdr->pass_wanted, 1, __ATOMIC_SEQ_CST);
		usleep(2 * MH_RING_SKEW_NS / 1000);	/* past the watermark's margin */
		p = mh_test_ring_peek(ring, &bytes);
		for (off = 0; off < bytes; off += REC_BYTES) {
			__u64 seq;

			memcpy(&seq, p + off + sizeof(struct mh_rec_hdr) + sizeof(__u64), sizeof(seq));
			if (seq != next)
				ck_abort_msg("record %llu where %llu was due", (unsigned long long)seq,
					     (unsigned long long)next);
			next++;
		}
		mh_ring_release(ring, bytes);
	} while (bytes);
	return next;
}

/* Put record number seq (its stamp seq + 1) into the calling thread's slot. */
static void put_seq(struct mh_ring *ring, __u64 seq)
{
	unsigned char *r = mh_ring_reserve(ring, REC_BYTES);
	__u64 ts = seq + 1;

	ck_assert_ptr_nonnull(r);
	memset(r + sizeof(struct mh_rec_hdr), 0, REC_BYTES - sizeof(struct mh_rec_hdr));
	memcpy(r + sizeof(struct mh_rec_hdr), &ts, sizeof(ts));
	memcpy(r + sizeof(struct mh_rec_hdr) + sizeof(ts), &seq, sizeof(seq));
	mh_ring_commit(r, (struct mh_rec_hdr){ .type = MH_REC_THREAD, .size = REC_BYTES });
}

/*
 * 3 MiB of records into the first thread's 8 MiB slot of a default ring,
 * drained every 64 KiB if drained, else at the end: every record comes
 * out, in order. Returns the slot's head after the writes.
 */
static __u64 write_three_mib(__u32 flags, bool drained)
{
	struct mh_ring ring;
	__u64 seq = 0, read = 0, head = 0;

	ck_assert_int_eq(mh_ring_create(&ring, MH_RING_DEFAULT_DATA_BYTES, flags), 0);
	ck_assert_uint_eq(ring.big_bytes, 8 << 20);
	while (seq * REC_BYTES < (3 << 20)) {
		put_seq(&ring, seq);
		if (++seq % ((64 << 10) / REC_BYTES) == 0 && drained)
			read = drain(&ring, read);
	}
	for (__u32 i = 0; i < ring.slot_count; i++)
		if (ring.slots[i].state == MH_SLOT_CLAIMED)
			head = ring.slots[i].head;
	ck_assert_uint_eq(drain(&ring, read), seq);
	ck_assert_uint_eq(ring.hdr->lost_records, 0);
	mh_ring_close_slot(&ring);
	mh_ring_destroy(&ring);
	return head;
}

/*
 * A thread whose consumer keeps up cuts its laps short: it stays in the
 * first MiB or so of its slot, so its head passes the slot's size long
 * before it wrote that much.
 */
START_TEST(test_lap_cut_short_when_drained)
{
	ck_assert_uint_ge(write_three_mib(0, true), 8 << 20);
}
END_TEST

/* A thread whose consumer lags goes on through its slot, as it has room there. */
START_TEST(test_lap_whole_when_behind)
{
	ck_assert_uint_lt(write_three_mib(0, false), 8 << 20);
}
END_TEST

/*
 * The offset into its slot at which the calling thread's next lap ends,
 * writing records (numbered from *seq on) while the consumer keeps up
 * (drained every 64 KiB, *read the next number due).
 */
static __u64 next_lap_end(struct mh_ring *ring, __u64 *seq, __u64 *read)
{
	for (;;) {
		__u64 before = mh_ring_me.head;

		put_seq(ring, (*seq)++);
		if (mh_ring_me.head - before > REC_BYTES)
			return before & (mh_ring_me.bytes - 1);
		if (*seq % ((64 << 10) / REC_BYTES) == 0)
			*read = drain(ring, *read);
	}
}

/* A consumer that takes nothing until the producer waits, then all there is. */
struct late_consumer {
	struct mh_ring *ring;
	__u64 read;		/* the record number due next */
};

static void *drain_once_waited(void *arg)
{
	struct late_consumer *c = arg;

	while (!__atomic_load_n(&c->ring->hdr->producer_waits, __ATOMIC_ACQUIRE))
		usleep(1000);
	c->read = drain(c->ring, c->read);
	return NULL;
}

/*
 * A thread that had to wait for room cuts its next laps twice as far
 * into its slot (2 MiB): right after a cut its room is what the consumer
 * took of the lap, and a thread that outran that once would again. The
 * same thread, fresh, cuts them at the first MiB or so.
 */
START_TEST(test_lap_cut_later_after_a_wait)
{
	struct mh_ring ring;
	struct late_consumer late = { &ring, 0 };
	__u64 seq = 0, read = 0, fresh;
	pthread_t consumer;

	ck_assert_int_eq(mh_ring_create(&ring, MH_RING_DEFAULT_DATA_BYTES, 0), 0);
	fresh = next_lap_end(&ring, &seq, &read);
	ck_assert_uint_ge(fresh, 1 << 20);
	ck_assert_uint_lt(fresh, 2 << 20);
	late.read = drain(&ring, read);
	ck_assert_int_eq(pthread_create(&consumer, NULL, drain_once_waited, &late), 0);
	while (!__atomic_load_n(&ring.hdr->producer_waits, __ATOMIC_ACQUIRE))
		put_seq(&ring, seq++);
	ck_assert_int_eq(pthread_join(consumer, NULL), 0);
	read = drain(&ring, late.read);
	ck_assert_uint_ge(next_lap_end(&ring, &seq, &read), 2 << 20);
	ck_assert_uint_eq(drain(&ring, read), seq);
	ck_assert_uint_eq(ring.hdr->lost_records, 0);
	mh_ring_close_slot(&ring);
	mh_ring_destroy(&ring);
}
END_TEST

/* A lossy ring's laps are whole: its records are dropped, not waited for. */
START_TEST(test_lap_whole_when_lossy)
{
	ck_assert_uint_lt(write_three_mib(MH_RING_LOSSY, true), 8 << 20);
}
END_TEST

static Suite *prefault_suite(void)
{
	Suite *s = suite_create("ring_prefault");
	TCase *tc = tcase_create("Prefault");

	tcase_add_test(tc, test_first_lap_prefaulted);
	tcase_add_test(tc, test_first_lap_prefaulted_big_slot);
	tcase_add_test(tc, test_lap_cut_short_when_drained);
	tcase_add_test(tc, test_lap_whole_when_behind);
	tcase_add_test(tc, test_lap_cut_later_after_a_wait);
	tcase_add_test(tc, test_lap_whole_when_lossy);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mh_test_run_suite(prefault_suite());
}
