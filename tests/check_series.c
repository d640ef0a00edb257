// SPDX-License-Identifier: MIT
/*
 * check_series.c - the per-stack timelines (merger/replay/series.c)
 * against their definition: at every grid point, a stack's value is the
 * sum of its blocks live just before that point's time, its largest value
 * is the largest of the points kept, and the grid never holds more than
 * MH_SERIES_POINTS points. The truth is computed from the made-up events
 * themselves, not from the replay.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "memhook/events.h"
#include "merger/replay/replay.h"
#include "merger/replay/series.h"
#include "tests/merger_fixtures.h"

#define PID 11
#define STACKS 24
#define BLOCKS 256
#define EVENTS 6000

/* One replayed event: at ts, stack's live bytes moved by delta. */
struct event {
	uint64_t ts;
	unsigned stack;
	long long delta;
};

static struct event events[EVENTS];
static unsigned event_count;

/* Stack s's live bytes just before ts (every event before it applied). */
static long long truth_at(unsigned s, uint64_t ts)
{
	long long live = 0;

	for (unsigned i = 0; i < event_count && events[i].ts < ts; i++)
		if (events[i].stack == s)
			live += events[i].delta;
	return live;
}

/*
 * Random allocations and frees over STACKS stacks, time moving on by up
 * to 0.8 ms between events, so the grid fills (1 ms buckets) and is
 * compacted several times. Stack 0 allocates once at the start and never
 * again: its value must still be there at every point.
 */
START_TEST(series_follow_live_bytes)
{
	struct mh_replay *rp = mh_replay_new();
	uint64_t addr[BLOCKS] = { 0 }, size[BLOCKS];
	unsigned stack_of[BLOCKS];
	unsigned long long x = 0x5eed5eedULL;
	const struct mh_series *s;
	unsigned checked = 0;

	ck_assert_ptr_nonnull(rp);
	mh_replay_set_header(rp, 0, 4096);
	mh_fx_now_ns = 1000;
	events[0] = (struct event){ mh_fx_now_ns, 0, 4096 };
	mh_fx_alloc(rp, PID, PID, 0x100000, 4096, 1, MH_KIND_MALLOC);
	event_count = 1;
	while (event_count < EVENTS) {
		unsigned b = (unsigned)(mh_test_random(&x) % BLOCKS);

		mh_fx_now_ns += mh_test_random(&x) % 800000;
		if (addr[b]) {
			events[event_count++] = (struct event){ mh_fx_now_ns, stack_of[b],
							       -(long long)size[b] };
			mh_fx_free(rp, PID, PID, addr[b], MH_KIND_FREE, 0);
			addr[b] = 0;
			continue;
		}
		addr[b] = 0x10000000 + (uint64_t)b * 0x10000;
		size[b] = 16 + mh_test_random(&x) % 4000;
		stack_of[b] = 1 + (unsigned)(mh_test_random(&x) % (STACKS - 1));
		events[event_count++] = (struct event){ mh_fx_now_ns, stack_of[b],
						       (long long)size[b] };
		mh_fx_alloc(rp, PID, PID, addr[b], size[b], stack_of[b] + 1, MH_KIND_MALLOC);
	}
	mh_replay_finish(rp);
	s = mh_fx_proc(rp, PID)->series;
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_le(s->count, MH_SERIES_POINTS);
	ck_assert_uint_gt(s->bucket_ns, MH_SERIES_FIRST_NS);	/* it was compacted */
	for (unsigned st = 0; st < STACKS; st++) {
		const struct mh_stack_series *ss = mh_fx_stack(rp, PID, st + 1)->series;
		long long max = 0;

		ck_assert_ptr_nonnull(ss);
		for (unsigned i = 0; i < s->count; i++) {
			/* The last point is the end: every event before it, and at it, applied. */
			long long want = truth_at(st, i + 1 < s->count ? s->ts[i] : UINT64_MAX);

			ck_assert_msg((long long)ss->live[i] == want,
				      "stack %u point %u (ts %llu of %u): %llu, want %lld", st, i,
				      (unsigned long long)s->ts[i], s->count,
				      (unsigned long long)ss->live[i], want);
			if (want > max)
				max = want;
			checked++;
		}
		ck_assert_uint_eq(ss->max_live, (uint64_t)max);
	}
	ck_assert_uint_eq(checked, STACKS * s->count);
	mh_replay_free(rp);
}
END_TEST

static Suite *series_suite(void)
{
	Suite *s = suite_create("series");
	TCase *tc = tcase_create("Grid");

	tcase_add_test(tc, series_follow_live_bytes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mh_test_run_suite(series_suite());
}
