// SPDX-License-Identifier: MIT
/*
 * check_compact.c - the compact encoding of alloc-stream chunks
 * (trace/compact.c) on its own and through the trace writer and reader:
 * random records with extreme values (addresses 0 and ~0, sizes 0 and
 * SIZE_MAX, timestamps going backwards, thousands of threads, pids coming
 * back), damaged encodings, and traces of the previous version. The
 * oracle is the list of records the test generated itself: the decoder
 * and the reader must give back exactly those bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <zlib.h>
#include <zstd.h>

#include "trace/columns.h"
#include "trace/compact.h"
#include "trace/reader.h"
#include "trace/writer.h"
#include "tests/testutil.h"

static char tmp_dir[] = "/tmp/check_compact.XXXXXX";
static char trace_path[256];

static void setup(void)
{
	strcpy(tmp_dir, "/tmp/check_compact.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp_dir));
	snprintf(trace_path, sizeof(trace_path), "%s/t.mht", tmp_dir);
}

static void teardown(void)
{
	unlink(trace_path);
	rmdir(tmp_dir);
}

/* A value that is often extreme: 0, ~0, the top bit, near a previous one, or anything. */
static __u64 wild(__u64 *x, __u64 near)
{
	switch (mh_test_random(x) % 8) {
	case 0: return 0;
	case 1: return ~0ULL;
	case 2: return 1ULL << 63;
	case 3: return near + mh_test_random(x) % 256;
	case 4: return near - mh_test_random(x) % 256;
	case 5: return (__u64)SIZE_MAX - mh_test_random(x) % 3;
	default: return mh_test_random(x);
	}
}

/* The (pid, tid) of the next event: few threads mostly, now and then one of thousands. */
static void pick_thread(__u64 *x, __u32 *pid, __u32 *tid)
{
	__u64 r = mh_test_random(x);

	if (r % 4) {
		*pid = 100 + (__u32)(r >> 8) % 3;	/* the same pids again: reuse */
		*tid = *pid + (__u32)(r >> 16) % 4;
	} else if (r % 16 == 4) {
		*pid = (__u32)(r >> 8);
		*tid = UINT32_MAX - (__u32)(r >> 40) % 2;
	} else {
		*pid = 7;
		*tid = 1000 + (__u32)(r >> 8) % 5000;	/* thousands of threads */
	}
}

/* One event record at p (kind up to 31: past the tag's room too). Returns its size. */
static size_t make_event(__u64 *x, unsigned char *p, __u64 *last_ts, __u64 *last_addr)
{
	__u64 r = mh_test_random(x), ts = wild(x, *last_ts), addr = wild(x, *last_addr);
	__u16 kind = (__u16)(r % 32 < 24 ? r % 16 : r % 32);
	struct mh_rec_realloc re = { 0 };
	struct mh_rec_alloc a = { 0 };
	struct mh_rec_free f = { 0 };
	__u32 pid, tid;

	*last_ts = ts;
	*last_addr = addr;
	pick_thread(x, &pid, &tid);
	switch ((r >> 8) % 3) {
	case 0:
		a = (struct mh_rec_alloc){ { MH_REC_ALLOC, kind, sizeof(a) }, ts, addr,
					   wild(x, 64),
					   wild(x, 0x1234) % 64 ? mh_test_random(x) % 40 :
								  wild(x, 0),
					   tid, pid };
		memcpy(p, &a, sizeof(a));
		return sizeof(a);
	case 1:
		f = (struct mh_rec_free){ { MH_REC_FREE, kind, sizeof(f) }, ts, addr, wild(x, 0), tid,
					  pid };
		memcpy(p, &f, sizeof(f));
		return sizeof(f);
	default:
		re = (struct mh_rec_realloc){ { MH_REC_REALLOC, kind, sizeof(re) }, ts, addr,
					      wild(x, 100), wild(x, addr), wild(x, 0),
					      mh_test_random(x) % 50, tid, pid };
		memcpy(p, &re, sizeof(re));
		return sizeof(re);
	}
}

