/* SPDX-License-Identifier: MIT */
/*
 * progress.h - the status line of a recording on a terminal: elapsed
 * time, events per second, live heap, program RSS, trace size and events
 * lost, refreshed four times a second on the bottom row of the terminal
 * on stderr, and erased when the program ends.
 *
 * The line lives in a row of its own: the rows above are made the
 * terminal's scroll region, so the program's output (which shares the
 * terminal) scrolls above it and is never overwritten or mixed with it.
 * Nothing is drawn when stderr is not a terminal, or TERM is unset or
 * "dumb".
 */
#ifndef MEMHOOK_RECORDER_PROGRESS_H
#define MEMHOOK_RECORDER_PROGRESS_H

struct mh_recorder;
struct mh_progress;

/*
 * Show the status line of r's recording from now on, on its own thread.
 * NULL (and nothing shown) when stderr is not a terminal or the thread
 * cannot start.
 */
struct mh_progress *mh_progress_start(struct mh_recorder *r);

/*
 * Erase the line, give the terminal its whole height back and stop the
 * thread. Accepts NULL.
 */
void mh_progress_stop(struct mh_progress *p);

#endif /* MEMHOOK_RECORDER_PROGRESS_H */
