// SPDX-License-Identifier: MIT
/*
 * check_blocks.c - the live block table (common/blocks.c), an
 * open-addressing table with backward-shift deletion that grows and
 * shrinks with the live set: random adds and removes, clustered
 * addresses and strides that collide, checked at every step against a
 * plain array that holds the same blocks, each block's stack with it;
 * the same for the recorder's address -> size table (mh_spans), inserts
 * at live addresses and erases of absent ones included; both against
 * addresses forged to collide under a known multiplier. Also the memory its
 * large tables and the trace's buffers come from (common/bigmem.c): where
 * the huge pages start, and that filling maps ahead no more than it says.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "common/bigmem.h"
#include "common/blocks.h"
#include "tests/testutil.h"

/* Model: slot i holds the address live there (0: none), its size is i + 1. */
#define MODEL_SLOTS 50000

static uint64_t model[MODEL_SLOTS];
static unsigned long long rng = 88172645463325252ULL;

static void count_one(struct mh_block *blk, void *arg)
{
	(*(uint64_t *)arg)++;
}

/* A made-up stack pointer for slot i's block: the table keeps it, never follows it. */
static struct mh_stack_stats *stack_of(size_t i)
{
	return (struct mh_stack_stats *)(uintptr_t)(8 * i + 8);
}

/* Every model block is found with its size; the table holds nothing else. */
static void check_same(struct mh_blocks *b, uint64_t live)
{
	uint64_t seen = 0;

	for (size_t i = 0; i < MODEL_SLOTS; i++) {
		struct mh_block *blk;

		if (!model[i])
			continue;
		blk = mh_blocks_find(b, model[i]);
		ck_assert_ptr_nonnull(blk);
		ck_assert_uint_eq(blk->addr, model[i]);
		ck_assert_uint_eq(blk->size, i + 1);
		ck_assert_ptr_eq(blk->stack, stack_of(i));
	}
	mh_blocks_foreach(b, count_one, &seen);
	ck_assert_uint_eq(seen, live);
	ck_assert_uint_eq(mh_blocks_count(b), live);
}

/*
 * addr_of(i, pattern) gives slot i's address: 16-byte steps, 4 KiB pages
 * and 1 MiB strides, so home slots collide and runs wrap.
 */
static uint64_t addr_of(size_t i, unsigned pattern)
{
	switch (pattern) {
	case 0:
		return 0x555555554000ULL + 16 * i;
	case 1:
		return 0x7f0000000000ULL + 4096 * i;
	default:
		return 0x7f0000000010ULL + ((uint64_t)i << 20);
	}
}

static void run_pattern(unsigned pattern)
{
	struct mh_blocks *b = mh_blocks_new();
	uint64_t live = 0;
	unsigned step;

	ck_assert_ptr_nonnull(b);
	for (size_t i = 0; i < MODEL_SLOTS; i++)
		model[i] = 0;
	/* Grow to about MODEL_SLOTS / 2 live, then drain: the table grows, then shrinks. */
	for (step = 0; step < 400000; step++) {
		size_t i = mh_test_random(&rng) % MODEL_SLOTS;
		bool draining = step >= 200000;
		bool added;

		if (model[i]) {
			struct mh_block *blk = mh_blocks_find(b, model[i]);

			ck_assert_ptr_nonnull(blk);
			mh_blocks_remove(b, blk);
			ck_assert_ptr_null(mh_blocks_find(b, model[i]));
			model[i] = 0;
			live--;
		} else if (!draining) {
			model[i] = addr_of(i, pattern);
			ck_assert_ptr_null(mh_blocks_find(b, model[i]));
			/* Half the additions by insert: a new block, then the same one found. */
			if (step % 2) {
				ck_assert_ptr_nonnull(mh_blocks_add(b, model[i], i + 1, stack_of(i)));
			} else {
				ck_assert_ptr_nonnull(mh_blocks_insert(b, model[i], i + 1, stack_of(i),
								       &added));
				ck_assert(added);
				ck_assert_ptr_eq(mh_blocks_insert(b, model[i], 7, NULL, &added),
						 mh_blocks_find(b, model[i]));
				ck_assert(!added);
			}
			live++;
		}
		if (step % 20000 == 0)
			check_same(b, live);
	}
	check_same(b, live);
	for (size_t i = 0; i < MODEL_SLOTS; i++) {
		if (model[i]) {
			mh_blocks_remove(b, mh_blocks_find(b, model[i]));
			model[i] = 0;
		}
	}
	check_same(b, 0);
	/*
	 * Drained, the table shrinks once the operations since its last
	 * resize paid for one (at most 16 per slot): after as many more as the
	 * largest table could ask, it is back near its starting size.
	 */
	for (step = 0; step < 16 * 4 * MODEL_SLOTS; step++) {
		ck_assert_ptr_nonnull(mh_blocks_add(b, addr_of(step % 8, pattern), 1, NULL));
		mh_blocks_remove(b, mh_blocks_find(b, addr_of(step % 8, pattern)));
	}
	check_same(b, 0);
	ck_assert_uint_le(mh_blocks_table_bytes(b), 4096 * sizeof(struct mh_block));
	mh_blocks_free(b);
}

