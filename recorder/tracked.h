/* SPDX-License-Identifier: MIT */
/*
 * tracked.h - the set of processes a recording follows, for the periodic
 * sampler and the exit scans: the launched program plus every process
 * whose PROCESS record went through the ring drainer and that the kernel
 * confirms is ours (mh_tracked_admit). Each entry holds a pidfd, so a pid
 * the kernel has given to an unrelated process after ours exited is never
 * sampled or scanned by mistake.
 *
 * A pid in the ring is a claim by the program, never a fact: the recorder
 * (often root) admits it only if the kernel says the process descends
 * from the launched program and runs as the program's user.
 */
#ifndef MEMHOOK_RECORDER_TRACKED_H
#define MEMHOOK_RECORDER_TRACKED_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct mh_tracked;

/*
 * An empty set for a program running as uid (every admitted process must
 * run as uid too, on all four of its uids, unless uid is 0). NULL with
 * errno set.
 */
struct mh_tracked *mh_tracked_new(uid_t uid);

/* Close every pidfd and free the set. Accepts NULL. */
void mh_tracked_free(struct mh_tracked *t);

/*
 * Add pid (no-op if present). Returns 0, or -errno: -ESRCH when the
 * process is already gone. Thread-safe.
 */
int mh_tracked_add(struct mh_tracked *t, pid_t pid);

/*
 * Add pid as the PROCESS record of a traced process claims it: only if
 * /proc says it descends from a tracked process (or from memhook, which
 * adopts orphans) and it runs as the program's user. 0 (also if already
 * tracked), -EPERM when it is not ours, -ESRCH when it is gone. Thread-safe.
 */
int mh_tracked_admit(struct mh_tracked *t, pid_t pid);

/*
 * Take pid out of the set for its exit scan: returns its pidfd (the
 * caller closes it), or -ESRCH if pid is not tracked or has exited, or
 * -EPERM if it no longer runs as the program's user (it exec'd a setuid
 * program). Thread-safe.
 */
int mh_tracked_take(struct mh_tracked *t, pid_t pid);

/*
 * As mh_tracked_take, but pid stays in the set: a new pidfd of it (the
 * caller closes it), for a request that is not its exit scan yet (the
 * figures at exit). Thread-safe.
 */
int mh_tracked_pidfd(struct mh_tracked *t, pid_t pid);

/*
 * 0 if pid runs as the program's user on all four uids (or the program
 * runs as root), else -EPERM; -ESRCH if it is gone.
 */
int mh_tracked_check_user(const struct mh_tracked *t, pid_t pid);

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
