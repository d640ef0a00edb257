// SPDX-License-Identifier: MIT
/*
 * check_compact_decode.c - the compact decoder (trace/compact_decode.c)
 * at its parts' ends. Its fast copy reads the parts every event reads
 * without a test of their ends, in windows where they have room for an
 * event's longest reads, and any other read tests its part's end only
 * when fewer bytes are left than the longest varint: here chunks whose
 * reads end exactly at each part's end decode exactly, and the same
 * chunks with any part cut short by 1 to 12 bytes give back, slice by
 * slice, only records identical to the chunk's first ones, then
 * -EBADMSG. A read past a part's end takes the next part's bytes: the
 * record it builds differs, or one is handed out that should not be.
 * The oracle is the list of records the test made.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "memhook/events.h"
#include "trace/compact.h"
#include "tests/testutil.h"

/* Parts of the current encoding (docs/FORMAT.md "Compact encoding"). */
#define PARTS_NOW 12
#define CUT_MAX 12	/* bytes cut off a part: past the longest varint */
#define BLOCKS 64	/* live blocks the events free and reallocate */

/*
 * Events of a heap: allocations, frees in any order, reallocations, of
 * sizes, time steps, stacks and addresses of one to ten varint bytes, by
 * three threads, and a copied stack record now and then: every part of
 * the encoding is used, its varints of every length.
 */
static size_t make_heap(__u64 *x, unsigned char *buf, size_t max, __u32 *count)
{
	__u64 live[BLOCKS] = { 0 }, ts = 1000, top = 0x10000;
	size_t used = 0;

	*count = 0;
	while (used + sizeof(struct mh_rec_realloc) + 64 <= max) {
		__u64 r = mh_test_random(x), size = r >> (4 + r % 60), step = r >> (r % 64);
		unsigned i = (unsigned)(r >> 20) % BLOCKS, tid = 10 + (unsigned)(r >> 30) % 3;
		__u64 stack = r % 4 ? 1 + (r >> 40) % 300 : r >> 1;

		ts += r % 8 ? step % 1000 : step;
		if (r % 23 == 0) {
			struct mh_rec_stack st = { { MH_REC_STACK, 0, sizeof(st) + 8 }, stack, 7,
						   1, 0 };

			memcpy(buf + used, &st, sizeof(st));
			memcpy(buf + used + sizeof(st), &top, sizeof(top));
			used += sizeof(st) + 8;
		} else if (live[i] && r % 3 == 0) {
			struct mh_rec_free f = { { MH_REC_FREE, 0, sizeof(f) }, ts, live[i], 0, tid,
						 7 };

			memcpy(buf + used, &f, sizeof(f));
			used += sizeof(f);
			live[i] = 0;
		} else if (live[i] && r % 3 == 1) {
			__u64 old_size = r % 5 ? ~size >> (r % 9) : 0;
			struct mh_rec_realloc re = { { MH_REC_REALLOC, 1, sizeof(re) }, ts,
						     r % 2 ? live[i] : (top += 64 + size), size,
						     live[i], old_size, stack, tid, 7 };

			memcpy(buf + used, &re, sizeof(re));
			used += sizeof(re);
			live[i] = re.addr;
		} else {
			__u64 addr = r % 7 ? (top += 16 + size % 4096) : r;
			struct mh_rec_alloc a = { { MH_REC_ALLOC, 2, sizeof(a) }, ts, addr, size,
						  stack, tid, 7 };

			memcpy(buf + used, &a, sizeof(a));
			used += sizeof(a);
			live[i] = a.addr;
		}
		(*count)++;
	}
	return used;
}

/*
 * Decode the chunk at packed in slices of at most room bytes, each
 * checked against want (the chunk's records) and to end before limit.
 * Returns the last result: 0 once the chunk is all decoded, or the error
 * that ended it. Tests with ifs: each ck_assert() passed writes its
 * place to Check's pipe, which took most of this test's time.
 */
static int decode_in_slices(struct mh_trace_compact *c, const unsigned char *packed, size_t len,
			    const unsigned char *want, size_t bytes, __u32 count, size_t room,
			    size_t limit)
{
	struct mh_trace_compact_cursor *cur = mh_trace_compact_cursor_new();
	unsigned char *out = malloc(room < bytes ? room : bytes + 1);
	size_t off = 0, need, some;
	ssize_t n;

	ck_assert(cur && out);
	n = mh_trace_compact_begin(c, cur, packed, len, bytes, count);
	while (!n) {
		some = bytes - off < room ? bytes - off : room;
		n = mh_trace_compact_decode_some(c, cur, out, some, &need);
		if (n <= 0)
			break;
		if (off + (size_t)n > limit || memcmp(out, want + off, (size_t)n))
			ck_abort_msg("a slice at %zu of %zu differs from the records", off, bytes);
		off += (size_t)n;
		n = 0;
	}
	if (n == -ENOSPC || (!n && off != bytes))
		ck_abort_msg("the chunk ended at %zu of %zu: %zd", off, bytes, n);
	mh_trace_compact_cursor_free(cur);
	free(out);
	return (int)n;
}

