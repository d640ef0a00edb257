// SPDX-License-Identifier: MIT
/*
 * writer.c - appends records to a trace file as zstd-compressed
 * chunks, one buffer per stream (format: include/memhook/trace.h,
 * docs/FORMAT.md). Before compression, the alloc stream's records are
 * put in the compact encoding (trace/compact.h), every other stream's in
 * the column layout (trace/columns.h). Every stamp is floored to the
 * header's time unit on the way (trace/records.h).
 *
 * Each stream has its own lock, buffer and compression context, so the
 * ring drainer and the kernel collector compress in parallel; only the
 * write(2) of a finished chunk is serialised by the file lock. The
 * allocation stream's records are put in the compact encoding as they
 * come, while the ring drainer still has them in its cache, in a small
 * buffer reused for each batch: no chunk of them is kept as records. Its
 * full chunks are compressed and written by a thread of their own (its
 * packer) while the caller encodes the next: the ring drainer never stops
 * for a chunk (trace/compress.h). A chunk is written whole with one
 * write(2); if that fails part-way the file is cut back to the end of the
 * previous chunk, so what was written stays a readable trace. Never prints.
 */
#include "trace/writer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "common/bigmem.h"
#include "common/clock.h"
#include "trace/columns.h"
#include "trace/compact.h"
#include "trace/compress.h"
#include "trace/records.h"

/*
 * A stream's buffers are filled from their start and kept from chunk to
 * chunk; past their first BUF_SMALL_BYTES they are in huge pages, and that
 * first part is mapped ahead of the fill, a few calls in all
 * (common/bigmem.h). The recorder otherwise took a page fault per 4 KiB
 * it first wrote: 5,500 of its 7,300 faults recording alloc_bench 2
 * 3000000, 4,100 of them in the allocation stream's raw buffer. A run
 * that writes less than BUF_SMALL_BYTES to a buffer maps little more
 * than it writes there: /bin/true as many pages as before.
 */
#define BUF_SMALL_BYTES (1U << 20)

/*
 * Bytes of records the allocation stream takes at a time before it encodes
 * them (mh_trace_writer_room): the ring drainer's batches, which stay in
 * the cache between their copy out of the ring and their encoding.
 */
#define STAGE_BYTES (1U << 20)

/* Records that make one chunk: a buffer of them (or of their encoding) and what is known of them. */
struct pending {
	unsigned char *buf;		/* the records; the compact stream's: their encoding */
	size_t buf_bytes;		/* bytes used in buf */
	size_t buf_mapped;		/* bytes of buf's small part mapped (mh_bigmem_fill) */
	size_t raw_bytes;		/* bytes of the records */
	__u32 record_count;		/* records in the chunk */
	__u64 first_ts_ns;		/* smallest timestamp of them, 0 if none */
};

/*
 * The allocation stream's packer thread and the one chunk it is given at
 * a time (job, raw_bytes 0 when it has none), under job_lock. It alone
 * uses the stream's packed, chunk, cctx and compact while it runs.
 */
struct packer {
	pthread_mutex_t job_lock;
	pthread_cond_t job_cond;	/* a job came, or stop */
	pthread_cond_t idle_cond;	/* the job is written */
	pthread_t thread;
	bool started;
	bool stop;
	__u64 handed;			/* jobs handed over */
	__u64 written;			/* jobs written (or failed) */
	struct pending job;
	struct mh_trace_writer *w;
	int stream;
};

struct stream_buf {
	pthread_mutex_t lock;
	struct pending cur;		/* the records being added to, under lock */
	size_t buf_cap;			/* bytes allocated for each pending's buf */
	unsigned char *stage;		/* compact: records given room, not encoded yet */
	size_t stage_mapped;		/* bytes of stage mapped */
	unsigned char *packed;		/* columns: the same records in the column layout */
	size_t packed_mapped;		/* bytes of packed's small part mapped */
	size_t chunk_mapped;		/* the same for chunk */
	unsigned char *chunk;		/* chunk header + compressed payload */
	size_t chunk_cap;		/* bytes allocated for chunk */
	ZSTD_CCtx *cctx;
	struct mh_trace_compact *compact; /* the compact encoder, its chunk open while cur */
					  /* has records; NULL: columns */
	struct packer *packer;		/* the allocation stream's; NULL: packed by the caller */
};

