// SPDX-License-Identifier: MIT
/*
 * check_columns.c - the column layout (trace/columns.c) on its own: every
 * record shape and a kernel-like stream round-trip at each layout version
 * and time unit, version 8's layout is the documented one (variable parts
 * untouched after the planes), a layout that cannot be right is refused,
 * and a version 7 trace written by the version 7 writer still reads. The
 * oracle is the records the test generated (or, for the old trace, its
 * chunk headers' counts); the layout must give back exactly those.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <zstd.h>

#include "memhook/kernel_events.h"
#include "memhook/trace.h"
#include "trace/columns.h"
#include "trace/reader.h"
#include "trace/records.h"
#include "tests/testutil.h"

/*
 * Records of every shape the layout must keep: every known type, fixed
 * and variable sizes, one word to long tails, types that share a bucket
 * (4 and 260), types past 255, random words. Returns the bytes written to
 * buf; *count gets the records.
 */
static size_t make_shapes(__u64 *buf, size_t max_words, __u32 *count)
{
	static const __u16 extra[] = { 260, 300, 99 };
	__u64 x = 88172645463325252ULL;
	size_t used = 0;
	__u32 n = 0;

	while (used + 64 < max_words) {
		unsigned words = 1 + mh_test_random(&x) % 60;
		unsigned pick = mh_test_random(&x) % (MH_REC_TYPE_LIMIT + 3);
		struct mh_rec_hdr h = {
			.type = pick < MH_REC_TYPE_LIMIT ? pick : extra[pick - MH_REC_TYPE_LIMIT],
			.kind = (__u16)mh_test_random(&x),
			.size = words * 8,
		};

		memcpy(&buf[used], &h, sizeof(h));
		for (unsigned i = 1; i < words; i++)
			buf[used + i] = i == 1 ? 1000000 * n + mh_test_random(&x) % 999 :
						 mh_test_random(&x);
		used += words;
		n++;
	}
	*count = n;
	return used * 8;
}

static void append(__u64 *buf, size_t *used, const void *rec, size_t bytes, __u32 *n)
{
	memcpy(&buf[*used], rec, bytes);
	*used += (bytes + 7) / 8;
	(*n)++;
}

/*
 * A stream as the collector writes one: runs of faults in one vma, others
 * elsewhere, mmap/munmap pairs, RSS of two members, files with paths,
 * stamps a little out of order. Every field the version 8 coding
 * transforms takes values of every kind, wrapping ones included.
 */
