// SPDX-License-Identifier: MIT
/*
 * check_trace.c - the trace writer (trace/writer.c) and reader
 * (trace/reader.c): round trips through every stream, truncated
 * files, corrupted bytes. The oracle is the list of records the test
 * itself generated; the reader must return exactly those, in order.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "trace/columns.h"
#include "trace/compact.h"
#include "trace/compress.h"
#include "trace/writer.h"
#include "trace/reader.h"
#include "trace/records.h"
#include "tests/testutil.h"

static char tmp_dir[] = "/tmp/check_trace.XXXXXX";
static char trace_path[256];

static void setup(void)
{
	strcpy(tmp_dir, "/tmp/check_trace.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp_dir));
	snprintf(trace_path, sizeof(trace_path), "%s/t.mht", tmp_dir);
}

static void teardown(void)
{
	unlink(trace_path);
	rmdir(tmp_dir);
}

static struct mh_trace_header make_header(void)
{
	struct mh_trace_header h = {
		.magic = MH_TRACE_MAGIC,
		.version = MH_TRACE_VERSION,
		.header_bytes = sizeof(h),
		.flags = MH_TRACE_LITTLE_ENDIAN,
		.start_ns = 1000,
		.page_size = 4096,
		.root_pid = 42,
		.pointer_bytes = 8,
	};
	return h;
}

/* Deterministic pseudo-random record i; the test regenerates it to compare. */
static void make_alloc(struct mh_rec_alloc *a, unsigned i)
{
	memset(a, 0, sizeof(*a));
	a->hdr.type = MH_REC_ALLOC;
	a->hdr.kind = MH_KIND_MALLOC;
	a->hdr.size = sizeof(*a);
	a->ts_ns = 1000 + i;
	a->addr = 0x10000 + (__u64)i * 48;
	a->size = (i * 2654435761u) % 4096;
	a->stack_id = 1 + i % 97;
	a->tid = 100 + i % 7;
	a->pid = 42;
}

static size_t make_info(unsigned char *buf, const char *key, const char *value)
{
	struct mh_rec_info *info = (struct mh_rec_info *)buf;
	size_t klen = strlen(key), vlen = strlen(value);
	size_t size = MH_REC_PAD(sizeof(*info) + klen + vlen + 2);

	memset(buf, 0, size);
	info->hdr.type = MH_REC_INFO;
	info->hdr.size = (__u32)size;
	info->ts_ns = 5;
	info->key_len = (__u16)klen;
	info->value_len = (__u16)vlen;
	memcpy(info + 1, key, klen);
	memcpy((char *)(info + 1) + klen + 1, value, vlen);
	return size;
}

/* Write n ALLOC records in batches, plus one INFO and one sample per stream. */
static int write_trace(unsigned n, bool close_it)
{
	struct mh_trace_header h = make_header();
	struct mh_trace_writer *w = mh_trace_writer_open(trace_path, &h);
	struct mh_rec_alloc batch[256];
	struct mh_rec_rss_sample s = { .hdr = { MH_REC_RSS_SAMPLE, 0, sizeof(s) }, .ts_ns = 7 };
	unsigned char info[128];
	unsigned i = 0, k;
	int err;

	ck_assert_ptr_nonnull(w);
	err = mh_trace_writer_append(w, MH_STREAM_META, info, make_info(info, "cmd", "prog a b"));
	ck_assert_int_eq(err, 0);
	while (i < n) {
		for (k = 0; k < 256 && i < n; k++, i++)
			make_alloc(&batch[k], i);
		err = mh_trace_writer_append(w, MH_STREAM_ALLOC, batch, k * sizeof(batch[0]));
		ck_assert_int_eq(err, 0);
	}
	ck_assert_int_eq(mh_trace_writer_append(w, MH_STREAM_SAMPLE, &s, sizeof(s)), 0);
	ck_assert_int_eq(mh_trace_writer_append(w, MH_STREAM_KERNEL, &s, sizeof(s)), 0);
	if (close_it)
		return mh_trace_writer_close(w, true);
	ck_assert_int_eq(mh_trace_writer_flush(w), 0);
	/* Leak the writer on purpose: the file must read as a writer that died. */
	return 0;
}

