// SPDX-License-Identifier: MIT
/*
 * check_clock.c - the preload's timestamps (preload/clock.c): every value
 * lies between two clock_gettime(CLOCK_MONOTONIC) readings taken around
 * it, give or take a few microseconds, from before the TSC rate is
 * calibrated through many per-thread refreshes, in several threads; and
 * within a thread it never goes back, fenced read or not. Across threads: a stamp taken after
 * seeing another thread's stamp is never below it (the cross-thread order
 * of a free and another thread's reuse of the address rests on it).
 *
 * Oracles: clock_gettime itself, the clock the kernel's records use; and
 * causality (a thread that read a value another thread stored after its
 * stamp reads the clock later).
 */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "memhook/ring.h"
#include "common/tsc.h"
#include "preload/clock.h"
#include "tests/testutil.h"

/*
 * How far a converted TSC reading may stray from clock_gettime, in ns:
 * half the ring's watermark margin (MH_RING_SKEW_NS, 20 us), which is
 * what the recorder's order relies on. Re-anchoring slews by a few us at
 * most, but a re-anchoring thread preempted on a loaded machine has been
 * seen 6 us off once in 20 runs.
 */
#define SLACK_NS (MH_RING_SKEW_NS / 2)
/* Readings per thread, and how many of them sleep first (to force refreshes). */
#define READINGS 20000
#define SLEEP_EVERY 50
#define SLEEP_NS 300000L
#define THREADS 2

static __u64 gettime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* The reads under test: the fenced one, and the one for single-threaded processes. */
static __u64 (*const reads[])(void) = { mh_clock_ns, mh_clock_ns_unordered };
static __u64 (*read_clock)(void);

struct result {
	unsigned long out_of_bounds;	/* readings outside [before - slack, after + slack] */
	unsigned long backwards;	/* readings below the previous one */
	long long worst_ns;		/* largest distance outside the bounds */
};

/* READINGS readings, sleeping now and then so the base ages past its refresh period. */
static void *read_many(void *arg)
{
	struct result *r = arg;
	__u64 prev = 0;

	for (int i = 0; i < READINGS; i++) {
		struct timespec pause = { 0, SLEEP_NS };
		__u64 before, now, after;

		if (i % SLEEP_EVERY == 0)
			nanosleep(&pause, NULL);
		before = gettime_ns();
		now = read_clock();
		after = gettime_ns();
		if (now + SLACK_NS < before || now > after + SLACK_NS) {
			long long off = now < before ? (long long)(before - now) :
						       (long long)(now - after);

			r->out_of_bounds++;
			if (off > r->worst_ns)
				r->worst_ns = off;
		}
		r->backwards += now < prev;
		prev = now;
	}
	return NULL;
}

START_TEST(test_tracks_clock_gettime)
{
	struct result res[THREADS] = { 0 };
	pthread_t t[THREADS];

	read_clock = reads[_i];
	mh_clock_setup(mh_tsc_usable());
	if (!mh_clock_uses_tsc())
		mh_test_skip("tracks_clock_gettime",
			     "no invariant TSC used as the kernel's clocksource: clock_gettime is used as is");
	for (int i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, read_many, &res[i]), 0);
	for (int i = 0; i < THREADS; i++) {
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		ck_assert_msg(!res[i].out_of_bounds,
			      "%lu readings more than %llu ns off clock_gettime (worst %lld ns)",
			      res[i].out_of_bounds, SLACK_NS, res[i].worst_ns);
		ck_assert_uint_eq(res[i].backwards, 0);
	}
}
END_TEST

/* Round trips of the cross-thread test, and how often a side sleeps past a refresh. */
#define HANDOFFS 40000
#define HANDOFF_SLEEP_EVERY 400
#define HANDOFF_SLEEP_NS 1200000L

struct handoff {
	__u64 stamp[2];		/* each side's last stamp, published by turn */
	int turn;		/* whose move it is: 0 or 1; 2: stop */
	unsigned long behind[2];	/* stamps below the other side's last one */
	long long worst_ns;
};

/* Wait for our turn, stamp, compare with the other side's stamp, pass the turn. */
static void *hand_over(struct handoff *h, int me)
{
	for (int i = 0; i < HANDOFFS; i++) {
		struct timespec pause = { 0, HANDOFF_SLEEP_NS };
		__u64 theirs, now;

		for (unsigned int spins = 1; __atomic_load_n(&h->turn, __ATOMIC_ACQUIRE) != me; spins++)
			if (!(spins % 1024))
				sched_yield();	/* the other side may share our CPU */
		if (i % HANDOFF_SLEEP_EVERY == HANDOFF_SLEEP_EVERY - 1)
			nanosleep(&pause, NULL);
		theirs = h->stamp[!me];
		now = mh_clock_ns();
		if (now < theirs) {
			h->behind[me]++;
			if ((long long)(theirs - now) > h->worst_ns)
				h->worst_ns = (long long)(theirs - now);
		}
		h->stamp[me] = now;
		__atomic_store_n(&h->turn, !me, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void *side1(void *arg)
{
	return hand_over(arg, 1);
}

START_TEST(test_ordered_across_threads)
{
	struct handoff h = { .turn = 0 };
	pthread_t t;

	mh_clock_setup(mh_tsc_usable());
	if (!mh_clock_uses_tsc())
		mh_test_skip("ordered_across_threads",
			     "no invariant TSC used as the kernel's clocksource: clock_gettime is used as is");
	ck_assert_int_eq(pthread_create(&t, NULL, side1, &h), 0);
	hand_over(&h, 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_msg(!h.behind[0] && !h.behind[1],
		      "%lu + %lu stamps below the other thread's earlier stamp (worst %lld ns)",
		      h.behind[0], h.behind[1], h.worst_ns);
}
END_TEST

static Suite *clock_suite(void)
{
	Suite *s = suite_create("clock");
	TCase *core = tcase_create("Core");

	tcase_set_timeout(core, 120);
	tcase_add_loop_test(core, test_tracks_clock_gettime, 0, sizeof(reads) / sizeof(reads[0]));
	tcase_add_test(core, test_ordered_across_threads);
	suite_add_tcase(s, core);
	return s;
}

int main(void)
{
	return mh_test_run_suite(clock_suite());
}