static size_t make_kernel_like(__u64 *buf, size_t max_words, __u32 *count)
{
	__u64 x = 7777, ts = 5000000, vma = 0x7f0000000000, rss[2] = { 1 << 20, 5 << 20 };
	__u64 other = 0x7e0000000000;
	size_t used = 0;
	__u32 n = 0;

	while (used + 64 < max_words) {
		__u64 r = mh_test_random(&x);
		struct mh_rec_kfault f = { .hdr = { MH_REC_KFAULT, 0, sizeof(f) }, .vma_start = vma,
					   .vma_end = vma + (64 << 20), .ip = 0x55550000 + r % 64,
					   .ino = r % 5 ? 0 : r >> 40, .tid = 9, .pid = 9,
					   .error_code = (__u32)(r % 8), .vma_class = r % 11 % 7,
					   .dev = r % 11 % 7 == 2 ? 0xfe00001 : 0 };
		struct mh_rec_ksyscall sc = { .hdr = { MH_REC_KSYSCALL, 0, sizeof(sc) },
					      .sys = MH_KSYS_MMAP, .args = { 0, r >> 48, 1, 2, 3 },
					      .ret = (__s64)vma, .tid = 9, .pid = 9 };
		struct mh_rec_krss k = { .hdr = { MH_REC_KRSS, 0, sizeof(k) }, .member = r % 2,
					 .tid = 9, .pid = 9 };
		struct { struct mh_rec_kfile f; char path[48]; } file = {
			.f = { .hdr = { MH_REC_KFILE, 0, sizeof(file) }, .ino = r >> 30, .dev = 0xfe00000,
			       .pid = 9, .path_len = 41, .gen = (__u32)(r >> 7) },
		};

		ts += r % 50000;
		f.ts_ns = sc.ts_ns = k.ts_ns = file.f.ts_ns = r % 17 ? ts : ts - 40000;
		sc.enter_ns = ts - r % 3000;
		f.addr = r % 4 ? vma + (n % 4096) * 4096 : r;	/* a run, or anywhere */
		if (f.vma_class == 2) {	/* a file mapped and unmapped again at one address */
			f.vma_start = other;
			f.vma_end = other + (r >> 52) * 4096;
			f.addr = other + 4096 * (r % 3);
		}
		if (r % 9 == 0)
			vma = r % 2 ? vma + (128 << 20) : ~0ULL - 4096;	/* new; or at the top */
		rss[k.member] += r % 3 ? 4096 : -8192;
		k.bytes = rss[k.member];
		snprintf(file.path, sizeof(file.path), "/r/.git/objects/%02x/%022llx",
			 (unsigned)(r & 0xff), (unsigned long long)(r >> 8));
		append(buf, &used, &f, sizeof(f), &n);
		if (r % 3 == 0) {
			append(buf, &used, &sc, sizeof(sc), &n);
			sc.sys = MH_KSYS_MUNMAP;
			sc.args[0] = vma;
			append(buf, &used, &sc, sizeof(sc), &n);
		}
		if (r % 5 == 1)
			append(buf, &used, &k, sizeof(k), &n);
		if (r % 7 == 2)
			append(buf, &used, &file, sizeof(file), &n);
	}
	*count = n;
	return used * 8;
}

/* Floor the stamps of count records as the writer does before the layout. */
static void floor_all(__u64 *buf, size_t bytes, __u32 unit_ns)
{
	for (size_t off = 0; off < bytes;) {
		struct mh_rec_hdr *h = (struct mh_rec_hdr *)((char *)buf + off);

		mh_rec_floor_stamps(h, unit_ns);
		off += h->size;
	}
}

/* Encode at version and unit, decode, compare. */
static void round_trip(const __u64 *in, size_t bytes, __u32 count, unsigned version, __u32 unit)
{
	__u64 *packed = malloc(bytes + 8), *out = malloc(bytes + 8);

	ck_assert(packed && out);
	mh_trace_columns_encode(in, bytes, count, version, unit, packed);
	ck_assert_int_ne(memcmp(in, packed, bytes), 0);
	ck_assert_int_eq(mh_trace_columns_decode(packed, bytes, count, version, unit, out), 0);
	for (size_t i = 0; i < bytes / 8; i++)
		ck_assert_msg(in[i] == out[i], "version %u unit %u: word %zu differs", version, unit,
			      i);
	free(packed);
	free(out);
}

static const unsigned versions[] = { 7, 8, MH_TRACE_VERSION };
static const __u32 units[] = { 1, 1024, 1000 };

/* The column layout gives back exactly the records it was given. */
START_TEST(columns_round_trip_every_shape)
{
	size_t max_words = 1 << 16, bytes;
	__u64 *in = calloc(max_words, 8), *kern = calloc(max_words, 8);
	__u32 count, kcount;

	ck_assert(in && kern);
	bytes = make_shapes(in, max_words, &count);
	ck_assert_uint_gt(count, 1000);
	for (unsigned u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		floor_all(in, bytes, units[u]);
		for (unsigned v = 0; v < sizeof(versions) / sizeof(versions[0]); v++)
			round_trip(in, bytes, count, versions[v], units[u]);
	}
	bytes = make_kernel_like(kern, max_words, &kcount);
	for (unsigned u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		floor_all(kern, bytes, units[u]);
		for (unsigned v = 0; v < sizeof(versions) / sizeof(versions[0]); v++)
			round_trip(kern, bytes, kcount, versions[v], units[u]);
	}
	/* No records at all. */
	ck_assert_int_eq(mh_trace_columns_decode(in, 0, 0, MH_TRACE_VERSION, 1, kern), 0);
	free(in);
	free(kern);
}
END_TEST

