// SPDX-License-Identifier: MIT
/*
 * check_ring_prefault.c - a thread's first lap in its slot of the event
 * ring is mapped ahead of its writes (preload/ring.c, prefault), not
 * faulted in page by page.
 *
 * Oracle: the kernel's count of the thread's page faults, a software perf
 * event, which counts traps only (not the pages MADV_POPULATE_WRITE maps).
 */
#include <check.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload/ring.h"
#include "recorder/ring_consumer.h"
#include "tests/testutil.h"

/* A record the consumer would take (type THREAD, 40 bytes and up). */
#define REC_BYTES 128U

/*
 * 1.5 MiB of records into a fresh 2 MiB slot: a page fault at a few wake
 * marks (an eighth of the slot apart), not one per page (384).
 */
START_TEST(test_first_lap_prefaulted)
{
	struct perf_event_attr pe = { .type = PERF_TYPE_SOFTWARE, .size = sizeof(pe),
				      .config = PERF_COUNT_SW_PAGE_FAULTS, .exclude_kernel = 1,
				      .exclude_hv = 1 };
	struct mh_ring ring;
	__u64 written, faults = 0;
	int fd;

	ck_assert_int_eq(mh_ring_create(&ring, 16 << 20, MH_RING_LOSSY), 0);
	ck_assert_uint_eq(ring.big_bytes, 2 << 20);
	fd = (int)syscall(SYS_perf_event_open, &pe, 0, -1, -1, 0);
	if (fd < 0) {
		mh_test_skip("first_lap_prefaulted", "perf_event_open refused");
		mh_ring_destroy(&ring);
		return;
	}
	for (written = 0; written < (3 << 19); written += REC_BYTES) {
		unsigned char *r = mh_ring_reserve(&ring, REC_BYTES);

		ck_assert_ptr_nonnull(r);
		memset(r + sizeof(struct mh_rec_hdr), 0x5a, REC_BYTES - sizeof(struct mh_rec_hdr));
		mh_ring_commit(r, (struct mh_rec_hdr){ .type = MH_REC_THREAD, .size = REC_BYTES });
	}
	ck_assert_int_eq(read(fd, &faults, sizeof(faults)), sizeof(faults));
	close(fd);
	ck_assert_uint_eq(ring.hdr->lost_records, 0);
	ck_assert_uint_lt(faults, 64);
	mh_ring_close_slot(&ring);
	mh_ring_destroy(&ring);
}
END_TEST

static Suite *prefault_suite(void)
{
	Suite *s = suite_create("ring_prefault");
	TCase *tc = tcase_create("Prefault");

	tcase_add_test(tc, test_first_lap_prefaulted);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mh_test_run_suite(prefault_suite());
}
