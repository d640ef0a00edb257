// SPDX-License-Identifier: MIT
/*
 * attribute.c - charge kernel events to the live block that owns the
 * address at that moment (blockindex.c, an index over the live blocks), or to
 * the mapping around it (mappings.c: a second index over the mappings the
 * preload and the kernel's syscall records announced).
 *
 * Rules (docs/ATTRIBUTION.md): a fault inside a live block is the block's
 * stack's; a fault in no block is held on its thread until that thread's
 * next allocation: if that allocation comes within ALLOC_WINDOW_NS and
 * overlaps the faulting page, the fault is the allocation's
 * (faults_during_alloc), else it goes to its mapping. A major fault
 * (reported when it completes) goes wherever the thread's fault at that
 * page went. Faults in memhook's ring are memhook's, never the program's. A reclaim stall is
 * charged to the fault its thread entered at most FAULT_WINDOW_NS before
 * the stall began, else to the thread's next allocation if that returns
 * within ALLOC_WINDOW_NS of the stall's end, else it stays unattributed.
 *
 * Must never keep anything per event or per page: per live block, per
 * mapping, per thread (a few pending faults) and per mapping name only.
 */
#include "merger/attribution/attribute.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merger/attribution/addrindex.h"
#include "merger/attribution/attr_internal.h"
#include "common/blocks.h"
#include "merger/replay/modmap.h"
#include "trace/records.h"
#include "merger/replay/replay.h"

/* A fault and the allocation call it happened in: at most this far apart, ns. */
#define ALLOC_WINDOW_NS 1000000ULL
/* A reclaim stall begins at most this long after the fault that caused it, ns. */
#define FAULT_WINDOW_NS 1000000ULL
/* Faults outside blocks held per thread for its next allocation. */
#define PENDING_FAULTS 256
/* Page size when the trace header does not say. */
#define DEFAULT_PAGE_BYTES 4096
/* What the event ring's memfd is called (recorder's mh_ring_create). */
#define MH_RING_FILE_NAME "memhook-ring"
/* madvise advice values (include/uapi/asm-generic/mman-common.h, since 5.14). */
#define MH_MADV_POPULATE_READ 22
#define MH_MADV_POPULATE_WRITE 23

struct pending_fault {
	uint64_t addr, ts_ns;
	uint64_t reclaim_ns;		/* stalls charged to this fault so far */
	uint64_t majors;		/* it was a major fault (the perf event said so) */
	struct mh_map_stats *map;	/* where it goes if no allocation claims it */
};

struct mh_attr_thread {
	uint32_t tid;
	uint64_t last_fault_ts;
	uint64_t last_fault_addr;		/* its address; 0 once a major fault matched it */
	struct mh_stack_stats *last_fault_stack; /* owner of the last fault, if a block */
	struct mh_map_stats *last_fault_map;	 /* else its mapping (if no longer pending) */
	struct pending_fault pending[PENDING_FAULTS];
	unsigned pending_count;
	uint64_t reclaim_ns, reclaim_end_ns;	/* a stall waiting for the next allocation */
	UT_hash_handle hh;
};

struct mh_attr *mh_attr_get(struct mh_attribution *at, struct mh_process *p)
{
	struct mh_attr *a = p->attr;

	if (a)
		return a;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->page_size = at->rp->page_size ? at->rp->page_size : DEFAULT_PAGE_BYTES;
	a->map_index = mh_addrindex_new(a->page_size);
	if (!a->map_index) {
		free(a);
		return NULL;
	}
	p->attr = a;
	return a;
}

struct mh_map_stats *mh_map_stats_get(struct mh_attr *a, enum mh_map_kind kind,
				      const char *name, uint64_t stack_id)
{
	struct mh_map_stats *ms = a->last_map_stats;

	if (ms && !strcmp(ms->name, name))
		return ms;
	HASH_FIND_STR(a->map_stats, name, ms);
	if (ms) {
		a->last_map_stats = ms;
		return ms;
	}
	ms = calloc(1, sizeof(*ms));
	if (!ms)
		return NULL;
	ms->name = strdup(name);
	if (!ms->name) {
		free(ms);
		return NULL;
	}
	ms->kind = kind;
	ms->stack_id = stack_id;
	HASH_ADD_KEYPTR(hh, a->map_stats, ms->name, strlen(ms->name), ms);
	return ms;
}

