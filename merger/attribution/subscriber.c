// SPDX-License-Identifier: MIT
/*
 * subscriber.c - the attribution as the replay's subscriber
 * (attribute.h): turns the replay's events into the steps of attribute.c,
 * mappings.c, residency.c and rss_timeline.c. Holds no logic of its own
 * beyond when each step applies: only processes with attribution state
 * (a kernel, PAGEMAP or RSS record came, or the program mapped memory)
 * pay for block and mapping events.
 */
#include "merger/attribution/attribute.h"

#include <errno.h>
#include <stdlib.h>

#include "merger/attribution/attr_internal.h"
#include "merger/replay/replay.h"

/* Asked for while a snapshot part waits (residency.c). */
static int before_record(void *ctx, const struct mh_rec_hdr *rec)
{
	struct mh_attribution *at = ctx;

	/* A snapshot's ranges arrive as consecutive PAGEMAP records. */
	if (at->snap_pending && rec->type != MH_REC_PAGEMAP)
		return mh_attr_apply_pending(at);
	return 0;
}

static int record(void *ctx, const struct mh_rec_hdr *rec)
{
	return mh_attr_record(ctx, rec);
}

/* The program's own mmap: its mapping is the first attribution state a process may need. */
static int mapped(void *ctx, struct mh_process *p, uint64_t addr, uint64_t size,
		  uint64_t stack_id)
{
	return mh_attr_get(ctx, p) ? mh_attr_mmap(p, addr, size, stack_id) : -ENOMEM;
}

static int unmapped(void *ctx, struct mh_process *p, uint64_t addr, uint64_t size)
{
	return p->attr ? mh_attr_munmap(p, addr, size) : 0;
}

static int remapped(void *ctx, struct mh_process *p, uint64_t old_addr, uint64_t old_size,
		    uint64_t addr, uint64_t size, uint64_t stack_id)
{
	int err;

	if (!p->attr)
		return 0;
	err = mh_attr_munmap(p, old_addr, old_size);
	return err ? err : mh_attr_mmap(p, addr, size, stack_id);
}

/* The program's own break memory, like its mmaps: a region of its own, by its call stack. */
static int break_moved(void *ctx, struct mh_process *p, uint64_t addr, uint64_t size,
		       uint64_t stack_id, bool grow)
{
	if (!grow)
		return p->attr ? mh_attr_brk(p, addr, size, stack_id, false) : 0;
	return mh_attr_get(ctx, p) ? mh_attr_brk(p, addr, size, stack_id, true) : -ENOMEM;
}

static void image_started(void *ctx, struct mh_process *p)
{
	if (p->attr)
		mh_attr_image_start(p);
}

static int process_finished(void *ctx, struct mh_process *p)
{
	return mh_attr_finish(ctx, p);
}

static void process_freed(void *ctx, struct mh_process *p)
{
	struct mh_attribution *at = ctx;

	if (at->snap_pending == p)
		at->snap_pending = NULL;
	mh_attr_free(p->attr);
	p->attr = NULL;
	p->watch_blocks = false;
}

static const struct mh_replay_events events = {
	.before_record = before_record,
	.record = record,
	/* For processes with a block index only (it sets p->watch_blocks): blockindex.c. */
	.block_added = mh_attr_block_added,
	.block_removed = mh_attr_block_removed,
	.mapped = mapped,
	.unmapped = unmapped,
	.remapped = remapped,
	.break_moved = break_moved,
	.image_started = image_started,
	.process_finished = process_finished,
	.process_freed = process_freed,
};

struct mh_attribution *mh_attribution_new(struct mh_replay *rp)
{
	struct mh_attribution *at = calloc(1, sizeof(*at));

	if (!at)
		return NULL;
	at->rp = rp;
	mh_replay_subscribe(rp, &events, at);
	return at;
}

void mh_attribution_free(struct mh_attribution *at)
{
	if (!at)
		return;
	mh_attr_free_files(at);
	free(at);
}
