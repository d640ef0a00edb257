// SPDX-License-Identifier: MIT
/*
 * drain.c - drain the ring and the BPF collector into the trace
 * (recorder.h).
 *
 * The drainer must never stop consuming while the traced program runs:
 * in lossless mode producers wait for room, so a stalled drainer would
 * stall the program. When the trace cannot be written, records are still
 * taken out of the ring and dropped.
 */
#include "recorder/drain.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "recorder/exitscan/request.h"
#include "recorder/liveset.h"
#include "recorder/tracked.h"
#include "common/clock.h"
#include "trace/records.h"

/* Ring bytes handed to the writer at once: bounds how long ring space stays held. */
#define DRAIN_BATCH_BYTES (1U << 20)
/* Records in each group observe() prefetches the live set's slots for: 8 to 16 records early. */
#define PREFETCH_AHEAD 8
/* Longest sleep of an idle drainer, ns: producers wake it (ring.h), this bounds a missed wake. */
#define DRAIN_IDLE_NS (MH_RING_IDLE_WAKE_MS * 1000000L)
/*
 * The drainer's timer slack, ns. A pass that held an exit-scan request
 * back by the watermark is followed within the clocks' skew (20 us,
 * ring_consumer.c); the default slack of 50 us tripled that wait while
 * the process waited for its answer.
 */
#define DRAIN_TIMER_SLACK_NS 1000UL
/* Sleep between looks at a torn tail at the end, ns. */
#define TORN_TAIL_POLL_NS 1000000L
/* How long a producer may stay mid-record at the end, ms. */
#define TORN_TAIL_WAIT_MS 500
/*
 * Longest wait between two collector drains, ms: the BPF side wakes the
 * reader only in batches (collector.h), so a quiet ring is drained anyway.
 * While the last drain found records, COLLECT_BUSY_POLL_MS: what is still
 * in the ring when the program exits is drained, and its files named,
 * after the program's end, in memhook's own run time. `git log -p` fills
 * the ring with less than one wakeup's worth in all; with 100 ms the
 * final drain took a median 3.1 ms, with 10 ms 1.5 ms (12 runs each).
 */
#define COLLECT_POLL_MS 100
#define COLLECT_BUSY_POLL_MS 10

/* The live set ran out of memory: exit scans of this recording will miss blocks. Say it once. */
static void note_liveset_error(struct mh_recorder *r)
{
	if (!r->liveset_err) {
		r->liveset_err = true;
		fprintf(stderr, "memhook: out of memory for the live-block set; leak verdicts may be incomplete\n");
	}
}

/* Remember the first write error and say it once. Returns err. */
static int note_error(struct mh_recorder *r, int err)
{
	int none = 0;

	if (err && atomic_compare_exchange_strong(&r->write_err, &none, err))
		fprintf(stderr, "memhook: cannot write trace '%s': %s (recording stopped; the trace keeps what was written)\n",
			r->trace_path, strerror(-err));
	return err;
}

int mh_recorder_append(struct mh_recorder *r, int stream, const void *records, size_t bytes)
{
	int err = atomic_load(&r->write_err);

	if (err)
		return err;
	return note_error(r, mh_trace_writer_append(r->writer, stream, records, bytes));
}

int mh_recorder_flush(struct mh_recorder *r)
{
	int err = atomic_load(&r->write_err);

	if (err)
		return err;
	return note_error(r, mh_trace_writer_flush(r->writer));
}

int mh_recorder_sink(void *ctx, int stream, const void *records, size_t bytes)
{
	/* The kernel's ring buffer must keep draining even if the trace cannot grow. */
	(void)mh_recorder_append(ctx, stream, records, bytes);
	return 0;
}

int mh_recorder_info(struct mh_recorder *r, pid_t pid, const char *key, const char *value)
{
	size_t size;
	struct mh_rec_info *info = mh_rec_info_new((__u32)pid, key, value, &size);
	int err;

	if (!info)
		return -errno;
	err = mh_recorder_append(r, MH_STREAM_META, info, size);
	free(info);
	return err;
}

