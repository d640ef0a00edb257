/* SPDX-License-Identifier: MIT */
/*
 * attr_internal.h - what attribute.c, mappings.c, residency.c and
 * rss_timeline.c share: the attribution object and the steps the replay's
 * events drive.
 * Internal to those files. Never prints.
 */
#ifndef MEMHOOK_MERGER_ATTRIBUTION_ATTR_INTERNAL_H
#define MEMHOOK_MERGER_ATTRIBUTION_ATTR_INTERNAL_H

#include <string.h>

#include "merger/attribution/attribute.h"

struct mh_rec_pagemap;

struct mh_attribution {
	struct mh_replay *rp;		/* the replay it subscribed to */
	struct mh_kfile *files;		/* file names from the kernel stream, by key */
	struct mh_process *snap_pending; /* a process with a residency snapshot part to apply */
};

/* p's attribution state, created on first use. NULL on ENOMEM. */
struct mh_attr *mh_attr_get(struct mh_attribution *at, struct mh_process *p);

/* Apply one such record. 0, -EBADMSG, -ENOMEM. */
int mh_attr_record(struct mh_attribution *at, const struct mh_rec_hdr *rec);

/*
 * Apply the residency snapshot ranges received so far (at->snap_pending)
 * to the blocks live now: before any record but another PAGEMAP.
 */
int mh_attr_apply_pending(struct mh_attribution *at);

/*
 * The replay's events, acted on only when p->attr is set; the blocks'
 * only once p has a block index (mh_block_index_ensure() sets
 * p->watch_blocks: the replay publishes them for no other). 0 or -ENOMEM.
 * mh_attr_mmap() and mh_attr_munmap() act as the syscalls do on page
 * boundaries: a mapping (or unmapping) over older mappings unmaps what it
 * covers, wholly or in part (docs/ATTRIBUTION.md).
 */
int mh_attr_block_added(void *at, struct mh_process *p, struct mh_block *blk, uint32_t tid,
			uint64_t ts);
void mh_attr_block_removed(void *at, struct mh_process *p, struct mh_block *blk);
int mh_attr_mmap(struct mh_process *p, uint64_t addr, uint64_t size, uint64_t stack_id);
int mh_attr_munmap(struct mh_process *p, uint64_t addr, uint64_t size);
/* The program moved its break itself over [addr, addr + size), up (grow) or down: by bytes. */
int mh_attr_brk(struct mh_process *p, uint64_t addr, uint64_t size, uint64_t stack_id, bool grow);

/*
 * p's traced image announced itself (MH_REC_PROCESS): RSS seen before
 * belongs to what ran in the pid before exec (the launcher's child), so
 * the RSS peak and the timeline start again.
 */
void mh_attr_image_start(struct mh_process *p);

/* End of trace: close the last snapshot and charge what is still pending. */
int mh_attr_finish(struct mh_attribution *at, struct mh_process *p);

void mh_attr_free(struct mh_attr *a);

/* A file the kernel stream named (MH_REC_KFILE), global to the trace. */
struct mh_kfile {
	uint64_t key;			/* dev << 40 ^ ino, see attribute.c */
	uint32_t dev;
	uint64_t ino;
	char *path;
	UT_hash_handle hh;
};

void mh_attr_free_files(struct mh_attribution *at);


/* One range of a residency snapshot, copied until it is applied. */
struct mh_snap_part {
	struct mh_rec_pagemap *rec;	/* a copy: header, then the bitmap */
	uint64_t end;			/* start + page_count * page_size */
	uint64_t covered;		/* resident bytes of live blocks in it */
	uint64_t covered_swapped;	/* swapped bytes of live blocks in it */
	bool has_block;			/* some live block overlaps it */
};

/* residency.c */
int mh_residency_add(struct mh_attribution *at, struct mh_process *p,
		     const struct mh_rec_pagemap *rec);
/* Close the current snapshot (its parts are applied): totals, timeline, RSS peak. */
void mh_residency_close(struct mh_process *p);

/* rss_timeline.c */
/* Note the process state at ts (an RSS change): keeps the bucket's largest RSS. */
void mh_rss_timeline_note(struct mh_process *p, uint64_t ts);
/* Add a snapshot point at ts with p's current figures. */
void mh_rss_timeline_snapshot(struct mh_process *p, uint64_t ts);
/* Apply an RSS record (kernel rss_stat or sampler). */
void mh_rss_kernel(struct mh_process *p, const struct mh_rec_krss *r);
void mh_rss_sample(struct mh_process *p, const struct mh_rec_rss_sample *s);
/* memhook's own share (MH_REC_OWN_SAMPLE) and what an exit scan did (MH_REC_SCAN_COST). */
void mh_rss_own(struct mh_process *p, const struct mh_rec_own_sample *o);
void mh_rss_scan_cost(struct mh_process *p, const struct mh_rec_scan_cost *c);
/* End of trace: the peak is at least what the kernel's high-water mark showed. */
void mh_rss_finish(struct mh_process *p);

/* blockindex.c */
/* Make mh_block_index_at() answer for p's live blocks. 0 or -ENOMEM. */
int mh_block_index_ensure(struct mh_process *p);
/* The stack of the live block covering addr, or NULL. */
struct mh_stack_stats *mh_block_index_at(struct mh_attr *a, uint64_t addr);
/* Free the index and the noted list. */
void mh_block_index_free(struct mh_attr *a);

/* mappings.c */
/* mh_mapping_note_heap() past the ranges noted. */
void mh_mapping_note_heap_slow(struct mh_attr *a, uint64_t addr);

/*
 * A live block was seen at addr: the mapping around it is allocator
 * memory. Inline up to the ranges already noted: every allocation asks.
 * A range found moves to the front, so the ranges of the arenas in use
 * are found first (any order does: each only says "nothing to do").
 */
static inline void mh_mapping_note_heap(struct mh_attr *a, uint64_t addr)
{
	uint64_t (*n)[3] = a->heap_noted, found[3];

	if (!a->mappings || addr - n[0][0] < n[0][1] - n[0][0])
		return;
	for (unsigned i = 1; i < MH_HEAP_NOTED; i++) {
		if (addr - n[i][0] < n[i][1] - n[i][0]) {
			memcpy(found, n[i], sizeof(found));
			memcpy(n[i], n[0], sizeof(found));
			memcpy(n[0], found, sizeof(found));
			return;
		}
	}
	mh_mapping_note_heap_slow(a, addr);
}
/* Apply a kernel mmap/munmap/mremap/brk record. 0 or -ENOMEM. */
int mh_mappings_syscall(struct mh_attr *a, const struct mh_rec_ksyscall *s);
/* Free every mapping (a->map_index, which holds them, is attribute.c's). */
void mh_mappings_free(struct mh_attr *a);

/* attribute.c */
/* blk was just allocated on thread tid at ts: settle what waited there for it (faults, a stall). */
void mh_attr_settle_waiting(struct mh_attr *a, struct mh_block *blk, uint32_t tid, uint64_t ts);
struct mh_map_stats *mh_map_stats_get(struct mh_attr *a, enum mh_map_kind kind,
				      const char *name, uint64_t stack_id);
/* The mapping stats for memory at addr outside live blocks, from the mapping index. */
struct mh_map_stats *mh_attr_mapping_of(struct mh_attribution *at, struct mh_process *p,
					uint64_t addr);

#endif /* MEMHOOK_MERGER_ATTRIBUTION_ATTR_INTERNAL_H */
