// SPDX-License-Identifier: MIT
/*
 * reader.c - streaming, validating reader of trace files
 * (include/memhook/trace.h, docs/FORMAT.md).
 *
 * One chunk is held at a time. Before a chunk's records are handed out,
 * the whole chunk is checked: chunk magic, stream, flags and sizes, the
 * CRC32 of the stored bytes, the zstd frame and its decompressed size, and
 * every record (size at least 8, a multiple of 8, inside the chunk, at
 * least the fixed size of its type, variable parts inside the record, the
 * chunk's record count). It must never crash or over-read on any input,
 * and never print.
 */
#include "trace/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "memhook/kernel_events.h"
#include "trace/records.h"
#include "trace/columns.h"
#include "trace/compact.h"

/* Header bytes a newer writer may add that this reader skips, at most. */
#define TRACE_HEADER_MAX_BYTES 4096

struct mh_trace_reader {
	int fd;
	struct mh_trace_header hdr;
	uint64_t offset;			/* file offset of the next chunk header */
	unsigned char *stored;		/* compressed payload of the current chunk */
	size_t stored_cap;
	unsigned char *raw;		/* decompressed records of the current chunk */
	size_t raw_cap;
	unsigned char *packed;		/* a column or compact chunk before it is undone */
	size_t packed_cap;
	size_t raw_bytes;		/* bytes of records in raw */
	size_t cursor;			/* next record in raw */
	int chunk_stream;		/* stream of the current chunk */
	ZSTD_DCtx *dctx;
	struct mh_trace_compact *compact; /* decoder of compact chunks, made at the first */
	struct mh_trace_compact_cursor *slices; /* a compact chunk handed out a slice at a time */
	bool sliced;			/* slices holds a chunk not all handed out yet */
	uint64_t sliced_at;		/* its file offset */
	size_t sliced_done;		/* bytes of its records handed out */
	bool ended;			/* the END chunk was read */
	bool truncated;
	uint64_t truncated_at;
	int error;			/* sticky -errno, 0 if none */
	char reason[256];
};

static int fail(struct mh_trace_reader *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct mh_trace_reader *r, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
	r->error = err;
	return err;
}