/* The mapping of a fault outside blocks, from the kernel's vma class first. */
static struct mh_map_stats *fault_mapping(struct mh_attribution *at, struct mh_process *p,
					  const struct mh_rec_kfault *f)
{
	struct mh_attr *a = p->attr;
	char name[96];

	struct mh_map_stats *ms;

	if (f->vma_class == MH_VMA_SHMEM && !f->ino)
		return mh_map_stats_get(a, MH_MAP_SHMEM, "[shmem]", 0);
	switch (f->vma_class) {
	case MH_VMA_SHMEM:	/* a tmpfs or memfd file: named like any file */
	case MH_VMA_FILE:
		snprintf(name, sizeof(name), "%s dev %u:%u inode %" PRIu64,
			 f->vma_class == MH_VMA_FILE ? "file" : "shmem", f->dev >> 20,
			 f->dev & 0xfffff, (uint64_t)f->ino);
		ms = mh_map_stats_get(a, f->vma_class == MH_VMA_FILE ? MH_MAP_FILE : MH_MAP_SHMEM,
				      name, 0);
		if (ms && !ms->sample_addr) {
			ms->dev = f->dev;
			ms->ino = f->ino;
			ms->sample_addr = f->addr;
		}
		return ms;
	case MH_VMA_STACK:
		return mh_map_stats_get(a, MH_MAP_STACK, "[stack]", 0);
	case MH_VMA_HUGETLB:
		return mh_map_stats_get(a, MH_MAP_OTHER, "[hugetlb]", 0);
	case MH_VMA_NONE:
		return mh_map_stats_get(a, MH_MAP_OTHER, "[no mapping]", 0);
	default:
		return mh_attr_mapping_of(at, p, f->addr);
	}
}

/* ---- file names ---- */

static uint64_t file_key(uint32_t dev, uint64_t ino)
{
	return ((uint64_t)dev << 40) ^ ino;
}

static int on_kfile(struct mh_attribution *at, const struct mh_rec_kfile *r)
{
	uint64_t key = file_key(r->dev, r->ino);
	struct mh_kfile *f;

	if (r->hdr.size < sizeof(*r) + (size_t)r->path_len + 1)
		return -EBADMSG;
	HASH_FIND(hh, at->files, &key, sizeof(key), f);
	if (f)
		return 0;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->key = key;
	f->dev = r->dev;
	f->ino = r->ino;
	f->path = strndup((const char *)(r + 1), r->path_len);
	if (!f->path) {
		free(f);
		return -ENOMEM;
	}
	HASH_ADD(hh, at->files, key, sizeof(f->key), f);
	return 0;
}

const char *mh_attr_map_name(const struct mh_attribution *at, const struct mh_process *p,
			     const struct mh_map_stats *ms)
{
	uint64_t key = file_key(ms->dev, ms->ino);
	struct mh_module *mod;
	struct mh_kfile *f;

	if ((ms->kind != MH_MAP_FILE && ms->kind != MH_MAP_SHMEM) || !ms->sample_addr)
		return ms->name;
	HASH_FIND(hh, at->files, &key, sizeof(key), f);
	if (f && f->dev == ms->dev && f->ino == ms->ino)
		return f->path;
	mod = mh_modmap_lookup_any(at->rp->modules, p->pid, ms->sample_addr);
	return mod ? mod->path : ms->name;
}

void mh_attr_free_files(struct mh_attribution *at)
{
	struct mh_kfile *f, *tmp;

	HASH_ITER(hh, at->files, f, tmp) {
		HASH_DEL(at->files, f);
		free(f->path);
		free(f);
	}
}

