// SPDX-License-Identifier: MIT
/*
 * check_ring_merge.c - the recorder's merge of the event ring's slots
 * (recorder/ring_consumer.c) on the records the preload writes most:
 * allocation events, with stack records between them, wrapping their
 * slots, merged in the order ring.h gives (merge key, a FREE before the
 * rest on a tie, then the lower slot) whatever the room each read is
 * given; an event record shorter than its type breaks its slot alone,
 * the records before it handed out; and records a pass that was asked
 * for held back by the watermark come out as soon as the watermark can
 * pass them, not a pass period later.
 *
 * The slots are written here directly, as a program could write them, so
 * that stamps tie on purpose. The oracle is that order, computed from
 * what was written.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "recorder/ring_consumer.h"
#include "tests/testutil.h"
#include "trace/records.h"

/* Slots written to, records each, and records per round (between drains). */
#define SLOTS 3
#define PER_SLOT 3000
#define PER_ROUND 100

/* A written record: its merge key and tie rank. */
struct sent {
	__u64 key;
	__u8 rank;
};

static struct mh_ring ring;
static __u64 pos[SLOTS];	/* each slot's producer position */
static __u64 last_key[SLOTS];
static struct sent sent[SLOTS][PER_SLOT];
static __u32 nsent[SLOTS];	/* records written to each slot */
static unsigned int seed = 1;

/* Each test starts with empty slots. */
static void fresh(void)
{
	memset(pos, 0, sizeof(pos));
	memset(last_key, 0, sizeof(last_key));
	memset(nsent, 0, sizeof(nsent));
	seed = 1;
	ck_assert_int_eq(mh_ring_create(&ring, 64 << 10, 0), 0);
}

static void teardown(void)
{
	mh_ring_destroy(&ring);
}

static unsigned int rnd(void)
{
	seed = seed * 1103515245u + 12345u;
	return seed >> 16;
}

/* Append a record to slot i, with a wrap mark first if it would cross the slot's end. */
static void append(__u32 i, const void *rec, __u32 size)
{
	__u64 slot = mh_ring_slot_size(&ring, i), off = pos[i] & (slot - 1);
	unsigned char *data = mh_ring_slot_data(&ring, i);

	if (off + size > slot) {
		memset(data + off, 0, sizeof(struct mh_rec_hdr));
		pos[i] += slot - off;
		off = 0;
	}
	memcpy(data + off, rec, size);
	pos[i] += size;
}

/*
 * Write the next record of slot i: mostly an event stamped at or a little
 * after a shared clock (ties across slots), sometimes one stamped earlier
 * than the slot's last (its key stays the slot's), sometimes a stack
 * record.
 */
static void put(__u32 i, __u64 *clock)
{
	/* Room for the longest: a REALLOC, or a stack record of three frames. */
	unsigned char rec[sizeof(struct mh_rec_realloc)] = { 0 };
	struct mh_rec_alloc *a = (void *)rec;
	unsigned int pick = rnd() % 20;
	__u32 seq = nsent[i]++;
	struct sent *s = &sent[i][seq];
	__u64 ts;

	*clock += rnd() % 3;
	ts = rnd() % 10 ? *clock : *clock - rnd() % 5;
	if (pick == 0) {
		struct mh_rec_stack *st = (void *)rec;

		st->hdr = (struct mh_rec_hdr){ .type = MH_REC_STACK,
					       .size = sizeof(*st) + 3 * sizeof(__u64) };
		st->depth = 3;
		s->rank = 0;
	} else {
		__u16 type = pick < 9 ? MH_REC_ALLOC : pick < 18 ? MH_REC_FREE : MH_REC_REALLOC;

		a->hdr = (struct mh_rec_hdr){ .type = type, .size = mh_rec_min_size(type) };
		a->ts_ns = ts;
		last_key[i] = ts > last_key[i] ? ts : last_key[i];
		s->rank = type == MH_REC_FREE ? 1 : 2;
	}
	/* Who wrote it, in a word every type has past its header: the payload the test reads back. */
	memcpy(rec + a->hdr.size - sizeof(__u64), &(__u64){ (__u64)i << 32 | seq }, sizeof(__u64));
	s->key = last_key[i];
	append(i, rec, a->hdr.size);
}