struct mh_trace_writer {
	int fd;
	pthread_mutex_t file_lock;	/* guards fd writes, end_offset and error */
	off_t end_offset;		/* end of the last complete chunk */
	int error;			/* first error, sticky; 0 if none */
	__u32 unit_ns;			/* the header's time_unit_ns: stamps are floored to it */
	struct stream_buf streams[MH_STREAM_COUNT];
};

static int get_error(struct mh_trace_writer *w)
{
	int err;

	pthread_mutex_lock(&w->file_lock);
	err = w->error;
	pthread_mutex_unlock(&w->file_lock);
	return err;
}

/* Write all of buf at the end of the file; on failure cut it back. Call under file_lock. */
static int write_all(struct mh_trace_writer *w, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t done = 0;
	ssize_t n;
	int err;

	while (done < len) {
		n = write(w->fd, p + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out_cut;
		}
		if (n == 0) {
			err = -EIO;
			goto out_cut;
		}
		done += (size_t)n;
	}
	w->end_offset += (off_t)len;
	return 0;

out_cut:
	/* Best effort: a partial chunk would only read as a truncated tail anyway. */
	if (ftruncate(w->fd, w->end_offset) == 0)
		(void)lseek(w->fd, w->end_offset, SEEK_SET);
	return err;
}

static int write_chunk(struct mh_trace_writer *w, const void *chunk, size_t len)
{
	int err;

	pthread_mutex_lock(&w->file_lock);
	err = w->error;
	if (!err) {
		err = write_all(w, chunk, len);
		if (err)
			w->error = err;
	}
	pthread_mutex_unlock(&w->file_lock);
	return err;
}

/* Floor the stamps of a chunk's records to the unit, in place. */
static void floor_stamps(struct pending *p, __u32 unit_ns)
{
	struct mh_rec_hdr *rec;

	if (unit_ns <= 1)
		return;
	for (size_t off = 0; off < p->raw_bytes; off += rec->size) {
		rec = (struct mh_rec_hdr *)(p->buf + off);
		mh_rec_floor_stamps(rec, unit_ns);
	}
}

/*
 * The records of the compact chunk p as they are, stamps floored as the
 * encoder stored them, decoded from its encoding into out (raw_bytes
 * long): the allocation stream keeps no other copy. Only for a chunk zstd
 * does not shrink. 0 or -errno.
 */
static int unpack(const struct pending *p, __u32 unit_ns, unsigned char *out)
{
	struct mh_trace_compact *d = mh_trace_compact_new();
	int err = -ENOMEM;

	if (d) {
		mh_trace_compact_set_time_unit(d, unit_ns);
		err = mh_trace_compact_decode(d, p->buf, p->buf_bytes, out, p->raw_bytes,
					      p->record_count);
	}
	mh_trace_compact_free(d);
	return err;
}

/*
 * Compress a chunk's records p (other streams: encode them first, stamps
 * floored to unit_ns) into the payload area (cap bytes). Returns the
 * chunk flags and sets *stored; flags 0 (records as they are) when
 * nothing shrinks them; -errno when the records cannot be had back.
 */
static int pack(struct stream_buf *s, struct pending *p, __u32 unit_ns, unsigned char *payload,
		size_t cap, __u32 *stored)
{
	const unsigned char *src = p->buf;
	size_t len = p->buf_bytes, n;
	int flags = MH_CHUNK_COMPACT, err;

	if (!s->compact) {
		floor_stamps(p, unit_ns);
		mh_bigmem_fill(s->packed, BUF_SMALL_BYTES, &s->packed_mapped, p->raw_bytes);
		mh_trace_columns_encode(p->buf, p->raw_bytes, p->record_count, MH_TRACE_VERSION,
					unit_ns, s->packed);
		src = s->packed;
		len = p->raw_bytes;
		flags = MH_CHUNK_COLUMNS;
	}
	/* zstd mostly leaves under a 32nd of the records (alloc_bench: a 38th). */
	mh_bigmem_fill(s->chunk, BUF_SMALL_BYTES, &s->chunk_mapped, p->raw_bytes / 32);
	n = mh_trace_compress(s->cctx, payload, cap, src, len, s->compact, p->record_count);
	if (!ZSTD_isError(n) && n < p->raw_bytes) {
		*stored = (__u32)n;
		return flags | MH_CHUNK_ZSTD;
	}
	/* Incompressible (or zstd refused): store the records as they are, floored. */
	if (s->compact) {
		mh_bigmem_fill(s->chunk, BUF_SMALL_BYTES, &s->chunk_mapped, p->raw_bytes);
		err = unpack(p, unit_ns, payload);
		if (err)
			return err;
	} else {
		memcpy(payload, p->buf, p->raw_bytes);
	}
	*stored = (__u32)p->raw_bytes;
	return 0;
}