/* Read everything; count records per stream and check ALLOC contents. Returns next()'s last result. */
static int read_all(const char *path, unsigned counts[MH_STREAM_COUNT], unsigned *alloc_ok)
{
	struct mh_trace_reader *r = mh_trace_reader_open(path);
	const struct mh_rec_hdr *rec;
	struct mh_rec_alloc want;
	int stream, ret;

	ck_assert_ptr_nonnull(r);
	memset(counts, 0, sizeof(unsigned) * MH_STREAM_COUNT);
	*alloc_ok = 0;
	while ((ret = mh_trace_reader_next(r, MH_STREAM_ANY, &rec, &stream)) == 1) {
		ck_assert_int_ge(stream, 0);
		ck_assert_int_lt(stream, MH_STREAM_COUNT);
		counts[stream]++;
		if (stream == MH_STREAM_ALLOC) {
			make_alloc(&want, *alloc_ok);
			if (memcmp(rec, &want, sizeof(want)) == 0)
				(*alloc_ok)++;
		}
	}
	mh_trace_reader_free(r);
	return ret;
}

START_TEST(round_trip_all_streams)
{
	const unsigned n = 300000; /* several chunks of the ALLOC stream */
	unsigned counts[MH_STREAM_COUNT], ok;
	struct mh_trace_reader *r;
	struct stat st;

	ck_assert_int_eq(write_trace(n, true), 0);
	ck_assert_int_eq(stat(trace_path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(read_all(trace_path, counts, &ok), 0);
	ck_assert_uint_eq(counts[MH_STREAM_META], 1);
	ck_assert_uint_eq(counts[MH_STREAM_ALLOC], n);
	ck_assert_uint_eq(ok, n);
	ck_assert_uint_eq(counts[MH_STREAM_SAMPLE], 1);
	ck_assert_uint_eq(counts[MH_STREAM_KERNEL], 1);

	r = mh_trace_reader_open(trace_path);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(mh_trace_reader_header(r)->root_pid, 42);
	{
		const struct mh_rec_hdr *rec;
		unsigned m = 0;

		while (mh_trace_reader_next(r, MH_STREAM_META, &rec, NULL) == 1) {
			ck_assert_uint_eq(rec->type, MH_REC_INFO);
			m++;
		}
		ck_assert_uint_eq(m, 1);
	}
	ck_assert(!mh_trace_reader_truncated(r));
	mh_trace_reader_free(r);

	/* One stream on its own: the ALLOC chunks are stepped over. */
	r = mh_trace_reader_open(trace_path);
	ck_assert_ptr_nonnull(r);
	{
		const struct mh_rec_hdr *rec;
		unsigned m = 0;
		int stream;

		while (mh_trace_reader_next(r, MH_STREAM_SAMPLE, &rec, &stream) == 1) {
			ck_assert_int_eq(stream, MH_STREAM_SAMPLE);
			ck_assert_uint_eq(rec->type, MH_REC_RSS_SAMPLE);
			m++;
		}
		ck_assert_uint_eq(m, 1);
	}
	ck_assert(!mh_trace_reader_truncated(r));
	mh_trace_reader_free(r);
}
END_TEST

START_TEST(unclosed_writer_reads_as_truncated)
{
	unsigned counts[MH_STREAM_COUNT], ok;
	struct mh_trace_reader *r;
	const struct mh_rec_hdr *rec;
	struct stat st;

	ck_assert_int_eq(write_trace(1000, false), 0);
	ck_assert_int_eq(read_all(trace_path, counts, &ok), 0);
	ck_assert_uint_eq(ok, 1000);
	r = mh_trace_reader_open(trace_path);
	while (mh_trace_reader_next(r, MH_STREAM_ANY, &rec, NULL) == 1)
		;
	ck_assert(mh_trace_reader_truncated(r));
	ck_assert_int_eq(stat(trace_path, &st), 0);
	ck_assert_uint_eq(mh_trace_reader_truncated_at(r), (uint64_t)st.st_size);
	mh_trace_reader_free(r);
}
END_TEST

/* Cut the file at every 1/50th of its length: reads stop at the last whole chunk. */
START_TEST(cut_file_reads_to_last_chunk)
{
	unsigned counts[MH_STREAM_COUNT], ok, prev_ok = 0;
	struct mh_trace_reader *r;
	const struct mh_rec_hdr *rec;
	struct stat st;
	off_t size, len;
	int i, ret;

	ck_assert_int_eq(write_trace(300000, true), 0);
	ck_assert_int_eq(stat(trace_path, &st), 0);
	size = st.st_size;
	for (i = 50; i >= 1; i--) {
		len = size * i / 51;
		ck_assert_int_eq(truncate(trace_path, len), 0);
		ret = read_all(trace_path, counts, &ok);
		ck_assert_int_eq(ret, 0);
		ck_assert_uint_eq(ok, counts[MH_STREAM_ALLOC]);
		if (i < 50)
			ck_assert_uint_le(ok, prev_ok);
		prev_ok = ok;
		r = mh_trace_reader_open(trace_path);
		ck_assert_ptr_nonnull(r);
		while (mh_trace_reader_next(r, MH_STREAM_ANY, &rec, NULL) == 1)
			;
		ck_assert(mh_trace_reader_truncated(r));
		ck_assert_uint_le(mh_trace_reader_truncated_at(r), (uint64_t)len);
		mh_trace_reader_free(r);
	}
}
END_TEST

static void flip_byte(const char *path, off_t at)
{
	unsigned char b;
	int fd = open(path, O_RDWR);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &b, 1, at), 1);
	b ^= 0x5a;
	ck_assert_int_eq(pwrite(fd, &b, 1, at), 1);
	close(fd);
}

