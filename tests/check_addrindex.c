// SPDX-License-Identifier: MIT
/*
 * check_addrindex.c - the address-range index against a brute-force
 * list of the same ranges, under random inserts, removals and lookups.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "merger/attribution/addrindex.h"
#include "tests/testutil.h"

#define PAGE 4096ULL
#define SLOTS 2000
#define STEPS 200000

/* Slot i may hold a range starting at base + i * SPACING. */
#define SPACING (3 * PAGE)

struct slot {
	__u64 start;
	__u64 size;
	int live;
};

/* The brute-force oracle: scan every live slot. */
static const struct slot *oracle_find(const struct slot *slots, __u64 addr)
{
	for (size_t i = 0; i < SLOTS; i++) {
		__u64 extent = slots[i].size ? slots[i].size : 1;

		if (slots[i].live && addr >= slots[i].start && addr - slots[i].start < extent)
			return &slots[i];
	}
	return NULL;
}

START_TEST(random_operations_agree_with_brute_force)
{
	struct mh_addrindex *idx = mh_addrindex_new(PAGE);
	static struct slot slots[SLOTS];
	__u64 base = 0x7f0000000000ULL;

	srand(12345);
	for (size_t step = 0; step < STEPS; step++) {
		size_t i = rand() % SLOTS;
		struct slot *s = &slots[i];

		if (!s->live) {
			/* Sizes from 0 bytes to just under SPACING: small and large ranges. */
			s->size = (rand() % 4 == 0) ? (__u64)rand() % SPACING : (__u64)rand() % 200;
			s->start = base + i * SPACING + (rand() % 64) * 16;
			if (s->start + s->size > base + (i + 1) * SPACING)
				s->size = base + (i + 1) * SPACING - s->start;
			ck_assert_int_eq(mh_addrindex_insert(idx, s->start, s->size, s), 0);
			s->live = 1;
		} else if (rand() % 2) {
			ck_assert_ptr_eq(mh_addrindex_remove(idx, s->start), s);
			s->live = 0;
		}
		__u64 probe = base + (__u64)rand() % (SLOTS * SPACING);
		ck_assert_ptr_eq(mh_addrindex_find(idx, probe, NULL, NULL), oracle_find(slots, probe));
	}
	mh_addrindex_free(idx);
}
END_TEST

START_TEST(huge_range_is_one_entry)
{
	struct mh_addrindex *idx = mh_addrindex_new(PAGE);
	__u64 start, size;
	int owner;

	ck_assert_int_eq(mh_addrindex_insert(idx, 1ULL << 40, 100ULL << 30, &owner), 0);
	ck_assert_ptr_eq(mh_addrindex_find(idx, (1ULL << 40) + (99ULL << 30), &start, &size), &owner);
	ck_assert_uint_eq(start, 1ULL << 40);
	ck_assert_uint_eq(size, 100ULL << 30);
	ck_assert_ptr_null(mh_addrindex_find(idx, (1ULL << 40) + (100ULL << 30), NULL, NULL));
	ck_assert_uint_eq(mh_addrindex_count(idx), 1);
	mh_addrindex_free(idx);
}
END_TEST

START_TEST(duplicate_start_is_refused)
{
	struct mh_addrindex *idx = mh_addrindex_new(PAGE);
	int a, b;

	ck_assert_int_eq(mh_addrindex_insert(idx, 0x1000, 16, &a), 0);
	ck_assert_int_eq(mh_addrindex_insert(idx, 0x1000, 32, &b), -EEXIST);
	ck_assert_int_eq(mh_addrindex_insert(idx, 0x9000, 1 << 20, &a), 0);
	ck_assert_int_eq(mh_addrindex_insert(idx, 0x9000, 1 << 21, &b), -EEXIST);
	ck_assert_ptr_null(mh_addrindex_remove(idx, 0x2000));
	mh_addrindex_free(idx);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("addrindex");
	TCase *core = tcase_create("Core");

	tcase_add_test(core, random_operations_agree_with_brute_force);
	tcase_add_test(core, huge_range_is_one_entry);
	tcase_add_test(core, duplicate_start_is_refused);
	suite_add_tcase(s, core);
	return mh_test_run_suite(s);
}
