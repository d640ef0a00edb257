/* SPDX-License-Identifier: MIT */
/*
 * stop.h - the recorder's side of a process's exit: while the process
 * waits in its exit path with its memory intact, stop its threads, take a
 * residency snapshot, classify the blocks still live (reachability.h) and
 * let it go on exiting.
 */
#ifndef MEMHOOK_RECORDER_EXITSCAN_STOP_H
#define MEMHOOK_RECORDER_EXITSCAN_STOP_H

#include <stddef.h>
#include <sys/types.h>

#include "memhook/events.h"
#include "recorder/exitscan/mark.h"
#include "recorder/pagemap.h"

struct mh_ring;
struct mh_tracked;

struct mh_exitscan_request {
	pid_t pid;		/* the exiting process, checked to be a tracked one */
	pid_t tid;		/* the thread waiting for the verdict (its claim) */
	__u64 sp;		/* its stack pointer when it asked (its claim) */
	int pidfd;		/* pidfd of pid (owned by the request), -1 if none */
	const struct mh_tracked *tracked; /* whose user the process must still run as */
	struct mh_ring *ring;	/* where the answer is published */
	__u64 ticket;		/* ring position just past the request */
};

/*
 * Scan the process of req: blocks[0..count) are its live heap blocks
 * (malloc family), classified in place; emits MH_REC_PAGEMAP records into
 * MH_STREAM_SAMPLE and one MH_REC_LEAK per block into MH_STREAM_META, and
 * MH_REC_INFO "leakscan.status" saying how complete the scan was. Once its
 * threads are stopped, the process must still be the tracked one (its
 * pidfd) running as the program's user, or nothing of it is read
 * (-EPERM/-ESRCH). Always answers the request (mh_exitscan_release)
 * before returning, even on error. Returns 0 or -errno.
 */
int mh_exitscan_run(struct mh_exitscan_request *req, struct mh_reach_block *blocks,
		    size_t count, mh_record_sink_fn sink, void *ctx);

/*
 * Held while a scan has threads ptrace-stopped. The recorder's waitpid()
 * must hold it too: the scanning thread and the traced program's real
 * parent share a thread group, so waitpid() in the parent would reap the
 * ptrace stops the scan waits for.
 */
void mh_exitscan_lock(void);
void mh_exitscan_unlock(void);

/*
 * Answer the request: publish its ticket in the ring (the process waits
 * for it) and close its pidfd. Requests are answered in ring order.
 */
void mh_exitscan_release(struct mh_exitscan_request *req);

#endif /* MEMHOOK_RECORDER_EXITSCAN_STOP_H */