START_TEST(corrupt_payload_is_ebadmsg)
{
	struct mh_trace_reader *r;
	const struct mh_rec_hdr *rec;
	int ret;

	ck_assert_int_eq(write_trace(5000, true), 0);
	/* Inside the first chunk's payload: after the file and chunk headers. */
	flip_byte(trace_path, sizeof(struct mh_trace_header) + sizeof(struct mh_chunk_header) + 3);
	r = mh_trace_reader_open(trace_path);
	ck_assert_ptr_nonnull(r);
	while ((ret = mh_trace_reader_next(r, MH_STREAM_ANY, &rec, NULL)) == 1)
		;
	ck_assert_int_eq(ret, -EBADMSG);
	ck_assert_ptr_nonnull(strstr(mh_trace_reader_error(r), "offset 48"));
	/* The error sticks. */
	ck_assert_int_eq(mh_trace_reader_next(r, MH_STREAM_ANY, &rec, NULL), -EBADMSG);
	mh_trace_reader_free(r);
}
END_TEST

/* True if offset at lies in some chunk header's first_ts_ns field. */
static bool in_first_ts(const char *path, off_t at)
{
	struct mh_chunk_header ch;
	off_t off = sizeof(struct mh_trace_header);
	int fd = open(path, O_RDONLY);
	bool hit = false;

	while (pread(fd, &ch, sizeof(ch), off) == (ssize_t)sizeof(ch)) {
		if (at >= off + 24 && at < off + 32)
			hit = true;
		if (ch.magic != MH_CHUNK_MAGIC || ch.stream == MH_STREAM_END)
			break;
		off += sizeof(ch) + ch.stored_bytes;
	}
	close(fd);
	return hit;
}

/* Every single-byte corruption of a small trace: no crash, a defined outcome. */
START_TEST(every_corrupt_byte_is_handled)
{
	struct mh_trace_reader *r;
	const struct mh_rec_hdr *rec;
	struct stat st;
	off_t at;
	int ret;

	ck_assert_int_eq(write_trace(200, true), 0);
	ck_assert_int_eq(stat(trace_path, &st), 0);
	for (at = 0; at < st.st_size; at++) {
		flip_byte(trace_path, at);
		r = mh_trace_reader_open(trace_path);
		if (!r) {
			/* EBADMSG: an impossible page size (a flipped bit of it). */
			ck_assert(errno == EPROTO || errno == EPROTONOSUPPORT || errno == EBADMSG);
			ck_assert_int_lt(at, (off_t)sizeof(struct mh_trace_header));
		} else {
			while ((ret = mh_trace_reader_next(r, MH_STREAM_ANY, &rec, NULL)) == 1)
				ck_assert_uint_ge(rec->size, 8);
			/*
			 * A changed size field may make a chunk look cut; only the file
			 * header's informational fields and a chunk's first_ts_ns are
			 * not checked; anything else is corrupt.
			 */
			if (ret == 0)
				ck_assert(mh_trace_reader_truncated(r) || at < 48 ||
					  in_first_ts(trace_path, at));
			else
				ck_assert_int_eq(ret, -EBADMSG);
			mh_trace_reader_free(r);
		}
		flip_byte(trace_path, at);
	}
}
END_TEST