/*
 * Compress and write the records p of a stream as one chunk, and empty p.
 * By the one thread that packs the stream (stream_buf).
 */
static int write_pending(struct mh_trace_writer *w, int stream, struct pending *p)
{
	struct stream_buf *s = &w->streams[stream];
	struct mh_chunk_header ch = {
		.magic = MH_CHUNK_MAGIC,
		.stream = (__u16)stream,
		.raw_bytes = (__u32)p->raw_bytes,
		.record_count = p->record_count,
		.first_ts_ns = mh_time_floor(p->first_ts_ns, w->unit_ns),
	};
	unsigned char *payload = s->chunk + sizeof(ch);
	int err;

	if (!p->raw_bytes)
		return 0;
	err = pack(s, p, w->unit_ns, payload, s->chunk_cap - sizeof(ch), &ch.stored_bytes);
	if (err >= 0) {
		ch.flags = (__u16)err;
		ch.crc32 = (__u32)crc32(0L, payload, ch.stored_bytes);
		memcpy(s->chunk, &ch, sizeof(ch));
		err = write_chunk(w, s->chunk, sizeof(ch) + ch.stored_bytes);
	}
	p->buf_bytes = 0;
	p->raw_bytes = 0;
	p->record_count = 0;
	p->first_ts_ns = 0;
	return err;
}

static void *packer_main(void *arg)
{
	struct packer *k = arg;

	pthread_mutex_lock(&k->job_lock);
	for (;;) {
		while (!k->job.raw_bytes && !k->stop)
			pthread_cond_wait(&k->job_cond, &k->job_lock);
		if (!k->job.raw_bytes)
			break;
		/* The job is this thread's until it says it is done: no lock while it packs. */
		pthread_mutex_unlock(&k->job_lock);
		/* An error is sticky in w->error: the next append or room says it. */
		(void)write_pending(k->w, k->stream, &k->job);
		pthread_mutex_lock(&k->job_lock);
		k->written++;
		pthread_cond_broadcast(&k->idle_cond);
	}
	pthread_mutex_unlock(&k->job_lock);
	return NULL;
}

/* Wait until the packer has written its first `jobs` jobs. Call under job_lock. */
static void packer_wait(struct packer *k, __u64 jobs)
{
	while (k->written < jobs)
		pthread_cond_wait(&k->idle_cond, &k->job_lock);
}

/*
 * Hand stream s's records to its packer and take its empty buffer in
 * exchange (after it wrote the job before, if it is still at it). The
 * thread is started for the first full buffer (full): a run that never
 * fills one, /bin/true, never starts it. Returns 1 when handed over, 0
 * when the caller packs them itself (no packer, not started, or no thread
 * could be started).
 */
static int hand_over(struct stream_buf *s, bool full)
{
	struct packer *k = s->packer;
	struct pending empty;

	if (!k)
		return 0;
	pthread_mutex_lock(&k->job_lock);
	if (!k->started && full && !pthread_create(&k->thread, NULL, packer_main, k))
		k->started = true;
	if (!k->started) {
		pthread_mutex_unlock(&k->job_lock);
		return 0;
	}
	packer_wait(k, k->handed);
	empty = k->job;
	k->job = s->cur;
	s->cur = empty;
	k->handed++;
	pthread_cond_signal(&k->job_cond);
	pthread_mutex_unlock(&k->job_lock);
	return 1;
}

