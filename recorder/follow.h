/* SPDX-License-Identifier: MIT */
/*
 * follow.h - replay a trace while it is being written: the merger's
 * replay of its allocation stream, brought up to date on request with
 * what the writer has flushed since the last time. Used by the exit scans
 * (cli/leakscan.c) and by what watches a recording while the program runs
 * (progress.c, live.c), each with a follower of its own.
 *
 * Reads only the trace file: never slows the ring drainer. Not
 * thread-safe: one follower belongs to one thread. Never prints.
 */
#ifndef MEMHOOK_RECORDER_FOLLOW_H
#define MEMHOOK_RECORDER_FOLLOW_H

#include <stdint.h>

struct mh_follow;
struct mh_replay;

/* A follower of the trace at path (opened at the first catch-up). NULL with errno set. */
struct mh_follow *mh_follow_new(const char *path);

/* Free the follower, its reader and its replay. Accepts NULL. */
void mh_follow_free(struct mh_follow *f);

/*
 * Replay the allocation-stream records flushed since the last call, at
 * most max_records of them (0: all). Returns 0 when caught up, 1 when
 * max_records stopped it first, or -errno (the trace cannot be opened or
 * read, -ENOMEM): the replay is then dropped, and the next call starts
 * again from the start of the trace.
 */
int mh_follow_catch_up(struct mh_follow *f, uint64_t max_records);

/*
 * The replay as far as it went, NULL before the first successful
 * catch-up. Valid until the next mh_follow_catch_up() or mh_follow_free().
 */
struct mh_replay *mh_follow_replay(const struct mh_follow *f);

#endif /* MEMHOOK_RECORDER_FOLLOW_H */
