// SPDX-License-Identifier: MIT
/*
 * check_compact_addresses.c - how the compact encoding (trace/compact.c)
 * names addresses: a heap's patterns (blocks freed in the order they were
 * allocated, in reverse, at random, reallocated), a block taken again
 * at once by its rank among its size class's frees, and each thread's
 * frees from its own previous free. The oracles are the records the test
 * made, which the decoder must give back exactly, and the bytes
 * docs/FORMAT.md says each part then holds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "memhook/events.h"
#include "memhook/trace.h"
#include "trace/compact.h"
#include "tests/testutil.h"

/* Parts of the current encoding that tests look into (docs/FORMAT.md). */
enum { PART_ADDR = 4, PART_ADDR_ALLOC = 8, PART_ADDR_NEW = 10, PARTS_NOW = 12 };

/* Part i of a current encoding at packed; sets *len to its bytes. */
static const unsigned char *part_of(const unsigned char *packed, unsigned i, __u32 *len)
{
	size_t at = PARTS_NOW * sizeof(__u32);
	__u32 n;

	for (unsigned k = 0; k < i; k++) {
		memcpy(&n, packed + k * sizeof(n), sizeof(n));
		at += n;
	}
	memcpy(len, packed + i * sizeof(*len), sizeof(*len));
	return packed + at;
}

/*
 * A heap's patterns come back exactly: blocks freed in the order they
 * were allocated, in the reverse order and at random, reallocated, and
 * allocations at just-freed addresses. Frees in allocation order take one
 * address byte each (the position after the previous free's block).
 */
START_TEST(heap_patterns)
{
	enum { N = 200 };
	size_t max = 3 * N * sizeof(struct mh_rec_realloc) * 2, bytes = 0, len;
	unsigned char *in = malloc(max), *packed = malloc(MH_TRACE_COMPACT_BOUND(max));
	unsigned char *out = malloc(max);
	struct mh_trace_compact *enc = mh_trace_compact_new(), *dec = mh_trace_compact_new();
	__u64 ts = 5000, x = 777, base = 0x55550000ULL;
	__u32 count = 0, addr_len, order[N];

	ck_assert(in && packed && out && enc && dec);
	for (int round = 0; round < 3; round++) {
		for (__u32 i = 0; i < N; i++) {
			struct mh_rec_alloc a = { { MH_REC_ALLOC, 0, sizeof(a) }, ts += 7,
						  base + i * 32, 24, 1 + i % 3, 4, 4 };

			memcpy(in + bytes, &a, sizeof(a));
			bytes += sizeof(a);
			order[i] = round == 0 ? i : round == 1 ? N - 1 - i : i;
			count++;
		}
		for (__u32 i = 0; round == 2 && i < N; i++) {
			__u32 j = (__u32)(mh_test_random(&x) % (N - i)) + i, t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		for (__u32 i = 0; i < N; i++) {
			struct mh_rec_free f = { { MH_REC_FREE, 0, sizeof(f) }, ts += 5,
						 base + order[i] * 32, 24, 4, 4 };
			struct mh_rec_realloc re = { { MH_REC_REALLOC, 0, sizeof(re) }, ts += 3,
						     base + order[i] * 32, 40, base + order[i] * 32,
						     24, 2, 4, 4 };

			if (round == 2 && i % 4 == 0) {
				/* Reallocated in place, then freed. */
				memcpy(in + bytes, &re, sizeof(re));
				bytes += sizeof(re);
				count++;
				f.size = 40;
			}
			memcpy(in + bytes, &f, sizeof(f));
			bytes += sizeof(f);
			count++;
		}
		if (round == 0) {
			len = mh_trace_compact_encode(enc, in, bytes, packed);
			/*
			 * N allocations 32 bytes apart, one byte each but the first
			 * (5 bytes: base from 0), then N one-byte frees.
			 */
			part_of(packed, PART_ADDR_NEW, &addr_len);
			ck_assert_uint_eq(addr_len, N + 4);
			part_of(packed, PART_ADDR, &addr_len);
			ck_assert_uint_eq(addr_len, N);
		}
	}
	len = mh_trace_compact_encode(enc, in, bytes, packed);
	ck_assert_uint_gt(len, 0);
	ck_assert_int_eq(mh_trace_compact_decode(dec, packed, len, out, bytes, count), 0);
	ck_assert_int_eq(memcmp(in, out, bytes), 0);
	mh_trace_compact_free(enc);
	mh_trace_compact_free(dec);
	free(in);
	free(packed);
	free(out);
}
END_TEST

/*
 * A block freed and allocated again at once, with a size of the same
 * 16-byte class or, large, its very size (version 9 on), is named by its
 * rank (0) among its class's freed blocks: the first address in the new addresses'
 * part, the free's 0 in the freed references' part, the rank's 0 in the allocated
 * references' part. Version 8 had no large classes: it wrote the distance back (1).
 */
START_TEST(freed_block_by_rank)
{
	struct mh_rec_alloc a[2] = {
		{ { MH_REC_ALLOC, 0, sizeof(a[0]) }, 100, 0x1000, 32, 7, 3, 3 },
		{ { MH_REC_ALLOC, 0, sizeof(a[0]) }, 300, 0x1000, 40, 7, 3, 3 },
	};
	struct mh_rec_free f = { { MH_REC_FREE, 0, sizeof(f) }, 200, 0x1000, 0, 3, 3 };
	static const unsigned char want_new[] = { 0x80, 0x40 }, want_zero[] = { 0 };
	unsigned char in[2 * sizeof(a[0]) + sizeof(f)], out[sizeof(in)];
	unsigned char packed[MH_TRACE_COMPACT_BOUND(sizeof(in))], *got = NULL;
	struct mh_trace_compact *c = mh_trace_compact_new();
	static const struct { unsigned part; const unsigned char *bytes; __u32 len; } want[] = {
		{ PART_ADDR_NEW, want_new, sizeof(want_new) },
		{ PART_ADDR, want_zero, sizeof(want_zero) },
		{ PART_ADDR_ALLOC, want_zero, sizeof(want_zero) },
	};
	size_t len = 0;
	__u32 got_len;

	ck_assert_ptr_nonnull(c);
	for (__u64 large = 0; large < 2; large++) {
		a[0].size = large ? 4096 : 32, a[1].size = large ? 4096 : 40;
		memcpy(in, &a[0], sizeof(a[0]));
		memcpy(in + sizeof(a[0]), &f, sizeof(f));
		memcpy(in + sizeof(a[0]) + sizeof(f), &a[1], sizeof(a[1]));
		len = mh_trace_compact_encode(c, in, sizeof(in), packed);
		for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			got = (unsigned char *)part_of(packed, want[i].part, &got_len);
			ck_assert_uint_eq(got_len, want[i].len);
			ck_assert_int_eq(memcmp(got, want[i].bytes, got_len), 0);
		}
		ck_assert_int_eq(mh_trace_compact_decode(c, packed, len, out, sizeof(in), 3), 0);
		ck_assert_int_eq(memcmp(in, out, sizeof(in)), 0);
	}
	mh_trace_compact_set_version(c, 8);
	ck_assert_int_eq(mh_trace_compact_decode(c, packed, len, out, sizeof(in), 3), -EBADMSG);
	*got = 1;
	ck_assert_int_eq(mh_trace_compact_decode(c, packed, len, out, sizeof(in), 3), 0);
	mh_trace_compact_free(c);
}
END_TEST

