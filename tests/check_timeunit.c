// SPDX-License-Identifier: MIT
/*
 * check_timeunit.c - the trace's time unit (trace format 7): the compact
 * coder and the writer store every stamp floored to the header's
 * time_unit_ns and the reader gives back those multiples; the report's
 * join of the kernel stream with the allocation stream at equal stamps
 * (docs/DESIGN.md, "Time resolution"). The oracles are the test's own:
 * stamps floored here with %, and the attribution of the same events
 * recorded at exact ns.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "memhook/kernel_events.h"
#include "trace/compact.h"
#include "trace/reader.h"
#include "trace/writer.h"
#include "tests/merger_fixtures.h"
#include "tests/testutil.h"

#define PAGE 4096

/* Allocation-stream records: events of a few threads with noisy stamps, stacks between. */
static size_t make_records(__u64 *x, unsigned char *buf, size_t max, __u32 *count)
{
	__u64 ts = 1000000, addr = 0x7f0000001000ULL;
	size_t used = 0;

	for (*count = 0; used + 128 < max; (*count)++) {
		__u64 r = mh_test_random(x);
		__u32 tid = 100 + (__u32)(r % 3);
		struct mh_rec_alloc a = { { MH_REC_ALLOC, MH_KIND_MALLOC, sizeof(a) }, ts, addr,
					  r % 200, r >> 60, tid, 100 };
		struct mh_rec_free f = { { MH_REC_FREE, MH_KIND_FREE, sizeof(f) }, ts, addr, 0, tid,
					 100 };
		struct mh_rec_stack st = { { MH_REC_STACK, 0, sizeof(st) }, r >> 60, 100, 0, 0 };

		/* Mostly forward by up to 3 us, now and then back a little (another thread's). */
		ts += r % 8 ? (r >> 8) % 3000 : -(__u64)((r >> 8) % 500);
		a.ts_ns = f.ts_ns = ts;
		if (r % 5 == 0) {
			memcpy(buf + used, &st, sizeof(st));
			used += sizeof(st);
		} else if (r % 5 < 3) {
			addr += 64;
			a.addr = addr;
			/* A kind the compact encoding cannot say: copied, stamp and all. */
			a.hdr.kind = (r >> 32) % 16 ? MH_KIND_MALLOC : 20;
			memcpy(buf + used, &a, sizeof(a));
			used += sizeof(a);
		} else {
			f.addr = addr - 64 * ((r >> 20) % 8);
			memcpy(buf + used, &f, sizeof(f));
			used += sizeof(f);
		}
	}
	return used;
}

/* A u64 at off of the record at p floored to unit, by %. */
static void floor_at(unsigned char *p, size_t off, __u64 unit)
{
	__u64 v;

	memcpy(&v, p + off, sizeof(v));
	v -= v % unit;
	memcpy(p + off, &v, sizeof(v));
}

/* What a reader must give back: every stamp floored (all types but STACK and LEAK at 8). */
static void floor_expected(unsigned char *buf, size_t bytes, __u64 unit)
{
	struct mh_rec_hdr h;

	for (size_t off = 0; off < bytes; off += h.size) {
		memcpy(&h, buf + off, sizeof(h));
		if (h.type != MH_REC_STACK && h.type != MH_REC_LEAK)
			floor_at(buf + off, 8, unit);
		if (h.type == MH_REC_KRECLAIM)
			floor_at(buf + off, offsetof(struct mh_rec_kreclaim, start_ns), unit);
		if (h.type == MH_REC_KSYSCALL)
			floor_at(buf + off, offsetof(struct mh_rec_ksyscall, enter_ns), unit);
	}
}

