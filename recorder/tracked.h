/* SPDX-License-Identifier: MIT */
/*
 * tracked.h - the set of processes a recording follows, for the periodic
 * sampler: the launched program plus every process whose PROCESS record
 * went through the ring drainer. Each entry holds a pidfd, so a pid the
 * kernel has given to an unrelated process after ours exited is never
 * sampled by mistake.
 */
#ifndef MEMHOOK_RECORDER_TRACKED_H
#define MEMHOOK_RECORDER_TRACKED_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct mh_tracked;

/* An empty set. NULL with errno set. */
struct mh_tracked *mh_tracked_new(void);

/* Close every pidfd and free the set. Accepts NULL. */
void mh_tracked_free(struct mh_tracked *t);

/*
 * Add pid (no-op if present). Returns 0, or -errno: -ESRCH when the
 * process is already gone. Thread-safe.
 */
int mh_tracked_add(struct mh_tracked *t, pid_t pid);

/* Forget pid (no-op if absent). Thread-safe. */
void mh_tracked_remove(struct mh_tracked *t, pid_t pid);

/*
 * Copy up to max tracked pids, ascending, to out; returns how many are
 * tracked (may exceed max). Processes that have exited are dropped first.
 * Thread-safe.
 */
size_t mh_tracked_list(struct mh_tracked *t, pid_t *out, size_t max);

/*
 * How many times pid was added since it was first: a new value means a
 * new image (an exec: its PROCESS record was added again). Thread-safe.
 */
unsigned mh_tracked_images(struct mh_tracked *t, pid_t pid);

/*
 * True while pid is tracked and has not exited. Called after reading
 * /proc/PID/..., it proves the data came from the tracked process and not
 * from a later one that reused the pid. Thread-safe.
 */
bool mh_tracked_alive(struct mh_tracked *t, pid_t pid);

#endif /* MEMHOOK_RECORDER_TRACKED_H */
