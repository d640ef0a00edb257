/* SPDX-License-Identifier: MIT */
/*
 * liveset.h - the recorder's live heap blocks per process, kept from the
 * records as the drainer passes them (address -> size), so an exit scan
 * has its process's live blocks at hand without reading the trace back.
 *
 * Rules (the merger's replay applies the same ones): malloc-family
 * ALLOC/FREE/REALLOC records are blocks; mmap, munmap, mremap, brk and
 * sbrk records are the program's own regions (not blocks: roots of its
 * exit scan); a failed realloc(p, n > 0) leaves p alone; an allocation at a
 * live address replaces the block (its free was lost). A process image
 * starts empty (LAUNCHED, EXECED); a FORKED child running its parent's
 * image starts with a copy of the parent's blocks. Records for a pid the
 * recorder never admitted (mh_liveset_admit) change nothing.
 *
 * Used by the drainer thread only: not thread-safe. Never prints.
 */
#ifndef MEMHOOK_RECORDER_LIVESET_H
#define MEMHOOK_RECORDER_LIVESET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "memhook/events.h"
#include "recorder/exitscan/mark.h"
#include "recorder/exitscan/stop.h"

struct mh_liveset;

/* An empty set. NULL with errno set. */
struct mh_liveset *mh_liveset_new(void);

/* Free the set and every process in it. Accepts NULL. */
void mh_liveset_free(struct mh_liveset *ls);

/*
 * A PROCESS record the recorder accepted (its pid is one it tracks): start
 * the image's table as the rules above say. rec->hdr.size was checked to
 * hold the path. 0 or -errno (-ENOMEM).
 */
int mh_liveset_admit(struct mh_liveset *ls, const struct mh_rec_process *rec);

/*
 * Whether prefetching the table slots (mh_liveset_prefetch) pays for its
 * cost: only when the table of the process seen last misses the caches.
 */
bool mh_liveset_prefetch_pays(const struct mh_liveset *ls);

/*
 * Hint that the `count` records at buf + from (of bytes; any type, sizes
 * checked) are about to be applied: the table slots they will look at
 * are fetched into the cache. Returns the offset past them (at most
 * bytes).
 */
size_t mh_liveset_prefetch(struct mh_liveset *ls, const unsigned char *buf, size_t bytes,
			   size_t from, unsigned count);

/* Where a walk of a batch of records stands (mh_liveset_apply_events()). */
struct mh_liveset_walk {
	size_t off;		/* offset of the next record, bytes */
	__u64 first_ts;		/* smallest stamp of the events walked, ns; 0: none yet */
	__u32 events;		/* ALLOC, FREE and REALLOC records walked */
	int err;		/* -ENOMEM once one of them could not be applied */
};

/*
 * Apply the ALLOC, FREE and REALLOC records at buf from w->off on (sizes
 * checked to be at least their types'), up to end or up to the first
 * record of another type, which is left at w->off for the caller. w's
 * other fields take in the events walked; nothing else happens to w.
 */
void mh_liveset_apply_events(struct mh_liveset *ls, const unsigned char *buf, size_t end,
			     struct mh_liveset_walk *w);

/*
 * Hand over pid's live blocks and regions (prog: malloc'd arrays, NULL
 * and 0 when it has none) and forget the process: it is exiting. 0 or
 * -errno (-ENOMEM: the process is forgotten anyway).
 */
int mh_liveset_take(struct mh_liveset *ls, pid_t pid, struct mh_exitscan_program *prog);

/*
 * Allocations applied at an address that was still live (the rule above
 * replaced the block): a lost free, or a free merged after the reuse of
 * its address (include/memhook/ring.h). Accepts NULL (0).
 */
__u64 mh_liveset_repairs(const struct mh_liveset *ls);

/* Forget pid (it ended without an exit scan). */
void mh_liveset_forget(struct mh_liveset *ls, pid_t pid);

#endif /* MEMHOOK_RECORDER_LIVESET_H */
