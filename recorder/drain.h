/* SPDX-License-Identifier: MIT */
/*
 * drain.h - the recording side of `memhook record`: owns the ring and
 * the trace writer, drains the ring into MH_STREAM_ALLOC on one thread
 * (keeping the live blocks per process as records pass, for exit scans,
 * which run on a thread of their own) and the BPF collector into
 * MH_STREAM_KERNEL on another.
 *
 * A write error (disk full) is reported once on stderr and remembered;
 * the ring keeps being drained and its records dropped, so the traced
 * program never waits on a recorder that cannot write.
 */
#ifndef MEMHOOK_RECORDER_DRAIN_H
#define MEMHOOK_RECORDER_DRAIN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

#include "kernel/collector.h"
#include "recorder/ring_consumer.h"
#include "trace/writer.h"

struct mh_tracked;
struct mh_liveset;
struct mh_leakscan;

struct mh_recorder {
	struct mh_ring ring;
	struct mh_trace_writer *writer;
	struct mh_collector *collector;	/* NULL when the kernel stream is off */
	struct mh_tracked *tracked;	/* processes to sample; the drainer adds PROCESS pids */
	struct mh_liveset *liveset;	/* live blocks per process, kept by the drainer */
	struct mh_leakscan *scans;	/* the exit-scan thread */
	const char *trace_path;
	pthread_t drain_thread;
	pthread_t collect_thread;
	bool drain_started;
	bool collect_started;
	atomic_int stop_drain;		/* 1: drain what is left, then return */
	atomic_int stop_collect;
	int stop_fd;			/* eventfd that wakes the collector thread to stop */
	atomic_int write_err;		/* first -errno from the writer, 0 if none */
	int collect_err;		/* -errno that stopped the collector thread */
	atomic_uint processes;		/* PROCESS records drained: 0 = the preload never loaded */
	atomic_ullong records;		/* records drained from the ring (the progress line's events/s) */
	unsigned int torn_records;	/* slots still mid-record when draining stopped */
	__u64 order_repairs;		/* allocations of a live address (liveset.h) */
	bool liveset_err;		/* the live set ran out of memory (said once) */
	bool ring_corrupt;		/* a slot held what no preload wrote: that slot was dropped */
	unsigned char *batch;		/* records copied out of the ring before use */
};

/*
 * Append records to a stream of the trace. After the first failure the
 * error is printed once ("memhook: cannot write trace ..."), later records
 * are dropped and the error is returned. Thread-safe.
 */
int mh_recorder_append(struct mh_recorder *r, int stream, const void *records, size_t bytes);

/*
 * Write every stream's buffered records out as chunks, so a reader of the
 * growing file sees them. Errors as mh_recorder_append(). Thread-safe.
 */
int mh_recorder_flush(struct mh_recorder *r);

/* Append an MH_REC_INFO record key=value about pid (0: the whole trace) to MH_STREAM_META. */
int mh_recorder_info(struct mh_recorder *r, pid_t pid, const char *key, const char *value);

/* The collector's sink: ctx is the recorder. */
int mh_recorder_sink(void *ctx, int stream, const void *records, size_t bytes);

/*
 * Start the exit-scan thread, the ring drainer and, if r->collector is
 * set, the collector thread. 0 or -errno.
 */
int mh_recorder_start(struct mh_recorder *r);

/*
 * Close the ring (late producers pass through), drain it until it is
 * empty and no producer is mid-write (or a producer died mid-write:
 * r->torn_bytes), stop the collector thread and free the collector (which
 * flushes its last records and loss counts). Call after the traced
 * processes have ended.
 */
void mh_recorder_stop(struct mh_recorder *r);

#endif /* MEMHOOK_RECORDER_DRAIN_H */
