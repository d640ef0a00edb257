/* SPDX-License-Identifier: MIT */
/*
 * attribute.h - join the kernel's view with the allocator's: residency
 * snapshots (MH_REC_PAGEMAP), page faults, swap-ins and reclaim stalls
 * (kernel_events.h), process RSS (kernel rss_stat or MH_REC_RSS_SAMPLE),
 * charged to the live block that owns the address at that moment, or to
 * the mapping around it. docs/ATTRIBUTION.md defines every figure.
 *
 * It subscribes to the replay's events (block added and removed, mapped,
 * unmapped, image start) and to the records the replay does not handle.
 * A process gets its struct mh_attr only when the first such record
 * arrives, and the address index of its live blocks only when the first
 * record that needs one (a fault or swap-in) arrives: a trace without a
 * kernel stream pays one pointer test per allocation. Memory is bounded by
 * the live blocks, the mappings, the distinct mapping names and a fixed
 * number of timeline points. Never prints.
 */
#ifndef MEMHOOK_MERGER_ATTRIBUTION_ATTRIBUTE_H
#define MEMHOOK_MERGER_ATTRIBUTION_ATTRIBUTE_H

#include <stdbool.h>
#include <stdint.h>

#include <uthash.h>

#include "memhook/kernel_events.h"

struct mh_addrindex;
struct mh_pending_block;
struct mh_block;
struct mh_process;
struct mh_replay;
struct mh_stack_stats;

/* Timeline points kept per process; older points are merged pairwise when full. */
#define MH_TIMELINE_POINTS 256
/* Stacks whose resident bytes a snapshot point keeps. */
#define MH_TIMELINE_TOP_STACKS 5

/* Where memory outside live blocks is: one entry per name (docs/ATTRIBUTION.md). */
enum mh_map_kind {
	MH_MAP_ANON = 1,	/* "[anon]": anonymous memory no record explains */
	MH_MAP_HEAP_FREE,	/* "[heap free]": allocator regions outside live blocks */
	MH_MAP_LIBC_MMAP,	/* "[libc mmap]": mmaps only the kernel saw, holding no heap */
	MH_MAP_PROGRAM_MMAP,	/* "mmap": the program's own mmap, by its call stack */
	MH_MAP_STACK,		/* "[stack]" */
	MH_MAP_FILE,		/* a file, by module path or "dev M:m inode N" */
	MH_MAP_SHMEM,		/* "[shmem]" */
	MH_MAP_OTHER,		/* "[hugetlb]", "[no mapping]" */
};

struct mh_map_stats {
	char *name;			/* key */
	enum mh_map_kind kind;
	uint64_t stack_id;		/* MH_MAP_PROGRAM_MMAP: the mmap call's stack */
	uint32_t dev;			/* MH_MAP_FILE: the file's kernel dev_t */
	uint64_t ino;			/* MH_MAP_FILE: its inode */
	uint64_t sample_addr;		/* MH_MAP_FILE: an address that faulted in it */
	uint64_t faults, major_faults, swapins, reclaim_stall_ns;
	uint64_t resident_bytes;	/* in the latest snapshot (snap_id), outside live blocks */
	uint64_t swapped_bytes;
	uint64_t snap_id;
	UT_hash_handle hh;
};

/* One timeline point: a time bucket's largest RSS, or a residency snapshot. */
struct mh_timeline_point {
	uint64_t ts_ns;
	uint64_t rss_anon, rss_file, rss_shmem, swap;	/* bytes; at the bucket's largest RSS */
	uint64_t live_heap_bytes;
	uint64_t faults, major_faults, swapins;		/* kernel events so far (cumulative) */
	uint64_t reclaim_stall_ns;			/* likewise */
	bool snapshot;					/* a residency snapshot ended here */
	bool provisional;				/* rss_*: the process's, memhook's share not known yet */
	uint64_t resident_bytes;			/* snapshot: every range it covered */
	uint64_t heap_resident_bytes;			/* snapshot: ranges holding heap */
	uint64_t retained_free_heap_bytes;		/* snapshot only */
	uint64_t top_id[MH_TIMELINE_TOP_STACKS];	/* snapshot: largest resident stacks */
	uint64_t top_bytes[MH_TIMELINE_TOP_STACKS];
};

