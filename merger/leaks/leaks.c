// SPDX-License-Identifier: MIT
/*
 * leaks.c - match exit-time leak verdicts to the blocks live at the end of
 * the replay (uthash of verdicts keyed by address, per process).
 *
 * Must never count a verdict whose block is no longer live (freed after
 * the scan) and never drop a live block that has no verdict: it is counted
 * under kind 0, "no verdict".
 */
#include "merger/leaks/leaks.h"

#include <errno.h>
#include <stdlib.h>

#include <uthash.h>

#include "common/blocks.h"
#include "merger/replay/replay.h"

struct mh_verdict {
	uint64_t addr;
	uint32_t kind;		/* enum mh_leak_kind */
	UT_hash_handle hh;
};

int mh_leaks_note(struct mh_process *p, const struct mh_rec_leak *rec)
{
	struct mh_verdict *v;

	p->leak_verdicts++;
	HASH_FIND(hh, p->verdicts, &rec->addr, sizeof(rec->addr), v);
	if (!v) {
		v = calloc(1, sizeof(*v));
		if (!v)
			return -ENOMEM;
		v->addr = rec->addr;
		HASH_ADD(hh, p->verdicts, addr, sizeof(v->addr), v);
	}
	v->kind = rec->kind < MH_LEAK_KINDS ? rec->kind : 0;
	return 0;
}

static void classify_block(struct mh_block *blk, void *arg)
{
	struct mh_process *p = arg;
	struct mh_verdict *v;
	uint32_t kind;

	HASH_FIND(hh, p->verdicts, &blk->addr, sizeof(blk->addr), v);
	kind = v ? v->kind : 0;
	p->leak_kind_bytes[kind] += blk->size;
	p->leak_kind_blocks[kind]++;
	blk->stack->leak_kind_bytes[kind] += blk->size;
	blk->stack->leak_kind_blocks[kind]++;
}

void mh_leaks_classify(struct mh_process *p)
{
	mh_blocks_foreach(p->blocks, classify_block, p);
	mh_leaks_free(p);
}

void mh_leaks_free(struct mh_process *p)
{
	struct mh_verdict *v, *tmp;

	HASH_ITER(hh, p->verdicts, v, tmp) {
		HASH_DEL(p->verdicts, v);
		free(v);
	}
}
