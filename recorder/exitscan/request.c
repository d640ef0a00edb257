// SPDX-License-Identifier: MIT
/*
 * request.c - the recorder's answer to MH_REC_EXIT_SCAN.
 *
 * The recorder keeps no live-block table while it drains (that would slow
 * the drainer the program may be waiting on); it finds the exiting
 * process's live blocks when asked, by replaying the allocation stream of
 * the trace it has flushed so far with the merger's replay. The reader and
 * the replay are kept between requests and only read what was added since
 * the last one, so a recording of many processes (memhook check -- make
 * test) replays its trace once, not once per exit.
 */
#include "recorder/exitscan/request.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/exitscan/stop.h"
#include "merger/replay/blocks.h"
#include "merger/replay/mappings.h"
#include "merger/replay/replay.h"
#include "trace/reader.h"

struct block_list {
	struct mh_reach_block *blocks;
	size_t count;
	struct mh_reach_range *regions;	/* the program's own mmap and sbrk memory */
	size_t region_count, region_cap;
};

/* The replay of the trace being recorded, as far as it was read. */
static struct {
	struct mh_trace_reader *reader;
	struct mh_replay *replay;
} cache;

void mh_leakscan_reset(void)
{
	mh_trace_reader_free(cache.reader);
	mh_replay_free(cache.replay);
	memset(&cache, 0, sizeof(cache));
}

/* Replay what the writer has added to the allocation stream since the last call. */
static int catch_up(const char *trace_path)
{
	const struct mh_rec_hdr *rec;
	int ret;

	if (!cache.reader) {
		cache.reader = mh_trace_reader_open(trace_path);
		cache.replay = cache.reader ? mh_replay_new() : NULL;
		if (!cache.replay) {
			ret = -errno;
			mh_leakscan_reset();
			return ret;
		}
	}
	while ((ret = mh_trace_reader_next(cache.reader, MH_STREAM_ALLOC, &rec, NULL)) > 0) {
		ret = mh_replay_record(cache.replay, rec);
		if (ret)
			break;
	}
	if (ret)
		mh_leakscan_reset();	/* start afresh at the next request */
	return ret;
}

static void add_block(struct mh_block *blk, void *arg)
{
	struct block_list *list = arg;

	list->blocks[list->count++] = (struct mh_reach_block){ .addr = blk->addr, .size = blk->size };
}

static void add_region(uint64_t start, uint64_t end, void *arg)
{
	struct block_list *list = arg;

	if (list->region_count == list->region_cap) {
		size_t cap = list->region_cap ? 2 * list->region_cap : 16;
		struct mh_reach_range *v = realloc(list->regions, cap * sizeof(*v));

		if (!v)
			return;	/* fewer roots: the scan says less, never more */
		list->regions = v;
		list->region_cap = cap;
	}
	list->regions[list->region_count++] = (struct mh_reach_range){ .start = start, .end = end };
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
	int err = catch_up(trace_path);

	if (err)
		return err;
	p = current_image(cache.replay, pid);
	if (!p)
		return 0;
	list->blocks = calloc(mh_blocks_count(p->blocks) + 1, sizeof(*list->blocks));
	if (!list->blocks)
		return -ENOMEM;
	mh_blocks_foreach(p->blocks, add_block, list);
	mh_mappings_foreach_program(p, add_region, list);
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

	if (req->path == MH_EXIT_PATH_FIGURES)
		return mh_exitscan_figures(&scan, mh_recorder_sink, r);
	err = mh_recorder_flush(r);
	if (!err)
		err = live_blocks(r->trace_path, req->pid, &list);
	if (!err) {
		struct mh_exitscan_program prog = {
			.blocks = list.blocks,
			.count = list.count,
			.regions = list.regions,
			.region_count = list.region_count,
		};

		err = mh_exitscan_run(&scan, &prog, mh_recorder_sink, r);
	} else {
		snprintf(status, sizeof(status), "failed: cannot replay the trace: %s",
			 strerror(-err));
		(void)mh_recorder_info(r, req->pid, "leakscan.status", status); /* best effort */
		(void)mh_exitscan_release(&scan); /* the process must go on exiting */
	}
	free(list.blocks);
	free(list.regions);
	return err;
}