START_TEST(not_a_trace_is_eproto)
{
	FILE *f = fopen(trace_path, "w");

	ck_assert_ptr_nonnull(f);
	fputs("#!/bin/sh\necho this is not a trace, it is long enough for a header\n", f);
	fclose(f);
	ck_assert_ptr_null(mh_trace_reader_open(trace_path));
	ck_assert_int_eq(errno, EPROTO);
	ck_assert_ptr_null(mh_trace_reader_open("/nonexistent/trace.mht"));
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(bad_records_are_refused_by_writer)
{
	struct mh_trace_header h = make_header();
	struct mh_trace_writer *w = mh_trace_writer_open(trace_path, &h);
	struct mh_rec_hdr bad = { MH_REC_ALLOC, 0, 12 };
	struct {
		struct mh_rec_alloc good;
		struct mh_rec_hdr bad;
	} mixed;
	unsigned counts[MH_STREAM_COUNT], ok;

	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(mh_trace_writer_append(w, MH_STREAM_ALLOC, &bad, sizeof(bad)), -EINVAL);
	ck_assert_int_eq(mh_trace_writer_append(w, 9, &bad, sizeof(bad)), -EINVAL);
	/* A good record before a bad one in the same call: neither lands, the trace stays valid. */
	make_alloc(&mixed.good, 0);
	mixed.bad = bad;
	mixed.bad.size = 0;
	ck_assert_int_eq(mh_trace_writer_append(w, MH_STREAM_ALLOC, &mixed, sizeof(mixed)), -EINVAL);
	make_alloc(&mixed.good, 0);
	ck_assert_int_eq(mh_trace_writer_append(w, MH_STREAM_ALLOC, &mixed.good, sizeof(mixed.good)), 0);
	ck_assert_int_eq(mh_trace_writer_close(w, true), 0);
	ck_assert_int_eq(read_all(trace_path, counts, &ok), 0);
	ck_assert_uint_eq(counts[MH_STREAM_ALLOC], 1);
	ck_assert_uint_eq(ok, 1);
}
END_TEST

/*
 * Records written straight into the writer's buffer (room, then commit)
 * read back as appended ones do, in order across chunks, between appends;
 * a malformed record in a commit is refused and nothing of it taken.
 */
START_TEST(direct_writes_round_trip)
{
	const unsigned n = 800000; /* more than two chunks of the ALLOC stream */
	struct mh_trace_header h = make_header();
	struct mh_trace_writer *w = mh_trace_writer_open(trace_path, &h);
	unsigned counts[MH_STREAM_COUNT], ok, i = 0, k;
	struct mh_rec_alloc one;
	size_t cap;
	void *at;

	ck_assert_ptr_nonnull(w);
	while (i < n) {
		/* Batches of 1 to 3000 records, as the drainer's vary; every 7th appended instead. */
		unsigned want = 1 + (i * 7919u) % 3000;

		if (i % 7 == 3) {
			make_alloc(&one, i++);
			ck_assert_int_eq(mh_trace_writer_append(w, MH_STREAM_ALLOC, &one, sizeof(one)), 0);
			continue;
		}
		ck_assert_int_eq(mh_trace_writer_room(w, MH_STREAM_ALLOC, want * sizeof(one), &at, &cap), 0);
		ck_assert_uint_ge(cap, want * sizeof(one));
		for (k = 0; k < want && i < n; k++)
			make_alloc((struct mh_rec_alloc *)at + k, i++);
		ck_assert_int_eq(mh_trace_writer_commit(w, MH_STREAM_ALLOC, k * sizeof(one)), 0);
	}
	ck_assert_int_eq(mh_trace_writer_room(w, MH_STREAM_ALLOC, 2 * sizeof(one), &at, &cap), 0);
	make_alloc(at, 0);
	((struct mh_rec_alloc *)at)[1].hdr = (struct mh_rec_hdr){ MH_REC_ALLOC, 0, 12 };
	ck_assert_int_eq(mh_trace_writer_commit(w, MH_STREAM_ALLOC, 2 * sizeof(one)), -EINVAL);
	ck_assert_int_eq(mh_trace_writer_room(w, 9, 8, &at, &cap), -EINVAL);
	ck_assert_int_eq(mh_trace_writer_close(w, true), 0);
	ck_assert_int_eq(read_all(trace_path, counts, &ok), 0);
	ck_assert_uint_eq(counts[MH_STREAM_ALLOC], n);
	ck_assert_uint_eq(ok, n);
}
END_TEST

/*
 * An allocation-stream chunk zstd cannot shrink (records of random bytes
 * between the events) is stored as its records: the writer keeps only
 * their encoding and must decode it back, stamps floored to the unit.
 */
START_TEST(incompressible_alloc_chunk_is_stored_as_records)
{
	struct mh_trace_header h = make_header();
	struct mh_trace_writer *w;
	struct mh_trace_reader *r;
	const struct mh_rec_hdr *rec;
	struct mh_chunk_header ch;
	unsigned char recs[64][512];
	unsigned seed = 7, i = 0;
	int stream, fd;

	h.time_unit_ns = 4;
	w = mh_trace_writer_open(trace_path, &h);
	ck_assert_ptr_nonnull(w);
	for (unsigned k = 0; k < 64; k++) {
		struct mh_rec_info *info = (struct mh_rec_info *)recs[k];

		for (unsigned b = 0; b < sizeof(recs[k]); b++)
			recs[k][b] = (unsigned char)(rand_r(&seed) >> 7);
		if (k % 32 == 0) {
			make_alloc((struct mh_rec_alloc *)recs[k], k);
		} else {
			/* Sizes vary too: no two headers alike for zstd to match. */
			info->hdr = (struct mh_rec_hdr){ MH_REC_INFO, 0, 64 + rand_r(&seed) % 56 * 8 };
			info->key_len = (__u16)(1 + rand_r(&seed) % 8);
			info->value_len = (__u16)(info->hdr.size - sizeof(*info) - 2 - info->key_len);
		}
		ck_assert_int_eq(mh_trace_writer_append(w, MH_STREAM_ALLOC, recs[k],
							((struct mh_rec_hdr *)recs[k])->size), 0);
		mh_rec_floor_stamps((struct mh_rec_hdr *)recs[k], h.time_unit_ns);
	}
	ck_assert_int_eq(mh_trace_writer_close(w, true), 0);

	fd = open(trace_path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &ch, sizeof(ch), sizeof(h)), sizeof(ch));
	close(fd);
	ck_assert_uint_eq(ch.stream, MH_STREAM_ALLOC);
	ck_assert_uint_eq(ch.flags, 0);
	r = mh_trace_reader_open(trace_path);
	ck_assert_ptr_nonnull(r);
	while (mh_trace_reader_next(r, MH_STREAM_ALLOC, &rec, &stream) == 1) {
		ck_assert_uint_lt(i, 64);
		ck_assert_int_eq(memcmp(rec, recs[i], rec->size), 0);
		i++;
	}
	ck_assert_uint_eq(i, 64);
	mh_trace_reader_free(r);
}
END_TEST

