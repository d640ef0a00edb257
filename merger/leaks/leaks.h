/* SPDX-License-Identifier: MIT */
/*
 * leaks.h - exit-time leak verdicts (MH_REC_LEAK, from the recorder's
 * reachability scan) joined with the blocks still live at the end of the
 * replay: bytes and blocks per leak kind, per process and per stack.
 *
 * Verdicts arrive without a timestamp, and may be replayed before the
 * records of the image they judge (a pid that exec'd before it exited):
 * they are kept by pid until the scan's "leakscan.status" INFO, which has
 * a timestamp, names the image; then by address until the replay ends,
 * when they are matched to the live blocks. Memory is bounded by the
 * blocks live at exit. Never prints.
 */
#ifndef MEMHOOK_MERGER_LEAKS_LEAKS_H
#define MEMHOOK_MERGER_LEAKS_LEAKS_H

#include <stdint.h>

#include "memhook/events.h"

struct mh_process;
struct mh_replay;
struct mh_verdict;

/* Allocation events were lost after from_ns and by to_ns (two MH_REC_LOST records). */
struct mh_loss_window {
	uint64_t from_ns, to_ns;
};

/* Remember a verdict for rec->pid's scanned image, named later. 0 or -ENOMEM. */
int mh_leaks_note(struct mh_replay *rp, const struct mh_rec_leak *rec);

/* The verdicts kept for p's pid are p's (its scan has ended). 0 or -ENOMEM. */
int mh_leaks_adopt(struct mh_replay *rp, struct mh_process *p);

/* End of trace: verdicts still kept by pid go to the pid's current image. 0 or -ENOMEM. */
int mh_leaks_adopt_rest(struct mh_replay *rp);

/* Drop the verdicts still kept by pid. */
void mh_leaks_free_pending(struct mh_replay *rp);

/*
 * Count an MH_REC_LOST record into rp->lost and, for the allocation
 * stream, remember when the loss happened: between the previous such
 * record (or the start) and this one. 0 or -ENOMEM.
 */
int mh_leaks_note_lost(struct mh_replay *rp, const struct mh_rec_lost *rec);

/*
 * Classify p's live blocks by their verdicts into p->leak_kind_* and each
 * stack's leak_kind_* (index 0: no verdict), then drop the verdicts. When
 * allocation events were lost while p's heap existed (p->events_lost),
 * no verdict holds: a block may be one whose free was lost, and a block
 * whose allocation was lost may hold the only pointer to another. Every
 * block is then of unknown kind (index 0), never "definitely lost".
 */
void mh_leaks_classify(struct mh_replay *rp, struct mh_process *p);

/* Drop p's verdicts (when the process is freed before classification). */
void mh_leaks_free(struct mh_process *p);

#endif /* MEMHOOK_MERGER_LEAKS_LEAKS_H */