/*
 * Version 8 as docs/FORMAT.md describes it: the header words first, in
 * planes count wide; the variable parts last, as they are; and a version
 * 8 layout read as version 7 does not give the records back.
 */
START_TEST(columns_v8_layout_is_the_documented_one)
{
	size_t max_words = 1 << 14, bytes, tail_words = 0;
	__u64 *in = calloc(max_words, 8), *packed = calloc(max_words, 8), *out = calloc(max_words, 8);
	unsigned char *planes = (unsigned char *)packed, *tails, *at;
	__u32 count, n = 0;
	size_t off;

	ck_assert(in && packed && out);
	bytes = make_kernel_like(in, max_words, &count);
	mh_trace_columns_encode(in, bytes, count, MH_TRACE_VERSION, 1, packed);
	for (off = 0; off < bytes; n++) {
		const struct mh_rec_hdr *h = (const void *)((char *)in + off);
		__u64 hdr;

		memcpy(&hdr, h, 8);
		for (unsigned b = 0; b < 8; b++)
			ck_assert_uint_eq(planes[b * count + n], (hdr >> (8 * b)) & 0xff);
		if (h->type == MH_REC_KFILE)
			tail_words += (h->size - sizeof(struct mh_rec_kfile)) / 8;
		off += h->size;
	}
	/* The paths, in record order, whole, at the end. */
	tails = planes + bytes - tail_words * 8;
	at = tails;
	for (off = 0; off < bytes;) {
		const struct mh_rec_hdr *h = (const void *)((char *)in + off);
		size_t len = h->size - sizeof(struct mh_rec_kfile);

		if (h->type == MH_REC_KFILE) {
			const char *path = (const char *)h + sizeof(struct mh_rec_kfile);

			ck_assert_int_eq(memcmp(at, path, len), 0);
			at += len;
		}
		off += h->size;
	}
	ck_assert_ptr_eq(at, planes + bytes);
	ck_assert(mh_trace_columns_decode(packed, bytes, count, 7, 1, out) != 0 ||
		  memcmp(in, out, bytes) != 0);
	free(in);
	free(packed);
	free(out);
}
END_TEST

static size_t zstd1(const void *p, size_t bytes)
{
	size_t cap = ZSTD_compressBound(bytes), n;
	void *z = malloc(cap);

	ck_assert_ptr_nonnull(z);
	n = ZSTD_compress(z, cap, p, bytes, 1);
	ck_assert(!ZSTD_isError(n));
	free(z);
	return n;
}

/* The point of version 8: the same kernel-like records compress smaller than at 7. */
START_TEST(columns_v8_shrinks_kernel_streams)
{
	size_t max_words = 1 << 18, bytes, v7, v8;
	__u64 *in = calloc(max_words, 8), *packed = calloc(max_words, 8);
	__u32 count;

	ck_assert(in && packed);
	bytes = make_kernel_like(in, max_words, &count);
	floor_all(in, bytes, 1024);
	mh_trace_columns_encode(in, bytes, count, 7, 1024, packed);
	v7 = zstd1(packed, bytes);
	mh_trace_columns_encode(in, bytes, count, MH_TRACE_VERSION, 1024, packed);
	v8 = zstd1(packed, bytes);
	ck_assert_msg(v8 * 10 < v7 * 9, "version 8 %zu bytes, version 7 %zu", v8, v7);
	free(in);
	free(packed);
}
END_TEST