/* Child of full_disk_keeps_written_chunks: 0 when the writer saw EFBIG as specified. */
static int write_until_full(void)
{
	struct rlimit lim = { .rlim_cur = 1 << 14, .rlim_max = RLIM_INFINITY };
	struct mh_trace_header h = make_header();
	struct mh_rec_alloc batch[256];
	struct mh_trace_writer *w;
	unsigned i, k;
	int err = 0;

	signal(SIGXFSZ, SIG_IGN);
	if (setrlimit(RLIMIT_FSIZE, &lim))
		return 2;
	w = mh_trace_writer_open(trace_path, &h);
	if (!w)
		return 3;
	for (i = 0; i < 2000000 && !err; i += k) {
		for (k = 0; k < 256; k++)
			make_alloc(&batch[k], i + k);
		err = mh_trace_writer_append(w, MH_STREAM_ALLOC, batch, sizeof(batch));
	}
	if (err != -EFBIG)
		return 4;
	/* Sticky, and close reports it too. */
	if (mh_trace_writer_append(w, MH_STREAM_ALLOC, batch, sizeof(batch)) != -EFBIG)
		return 5;
	return mh_trace_writer_close(w, true) == -EFBIG ? 0 : 6;
}

START_TEST(full_disk_keeps_written_chunks)
{
	struct mh_trace_header h = make_header();
	struct mh_trace_writer *w;
	unsigned counts[MH_STREAM_COUNT], ok;
	struct mh_trace_reader *r;
	const struct mh_rec_hdr *rec;
	struct stat st;
	int status;
	pid_t pid;

	/* /dev/full fails every write with ENOSPC. */
	w = mh_trace_writer_open("/dev/full", &h);
	ck_assert_ptr_null(w);
	ck_assert_int_eq(errno, ENOSPC);

	/*
	 * A file size limit makes write(2) fail the same way part-way through
	 * a chunk. Set it in a child: Check's own result file must not hit it.
	 */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(write_until_full());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);

	ck_assert_int_eq(read_all(trace_path, counts, &ok), 0);
	ck_assert_uint_gt(ok, 0);
	ck_assert_uint_eq(ok, counts[MH_STREAM_ALLOC]);
	/* The partial chunk was cut off: the file ends at a chunk boundary. */
	r = mh_trace_reader_open(trace_path);
	while (mh_trace_reader_next(r, MH_STREAM_ANY, &rec, NULL) == 1)
		;
	ck_assert(mh_trace_reader_truncated(r));
	ck_assert_int_eq(stat(trace_path, &st), 0);
	ck_assert_uint_eq(mh_trace_reader_truncated_at(r), (uint64_t)st.st_size);
	mh_trace_reader_free(r);
}
END_TEST