/* Read exactly len bytes at off. Returns bytes read (< len at EOF) or -errno. */
static ssize_t read_at(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int grow(unsigned char **buf, size_t *cap, size_t need)
{
	unsigned char *p;

	if (*cap >= need)
		return 0;
	p = realloc(*buf, need);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = need;
	return 0;
}

/* True when a fixed part plus extra bytes fit in a record of size bytes. */
static bool fits(__u64 fixed, __u64 extra, __u32 size)
{
	return fixed <= size && extra <= size - fixed;
}

/* Check one record's type-specific layout. Returns a reason or NULL. */
static const char *check_layout(const struct mh_rec_hdr *rec)
{
	const struct mh_rec_stack *st = (const void *)rec;
	const struct mh_rec_module *mod = (const void *)rec;
	const struct mh_rec_process *proc = (const void *)rec;
	const struct mh_rec_info *info = (const void *)rec;
	const struct mh_rec_pagemap *pm = (const void *)rec;
	const struct mh_rec_kfile *kf = (const void *)rec;

	if (rec->type == MH_REC_NONE)
		return "record of type 0";
	if (!mh_rec_min_size(rec->type))
		return NULL;	/* a newer record type: only the generic checks apply */
	if (rec->size < mh_rec_min_size(rec->type))
		return "record shorter than its type";
	switch (rec->type) {
	case MH_REC_STACK:
		return fits(sizeof(*st), (__u64)st->depth * 8, rec->size) ? NULL :
		       "stack depth past the record";
	case MH_REC_MODULE:
		return fits(sizeof(*mod), (__u64)mod->segment_count * sizeof(struct mh_module_segment)
			    + mod->path_len + 1, rec->size) && mod->build_id_len <= MH_BUILD_ID_MAX ?
		       NULL : "module segments or path past the record";
	case MH_REC_PROCESS:
		return fits(sizeof(*proc), (__u64)proc->path_len + 1, rec->size) ? NULL :
		       "process path past the record";
	case MH_REC_INFO:
		return fits(sizeof(*info), (__u64)info->key_len + info->value_len + 2, rec->size) ?
		       NULL : "info key or value past the record";
	case MH_REC_PAGEMAP:
		return pm->page_count <= (__u64)UINT32_MAX * 32 &&
		       fits(sizeof(*pm), (2 * pm->page_count + 63) / 64 * 8, rec->size) ? NULL :
		       "pagemap bits past the record";
	case MH_REC_KFILE:
		return fits(sizeof(*kf), (__u64)kf->path_len + 1, rec->size) ? NULL :
		       "file path past the record";
	default:
		return NULL;
	}
}

/* Validate every record of the chunk just decompressed. */
/*
 * Check the bytes of whole records at buf, the ones from byte base of the
 * chunk at chunk_off on; *count gets how many. 0 or -EBADMSG.
 */
static int check_span(struct mh_trace_reader *r, const unsigned char *buf, size_t bytes,
		      uint64_t chunk_off, size_t base, __u32 *count)
{
	const struct mh_rec_hdr *rec;
	const char *why;
	size_t off = 0;
	__u32 n = 0;

	while (off < bytes) {
		if (bytes - off < sizeof(*rec))
			return fail(r, -EBADMSG, "partial record header at byte %zu of chunk at offset %"
				    PRIu64, base + off, chunk_off);
		rec = (const struct mh_rec_hdr *)(buf + off);
		if (rec->size < sizeof(*rec) || rec->size % MH_REC_ALIGN || rec->size > bytes - off)
			return fail(r, -EBADMSG, "bad record size %u at byte %zu of chunk at offset %"
				    PRIu64, rec->size, base + off, chunk_off);
		why = check_layout(rec);
		if (why)
			return fail(r, -EBADMSG, "%s (type %u) at byte %zu of chunk at offset %" PRIu64,
				    why, rec->type, base + off, chunk_off);
		off += rec->size;
		n++;
	}
	*count = n;
	return 0;
}

/* Check the records of the chunk at chunk_off in raw. */
static int check_records(struct mh_trace_reader *r, uint64_t chunk_off, __u32 record_count)
{
	__u32 n;
	int err = check_span(r, r->raw, r->raw_bytes, chunk_off, 0, &n);

	if (!err && n != record_count)
		return fail(r, -EBADMSG, "chunk at offset %" PRIu64 " holds %u records, header says %u",
			    chunk_off, n, record_count);
	return err;
}

/*
 * True if the stored payload matches its CRC. The fuzzing build skips the
 * check so the fuzzer reaches the record checks behind it.
 */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
static bool crc_matches(const void *buf, size_t len, __u32 crc)
{
	return true;
}
#else
static bool crc_matches(const void *buf, size_t len, __u32 crc)
{
	return (__u32)crc32(0L, buf, (uInt)len) == crc;
}
#endif /* FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION */

/* Mark the trace cut at off and report the end. */
static int cut(struct mh_trace_reader *r, uint64_t off)
{
	r->truncated = true;
	r->truncated_at = off;
	return 0;
}

static int check_chunk_header(struct mh_trace_reader *r, const struct mh_chunk_header *ch)
{
	uint64_t off = r->offset;

	if (ch->magic != MH_CHUNK_MAGIC)
		return fail(r, -EBADMSG, "bad chunk magic at offset %" PRIu64, off);
	if (ch->stream == MH_STREAM_END) {
		if (ch->stored_bytes || ch->raw_bytes || ch->record_count || ch->crc32 || ch->flags)
			return fail(r, -EBADMSG, "non-empty end chunk at offset %" PRIu64, off);
		return 0;
	}
	if (ch->stream >= MH_STREAM_COUNT)
		return fail(r, -EBADMSG, "unknown stream %u at offset %" PRIu64, ch->stream, off);
	if (ch->flags & ~(MH_CHUNK_ZSTD | MH_CHUNK_COLUMNS | MH_CHUNK_COMPACT))
		return fail(r, -EBADMSG, "unknown chunk flags 0x%x at offset %" PRIu64, ch->flags, off);
	/* Compact chunks exist from version 4 on, always compressed, never also in columns. */
	if ((ch->flags & MH_CHUNK_COMPACT) &&
	    (r->hdr.version < MH_TRACE_VERSION_COMPACT || !(ch->flags & MH_CHUNK_ZSTD) ||
	     (ch->flags & MH_CHUNK_COLUMNS)))
		return fail(r, -EBADMSG, "chunk flags 0x%x not valid in a version %u trace at offset %"
			    PRIu64, ch->flags, r->hdr.version, off);
	if (ch->raw_bytes > MH_CHUNK_MAX_RAW_BYTES ||
	    ch->stored_bytes > ZSTD_compressBound(MH_CHUNK_MAX_RAW_BYTES) ||
	    (!(ch->flags & MH_CHUNK_ZSTD) && ch->stored_bytes != ch->raw_bytes))
		return fail(r, -EBADMSG, "bad chunk sizes (stored %u, raw %u) at offset %" PRIu64,
			    ch->stored_bytes, ch->raw_bytes, off);
	return 0;
}

/* Undo the column layout of the ch->raw_bytes in r->packed into r->raw. */
static int uncolumn(struct mh_trace_reader *r, const struct mh_chunk_header *ch)
{
	if (mh_trace_columns_decode(r->packed, ch->raw_bytes, ch->record_count, r->hdr.version,
				    r->hdr.time_unit_ns, r->raw))
		return fail(r, -EBADMSG, "bad column layout in chunk at offset %" PRIu64, r->offset);
	r->raw_bytes = ch->raw_bytes;
	return 0;
}

/* Decode the len compact bytes in r->packed into r->raw. */
/* The compact decoder (and the slices' cursor when sliced), made at the first compact chunk. */
static int compact_coder(struct mh_trace_reader *r, bool sliced)
{
	if (!r->compact) {
		r->compact = mh_trace_compact_new();
		if (!r->compact)
			return fail(r, -ENOMEM, "out of memory for chunk at offset %" PRIu64, r->offset);
		mh_trace_compact_set_version(r->compact, r->hdr.version);
		mh_trace_compact_set_time_unit(r->compact, r->hdr.time_unit_ns);
	}
	if (sliced && !r->slices) {
		r->slices = mh_trace_compact_cursor_new();
		if (!r->slices)
			return fail(r, -ENOMEM, "out of memory for chunk at offset %" PRIu64, r->offset);
	}
	return 0;
}

/* Start handing out the compact chunk in r->packed a slice at a time (take_slice()). */
static int begin_slices(struct mh_trace_reader *r, const struct mh_chunk_header *ch, size_t len)
{
	int err = compact_coder(r, true);

	if (err)
		return err;
	err = mh_trace_compact_begin(r->compact, r->slices, r->packed, len, ch->raw_bytes,
				     ch->record_count);
	if (err == -ENOMEM)
		return fail(r, err, "out of memory for chunk at offset %" PRIu64, r->offset);
	if (err)
		return fail(r, -EBADMSG, "bad compact encoding in chunk at offset %" PRIu64, r->offset);
	r->sliced = true;
	r->sliced_at = r->offset;
	r->sliced_done = 0;
	return 0;
}

static int uncompact(struct mh_trace_reader *r, const struct mh_chunk_header *ch, size_t len)
{
	int err = compact_coder(r, false);

	if (err)
		return err;
	err = mh_trace_compact_decode(r->compact, r->packed, len, r->raw, ch->raw_bytes,
				      ch->record_count);
	if (err == -ENOMEM)
		return fail(r, err, "out of memory for chunk at offset %" PRIu64, r->offset);
	if (err)
		return fail(r, -EBADMSG, "bad compact encoding in chunk at offset %" PRIu64, r->offset);
	r->raw_bytes = ch->raw_bytes;
	return 0;
}

/*
 * Decompress (or copy) the stored payload into raw, undoing the columns
 * or compact encoding; with sliced, a compact chunk is only begun.
 */
static int unpack(struct mh_trace_reader *r, const struct mh_chunk_header *ch, bool sliced)
{
	bool columns = ch->flags & MH_CHUNK_COLUMNS, compact = ch->flags & MH_CHUNK_COMPACT;
	size_t cap = compact ? MH_TRACE_COMPACT_BOUND(ch->raw_bytes) : ch->raw_bytes;
	unsigned char *dst;
	size_t n;

	sliced = sliced && compact;
	if ((!sliced && grow(&r->raw, &r->raw_cap, ch->raw_bytes ? ch->raw_bytes : 1)) ||
	    ((columns || compact) && grow(&r->packed, &r->packed_cap, cap ? cap : 1)))
		return fail(r, -ENOMEM, "out of memory for chunk at offset %" PRIu64, r->offset);
	dst = columns || compact ? r->packed : r->raw;
	if (!(ch->flags & MH_CHUNK_ZSTD)) {
		memcpy(dst, r->stored, ch->raw_bytes);
		r->raw_bytes = ch->raw_bytes;
		return columns ? uncolumn(r, ch) : 0;
	}
	n = ZSTD_decompressDCtx(r->dctx, dst, cap, r->stored, ch->stored_bytes);
	if (ZSTD_isError(n))
		return fail(r, -EBADMSG, "bad zstd frame in chunk at offset %" PRIu64 ": %s",
			    r->offset, ZSTD_getErrorName(n));
	if (compact)
		return sliced ? begin_slices(r, ch, n) : uncompact(r, ch, n);
	if (n != ch->raw_bytes)
		return fail(r, -EBADMSG, "chunk at offset %" PRIu64 " decompresses to %zu bytes, not %u",
			    r->offset, n, ch->raw_bytes);
	r->raw_bytes = n;
	return columns ? uncolumn(r, ch) : 0;
}

/*
 * Step over a chunk of a stream the caller did not ask for without reading
 * its payload (its CRC and records are not checked: none is handed out).
 * Returns 1 when skipped, 0 when the payload is not all in the file yet.
 */
static int skip_chunk(struct mh_trace_reader *r, const struct mh_chunk_header *ch)
{
	struct stat st;

	if (fstat(r->fd, &st) < 0)
		return fail(r, -EIO, "cannot stat at offset %" PRIu64 ": %s", r->offset,
			    strerror(errno));
	if ((uint64_t)st.st_size < r->offset + sizeof(*ch) + ch->stored_bytes)
		return cut(r, r->offset);
	r->offset += sizeof(*ch) + ch->stored_bytes;
	return 1;
}

/*
 * Load the next chunk. 1 when one is loaded, 0 at the end (clean or cut),
 * or -errno. Not inlined: mh_trace_reader_next() runs once per record and
 * this once per chunk; inlined, its stack frame and saved registers cost
 * every record (7% of a report's cycles, perf annotate).
 */
static __attribute__((noinline)) int load_chunk(struct mh_trace_reader *r, int want, bool sliced)
{
	struct mh_chunk_header ch;
	ssize_t n;
	int err;

	n = read_at(r->fd, &ch, sizeof(ch), r->offset);
	if (n < 0)
		return fail(r, -EIO, "read error at offset %" PRIu64 ": %s", r->offset, strerror((int)-n));
	if ((size_t)n < sizeof(ch))
		return cut(r, r->offset);
	err = check_chunk_header(r, &ch);
	if (err)
		return err;
	if (ch.stream == MH_STREAM_END) {
		r->ended = true;
		r->truncated = false;
		return 0;
	}
	if (want != MH_STREAM_ANY && want != ch.stream)
		return skip_chunk(r, &ch);
	if (grow(&r->stored, &r->stored_cap, ch.stored_bytes ? ch.stored_bytes : 1))
		return fail(r, -ENOMEM, "out of memory for chunk at offset %" PRIu64, r->offset);
	n = read_at(r->fd, r->stored, ch.stored_bytes, r->offset + sizeof(ch));
	if (n < 0)
		return fail(r, -EIO, "read error at offset %" PRIu64 ": %s", r->offset, strerror((int)-n));
	if ((size_t)n < ch.stored_bytes)
		return cut(r, r->offset);
	if (!crc_matches(r->stored, ch.stored_bytes, ch.crc32))
		return fail(r, -EBADMSG, "CRC mismatch in chunk at offset %" PRIu64, r->offset);
	err = unpack(r, &ch, sliced);
	/* A compact chunk of events only was checked by its decoder: no second pass over it. */
	if (!err && !((ch.flags & MH_CHUNK_COMPACT) && !mh_trace_compact_copies(r->compact)))
		err = check_records(r, r->offset, ch.record_count);
	if (err) {
		r->raw_bytes = 0;
		return err;
	}
	r->cursor = 0;
	r->chunk_stream = ch.stream;
	r->truncated = false;
	r->offset += sizeof(ch) + ch.stored_bytes;
	return 1;
}

/*
 * 1 when the current chunk has a record of stream left, loading chunks
 * until one has; 0 at the end of the trace, or -errno.
 */
static inline int have_record(struct mh_trace_reader *r, int stream)
{
	int err;

	for (;;) {
		if (r->error)
			return r->error;
		if (r->cursor < r->raw_bytes && (stream == MH_STREAM_ANY || stream == r->chunk_stream))
			return 1;
		if (r->ended)
			return 0;
		r->raw_bytes = 0;
		r->cursor = 0;
		/* Cut chunks are retried on the next call: the writer may still be appending. */
		err = load_chunk(r, stream, false);
		if (err <= 0)
			return err;
	}
}

int mh_trace_reader_ready(struct mh_trace_reader *r, int stream)
{
	return have_record(r, stream);
}

int mh_trace_reader_next(struct mh_trace_reader *r, int stream, const struct mh_rec_hdr **rec,
			 int *stream_out)
{
	const struct mh_rec_hdr *h;
	int ret = have_record(r, stream);

	if (ret <= 0)
		return ret;
	h = (const struct mh_rec_hdr *)(r->raw + r->cursor);
	r->cursor += h->size;
	*rec = h;
	if (stream_out)
		*stream_out = r->chunk_stream;
	return 1;
}

/* Hand out the next slice of the sliced chunk: 1, 0 when it is all out, or -errno. */
static int take_slice(struct mh_trace_reader *r, unsigned char **buf, size_t *cap, size_t *bytes)
{
	__u32 copies = mh_trace_compact_copies(r->compact), n_rec;
	size_t need = 0;
	ssize_t n = mh_trace_compact_decode_some(r->compact, r->slices, *buf, *cap, &need);
	int err;

	if (n == -ENOSPC) {
		if (grow(buf, cap, need))
			return fail(r, -ENOMEM, "out of memory for chunk at offset %" PRIu64, r->sliced_at);
		n = mh_trace_compact_decode_some(r->compact, r->slices, *buf, *cap, &need);
	}
	if (n == -ENOMEM)
		return fail(r, -ENOMEM, "out of memory for chunk at offset %" PRIu64, r->sliced_at);
	if (n < 0)
		return fail(r, -EBADMSG, "bad compact encoding in chunk at offset %" PRIu64, r->sliced_at);
	if (n == 0) {
		r->sliced = false;
		return 0;
	}
	/* Events are valid by construction; records stored as they are get checked. */
	if (mh_trace_compact_copies(r->compact) != copies) {
		err = check_span(r, *buf, (size_t)n, r->sliced_at, r->sliced_done, &n_rec);
		if (err)
			return err;
	}
	r->sliced_done += (size_t)n;
	*bytes = (size_t)n;
	return 1;
}

/* Hand out whole records of the chunk in raw, as many as fit in *cap (at least one). */
static int take_copy(struct mh_trace_reader *r, unsigned char **buf, size_t *cap, size_t *bytes)
{
	const struct mh_rec_hdr *h = (const void *)(r->raw + r->cursor);
	size_t n = 0;

	if (h->size > *cap && grow(buf, cap, h->size))
		return fail(r, -ENOMEM, "out of memory for chunk at offset %" PRIu64, r->offset);
	while (r->cursor + n < r->raw_bytes) {
		h = (const void *)(r->raw + r->cursor + n);
		if (h->size > *cap - n)
			break;
		n += h->size;
	}
	memcpy(*buf, r->raw + r->cursor, n);
	r->cursor += n;
	*bytes = n;
	return 1;
}

int mh_trace_reader_take_records(struct mh_trace_reader *r, int stream, unsigned char **buf,
				 size_t *cap, size_t *bytes)
{
	int ret;

	for (;;) {
		if (r->error)
			return r->error;
		if (r->sliced) {
			ret = take_slice(r, buf, cap, bytes);
			if (ret)
				return ret;
			continue;
		}
		if (r->cursor < r->raw_bytes && (stream == MH_STREAM_ANY || stream == r->chunk_stream))
			return take_copy(r, buf, cap, bytes);
		if (r->ended)
			return 0;
		r->raw_bytes = 0;
		r->cursor = 0;
		ret = load_chunk(r, stream, true);
		if (ret <= 0)
			return ret;
	}
}

/* Page sizes a trace header may give, bytes: 0 (unknown), or a power of two in this range. */
#define MIN_PAGE_BYTES 512U
#define MAX_PAGE_BYTES (1U << 30)

static int check_header(struct mh_trace_reader *r)
{
	ssize_t n = read_at(r->fd, &r->hdr, sizeof(r->hdr), 0);

	if (n < 0)
		return (int)n;
	if ((size_t)n < sizeof(r->hdr) || memcmp(r->hdr.magic, MH_TRACE_MAGIC, sizeof(r->hdr.magic)))
		return -EPROTO;
	if (r->hdr.version < MH_TRACE_VERSION_MIN || r->hdr.version > MH_TRACE_VERSION)
		return -EPROTONOSUPPORT;
	if (r->hdr.header_bytes < sizeof(r->hdr) || r->hdr.header_bytes > TRACE_HEADER_MAX_BYTES ||
	    r->hdr.header_bytes % MH_REC_ALIGN)
		return -EPROTO;
	if (!(r->hdr.flags & MH_TRACE_LITTLE_ENDIAN) != (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__))
		return -EPROTONOSUPPORT;
	/* Residency and attribution divide by it and mask with it: 0 (unknown) or a real one. */
	if (r->hdr.page_size && (r->hdr.page_size < MIN_PAGE_BYTES || r->hdr.page_size > MAX_PAGE_BYTES ||
				 (r->hdr.page_size & (r->hdr.page_size - 1))))
		return -EBADMSG;
	/* Stamps are in ns before version 7 (the field was padding) and where it says 0. */
	if (r->hdr.version < MH_TRACE_VERSION_TIME_UNIT || !r->hdr.time_unit_ns)
		r->hdr.time_unit_ns = 1;
	else if (r->hdr.time_unit_ns > MH_TRACE_TIME_UNIT_MAX_NS)
		return -EBADMSG;
	r->offset = r->hdr.header_bytes;
	return 0;
}

struct mh_trace_reader *mh_trace_reader_open(const char *path)
{
	struct mh_trace_reader *r;
	int err;

	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->fd = -1;
	r->dctx = ZSTD_createDCtx();
	if (!r->dctx) {
		err = -ENOMEM;
		goto out_free;
	}
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		err = -errno;
		goto out_free;
	}
	err = check_header(r);
	if (err)
		goto out_free;
	return r;

out_free:
	mh_trace_reader_free(r);
	errno = -err;
	return NULL;
}

void mh_trace_reader_free(struct mh_trace_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	ZSTD_freeDCtx(r->dctx);
	mh_trace_compact_free(r->compact);
	mh_trace_compact_cursor_free(r->slices);
	free(r->stored);
	free(r->raw);
	free(r->packed);
	free(r);
}

const struct mh_trace_header *mh_trace_reader_header(const struct mh_trace_reader *r)
{
	return &r->hdr;
}

bool mh_trace_reader_truncated(const struct mh_trace_reader *r)
{
	return r->truncated;
}

uint64_t mh_trace_reader_truncated_at(const struct mh_trace_reader *r)
{
	return r->truncated_at;
}

const char *mh_trace_reader_error(const struct mh_trace_reader *r)
{
	return r->error ? r->reason : "";
}