/* A PROCESS record: follow its pid (sampler, scans) if the kernel says it is ours. */
static void on_process(struct mh_recorder *r, const struct mh_rec_process *rec)
{
	atomic_fetch_add(&r->processes, 1);
	/* -ESRCH: gone already; -EPERM: not the program's, its claim is ignored. */
	if (mh_tracked_admit(r->tracked, (pid_t)rec->pid))
		return;
	if (mh_liveset_admit(r->liveset, rec))
		note_liveset_error(r);
}

/*
 * An exit-scan request (its ticket the recorder's own, from
 * mh_ring_read): hand the process's live blocks to the scan thread, or
 * have it refused there (in order).
 */
static void on_exit_scan(struct mh_recorder *r, const struct mh_rec_exit_scan *rec)
{
	struct mh_exitscan_request req = {
		.pid = (pid_t)rec->pid,
		.tid = (pid_t)rec->tid,
		.sp = rec->sp,
		.pidfd = -1,
		.tracked = r->tracked,
		.ring = &r->ring,
		.ticket = rec->ticket,
	};
	struct mh_exitscan_program prog = { 0 };
	int err;

	/*
	 * The figures at exit come first; the process stays tracked for its
	 * scan. They are a few /proc reads, taken here rather than on the scan
	 * thread: the process waits for them, and a hand-over to another
	 * thread is one more wake-up on its way out (the scan thread only
	 * ever holds requests of other processes, answered in any order).
	 */
	if (rec->path == MH_EXIT_PATH_FIGURES) {
		req.figures = true;
		err = mh_tracked_pidfd(r->tracked, req.pid);
		if (err < 0) {
			mh_leakscan_submit(r->scans, &req, &prog, err);
			return;
		}
		req.pidfd = err;
		/* Failures only leave the figures out; the process is released anyway. */
		(void)mh_exitscan_figures(&req, mh_recorder_sink, r);
		return;
	}
	/*
	 * Taking it out of the set also stops its sampling: the scan reads the
	 * process's swapped-out pages back in, and a later sample would show
	 * residency memhook caused.
	 */
	err = mh_tracked_take(r->tracked, req.pid);
	if (err >= 0) {
		req.pidfd = err;
		err = mh_liveset_take(r->liveset, req.pid, &prog);
	}
	mh_leakscan_submit(r->scans, &req, &prog, err);
}

/*
 * Keep the records' meaning for the recorder: processes, live blocks,
 * exit scans, and the smallest stamp for the writer's chunk header. buf
 * holds records from mh_ring_read, each one checked there
 * (mh_ring_record_error) once copied out of the shared memory: they are
 * not checked again. One walk: the live set walks the runs of ALLOC, FREE
 * and REALLOC records (nearly all of them), this loop the records between.
 */
static __u32 observe(struct mh_recorder *r, const unsigned char *buf, size_t bytes,
		     __u64 *first_ts)
{
	struct mh_liveset *ls = r->liveset;
	struct mh_liveset_walk w = { 0 };
	size_t end, n = 0, ahead = 0;
	bool prefetch = mh_liveset_prefetch_pays(ls);

	while (w.off < bytes) {
		/*
		 * In a large live set lookups miss the cache: start them a
		 * group of PREFETCH_AHEAD records early, a group at a time
		 * (sizes checked by mh_ring_read); records up to end are the
		 * group prefetched before.
		 */
		end = bytes;
		if (prefetch) {
			if (!w.off)
				ahead = mh_liveset_prefetch(ls, buf, bytes, 0, PREFETCH_AHEAD);
			end = ahead;
			ahead = mh_liveset_prefetch(ls, buf, bytes, ahead, PREFETCH_AHEAD);
		}
		for (;;) {
			const struct mh_rec_hdr *rec;

			mh_liveset_apply_events(ls, buf, end, &w);
			if (w.off >= end)
				break;
			rec = (const struct mh_rec_hdr *)(buf + w.off);
			w.off += rec->size;
			n++;
			w.first_ts = mh_stamp_min(w.first_ts, mh_rec_stamp(rec));
			if (rec->type == MH_REC_PROCESS)
				on_process(r, (const void *)rec);
			else if (rec->type == MH_REC_EXIT_SCAN)
				on_exit_scan(r, (const void *)rec);
		}
	}
	if (w.err)
		note_liveset_error(r);
	n += w.events;
	/* One atomic add per batch, not per record: the progress line's events/s. */
	atomic_fetch_add_explicit(&r->records, n, memory_order_relaxed);
	*first_ts = w.first_ts;
	return (__u32)n;
}

