// SPDX-License-Identifier: MIT
/*
 * timeline.c - merge a trace's streams into one causal order for replay.
 *
 * The master (ALLOC) stream is read, decompressed and decoded by a second
 * thread, a slice of records at a time, into a small ring of batches
 * that this thread replays meanwhile: decoding and replay overlap, and
 * the records are read back while still in the cache.
 *
 * Must never hold more than one chunk per stream, the master batches in
 * flight and a bounded reorder window, whatever the trace length.
 */
#include "merger/merge/timeline.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merger/replay/replay.h"
#include "trace/reader.h"
#include "common/assert.h"

/*
 * Kernel records come from per-CPU buffers, so their file order is only
 * roughly their time order: the timeline holds up to this many, sorted,
 * and releases the oldest. A record that arrives after a later one was
 * already released (more than the window out of place) is replayed late
 * and counted in mh_replay.kernel_late. docs/ATTRIBUTION.md.
 */
#define KERNEL_REORDER_WINDOW 4096
/* Held records up to this size live in a preallocated pool, bytes. */
#define POOL_SLOT_BYTES 128
/* Master records between two progress callbacks. */
#define PROGRESS_EVERY (1U << 20)
/*
 * Batches of decoded master records waiting for or in the replay, and
 * the bytes of each: small enough for the ring to stay in the caches
 * (decoding whole 16 MiB chunks wrote and read back 880 MB of records
 * on a 20M-event trace), large enough for few hand-overs.
 */
#define BATCH_COUNT 8
#define BATCH_BYTES (256U << 10)
/* Records between a live-block prefetch and its lookup (about one L2 miss of work). */
#define PREFETCH_AHEAD 8

/* Decoded master records: bytes of them at data. */
struct batch {
	size_t bytes;
	size_t cap;			/* of data */
	unsigned char *data;
};

/* The master stream's reader thread and the batches it fills. */
struct prefetch {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct batch batches[BATCH_COUNT];
	unsigned head, count;		/* filled batches: [head, head + count) */
	bool done, stop;		/* reader finished / consumer gave up */
	int err;			/* reader's error, 0 if none */
};

/* A secondary stream released by timestamp. */
struct source {
	int stream;
	struct mh_trace_reader *r;
	const struct mh_rec_hdr *cur;	/* next record (window 0), NULL at the end */
	bool done;
	unsigned window;		/* 0: the stream is in timestamp order */
	unsigned first, pending;	/* ring of pending records, sorted by ts (window > 0) */
	struct mh_rec_hdr **slots;
	unsigned char *pool;		/* window * POOL_SLOT_BYTES bytes */
	void **pool_free;		/* free pool slots (a stack) */
	unsigned pool_free_count;
	uint64_t released_ts;		/* newest timestamp released so far */
};

/* The i-th oldest pending record of a windowed source. */
#define SLOT(s, i) ((s)->slots[((s)->first + (i)) % (s)->window])

enum { SRC_META, SRC_SAMPLE, SRC_KERNEL, SRC_COUNT };

struct mh_timeline {
	struct mh_trace_reader *master;
	struct prefetch pf;
	struct source src[SRC_COUNT];
	uint32_t root_pid;
	char error[256];
};

static int source_open(struct source *s, const char *path, int stream, unsigned window)
{
	s->stream = stream;
	s->window = window;
	s->r = mh_trace_reader_open(path);
	if (!s->r)
		return -errno;
	if (window) {
		s->slots = calloc(window, sizeof(*s->slots));
		s->pool = malloc((size_t)window * POOL_SLOT_BYTES);
		s->pool_free = calloc(window, sizeof(*s->pool_free));
		if (!s->slots || !s->pool || !s->pool_free)
			return -ENOMEM;
		for (unsigned i = 0; i < window; i++)
			s->pool_free[s->pool_free_count++] = s->pool + (size_t)i * POOL_SLOT_BYTES;
	}
	return 0;
}

/* A buffer for a held record of size bytes: from the pool if it fits. */
static struct mh_rec_hdr *slot_get(struct source *s, size_t bytes)
{
	if (bytes <= POOL_SLOT_BYTES && s->pool_free_count)
		return s->pool_free[--s->pool_free_count];
	return malloc(bytes);
}

static void slot_put(struct source *s, struct mh_rec_hdr *rec)
{
	unsigned char *p = (unsigned char *)rec;

	if (s->pool && p >= s->pool && p < s->pool + (size_t)s->window * POOL_SLOT_BYTES)
		s->pool_free[s->pool_free_count++] = p;
	else
		free(rec);
}

struct mh_timeline *mh_timeline_open(const char *path)
{
	struct mh_timeline *tl = calloc(1, sizeof(*tl));
	int err = -ENOMEM;

