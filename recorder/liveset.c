// SPDX-License-Identifier: MIT
/*
 * liveset.c - live heap blocks per process, from the records as they pass
 * (liveset.h): a uthash table of processes, each with its own block table
 * (common/blocks.c) and the list of the regions it mapped or grew itself
 * (a plain array: a munmap looks through it, so it costs O(regions)).
 * The process of the last record is remembered, so a run of records from
 * one process costs one pid comparison each.
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
#include <unistd.h>

#include <uthash.h>

#include "common/blocks.h"
#include "common/image.h"
#include "trace/records.h"

struct proc {
	pid_t pid;
	struct mh_spans *blocks;
	struct mh_reach_range *regions;	/* its own mmap and brk/sbrk memory, live */
	size_t region_count, region_cap;
	char *path;			/* the image's exe path, for the fork rule */
	size_t path_len;
	UT_hash_handle hh;
};

struct mh_liveset {
	struct proc *table;
	struct proc *last;		/* process of the last record applied */
	__u64 repairs;			/* allocations at a live address */
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
	mh_spans_free(p->blocks);
	free(p->regions);
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
	struct mh_spans *to;
	int err;
};

static void copy_block(struct mh_span *sp, void *arg)
{
	struct copy_ctx *c = arg;
	struct mh_span *to;
	bool added;

	if (c->err)
		return;
	to = mh_spans_insert(c->to, sp->addr, &added);
	if (to)
		to->size = sp->size;
	else
		c->err = -ENOMEM;
}

/* A fork child starts with a copy of its parent's blocks and regions. */
static int inherit(struct proc *child, const struct proc *parent)
{
	struct copy_ctx c = { .to = child->blocks };

	mh_spans_foreach(parent->blocks, copy_block, &c);
	if (c.err || !parent->region_count)
		return c.err;
	child->regions = malloc(parent->region_count * sizeof(*child->regions));
	if (!child->regions)
		return -ENOMEM;
	memcpy(child->regions, parent->regions, parent->region_count * sizeof(*child->regions));
	child->region_count = child->region_cap = parent->region_count;
	return 0;
}

