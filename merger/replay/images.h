/* SPDX-License-Identifier: MIT */
/*
 * images.h - what replay.c and info.c share about process images.
 * Internal to merger/replay/; others use replay.h.
 */
#ifndef MEMHOOK_MERGER_REPLAY_IMAGES_H
#define MEMHOOK_MERGER_REPLAY_IMAGES_H

#include <stdint.h>

#include "merger/replay/replay.h"

/* A pid in a set (rp->untraced). */
struct mh_pid_entry {
	uint32_t pid;
	UT_hash_handle hh;
};

/* A new image of pid, the pid's current one from now on. NULL on ENOMEM. */
struct mh_process *mh_replay_new_image(struct mh_replay *rp, uint32_t pid);

/*
 * An exec ended image p: its address space went, and every block live in
 * it with it (nobody's leaks, never the new image's).
 */
void mh_replay_end_by_exec(struct mh_replay *rp, struct mh_process *p);

/* Apply an INFO record (its sizes checked here). 0, -EBADMSG or -ENOMEM. */
int mh_replay_on_info(struct mh_replay *rp, const struct mh_rec_info *i);
/* Free the trace-wide INFO values kept by mh_replay_on_info(). */
void mh_replay_infos_free(struct mh_replay *rp);

#endif /* MEMHOOK_MERGER_REPLAY_IMAGES_H */
