// SPDX-License-Identifier: MIT
/*
 * check_mark.c - the memcheck-compatible classifier on heaps
 * built in this process, whose pointer graph each test knows by
 * construction.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/exitscan/mark.h"
#include "tests/testutil.h"

#define MAX_BLOCKS 16

/* A heap of real blocks in this process; the "target" is ourselves. */
struct heap {
	struct mh_reach_block blocks[MAX_BLOCKS];
	void *mem[MAX_BLOCKS];
	size_t count;
	uintptr_t root[8];	/* the one root range */
	__u64 registers[2];	/* root values outside memory */
};

static int read_self(void *ctx, __u64 addr, void *buf, size_t bytes)
{
	memcpy(buf, (const void *)(uintptr_t)addr, bytes);
	return 0;
}

static const struct mh_reach_memory self_memory = { .read = read_self };

static void *heap_alloc(struct heap *h, size_t size)
{
	void *p = calloc(1, size ? size : 1);

	ck_assert_ptr_nonnull(p);
	h->mem[h->count] = p;
	h->blocks[h->count].addr = (uintptr_t)p;
	h->blocks[h->count].size = size;
	h->count++;
	return p;
}

static void heap_free(struct heap *h)
{
	for (size_t i = 0; i < h->count; i++)
		free(h->mem[i]);
}

/* Classify and return the kind of the block that started at p. */
static unsigned kind_of(struct heap *h, const void *p)
{
	for (size_t i = 0; i < h->count; i++) {
		if (h->blocks[i].addr == (uintptr_t)p)
			return h->blocks[i].kind;
	}
	ck_abort_msg("block %p not found", p);
	return 0;
}

static void classify(struct heap *h)
{
	struct mh_reach_range root = {
		.start = (uintptr_t)h->root,
		.end = (uintptr_t)(h->root + 8),
	};
	struct mh_reach_roots roots = {
		.ranges = &root,
		.range_count = 1,
		.values = h->registers,
		.value_count = 2,
	};

	ck_assert_int_eq(mh_reach_classify(h->blocks, h->count, &roots, &self_memory), 0);
}

START_TEST(unreferenced_block_is_definite)
{
	struct heap h = { 0 };
	void *a = heap_alloc(&h, 32);

	classify(&h);
	ck_assert_uint_eq(kind_of(&h, a), MH_LEAK_DEFINITE);
	heap_free(&h);
}
END_TEST

START_TEST(root_start_pointer_is_reachable)
{
	struct heap h = { 0 };
	void *a = heap_alloc(&h, 32);
	void **b = heap_alloc(&h, 32);
	void *c = heap_alloc(&h, 32);

	b[1] = c;			/* reachable through a reachable block */
	h.root[3] = (uintptr_t)a;
	h.root[5] = (uintptr_t)b;
	classify(&h);
	ck_assert_uint_eq(kind_of(&h, a), MH_LEAK_REACHABLE);
	ck_assert_uint_eq(kind_of(&h, b), MH_LEAK_REACHABLE);
	ck_assert_uint_eq(kind_of(&h, c), MH_LEAK_REACHABLE);
	heap_free(&h);
}
END_TEST

START_TEST(register_value_is_a_root)
{
	struct heap h = { 0 };
	void **a = heap_alloc(&h, 32);
	void *b = heap_alloc(&h, 8);

	a[2] = b;
	h.registers[1] = (uintptr_t)a;
	classify(&h);
	ck_assert_uint_eq(kind_of(&h, a), MH_LEAK_REACHABLE);
	ck_assert_uint_eq(kind_of(&h, b), MH_LEAK_REACHABLE);
	heap_free(&h);
}
END_TEST

START_TEST(interior_root_pointer_is_possible)
{
	struct heap h = { 0 };
	char *a = heap_alloc(&h, 64);
	void **b = heap_alloc(&h, 32);

	/* Offset 40 matches no heuristic: first word of a is 0. */
	h.root[0] = (uintptr_t)(a + 40);
	((void **)a)[6] = b;		/* b reached only through a possible block */
	classify(&h);
	ck_assert_uint_eq(kind_of(&h, a), MH_LEAK_POSSIBLE);
	ck_assert_uint_eq(kind_of(&h, b), MH_LEAK_POSSIBLE);
	heap_free(&h);
}
END_TEST