/* A record the encoding copies: a stack, a longer ALLOC, an unknown type. Returns its size. */
static size_t make_other(__u64 *x, unsigned char *p)
{
	__u64 r = mh_test_random(x);
	unsigned words = 3 + (unsigned)(r >> 8) % 20;
	struct mh_rec_hdr h = { (__u16)(r % 3 == 0 ? MH_REC_STACK : r % 3 == 1 ? MH_REC_ALLOC : 300),
				0, words * 8 };

	if (h.type == MH_REC_ALLOC)
		h.size = sizeof(struct mh_rec_alloc) + 8;	/* a newer writer's longer record */
	memcpy(p, &h, sizeof(h));
	for (unsigned i = 8; i < h.size; i += 8) {
		__u64 v = wild(x, i);

		memcpy(p + i, &v, sizeof(v));
	}
	if (h.type == MH_REC_STACK) {
		struct mh_rec_stack *st = (struct mh_rec_stack *)p;

		st->depth = (__u16)(words - 3);	/* a valid record: the reader checks */
	}
	return h.size;
}

/* Fill buf with records up to about max bytes. Returns the bytes; *count gets the records. */
static size_t make_records(__u64 *x, unsigned char *buf, size_t max, __u32 *count)
{
	__u64 ts = 1000, addr = 0x7f0000001000ULL;
	size_t used = 0;

	*count = 0;
	while (used + 256 < max) {
		if (mh_test_random(x) % 10)
			used += make_event(x, buf + used, &ts, &addr);
		else
			used += make_other(x, buf + used);
		(*count)++;
	}
	return used;
}

/* A writer on trace_path with a fresh header (in h). */
static struct mh_trace_writer *open_writer(struct mh_trace_header *h)
{
	struct mh_trace_writer *w;

	mh_trace_header_init(h, 42, 0);
	w = mh_trace_writer_open(trace_path, h);
	ck_assert_ptr_nonnull(w);
	return w;
}

/*
 * Encode then decode: the same bytes back, chunk after chunk on the same
 * two coders; and the same encoding when the records come in slices.
 */
START_TEST(round_trip_extremes)
{
	size_t max = 1 << 20, bytes, len, off, end;
	unsigned char *in = malloc(max), *packed = malloc(MH_TRACE_COMPACT_BOUND(max));
	unsigned char *out = malloc(max + 64), *sliced = malloc(MH_TRACE_COMPACT_BOUND(max));
	struct mh_trace_compact *enc = mh_trace_compact_new(), *dec = mh_trace_compact_new();
	struct mh_trace_compact *part = mh_trace_compact_new();
	__u64 x = 0x9e3779b97f4a7c15ULL;
	__u32 count;

	ck_assert(in && packed && out && sliced && enc && dec && part);
	for (int round = 0; round < 6; round++) {
		bytes = make_records(&x, in, round ? max >> round : max, &count);
		len = mh_trace_compact_encode(enc, in, bytes, packed);
		ck_assert_uint_gt(len, 0);
		ck_assert_uint_le(len, MH_TRACE_COMPACT_BOUND(bytes));
		memset(out, 0xa5, max + 64);
		ck_assert_int_eq(mh_trace_compact_decode(dec, packed, len, out, bytes, count), 0);
		ck_assert_int_eq(memcmp(in, out, bytes), 0);
		ck_assert_uint_eq(out[bytes], 0xa5);	/* nothing past the records */
		ck_assert_int_eq(mh_trace_compact_open(part, bytes), 0);
		for (off = 0; off < bytes; off = end) {
			size_t want = off + mh_test_random(&x) % 5000;
			struct mh_rec_hdr h;

			for (end = off; end < bytes; end += h.size) {
				memcpy(&h, in + end, sizeof(h));
				if (end > off && end + h.size > want)
					break;
			}
			ck_assert_uint_eq(mh_trace_compact_add(part, in + off, end - off), end - off);
		}
		ck_assert_uint_eq(mh_trace_compact_size(part), len);
		ck_assert_uint_eq(mh_trace_compact_close(part, sliced), len);
		ck_assert_int_eq(memcmp(sliced, packed, len), 0);
	}
	/* No records at all. */
	len = mh_trace_compact_encode(enc, in, 0, packed);
	ck_assert_int_eq(mh_trace_compact_decode(dec, packed, len, out, 0, 0), 0);
	mh_trace_compact_free(enc);
	mh_trace_compact_free(dec);
	mh_trace_compact_free(part);
	free(in);
	free(packed);
	free(out);
	free(sliced);
}
END_TEST

/*
 * Every cut and every flipped byte of an encoding gives -EBADMSG or
 * records of the promised size, never a write past the output.
 */