/*
 * A slot holds what no preload wrote: the program (or a bug) broke the
 * protocol. Say where in the trace; mh_ring_read reads that slot no more,
 * and its thread's records are dropped from now on.
 */
static void slot_corrupt(struct mh_recorder *r, const char *why)
{
	(void)mh_recorder_info(r, 0, "ring.corrupt", why); /* reported once inside */
	fprintf(stderr, "memhook: event ring corrupt %s\n", why);
	r->ring_corrupt = true;
}

/*
 * Where the next batch goes: straight into the trace's buffer for the
 * allocation stream (the writer's lock held until commit_batch), or, when
 * the trace cannot be written, the drainer's own buffer (dropped after).
 * *cap is at most DRAIN_BATCH_BYTES and holds any record.
 */
static unsigned char *batch_room(struct mh_recorder *r, size_t *cap)
{
	void *at;

	if (!atomic_load(&r->write_err) &&
	    !note_error(r, mh_trace_writer_room(r->writer, MH_STREAM_ALLOC,
						mh_ring_max_record(&r->ring), &at, cap))) {
		if (*cap > DRAIN_BATCH_BYTES)
			*cap = DRAIN_BATCH_BYTES;
		return at;
	}
	*cap = DRAIN_BATCH_BYTES;
	return r->batch;
}

/*
 * Keep the first `bytes` bytes of a batch from batch_room in the trace:
 * count records checked by mh_ring_read, first_ts their smallest stamp.
 */
static void commit_batch(struct mh_recorder *r, const unsigned char *batch, size_t bytes,
			 __u32 count, __u64 first_ts)
{
	if (batch != r->batch)
		(void)note_error(r, mh_trace_writer_commit_checked(r->writer, MH_STREAM_ALLOC, bytes,
								   count, first_ts));
}

/*
 * Move what is published from the ring to the trace, merged by time, in
 * batches of about DRAIN_BATCH_BYTES copied out of the shared memory
 * first (the program may change it while we look), straight into the
 * trace's buffer, so producers get room back while the rest is
 * compressed. Returns the bytes moved.
 */
static size_t drain_once(struct mh_recorder *r)
{
	const char *why;
	unsigned char *batch;
	size_t n, cap, moved = 0;
	__u64 first_ts;
	__u32 count;
	int err;

	do {
		batch = batch_room(r, &cap);
		err = mh_ring_read(&r->ring, batch, cap, &n, &why);
		count = observe(r, batch, n, &first_ts);
		commit_batch(r, batch, n, count, first_ts);
		mh_ring_release(&r->ring, n);
		moved += n;
		if (err)
			slot_corrupt(r, why);
	} while (n || err);
	return moved;
}

/*
 * After stop: drain until empty, waiting a bounded time for producers
 * still mid-write; then merge everything published, whatever its time.
 */
static void drain_rest(struct mh_recorder *r)
{
	__u64 deadline = mh_clock_now_ns() + TORN_TAIL_WAIT_MS * 1000000ULL;

	for (;;) {
		if (drain_once(r)) {
			deadline = mh_clock_now_ns() + TORN_TAIL_WAIT_MS * 1000000ULL;
			continue;
		}
		r->torn_records = mh_ring_busy_slots(&r->ring);
		if (!r->torn_records || mh_clock_now_ns() > deadline)
			break;
		mh_ring_wait(&r->ring, TORN_TAIL_POLL_NS);
	}
	mh_ring_finish(&r->ring);
	drain_once(r);
	r->order_repairs = mh_liveset_repairs(r->liveset);
}

