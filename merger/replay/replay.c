// SPDX-License-Identifier: MIT
/*
 * replay.c - apply records to per-process heap counters, the live block
 * table and per-stack aggregates.
 *
 * Counting matches Valgrind memcheck's "total heap usage" (checked by
 * running memcheck on small programs): free(NULL) counts nothing;
 * realloc(NULL, n) is one alloc; realloc(p, n) is one free of p plus one
 * alloc of n, whether it grows, shrinks or stays in place; realloc(p, 0)
 * that returns NULL is one free; the memalign family are allocs; mmap,
 * munmap, mremap and brk are mappings, never heap.
 *
 * Must never keep anything per event: per live block and per distinct
 * stack only.
 */
#include "merger/replay/replay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "merger/attribution/attribute.h"
#include "merger/replay/blocks.h"
#include "merger/leaks/leaks.h"
#include "merger/replay/modmap.h"
#include "trace/records.h"

/* An INFO record about the whole trace. */
struct mh_info_entry {
	char *key, *value;
	UT_hash_handle hh;
};

/* Per-thread state for the temporary-allocation rule. */
struct mh_replay_thread {
	uint32_t tid;
	uint64_t last_alloc;	/* last block this thread allocated, 0 once freed */
	UT_hash_handle hh;
};

struct mh_replay *mh_replay_new(void)
{
	struct mh_replay *rp = calloc(1, sizeof(*rp));

	if (!rp)
		return NULL;
	rp->stacks = mh_stackdb_new();
	rp->modules = mh_modmap_new();
	if (!rp->stacks || !rp->modules) {
		mh_replay_free(rp);
		errno = ENOMEM;
		return NULL;
	}
	return rp;
}

static void process_free(struct mh_process *p)
{
	struct mh_replay_thread *t, *tmp;

	HASH_ITER(hh, p->threads, t, tmp) {
		HASH_DEL(p->threads, t);
		free(t);
	}
	mh_leaks_free(p);
	mh_attr_free(p->attr);
	mh_attr_free_granules(p);
	mh_stack_stats_free_all(&p->stacks);
	mh_blocks_free(p->blocks);
	free(p->leakscan_status);
	free(p->command);
	free(p);
}

static void free_infos(struct mh_replay *rp)
{
	struct mh_info_entry *e, *tmp;

	HASH_ITER(hh, rp->infos, e, tmp) {
		HASH_DEL(rp->infos, e);
		free(e->key);
		free(e->value);
		free(e);
	}
}

const char *mh_replay_info(const struct mh_replay *rp, const char *key)
{
	struct mh_info_entry *e;

	HASH_FIND_STR(rp->infos, key, e);
	return e ? e->value : NULL;
}

/* Keep a trace-wide INFO value; a later one with the same key replaces it. */
static int keep_info(struct mh_replay *rp, const char *key, size_t key_len, const char *value,
		     size_t value_len)
{
	char *v = strndup(value, value_len);
	struct mh_info_entry *e;

	if (!v)
		return -ENOMEM;
	HASH_FIND(hh, rp->infos, key, key_len, e);
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e || !(e->key = strndup(key, key_len))) {
			free(e);
			free(v);
			return -ENOMEM;
		}
		HASH_ADD_KEYPTR(hh, rp->infos, e->key, strlen(e->key), e);
	}
	free(e->value);
	e->value = v;
	return 0;
}

void mh_replay_free(struct mh_replay *rp)
{
	struct mh_process *p, *next;

	if (!rp)
		return;
	for (p = rp->procs; p; p = next) {
		next = p->next;
		process_free(p);
	}
	mh_attr_free_files(rp);
	free_infos(rp);
	mh_stackdb_free(rp->stacks);
	mh_modmap_free(rp->modules);
	free(rp);
}

static struct mh_process *process_new(struct mh_replay *rp, uint32_t pid)
{
	struct mh_process *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->blocks = mh_blocks_new();
	if (!p->blocks) {
		free(p);
		return NULL;
	}
	p->pid = pid;
	if (rp->procs_last)
		rp->procs_last->next = p;
	else
		rp->procs = p;
	rp->procs_last = p;
	rp->last_proc = p;
	return p;
}

/* The current image of pid (the last one that did not exec away). */
static struct mh_process *process_find(struct mh_replay *rp, uint32_t pid)
{
	struct mh_process *p, *found = NULL;

	if (rp->last_proc && rp->last_proc->pid == pid)
		return rp->last_proc;
	for (p = rp->procs; p; p = p->next) {
		if (p->pid == pid && !p->replaced_by_exec)
			found = p;
	}
	if (found)
		rp->last_proc = found;
	return found;
}