START_TEST(lost_struct_members_are_indirect)
{
	struct heap h = { 0 };
	void **parent = heap_alloc(&h, 24);
	void *left = heap_alloc(&h, 16);
	void *right = heap_alloc(&h, 16);

	parent[0] = left;
	parent[1] = right;
	classify(&h);
	ck_assert_uint_eq(kind_of(&h, parent), MH_LEAK_DEFINITE);
	ck_assert_uint_eq(kind_of(&h, left), MH_LEAK_INDIRECT);
	ck_assert_uint_eq(kind_of(&h, right), MH_LEAK_INDIRECT);
	heap_free(&h);
}
END_TEST

START_TEST(lost_cycle_has_one_definite_leader)
{
	struct heap h = { 0 };
	void **a = heap_alloc(&h, 16);
	void **b = heap_alloc(&h, 16);
	unsigned ka, kb;

	a[0] = b;
	b[0] = a;
	classify(&h);
	ka = kind_of(&h, a);
	kb = kind_of(&h, b);
	/* The leader is the lower address, as memcheck walks blocks in address order. */
	if ((uintptr_t)a < (uintptr_t)b) {
		ck_assert_uint_eq(ka, MH_LEAK_DEFINITE);
		ck_assert_uint_eq(kb, MH_LEAK_INDIRECT);
	} else {
		ck_assert_uint_eq(ka, MH_LEAK_INDIRECT);
		ck_assert_uint_eq(kb, MH_LEAK_DEFINITE);
	}
	heap_free(&h);
}
END_TEST

START_TEST(later_leader_absorbs_earlier_clique)
{
	struct heap h = { 0 };
	void **x = heap_alloc(&h, 16);
	void **y = heap_alloc(&h, 16);
	void **low, **high;

	/* The higher block points to the lower one: the lower is visited first
	 * as a leader but ends up indirect, as in memcheck. */
	low = (uintptr_t)x < (uintptr_t)y ? x : y;
	high = low == x ? y : x;
	high[0] = low;
	classify(&h);
	ck_assert_uint_eq(kind_of(&h, high), MH_LEAK_DEFINITE);
	ck_assert_uint_eq(kind_of(&h, low), MH_LEAK_INDIRECT);
	heap_free(&h);
}
END_TEST

START_TEST(new_array_cookie_counts_as_start)
{
	struct heap h = { 0 };
	__u64 *arr = heap_alloc(&h, 8 + 4 * 16);

	arr[0] = 4;			/* element count of a new[] of 4 x 16 bytes */
	h.root[2] = (uintptr_t)(arr + 1);
	classify(&h);
	ck_assert_uint_eq(kind_of(&h, arr), MH_LEAK_REACHABLE);
	heap_free(&h);
}
END_TEST

START_TEST(cookie_that_does_not_divide_is_possible)
{
	struct heap h = { 0 };
	__u64 *arr = heap_alloc(&h, 8 + 50);

	arr[0] = 7;			/* 50 % 7 != 0 and 50 != 7: no heuristic applies */
	h.root[2] = (uintptr_t)(arr + 1);
	classify(&h);
	ck_assert_uint_eq(kind_of(&h, arr), MH_LEAK_POSSIBLE);
	heap_free(&h);
}
END_TEST

START_TEST(zero_byte_block_reached_by_start)
{
	struct heap h = { 0 };
	void *z = heap_alloc(&h, 0);
	void *lost = heap_alloc(&h, 0);

	h.root[1] = (uintptr_t)z;
	classify(&h);
	ck_assert_uint_eq(kind_of(&h, z), MH_LEAK_REACHABLE);
	ck_assert_uint_eq(kind_of(&h, lost), MH_LEAK_DEFINITE);
	heap_free(&h);
}
END_TEST

static Suite *reachability_suite(void)
{
	Suite *s = suite_create("mark");
	TCase *core = tcase_create("Core");
	TCase *heuristics = tcase_create("Heuristics");

	tcase_add_test(core, unreferenced_block_is_definite);
	tcase_add_test(core, root_start_pointer_is_reachable);
	tcase_add_test(core, register_value_is_a_root);
	tcase_add_test(core, interior_root_pointer_is_possible);
	tcase_add_test(core, lost_struct_members_are_indirect);
	tcase_add_test(core, lost_cycle_has_one_definite_leader);
	tcase_add_test(core, later_leader_absorbs_earlier_clique);
	tcase_add_test(core, zero_byte_block_reached_by_start);
	tcase_add_test(heuristics, new_array_cookie_counts_as_start);
	tcase_add_test(heuristics, cookie_that_does_not_divide_is_possible);
	suite_add_tcase(s, core);
	suite_add_tcase(s, heuristics);
	return s;
}

int main(void)
{
	return mh_test_run_suite(reachability_suite());
}