/* A layout that cannot hold count records of bytes bytes is refused, never overrun. */
static void reject_bad(unsigned version)
{
	size_t max_words = 1 << 12, bytes, size_byte;
	__u64 *in = calloc(max_words, 8), *packed = calloc(max_words, 8), *out = calloc(max_words, 8);
	unsigned char *planes = (unsigned char *)packed;
	__u32 count;

	ck_assert(in && packed && out);
	bytes = make_shapes(in, max_words, &count);
	mh_trace_columns_encode(in, bytes, count, version, 1, packed);
	ck_assert_int_eq(mh_trace_columns_decode(packed, bytes - 4, count, version, 1, out), -EBADMSG);
	ck_assert_int_eq(mh_trace_columns_decode(packed, bytes, (__u32)(bytes / 8 + 1), version, 1,
						 out), -EBADMSG);
	ck_assert_int_eq(mh_trace_columns_decode(packed, bytes, count - 1, version, 1, out), -EBADMSG);
	/* Byte 4 of the first header word, the low byte of its size: plane 4, word 0. */
	size_byte = 4 * (version >= MH_TRACE_VERSION_FIELD_COLUMNS ? count : bytes / 8);
	planes[size_byte] ^= 0x08;
	ck_assert_int_eq(mh_trace_columns_decode(packed, bytes, count, version, 1, out), -EBADMSG);
	planes[size_byte] ^= 0x08;
	planes[size_byte] ^= 0x03;	/* not a multiple of 8 */
	ck_assert_int_eq(mh_trace_columns_decode(packed, bytes, count, version, 1, out), -EBADMSG);
	planes[size_byte] ^= 0x03;
	ck_assert_int_eq(mh_trace_columns_decode(packed, bytes, count, version, 1, out), 0);
	free(in);
	free(packed);
	free(out);
}

START_TEST(columns_reject_bad_layouts)
{
	reject_bad(7);
	reject_bad(MH_TRACE_VERSION);
}
END_TEST

/* Records the chunk headers of path promise, counted without decoding a payload. */
static unsigned long promised_records(const char *path)
{
	unsigned char buf[1 << 16];
	struct mh_chunk_header ch;
	unsigned long n = 0;
	size_t off, len;
	__u16 hb;
	int fd = open(path, O_RDONLY);
	ssize_t got;

	ck_assert_int_ge(fd, 0);
	got = read(fd, buf, sizeof(buf));
	close(fd);
	ck_assert_int_gt(got, 48);
	len = (size_t)got;
	memcpy(&hb, buf + 10, 2);
	for (off = hb; off + sizeof(ch) <= len; off += sizeof(ch) + ch.stored_bytes) {
		memcpy(&ch, buf + off, sizeof(ch));
		if (ch.stream == MH_STREAM_END)
			break;
		n += ch.record_count;
	}
	return n;
}

/*
 * A trace the version 7 writer made (a real recording of every kernel
 * record type, kept as a fuzzing seed) reads to its end with the version
 * 7 layout: as many records as its chunk headers promise, all valid.
 */
START_TEST(version_7_trace_still_reads)
{
	const char *path = "tests/fuzz/seeds/all_types_v7.trace";
	struct mh_trace_reader *r;
	const struct mh_rec_hdr *rec;
	unsigned long n = 0;
	int ret;

	if (access(path, R_OK)) {
		printf("SKIP version_7_trace_still_reads: %s not found (run from the source tree)\n",
		       path);
		return;
	}
	r = mh_trace_reader_open(path);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(mh_trace_reader_header(r)->version, 7);
	while ((ret = mh_trace_reader_next(r, MH_STREAM_ANY, &rec, NULL)) == 1) {
		ck_assert_uint_ge(rec->size, mh_rec_min_size(rec->type));
		n++;
	}
	ck_assert_msg(ret == 0, "%s", mh_trace_reader_error(r));
	ck_assert_uint_gt(n, 10);
	ck_assert_uint_eq(n, promised_records(path));
	mh_trace_reader_free(r);
}
END_TEST

static Suite *columns_suite(void)
{
	Suite *s = suite_create("columns");
	TCase *tc = tcase_create("Layout");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, columns_round_trip_every_shape);
	tcase_add_test(tc, columns_v8_layout_is_the_documented_one);
	tcase_add_test(tc, columns_v8_shrinks_kernel_streams);
	tcase_add_test(tc, columns_reject_bad_layouts);
	tcase_add_test(tc, version_7_trace_still_reads);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mh_test_run_suite(columns_suite());
}
