/* SPDX-License-Identifier: MIT */
/*
 * sampler.h - the recorder's periodic view of a process's memory from
 * /proc/PID/status, as MH_REC_RSS_SAMPLE records.
 */
#ifndef MEMHOOK_CLI_SAMPLER_H
#define MEMHOOK_CLI_SAMPLER_H

#include <sys/types.h>

#include "memhook/events.h"

/*
 * Fill *s (header, timestamp, RssAnon/RssFile/RssShmem/VmSwap in bytes)
 * for pid. Returns 0, or -errno (-ENOENT/-ESRCH once the process is gone).
 */
int mh_sampler_read(pid_t pid, struct mh_rec_rss_sample *s);

#endif /* MEMHOOK_CLI_SAMPLER_H */