START_TEST(damaged_encodings_are_refused)
{
	size_t max = 6000, bytes, len, cut;
	unsigned char *in = malloc(max), *packed = malloc(MH_TRACE_COMPACT_BOUND(max));
	unsigned char *out = malloc(max + 64);
	struct mh_trace_compact *c = mh_trace_compact_new();
	__u64 x = 12345;
	__u32 count;
	int ret;

	ck_assert(in && packed && out && c);
	bytes = make_records(&x, in, max, &count);
	len = mh_trace_compact_encode(c, in, bytes, packed);
	for (cut = 0; cut < len; cut++)
		ck_assert_int_eq(mh_trace_compact_decode(c, packed, cut, out, bytes, count), -EBADMSG);
	ck_assert_int_eq(mh_trace_compact_decode(c, packed, len, out, bytes, count + 1), -EBADMSG);
	/* Promised fewer bytes than the records take: refused, nothing written past them. */
	for (size_t less = 8; less <= 256 && less < bytes; less += 8) {
		memset(out, 0xa5, max + 64);
		ck_assert_int_eq(mh_trace_compact_decode(c, packed, len, out, bytes - less, count),
				 -EBADMSG);
		ck_assert_uint_eq(out[bytes - less], 0xa5);
	}
	for (size_t at = 0; at < len; at++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			packed[at] ^= (unsigned char)(1u << bit);
			memset(out + bytes, 0xa5, 64);
			ret = mh_trace_compact_decode(c, packed, len, out, bytes, count);
			ck_assert(ret == 0 || ret == -EBADMSG);
			ck_assert_uint_eq(out[bytes], 0xa5);
			packed[at] ^= (unsigned char)(1u << bit);
		}
	}
	ck_assert_int_eq(mh_trace_compact_decode(c, packed, len, out, bytes, count), 0);
	ck_assert_int_eq(memcmp(in, out, bytes), 0);
	mh_trace_compact_free(c);
	free(in);
	free(packed);
	free(out);
}
END_TEST

/* Through the writer and the reader: several chunks, every record as written. */
START_TEST(trace_round_trip)
{
	struct mh_trace_header h;
	size_t max = 12 << 20, bytes, off = 0;
	unsigned char *in = malloc(max);
	const struct mh_rec_hdr *rec;
	struct mh_trace_writer *w;
	struct mh_trace_reader *r;
	__u64 x = 777;
	__u32 count, n = 0;
	int ret;

	ck_assert_ptr_nonnull(in);
	bytes = make_records(&x, in, max, &count);
	w = open_writer(&h);
	/* Batches of uneven size, as the recorder's drainer hands them over. */
	while (off < bytes) {
		size_t batch = 0;

		while (off + batch < bytes && batch < 300000) {
			batch += ((const struct mh_rec_hdr *)(in + off + batch))->size;
		}
		ck_assert_int_eq(mh_trace_writer_append(w, MH_STREAM_ALLOC, in + off, batch), 0);
		off += batch;
	}
	ck_assert_int_eq(mh_trace_writer_close(w, true), 0);
	r = mh_trace_reader_open(trace_path);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(mh_trace_reader_header(r)->version, MH_TRACE_VERSION);
	off = 0;
	while ((ret = mh_trace_reader_next(r, MH_STREAM_ANY, &rec, NULL)) == 1) {
		ck_assert_uint_le(off + rec->size, bytes);
		ck_assert_int_eq(memcmp(rec, in + off, rec->size), 0);
		off += rec->size;
		n++;
	}
	ck_assert_msg(ret == 0, "%s", mh_trace_reader_error(r));
	ck_assert_uint_eq(n, count);
	ck_assert_uint_eq(off, bytes);
	mh_trace_reader_free(r);
	free(in);
}
END_TEST

