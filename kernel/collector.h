/* SPDX-License-Identifier: MIT */
/*
 * collector.h - the BPF collector's public face: probe what this kernel
 * offers, load and attach the programs for one process tree, and drain
 * their ring buffer into the caller's sink as kernel_events.h records.
 *
 * The collector never prints: problems are returned as -errno and as
 * human-readable reasons (mh_collector_reason, and MH_REC_INFO records
 * "kernel.probe.<name>" = "attached via tp_btf" / "skipped: <why>" that it
 * emits into MH_STREAM_META when it opens).
 */
#ifndef MEMHOOK_KERNEL_COLLECTOR_H
#define MEMHOOK_KERNEL_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Where records go. Called from the thread that calls mh_collector_poll(),
 * with whole records back to back; stream is an enum mh_stream.
 * Returns 0 or -errno (the collector stops polling and returns it).
 */
typedef int (*mh_collector_sink_fn)(void *ctx, int stream, const void *records, size_t bytes);

struct mh_collector_opts {
	pid_t pid;			/* tgid to trace (the parked child) */
	bool follow_children;		/* also trace processes it forks */
	mh_collector_sink_fn sink;	/* receives the records */
	void *sink_ctx;			/* passed to sink */
	size_t ringbuf_bytes;		/* BPF ring buffer size, 0 = default */
	/*
	 * Also record memcg:count_memcg_events (MH_REC_KMEMCG: swap-ins,
	 * swap-outs, major faults counted in a traced thread). Off by default:
	 * the tracepoint fires on every page fault of every process, which
	 * costs about 40 ns a fault, and the same facts come from the
	 * swap-in, major-fault and reclaim records.
	 */
	bool memcg_events;
	/*
	 * The process exits right after mh_collector_free(): the probes are
	 * then detached by a helper once it is gone (kernel/linger.h), so its
	 * exit is not held up by it (~10 ms). Never for a process that goes
	 * on (a report to write): the probes would stay attached, running on
	 * every syscall of the machine, until it exits.
	 */
	bool exit_after_free;
};

struct mh_collector;

/*
 * Probe, load and attach. Returns 0 and sets *out, or -errno with *out NULL:
 * -EPERM when privileges are missing, -EOPNOTSUPP when no probe could be
 * attached. Either way mh_collector_reason() tells why in one line.
 * Not thread-safe; call once per recording, before the child execs.
 */
int mh_collector_open(const struct mh_collector_opts *opts, struct mh_collector **out);

/* One line saying why the last mh_collector_open() failed ("" if it didn't). */
const char *mh_collector_reason(void);

/* Add a tgid to the filter (collect -p, or a fork the caller saw). 0 or -errno. */
int mh_collector_add_pid(struct mh_collector *c, pid_t pid);

/*
 * Wait up to timeout_ms for records and hand them to the sink. Returns the
 * number of records delivered, or -errno. Call from one thread only.
 */
int mh_collector_poll(struct mh_collector *c, int timeout_ms);

/*
 * A file descriptor that polls readable (POLLIN) when the BPF side has
 * signalled records, for a caller that waits on several things at once
 * (say, its own stop eventfd): poll it, then call mh_collector_poll(c, 0).
 * The BPF side signals in batches (every 1/8 of the ring, and at once for
 * the first fault on a file), so call mh_collector_poll(c, 0) at least
 * every ~100 ms too. Owned by the collector: never close it.
 */
int mh_collector_fd(const struct mh_collector *c);

/*
 * True if the OOM killer chose pid (a traced tgid) as its victim since the
 * collector opened: the BPF side marks it in a map when oom:mark_victim
 * fires, before the victim can finish exiting, so a caller that has just
 * reaped pid (waitpid) gets the answer without waiting for the ring to be
 * drained. False when the mark_victim probe is not attached. Thread-safe
 * with mh_collector_poll() (not with mh_collector_free()).
 */
bool mh_collector_oom_victim(struct mh_collector *c, pid_t pid);

/*
 * Drain what is left, emit the per-CPU drop counts as MH_REC_LOST records
 * and the INFO "kernel.files.unresolved" (files faults named that no
 * /proc/PID/maps could name), detach and free. Accepts NULL.
 */
void mh_collector_free(struct mh_collector *c);

#endif /* MEMHOOK_KERNEL_COLLECTOR_H */