static struct mh_process *process_get(struct mh_replay *rp, uint32_t pid)
{
	struct mh_process *p = process_find(rp, pid);

	return p ? p : process_new(rp, pid);
}

struct mh_process *mh_replay_process(struct mh_replay *rp, uint32_t pid)
{
	return process_get(rp, pid);
}

/*
 * Below this the table sits in a core's cache and prefetching only costs
 * (replaying 20M events with 8k blocks live: 0.72 s without, 0.80 s with);
 * above it, lookups miss and prefetching pays (500k live: 1.9 s without,
 * 0.93 s with). Bytes.
 */
#define PREFETCH_MIN_TABLE_BYTES (1U << 20)

bool mh_replay_prefetch_pays(const struct mh_replay *rp)
{
	return rp->last_proc &&
	       mh_blocks_table_bytes(rp->last_proc->blocks) >= PREFETCH_MIN_TABLE_BYTES;
}

void mh_replay_prefetch(const struct mh_replay *rp, const struct mh_rec_hdr *rec)
{
	const struct mh_process *p = rp->last_proc;
	const struct mh_rec_realloc *r = (const void *)rec;

	/* Only the process replayed last: finding another would cost more than the miss. */
	if (!p)
		return;
	switch (rec->type) {
	case MH_REC_ALLOC:
		if (((const struct mh_rec_alloc *)rec)->pid == p->pid)
			mh_blocks_prefetch(p->blocks, ((const struct mh_rec_alloc *)rec)->addr);
		return;
	case MH_REC_FREE:
		if (((const struct mh_rec_free *)rec)->pid == p->pid)
			mh_blocks_prefetch(p->blocks, ((const struct mh_rec_free *)rec)->addr);
		return;
	case MH_REC_REALLOC:
		if (r->pid == p->pid) {
			mh_blocks_prefetch(p->blocks, r->old_addr);
			mh_blocks_prefetch(p->blocks, r->addr);
		}
		return;
	default:
		return;
	}
}

static __attribute__((noinline)) struct mh_replay_thread *thread_get_slow(struct mh_process *p,
								    uint32_t tid)
{
	struct mh_replay_thread *t;

	HASH_FIND(hh, p->threads, &tid, sizeof(tid), t);
	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t)
			return NULL;
		t->tid = tid;
		HASH_ADD(hh, p->threads, tid, sizeof(t->tid), t);
	}
	p->last_thread = t;
	return t;
}

/* The per-event path: one thread runs for long stretches, so the cache mostly answers. */
static inline struct mh_replay_thread *thread_get(struct mh_process *p, uint32_t tid)
{
	struct mh_replay_thread *t = p->last_thread;

	return t && t->tid == tid ? t : thread_get_slow(p, tid);
}

static __attribute__((noinline)) struct mh_stack_stats *
stats_get_slow(struct mh_replay *rp, struct mh_process *p, uint64_t id,
	       struct mh_stack_stats **slot)
{
	struct mh_stack_stats *st = mh_stack_stats_find(&p->stacks, id);

	if (!st) {
		st = mh_stack_stats_get(&p->stacks, id, p->peak_ver);
		if (!st)
			return NULL;
		st->info = id ? mh_stackdb_find(rp->stacks, id) : NULL;
		/* The module map as it is when the stack is first used. */
		if (st->info && !st->info->resolved)
			mh_stack_resolve(st->info, rp->modules, false);
	}
	*slot = st;
	return st;
}

static inline struct mh_stack_stats *stats_get(struct mh_replay *rp, struct mh_process *p,
					       uint64_t id)
{
	/* Stack ids are content hashes: their low bits index the cache. */
	struct mh_stack_stats **slot = &p->stack_cache[(id ^ (id >> 32)) % MH_STACK_CACHE_SIZE];
	struct mh_stack_stats *st = *slot;

	return st && st->stack_id == id ? st : stats_get_slow(rp, p, id, slot);
}

/*
 * Before a stack's live bytes change: if a new heap peak happened since
 * its last change, its live bytes then were its live bytes now.
 */
static inline void stats_touch(const struct mh_process *p, struct mh_stack_stats *st)
{
	if (st->peak_ver != p->peak_ver) {
		st->peak_snap_bytes = st->live_bytes;
		st->peak_ver = p->peak_ver;
	}
}

uint64_t mh_stack_peak_bytes(const struct mh_process *p, const struct mh_stack_stats *st)
{
	return st->peak_ver != p->peak_ver ? st->live_bytes : st->peak_snap_bytes;
}

