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

#include "common/blocks.h"
#include "merger/leaks/leaks.h"
#include "merger/replay/granules.h"
#include "merger/replay/images.h"
#include "common/image.h"
#include "merger/replay/modmap.h"
#include "merger/replay/series.h"
#include "merger/replay/stackstats.h"
#include "trace/records.h"

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

void mh_replay_subscribe(struct mh_replay *rp, const struct mh_replay_events *ev, void *ctx)
{
	rp->sub = ev;
	rp->sub_ctx = ctx;
}

void mh_replay_set_header(struct mh_replay *rp, uint32_t root_pid, uint32_t page_size)
{
	rp->root_pid = root_pid;
	rp->page_size = page_size;
}

void mh_replay_count_late(struct mh_replay *rp)
{
	rp->kernel_late++;
}

/*
 * Publish one event to the subscriber: PUBLISH(rp, name, args...) calls
 * rp->sub->name(rp->sub_ctx, args...) when both are set, else yields 0.
 */
#define PUBLISH(rp, name, ...)							\
	((rp)->sub && (rp)->sub->name ? (rp)->sub->name((rp)->sub_ctx, __VA_ARGS__) : 0)

/* Publish block_removed for blk of p, if the subscriber watches p's blocks. */
static inline void publish_removed(struct mh_replay *rp, struct mh_process *p,
				   struct mh_block *blk)
{
	if (p->watch_blocks && rp->sub && rp->sub->block_removed)
		rp->sub->block_removed(rp->sub_ctx, p, blk);
}

static void process_free(struct mh_replay *rp, struct mh_process *p)
{
	struct mh_replay_thread *t, *tmp;

	if (rp->sub && rp->sub->process_freed)
		rp->sub->process_freed(rp->sub_ctx, p);

	HASH_ITER(hh, p->threads, t, tmp) {
		HASH_DEL(p->threads, t);
		free(t);
	}
	mh_leaks_free(p);
	mh_granules_free(p);
	mh_series_free(p);
	mh_stack_stats_free_all(&p->stacks);
	mh_blocks_free(p->blocks);
	free(p->stack_cache);
	free(p->leakscan_status);
	free(p->untraced_why);
	free(p->command);
	free(p->argv);
	free(p);
}

void mh_replay_free(struct mh_replay *rp)
{
	struct mh_process *p, *next;
	struct mh_pid_entry *e, *tmp;

	if (!rp)
		return;
	HASH_CLEAR(pid_hh, rp->by_pid);
	for (p = rp->procs; p; p = next) {
		next = p->next;
		process_free(rp, p);
	}
	free(rp->loss_windows);
	mh_leaks_free_pending(rp);
	HASH_ITER(hh, rp->untraced, e, tmp) {
		HASH_DEL(rp->untraced, e);
		free(e);
	}
	mh_replay_infos_free(rp);
	mh_stackdb_free(rp->stacks);
	mh_modmap_free(rp->modules);
	free(rp->kernel_status);
	free(rp);
}

struct mh_process *mh_replay_new_image(struct mh_replay *rp, uint32_t pid)
{
	struct mh_process *p = calloc(1, sizeof(*p)), *older;

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
	/* The newest image of a pid is the one its records go to: one lookup, not a walk. */
	HASH_REPLACE(pid_hh, rp->by_pid, pid, sizeof(p->pid), p, older);
	(void)older; /* still in rp->procs */
	return p;
}

static __attribute__((noinline)) struct mh_process *process_find_slow(struct mh_replay *rp,
								     uint32_t pid)
{
	struct mh_process *p;

	HASH_FIND(pid_hh, rp->by_pid, &pid, sizeof(pid), p);
	if (!p || p->replaced_by_exec)
		return NULL;
	rp->last_proc = p;
	return p;
}

/*
 * The current image of pid (the newest, unless it exec'd away). Inlined
 * up to the cache's answer: a call on every event took 9 instructions of
 * it (callgrind).
 */
static inline struct mh_process *process_find(struct mh_replay *rp, uint32_t pid)
{
	struct mh_process *p = rp->last_proc;

	return p && p->pid == pid && !p->replaced_by_exec ? p : process_find_slow(rp, pid);
}

