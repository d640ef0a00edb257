/* SPDX-License-Identifier: MIT */
/*
 * live.h - what a recording looks like right now, for the progress line
 * (progress.h) and `memhook run --live` (cli/live_view.h): the live heap
 * of each call stack, from a follower's replay of what the recorder has
 * flushed (follow.h), its growth since the previous update, and the
 * traced processes' RSS, swap and page-fault rates from /proc.
 *
 * Runs on the watcher's own thread: never on the ring drainer, never
 * holding anything the drainer or the program waits for. Not
 * thread-safe: one struct mh_live belongs to one thread. Never prints.
 */
#ifndef MEMHOOK_RECORDER_LIVE_H
#define MEMHOOK_RECORDER_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mh_recorder;
struct mh_stack_info;

/* The orders mh_live_sort() knows. */
enum mh_live_key {
	MH_LIVE_BYTES = 0,	/* live bytes now */
	MH_LIVE_GROWTH,		/* live bytes gained since the previous update */
	MH_LIVE_BLOCKS,		/* live blocks now */
	MH_LIVE_ALLOCATED,	/* bytes allocated since the start */
	MH_LIVE_KEYS,
};

/* One call stack of the followed processes, summed over them. */
struct mh_live_stack {
	uint64_t stack_id;
	const struct mh_stack_info *info; /* NULL until its record came; valid until the next update */
	uint64_t live_bytes;
	uint64_t live_blocks;
	uint64_t bytes_allocated;
	int64_t growth;			/* live_bytes minus its value at the previous update */
	uint64_t prev_live_bytes;	/* live_bytes at the previous update */
};

struct mh_live_totals {
	uint64_t heap_bytes;		/* live heap of the followed processes */
	uint64_t heap_blocks;
	uint64_t rss_bytes;		/* RssAnon + RssFile of the tracked processes (not memhook's ring) */
	uint64_t swap_bytes;		/* VmSwap of the tracked processes */
	double minflt_per_s;		/* minor page faults per second since the previous update */
	double majflt_per_s;		/* major page faults per second */
	unsigned processes;		/* tracked processes alive */
	bool behind;			/* the replay has not caught up with the trace yet */
};

struct mh_live;

/* Follow the recording of r (its trace, its tracked processes). NULL with errno set. */
struct mh_live *mh_live_new(struct mh_recorder *r);

/* Accepts NULL. */
void mh_live_free(struct mh_live *l);

/*
 * Flush the trace, replay what was added (at most a budget of records per
 * call: see ->behind), read /proc, and, with stacks, sum the live heap per
 * call stack. Returns 0 or -errno (the totals from /proc are still set).
 */
int mh_live_update(struct mh_live *l, bool stacks);

/* The figures of the last update. */
const struct mh_live_totals *mh_live_totals(const struct mh_live *l);

/*
 * The stacks of the last update with live bytes or growth, sorted by key
 * (largest first; ties: more live bytes, then lower id). Returns how many;
 * *out points at them, valid until the next update.
 */
size_t mh_live_sort(struct mh_live *l, enum mh_live_key key, struct mh_live_stack *const **out);

#endif /* MEMHOOK_RECORDER_LIVE_H */