struct mh_attr_thread;
struct mh_mapping;
struct mh_snap_part;

/* Entries of struct mh_attr's heap_noted and threads_waiting. */
#define MH_HEAP_NOTED 4
#define MH_WAIT_SLOTS 64

struct mh_attr {
	uint32_t page_size;

	/*
	 * Process RSS, bytes, as last reported: a counter the kernel's
	 * rss_stat reported for this image wins over samples, which seed the
	 * others. own[] is memhook's share of it (MH_REC_OWN_SAMPLE); the
	 * program's RSS is rss - own, counter by counter (mh_attr_program()).
	 */
	uint64_t rss[4];			/* by enum mh_rss_member */
	uint64_t own[4];			/* likewise; SWAPENTS unused */
	unsigned kernel_members;		/* bit m: the kernel reported member m */
	bool rss_from_kernel, rss_from_sampler;
	uint64_t rss_samples;			/* periodic samples (the exit scan's not counted) */
	bool own_known, own_tables_known;	/* an own sample came; it had the preload's tables */
	bool pending_exit;			/* the next RSS sample is the exit scan's */
	bool rss_frozen;			/* the exit scan's figures came: later RSS is not the program's */
	uint64_t rss_peak_bytes, rss_peak_ts_ns; /* program RSS, anon + file + shmem */
	bool rss_peak_from_hwm;			/* the peak is the kernel's high-water mark less own */
	uint64_t hwm_peak_bytes, hwm_ts_ns;	/* max over own samples of VmHWM less own */
	uint64_t own_peak_bytes;		/* memhook's own share at its largest */
	uint64_t own_faults;			/* faults in memhook's ring: its, not the program's */
	uint64_t ring_start, ring_end;		/* the ring's mappings, from the own samples */
	uint64_t exit_rss[4], exit_own[4];	/* at the exit scan, if exit_known */
	uint64_t exit_ts_ns;
	bool exit_known;

	/* What exit scans did to the process (MH_REC_SCAN_COST). */
	uint64_t scans, scan_read_pages, scan_swapped_in_pages, scan_untouched_pages;
	uint64_t scan_rss_raised_bytes;

	/* Residency snapshots. */
	uint64_t snapshots;			/* snapshots seen (0: resident figures unknown) */
	bool snap_open;				/* the current snapshot may get more ranges */
	uint64_t snap_id;			/* the current (latest) snapshot */
	uint64_t snap_ts_ns;			/* its first record's time */
	uint64_t snap_last_start;		/* start of its latest range */
	uint64_t snap_rss[4];			/* RSS counters when it began */
	uint64_t snap_live_bytes;		/* live heap when it began */
	bool snap_rss_known;
	uint64_t snap_resident, snap_heap_resident, snap_covered, snap_swapped;
	uint64_t retained_free_heap_bytes;	/* of the latest complete snapshot */
	uint64_t heap_resident_bytes;		/* likewise, allocator ranges */
	uint64_t resident_bytes;		/* likewise, every range */
	uint64_t exit_snap_ts_ns;		/* ts of the latest complete snapshot */
	uint64_t peak_snap_rss, peak_snap_ts_ns; /* the snapshot taken at the largest RSS */
	uint64_t peak_snap_resident;	/* its resident anonymous bytes, for ties on RSS */
	uint64_t retained_at_rss_peak;
	struct mh_snap_part *parts;		/* ranges of the current part, not applied yet */
	size_t part_count, part_cap;
	uint64_t (*heap_ranges)[2];		/* ranges that held heap in some snapshot */
	size_t heap_range_count, heap_range_cap;