/*
 * Compress and write a stream's pending records, or have its packer do
 * it (see hand_over() for full); the compact stream's chunk is closed
 * first. Call with s->lock held. The packer's errors come back through
 * w->error.
 */
static int flush_stream(struct mh_trace_writer *w, int stream, bool full)
{
	struct stream_buf *s = &w->streams[stream];

	if (!s->cur.raw_bytes)
		return 0;
	if (s->compact) {
		mh_bigmem_fill(s->cur.buf, BUF_SMALL_BYTES, &s->cur.buf_mapped,
			       mh_trace_compact_size(s->compact));
		s->cur.buf_bytes = mh_trace_compact_close(s->compact, s->cur.buf);
	}
	if (hand_over(s, full))
		return 0;
	return write_pending(w, stream, &s->cur);
}

/* Jobs handed to packer k so far. */
static __u64 packer_handed(struct packer *k)
{
	__u64 n;

	pthread_mutex_lock(&k->job_lock);
	n = k->handed;
	pthread_mutex_unlock(&k->job_lock);
	return n;
}

/* Wait until packer k has written its first `jobs` jobs. */
static void packer_sync(struct packer *k, __u64 jobs)
{
	pthread_mutex_lock(&k->job_lock);
	packer_wait(k, jobs);
	pthread_mutex_unlock(&k->job_lock);
}

/*
 * Validate the whole records at the start of buf that fit in `room` bytes:
 * *taken their bytes, *count them, *first_ts their smallest stamp (0: none).
 */
static int measure(const unsigned char *buf, size_t bytes, size_t room, size_t *taken,
		   __u32 *count, __u64 *first_ts)
{
	const struct mh_rec_hdr *rec;
	__u64 ts, first = 0;
	__u32 n = 0;
	size_t off = 0;

	while (off < bytes) {
		if (bytes - off < sizeof(*rec))
			return -EINVAL;
		rec = (const struct mh_rec_hdr *)(buf + off);
		if (rec->size < sizeof(*rec) || rec->size % MH_REC_ALIGN || rec->size > bytes - off ||
		    rec->type == MH_REC_NONE)
			return -EINVAL;
		if (rec->size > MH_CHUNK_MAX_RAW_BYTES)
			return -EMSGSIZE;
		if (off + rec->size > room)
			break;
		ts = mh_rec_stamp(rec);
		if (ts && (!first || ts < first))
			first = ts;
		n++;
		off += rec->size;
	}
	*taken = off;
	*count = n;
	*first_ts = first;
	return 0;
}

/* bytes of count records, their smallest stamp first_ts (0: none), joined the chunk p. */
static void account(struct pending *p, size_t bytes, __u32 count, __u64 first_ts)
{
	if (first_ts && (!p->first_ts_ns || first_ts < p->first_ts_ns))
		p->first_ts_ns = first_ts;
	p->record_count += count;
	p->raw_bytes += bytes;
}

/*
 * Put whole, valid records (count of them, first_ts their smallest
 * stamp) of the compact stream in its open chunk, opening one if none is.
 * When the coder's tables cannot grow, the chunk ends at the records it
 * took and the others go to the next. Call with s->lock held. 0 or -errno.
 */
static int encode(struct mh_trace_writer *w, int stream, const unsigned char *recs, size_t bytes,
		  __u32 count, __u64 first_ts)
{
	struct stream_buf *s = &w->streams[stream];
	bool whole = true;
	size_t taken;
	int err;

	while (bytes) {
		if (!s->cur.raw_bytes && mh_trace_compact_open(s->compact, MH_CHUNK_MAX_RAW_BYTES))
			return -ENOMEM;
		taken = mh_trace_compact_add(s->compact, recs, bytes);
		if (taken == bytes && whole) {
			account(&s->cur, bytes, count, first_ts);
			return 0;
		}
		if (!taken && !s->cur.raw_bytes)
			return -ENOMEM;
		/* Rare: the pieces are counted again. */
		whole = false;
		(void)measure(recs, taken, taken, &taken, &count, &first_ts);
		account(&s->cur, taken, count, first_ts);
		recs += taken;
		bytes -= taken;
		if (bytes) {
			err = flush_stream(w, stream, true);
			if (err)
				return err;
		}
	}
	return 0;
}