static void heap_release(struct mh_process *p, struct mh_block *blk, uint32_t tid)
{
	struct mh_stack_stats *st = blk->stack;
	struct mh_replay_thread *t = thread_get(p, tid);

	stats_touch(p, st);
	st->frees++;
	st->bytes_freed += blk->size;
	st->live_bytes -= blk->size;
	st->live_blocks--;
	p->frees++;
	p->bytes_freed += blk->size;
	p->live_bytes -= blk->size;
	p->live_blocks--;
	if (t && t->last_alloc == blk->addr) {
		st->temporary++;
		p->temporary++;
		t->last_alloc = 0;
	}
	if (p->attr)
		mh_attr_block_removed(p, blk);
	mh_blocks_remove(p->blocks, blk);
}

static int heap_free(struct mh_process *p, uint64_t addr, uint32_t tid)
{
	struct mh_block *blk;

	if (!addr)
		return 0;
	blk = mh_blocks_find(p->blocks, addr);
	if (!blk) {
		p->unmatched_frees++;
		return 0;
	}
	heap_release(p, blk, tid);
	return 0;
}

static int heap_alloc(struct mh_replay *rp, struct mh_process *p, uint32_t tid, uint64_t addr,
		      uint64_t size, uint64_t stack_id, uint64_t ts)
{
	struct mh_stack_stats *st;
	struct mh_block *blk;
	struct mh_replay_thread *t;
	bool added;

	if (!addr)
		return 0;	/* a failed call: memcheck counts nothing either */
	if (mh_granule_note(p, addr))
		return -ENOMEM;
	st = stats_get(rp, p, stack_id);
	blk = st ? mh_blocks_insert(p->blocks, addr, size, st, &added) : NULL;
	if (blk && !added) {
		/* Its free was lost: retire the old block so the new one is exact. */
		p->double_allocs++;
		heap_release(p, blk, tid);
		blk = mh_blocks_add(p->blocks, addr, size, st);
	}
	if (!blk || (p->attr && mh_attr_block_added(p, blk, tid, ts)))
		return -ENOMEM;
	stats_touch(p, st);
	st->alloc_calls++;
	st->bytes_allocated += size;
	st->live_bytes += size;
	st->live_blocks++;
	st->size_hist[mh_size_bucket(size)]++;
	p->alloc_calls++;
	p->bytes_allocated += size;
	p->live_bytes += size;
	p->live_blocks++;
	if (p->live_bytes > p->peak_live_bytes) {
		p->peak_live_bytes = p->live_bytes;
		p->peak_ts_ns = ts;
		p->peak_ver++;
	}
	t = thread_get(p, tid);
	if (t)
		t->last_alloc = addr;
	return 0;
}

static int on_alloc(struct mh_replay *rp, const struct mh_rec_alloc *a)
{
	struct mh_process *p = process_get(rp, a->pid);

	if (!p)
		return -ENOMEM;
	p->last_ts_ns = a->ts_ns;
	switch (a->hdr.kind) {
	case MH_KIND_MMAP:
		p->mmap_calls++;
		p->mmap_bytes += a->size;
		if (!a->addr || a->addr == UINT64_MAX)
			return 0;
		return mh_attr_get(rp, p) ? mh_attr_mmap(p, a->addr, a->size, a->stack_id) :
					    -ENOMEM;
	case MH_KIND_BRK:
	case MH_KIND_SBRK:
		p->brk_calls++;
		p->brk_bytes += (int64_t)a->size;
		/* The program's own break memory: a region of its own, like its mmaps. */
		return mh_attr_get(rp, p) ? mh_attr_brk(p, a->addr, a->size, a->stack_id, true) :
					    -ENOMEM;
	default:
		return heap_alloc(rp, p, a->tid, a->addr, a->size, a->stack_id, a->ts_ns);
	}
}

static int on_free(struct mh_replay *rp, const struct mh_rec_free *f)
{
	struct mh_process *p = process_get(rp, f->pid);

	if (!p)
		return -ENOMEM;
	p->last_ts_ns = f->ts_ns;
	switch (f->hdr.kind) {
	case MH_KIND_MUNMAP:
		p->munmap_calls++;
		p->munmap_bytes += f->size;
		return p->attr ? mh_attr_munmap(p, f->addr, f->size) : 0;
	case MH_KIND_BRK:
	case MH_KIND_SBRK:
		p->brk_calls++;
		p->brk_bytes -= (int64_t)f->size;
		return p->attr ? mh_attr_brk(p, f->addr, f->size, 0, false) : 0;
	default:
		return heap_free(p, f->addr, f->tid);
	}
}

