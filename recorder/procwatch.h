/* SPDX-License-Identifier: MIT */
/*
 * procwatch.h - what the kernel says about the recorded processes, from
 * the proc connector (netlink, root only): every fork, exec and exit of
 * the launched program's descendants, whether or not the preload could
 * tell. It fills two gaps the preload cannot:
 *
 *   - an image exec'd without the preload attaching (the program closed
 *     memhook's ring fd before exec and, as another user, cannot reopen
 *     the recorder's; or LD_PRELOAD was dropped) is announced by an INFO
 *     "exec" (its path) and, when memhook can tell why, "exec.why", both
 *     stamped with the exec's time: the report names that image as not
 *     traced, with the reason, instead of calling its predecessor still
 *     running;
 *   - a child that dies without running its exit path (SIGKILL) and is
 *     reaped by its own parent gets an MH_REC_EXIT with its wait status.
 *
 * Thread-safe towards the recorder (it appends with mh_recorder_append).
 * Never writes to a traced process and never blocks it.
 */
#ifndef MEMHOOK_RECORDER_PROCWATCH_H
#define MEMHOOK_RECORDER_PROCWATCH_H

#include <stddef.h>
#include <sys/types.h>

#include "recorder/drain.h"

struct mh_procwatch;

/*
 * Start watching root and its descendants on a thread of its own, root
 * being a child parked before exec. preload names memhook's preload (its
 * path, for telling an exec without it). Returns NULL when the proc
 * connector is not available (not root, no CONFIG_PROC_EVENTS), with the
 * reason in why.
 */
struct mh_procwatch *mh_procwatch_start(struct mh_recorder *r, pid_t root, const char *preload,
					char *why, size_t why_len);

/*
 * Handle, on the calling thread, every event queued so far: called before
 * a process is reaped, so that an exec it made is looked at while its
 * /proc entry is still there. Accepts NULL.
 */
void mh_procwatch_catch_up(struct mh_procwatch *w);

/*
 * Take the events still queued (the processes have ended), stop the
 * thread and free w. Accepts NULL.
 */
void mh_procwatch_stop(struct mh_procwatch *w);

#endif /* MEMHOOK_RECORDER_PROCWATCH_H */