/* Write a file of one chunk by hand: version, flags, payload as given. */
static void write_one_chunk(__u16 version, __u16 flags, const void *payload, __u32 stored,
			    __u32 raw_bytes, __u32 count)
{
	struct mh_trace_header h;
	struct mh_chunk_header ch = {
		.magic = MH_CHUNK_MAGIC,
		.stream = MH_STREAM_ALLOC,
		.flags = flags,
		.stored_bytes = stored,
		.raw_bytes = raw_bytes,
		.record_count = count,
		.crc32 = (__u32)crc32(0L, payload, stored),
	};
	struct mh_chunk_header end = { .magic = MH_CHUNK_MAGIC, .stream = MH_STREAM_END };
	int fd = open(trace_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	mh_trace_header_init(&h, 42, 0);
	h.version = version;
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, &h, sizeof(h)), (ssize_t)sizeof(h));
	ck_assert_int_eq(write(fd, &ch, sizeof(ch)), (ssize_t)sizeof(ch));
	ck_assert_int_eq(write(fd, payload, stored), (ssize_t)stored);
	ck_assert_int_eq(write(fd, &end, sizeof(end)), (ssize_t)sizeof(end));
	close(fd);
}

/* Read every record; compare with want. Returns next()'s last result; *why the error. */
static int read_back(const unsigned char *want, size_t bytes, char *why, size_t why_len)
{
	struct mh_trace_reader *r = mh_trace_reader_open(trace_path);
	const struct mh_rec_hdr *rec;
	size_t off = 0;
	int ret;

	ck_assert_ptr_nonnull(r);
	while ((ret = mh_trace_reader_next(r, MH_STREAM_ALLOC, &rec, NULL)) == 1) {
		ck_assert_uint_le(off + rec->size, bytes);
		ck_assert_int_eq(memcmp(rec, want + off, rec->size), 0);
		off += rec->size;
	}
	snprintf(why, why_len, "%s", mh_trace_reader_error(r));
	if (ret == 0)
		ck_assert_uint_eq(off, bytes);
	mh_trace_reader_free(r);
	return ret;
}

/*
 * As read_back(), but taking the records in slices of at most cap bytes
 * (mh_trace_reader_take_records(), the report's way; the buffer grows
 * for a larger record): the same records, the same errors.
 */
static int take_back(const unsigned char *want, size_t bytes, size_t cap, char *why, size_t why_len)
{
	struct mh_trace_reader *r = mh_trace_reader_open(trace_path);
	unsigned char *buf = malloc(cap);
	size_t off = 0, n;
	int ret;

	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(buf);
	while ((ret = mh_trace_reader_take_records(r, MH_STREAM_ALLOC, &buf, &cap, &n)) == 1) {
		ck_assert_uint_gt(n, 0);
		ck_assert_uint_le(n, cap);
		ck_assert_uint_le(off + n, bytes);
		ck_assert_int_eq(memcmp(buf, want + off, n), 0);
		off += n;
	}
	snprintf(why, why_len, "%s", mh_trace_reader_error(r));
	if (ret == 0)
		ck_assert_uint_eq(off, bytes);
	mh_trace_reader_free(r);
	free(buf);
	return ret;
}

/*
 * A version 3 trace (column chunks, built here by hand as docs/FORMAT.md
 * describes them) still reads; compact chunks in a file that says version
 * 3 are refused with a message naming the version.
 */
