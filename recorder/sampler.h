/* SPDX-License-Identifier: MIT */
/*
 * sampler.h - the recorder's periodic view of the traced processes'
 * memory, into MH_STREAM_SAMPLE: MH_REC_RSS_SAMPLE records from
 * /proc/PID/status, each followed by an MH_REC_OWN_SAMPLE of memhook's own
 * share of it (own.h), and MH_REC_PAGEMAP residency snapshots of their
 * private anonymous writable memory (/proc/PID/maps + /proc/PID/pagemap),
 * for every process of the recording's tracked set (tracked.h).
 *
 * Pagemap snapshots are rationed: one never starts before the previous
 * one's cost, spread over the interval, falls under MH_SAMPLER_MAX_SHARE
 * of the time (a snapshot that took 30 ms delays the next by at least
 * 600 ms), so a huge heap costs the program and memhook at most ~5%.
 */
#ifndef MEMHOOK_RECORDER_SAMPLER_H
#define MEMHOOK_RECORDER_SAMPLER_H

#include <sys/types.h>

#include "memhook/events.h"
#include "recorder/drain.h"

/* Largest share of wall time pagemap snapshots may take, in percent. */
#define MH_SAMPLER_MAX_SHARE_PCT 5

struct mh_sampler;

/*
 * Fill *s (header, timestamp, RssAnon/RssFile/RssShmem/VmSwap in bytes)
 * and *hwm_bytes (VmHWM, the process's peak RSS so far; may be NULL) for
 * pid. Returns 0, or -errno (-ENOENT/-ESRCH once the process is gone).
 */
int mh_sampler_read(pid_t pid, struct mh_rec_rss_sample *s, __u64 *hwm_bytes);

/*
 * A sampler for r->tracked: RSS every rss_ms, pagemap snapshots every
 * pagemap_ms (either 0: off). NULL with errno set.
 */
struct mh_sampler *mh_sampler_new(struct mh_recorder *r, unsigned rss_ms, unsigned pagemap_ms);

/*
 * Take the samples that are due at now_ns (CLOCK_MONOTONIC). Returns the
 * CLOCK_MONOTONIC ns of the next one due (UINT64_MAX when both are off).
 * Not thread-safe: call from one thread.
 */
__u64 mh_sampler_tick(struct mh_sampler *s, __u64 now_ns);

/*
 * Write INFO "sampler.pagemap" (snapshots taken, deferred, total and
 * largest cost) and free. Accepts NULL.
 */
void mh_sampler_free(struct mh_sampler *s);

#endif /* MEMHOOK_RECORDER_SAMPLER_H */