/* ---- threads ---- */

static struct mh_attr_thread *thread_get(struct mh_attr *a, uint32_t tid, bool create)
{
	struct mh_attr_thread *t = a->last_thread;

	if (t && t->tid == tid)
		return t;
	HASH_FIND(hh, a->threads, &tid, sizeof(tid), t);
	if (!t && create) {
		t = calloc(1, sizeof(*t));
		if (!t)
			return NULL;
		t->tid = tid;
		HASH_ADD(hh, a->threads, tid, sizeof(t->tid), t);
	}
	if (t)
		a->last_thread = t;
	return t;
}

/* Whether t holds something its next allocation settles (a->threads_waiting counts them). */
static bool thread_waits(const struct mh_attr_thread *t)
{
	return t->pending_count || t->reclaim_ns;
}

/* A pending fault nobody claimed: its mapping's. */
static void charge_mapping(struct mh_attr_thread *t, const struct pending_fault *pf)
{
	pf->map->faults++;
	pf->map->major_faults += pf->majors;
	pf->map->reclaim_stall_ns += pf->reclaim_ns;
	if (t->last_fault_ts == pf->ts_ns && !t->last_fault_stack)
		t->last_fault_map = pf->map;
}

/* The oldest pending fault gives way to a new one. */
static void pending_evict(struct mh_attr_thread *t)
{
	charge_mapping(t, &t->pending[0]);
	memmove(&t->pending[0], &t->pending[1], (t->pending_count - 1) * sizeof(t->pending[0]));
	t->pending_count--;
}

/* Space-saving top-k: a new ip replaces the least counted one. */
static void touch_note(struct mh_stack_stats *st, uint64_t ip)
{
	unsigned i, min = 0;

	for (i = 0; i < MH_TOUCH_IPS; i++) {
		if (st->touch[i].ip == ip && st->touch[i].faults) {
			st->touch[i].faults++;
			return;
		}
		if (st->touch[i].faults < st->touch[min].faults)
			min = i;
	}
	st->touch[min].ip = ip;
	st->touch[min].faults++;
}

/* ---- a block's allocation (the hooks from the replay: blockindex.c) ---- */

/* blk was just allocated on thread tid of a: settle what waited there for it. */
void mh_attr_settle_waiting(struct mh_attr *a, struct mh_block *blk, uint32_t tid, uint64_t ts)
{
	struct mh_stack_stats *st = blk->stack;
	uint64_t page_mask = ~(uint64_t)(a->page_size - 1);
	struct mh_attr_thread *t = thread_get(a, tid, false);
	unsigned i;

	if (!t || !thread_waits(t))
		return;
	a->threads_waiting[tid % MH_WAIT_SLOTS]--;
	/* This allocation settles every fault waiting on its thread. */
	for (i = 0; i < t->pending_count; i++) {
		struct pending_fault *pf = &t->pending[i];
		uint64_t page = pf->addr & page_mask;
		bool overlaps = page < blk->addr + blk->size + !blk->size &&
				blk->addr < page + a->page_size;

		if (ts - pf->ts_ns <= ALLOC_WINDOW_NS && overlaps) {
			st->faults_during_alloc++;
			st->major_faults += pf->majors;
			st->reclaim_stall_ns += pf->reclaim_ns;
			a->faults_during_alloc++;
		} else {
			charge_mapping(t, pf);
		}
	}
	t->pending_count = 0;
	if (t->reclaim_ns) {
		if (ts - t->reclaim_end_ns <= ALLOC_WINDOW_NS)
			st->reclaim_stall_ns += t->reclaim_ns;
		else
			a->reclaim_unattributed_ns += t->reclaim_ns;
		t->reclaim_ns = 0;
	}
}

/* ---- kernel records ---- */

/*
 * A fault in memhook's event ring (its memfd, named by the kernel's file
 * records): memhook's page, not the program's. Each maps one more page of
 * the ring into the process (the preload writes it; no fault-around on a
 * shared write fault), until the next own sample measures the share.
 */