	if (!tl)
		goto err;
	tl->master = mh_trace_reader_open(path);
	if (!tl->master) {
		err = -errno;
		goto err;
	}
	tl->root_pid = mh_trace_reader_header(tl->master)->root_pid;
	err = source_open(&tl->src[SRC_META], path, MH_STREAM_META, 0);
	if (!err)
		err = source_open(&tl->src[SRC_SAMPLE], path, MH_STREAM_SAMPLE, 0);
	if (!err)
		err = source_open(&tl->src[SRC_KERNEL], path, MH_STREAM_KERNEL,
				  KERNEL_REORDER_WINDOW);
	if (err)
		goto err;
	return tl;
err:
	mh_timeline_free(tl);
	errno = -err;
	return NULL;
}

void mh_timeline_free(struct mh_timeline *tl)
{
	unsigned i, j;

	if (!tl)
		return;
	mh_trace_reader_free(tl->master);
	for (i = 0; i < SRC_COUNT; i++) {
		mh_trace_reader_free(tl->src[i].r);
		for (j = 0; j < tl->src[i].pending; j++)
			slot_put(&tl->src[i], SLOT(&tl->src[i], j));
		free(tl->src[i].slots);
		free(tl->src[i].pool);
		free(tl->src[i].pool_free);
	}
	free(tl);
}

static int read_error(struct mh_timeline *tl, struct mh_trace_reader *r, int err)
{
	snprintf(tl->error, sizeof(tl->error), "%s", mh_trace_reader_error(r));
	return err;
}

/* Advance a window-0 source to its next record. */
static int source_next(struct mh_timeline *tl, struct source *s)
{
	int ret = mh_trace_reader_next(s->r, s->stream, &s->cur, NULL);

	if (ret < 0)
		return read_error(tl, s->r, ret);
	if (ret == 0) {
		s->cur = NULL;
		s->done = true;
	}
	return 0;
}

/* Keep a windowed source's slots full, sorted by timestamp. */
static int window_fill(struct mh_timeline *tl, struct source *s)
{
	const struct mh_rec_hdr *rec;
	struct mh_rec_hdr *copy;
	uint64_t ts;
	unsigned i;
	int ret;

	while (!s->done && s->pending < s->window) {
		ret = mh_trace_reader_next(s->r, s->stream, &rec, NULL);
		if (ret < 0)
			return read_error(tl, s->r, ret);
		if (ret == 0) {
			s->done = true;
			break;
		}
		copy = slot_get(s, rec->size);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, rec, rec->size);
		/* Mostly in order already: the scan from the newest end is short. */
		ts = mh_rec_stamp(copy);
		for (i = s->pending; i > 0 && mh_rec_stamp(SLOT(s, i - 1)) > ts; i--)
			SLOT(s, i) = SLOT(s, i - 1);
		SLOT(s, i) = copy;
		s->pending++;
		MH_ASSERT(i == 0 || mh_rec_stamp(SLOT(s, i - 1)) <= ts);
		MH_ASSERT(i + 1 == s->pending || ts <= mh_rec_stamp(SLOT(s, i + 1)));
	}
	return 0;
}

/*
 * Replay the source's records with a timestamp <= clock (every record
 * when drain is set). Records without a timestamp go with their stream.
 */
static int source_release(struct mh_timeline *tl, struct source *s, struct mh_replay *rp,
			  uint64_t clock, bool drain)
{
	struct mh_rec_hdr *head;
	uint64_t ts;
	int err;

	if (!s->window) {
		while (s->cur && (drain || mh_rec_stamp(s->cur) <= clock)) {
			err = mh_replay_record(rp, s->cur);
			if (!err)
				err = source_next(tl, s);
			if (err)
				return err;
		}
		return 0;
	}
	for (;;) {
		err = window_fill(tl, s);
		if (err)
			return err;
		if (!s->pending)
			return 0;
		head = SLOT(s, 0);
		if (!drain && mh_rec_stamp(head) > clock)
			return 0;
		ts = mh_rec_stamp(head);
		if (ts < s->released_ts)
			mh_replay_count_late(rp);
		else
			s->released_ts = ts;
		err = mh_replay_record(rp, head);
		slot_put(s, head);
		s->first = (s->first + 1) % s->window;
		s->pending--;
		if (err)
			return err;
	}
}

static int release_all(struct mh_timeline *tl, struct mh_replay *rp, uint64_t clock, bool drain)
{
	unsigned i;
	int err;

	for (i = 0; i < SRC_COUNT; i++) {
		err = source_release(tl, &tl->src[i], rp, clock, drain);
		if (err)
			return err;
	}
	return 0;
}

/* Wait for a free batch slot; NULL when the consumer stopped. */
static struct batch *prefetch_claim(struct prefetch *pf)
{
	struct batch *b = NULL;

