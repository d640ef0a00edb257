/* SPDX-License-Identifier: MIT */
/*
 * files.h - name the files behind file-backed faults: map a fault's
 * (dev, ino) to the path /proc/PID/maps shows for it (or its handle opens),
 * once per file, so
 * the collector can emit one MH_REC_KFILE before the first fault that
 * names it. Internal to kernel/; never prints; not thread-safe (used by
 * the polling thread only).
 */
#ifndef MEMHOOK_KERNEL_FILES_H
#define MEMHOOK_KERNEL_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "memhook/kernel_events.h"

struct mh_kfiles;

/*
 * Other processes that may map a file the faulting one no longer shows:
 * called with each candidate pid in turn until it returns non-zero.
 */
typedef void (*mh_kfiles_pids_fn)(void *ctx, int (*try_pid)(void *arg, pid_t pid), void *arg);

/*
 * Told once per filesystem (kernel dev_t) on which a file was named by its
 * handle: its files can be named whenever the resolver gets to them.
 */
typedef void (*mh_kfiles_dev_fn)(void *ctx, __u32 dev);

/*
 * A resolver; others(ctx, ...) lists the fallback pids, by_handle(ctx, dev)
 * (either may be NULL) hears of filesystems that name files by handle.
 * NULL with errno set.
 */
struct mh_kfiles *mh_kfiles_new(mh_kfiles_pids_fn others, mh_kfiles_dev_fn by_handle, void *ctx);

/* Free it. Accepts NULL. */
void mh_kfiles_free(struct mh_kfiles *f);

/*
 * Start a new round (one collector poll): a file that could not be named
 * is tried again, once per round, when another fault names it.
 */
void mh_kfiles_next_round(struct mh_kfiles *f);

/*
 * For a delivered fault: when it names a file (vma_class FILE or SHMEM,
 * ino != 0) not yet announced, look the path up and, if found, point *rec
 * at an MH_REC_KFILE (valid until the next call) and return 1. Returns 0
 * when there is nothing to emit (not a file, already announced, or not
 * resolvable now), -ENOMEM when out of memory.
 */
int mh_kfiles_note(struct mh_kfiles *f, const struct mh_rec_kfault *fault,
		   const struct mh_rec_kfile **rec);

/* True if the file fault names has had its MH_REC_KFILE (which holds its generation). */
bool mh_kfiles_named(struct mh_kfiles *f, const struct mh_rec_kfault *fault);

/* Distinct files faults named that could not be resolved (so far). */
size_t mh_kfiles_unresolved(const struct mh_kfiles *f);

#endif /* MEMHOOK_KERNEL_FILES_H */