static bool is_ring_fault(struct mh_attribution *at, const struct mh_rec_kfault *f)
{
	uint64_t key = file_key(f->dev, f->ino);
	struct mh_kfile *file;

	if (f->vma_class != MH_VMA_SHMEM || !f->ino)
		return false;
	HASH_FIND(hh, at->files, &key, sizeof(key), file);
	return file && file->dev == f->dev && file->ino == f->ino &&
	       strstr(file->path, MH_RING_FILE_NAME);
}

/*
 * The preload maps ring pages ahead of its writes with
 * madvise(MADV_POPULATE_WRITE), which takes no user fault: count them as
 * memhook's when the advice names the ring the own samples located.
 */
static void ring_populated(struct mh_attr *a, const struct mh_rec_ksyscall *s)
{
	uint64_t addr = s->args[0], len = s->args[1], ring = a->ring_end - a->ring_start;

	if (s->sys != MH_KSYS_MADVISE || s->ret < 0 || a->rss_frozen ||
	    (s->args[2] != MH_MADV_POPULATE_READ && s->args[2] != MH_MADV_POPULATE_WRITE) ||
	    addr < a->ring_start || len > a->ring_end - addr)
		return;
	a->own[MH_RSS_SHMEM] += len;
	if (a->own[MH_RSS_SHMEM] > ring)
		a->own[MH_RSS_SHMEM] = ring;
}

static int on_fault(struct mh_attribution *at, struct mh_process *p, const struct mh_rec_kfault *f)
{
	struct mh_attr *a = p->attr;
	struct mh_attr_thread *t;
	struct mh_stack_stats *st;
	struct pending_fault *pf;

	if (is_ring_fault(at, f)) {
		a->own_faults++;
		if (!a->rss_frozen && a->own[MH_RSS_SHMEM] + a->page_size <=
		    a->ring_end - a->ring_start)
			a->own[MH_RSS_SHMEM] += a->page_size;
		return 0;
	}
	t = thread_get(a, f->tid, true);
	if (!t || mh_block_index_ensure(p))
		return -ENOMEM;
	a->faults++;
	t->last_fault_ts = f->ts_ns;
	t->last_fault_addr = f->addr;
	t->last_fault_stack = NULL;
	t->last_fault_map = NULL;
	st = mh_block_index_at(a, f->addr);
	if (st) {
		st->faults++;
		a->faults_in_blocks++;
		touch_note(st, f->ip);
		t->last_fault_stack = st;
		return 0;
	}
	if (t->pending_count == PENDING_FAULTS)
		pending_evict(t);
	pf = &t->pending[t->pending_count];
	*pf = (struct pending_fault){ .addr = f->addr, .ts_ns = f->ts_ns };
	pf->map = fault_mapping(at, p, f);
	if (!pf->map)
		return -ENOMEM;
	if (!thread_waits(t))
		a->threads_waiting[t->tid % MH_WAIT_SLOTS]++;
	t->pending_count++;
	return 0;
}

/*
 * Where the fault a major fault completes went: the thread's last fault,
 * if it was at the same page. True when it was charged there.
 */
static bool charge_like_minor(struct mh_attr *a, const struct mh_rec_kmajfault *f)
{
	uint64_t page_mask = ~(uint64_t)(a->page_size - 1);
	struct mh_attr_thread *t = a->threads ? thread_get(a, f->tid, false) : NULL;

	if (!t || !t->last_fault_addr || t->last_fault_ts > f->ts_ns ||
	    (t->last_fault_addr & page_mask) != (f->addr & page_mask))
		return false;
	t->last_fault_addr = 0;
	if (t->last_fault_stack) {
		t->last_fault_stack->major_faults++;
		return true;
	}
	for (unsigned i = 0; i < t->pending_count; i++) {
		if (t->pending[i].ts_ns == t->last_fault_ts) {
			t->pending[i].majors++;
			return true;
		}
	}
	if (t->last_fault_map) {
		t->last_fault_map->major_faults++;
		return true;
	}
	return false;
}