START_TEST(previous_version_reads)
{
	size_t max = 1 << 16, bytes, len, zlen;
	unsigned char *in = malloc(max), *packed = malloc(MH_TRACE_COMPACT_BOUND(max));
	unsigned char *z = malloc(ZSTD_compressBound(MH_TRACE_COMPACT_BOUND(max)));
	struct mh_trace_compact *c = mh_trace_compact_new();
	__u64 x = 4242;
	__u32 count;
	char why[300];

	ck_assert(in && packed && z && c);
	bytes = make_records(&x, in, max, &count);
	mh_trace_columns_encode(in, bytes, count, 3, 1, packed);
	zlen = ZSTD_compress(z, ZSTD_compressBound(bytes), packed, bytes, 1);
	ck_assert(!ZSTD_isError(zlen));
	write_one_chunk(3, MH_CHUNK_COLUMNS | MH_CHUNK_ZSTD, z, (__u32)zlen, (__u32)bytes, count);
	ck_assert_int_eq(read_back(in, bytes, why, sizeof(why)), 0);
	/* Raw records, as version 1 wrote them. */
	write_one_chunk(1, 0, in, (__u32)bytes, (__u32)bytes, count);
	ck_assert_int_eq(read_back(in, bytes, why, sizeof(why)), 0);

	len = mh_trace_compact_encode(c, in, bytes, packed);
	zlen = ZSTD_compress(z, ZSTD_compressBound(len), packed, len, 1);
	ck_assert(!ZSTD_isError(zlen));
	write_one_chunk(MH_TRACE_VERSION, MH_CHUNK_COMPACT | MH_CHUNK_ZSTD, z, (__u32)zlen,
			(__u32)bytes, count);
	ck_assert_int_eq(read_back(in, bytes, why, sizeof(why)), 0);
	write_one_chunk(3, MH_CHUNK_COMPACT | MH_CHUNK_ZSTD, z, (__u32)zlen, (__u32)bytes, count);
	ck_assert_int_eq(read_back(in, bytes, why, sizeof(why)), -EBADMSG);
	ck_assert_msg(strstr(why, "version 3") && strstr(why, "offset 48"), "%s", why);
	/* Compact but not compressed is no chunk a writer makes. */
	write_one_chunk(MH_TRACE_VERSION, MH_CHUNK_COMPACT, packed, (__u32)len, (__u32)bytes, count);
	ck_assert_int_eq(read_back(in, bytes, why, sizeof(why)), -EBADMSG);
	/* A compact payload whose records do not add up names the chunk. */
	write_one_chunk(MH_TRACE_VERSION, MH_CHUNK_COMPACT | MH_CHUNK_ZSTD, z, (__u32)zlen,
			(__u32)bytes, count - 1);
	ck_assert_int_eq(read_back(in, bytes, why, sizeof(why)), -EBADMSG);
	ck_assert_msg(strstr(why, "compact encoding") && strstr(why, "offset 48"), "%s", why);
	mh_trace_compact_free(c);
	free(in);
	free(packed);
	free(z);
}
END_TEST

/*
 * Four events of one thread (two allocations, then their frees in the
 * same order) and their encodings written out by hand from
 * docs/FORMAT.md, for versions 4, 5 and the current version.
 */
static const struct mh_rec_alloc hand_allocs[2] = {
	{ { MH_REC_ALLOC, 0, sizeof(struct mh_rec_alloc) }, 1000, 0x1000, 32, 0x55, 9, 9 },
	{ { MH_REC_ALLOC, 0, sizeof(struct mh_rec_alloc) }, 1300, 0x2000, 48, 0x55, 9, 9 },
};
static const struct mh_rec_free hand_frees[2] = {
	{ { MH_REC_FREE, 0, sizeof(struct mh_rec_free) }, 1500, 0x1000, 32, 9, 9 },
	{ { MH_REC_FREE, 0, sizeof(struct mh_rec_free) }, 1600, 0x2000, 48, 9, 9 },
};
/* Part lengths, then tags, threads, times, addresses, sizes, stacks. */
static const __u32 hand_v4_lengths[7] = { 4, 0, 3, 8, 6, 4, 10 };
static const unsigned char hand_v4_parts[] = {
	0x05, 0x01, 0x0a, 0x0a,				/* alloc + thread, alloc, 2 x free + ref */
	0, 9, 9,					/* new thread 0: pid 9, tid 9 */
	0xd0, 0x0f, 0xd8, 0x04, 0x90, 0x03, 0xc8, 0x01,	/* zigzag 2000, 600, 400, 200 */
	0x80, 0x40, 0x80, 0x40, 1, 1,			/* +0x1000, +0x1000, 1 back, 1 back */
	32, 48, 32, 48,
	8, 0x55, 0, 0, 0, 0, 0, 0, 0, 0,		/* new stack 0x55, then recent 0 */
};
static const __u32 hand_v5_lengths[8] = { 4, 0, 3, 4, 6, 4, 10, 4 };
static const unsigned char hand_v5_parts[] = {
	0x05, 0x01, 0x0a, 0x0a,
	0, 9, 9,
	0xd0, 0x58, 0x90, 0xc8,				/* low bytes of 2000, 600, 400, 200 */
	0x80, 0x40, 0x80, 0x40, 0, 0,			/* each free: the position after the last */
	32, 48, 32, 48,
	8, 0x55, 0, 0, 0, 0, 0, 0, 0, 0,
	7, 2, 1, 0,					/* the rest: >> 8 */
};
static const __u32 hand_v6_lengths[12] = { 4, 0, 3, 4, 2, 4, 2, 4, 0, 0, 4, 8 };
static const unsigned char hand_v6_parts[] = {
	0x05, 0x01, 0x0a, 0x0a,
	0, 9, 9,
	0xd0, 0x58, 0x90, 0xc8,
	0, 0,						/* freed addresses' references */
	32, 48, 32, 48,
	8, 0,						/* stack codes */
	7, 2, 1, 0,
	0x80, 0x40, 0x80, 0x40,				/* new allocated addresses */
	0x55, 0, 0, 0, 0, 0, 0, 0,			/* the new stack's id */
};