static void *drain_main(void *arg)
{
	struct mh_recorder *r = arg;

	/* Failing only leaves the short waits longer. */
	(void)prctl(PR_SET_TIMERSLACK, DRAIN_TIMER_SLACK_NS, 0, 0, 0);
	while (!atomic_load(&r->stop_drain)) {
		if (!drain_once(r))
			mh_ring_wait(&r->ring, DRAIN_IDLE_NS);
	}
	drain_rest(r);
	return NULL;
}

/*
 * Wait on the collector's fd and the stop eventfd together, so a stop is
 * seen at once instead of after the poll timeout; then drain without
 * waiting. The last records are drained by mh_collector_free().
 */
static void *collect_main(void *arg)
{
	struct mh_recorder *r = arg;
	struct pollfd fds[2] = {
		{ .fd = r->stop_fd, .events = POLLIN },
		{ .fd = mh_collector_fd(r->collector), .events = POLLIN },
	};
	int n, delivered = 0;

	while (!atomic_load(&r->stop_collect)) {
		n = poll(fds, 2, delivered > 0 ? COLLECT_BUSY_POLL_MS : COLLECT_POLL_MS);
		if (n < 0 && errno != EINTR) {
			r->collect_err = -errno;
			break;
		}
		if (n > 0 && fds[0].revents)
			break;
		delivered = mh_collector_poll(r->collector, 0);
		if (delivered < 0 && delivered != -EINTR) {
			r->collect_err = delivered;
			break;
		}
	}
	return NULL;
}

int mh_recorder_start(struct mh_recorder *r)
{
	int err;

	r->batch = malloc(DRAIN_BATCH_BYTES + mh_ring_max_record(&r->ring));
	if (!r->batch)
		return -ENOMEM;
	r->liveset = mh_liveset_new();
	r->scans = r->liveset ? mh_leakscan_start(r) : NULL;
	if (!r->scans) {
		mh_liveset_free(r->liveset);
		r->liveset = NULL;
		return -ENOMEM;
	}
	err = -pthread_create(&r->drain_thread, NULL, drain_main, r);
	if (err)
		return err;	/* mh_recorder_stop() stops the scan thread */
	r->drain_started = true;
	if (!r->collector)
		return 0;
	r->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (r->stop_fd < 0)
		return -errno;
	err = -pthread_create(&r->collect_thread, NULL, collect_main, r);
	if (err) {
		close(r->stop_fd);
		return err;
	}
	r->collect_started = true;
	return 0;
}

void mh_recorder_stop(struct mh_recorder *r)
{
	/*
	 * Close first: a producer that comes late passes through instead of
	 * committing records after the last drain.
	 */
	if (r->ring.hdr)
		mh_ring_close(&r->ring);
	if (r->drain_started) {
		atomic_store(&r->stop_drain, 1);
		mh_ring_wake(&r->ring);
		pthread_join(r->drain_thread, NULL);
		r->drain_started = false;
	}
	/* Answers every request still queued: no process is left waiting. */
	mh_leakscan_stop(r->scans);
	r->scans = NULL;
	mh_liveset_free(r->liveset);
	r->liveset = NULL;
	free(r->batch);
	r->batch = NULL;
	if (r->collect_started) {
		atomic_store(&r->stop_collect, 1);
		/* Cannot fail: the counter is far from its maximum. */
		(void)eventfd_write(r->stop_fd, 1);
		pthread_join(r->collect_thread, NULL);
		close(r->stop_fd);
		r->collect_started = false;
	}
	/* Flushes the collector's last records and loss counts through the sink. */
	mh_collector_free(r->collector);
	r->collector = NULL;
}