	pthread_mutex_lock(&pf->lock);
	/* Once the ring is full, sleep until half of it is free: a wake-up per batch cost more. */
	if (pf->count == BATCH_COUNT)
		while (pf->count > BATCH_COUNT / 2 && !pf->stop)
			pthread_cond_wait(&pf->cond, &pf->lock);
	if (!pf->stop) {
		b = &pf->batches[(pf->head + pf->count) % BATCH_COUNT];
		b->bytes = 0;
	}
	pthread_mutex_unlock(&pf->lock);
	return b;
}

/* Hand a filled batch to the consumer; ret <= 0 also ends the stream. */
static void prefetch_publish(struct prefetch *pf, int ret)
{
	pthread_mutex_lock(&pf->lock);
	pf->count++;
	if (ret <= 0) {
		pf->done = true;
		pf->err = ret;
	}
	/* Only what a waiting consumer waits for wakes it (prefetch_take()). */
	if (pf->count >= BATCH_COUNT / 2 || pf->done)
		pthread_cond_broadcast(&pf->cond);
	pthread_mutex_unlock(&pf->lock);
}

/* Reader thread: hand decoded batches over until the end or an error. */
static void *prefetch_main(void *arg)
{
	struct mh_timeline *tl = arg;
	struct prefetch *pf = &tl->pf;
	struct batch *b;
	int ret;

	for (;;) {
		b = prefetch_claim(pf);
		if (!b)
			break;
		ret = mh_trace_reader_take_records(tl->master, MH_STREAM_ALLOC, &b->data, &b->cap,
						   &b->bytes);
		if (ret <= 0)
			b->bytes = 0;
		prefetch_publish(pf, ret);
		if (ret <= 0)
			break;
	}
	return NULL;
}

static int prefetch_start(struct mh_timeline *tl)
{
	struct prefetch *pf = &tl->pf;
	unsigned i;
	int err;

	for (i = 0; i < BATCH_COUNT; i++) {
		pf->batches[i].data = malloc(BATCH_BYTES);
		pf->batches[i].cap = BATCH_BYTES;
		if (!pf->batches[i].data) {
			while (i--)
				free(pf->batches[i].data);
			return -ENOMEM;
		}
	}

	pthread_mutex_init(&pf->lock, NULL);
	pthread_cond_init(&pf->cond, NULL);
	err = pthread_create(&pf->thread, NULL, prefetch_main, tl);
	return -err;
}

/* Wait for the next filled batch. NULL when the stream is over. */
static struct batch *prefetch_take(struct prefetch *pf)
{
	struct batch *b = NULL;

	pthread_mutex_lock(&pf->lock);
	/* Once the ring is empty, sleep until half of it is filled (or the stream ends). */
	if (!pf->count)
		while (pf->count < BATCH_COUNT / 2 && !pf->done)
			pthread_cond_wait(&pf->cond, &pf->lock);
	if (pf->count)
		b = &pf->batches[pf->head];
	pthread_mutex_unlock(&pf->lock);
	return b;
}

/* The batch from prefetch_take() was replayed: its slot is free again. */
static void prefetch_release(struct prefetch *pf)
{
	pthread_mutex_lock(&pf->lock);
	pf->head = (pf->head + 1) % BATCH_COUNT;
	pf->count--;
	/* Only what a waiting reader thread waits for wakes it (prefetch_claim()). */
	if (pf->count <= BATCH_COUNT / 2)
		pthread_cond_broadcast(&pf->cond);
	pthread_mutex_unlock(&pf->lock);
}

static void prefetch_stop(struct mh_timeline *tl)
{
	struct prefetch *pf = &tl->pf;
	unsigned i;

	pthread_mutex_lock(&pf->lock);
	pf->stop = true;
	pthread_cond_broadcast(&pf->cond);
	pthread_mutex_unlock(&pf->lock);
	pthread_join(pf->thread, NULL);
	pthread_cond_destroy(&pf->cond);
	pthread_mutex_destroy(&pf->lock);
	for (i = 0; i < BATCH_COUNT; i++)
		free(pf->batches[i].data);
}

/* Earliest timestamp waiting in a secondary stream, UINT64_MAX if none. */
static uint64_t next_secondary_ts(const struct mh_timeline *tl)
{
	uint64_t next = UINT64_MAX, ts;
	unsigned i;

	for (i = 0; i < SRC_COUNT; i++) {
		const struct source *s = &tl->src[i];

		if (s->window)
			ts = s->pending ? mh_rec_stamp(SLOT(s, 0)) : UINT64_MAX;
		else
			ts = s->cur ? mh_rec_stamp(s->cur) : UINT64_MAX;
		if (ts < next)
			next = ts;
	}
	return next;
}

