/* SPDX-License-Identifier: MIT */
/*
 * supervise.h - the recorder's main thread while the program runs: wait
 * for it, forward signals to it, sample its memory, and record how each
 * traced process ended.
 */
#ifndef MEMHOOK_RECORDER_SUPERVISE_H
#define MEMHOOK_RECORDER_SUPERVISE_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "recorder/drain.h"
#include "recorder/losses.h"
#include "recorder/procwatch.h"
#include "recorder/sampler.h"

/* Signals the recorder blocks and handles itself (SIGCHLD and the ones it forwards). */
void mh_supervise_sigset(sigset_t *set);

/*
 * Wait until root has exited (and, with follow_forks, every orphaned
 * descendant, which memhook reaps as their subreaper). Meanwhile forward
 * SIGINT/SIGTERM/SIGHUP/SIGQUIT sent to memhook by another process to root
 * (terminal-generated ones already reached root's process group), run
 * sampler (may be NULL) when it is due, let procwatch (may be NULL) catch
 * up before each reap, and append an MH_REC_EXIT for every process reaped:
 * reason MH_EXIT_OOM when SIGKILL came from the OOM killer (r->collector
 * saw it), and the pid leaves r->tracked; note the ring's losses in time
 * (losses.h); and write buffered records out as they pile up, and while a
 * process is stopped for its exit scan, so little is left to compress once
 * the program has ended. The signals of mh_supervise_sigset() must be
 * blocked in every thread. Sets *root_status to root's wait status.
 * Returns 0 or -errno.
 */
int mh_supervise(struct mh_recorder *r, pid_t root, bool follow_forks,
		 struct mh_procwatch *procwatch, struct mh_sampler *sampler,
		 struct mh_losses *losses, int *root_status);

#endif /* MEMHOOK_RECORDER_SUPERVISE_H */
