// SPDX-License-Identifier: MIT
/*
 * check_ring_layout.c - the event ring's shape (include/memhook/ring.h):
 * every data area is cut into slots that tile it, each a power of two
 * holding four of the largest records, large slots from
 * MH_RING_BIG_MIN_AREA on; a ring too small to hold slots is refused at
 * creation and memory that is not a ring at attach.
 */
#include <check.h>
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "preload/ring.h"
#include "recorder/ring_consumer.h"
#include "tests/testutil.h"

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

/* Every layout tiles its area: slots in order, apart, inside, powers of two, records fit. */
START_TEST(test_layout_tiles_the_area)
{
	for (__u64 area = 64 << 10; area <= (1ULL << 30); area *= 2) {
		struct mh_ring r = { .data = (unsigned char *)4096 };
		__u64 end = 0;

		mh_ring_layout(&r, area);
		ck_assert_uint_ge(r.slot_count, MH_RING_SLOTS_MIN);
		ck_assert_uint_le(r.slot_count, MH_RING_SLOTS_MAX);
		for (__u32 i = 0; i < r.slot_count; i++) {
			__u64 size = mh_ring_slot_size(&r, i);
			__u64 at = (__u64)(mh_ring_slot_data(&r, i) - r.data);

			ck_assert_uint_eq(size & (size - 1), 0);
			ck_assert_uint_ge(size, 4ULL * mh_ring_max_record(&r));
			ck_assert_uint_ge(at, end);
			end = at + size;
		}
		ck_assert_uint_le(end, area);
		ck_assert_uint_eq(r.big_count ? r.big_bytes : 0, area >= MH_RING_BIG_MIN_AREA ?
				  area / 8 : 0);
	}
}
END_TEST

static Suite *ring_layout_suite(void)
{
	Suite *s = suite_create("ring_layout");
	TCase *tc = tcase_create("Core");

	tcase_add_test(tc, test_layout_tiles_the_area);
	tcase_add_test(tc, test_attach_rejects_garbage);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mh_test_run_suite(ring_layout_suite());
}