/* Where record k (from 0) of the records at buf starts. */
static size_t record_at(const unsigned char *buf, __u32 k)
{
	struct mh_rec_hdr h;
	size_t at = 0;

	for (; k > 0; k--) {
		memcpy(&h, buf + at, sizeof(h));
		at += h.size;
	}
	return at;
}

/* The payload at packed without the last cut bytes of part i, at cut_out. Returns its bytes. */
static size_t cut_part(const unsigned char *packed, size_t len, unsigned i, __u32 cut,
		       unsigned char *cut_out)
{
	size_t at = PARTS_NOW * sizeof(__u32), end;
	__u32 n;

	for (unsigned k = 0; k <= i; k++) {
		memcpy(&n, packed + k * sizeof(n), sizeof(n));
		at += n;
	}
	end = at - cut;
	memcpy(cut_out, packed, end);
	memcpy(cut_out + end, packed + at, len - at);
	memcpy(&n, packed + i * sizeof(n), sizeof(n));
	n -= cut;
	memcpy(cut_out + i * sizeof(n), &n, sizeof(n));
	return len - cut;
}

/*
 * Chunks of 1 to some 250 events and of thousands, each decoded whole and in
 * slices of one event and of many; promising half the records they
 * hold; then each with every part cut short.
 */
START_TEST(parts_cut_short)
{
	static const size_t rooms[] = { sizeof(struct mh_rec_realloc), 4096, 1 << 20 };
	size_t max = 200000, bytes, len, cut_len, tried = 0;
	unsigned char *in = malloc(max), *packed = malloc(MH_TRACE_COMPACT_BOUND(max));
	unsigned char *cut = malloc(MH_TRACE_COMPACT_BOUND(max));
	struct mh_trace_compact *c = mh_trace_compact_new();
	__u64 x = 0x5eed;
	__u32 count, part_len;

	ck_assert(in && packed && cut && c);
	for (size_t chunk = 1; chunk <= 260; chunk++) {
		bytes = make_heap(&x, in, chunk <= 256 ? 64 + chunk * 48 : max, &count);
		len = mh_trace_compact_encode(c, in, bytes, packed);
		ck_assert_uint_gt(len, 0);
		for (unsigned r = 0; r < sizeof(rooms) / sizeof(rooms[0]); r++)
			if (decode_in_slices(c, packed, len, in, bytes, count, rooms[r], bytes))
				ck_abort_msg("a chunk of %zu bytes was refused", bytes);
		/* Promised half its records: the others are never handed out. */
		for (unsigned r = 0; count && r < sizeof(rooms) / sizeof(rooms[0]); r++)
			if (decode_in_slices(c, packed, len, in, bytes, count / 2, rooms[r],
					     record_at(in, count / 2)) != -EBADMSG)
				ck_abort_msg("a chunk of %u records decoded as %u", count,
					     count / 2);
		for (unsigned i = 0; i < PARTS_NOW; i++) {
			memcpy(&part_len, packed + i * sizeof(part_len), sizeof(part_len));
			for (__u32 k = 1; k <= CUT_MAX && k <= part_len; k++, tried++) {
				cut_len = cut_part(packed, len, i, k, cut);
				for (unsigned r = 0; r < sizeof(rooms) / sizeof(rooms[0]); r++)
					if (decode_in_slices(c, cut, cut_len, in, bytes, count,
							     rooms[r], bytes) != -EBADMSG)
						ck_abort_msg("part %u cut by %u decoded", i, k);
			}
		}
	}
	/* Every part was cut in some chunk, by up to CUT_MAX bytes. */
	ck_assert_uint_gt(tried, PARTS_NOW * CUT_MAX);
	mh_trace_compact_free(c);
	free(in);
	free(packed);
	free(cut);
}
END_TEST

static Suite *compact_decode_suite(void)
{
	Suite *s = suite_create("compact_decode");
	TCase *tc = tcase_create("Ends");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, parts_cut_short);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mh_test_run_suite(compact_decode_suite());
}