static int on_realloc(struct mh_replay *rp, const struct mh_rec_realloc *r)
{
	struct mh_process *p = process_get(rp, r->pid);
	int err;

	if (!p)
		return -ENOMEM;
	p->last_ts_ns = r->ts_ns;
	if (r->hdr.kind == MH_KIND_MREMAP) {
		p->mremap_calls++;
		if (!p->attr || !r->addr || r->addr == UINT64_MAX)
			return 0;
		err = mh_attr_munmap(p, r->old_addr, r->old_size);
		return err ? err : mh_attr_mmap(p, r->addr, r->size, r->stack_id);
	}
	/* A failed realloc(p, n > 0) leaves p alone. */
	if (!r->addr && r->size)
		return 0;
	heap_free(p, r->old_addr, r->tid);
	return heap_alloc(rp, p, r->tid, r->addr, r->size, r->stack_id, r->ts_ns);
}

static int on_stack(struct mh_replay *rp, const struct mh_rec_stack *s)
{
	if (s->hdr.size < sizeof(*s) + (size_t)s->depth * sizeof(uint64_t))
		return -EBADMSG;
	return mh_stackdb_add(rp->stacks, s->stack_id, s->pid, s->flags,
			      (const uint64_t *)(s + 1), s->depth);
}

struct inherit_ctx {
	struct mh_replay *rp;
	struct mh_process *child;
	int err;
};

static void inherit_block(struct mh_block *blk, void *arg)
{
	struct inherit_ctx *ic = arg;
	struct mh_process *p = ic->child;
	struct mh_stack_stats *st;

	if (ic->err)
		return;
	st = stats_get(ic->rp, p, blk->stack->stack_id);
	if (!st || !mh_blocks_add(p->blocks, blk->addr, blk->size, st)) {
		ic->err = -ENOMEM;
		return;
	}
	st->live_bytes += blk->size;
	st->live_blocks++;
	p->live_bytes += blk->size;
	p->live_blocks++;
}

/*
 * A fork child's memory is a copy of its parent's: it starts with the
 * parent's live blocks (its frees of them match, its leaks include them),
 * but its call counts cover only its own calls. Its heap peak starts at
 * what it inherited.
 */
static int inherit_heap(struct mh_replay *rp, struct mh_process *child,
			const struct mh_process *parent, uint64_t ts)
{
	struct inherit_ctx ic = { .rp = rp, .child = child };

	mh_blocks_foreach(parent->blocks, inherit_block, &ic);
	if (ic.err)
		return ic.err;
	if (child->live_bytes > child->peak_live_bytes) {
		child->peak_live_bytes = child->live_bytes;
		child->peak_ts_ns = ts;
		child->peak_ver++;
	}
	return 0;
}

/*
 * A FORKED record names the image the child runs: the parent's own image
 * after fork(), or a new program when the child exec()ed without the
 * preload noticing the fork first (vfork). Only the first inherits.
 */
static bool is_fork_of(const struct mh_process *child, const struct mh_process *parent,
		       const char *path, uint32_t path_len)
{
	return parent && parent != child && parent->command && !child->alloc_calls &&
	       !child->frees && !child->live_blocks && strlen(parent->command) == path_len &&
	       !memcmp(parent->command, path, path_len);
}

static int on_process(struct mh_replay *rp, const struct mh_rec_process *r)
{
	const char *path = (const char *)(r + 1);
	struct mh_process *p = process_find(rp, r->pid);
	struct mh_process *parent;
	int err;

	if (r->hdr.size < sizeof(*r) + (size_t)r->path_len + 1)
		return -EBADMSG;
	if (p && p->start && r->start == MH_PROCESS_EXECED) {
		p->replaced_by_exec = true;
		p = NULL;
		mh_modmap_exec(rp->modules, r->pid);
	}
	if (!p)
		p = process_new(rp, r->pid);
	if (!p)
		return -ENOMEM;
	p->ppid = r->ppid;
	p->start = r->start;
	p->start_ts_ns = r->ts_ns;
	if (p->attr)
		mh_attr_image_start(p);
	free(p->command);
	p->command = strndup(path, r->path_len);
	if (!p->command)
		return -ENOMEM;
	if (r->start != MH_PROCESS_FORKED)
		return 0;
	parent = process_find(rp, r->ppid);
	rp->last_proc = p;
	if (is_fork_of(p, parent, path, r->path_len)) {
		err = inherit_heap(rp, p, parent, r->ts_ns);
		if (err)
			return err;
	}
	return mh_modmap_fork(rp->modules, r->ppid, r->pid);
}