/* The hand-made payload of lengths and parts at out. Returns its bytes. */
static size_t hand_payload(unsigned char *out, const __u32 *lengths, unsigned parts,
			   const unsigned char *bytes, size_t n)
{
	memcpy(out, lengths, parts * sizeof(*lengths));
	memcpy(out + parts * sizeof(*lengths), bytes, n);
	return parts * sizeof(*lengths) + n;
}

/* A previous version's encoding decodes in a coder set to it and through the reader. */
static void previous_decodes(unsigned version, const __u32 *lengths, unsigned parts,
			     const unsigned char *bytes, size_t n, const unsigned char *records,
			     size_t raw_bytes)
{
	struct mh_trace_compact *c = mh_trace_compact_new();
	unsigned char want[256], out[4 * sizeof(struct mh_rec_alloc)], z[512];
	size_t want_len = hand_payload(want, lengths, parts, bytes, n), zlen;
	char why[300];

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(mh_trace_compact_decode(c, want, want_len, out, raw_bytes, 4), -EBADMSG);
	mh_trace_compact_set_version(c, version);
	ck_assert_int_eq(mh_trace_compact_decode(c, want, want_len, out, raw_bytes, 4), 0);
	ck_assert_int_eq(memcmp(out, records, raw_bytes), 0);
	zlen = ZSTD_compress(z, sizeof(z), want, want_len, 1);
	ck_assert(!ZSTD_isError(zlen));
	write_one_chunk((__u16)version, MH_CHUNK_COMPACT | MH_CHUNK_ZSTD, z, (__u32)zlen,
			(__u32)raw_bytes, 4);
	ck_assert_int_eq(read_back(records, raw_bytes, why, sizeof(why)), 0);
	mh_trace_compact_free(c);
}

/*
 * The encoder writes exactly the hand-made encoding; version 4 and 5
 * traces' encodings still decode, in a coder set to their version and
 * through the reader, and are refused as the current version's.
 */
START_TEST(encodings_by_hand)
{
	unsigned char records[4 * sizeof(struct mh_rec_alloc)], out[sizeof(records)];
	unsigned char packed[MH_TRACE_COMPACT_BOUND(sizeof(records))], want[256];
	struct mh_trace_compact *c = mh_trace_compact_new();
	size_t bytes = 0, len, want_len;

	ck_assert_ptr_nonnull(c);
	memcpy(records, hand_allocs, sizeof(hand_allocs));
	bytes += sizeof(hand_allocs);
	memcpy(records + bytes, hand_frees, sizeof(hand_frees));
	bytes += sizeof(hand_frees);

	len = mh_trace_compact_encode(c, records, bytes, packed);
	want_len = hand_payload(want, hand_v6_lengths, 12, hand_v6_parts, sizeof(hand_v6_parts));
	ck_assert_uint_eq(len, want_len);
	ck_assert_int_eq(memcmp(packed, want, len), 0);
	ck_assert_int_eq(mh_trace_compact_decode(c, want, want_len, out, bytes, 4), 0);
	ck_assert_int_eq(memcmp(out, records, bytes), 0);
	mh_trace_compact_free(c);

	previous_decodes(4, hand_v4_lengths, 7, hand_v4_parts, sizeof(hand_v4_parts), records,
			 bytes);
	previous_decodes(5, hand_v5_lengths, 8, hand_v5_parts, sizeof(hand_v5_parts), records,
			 bytes);
}
END_TEST

/*
 * A record the encoding copies is checked by the reader as in any other
 * chunk, though the chunk's events are not walked again: a stack whose
 * depth runs past its record, between two allocations, is refused.
 */