	/* Kernel events. */
	bool kernel;				/* a kernel record about this process came */
	struct mh_addrindex *block_index;	/* live block ranges -> stack, once needed */
	/* Blocks added since block_index was last brought up to date (attribute.c). */
	struct mh_pending_block *index_pending;
	size_t index_pending_count, index_pending_cap;
	size_t index_pending_free;		/* first entry freed since + 1, 0 if none */
	unsigned index_queries;			/* lookups since then */
	uint64_t index_pending_top;		/* no block noted since covers a byte above */
	struct mh_addrindex *map_index;		/* struct mh_mapping by address */
	struct mh_mapping *mappings;		/* every entry of map_index (utlist) */
	struct mh_mapping *last_map;		/* cache for blocks landing in a mapping */
	/* Where a block needs no mh_mapping_note_heap() work: lo, hi, the address that noted it. */
	uint64_t heap_noted[MH_HEAP_NOTED][3];
	unsigned heap_noted_next;		/* the entry to replace next */
	/* The mappings' [start, end) sorted by start, end raised to the largest so far. */
	uint64_t (*map_bounds)[2];
	size_t map_bound_count, map_bound_cap;
	bool map_bounds_stale;			/* a mapping came, grew, shrank or went since */
	struct mh_map_stats *map_stats;		/* uthash by name */
	struct mh_attr_thread *threads;		/* uthash by tid */
	struct mh_attr_thread *last_thread;	/* cache */
	/* Threads holding faults or a stall for their next allocation, by tid % MH_WAIT_SLOTS. */
	unsigned threads_waiting[MH_WAIT_SLOTS];
	struct mh_map_stats *last_map_stats;	/* cache */
	uint64_t faults, major_faults, swapins, reclaim_stall_ns;
	uint64_t faults_in_blocks, faults_during_alloc, reclaim_unattributed_ns;
	uint64_t brk_start, brk_end;		/* the brk heap as the kernel saw it, 0 if never */

	/* Timeline. */
	struct mh_timeline_point points[MH_TIMELINE_POINTS];
	unsigned point_count;
	uint64_t bucket_ns, bucket_end_ns;	/* current bucket width and end */
};

/* The attribution of one replay: its subscriber (replay.h, struct mh_replay_events). */
struct mh_attribution;

/*
 * Attribute what rp replays from now on: subscribes to rp. Free it after
 * rp (mh_replay_free() tells it about every process it frees). NULL with
 * errno set.
 */
struct mh_attribution *mh_attribution_new(struct mh_replay *rp);
void mh_attribution_free(struct mh_attribution *at);

/*
 * The name to show for a mapping entry: for a file, its path from the
 * kernel's file records, else the module covering the address that
 * faulted in it, else ms->name.
 */
const char *mh_attr_map_name(const struct mh_attribution *at, const struct mh_process *p,
			     const struct mh_map_stats *ms);

/* The program's share of RSS counter m: the process's less memhook's own. */
static inline uint64_t mh_attr_program(const struct mh_attr *a, unsigned m)
{
	return a->rss[m] > a->own[m] ? a->rss[m] - a->own[m] : 0;
}

/* The program's RSS (anon + file + shmem, memhook's own pages left out), bytes. */
static inline uint64_t mh_attr_rss(const struct mh_attr *a)
{
	return mh_attr_program(a, MH_RSS_ANON) + mh_attr_program(a, MH_RSS_FILE) +
	       mh_attr_program(a, MH_RSS_SHMEM);
}

/* memhook's own resident bytes in the process, as last sampled. */
static inline uint64_t mh_attr_own(const struct mh_attr *a)
{
	return a->own[MH_RSS_ANON] + a->own[MH_RSS_FILE] + a->own[MH_RSS_SHMEM];
}

#endif /* MEMHOOK_MERGER_ATTRIBUTION_ATTRIBUTE_H */