/* The compact coder on its own: stamps come back floored, everything else as it was. */
START_TEST(compact_floors_to_the_unit)
{
	static const __u32 units[] = { 1, 1024, 1000, 3, 1 << 20 };
	size_t max = 1 << 20, bytes, len;
	unsigned char *in = malloc(max), *want = malloc(max), *out = malloc(max);
	unsigned char *packed = malloc(MH_TRACE_COMPACT_BOUND(max));
	struct mh_trace_compact *enc = mh_trace_compact_new(), *dec = mh_trace_compact_new();
	__u64 x = 0x1234567;
	__u32 count;

	ck_assert(in && want && out && packed && enc && dec);
	for (unsigned i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		bytes = make_records(&x, in, max, &count);
		memcpy(want, in, bytes);
		floor_expected(want, bytes, units[i]);
		mh_trace_compact_set_time_unit(enc, units[i]);
		mh_trace_compact_set_time_unit(dec, units[i]);
		len = mh_trace_compact_encode(enc, in, bytes, packed);
		ck_assert_uint_gt(len, 0);
		ck_assert_int_eq(mh_trace_compact_decode(dec, packed, len, out, bytes, count), 0);
		ck_assert_msg(!memcmp(out, want, bytes), "unit %u: records differ", units[i]);
	}
	mh_trace_compact_free(enc);
	mh_trace_compact_free(dec);
	free(in);
	free(want);
	free(out);
	free(packed);
}
END_TEST

/* Kernel records with a second stamp, into buf. Returns the bytes. */
static size_t make_kernel(__u64 *x, unsigned char *buf, size_t max)
{
	size_t used = 0;
	__u64 ts = 2000000;

	while (used + 128 < max) {
		__u64 r = mh_test_random(x);
		struct mh_rec_kreclaim rc = { .hdr = { MH_REC_KRECLAIM, 0, sizeof(rc) } };
		struct mh_rec_ksyscall sc = { .hdr = { MH_REC_KSYSCALL, 0, sizeof(sc) } };
		struct mh_rec_kfault f = { .hdr = { MH_REC_KFAULT, 0, sizeof(f) }, .addr = r };

		ts += r % 5000;
		rc.ts_ns = sc.ts_ns = f.ts_ns = ts;
		rc.start_ns = sc.enter_ns = ts - (r >> 8) % 4000;
		if (r % 3 == 0) {
			memcpy(buf + used, &rc, sizeof(rc));
			used += sizeof(rc);
		} else if (r % 3 == 1) {
			memcpy(buf + used, &sc, sizeof(sc));
			used += sizeof(sc);
		} else {
			memcpy(buf + used, &f, sizeof(f));
			used += sizeof(f);
		}
	}
	return used;
}

/* Read stream back from path: its records must be want's bytes. */
static void read_back(const char *path, int stream, const unsigned char *want, size_t bytes)
{
	struct mh_trace_reader *r = mh_trace_reader_open(path);
	const struct mh_rec_hdr *rec;
	size_t off = 0;
	int ret;

	ck_assert_ptr_nonnull(r);
	while ((ret = mh_trace_reader_next(r, stream, &rec, NULL)) == 1) {
		ck_assert_uint_le(off + rec->size, bytes);
		ck_assert_msg(!memcmp(rec, want + off, rec->size), "stream %d: record at %zu differs",
			      stream, off);
		off += rec->size;
	}
	ck_assert_msg(ret == 0, "%s", mh_trace_reader_error(r));
	ck_assert_uint_eq(off, bytes);
	mh_trace_reader_free(r);
}

/*
 * Through the writer and the reader, at a unit that is no power of two:
 * the compact stream, the kernel stream (columns, with second stamps) and
 * the header's start all floored; the start's realtime moved with it.
 */
START_TEST(trace_floors_to_the_unit)
{
	size_t max = 3 << 20, abytes, kbytes;
	unsigned char *alloc = malloc(max), *kern = malloc(max);
	char *path = mh_test_join(mh_fx_tmpdir, "t.mht");
	struct mh_trace_header h, back;
	struct mh_trace_writer *w;
	struct mh_trace_reader *r;
	__u64 x = 99, gap;
	__u32 count;

	ck_assert(alloc && kern);
	abytes = make_records(&x, alloc, max, &count);
	kbytes = make_kernel(&x, kern, max);
	mh_trace_header_init(&h, 42, 0);
	h.start_ns = 123456789;
	gap = h.start_realtime_ns - h.start_ns;
	mh_trace_header_set_time_unit(&h, 1000);
	w = mh_trace_writer_open(path, &h);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(mh_trace_writer_append(w, MH_STREAM_ALLOC, alloc, abytes), 0);
	ck_assert_int_eq(mh_trace_writer_append(w, MH_STREAM_KERNEL, kern, kbytes), 0);
	ck_assert_int_eq(mh_trace_writer_close(w, true), 0);
	floor_expected(alloc, abytes, 1000);
	floor_expected(kern, kbytes, 1000);
	read_back(path, MH_STREAM_ALLOC, alloc, abytes);
	read_back(path, MH_STREAM_KERNEL, kern, kbytes);
	r = mh_trace_reader_open(path);
	ck_assert_ptr_nonnull(r);
	back = *mh_trace_reader_header(r);
	ck_assert_uint_eq(back.version, MH_TRACE_VERSION);
	ck_assert_uint_eq(back.time_unit_ns, 1000);
	ck_assert_uint_eq(back.start_ns, 123456000);
	ck_assert_uint_eq(back.start_realtime_ns - back.start_ns, gap);
	mh_trace_reader_free(r);
	free(path);
	free(alloc);
	free(kern);
}
END_TEST