static int on_majfault(struct mh_attribution *at, struct mh_process *p,
		       const struct mh_rec_kmajfault *f)
{
	struct mh_attr *a = p->attr;
	struct mh_stack_stats *st;
	struct mh_map_stats *ms;

	if (mh_block_index_ensure(p))
		return -ENOMEM;
	a->major_faults++;
	/* One home per fault: a major fault goes where its minor (entry) record went. */
	if (charge_like_minor(a, f))
		return 0;
	st = mh_block_index_at(a, f->addr);
	if (st) {
		st->major_faults++;
		return 0;
	}
	ms = mh_attr_mapping_of(at, p, f->addr);
	if (!ms)
		return -ENOMEM;
	ms->major_faults++;
	return 0;
}

static int on_swapin(struct mh_attribution *at, struct mh_process *p, const struct mh_rec_kswapin *s)
{
	struct mh_attr *a = p->attr;
	struct mh_stack_stats *st;
	struct mh_map_stats *ms;

	if (mh_block_index_ensure(p))
		return -ENOMEM;
	a->swapins += s->pages;
	st = mh_block_index_at(a, s->addr);
	if (st) {
		st->swapins += s->pages;
		return 0;
	}
	ms = mh_attr_mapping_of(at, p, s->addr);
	if (!ms)
		return -ENOMEM;
	ms->swapins += s->pages;
	return 0;
}

static int on_reclaim(struct mh_process *p, const struct mh_rec_kreclaim *r)
{
	struct mh_attr *a = p->attr;
	struct mh_attr_thread *t = thread_get(a, r->tid, true);
	uint64_t ns = r->ts_ns > r->start_ns ? r->ts_ns - r->start_ns : 0;
	bool waited;
	unsigned i;

	if (!t)
		return -ENOMEM;
	a->reclaim_stall_ns += ns;
	if (t->last_fault_ts && t->last_fault_ts <= r->start_ns &&
	    r->start_ns - t->last_fault_ts <= FAULT_WINDOW_NS) {
		if (t->last_fault_stack) {
			t->last_fault_stack->reclaim_stall_ns += ns;
			return 0;
		}
		for (i = 0; i < t->pending_count; i++) {
			if (t->pending[i].ts_ns == t->last_fault_ts) {
				t->pending[i].reclaim_ns += ns;
				return 0;
			}
		}
		if (t->last_fault_map) {
			t->last_fault_map->reclaim_stall_ns += ns;
			return 0;
		}
	}
	waited = thread_waits(t);
	t->reclaim_ns += ns;
	t->reclaim_end_ns = r->ts_ns;
	if (!waited && thread_waits(t))
		a->threads_waiting[t->tid % MH_WAIT_SLOTS]++;
	return 0;
}

/* Process id of a record the attribution handles, 0 if it names none or is not handled. */
static uint32_t record_pid(const struct mh_rec_hdr *rec)
{
	switch (rec->type) {
	case MH_REC_PAGEMAP:
		return ((const struct mh_rec_pagemap *)rec)->pid;
	case MH_REC_RSS_SAMPLE:
		return ((const struct mh_rec_rss_sample *)rec)->pid;
	case MH_REC_OWN_SAMPLE:
		return ((const struct mh_rec_own_sample *)rec)->pid;
	case MH_REC_SCAN_COST:
		return ((const struct mh_rec_scan_cost *)rec)->pid;
	case MH_REC_KFAULT:
		return ((const struct mh_rec_kfault *)rec)->pid;
	case MH_REC_KMAJFAULT:
		return ((const struct mh_rec_kmajfault *)rec)->pid;
	case MH_REC_KSWAPIN:
		return ((const struct mh_rec_kswapin *)rec)->pid;
	case MH_REC_KRSS:
		return ((const struct mh_rec_krss *)rec)->pid;
	case MH_REC_KRECLAIM:
		return ((const struct mh_rec_kreclaim *)rec)->pid;
	case MH_REC_KSYSCALL:
		return ((const struct mh_rec_ksyscall *)rec)->pid;
	default:
		return 0;
	}
}

