// SPDX-License-Identifier: MIT
/*
 * liveset.c - live heap blocks per process, from the records as they pass
 * (liveset.h): a uthash table of processes, each with its own block table
 * (common/blocks.c). The process of the last record is remembered, so a
 * run of records from one process costs one pid comparison each.
 *
 * Must never decode the trace and never print; it trusts no field of a
 * record beyond the sizes the drainer checked: an unknown pid, a zero or
 * absurd address only change the set of the process the record names,
 * and only if the recorder admitted that process.
 */
#include "recorder/liveset.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "common/blocks.h"
#include "common/image.h"

struct proc {
	pid_t pid;
	struct mh_blocks *blocks;
	char *path;			/* the image's exe path, for the fork rule */
	size_t path_len;
	UT_hash_handle hh;
};

struct mh_liveset {
	struct proc *table;
	struct proc *last;		/* process of the last record applied */
};

struct mh_liveset *mh_liveset_new(void)
{
	return calloc(1, sizeof(struct mh_liveset));
}

static void proc_drop(struct mh_liveset *ls, struct proc *p)
{
	HASH_DEL(ls->table, p);
	if (ls->last == p)
		ls->last = NULL;
	mh_blocks_free(p->blocks);
	free(p->path);
	free(p);
}

void mh_liveset_free(struct mh_liveset *ls)
{
	struct proc *p, *tmp;

	if (!ls)
		return;
	HASH_ITER(hh, ls->table, p, tmp)
		proc_drop(ls, p);
	free(ls);
}

static struct proc *proc_find(struct mh_liveset *ls, pid_t pid)
{
	struct proc *p = ls->last;

	if (p && p->pid == pid)
		return p;
	HASH_FIND_INT(ls->table, &pid, p);
	if (p)
		ls->last = p;
	return p;
}

struct copy_ctx {
	struct mh_blocks *to;
	int err;
};

static void copy_block(struct mh_block *blk, void *arg)
{
	struct copy_ctx *c = arg;

	if (!c->err && !mh_blocks_add(c->to, blk->addr, blk->size, NULL))
		c->err = -ENOMEM;
}

/* A fork child starts with a copy of its parent's blocks. */
static int inherit(struct proc *child, const struct proc *parent)
{
	struct copy_ctx c = { .to = child->blocks };

	mh_blocks_foreach(parent->blocks, copy_block, &c);
	return c.err;
}

/* What the image rules (common/image.h) need of a process the set holds. */
static struct mh_image_facts facts_of(const struct proc *p)
{
	/* The set holds a process only from its PROCESS record on, until it is replaced. */
	return (struct mh_image_facts){
		.announced = true,
		.pristine = mh_blocks_count(p->blocks) == 0,
		.command = p->path,
	};
}

int mh_liveset_admit(struct mh_liveset *ls, const struct mh_rec_process *rec)
{
	struct proc *p = proc_find(ls, (pid_t)rec->pid), *parent = NULL;
	struct mh_image_facts cur_facts, parent_facts;
	enum mh_image_start start;

	if (rec->start == MH_PROCESS_FORKED)
		parent = proc_find(ls, (pid_t)rec->ppid);
	if (p)
		cur_facts = facts_of(p);
	if (parent)
		parent_facts = facts_of(parent);
	start = mh_image_classify(p ? &cur_facts : NULL, parent ? &parent_facts : NULL, rec);
	if (start == MH_IMAGE_ADOPT)
		return 0;
	/* An exec ends the image and its blocks; a reused pid is a new process. */
	if (p)
		proc_drop(ls, p);
	if (parent == p)
		parent = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->pid = (pid_t)rec->pid;
	p->blocks = mh_blocks_new();
	p->path = malloc(rec->path_len + 1);
	if (!p->blocks || !p->path) {
		mh_blocks_free(p->blocks);
		free(p->path);
		free(p);
		return -ENOMEM;
	}
	memcpy(p->path, rec + 1, rec->path_len);
	p->path[rec->path_len] = '\0';
	p->path_len = rec->path_len;
	HASH_ADD_INT(ls->table, pid, p);
	return start == MH_IMAGE_FORK && parent ? inherit(p, parent) : 0;
}

static int block_add(struct proc *p, __u64 addr, __u64 size)
{
	struct mh_block *blk;
	bool added;

	if (!addr)
		return 0;
	blk = mh_blocks_insert(p->blocks, addr, size, NULL, &added);
	if (!blk)
		return -ENOMEM;
	blk->size = size;	/* a live address allocated again: its free was lost */
	return 0;
}

static void block_remove(struct proc *p, __u64 addr)
{
	struct mh_block *blk = addr ? mh_blocks_find(p->blocks, addr) : NULL;

	if (blk)
		mh_blocks_remove(p->blocks, blk);
}

static bool is_mapping_kind(__u16 kind)
{
	return kind == MH_KIND_MMAP || kind == MH_KIND_MUNMAP || kind == MH_KIND_MREMAP ||
	       kind == MH_KIND_BRK || kind == MH_KIND_SBRK;
}

int mh_liveset_apply(struct mh_liveset *ls, const struct mh_rec_hdr *rec)
{
	const struct mh_rec_realloc *re = (const void *)rec;
	const struct mh_rec_alloc *a = (const void *)rec;
	const struct mh_rec_free *f = (const void *)rec;
	struct proc *p;

	if (is_mapping_kind(rec->kind))
		return 0;
	switch (rec->type) {
	case MH_REC_ALLOC:
		p = proc_find(ls, (pid_t)a->pid);
		if (!p)
			return 0;
		return block_add(p, a->addr, a->size);
	case MH_REC_FREE:
		p = proc_find(ls, (pid_t)f->pid);
		if (p)
			block_remove(p, f->addr);
		return 0;
	case MH_REC_REALLOC:
		p = proc_find(ls, (pid_t)re->pid);
		/* A failed realloc(p, n > 0) leaves p alone. */
		if (!p || (!re->addr && re->size))
			return 0;
		block_remove(p, re->old_addr);
		return block_add(p, re->addr, re->size);
	default:
		return 0;
	}
}

struct list_ctx {
	struct mh_reach_block *blocks;
	size_t count;
};

static void list_block(struct mh_block *blk, void *arg)
{
	struct list_ctx *l = arg;

	l->blocks[l->count++] = (struct mh_reach_block){ .addr = blk->addr, .size = blk->size };
}

int mh_liveset_take(struct mh_liveset *ls, pid_t pid, struct mh_reach_block **blocks,
		    size_t *count)
{
	struct proc *p = proc_find(ls, pid);
	struct list_ctx l = { 0 };
	int err = 0;

	if (p && mh_blocks_count(p->blocks)) {
		l.blocks = malloc(mh_blocks_count(p->blocks) * sizeof(*l.blocks));
		if (l.blocks)
			mh_blocks_foreach(p->blocks, list_block, &l);
		else
			err = -ENOMEM;
	}
	if (p)
		proc_drop(ls, p);
	*blocks = l.blocks;
	*count = l.count;
	return err;
}

void mh_liveset_forget(struct mh_liveset *ls, pid_t pid)
{
	struct proc *p = proc_find(ls, pid);

	if (p)
		proc_drop(ls, p);
}