START_TEST(copied_record_is_checked)
{
	struct mh_rec_stack st = { { MH_REC_STACK, 0, sizeof(st) + 8 }, 5, 3, 40, 0 };
	unsigned char in[2 * sizeof(hand_allocs[0]) + sizeof(st) + 8] = { 0 };
	unsigned char packed[MH_TRACE_COMPACT_BOUND(sizeof(in))], z[1024];
	struct mh_trace_compact *c = mh_trace_compact_new();
	size_t len, zlen;
	char why[300];

	ck_assert_ptr_nonnull(c);
	memcpy(in, &hand_allocs[0], sizeof(hand_allocs[0]));
	memcpy(in + sizeof(hand_allocs[0]), &st, sizeof(st));
	memcpy(in + sizeof(hand_allocs[0]) + sizeof(st) + 8, &hand_allocs[1], sizeof(hand_allocs[1]));
	len = mh_trace_compact_encode(c, in, sizeof(in), packed);
	ck_assert_uint_gt(len, 0);
	zlen = ZSTD_compress(z, sizeof(z), packed, len, 1);
	ck_assert(!ZSTD_isError(zlen));
	write_one_chunk(MH_TRACE_VERSION, MH_CHUNK_COMPACT | MH_CHUNK_ZSTD, z, (__u32)zlen,
			(__u32)sizeof(in), 3);
	ck_assert_int_eq(read_back(in, sizeof(in), why, sizeof(why)), -EBADMSG);
	ck_assert_msg(strstr(why, "stack depth past the record"), "%s", why);
	/* Taken a slice at a time: the slice holding the copy is checked. */
	ck_assert_int_eq(take_back(in, sizeof(in), 8, why, sizeof(why)), -EBADMSG);
	ck_assert_msg(strstr(why, "stack depth past the record"), "%s", why);
	mh_trace_compact_free(c);
}
END_TEST

/*
 * Records taken in slices (mh_trace_reader_take_records(), the report's
 * way) give back every record written, in order, after a record read
 * alone: the rest of its chunk first, then the chunks after it, slices
 * of at most the buffer's size, whatever its size.
 */
START_TEST(records_taken_in_slices)
{
	static const size_t caps[] = { 8, 1000, 256 << 10 };
	struct mh_trace_header h;
	size_t max = 5 * (size_t)MH_CHUNK_MAX_RAW_BYTES / 2, bytes, off, cap, n, rec_first;
	unsigned char *in = malloc(max), *buf;
	const struct mh_rec_hdr *rec;
	struct mh_trace_writer *w;
	struct mh_trace_reader *r;
	unsigned slices;
	__u64 x = 4242;
	__u32 count;
	int ret;

	ck_assert_ptr_nonnull(in);
	bytes = make_records(&x, in, max, &count);
	w = open_writer(&h);
	ck_assert_int_eq(mh_trace_writer_append(w, MH_STREAM_ALLOC, in, bytes), 0);
	ck_assert_int_eq(mh_trace_writer_close(w, true), 0);
	for (unsigned i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		r = mh_trace_reader_open(trace_path);
		ck_assert_ptr_nonnull(r);
		ck_assert_int_eq(mh_trace_reader_next(r, MH_STREAM_ALLOC, &rec, NULL), 1);
		ck_assert_int_eq(memcmp(rec, in, rec->size), 0);
		off = rec_first = rec->size;
		cap = caps[i];
		buf = malloc(cap);
		slices = 0;
		while ((ret = mh_trace_reader_take_records(r, MH_STREAM_ALLOC, &buf, &cap, &n)) == 1) {
			ck_assert_uint_le(n, cap);
			ck_assert_uint_le(off + n, bytes);
			ck_assert_int_eq(memcmp(buf, in + off, n), 0);
			off += n;
			slices++;
		}
		ck_assert_msg(ret == 0, "%s", mh_trace_reader_error(r));
		ck_assert_uint_eq(off, bytes);
		ck_assert_uint_ge(slices, (bytes - rec_first) / cap);
		mh_trace_reader_free(r);
		free(buf);
	}
	free(in);
}
END_TEST

static Suite *compact_suite(void)
{
	Suite *s = suite_create("compact");
	TCase *tc = tcase_create("Encoding");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, round_trip_extremes);
	tcase_add_test(tc, damaged_encodings_are_refused);
	tcase_add_test(tc, trace_round_trip);
	tcase_add_test(tc, previous_version_reads);
	tcase_add_test(tc, encodings_by_hand);
	tcase_add_test(tc, copied_record_is_checked);
	tcase_add_test(tc, records_taken_in_slices);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mh_test_run_suite(compact_suite());
}
