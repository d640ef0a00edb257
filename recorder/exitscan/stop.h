/* SPDX-License-Identifier: MIT */
/*
 * stop.h - the recorder's side of a process's exit: while the process
 * waits in its exit path with its memory intact, stop its threads, take
 * its last RSS figures and a residency snapshot, classify the blocks
 * still live (mark.h) and let it go on exiting.
 */
#ifndef MEMHOOK_RECORDER_EXITSCAN_STOP_H
#define MEMHOOK_RECORDER_EXITSCAN_STOP_H

#include <stdbool.h>
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
	bool figures;		/* an MH_EXIT_PATH_FIGURES request, not the scan */
};

/* What the recorder knows the process has of its own, for the scan. */
struct mh_exitscan_program {
	struct mh_reach_block *blocks;		/* live heap blocks (malloc family) */
	size_t count;
	struct mh_reach_range *regions;		/* its own mmap and sbrk memory, live */
	size_t region_count;
};

/*
 * Scan the process of req: prog->blocks are classified in place (and
 * sorted); emits into MH_STREAM_SAMPLE the process's figures as its
 * threads stop (MH_REC_OWN_SAMPLE with MH_OWN_AT_EXIT_SCAN, then
 * MH_REC_RSS_SAMPLE), MH_REC_PAGEMAP records and MH_REC_SCAN_COST; into
 * MH_STREAM_META one MH_REC_LEAK per block and MH_REC_INFO
 * "leakscan.status" saying how complete the scan was. Once its threads
 * are stopped, the process must still be the tracked one (its pidfd)
 * running as the program's user, or nothing of it is read
 * (-EPERM/-ESRCH). Always answers the request (mh_exitscan_release)
 * before returning, even on error. Returns 0 or -errno.
 */
int mh_exitscan_run(struct mh_exitscan_request *req, struct mh_exitscan_program *prog,
		    mh_record_sink_fn sink, void *ctx);

/*
 * Answer an MH_EXIT_PATH_FIGURES request (req->figures): the program is
 * done and waits; if it is still the tracked process running as the
 * program's user, emit its figures at exit (MH_REC_OWN_SAMPLE with
 * MH_OWN_AT_EXIT_SCAN, then MH_REC_RSS_SAMPLE) into MH_STREAM_SAMPLE.
 * Its threads are not stopped. Always answers the request. 0 or -errno.
 */
int mh_exitscan_figures(struct mh_exitscan_request *req, mh_record_sink_fn sink, void *ctx);

/*
 * Held while a scan has threads ptrace-stopped. The recorder's waitpid()
 * must hold it too: the scanning thread and the traced program's real
 * parent share a thread group, so waitpid() in the parent would reap the
 * ptrace stops the scan waits for.
 */
void mh_exitscan_lock(void);
/* Take it only if no scan holds it: true when taken. */
bool mh_exitscan_trylock(void);
void mh_exitscan_unlock(void);

/*
 * Answer the request: publish its ticket in the ring (the process waits
 * for it) and close its pidfd. Any thread may answer, in any order: a
 * slot's answered position only grows (mh_ring_answer).
 */
void mh_exitscan_release(struct mh_exitscan_request *req);

#endif /* MEMHOOK_RECORDER_EXITSCAN_STOP_H */
