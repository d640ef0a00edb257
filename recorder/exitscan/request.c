// SPDX-License-Identifier: MIT
/*
 * request.c - the recorder's answer to MH_REC_EXIT_SCAN.
 *
 * The recorder keeps no live-block table while it drains (that would slow
 * the drainer the program may be waiting on); it finds the exiting
 * process's live blocks when asked, by replaying the allocation stream of
 * the trace it has flushed so far with the merger's replay, through a
 * follower (recorder/follow.h) kept between requests: a recording of many
 * processes (memhook check -- make test) replays its trace once, not once
 * per exit.
 */
#include "recorder/exitscan/request.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/exitscan/stop.h"
#include "merger/replay/blocks.h"
#include "merger/replay/replay.h"
#include "recorder/follow.h"

struct block_list {
	struct mh_reach_block *blocks;
	size_t count;
};

/* The replay of the trace being recorded, as far as it was read. */
static struct mh_follow *follow;

void mh_leakscan_reset(void)
{
	mh_follow_free(follow);
	follow = NULL;
}

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

static int live_blocks(const char *trace_path, __u32 pid, struct block_list *list)
{
	struct mh_process *p;
	int err;

	if (!follow)
		follow = mh_follow_new(trace_path);
	if (!follow)
		return -errno;
	err = mh_follow_catch_up(follow, 0); /* on failure, starts afresh at the next request */
	if (err)
		return err;
	p = current_image(mh_follow_replay(follow), pid);
	if (!p)
		return 0;
	list->blocks = calloc(mh_blocks_count(p->blocks) + 1, sizeof(*list->blocks));
	if (!list->blocks)
		return -ENOMEM;
	mh_blocks_foreach(p->blocks, add_block, list);
	return 0;
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
		err = live_blocks(r->trace_path, req->pid, &list);
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