static inline struct mh_process *process_get(struct mh_replay *rp, uint32_t pid)
{
	struct mh_process *p = process_find(rp, pid);

	return p ? p : mh_replay_new_image(rp, pid);
}

struct mh_process *mh_replay_process(struct mh_replay *rp, uint32_t pid)
{
	return process_get(rp, pid);
}

struct mh_process *mh_replay_current(struct mh_replay *rp, uint32_t pid)
{
	return process_find(rp, pid);
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

size_t mh_replay_prefetch(const struct mh_replay *rp, const unsigned char *buf, size_t bytes,
			  size_t from, unsigned count)
{
	const struct mh_process *p = rp->last_proc;

	/* Only the process replayed last: finding another would cost more than the miss. */
	return mh_blocks_prefetch_events(p ? p->blocks : NULL, p ? p->pid : 0, buf, bytes, from,
					 count);
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
	p->thread_cache[tid % MH_THREAD_CACHE] = t;
	return t;
}

/*
 * The per-event path: threads of nearby tids have their own cache
 * entries, so where threads take turns the cache still answers
 * (alloc_bench's two threads, 20M events: a cache of the last two threads
 * sent 18% of the lookups to the hash, 148M instructions, callgrind).
 */
static inline struct mh_replay_thread *thread_get(struct mh_process *p, uint32_t tid)
{
	struct mh_replay_thread *t = p->thread_cache[tid % MH_THREAD_CACHE];

	return t && t->tid == tid ? t : thread_get_slow(p, tid);
}

static inline void heap_release(struct mh_replay *rp, struct mh_process *p, struct mh_block *blk,
				uint32_t tid)
{
	struct mh_stack_stats *st = blk->stack;
	struct mh_replay_thread *t = thread_get(p, tid);
	uint64_t size = blk->size;

	mh_stats_touch(p, st);
	st->frees++;
	st->bytes_freed += size;
	st->live_bytes -= size;
	st->live_blocks--;
	p->frees++;
	p->bytes_freed += size;
	p->live_bytes -= size;
	p->live_blocks--;
	if (t && t->last_alloc == blk->addr) {
		st->temporary++;
		p->temporary++;
		t->last_alloc = 0;
	}
	publish_removed(rp, p, blk);
	mh_blocks_remove(p->blocks, blk);
}

/* A free of addr by thread tid at ts. 0 or -ENOMEM. */
static inline int heap_free(struct mh_replay *rp, struct mh_process *p, uint64_t ts,
			    uint64_t addr, uint32_t tid)
{
	struct mh_block *blk;

	if (mh_series_tick(p, p->series, ts))
		return -ENOMEM;
	if (!addr)
		return 0;
	blk = mh_blocks_find(p->blocks, addr);
	if (blk)
		heap_release(rp, p, blk, tid);
	else
		p->unmatched_frees++;
	return 0;
}

/*
 * An allocation of size bytes from st at the address of blk, which is
 * still live: its free was lost. Retire it so the new block is exact.
 */
static __attribute__((noinline)) struct mh_block *
heap_alloc_over(struct mh_replay *rp, struct mh_process *p, struct mh_block *blk, uint32_t tid,
		uint64_t size, struct mh_stack_stats *st)
{
	uint64_t addr = blk->addr;

	p->double_allocs++;
	heap_release(rp, p, blk, tid);
	return mh_blocks_add(p->blocks, addr, size, st);
}

/* Inlined in on_alloc() (and on_realloc()): a call of its own cost 20 instructions each. */
static inline __attribute__((always_inline)) int heap_alloc(struct mh_replay *rp,
							     struct mh_process *p, uint32_t tid,
							     uint64_t addr, uint64_t size,
							     uint64_t stack_id, uint64_t ts)
{
	struct mh_stack_stats *st;
	struct mh_block *blk;
	struct mh_replay_thread *t;
	bool added;

	if (!addr)
		return 0;	/* a failed call: memcheck counts nothing either */
	if (mh_granule_note(p, addr) || mh_series_tick(p, p->series, ts))
		return -ENOMEM;
	st = mh_stats_get(rp, p, stack_id);
	if (!st)
		return -ENOMEM;
	blk = mh_blocks_insert(p->blocks, addr, size, st, &added);
	if (blk && !added)
		blk = heap_alloc_over(rp, p, blk, tid, size, st);
	if (!blk || (p->watch_blocks && PUBLISH(rp, block_added, p, blk, tid, ts)))
		return -ENOMEM;
	mh_stats_touch(p, st);
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

/*
 * on_alloc() and on_free() stay out of line: mh_replay_record(), which
 * every record goes through, then only jumps to them and saves no
 * registers.
 */
static __attribute__((noinline)) int on_alloc(struct mh_replay *rp, const struct mh_rec_alloc *a)
{
	struct mh_process *p = process_get(rp, a->pid);

	if (!p)
		return -ENOMEM;
	p->last_ts_ns = a->ts_ns;
	/* The malloc family's kinds come first: one comparison for most records. */
	if (a->hdr.kind >= MH_KIND_MMAP) {
		switch (a->hdr.kind) {
		case MH_KIND_MMAP:
			p->mmap_calls++;
			p->mmap_bytes += a->size;
			if (!a->addr || a->addr == UINT64_MAX)
				return 0;
			return PUBLISH(rp, mapped, p, a->addr, a->size, a->stack_id);
		case MH_KIND_BRK:
		case MH_KIND_SBRK:
			p->brk_calls++;
			p->brk_bytes += (int64_t)a->size;
			/* The program's own break memory: a region of its own, like its mmaps. */
			return a->size ? PUBLISH(rp, break_moved, p, a->addr, a->size,
						 a->stack_id, true) : 0;
		default:
			break;
		}
	}
	return heap_alloc(rp, p, a->tid, a->addr, a->size, a->stack_id, a->ts_ns);
}

static __attribute__((noinline)) int on_free(struct mh_replay *rp, const struct mh_rec_free *f)
{
	struct mh_process *p = process_get(rp, f->pid);

	if (!p)
		return -ENOMEM;
	p->last_ts_ns = f->ts_ns;
	if (f->hdr.kind >= MH_KIND_MMAP) {
		switch (f->hdr.kind) {
		case MH_KIND_MUNMAP:
			p->munmap_calls++;
			p->munmap_bytes += f->size;
			return PUBLISH(rp, unmapped, p, f->addr, f->size);
		case MH_KIND_BRK:
		case MH_KIND_SBRK:
			p->brk_calls++;
			p->brk_bytes -= (int64_t)f->size;
			return f->size ? PUBLISH(rp, break_moved, p, f->addr, f->size, 0, false) : 0;
		default:
			break;
		}
	}
	return heap_free(rp, p, f->ts_ns, f->addr, f->tid);
}

static int on_realloc(struct mh_replay *rp, const struct mh_rec_realloc *r)
{
	struct mh_process *p = process_get(rp, r->pid);

	if (!p)
		return -ENOMEM;
	p->last_ts_ns = r->ts_ns;
	if (r->hdr.kind == MH_KIND_MREMAP) {
		p->mremap_calls++;
		if (!r->addr || r->addr == UINT64_MAX)
			return 0;
		return PUBLISH(rp, remapped, p, r->old_addr, r->old_size, r->addr, r->size,
			       r->stack_id);
	}
	/* A failed realloc(p, n > 0) leaves p alone. */
	if (!r->addr && r->size)
		return 0;
	if (heap_free(rp, p, r->ts_ns, r->old_addr, r->tid))
		return -ENOMEM;
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
	st = mh_stats_get(ic->rp, p, blk->stack->stack_id);
	if (!st || !mh_blocks_add(p->blocks, blk->addr, blk->size, st)) {
		ic->err = -ENOMEM;
		return;
	}
	mh_stats_touch(p, st);
	st->live_bytes += blk->size;
	st->live_blocks++;
	p->live_bytes += blk->size;
	p->live_blocks++;
}

static int by_stack_id(const struct mh_stack_stats *a, const struct mh_stack_stats *b)
{
	return a->stack_id < b->stack_id ? -1 : a->stack_id > b->stack_id;
}

/*
 * A fork child's memory is a copy of its parent's: it starts with the
 * parent's live blocks (its frees of them match, its leaks include them)
 * and runs the parent's program with its arguments, but its call counts
 * cover only its own calls. Its heap peak starts at what it inherited.
 * Its stacks come in the parent's table order, which changes from run to
 * run, and reports list stacks in their table's order (pprof's samples,
 * the flame graph's nodes): sorted by id, they read the same every run.
 */
static int inherit_heap(struct mh_replay *rp, struct mh_process *child,
			const struct mh_process *parent, uint64_t ts)
{
	struct inherit_ctx ic = { .rp = rp, .child = child };

	child->heap_since_ns = parent->heap_since_ns ? parent->heap_since_ns : parent->start_ts_ns;
	if (parent->argv && !child->argv) {
		child->argv = malloc((size_t)parent->argv_len + 1);
		if (!child->argv)
			return -ENOMEM;
		memcpy(child->argv, parent->argv, (size_t)parent->argv_len + 1);
		child->argv_len = parent->argv_len;
	}
	mh_blocks_foreach(parent->blocks, inherit_block, &ic);
	if (ic.err)
		return ic.err;
	HASH_SRT(hh, child->stacks, by_stack_id);
	if (child->live_bytes > child->peak_live_bytes) {
		child->peak_live_bytes = child->live_bytes;
		child->peak_ts_ns = ts;
		child->peak_ver++;
	}
	return 0;
}

struct drop_ctx {
	struct mh_replay *rp;
	struct mh_process *p;
};

static void drop_block(struct mh_block *blk, void *arg)
{
	struct drop_ctx *dc = arg;
	struct mh_stack_stats *st = blk->stack;

	/* In any order: a stack's first touch here sees its live bytes from before the drop. */
	mh_stats_touch(dc->p, st);
	st->live_bytes -= blk->size;
	st->live_blocks--;
	publish_removed(dc->rp, dc->p, blk);
}

/*
 * An exec ended image p: its address space went, and every block live in
 * it with it. They are nobody's leaks (memcheck and LeakSanitizer judge
 * no image at exec) and never the new image's.
 */
void mh_replay_end_by_exec(struct mh_replay *rp, struct mh_process *p)
{
	struct drop_ctx dc = { .rp = rp, .p = p };

	mh_blocks_foreach(p->blocks, drop_block, &dc);
	mh_blocks_free(p->blocks);
	p->blocks = NULL;
	p->live_bytes = 0;
	p->live_blocks = 0;
	p->replaced_by_exec = true;
}

static void image_facts(const struct mh_process *p, struct mh_image_facts *f)
{
	*f = (struct mh_image_facts){
		.announced = p->start != 0,
		.exited = p->exited,
		.pristine = !p->alloc_calls && !p->frees && !p->live_blocks,
		.command = p->command,
	};
}

/* The image a PROCESS record announces, by the rules of image.h. */
static int on_process(struct mh_replay *rp, const struct mh_rec_process *r)
{
	const char *path = (const char *)(r + 1);
	struct mh_process *cur, *parent, *p;
	struct mh_image_facts cf, pf;
	enum mh_image_start start;
	int err;

	if (r->hdr.size < sizeof(*r) + (size_t)r->path_len + 1)
		return -EBADMSG;
	parent = r->ppid != r->pid ? process_find(rp, r->ppid) : NULL;
	cur = process_find(rp, r->pid);
	if (cur)
		image_facts(cur, &cf);
	if (parent)
		image_facts(parent, &pf);
	start = mh_image_classify(cur ? &cf : NULL, parent ? &pf : NULL, r);
	if (start == MH_IMAGE_EXEC) {
		mh_replay_end_by_exec(rp, cur);
		mh_modmap_exec(rp->modules, r->pid);
	}
	/* An image that only had events (or kernel records) so far is the one announced. */
	p = cur && !cur->start && !cur->exited ? cur : mh_replay_new_image(rp, r->pid);
	if (!p)
		return -ENOMEM;
	if (start == MH_IMAGE_EXEC)
		p->exec_index = cur->exec_index + 1;
	p->ppid = r->ppid;
	p->start = r->start;
	p->start_ts_ns = r->ts_ns;
	/* An image the kernel saw exec'd (exec_seen()) that has now attached. */
	free(p->untraced_why);
	p->untraced_why = NULL;
	if (rp->sub && rp->sub->image_started)
		rp->sub->image_started(rp->sub_ctx, p);
	free(p->command);
	p->command = strndup(path, r->path_len);
	if (!p->command)
		return -ENOMEM;
	rp->last_proc = p;
	if (start != MH_IMAGE_FORK)
		return 0;
	err = inherit_heap(rp, p, parent, r->ts_ns);
	return err ? err : mh_modmap_fork(rp->modules, r->ppid, r->pid);
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
	return mh_leaks_note(rp, l);
}

/* The process asked for its exit scan: its end is explained by whatever answered. */
static void mark_scan_requested(struct mh_replay *rp, const struct mh_rec_exit_scan *req)
{
	struct mh_process *p = process_find(rp, req->pid);

	if (p)
		p->scan_requested = true;
}

/* Records other than ALLOC and FREE: few. */
static __attribute__((noinline)) int dispatch(struct mh_replay *rp, const struct mh_rec_hdr *rec)
{
	switch (rec->type) {
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
	case MH_REC_LOST:
		return mh_leaks_note_lost(rp, (const void *)rec);
	case MH_REC_LEAK:
		return on_leak(rp, (const void *)rec);
	case MH_REC_INFO:
		return mh_replay_on_info(rp, (const void *)rec);
	case MH_REC_EXIT_SCAN:
		mark_scan_requested(rp, (const void *)rec);
		return 0;
	case MH_REC_THREAD:
		return 0;
	default:
		if (rec->type >= MH_REC_KERNEL_FIRST || rec->type == MH_REC_PAGEMAP ||
		    rec->type == MH_REC_RSS_SAMPLE || rec->type == MH_REC_OWN_SAMPLE ||
		    rec->type == MH_REC_SCAN_COST) {
			if (rec->type >= MH_REC_KERNEL_FIRST)
				rp->kernel_records++;
			return PUBLISH(rp, record, rec);
		}
		rp->unknown_records++;
		return 0;
	}
}

void mh_replay_call_before_next(struct mh_replay *rp)
{
	rp->before_next = true;
}

/* mh_replay_record() of a record the subscriber asked to be told of first. */
static __attribute__((noinline)) int record_after_before(struct mh_replay *rp,
							 const struct mh_rec_hdr *rec)
{
	int err;

	rp->before_next = false;
	err = PUBLISH(rp, before_record, rec);
	return err ? err : mh_replay_record(rp, rec);
}

/*
 * Every record comes through here: what it does for each is kept to the
 * checks and counters, and the jump to its kind's function (58
 * instructions a record with a call to before_record and the registers
 * its inlined kinds saved, 24 now: callgrind).
 */
int mh_replay_record(struct mh_replay *rp, const struct mh_rec_hdr *rec)
{
	uint16_t type = rec->type;
	uint64_t ts;

	if (rec->size < mh_rec_min_size(type))
		return -EBADMSG;
	if (__builtin_expect(rp->before_next, 0))
		return record_after_before(rp, rec);
	rp->records++;
	if (type >= MH_REC_ALLOC && type <= MH_REC_REALLOC) {
		rp->events++;
		ts = ((const struct mh_rec_alloc *)rec)->ts_ns;
	} else {
		ts = mh_rec_stamp(rec);
	}
	/* Unsigned: 0 (no stamp) is never below first_ts_ns - 1, and any stamp is below 0 - 1. */
	if (ts - 1 < rp->first_ts_ns - 1)
		rp->first_ts_ns = ts;
	if (ts > rp->last_ts_ns)
		rp->last_ts_ns = ts;
	if (type == MH_REC_ALLOC)
		return on_alloc(rp, (const void *)rec);
	if (type == MH_REC_FREE)
		return on_free(rp, (const void *)rec);
	return dispatch(rp, rec);
}

int mh_replay_finish(struct mh_replay *rp)
{
	struct mh_process *p;
	struct mh_stack_stats *st, *tmp;
	int err = 0;

	err = mh_leaks_adopt_rest(rp);
	for (p = rp->procs; p; p = p->next) {
		if (!err)
			err = PUBLISH(rp, process_finished, p);
		if (!err)
			err = mh_series_end(p, p->exited ? p->exit_ts_ns : p->last_ts_ns);
		mh_leaks_classify(rp, p);
		HASH_ITER(hh, p->stacks, st, tmp) {
			if (!st->info && st->stack_id)
				st->info = mh_stackdb_find(rp->stacks, st->stack_id);
			if (st->info)
				mh_stack_resolve(st->info, rp->modules, true);
		}
	}
	return err;
}