#define WRITER_THREADS 4
#define RECORDS_PER_THREAD 200000

struct writer_arg {
	struct mh_trace_writer *w;
	unsigned id;
};

/* Append RECORDS_PER_THREAD records tagged (tid = id, size = sequence) to ALLOC and META. */
static void *writer_thread(void *p)
{
	struct writer_arg *a = p;
	struct mh_rec_free batch[100];
	unsigned i, k;

	for (i = 0; i < RECORDS_PER_THREAD; i += 100) {
		for (k = 0; k < 100; k++) {
			memset(&batch[k], 0, sizeof(batch[k]));
			batch[k].hdr.type = MH_REC_FREE;
			batch[k].hdr.size = sizeof(batch[k]);
			batch[k].tid = a->id;
			batch[k].size = i + k;
		}
		if (mh_trace_writer_append(a->w, a->id % 2 ? MH_STREAM_META : MH_STREAM_ALLOC, batch,
					   sizeof(batch)))
			return (void *)1;
	}
	return NULL;
}

/* Threads appending at once: every record arrives once, each thread's in its own order. */
START_TEST(concurrent_appends_keep_order)
{
	struct mh_trace_header h = make_header();
	struct writer_arg args[WRITER_THREADS];
	pthread_t threads[WRITER_THREADS];
	__u64 next[WRITER_THREADS] = { 0 };
	const struct mh_rec_free *f;
	const struct mh_rec_hdr *rec;
	struct mh_trace_reader *r;
	void *ret;
	unsigned i;

	args[0].w = mh_trace_writer_open(trace_path, &h);
	ck_assert_ptr_nonnull(args[0].w);
	for (i = 0; i < WRITER_THREADS; i++) {
		args[i].w = args[0].w;
		args[i].id = i;
		ck_assert_int_eq(pthread_create(&threads[i], NULL, writer_thread, &args[i]), 0);
	}
	for (i = 0; i < WRITER_THREADS; i++) {
		ck_assert_int_eq(pthread_join(threads[i], &ret), 0);
		ck_assert_ptr_null(ret);
	}
	ck_assert_int_eq(mh_trace_writer_close(args[0].w, true), 0);

	r = mh_trace_reader_open(trace_path);
	ck_assert_ptr_nonnull(r);
	while (mh_trace_reader_next(r, MH_STREAM_ANY, &rec, NULL) == 1) {
		f = (const struct mh_rec_free *)rec;
		ck_assert_uint_lt(f->tid, WRITER_THREADS);
		ck_assert_uint_eq(f->size, next[f->tid]);
		next[f->tid]++;
	}
	ck_assert(!mh_trace_reader_truncated(r));
	mh_trace_reader_free(r);
	for (i = 0; i < WRITER_THREADS; i++)
		ck_assert_uint_eq(next[i], RECORDS_PER_THREAD);
}
END_TEST

/*
 * An unknown newer version is refused (older versions: check_compact.c,
 * which builds their chunks by hand).
 */
START_TEST(newer_version_is_refused)
{
	__u16 version = MH_TRACE_VERSION + 1;
	struct mh_trace_reader *r;
	unsigned counts[MH_STREAM_COUNT], ok;
	int fd;

	ck_assert_int_eq(write_trace(1000, true), 0);
	ck_assert_int_eq(read_all(trace_path, counts, &ok), 0);
	ck_assert_uint_eq(ok, 1000);
	fd = open(trace_path, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, &version, sizeof(version), 8), (ssize_t)sizeof(version));
	close(fd);
	r = mh_trace_reader_open(trace_path);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(errno, EPROTONOSUPPORT);
}
END_TEST