/*
 * True when a master record ends something (a block, a module, a
 * process): secondary records of its stamp go before it. They go after
 * any other (an allocation's first-touch fault comes after it; a fault in
 * a block's last unit before its free). docs/DESIGN.md, "Time resolution".
 */
static inline bool ends_something(const struct mh_rec_hdr *rec)
{
	return rec->type == MH_REC_FREE || rec->type == MH_REC_REALLOC ||
	       rec->type == MH_REC_MODULE_UNLOAD || rec->type == MH_REC_EXIT;
}

/*
 * Replay one batch of master records, releasing secondaries as the clock
 * passes them. Where the live-block table is large, the slots of the
 * records PREFETCH_AHEAD to 2 * PREFETCH_AHEAD - 1 places on are loaded
 * while these are replayed, a run of PREFETCH_AHEAD at a time.
 */
static int replay_batch(struct mh_timeline *tl, struct mh_replay *rp, const struct batch *b,
			uint64_t *clock_io, uint64_t *next_release_io, uint64_t *n_io,
			mh_timeline_progress_fn fn, void *arg)
{
	/* In locals, not through the pointers: the replay's calls would force a reload each. */
	uint64_t clock = *clock_io, next_release = *next_release_io, n = *n_io, ts;
	const struct mh_rec_hdr *rec;
	/* At the record at offset `at`, prefetch the run from `ahead` on; end: never. */
	size_t off, end = b->bytes, ahead = end, at = end;
	bool ends;
	int err = 0;

	if (mh_replay_prefetch_pays(rp)) {
		for (unsigned i = at = ahead = 0; i < PREFETCH_AHEAD && ahead < end; i++)
			ahead += ((const struct mh_rec_hdr *)(b->data + ahead))->size;
	}
	for (off = 0; off < end; off += rec->size) {
		rec = (const struct mh_rec_hdr *)(b->data + off);
		if (off == at) {
			at = ahead;
			ahead = mh_replay_prefetch(rp, b->data, end, ahead, PREFETCH_AHEAD);
		}
		/* Most are allocations and frees: their stamp where mh_rec_stamp() finds it. */
		if (rec->type == MH_REC_ALLOC && rec->size >= sizeof(struct mh_rec_alloc)) {
			ts = ((const struct mh_rec_alloc *)rec)->ts_ns;
			ends = false;
		} else if (rec->type == MH_REC_FREE && rec->size >= sizeof(struct mh_rec_free)) {
			ts = ((const struct mh_rec_free *)rec)->ts_ns;
			ends = true;
		} else {
			ts = mh_rec_stamp(rec);
			ends = ends_something(rec);
		}
		if (ts > clock)
			clock = ts;
		if (clock > next_release || (ends && clock == next_release)) {
			err = release_all(tl, rp, ends ? clock : clock - 1, false);
			if (err)
				break;
			next_release = next_secondary_ts(tl);
		}
		err = mh_replay_record(rp, rec);
		if (err) {
			snprintf(tl->error, sizeof(tl->error), "cannot replay record of type %u: %s",
				 rec->type, strerror(-err));
			break;
		}
		if (fn && !(++n % PROGRESS_EVERY))
			fn(n, arg);
	}
	*clock_io = clock;
	*next_release_io = next_release;
	*n_io = n;
	return err;
}

int mh_timeline_run(struct mh_timeline *tl, struct mh_replay *rp, mh_timeline_progress_fn fn,
		    void *arg)
{
	uint64_t clock = 0, next_release = 0, n = 0;
	struct batch *b;
	unsigned i;
	int err = 0;

	mh_replay_set_header(rp, tl->root_pid, mh_trace_reader_header(tl->master)->page_size);
	for (i = 0; i < SRC_COUNT && !err; i++) {
		if (!tl->src[i].window)
			err = source_next(tl, &tl->src[i]);
	}
	if (err)
		return err;
	err = prefetch_start(tl);
	if (err) {
		snprintf(tl->error, sizeof(tl->error), "cannot start the trace reader thread: %s",
			 strerror(-err));
		return err;
	}
	while (!err && (b = prefetch_take(&tl->pf))) {
		err = replay_batch(tl, rp, b, &clock, &next_release, &n, fn, arg);
		prefetch_release(&tl->pf);
	}
	if (!err && tl->pf.err < 0)
		err = read_error(tl, tl->master, tl->pf.err);
	prefetch_stop(tl);
	if (err)
		return err;
	return release_all(tl, rp, clock, true);
}

bool mh_timeline_truncated(const struct mh_timeline *tl)
{
	return mh_trace_reader_truncated(tl->master);
}

uint64_t mh_timeline_truncated_at(const struct mh_timeline *tl)
{
	return mh_trace_reader_truncated_at(tl->master);
}

const char *mh_timeline_error(const struct mh_timeline *tl)
{
	return tl->error;
}