static unsigned char span_seen[MODEL_SLOTS];

/* A span is model block size - 1, seen once. */
static void see_span(struct mh_span *sp, void *arg)
{
	size_t i = sp->size - 1;

	ck_assert_uint_lt(i, MODEL_SLOTS);
	ck_assert_uint_eq(sp->addr, model[i]);
	ck_assert(!span_seen[i]);
	span_seen[i] = 1;
	(*(uint64_t *)arg)++;
}

/*
 * The span table holds the model's blocks, each with its size, and nothing
 * else; it is at most half full, a quarter below 2 MiB (blocks.c's fill_shift()).
 */
static void check_spans(struct mh_spans *s, uint64_t live)
{
	uint64_t seen = 0, bytes = mh_spans_table_bytes(s);

	memset(span_seen, 0, sizeof(span_seen));
	mh_spans_foreach(s, see_span, &seen);
	ck_assert_uint_eq(seen, live);
	ck_assert_uint_eq(mh_spans_count(s), live);
	ck_assert_uint_ge(bytes, live * 2 * sizeof(struct mh_span));
	if (bytes < 2U << 20)
		ck_assert_uint_ge(bytes, live * 4 * sizeof(struct mh_span));
}

/* The same for the recorder's table: inserts (new and live), erases by address. */
static void run_span_pattern(unsigned pattern)
{
	struct mh_spans *s = mh_spans_new();
	struct mh_span *sp;
	uint64_t live = 0;
	unsigned step;
	bool added;

	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < MODEL_SLOTS; i++)
		model[i] = 0;
	for (step = 0; step < 400000; step++) {
		size_t i = mh_test_random(&rng) % MODEL_SLOTS;
		bool draining = step >= 200000;

		if (model[i] && step % 3 == 0 && !draining) {
			/* A live address again: found, not added; its size is the caller's to set. */
			sp = mh_spans_insert(s, model[i], &added);
			ck_assert_ptr_nonnull(sp);
			ck_assert(!added);
			ck_assert_uint_eq(sp->size, i + 1);
		} else if (model[i]) {
			ck_assert(mh_spans_erase(s, model[i]));
			ck_assert(!mh_spans_erase(s, model[i]));
			model[i] = 0;
			live--;
		} else if (!draining) {
			model[i] = addr_of(i, pattern);
			ck_assert(!mh_spans_erase(s, model[i]));
			sp = mh_spans_insert(s, model[i], &added);
			ck_assert_ptr_nonnull(sp);
			ck_assert(added);
			ck_assert_uint_eq(sp->size, 0);
			sp->size = i + 1;
			live++;
		}
		if (step % 20000 == 0)
			check_spans(s, live);
	}
	check_spans(s, live);
	for (size_t i = 0; i < MODEL_SLOTS; i++) {
		if (model[i]) {
			ck_assert(mh_spans_erase(s, model[i]));
			model[i] = 0;
		}
	}
	check_spans(s, 0);
	for (step = 0; step < 16 * 4 * MODEL_SLOTS; step++) {
		ck_assert_ptr_nonnull(mh_spans_insert(s, addr_of(step % 8, pattern), &added));
		ck_assert(mh_spans_erase(s, addr_of(step % 8, pattern)));
	}
	check_spans(s, 0);
	ck_assert_uint_le(mh_spans_table_bytes(s), 4096 * sizeof(struct mh_span));
	mh_spans_free(s);
}

START_TEST(test_matches_model)
{
	run_pattern((unsigned)_i);
}
END_TEST

START_TEST(test_spans_match_model)
{
	run_span_pattern((unsigned)_i);
}
END_TEST

/*
 * Addresses forged to share one home under a known multiplier, k times
 * the inverse of Fibonacci's 2^64/phi (what a program could write into
 * the ring, or anyone into a trace file): with that multiplier every
 * insert would probe past all the others, 10^11 probes for these, and the
 * case would time out; both kinds of table draw their multiplier at
 * random. _i: 0 the merger's table, 1 the recorder's.
 */