/* What the image rules (common/image.h) need of a process the set holds. */
static struct mh_image_facts facts_of(const struct proc *p)
{
	/* The set holds a process only from its PROCESS record on, until it is replaced. */
	return (struct mh_image_facts){
		.announced = true,
		.pristine = mh_spans_count(p->blocks) == 0,
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
	p->blocks = mh_spans_new();
	p->path = malloc(rec->path_len + 1);
	if (!p->blocks || !p->path) {
		mh_spans_free(p->blocks);
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

static int block_add(struct mh_liveset *ls, struct proc *p, __u64 addr, __u64 size)
{
	struct mh_span *sp;
	bool added;

	if (!addr)
		return 0;
	sp = mh_spans_insert(p->blocks, addr, &added);
	if (!sp)
		return -ENOMEM;
	/* A live address allocated again: its free was lost, or came later (ring.h). */
	ls->repairs += !added;
	sp->size = size;
	return 0;
}

static bool is_mapping_kind(__u16 kind)
{
	return kind == MH_KIND_MMAP || kind == MH_KIND_MUNMAP || kind == MH_KIND_MREMAP ||
	       kind == MH_KIND_BRK || kind == MH_KIND_SBRK;
}

/* Take [lo, hi) out of p's regions, as munmap() and a shrinking brk do. */
static int region_cut(struct proc *p, __u64 lo, __u64 hi)
{
	for (size_t i = 0; i < p->region_count; i++) {
		struct mh_reach_range *r = &p->regions[i];
		struct mh_reach_range tail = { .start = hi, .end = r->end };

		if (r->end <= lo || r->start >= hi)
			continue;
		if (r->start < lo && r->end > hi) {
			/* A hole in the middle: the tail becomes a region of its own. */
			r->end = lo;
			if (p->region_count == p->region_cap) {
				size_t cap = 2 * p->region_cap;
				struct mh_reach_range *v = realloc(p->regions, cap * sizeof(*v));

				if (!v)
					return -ENOMEM;
				p->regions = v;
				p->region_cap = cap;
			}
			p->regions[p->region_count++] = tail;
			return 0;
		}
		if (r->start >= lo && r->end <= hi) {
			*r = p->regions[--p->region_count];
			i--;
		} else if (r->start < lo) {
			r->end = lo;
		} else {
			r->start = hi;
		}
	}
	return 0;
}

static int region_add(struct proc *p, __u64 start, __u64 end)
{
	int err = region_cut(p, start, end);

	if (err || end <= start)
		return err;
	if (p->region_count == p->region_cap) {
		size_t cap = p->region_cap ? 2 * p->region_cap : 16;
		struct mh_reach_range *v = realloc(p->regions, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		p->regions = v;
		p->region_cap = cap;
	}
	p->regions[p->region_count++] = (struct mh_reach_range){ .start = start, .end = end };
	return 0;
}

/*
 * The program's own mmap and brk/sbrk records: memory it has that is not
 * heap, a root of its exit scan. An mmap or munmap acts on whole pages, a
 * break moves by bytes. A failed call (address 0 or -1) changes nothing.
 */
static int apply_mapping(struct proc *p, const struct mh_rec_hdr *rec)
{
	const struct mh_rec_realloc *re = (const void *)rec;
	const struct mh_rec_alloc *a = (const void *)rec;
	const struct mh_rec_free *f = (const void *)rec;
	__u64 page = (__u64)sysconf(_SC_PAGESIZE);

	switch (rec->kind) {
	case MH_KIND_MMAP:
		if (rec->type != MH_REC_ALLOC || !a->addr || a->addr == UINT64_MAX)
			return 0;
		return region_add(p, a->addr, (a->addr + a->size + page - 1) & ~(page - 1));
	case MH_KIND_MUNMAP:
		return rec->type == MH_REC_FREE ?
		       region_cut(p, f->addr & ~(page - 1), (f->addr + f->size + page - 1) & ~(page - 1)) : 0;
	case MH_KIND_MREMAP:
		if (rec->type != MH_REC_REALLOC || !re->addr || re->addr == UINT64_MAX)
			return 0;
		if (region_cut(p, re->old_addr, re->old_addr + re->old_size))
			return -ENOMEM;
		return region_add(p, re->addr, (re->addr + re->size + page - 1) & ~(page - 1));
	default:	/* BRK, SBRK */
		if (rec->type == MH_REC_ALLOC && a->size)
			return region_add(p, a->addr, a->addr + a->size);
		if (rec->type == MH_REC_FREE && f->size)
			return region_cut(p, f->addr, f->addr + f->size);
		return 0;
	}
}

/*
 * Below this a process's table stays in the first-level cache and the
 * prefetch pass (one more walk of the records, a hash and a prefetch
 * each) only costs. Above it the lookups miss: the drain thread shares
 * its core's L2 with the ring it copies and the batches it fills, and
 * the cores with the program. On alloc_bench 2 3000000 30 64 (8,192
 * blocks live, a 512 KiB table) the drain thread took 394 ms of CPU with
 * the pass, 444 ms without; with 1 thread (a 256 KiB table) 190 against
 * 231 ms (medians of 7, thread CPU from /proc). Bytes. The merger's
 * replay has its own threshold (1 MiB, merger/replay/replay.c), measured
 * on its own loop.
 */
#define PREFETCH_MIN_TABLE_BYTES (64U << 10)

bool mh_liveset_prefetch_pays(const struct mh_liveset *ls)
{
	return ls->last && mh_spans_table_bytes(ls->last->blocks) >= PREFETCH_MIN_TABLE_BYTES;
}

size_t mh_liveset_prefetch(struct mh_liveset *ls, const unsigned char *buf, size_t bytes,
			   size_t from, unsigned count)
{
	/* Only the process seen last: finding another would cost more than the miss. */
	return mh_spans_prefetch_events(ls->last ? ls->last->blocks : NULL,
					 ls->last ? (uint32_t)ls->last->pid : 0, buf, bytes, from,
					 count);
}

/* Apply an event that is not the bulk: the mappings, REALLOC, another process's. 0 or -errno. */
static __attribute__((noinline)) int apply_any(struct mh_liveset *ls, const struct mh_rec_hdr *rec)
{
	const struct mh_rec_realloc *re = (const void *)rec;
	const struct mh_rec_alloc *a = (const void *)rec;
	const struct mh_rec_free *f = (const void *)rec;
	struct proc *p;

	if (is_mapping_kind(rec->kind)) {
		p = proc_find(ls, (pid_t)(rec->type == MH_REC_ALLOC ? a->pid :
					  rec->type == MH_REC_FREE ? f->pid : re->pid));
		return p && rec->type >= MH_REC_ALLOC && rec->type <= MH_REC_REALLOC ?
		       apply_mapping(p, rec) : 0;
	}
	switch (rec->type) {
	case MH_REC_ALLOC:
		p = proc_find(ls, (pid_t)a->pid);
		if (!p)
			return 0;
		return block_add(ls, p, a->addr, a->size);
	case MH_REC_FREE:
		p = proc_find(ls, (pid_t)f->pid);
		if (p)
			(void)mh_spans_erase(p->blocks, f->addr);
		return 0;
	case MH_REC_REALLOC:
		p = proc_find(ls, (pid_t)re->pid);
		/* A failed realloc(p, n > 0) leaves p alone. */
		if (!p || (!re->addr && re->size))
			return 0;
		(void)mh_spans_erase(p->blocks, re->old_addr);
		return block_add(ls, p, re->addr, re->size);
	default:
		return 0;
	}
}

/*
 * The bulk, a heap ALLOC or FREE of the process of the record before, is
 * applied in the walk itself: a call per record to an apply function, the
 * drainer's walk calling it, took 20 instructions more per record (12M
 * records of alloc_bench 2 3000000 through the drainer's steps: 69 -> 49
 * an event for the live set and the walk, callgrind).
 */
void mh_liveset_apply_events(struct mh_liveset *ls, const unsigned char *buf, size_t end,
			     struct mh_liveset_walk *w)
{
	size_t off = w->off;
	__u64 first = w->first_ts, ts;
	__u32 n = 0;
	int err;

	while (off < end) {
		const struct mh_rec_hdr *rec = (const void *)(buf + off);
		const struct mh_rec_alloc *a = (const void *)rec;
		const struct mh_rec_free *f = (const void *)rec;
		struct proc *p = ls->last;

		if ((__u16)(rec->type - MH_REC_ALLOC) > MH_REC_REALLOC - MH_REC_ALLOC)
			break;
		memcpy(&ts, rec + 1, sizeof(ts));
		first = mh_stamp_min(first, ts);
		off += rec->size;
		n++;
		if (p && rec->kind < MH_KIND_MMAP && rec->type == MH_REC_FREE &&
		    f->pid == (__u32)p->pid) {
			(void)mh_spans_erase(p->blocks, f->addr);
			continue;
		}
		if (p && rec->kind < MH_KIND_MMAP && rec->type == MH_REC_ALLOC &&
		    a->pid == (__u32)p->pid)
			err = block_add(ls, p, a->addr, a->size);
		else
			err = apply_any(ls, rec);
		if (err)
			w->err = err;
	}
	w->off = off;
	w->first_ts = first;
	w->events += n;
}

struct list_ctx {
	struct mh_reach_block *blocks;
	size_t count;
};

static void list_block(struct mh_span *sp, void *arg)
{
	struct list_ctx *l = arg;

	l->blocks[l->count++] = (struct mh_reach_block){ .addr = sp->addr, .size = sp->size };
}

int mh_liveset_take(struct mh_liveset *ls, pid_t pid, struct mh_exitscan_program *prog)
{
	struct proc *p = proc_find(ls, pid);
	struct list_ctx l = { 0 };
	int err = 0;

	memset(prog, 0, sizeof(*prog));
	if (p && mh_spans_count(p->blocks)) {
		l.blocks = malloc(mh_spans_count(p->blocks) * sizeof(*l.blocks));
		if (l.blocks)
			mh_spans_foreach(p->blocks, list_block, &l);
		else
			err = -ENOMEM;
	}
	if (p) {
		/* The regions go with the process: the set forgets it. */
		prog->regions = p->regions;
		prog->region_count = p->region_count;
		p->regions = NULL;
		proc_drop(ls, p);
	}
	prog->blocks = l.blocks;
	prog->count = l.count;
	return err;
}

void mh_liveset_forget(struct mh_liveset *ls, pid_t pid)
{
	struct proc *p = proc_find(ls, pid);

	if (p)
		proc_drop(ls, p);
}

__u64 mh_liveset_repairs(const struct mh_liveset *ls)
{
	return ls ? ls->repairs : 0;
}