/*
 * The record that comes next (ring.h): of the next record of each slot,
 * the one of the lowest key, then rank, then slot. Returns its slot, its
 * seq in *seq, or -1 when every slot's records up to its nsent are out.
 */
static int expect(__u32 *taken, __u32 *seq)
{
	int best = -1;

	for (__u32 i = 0; i < SLOTS; i++) {
		const struct sent *s, *b;

		if (taken[i] == nsent[i])
			continue;
		s = &sent[i][taken[i]];
		b = best < 0 ? NULL : &sent[best][taken[best]];
		if (!b || s->key < b->key || (s->key == b->key && s->rank < b->rank))
			best = (int)i;
	}
	if (best >= 0)
		*seq = taken[best]++;
	return best;
}

/* Read one pass with the room given out in odd amounts; check each record against expect(). */
static void drain(__u32 *taken, unsigned char *buf)
{
	static const size_t caps[] = { 1, 40, 100, 4096, 64 << 10 };
	unsigned int reads = 0;
	const char *why;
	size_t n;

	__atomic_store_n(&ring.hdr->pass_wanted, 1, __ATOMIC_SEQ_CST);
	do {
		ck_assert_int_eq(mh_ring_read(&ring, buf, caps[reads++ % 5], &n, &why), 0);
		for (size_t off = 0; off < n;) {
			const struct mh_rec_hdr *h = (const void *)(buf + off);
			int slot;
			__u32 seq = 0;
			__u64 who;

			memcpy(&who, buf + off + h->size - sizeof(who), sizeof(who));
			slot = expect(taken, &seq);
			if (slot < 0 || who != ((__u64)slot << 32 | seq))
				ck_abort_msg("got slot %u seq %u, not slot %d seq %u",
					     (unsigned int)(who >> 32), (unsigned int)who, slot, seq);
			off += h->size;
		}
		mh_ring_release(&ring, n);
	} while (n);
}

/*
 * Rounds of records in three slots, each drained before the next: what
 * comes out is every record once, in the merge order, slots wrapped many
 * times over.
 */
START_TEST(test_events_merge_in_order)
{
	unsigned char *buf = malloc(64 << 10);
	__u32 taken[SLOTS] = { 0 }, seq;
	__u64 clock = 1000;

	ck_assert_ptr_nonnull(buf);
	for (__u32 i = 0; i < SLOTS; i++)
		ring.slots[i].state = MH_SLOT_CLAIMED;
	for (unsigned int round = 0; round < PER_SLOT / PER_ROUND; round++) {
		for (unsigned int k = 0; k < PER_ROUND * SLOTS; k++) {
			__u32 i = rnd() % SLOTS;

			if (nsent[i] < PER_SLOT)
				put(i, &clock);
		}
		for (__u32 i = 0; i < SLOTS; i++)
			__atomic_store_n(&ring.slots[i].head, pos[i], __ATOMIC_RELEASE);
		/* All stamped long ago: the whole round is below the watermark. */
		drain(taken, buf);
		ck_assert_int_lt(expect(taken, &seq), 0);
	}
	ck_assert_uint_gt(pos[0], 5 * mh_ring_slot_size(&ring, 0));
	free(buf);
}
END_TEST

/*
 * An ALLOC record shorter than its type, between sound ones: the ones
 * before it come out, it and those after it do not, the slot is broken
 * and says why, and the other slot is read to its end.
 */
