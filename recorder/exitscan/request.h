/* SPDX-License-Identifier: MIT */
/*
 * request.h - answer a process's MH_REC_EXIT_SCAN: find its live heap
 * blocks by replaying the trace written so far, then let stop.c
 * classify them while the process waits. Called from the ring drainer
 * only: not thread-safe.
 */
#ifndef MEMHOOK_RECORDER_EXITSCAN_REQUEST_H
#define MEMHOOK_RECORDER_EXITSCAN_REQUEST_H

#include "memhook/events.h"
#include "recorder/drain.h"

/*
 * Handle one request, from the ring drainer, after every record before
 * it has been appended. Always releases the waiting process. Returns 0 or
 * -errno; the failure is also recorded as "leakscan.status" in the trace.
 */
int mh_leakscan_handle(struct mh_recorder *r, const struct mh_rec_exit_scan *req);

/* Forget the replay kept between requests (the recording is over). */
void mh_leakscan_reset(void);

#endif /* MEMHOOK_RECORDER_EXITSCAN_REQUEST_H */
