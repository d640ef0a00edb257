/* SPDX-License-Identifier: MIT */
/*
 * request.h - answer the processes' exit-scan requests on a thread of
 * their own, so the drainer never stops while one process is scanned.
 *
 * The drainer submits a request with the process's live blocks (taken from
 * the recorder's live set, recorder/liveset.h); the scan thread answers
 * requests one at a time, in the order they were submitted, with stop.c.
 */
#ifndef MEMHOOK_RECORDER_EXITSCAN_REQUEST_H
#define MEMHOOK_RECORDER_EXITSCAN_REQUEST_H

#include <stddef.h>

#include "recorder/exitscan/stop.h"

struct mh_recorder;
struct mh_leakscan;

/* Start the scan thread; its records go to r's trace. NULL with errno set. */
struct mh_leakscan *mh_leakscan_start(struct mh_recorder *r);

/*
 * Queue one request with what its process has of its own (prog: malloc'd
 * arrays the queue now owns, NULL if none) and its pidfd (owned too).
 * A figures request (req->figures) carries nothing. err != 0: the
 * request is answered without a scan: -EPERM/-ESRCH, the pid is not a
 * live process of the recording ("ring.refused" INFO about the trace);
 * else the blocks could not be had ("leakscan.status" about the pid).
 * Every request is answered, by the scan thread, in submission order.
 * (The drainer answers a process's figures request itself when it can.)
 */
void mh_leakscan_submit(struct mh_leakscan *ls, struct mh_exitscan_request *req,
			struct mh_exitscan_program *prog, int err);

/* Answer every request still queued, then stop the thread and free. Accepts NULL. */
void mh_leakscan_stop(struct mh_leakscan *ls);

#endif /* MEMHOOK_RECORDER_EXITSCAN_REQUEST_H */