static int on_exit_rec(struct mh_replay *rp, const struct mh_rec_exit *e)
{
	struct mh_process *p = process_get(rp, e->pid);

	if (!p)
		return -ENOMEM;
	p->exited = true;
	p->exit_ts_ns = e->ts_ns;
	p->exit_reason = e->reason;
	p->exit_status = e->status;
	p->core_dumped = e->core_dumped;
	return 0;
}

static int on_leak(struct mh_replay *rp, const struct mh_rec_leak *l)
{
	struct mh_process *p = process_get(rp, l->pid);

	return p ? mh_leaks_note(p, l) : -ENOMEM;
}

/* INFO records about the whole trace, and those about a process that the report shows. */
static int on_info(struct mh_replay *rp, const struct mh_rec_info *i)
{
	static const char leakscan[] = "leakscan.status";
	const char *key = (const char *)(i + 1), *value = key + i->key_len + 1;
	struct mh_process *p;

	if (i->hdr.size < sizeof(*i) + (size_t)i->key_len + i->value_len + 2)
		return -EBADMSG;
	if (!i->pid)
		return keep_info(rp, key, i->key_len, value, i->value_len);
	if (i->key_len != sizeof(leakscan) - 1 || memcmp(key, leakscan, i->key_len))
		return 0;
	p = process_get(rp, i->pid);
	if (!p)
		return -ENOMEM;
	free(p->leakscan_status);
	p->leakscan_status = strndup(value, i->value_len);
	return p->leakscan_status ? 0 : -ENOMEM;
}

static int dispatch(struct mh_replay *rp, const struct mh_rec_hdr *rec)
{
	switch (rec->type) {
	case MH_REC_ALLOC:
		return on_alloc(rp, (const void *)rec);
	case MH_REC_FREE:
		return on_free(rp, (const void *)rec);
	case MH_REC_REALLOC:
		return on_realloc(rp, (const void *)rec);
	case MH_REC_STACK:
		return on_stack(rp, (const void *)rec);
	case MH_REC_MODULE:
		return mh_modmap_load(rp->modules, (const void *)rec);
	case MH_REC_MODULE_UNLOAD:
		mh_modmap_unload(rp->modules, (const void *)rec);
		return 0;
	case MH_REC_PROCESS:
		return on_process(rp, (const void *)rec);
	case MH_REC_EXIT:
		return on_exit_rec(rp, (const void *)rec);
	case MH_REC_LOST: {
		const struct mh_rec_lost *l = (const void *)rec;

		if (l->stream < MH_STREAM_COUNT)
			rp->lost[l->stream] += l->count;
		return 0;
	}
	case MH_REC_LEAK:
		return on_leak(rp, (const void *)rec);
	case MH_REC_INFO:
		return on_info(rp, (const void *)rec);
	case MH_REC_THREAD:
	case MH_REC_EXIT_SCAN:
		return 0;
	default:
		if (mh_attr_wants(rec->type)) {
			if (rec->type >= MH_REC_KERNEL_FIRST)
				rp->kernel_records++;
			return mh_attr_record(rp, rec);
		}
		rp->unknown_records++;
		return 0;
	}
}

int mh_replay_record(struct mh_replay *rp, const struct mh_rec_hdr *rec)
{
	uint64_t ts;

	if (rec->size < mh_rec_min_size(rec->type))
		return -EBADMSG;
	if (rp->snap_pending && rec->type != MH_REC_PAGEMAP) {
		int err = mh_attr_apply_pending(rp);

		if (err)
			return err;
	}
	rp->records++;
	if (rec->type >= MH_REC_ALLOC && rec->type <= MH_REC_REALLOC) {
		rp->events++;
		ts = ((const struct mh_rec_alloc *)rec)->ts_ns;
	} else {
		ts = mh_rec_ts(rec);
	}
	if (ts) {
		if (!rp->first_ts_ns || ts < rp->first_ts_ns)
			rp->first_ts_ns = ts;
		if (ts > rp->last_ts_ns)
			rp->last_ts_ns = ts;
	}
	return dispatch(rp, rec);
}

int mh_replay_finish(struct mh_replay *rp)
{
	struct mh_process *p;
	struct mh_stack_stats *st, *tmp;
	int err = 0;

	for (p = rp->procs; p; p = p->next) {
		if (!err)
			err = mh_attr_finish(rp, p);
		mh_leaks_classify(p);
		HASH_ITER(hh, p->stacks, st, tmp) {
			if (!st->info && st->stack_id)
				st->info = mh_stackdb_find(rp->stacks, st->stack_id);
			if (st->info)
				mh_stack_resolve(st->info, rp->modules, true);
		}
	}
	return err;
}