START_TEST(test_short_event_breaks_its_slot)
{
	unsigned char *buf = malloc(64 << 10);
	struct mh_rec_alloc bad = { .hdr = { .type = MH_REC_ALLOC, .size = 40 }, .ts_ns = 1 };
	size_t n, off, total = 0;
	unsigned int out = 0;
	const char *why = NULL;
	__u64 clock = 1000;
	int err;

	ck_assert_ptr_nonnull(buf);
	ring.slots[0].state = MH_SLOT_CLAIMED;
	ring.slots[1].state = MH_SLOT_CLAIMED;
	/* Slot 0's stamped first: the bad record comes in the middle of a run of its slot. */
	for (unsigned int k = 0; k < 10; k++)
		put(0, &clock);
	append(0, &bad, bad.hdr.size);
	put(0, &clock);
	for (unsigned int k = 0; k < 10; k++)
		put(1, &clock);
	ring.slots[0].head = pos[0];
	ring.slots[1].head = pos[1];
	__atomic_store_n(&ring.hdr->pass_wanted, 1, __ATOMIC_SEQ_CST);
	do {
		err = mh_ring_read(&ring, buf + total, (64 << 10) - total, &n, &why);
		total += n;
		mh_ring_release(&ring, n);
	} while (!err && n);
	ck_assert_int_eq(err, -EBADMSG);
	ck_assert_ptr_nonnull(strstr(why, "record shorter than its type"));
	ck_assert_uint_eq(ring.slots[0].state, MH_SLOT_BROKEN);
	do {
		ck_assert_int_eq(mh_ring_read(&ring, buf + total, (64 << 10) - total, &n, &why), 0);
		total += n;
		mh_ring_release(&ring, n);
	} while (n);
	for (off = 0; off < total; out++) {
		const struct mh_rec_hdr *h = (const void *)(buf + off);
		__u64 who;

		memcpy(&who, buf + off + h->size - sizeof(who), sizeof(who));
		ck_assert_uint_ne(who, 10);	/* slot 0's record past the bad one */
		off += h->size;
	}
	ck_assert_uint_eq(out, 20);
	ck_assert_uint_eq(ring.slots[1].tail, pos[1]);
	free(buf);
}
END_TEST

/*
 * Two FREEs, stamped half a skew ago and now, the pass asked for (as an
 * exit-scan request asks): the watermark, now less the clocks' skew,
 * holds both back. Read as the drainer reads (again at once), both come
 * out within half a pass period (MH_RING_PASS_PERIOD_MS): the pass that
 * follows passes every record there was when the one asked for began,
 * not only the first one it held, and a process waiting for the answer
 * to its request no longer waits a period.
 */
START_TEST(test_held_records_of_a_wanted_pass_come_soon)
{
	struct mh_rec_free rec = { .hdr = { .type = MH_REC_FREE, .size = sizeof(rec) } };
	unsigned char buf[2 * sizeof(rec)];
	size_t n, got = 0;
	const char *why;
	__u64 now, deadline, began;

	ring.slots[0].state = MH_SLOT_CLAIMED;
	/* A pass on nothing first: the one asked for then begins within microseconds of now. */
	__atomic_store_n(&ring.hdr->pass_wanted, 1, __ATOMIC_SEQ_CST);
	ck_assert_int_eq(mh_ring_read(&ring, buf, sizeof(buf), &n, &why), 0);
	now = mh_clock_now_ns();
	rec.ts_ns = now - MH_RING_SKEW_NS / 2;
	append(0, &rec, sizeof(rec));
	rec.ts_ns = now;
	append(0, &rec, sizeof(rec));
	deadline = now + MH_RING_PASS_PERIOD_MS * 1000000ULL / 2;
	__atomic_store_n(&ring.slots[0].head, pos[0], __ATOMIC_RELEASE);
	__atomic_store_n(&ring.hdr->pass_wanted, 1, __ATOMIC_SEQ_CST);
	/* Until a read that began past the deadline: a preemption after a read proves nothing. */
	do {
		began = mh_clock_now_ns();
		ck_assert_int_eq(mh_ring_read(&ring, buf + got, sizeof(buf) - got, &n, &why), 0);
		mh_ring_release(&ring, n);
		got += n;
	} while (got < sizeof(buf) && began < deadline);
	ck_assert_uint_eq(got, sizeof(buf));
}
END_TEST

static Suite *ring_merge_suite(void)
{
	Suite *s = suite_create("ring_merge");
	TCase *tc = tcase_create("Core");

	tcase_add_checked_fixture(tc, fresh, teardown);
	tcase_add_test(tc, test_events_merge_in_order);
	tcase_add_test(tc, test_short_event_breaks_its_slot);
	tcase_add_test(tc, test_held_records_of_a_wanted_pass_come_soon);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mh_test_run_suite(ring_merge_suite());
}
