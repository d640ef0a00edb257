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
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "recorder/exitscan/request.h"
#include "recorder/tracked.h"
#include "common/clock.h"
#include "trace/records.h"

/* Ring bytes handed to the writer at once: bounds how long ring space stays held. */
#define DRAIN_BATCH_BYTES (1U << 20)
/* Empty polls answered with sched_yield() before the drainer starts sleeping. */
#define DRAIN_YIELD_POLLS 16
/* Longest sleep between polls of an empty ring, ns. */
#define DRAIN_MAX_SLEEP_NS 1000000L
/* How long a reserved-but-uncommitted record may stay so at the end, ms. */
#define TORN_TAIL_WAIT_MS 500
/*
 * Longest wait between two collector drains, ms: the BPF side wakes the
 * reader only in batches (collector.h), so a quiet ring is drained anyway.
 */
#define COLLECT_POLL_MS 100

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

/*
 * The whole records at the start of buf that fit in DRAIN_BATCH_BYTES (at
 * least one). A batch ends right after an MH_REC_EXIT_SCAN, which is then
 * copied to *scan: its process waits for an answer. The pid of every
 * PROCESS record joins the set the sampler follows.
 */
static size_t batch_bytes(struct mh_recorder *r, const unsigned char *buf, size_t bytes,
			  struct mh_rec_exit_scan *scan, bool *have_scan)
{
	const struct mh_rec_hdr *rec;
	size_t off = 0, n = 0;

	*have_scan = false;
	while (off < bytes) {
		rec = (const struct mh_rec_hdr *)(buf + off);
		if (off && off + rec->size > DRAIN_BATCH_BYTES)
			break;
		off += rec->size;
		n++;
		if (rec->type == MH_REC_PROCESS)
			atomic_fetch_add(&r->processes, 1);
		if (rec->type == MH_REC_PROCESS && r->tracked && rec->size >= sizeof(struct mh_rec_process))
			/* -ESRCH: it is gone already, nothing left to sample. */
			(void)mh_tracked_add(r->tracked, (pid_t)((const struct mh_rec_process *)rec)->pid);
		if (rec->type == MH_REC_EXIT_SCAN && rec->size >= sizeof(*scan)) {
			memcpy(scan, rec, sizeof(*scan));
			*have_scan = true;
			break;
		}
	}
	/* One atomic add per batch, not per record. */
	atomic_fetch_add_explicit(&r->records, n, memory_order_relaxed);
	return off < bytes ? off : bytes;
}

/*
 * Move what is committed from the ring to the trace, releasing it in
 * batches so producers get room back while the rest is compressed.
 * mh_ring_peek() walks every committed header, so it is called once per
 * pass, not once per batch. An exit-scan request is answered once every
 * record before it is in the trace. Returns the bytes moved.
 */
static size_t drain_once(struct mh_recorder *r)
{
	struct mh_rec_exit_scan scan;
	const unsigned char *p;
	size_t bytes, n, moved = 0;
	bool have_scan;

	p = mh_ring_peek(&r->ring, &bytes);
	while (bytes) {
		n = batch_bytes(r, p, bytes, &scan, &have_scan);
		(void)mh_recorder_append(r, MH_STREAM_ALLOC, p, n); /* reported once inside */
		mh_ring_release(&r->ring, n);
		p += n;
		bytes -= n;
		moved += n;
		if (have_scan) {
			/*
			 * The scan reads the process's memory and so faults pages
			 * back in: a later sample would show residency memhook
			 * caused. Its own snapshot, taken first, is the last one.
			 */
			if (r->tracked)
				mh_tracked_remove(r->tracked, (pid_t)scan.pid);
			/* Failures are recorded as "leakscan.status"; the process is released anyway. */
			(void)mh_leakscan_handle(r, &scan);
		}
	}
	return moved;
}

static void idle_wait(unsigned polls)
{
	struct timespec ts = { 0, 50000L };

	if (polls < DRAIN_YIELD_POLLS) {
		sched_yield();
		return;
	}
	/* Grow the sleep from 50us to 1ms: producers only wait when the ring is full. */
	if (polls - DRAIN_YIELD_POLLS < 5)
		ts.tv_nsec <<= polls - DRAIN_YIELD_POLLS;
	else
		ts.tv_nsec = DRAIN_MAX_SLEEP_NS;
	nanosleep(&ts, NULL);
}

/* After stop: drain until empty, waiting a bounded time for producers still mid-write. */
static void drain_rest(struct mh_recorder *r)
{
	__u64 deadline = mh_clock_now_ns() + TORN_TAIL_WAIT_MS * 1000000ULL;
	unsigned polls = 0;

	for (;;) {
		if (drain_once(r)) {
			deadline = mh_clock_now_ns() + TORN_TAIL_WAIT_MS * 1000000ULL;
			polls = 0;
			continue;
		}
		r->torn_bytes = mh_ring_pending_bytes(&r->ring);
		if (!r->torn_bytes || mh_clock_now_ns() > deadline)
			return;
		idle_wait(polls++);
	}
}

static void *drain_main(void *arg)
{
	struct mh_recorder *r = arg;
	unsigned polls = 0;

	while (!atomic_load(&r->stop_drain)) {
		if (drain_once(r))
			polls = 0;
		else
			idle_wait(polls++);
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
	int n;

	while (!atomic_load(&r->stop_collect)) {
		n = poll(fds, 2, COLLECT_POLL_MS);
		if (n < 0 && errno != EINTR) {
			r->collect_err = -errno;
			break;
		}
		if (n > 0 && fds[0].revents)
			break;
		n = mh_collector_poll(r->collector, 0);
		if (n < 0 && n != -EINTR) {
			r->collect_err = n;
			break;
		}
	}
	return NULL;
}

int mh_recorder_start(struct mh_recorder *r)
{
	int err;

	err = -pthread_create(&r->drain_thread, NULL, drain_main, r);
	if (err)
		return err;
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
		pthread_join(r->drain_thread, NULL);
		r->drain_started = false;
		mh_leakscan_reset();
	}
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
