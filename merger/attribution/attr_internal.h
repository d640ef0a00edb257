/* SPDX-License-Identifier: MIT */
/*
 * attr_internal.h - what attribute.c, mappings.c, residency.c and
 * rss_timeline.c share.
 * Internal to those files. Never prints.
 */
#ifndef MEMHOOK_MERGER_ATTRIBUTION_ATTR_INTERNAL_H
#define MEMHOOK_MERGER_ATTRIBUTION_ATTR_INTERNAL_H

#include "merger/attribution/attribute.h"

struct mh_rec_pagemap;

/* One range of a residency snapshot, copied until it is applied. */
struct mh_snap_part {
	struct mh_rec_pagemap *rec;	/* a copy: header, then the bitmap */
	uint64_t end;			/* start + page_count * page_size */
	uint64_t covered;		/* resident bytes of live blocks in it */
	uint64_t covered_swapped;	/* swapped bytes of live blocks in it */
	bool has_block;			/* some live block overlaps it */
};

/* residency.c */
int mh_residency_add(struct mh_replay *rp, struct mh_process *p,
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

/* mappings.c */
/* A live block was seen at addr: the mapping around it is allocator memory. */
void mh_mapping_note_heap(struct mh_attr *a, uint64_t addr);
/* Apply a kernel mmap/munmap/mremap/brk record. 0 or -ENOMEM. */
int mh_mappings_syscall(struct mh_attr *a, const struct mh_rec_ksyscall *s);
/* Free every mapping (a->map_index, which holds them, is attribute.c's). */
void mh_mappings_free(struct mh_attr *a);

/* attribute.c */
struct mh_map_stats *mh_map_stats_get(struct mh_attr *a, enum mh_map_kind kind,
				      const char *name, uint64_t stack_id);
/* The mapping stats for memory at addr outside live blocks, from the mapping index. */
struct mh_map_stats *mh_attr_mapping_of(struct mh_replay *rp, struct mh_process *p,
					uint64_t addr);

#endif /* MEMHOOK_MERGER_ATTRIBUTION_ATTR_INTERNAL_H */