/* Check the stream and the writer's first error, then lock the stream: 0 or -errno (unlocked). */
static int lock_stream(struct mh_trace_writer *w, int stream, struct stream_buf **out)
{
	int err;

	if (stream < 0 || stream >= MH_STREAM_COUNT)
		return -EINVAL;
	err = get_error(w);
	if (err)
		return err;
	*out = &w->streams[stream];
	pthread_mutex_lock(&(*out)->lock);
	return 0;
}

int mh_trace_writer_append(struct mh_trace_writer *w, int stream, const void *records,
			   size_t bytes)
{
	const unsigned char *p = records;
	struct stream_buf *s;
	size_t taken;
	__u64 first_ts;
	__u32 count;
	int err;

	err = lock_stream(w, stream, &s);
	if (err)
		return err;
	while (bytes) {
		err = measure(p, bytes, MH_CHUNK_MAX_RAW_BYTES - s->cur.raw_bytes, &taken, &count,
			      &first_ts);
		if (err)
			break;
		if (s->compact) {
			err = encode(w, stream, p, taken, count, first_ts);
			if (err)
				break;
		} else {
			mh_bigmem_fill(s->cur.buf, BUF_SMALL_BYTES, &s->cur.buf_mapped,
				       s->cur.raw_bytes + taken);
			memcpy(s->cur.buf + s->cur.raw_bytes, p, taken);
			account(&s->cur, taken, count, first_ts);
		}
		p += taken;
		bytes -= taken;
		if (bytes) {
			err = flush_stream(w, stream, true);
			if (err)
				break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

int mh_trace_writer_room(struct mh_trace_writer *w, int stream, size_t min, void **at,
			 size_t *cap)
{
	struct stream_buf *s;
	int err;

	*at = NULL;
	*cap = 0;
	/* The allocation stream, the only compact one, takes its records a stage at a time. */
	if (min > (stream == MH_STREAM_ALLOC ? STAGE_BYTES : MH_CHUNK_MAX_RAW_BYTES))
		return -EINVAL;
	err = lock_stream(w, stream, &s);
	if (err)
		return err;
	if (MH_CHUNK_MAX_RAW_BYTES - s->cur.raw_bytes < min) {
		err = flush_stream(w, stream, true);
		if (err) {
			pthread_mutex_unlock(&s->lock);
			return err;
		}
	}
	*cap = MH_CHUNK_MAX_RAW_BYTES - s->cur.raw_bytes;
	/* The caller writes an unknown part of cap: map ahead by what came so far. */
	if (s->compact) {
		*cap = *cap < STAGE_BYTES ? *cap : STAGE_BYTES;
		mh_bigmem_fill(s->stage, BUF_SMALL_BYTES, &s->stage_mapped,
			       s->cur.raw_bytes + min < *cap ? s->cur.raw_bytes + min : *cap);
		*at = s->stage;
	} else {
		mh_bigmem_fill(s->cur.buf, BUF_SMALL_BYTES, &s->cur.buf_mapped,
			       s->cur.raw_bytes + min);
		*at = s->cur.buf + s->cur.raw_bytes;
	}
	return 0;
}

int mh_trace_writer_commit(struct mh_trace_writer *w, int stream, size_t bytes)
{
	struct stream_buf *s = &w->streams[stream];
	size_t room = s->compact ? STAGE_BYTES : MH_CHUNK_MAX_RAW_BYTES - s->cur.raw_bytes;
	size_t taken = 0;
	__u64 first_ts;
	__u32 count;
	int err;

	err = measure(s->compact ? s->stage : s->cur.buf + s->cur.raw_bytes, bytes, room, &taken,
		      &count, &first_ts);
	if (!err && taken != bytes)
		err = -EINVAL;	/* past the room given: cannot happen with the room kept to */
	if (!err && s->compact)
		err = encode(w, stream, s->stage, bytes, count, first_ts);
	else if (!err)
		account(&s->cur, bytes, count, first_ts);
	pthread_mutex_unlock(&s->lock);
	return err;
}

int mh_trace_writer_commit_checked(struct mh_trace_writer *w, int stream, size_t bytes,
				   __u32 count, __u64 first_ts)
{
	struct stream_buf *s = &w->streams[stream];
	int err = 0;

	if (s->compact)
		err = encode(w, stream, s->stage, bytes, count, first_ts);
	else
		account(&s->cur, bytes, count, first_ts);
	pthread_mutex_unlock(&s->lock);
	return err;
}

int mh_trace_writer_flush(struct mh_trace_writer *w)
{
	int i, err, first = 0;
	struct stream_buf *s;
	__u64 jobs;

	for (i = 0; i < MH_STREAM_COUNT; i++) {
		s = &w->streams[i];
		pthread_mutex_lock(&s->lock);
		err = flush_stream(w, i, false);
		jobs = s->packer ? packer_handed(s->packer) : 0;
		pthread_mutex_unlock(&s->lock);
		/*
		 * Everything added before this call is in the file on return;
		 * waited for without the stream's lock, so its filler goes on.
		 */
		if (s->packer) {
			packer_sync(s->packer, jobs);
			/* What the packer wrote fails the flush as if written here. */
			if (!err)
				err = get_error(w);
		}
		if (err && !first)
			first = err;
	}
	return first;
}

/* Stop a stream's packer (it writes its job first) and free it. Accepts NULL. */
static void packer_free(struct packer *k)
{
	if (!k)
		return;
	if (k->started) {
		pthread_mutex_lock(&k->job_lock);
		k->stop = true;
		pthread_cond_signal(&k->job_cond);
		pthread_mutex_unlock(&k->job_lock);
		pthread_join(k->thread, NULL);
	}
	mh_bigmem_free(k->job.buf, k->w->streams[k->stream].buf_cap, BUF_SMALL_BYTES);
	pthread_cond_destroy(&k->idle_cond);
	pthread_cond_destroy(&k->job_cond);
	pthread_mutex_destroy(&k->job_lock);
	free(k);
}

/* The allocation stream's packer, not started, with its empty buffer; NULL if no memory. */
static struct packer *packer_new(struct mh_trace_writer *w, int stream)
{
	struct packer *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	pthread_mutex_init(&k->job_lock, NULL);
	pthread_cond_init(&k->job_cond, NULL);
	pthread_cond_init(&k->idle_cond, NULL);
	k->w = w;
	k->stream = stream;
	k->job.buf = mh_bigmem_alloc(w->streams[stream].buf_cap, BUF_SMALL_BYTES);
	if (!k->job.buf) {
		packer_free(k);
		return NULL;
	}
	return k;
}

static void free_writer(struct mh_trace_writer *w)
{
	int i;

	/* First: a packer still at work uses the stream's buffers and the file. */
	for (i = 0; i < MH_STREAM_COUNT; i++)
		packer_free(w->streams[i].packer);
	for (i = 0; i < MH_STREAM_COUNT; i++) {
		mh_bigmem_free(w->streams[i].cur.buf, w->streams[i].buf_cap, BUF_SMALL_BYTES);
		mh_bigmem_free(w->streams[i].stage, STAGE_BYTES, BUF_SMALL_BYTES);
		mh_bigmem_free(w->streams[i].packed, MH_CHUNK_MAX_RAW_BYTES, BUF_SMALL_BYTES);
		mh_bigmem_free(w->streams[i].chunk, w->streams[i].chunk_cap, BUF_SMALL_BYTES);
		ZSTD_freeCCtx(w->streams[i].cctx);
		mh_trace_compact_free(w->streams[i].compact);
		pthread_mutex_destroy(&w->streams[i].lock);
	}
	pthread_mutex_destroy(&w->file_lock);
	if (w->fd >= 0)
		close(w->fd);
	free(w);
}

static int init_streams(struct mh_trace_writer *w)
{
	size_t cap = sizeof(struct mh_chunk_header) + ZSTD_compressBound(MH_CHUNK_MAX_RAW_BYTES);
	struct stream_buf *s;
	int i;

	for (i = 0; i < MH_STREAM_COUNT; i++) {
		s = &w->streams[i];
		pthread_mutex_init(&s->lock, NULL);
		s->buf_cap = MH_CHUNK_MAX_RAW_BYTES;
		/* The preload's events, the bulk of a trace, take the compact encoding. */
		if (i == MH_STREAM_ALLOC) {
			s->compact = mh_trace_compact_new();
			if (s->compact)
				mh_trace_compact_set_time_unit(s->compact, w->unit_ns);
			s->buf_cap = MH_TRACE_COMPACT_BOUND(MH_CHUNK_MAX_RAW_BYTES);
			s->stage = mh_bigmem_alloc(STAGE_BYTES, BUF_SMALL_BYTES);
			/* The ring drainer fills it: a chunk to pack must not stop it. */
			s->packer = packer_new(w, i);
		} else {
			s->packed = mh_bigmem_alloc(MH_CHUNK_MAX_RAW_BYTES, BUF_SMALL_BYTES);
		}
		s->cur.buf = mh_bigmem_alloc(s->buf_cap, BUF_SMALL_BYTES);
		s->chunk = mh_bigmem_alloc(cap, BUF_SMALL_BYTES);
		s->chunk_cap = cap;
		s->cctx = ZSTD_createCCtx();
		if (!s->cur.buf || !s->chunk || !s->cctx ||
		    (i == MH_STREAM_ALLOC ? !s->compact || !s->stage || !s->packer : !s->packed))
			return -ENOMEM;
	}
	return 0;
}

void mh_trace_header_init(struct mh_trace_header *h, uint32_t root_pid, uint32_t flags)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, MH_TRACE_MAGIC, sizeof(h->magic));
	h->version = MH_TRACE_VERSION;
	h->header_bytes = sizeof(*h);
	h->flags = (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? MH_TRACE_LITTLE_ENDIAN : 0) | flags;
	h->start_ns = mh_clock_ns(CLOCK_MONOTONIC);
	h->start_realtime_ns = mh_clock_ns(CLOCK_REALTIME);
	h->page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	h->root_pid = root_pid;
	h->pointer_bytes = sizeof(void *);
	h->time_unit_ns = 1;
}

void mh_trace_header_set_time_unit(struct mh_trace_header *h, uint32_t unit_ns)
{
	__u64 lost;

	h->time_unit_ns = unit_ns ? unit_ns : 1;
	/* The start is a stamp too: no record's may fall before it. */
	lost = h->start_ns - mh_time_floor(h->start_ns, h->time_unit_ns);
	h->start_ns -= lost;
	h->start_realtime_ns -= lost;
}

struct mh_trace_writer *mh_trace_writer_fdopen(int fd, const struct mh_trace_header *hdr)
{
	struct mh_trace_writer *w;
	int err;

	w = calloc(1, sizeof(*w));
	if (!w) {
		close(fd);
		return NULL;
	}
	w->fd = fd;
	w->unit_ns = hdr->time_unit_ns ? hdr->time_unit_ns : 1;
	pthread_mutex_init(&w->file_lock, NULL);
	err = init_streams(w);
	if (!err)
		err = write_all(w, hdr, sizeof(*hdr));
	if (err) {
		free_writer(w);	/* closes fd */
		errno = -err;
		return NULL;
	}
	return w;
}

struct mh_trace_writer *mh_trace_writer_open(const char *path, const struct mh_trace_header *hdr)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	return fd < 0 ? NULL : mh_trace_writer_fdopen(fd, hdr);
}

int mh_trace_writer_close(struct mh_trace_writer *w, bool durable)
{
	struct mh_chunk_header end = {
		.magic = MH_CHUNK_MAGIC,
		.stream = MH_STREAM_END,
	};
	int err;

	if (!w)
		return 0;
	(void)mh_trace_writer_flush(w); /* its error is sticky in w->error */
	err = write_chunk(w, &end, sizeof(end));
	if (!err && durable && fsync(w->fd) < 0 && errno != EINVAL && errno != EROFS)
		err = -errno;
	if (close(w->fd) < 0 && !err && errno != EINTR)
		err = -errno;
	w->fd = -1;
	if (!err)
		err = w->error;
	free_writer(w);
	return err;
}
