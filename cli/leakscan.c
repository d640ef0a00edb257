// SPDX-License-Identifier: MIT
/*
 * leakscan.c - the recorder's answer to MH_REC_EXIT_SCAN.
 *
 * The recorder does not keep a live-block table while it drains (that
 * would slow the drainer the program may be waiting on); it rebuilds the
 * exiting process's live set when asked, by replaying the trace it has
 * flushed so far with the merger's replay, as a report would.
 */
#include "leakscan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitscan.h"
#include "merger/blocks.h"
#include "merger/replay.h"
#include "merger/timeline.h"

struct block_list {
	struct mh_reach_block *blocks;
	size_t count;
};

static void add_block(struct mh_block *blk, void *arg)
{
	struct block_list *list = arg;

	list->blocks[list->count++] = (struct mh_reach_block){ .addr = blk->addr, .size = blk->size };
}

/* The current image of pid: the last one announced with that pid. */
static struct mh_process *current_image(struct mh_replay *rp, __u32 pid)
{
	struct mh_process *found = NULL;

	for (struct mh_process *p = rp->procs; p; p = p->next) {
		if (p->pid == pid)
			found = p;
	}
	return found;
}

static int live_blocks(struct mh_recorder *r, __u32 pid, struct block_list *list)
{
	struct mh_timeline *tl = mh_timeline_open(r->trace_path);
	struct mh_replay *rp = mh_replay_new();
	struct mh_process *p;
	int err = tl && rp ? 0 : -errno;

	if (!err)
		err = mh_timeline_run(tl, rp, NULL, NULL);
	p = err ? NULL : current_image(rp, pid);
	if (p) {
		list->blocks = calloc(mh_blocks_count(p->blocks) + 1, sizeof(*list->blocks));
		if (list->blocks)
			mh_blocks_foreach(p->blocks, add_block, list);
		else
			err = -ENOMEM;
	}
	mh_replay_free(rp);
	mh_timeline_free(tl);
	return err;
}

int mh_leakscan_handle(struct mh_recorder *r, const struct mh_rec_exit_scan *req)
{
	struct mh_exitscan_request scan = {
		.pid = req->pid,
		.tid = req->tid,
		.sp = req->sp,
		.ack_addr = req->ack_addr,
	};
	struct block_list list = { 0 };
	char status[128];
	int err;

	err = mh_recorder_flush(r);
	if (!err)
		err = live_blocks(r, req->pid, &list);
	if (!err) {
		err = mh_exitscan_run(&scan, list.blocks, list.count, mh_recorder_sink, r);
	} else {
		snprintf(status, sizeof(status), "failed: cannot replay the trace: %s",
			 strerror(-err));
		(void)mh_recorder_info(r, req->pid, "leakscan.status", status); /* best effort */
		(void)mh_exitscan_release(&scan); /* the process must go on exiting */
	}
	free(list.blocks);
	return err;
}
