/* SPDX-License-Identifier: MIT */
/*
 * stackdb.h - call stacks and per-stack aggregates.
 *
 * struct mh_stack_info is one MH_REC_STACK (global across processes: the
 * id is a content hash), with each frame's module resolved against the
 * module map of the process that sent it. struct mh_stack_stats holds what
 * one process did from one stack. Both tables grow with the number of
 * distinct stacks only. Never prints.
 */
#ifndef MEMHOOK_MERGER_REPLAY_STACKDB_H
#define MEMHOOK_MERGER_REPLAY_STACKDB_H

#include <stdbool.h>
#include <stdint.h>

#include <uthash.h>

#include "memhook/events.h"

struct mh_module;
struct mh_modmap;
struct mh_stack_series;

/* First-touch instruction pointers kept per stack (space-saving top-k). */
#define MH_TOUCH_IPS 8

/* A code location that faulted pages of a stack's blocks in, and how often. */
struct mh_touch {
	uint64_t ip;		/* user instruction pointer of the faulting access */
	uint64_t faults;	/* faults counted for it (an upper bound once evicted) */
};

/* Power-of-two size buckets: bucket b counts sizes in [2^(b-1), 2^b), 0 in b = 0. */
#define MH_SIZE_BUCKETS 48

struct mh_stack_info {
	uint64_t id;			/* content hash, never 0 */
	uint32_t pid;			/* process that sent it */
	uint16_t depth;
	uint16_t flags;			/* MH_STACK_TRUNCATED */
	bool resolved;			/* modules[] filled */
	uint64_t *ips;			/* [depth], innermost first, return addresses */
	struct mh_module **modules;	/* [depth], NULL where no module covers the ip */
	UT_hash_handle hh;
};

struct mh_stack_stats {
	uint64_t stack_id;		/* key; 0 for events without a stack */
	struct mh_stack_info *info;	/* NULL if the STACK record never came */
	uint64_t alloc_calls;		/* malloc family calls, realloc included */
	uint64_t bytes_allocated;
	uint64_t frees;			/* blocks from this stack freed (or realloc'd away) */
	uint64_t bytes_freed;
	uint64_t live_bytes;		/* now; at the end: leaked */
	uint64_t live_blocks;
	uint64_t temporary;		/* freed before the thread's next allocation */
	uint64_t peak_snap_bytes;	/* live_bytes at the process's last heap peak */
	uint64_t peak_ver;		/* process peak version when last changed */
	uint64_t size_hist[MH_SIZE_BUCKETS];
	uint64_t leak_kind_bytes[MH_LEAK_REACHABLE + 1]; /* at exit, by mh_leak_kind; 0: no verdict */
	uint64_t leak_kind_blocks[MH_LEAK_REACHABLE + 1];

	/* Residency and kernel events (attribute.h); 0 when the trace has none. */
	uint64_t resident_bytes;	/* in the latest residency snapshot (snap_id) */
	uint64_t swapped_bytes;		/* likewise, bytes of swapped-out pages */
	uint64_t snap_id;		/* snapshot resident/swapped_bytes belong to */
	uint64_t resident_at_rss_peak;	/* in the snapshot taken at the largest RSS */
	uint64_t faults;		/* page faults whose address was in a live block */
	uint64_t major_faults;		/* of which major (I/O) */
	uint64_t faults_during_alloc;	/* faults next to a block while it was being allocated */
	uint64_t swapins;		/* pages swapped in at addresses of live blocks */
	uint64_t reclaim_stall_ns;	/* direct/memcg reclaim charged to the stack */
	struct mh_touch touch[MH_TOUCH_IPS]; /* first-touch ips, by faults (unsorted) */
	struct mh_stack_series *series;	/* over time (replay/series.h), NULL if never live at a point */
	unsigned series_upto;		/* grid points its series holds (mh_series_fill) */
	UT_hash_handle hh;
};

struct mh_stackdb;

/* An empty database. NULL with errno set. */
struct mh_stackdb *mh_stackdb_new(void);
void mh_stackdb_free(struct mh_stackdb *db);

/*
 * Add a MH_REC_STACK record (id, pid, flags, depth ips). A second record
 * with the same id is ignored. 0 or -ENOMEM.
 */
int mh_stackdb_add(struct mh_stackdb *db, uint64_t id, uint32_t pid, uint16_t flags,
		   const uint64_t *ips, uint16_t depth);

/* The stack with this id, or NULL. */
struct mh_stack_info *mh_stackdb_find(struct mh_stackdb *db, uint64_t id);

/*
 * Fill info->modules from the sender's module map as it is now. Frames no
 * module covers are tried again against every module the sender ever had.
 * Idempotent.
 */
void mh_stack_resolve(struct mh_stack_info *info, struct mh_modmap *m, bool any);

/* Per-process tables of struct mh_stack_stats keyed by stack id. */
struct mh_stack_stats *mh_stack_stats_find(struct mh_stack_stats **table, uint64_t id);

/* Find or create; a new entry starts at peak version peak_ver. NULL on ENOMEM. */
struct mh_stack_stats *mh_stack_stats_get(struct mh_stack_stats **table, uint64_t id,
					  uint64_t peak_ver);

void mh_stack_stats_free_all(struct mh_stack_stats **table);

/* The histogram bucket of a size. */
static inline unsigned mh_size_bucket(uint64_t size)
{
	unsigned b = size ? 64 - (unsigned)__builtin_clzll(size) : 0;

	return b < MH_SIZE_BUCKETS ? b : MH_SIZE_BUCKETS - 1;
}

/*
 * The worst leak kind among the stack's blocks live at exit: definite,
 * then indirect, possible, reachable; 0 if it has no classified block.
 */
static inline unsigned mh_stack_leak_kind(const struct mh_stack_stats *st)
{
	unsigned k;

	for (k = MH_LEAK_DEFINITE; k <= MH_LEAK_REACHABLE; k++) {
		if (st->leak_kind_blocks[k])
			return k;
	}
	return 0;
}

#endif /* MEMHOOK_MERGER_REPLAY_STACKDB_H */