START_TEST(test_forged_addresses)
{
	const uint64_t fib = 0x9e3779b97f4a7c15ULL;
	const size_t n = (size_t)1 << 20;
	struct mh_blocks *b = _i ? NULL : mh_blocks_new();
	struct mh_spans *s = _i ? mh_spans_new() : NULL;
	uint64_t inv = fib;
	bool added;

	ck_assert(b || s);
	/* Newton's iteration: each step doubles the low bits where fib * inv is 1. */
	for (int i = 0; i < 6; i++)
		inv *= 2 - fib * inv;
	ck_assert_uint_eq(fib * inv, 1);
	for (size_t k = 1; k <= n; k++) {
		if (b)
			ck_assert_ptr_nonnull(mh_blocks_insert(b, k * inv, k, NULL, &added));
		else
			ck_assert_ptr_nonnull(mh_spans_insert(s, k * inv, &added));
		ck_assert(added);
	}
	ck_assert_uint_eq(mh_blocks_count(b) + mh_spans_count(s), n);
	for (size_t k = 1; k <= n; k++) {
		if (b)
			mh_blocks_remove(b, mh_blocks_find(b, k * inv));
		else
			ck_assert(mh_spans_erase(s, k * inv));
	}
	ck_assert_uint_eq(mh_blocks_count(b) + mh_spans_count(s), 0);
	mh_blocks_free(b);
	mh_spans_free(s);
}
END_TEST

START_TEST(test_address_zero_refused)
{
	struct mh_blocks *b = mh_blocks_new();
	struct mh_spans *s;
	bool added;

	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_null(mh_blocks_add(b, 0, 1, NULL));
	ck_assert_ptr_null(mh_blocks_find(b, 0));
	ck_assert_uint_eq(mh_blocks_count(b), 0);
	mh_blocks_free(b);
	s = mh_spans_new();
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_null(mh_spans_insert(s, 0, &added));
	ck_assert(!mh_spans_erase(s, 0));
	ck_assert_uint_eq(mh_spans_count(s), 0);
	mh_spans_free(s);
}
END_TEST

#define MIB ((size_t)1 << 20)

/* Zeroed and writable to its last byte; the huge part starts on a 2 MiB boundary. */
START_TEST(test_bigmem_layout)
{
	size_t bytes = 16 * MIB + 100;
	unsigned char *p = mh_bigmem_alloc(bytes, MIB);

	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(((uintptr_t)p + MIB) % (2 * MIB), 0);
	ck_assert_uint_eq(p[0] | p[MIB] | p[bytes - 1], 0);
	p[bytes - 1] = 1;
	mh_bigmem_free(p, bytes, MIB);
	/* No whole huge page past the small part: plain small pages. */
	p = mh_bigmem_alloc(2 * MIB, MIB);
	ck_assert_ptr_nonnull(p);
	p[2 * MIB - 1] = 1;
	mh_bigmem_free(p, 2 * MIB, MIB);
}
END_TEST

/* Whether the page holding p is mapped. */
static bool resident(const unsigned char *p)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	unsigned char v = 0;

	ck_assert_int_eq(mincore((void *)((uintptr_t)p & ~(page - 1)), 1, &v), 0);
	return v & 1;
}

/* Filling maps the small part ahead to twice the fill, and never past the small part. */
START_TEST(test_bigmem_fill_maps_ahead)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), mapped = 0;
	unsigned char *p = mh_bigmem_alloc(8 * MIB, MIB);

	ck_assert_ptr_nonnull(p);
	mh_bigmem_fill(p, MIB, &mapped, 10000);
	ck_assert_uint_eq(mapped, (20000 + page - 1) / page * page);
	if (!resident(p)) {
		mh_bigmem_free(p, 8 * MIB, MIB);
		mh_test_skip("bigmem_fill_maps_ahead", "MADV_POPULATE_WRITE refused");
		return;
	}
	ck_assert(resident(p + mapped - 1));
	ck_assert(!resident(p + mapped));
	mh_bigmem_fill(p, MIB, &mapped, 5000);	/* mapped already: nothing */
	ck_assert_uint_eq(mapped, (20000 + page - 1) / page * page);
	mh_bigmem_fill(p, MIB, &mapped, 600000);
	ck_assert_uint_eq(mapped, MIB);
	ck_assert(resident(p + MIB - 1));
	ck_assert(!resident(p + MIB));
	mh_bigmem_free(p, 8 * MIB, MIB);
}
END_TEST

static Suite *blocks_suite(void)
{
	Suite *s = suite_create("blocks");
	TCase *tc = tcase_create("Table");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_matches_model, 0, 3);
	tcase_add_loop_test(tc, test_spans_match_model, 0, 3);
	tcase_add_loop_test(tc, test_forged_addresses, 0, 2);
	tcase_add_test(tc, test_address_zero_refused);
	suite_add_tcase(s, tc);
	tc = tcase_create("BigMem");
	tcase_add_test(tc, test_bigmem_layout);
	tcase_add_test(tc, test_bigmem_fill_maps_ahead);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mh_test_run_suite(blocks_suite());
}