int mh_attr_record(struct mh_attribution *at, const struct mh_rec_hdr *rec)
{
	struct mh_process *p;
	uint32_t pid;

	if (rec->size < mh_rec_min_size(rec->type))
		return -EBADMSG;
	if (rec->type == MH_REC_KFILE)
		return on_kfile(at, (const void *)rec);
	pid = record_pid(rec);
	p = pid ? mh_replay_process(at->rp, pid) : NULL;
	if (!p)
		return pid ? -ENOMEM : 0;
	if (rec->type == MH_REC_PAGEMAP)
		return mh_residency_add(at, p, (const void *)rec);
	if (!mh_attr_get(at, p))
		return -ENOMEM;
	if (rec->type >= MH_REC_KERNEL_FIRST)
		p->attr->kernel = true;
	switch (rec->type) {
	case MH_REC_RSS_SAMPLE:
		mh_rss_sample(p, (const void *)rec);
		return 0;
	case MH_REC_OWN_SAMPLE:
		mh_rss_own(p, (const void *)rec);
		return 0;
	case MH_REC_SCAN_COST:
		mh_rss_scan_cost(p, (const void *)rec);
		return 0;
	case MH_REC_KRSS:
		mh_rss_kernel(p, (const void *)rec);
		return 0;
	case MH_REC_KFAULT:
		return on_fault(at, p, (const void *)rec);
	case MH_REC_KMAJFAULT:
		return on_majfault(at, p, (const void *)rec);
	case MH_REC_KSWAPIN:
		return on_swapin(at, p, (const void *)rec);
	case MH_REC_KRECLAIM:
		return on_reclaim(p, (const void *)rec);
	case MH_REC_KSYSCALL:
		ring_populated(p->attr, (const void *)rec);
		return mh_mappings_syscall(p->attr, (const void *)rec);
	default:
		return 0;
	}
}

int mh_attr_finish(struct mh_attribution *at, struct mh_process *p)
{
	struct mh_attr *a = p->attr;
	struct mh_attr_thread *t, *tmp;
	struct mh_stack_stats *st;
	unsigned i;
	int err = 0;

	if (!a)
		return 0;
	if (at->snap_pending == p)
		err = mh_attr_apply_pending(at);
	mh_residency_close(p);
	mh_rss_finish(p);
	HASH_ITER(hh, a->threads, t, tmp) {
		for (i = 0; i < t->pending_count; i++)
			charge_mapping(t, &t->pending[i]);
		t->pending_count = 0;
		a->reclaim_unattributed_ns += t->reclaim_ns;
		t->reclaim_ns = 0;
	}
	memset(a->threads_waiting, 0, sizeof(a->threads_waiting));
	/* Stacks with no block in the latest snapshot have nothing resident. */
	for (st = p->stacks; st; st = st->hh.next) {
		if (st->snap_id != a->snap_id) {
			st->resident_bytes = 0;
			st->swapped_bytes = 0;
		}
	}
	return err;
}

void mh_attr_free(struct mh_attr *a)
{
	struct mh_attr_thread *t, *ttmp;
	struct mh_map_stats *ms, *mtmp;
	size_t i;

	if (!a)
		return;
	HASH_ITER(hh, a->threads, t, ttmp) {
		HASH_DEL(a->threads, t);
		free(t);
	}
	HASH_ITER(hh, a->map_stats, ms, mtmp) {
		HASH_DEL(a->map_stats, ms);
		free(ms->name);
		free(ms);
	}
	mh_mappings_free(a);
	mh_addrindex_free(a->map_index);
	mh_block_index_free(a);
	for (i = 0; i < a->part_count; i++)
		free(a->parts[i].rec);
	free(a->parts);
	free(a->heap_ranges);
	free(a);
}
