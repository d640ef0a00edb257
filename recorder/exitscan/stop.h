/* SPDX-License-Identifier: MIT */
/*
 * stop.h - the recorder's side of a process's exit: while the process
 * waits in its exit path with its memory intact, stop its threads, take
 * its last RSS figures and a residency snapshot, classify the blocks
 * still live (mark.h) and let it go on exiting.
 */
#ifndef MEMHOOK_RECORDER_EXITSCAN_STOP_H
#define MEMHOOK_RECORDER_EXITSCAN_STOP_H

#include <stddef.h>
#include <sys/types.h>

#include "memhook/events.h"
#include "recorder/exitscan/mark.h"
#include "recorder/pagemap.h"

struct mh_exitscan_request {
	pid_t pid;		/* the exiting process */
	pid_t tid;		/* the thread waiting for the verdict */
	__u64 sp;		/* its stack pointer when it asked */
	__u64 ack_addr;		/* a __u32 in the process set to 1 when done */
};

/* What the trace says the process has of its own, for the scan. */
struct mh_exitscan_program {
	struct mh_reach_block *blocks;		/* live heap blocks (malloc family) */
	size_t count;
	const struct mh_reach_range *regions;	/* its own mmap and sbrk memory, live */
	size_t region_count;
};

/*
 * Scan the process of req: prog->blocks are classified in place (and
 * sorted); emits into MH_STREAM_SAMPLE the process's RSS and memhook's
 * own share of it as the threads stop (MH_REC_RSS_SAMPLE, then
 * MH_REC_OWN_SAMPLE with MH_OWN_AT_EXIT_SCAN), MH_REC_PAGEMAP records and
 * MH_REC_SCAN_COST; into MH_STREAM_META one MH_REC_LEAK per block and
 * MH_REC_INFO "leakscan.status" saying how complete the scan was. Always
 * releases the process (writes the ack) before returning, even on error.
 * Returns 0 or -errno.
 */
int mh_exitscan_run(const struct mh_exitscan_request *req, struct mh_exitscan_program *prog,
		    mh_record_sink_fn sink, void *ctx);

/*
 * Answer an MH_EXIT_PATH_FIGURES request: the process is done and waits;
 * emit its RSS and memhook's own share of it (MH_REC_OWN_SAMPLE with
 * MH_OWN_AT_EXIT_SCAN, then MH_REC_RSS_SAMPLE) into MH_STREAM_SAMPLE and
 * release it. Its threads are not stopped. Returns 0 or -errno.
 */
int mh_exitscan_figures(const struct mh_exitscan_request *req, mh_record_sink_fn sink, void *ctx);

/*
 * Held while a scan has threads ptrace-stopped. The recorder's waitpid()
 * must hold it too: the scanning thread and the traced program's real
 * parent share a thread group, so waitpid() in the parent would reap the
 * ptrace stops the scan waits for.
 */
void mh_exitscan_lock(void);
void mh_exitscan_unlock(void);

/* Write the ack so the process goes on exiting. 0 or -errno. */
int mh_exitscan_release(const struct mh_exitscan_request *req);

#endif /* MEMHOOK_RECORDER_EXITSCAN_STOP_H */