/*
 * A trace of one block and two faults in it: the first 100 ns after the
 * allocation, the second 100 ns before the free, each in the same time
 * unit as its allocation record. Written at unit, reported: both faults
 * are the block's, as in the exact-ns trace of the same events.
 */
static long long faults_in_blocks(__u32 unit)
{
	struct mh_trace_header hdr = mh_fx_header(9, PAGE);
	struct mh_rec_alloc a = { { MH_REC_ALLOC, MH_KIND_MALLOC, sizeof(a) }, 5000, 0x10000, 4096,
				  0x51, 9, 9 };
	struct mh_rec_free fr = { { MH_REC_FREE, MH_KIND_FREE, sizeof(fr) }, 9100, 0x10000, 0, 9, 9 };
	struct mh_rec_kfault f = { .hdr = { MH_REC_KFAULT, 0, sizeof(f) }, .ts_ns = 5100,
				   .addr = 0x10008, .ip = 0x4242, .tid = 9, .pid = 9,
				   .vma_class = MH_VMA_ANON };
	struct mh_rec_exit ex = { { MH_REC_EXIT, 0, sizeof(ex) }, 20000, 9, MH_EXIT_NORMAL, 0, 0 };
	char *path = mh_test_join(mh_fx_tmpdir, "j.mht"), *json;
	struct mh_trace_writer *w;
	long long n;

	mh_trace_header_set_time_unit(&hdr, unit);
	w = mh_trace_writer_open(path, &hdr);
	ck_assert_ptr_nonnull(w);
	mh_fx_append(w, MH_STREAM_ALLOC, &a);
	mh_fx_append(w, MH_STREAM_KERNEL, &f);
	f.ts_ns = 9000;
	f.addr = 0x10ff0;
	mh_fx_append(w, MH_STREAM_KERNEL, &f);
	mh_fx_append(w, MH_STREAM_ALLOC, &fr);
	mh_fx_append(w, MH_STREAM_META, &ex);
	ck_assert_int_eq(mh_trace_writer_close(w, true), 0);
	json = mh_fx_report(mh_fx_tmpdir, path, MH_REPORT_JSON, MH_KEY_ALLOCATED);
	ck_assert_int_eq(mh_fx_json_int(json, "summary.faults"), 2);
	n = mh_fx_json_int(json, "summary.faults_in_blocks");
	free(json);
	free(path);
	return n;
}

START_TEST(join_at_equal_stamps)
{
	ck_assert_int_eq(faults_in_blocks(1), 2);
	/* 5000 and 5100 are both 4096 at 1024 ns; 9000 and 9100 both 8192. */
	ck_assert_int_eq(faults_in_blocks(1024), 2);
	ck_assert_int_eq(faults_in_blocks(1000), 2);
}
END_TEST

static Suite *timeunit_suite(void)
{
	Suite *s = suite_create("timeunit");
	TCase *tc = tcase_create("Stamps");

	tcase_add_checked_fixture(tc, mh_fx_tmpdir_setup, mh_fx_tmpdir_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, compact_floors_to_the_unit);
	tcase_add_test(tc, trace_floors_to_the_unit);
	tcase_add_test(tc, join_at_equal_stamps);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mh_test_run_suite(timeunit_suite());
}