/*
 * A free is named from its own thread's previous free (version 10 on):
 * two threads allocate two blocks each, A's then B's, and free them in
 * turns, each its own in order, which names every block by a 0 (each
 * thread starts at the chunk's position where it first came). Version 9
 * named a free from any thread's previous one: 0, 2, 3, 2. Each payload
 * decodes to the records under its own version's rule, not the other's.
 */
START_TEST(frees_named_per_thread)
{
	static const unsigned char v10[] = { 0, 0, 0, 0 }, v9[] = { 0, 2, 3, 2 };
	static const __u64 alloc_addr[4] = { 0x1000, 0x2000, 0x3000, 0x4000 };
	static const unsigned free_of[4] = { 0, 2, 1, 3 };
	struct mh_rec_alloc a;
	struct mh_rec_free f;
	unsigned char in[4 * (sizeof(a) + sizeof(f))], out[sizeof(in)];
	unsigned char packed[MH_TRACE_COMPACT_BOUND(sizeof(in))];
	struct mh_trace_compact *c = mh_trace_compact_new();
	unsigned char *refs;
	size_t bytes = 0, len;
	__u32 refs_len, tid;

	ck_assert_ptr_nonnull(c);
	for (unsigned i = 0; i < 4; i++) {
		tid = i < 2 ? 3 : 4;
		a = (struct mh_rec_alloc){ { MH_REC_ALLOC, 0, sizeof(a) }, 100 + i, alloc_addr[i],
					   32 + 16 * i, 7, tid, 3 };
		memcpy(in + bytes, &a, sizeof(a));
		bytes += sizeof(a);
	}
	for (unsigned i = 0; i < 4; i++) {
		tid = free_of[i] < 2 ? 3 : 4;
		f = (struct mh_rec_free){ { MH_REC_FREE, 0, sizeof(f) }, 200 + i,
					  alloc_addr[free_of[i]], 0, tid, 3 };
		memcpy(in + bytes, &f, sizeof(f));
		bytes += sizeof(f);
	}
	len = mh_trace_compact_encode(c, in, bytes, packed);
	refs = (unsigned char *)part_of(packed, PART_ADDR, &refs_len);
	ck_assert_uint_eq(refs_len, sizeof(v10));
	ck_assert_int_eq(memcmp(refs, v10, sizeof(v10)), 0);
	ck_assert_int_eq(mh_trace_compact_decode(c, packed, len, out, bytes, 8), 0);
	ck_assert_int_eq(memcmp(out, in, bytes), 0);
	mh_trace_compact_set_version(c, 9);
	ck_assert(mh_trace_compact_decode(c, packed, len, out, bytes, 8) != 0 ||
		  memcmp(out, in, bytes) != 0);
	memcpy(refs, v9, sizeof(v9));
	ck_assert_int_eq(mh_trace_compact_decode(c, packed, len, out, bytes, 8), 0);
	ck_assert_int_eq(memcmp(out, in, bytes), 0);
	mh_trace_compact_set_version(c, MH_TRACE_VERSION);
	ck_assert(mh_trace_compact_decode(c, packed, len, out, bytes, 8) != 0 ||
		  memcmp(out, in, bytes) != 0);
	mh_trace_compact_free(c);
}
END_TEST

static Suite *addresses_suite(void)
{
	Suite *s = suite_create("compact_addresses");
	TCase *tc = tcase_create("Addresses");

	tcase_add_test(tc, heap_patterns);
	tcase_add_test(tc, freed_block_by_rank);
	tcase_add_test(tc, frees_named_per_thread);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mh_test_run_suite(addresses_suite());
}