/*
 * A compact chunk's frame, its blocks cut at the parts, is one zstd frame
 * that gives the encoding back; its sections end where the part lengths
 * say; a payload whose lengths do not add up is refused. So for the
 * column layout of the same records, cut at its header words and five
 * columns.
 */
START_TEST(compact_frame_cut_at_parts)
{
	enum { N = 4000 };
	size_t bytes = N * sizeof(struct mh_rec_alloc), len, n, ends[MH_TRACE_COLUMNS_SECTIONS];
	struct mh_rec_alloc *in = calloc(N, sizeof(*in));
	unsigned char *packed = malloc(MH_TRACE_COMPACT_BOUND(bytes)), *z, *back = malloc(bytes * 2);
	struct mh_trace_compact *c = mh_trace_compact_new();
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	__u32 part;

	ck_assert(in && packed && back && c && cctx);
	for (__u32 i = 0; i < N; i++)
		in[i] = (struct mh_rec_alloc){ { MH_REC_ALLOC, 1, sizeof(*in) }, 1000 + i * (i % 7),
					       0x10000 + i * 48, i % 97, 1 + i % 5, 3, 3 };
	len = mh_trace_compact_encode(c, in, bytes, packed);
	ck_assert_uint_eq(mh_trace_compact_sections(packed, len, ends), MH_TRACE_COMPACT_SECTIONS);
	ck_assert_uint_eq(ends[0], (MH_TRACE_COMPACT_SECTIONS - 1) * sizeof(part));
	ck_assert_uint_eq(ends[MH_TRACE_COMPACT_SECTIONS - 1], len);
	z = malloc(ZSTD_compressBound(bytes));
	ck_assert_ptr_nonnull(z);
	n = mh_trace_compress(cctx, z, ZSTD_compressBound(len), packed, len, true, N);
	ck_assert(!ZSTD_isError(n));
	ck_assert_uint_eq(ZSTD_decompress(back, bytes * 2, z, n), len);
	ck_assert_int_eq(memcmp(back, packed, len), 0);
	memcpy(&part, packed, sizeof(part));
	part += 1;
	memcpy(packed, &part, sizeof(part));
	ck_assert_uint_eq(mh_trace_compact_sections(packed, len, ends), 0);
	ck_assert(ZSTD_isError(mh_trace_compress(cctx, z, ZSTD_compressBound(len), packed, len,
						 true, N)));
	mh_trace_columns_encode(in, bytes, N, MH_TRACE_VERSION, 1, packed);
	ck_assert_uint_eq(mh_trace_columns_sections(packed, bytes, N, ends), 6);
	ck_assert_uint_eq(ends[5], bytes);
	n = mh_trace_compress(cctx, z, ZSTD_compressBound(bytes), packed, bytes, false, N);
	ck_assert(!ZSTD_isError(n));
	ck_assert_uint_eq(ZSTD_decompress(back, bytes * 2, z, n), bytes);
	ck_assert_int_eq(memcmp(back, packed, bytes), 0);
	ck_assert_uint_eq(mh_trace_columns_sections(packed, bytes, N + 1, ends), 0);
	ZSTD_freeCCtx(cctx);
	mh_trace_compact_free(c);
	free(in);
	free(packed);
	free(z);
	free(back);
}
END_TEST

static Suite *trace_suite(void)
{
	Suite *s = suite_create("trace");
	TCase *tc = tcase_create("RoundTrip");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, round_trip_all_streams);
	tcase_add_test(tc, bad_records_are_refused_by_writer);
	tcase_add_test(tc, direct_writes_round_trip);
	tcase_add_test(tc, incompressible_alloc_chunk_is_stored_as_records);
	tcase_add_test(tc, compact_frame_cut_at_parts);
	tcase_add_test(tc, concurrent_appends_keep_order);
	tcase_add_test(tc, newer_version_is_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("Damage");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, unclosed_writer_reads_as_truncated);
	tcase_add_test(tc, cut_file_reads_to_last_chunk);
	tcase_add_test(tc, corrupt_payload_is_ebadmsg);
	tcase_add_test(tc, every_corrupt_byte_is_handled);
	tcase_add_test(tc, not_a_trace_is_eproto);
	tcase_add_test(tc, full_disk_keeps_written_chunks);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mh_test_run_suite(trace_suite());
}
