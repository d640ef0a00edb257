/* SPDX-License-Identifier: MIT */
/*
 * live_view.h - `memhook run --live`: a full-screen ncurses view of the
 * recording while the program runs: the top call stacks by live heap
 * (symbolized), their growth since the previous refresh, the processes'
 * live heap, RSS, swap and page-fault rates (recorder/live.h gives the
 * figures). Keys: l, g, b, a sort by live bytes, growth, live blocks,
 * bytes allocated; q stops watching while the program goes on.
 *
 * Draws on the terminal on stderr and reads keys from /dev/tty, on a
 * thread of its own that alone calls ncurses. The terminal's modes are
 * restored when watching stops.
 */
#ifndef MEMHOOK_CLI_LIVE_VIEW_H
#define MEMHOOK_CLI_LIVE_VIEW_H

struct mh_recorder;
struct mh_live_view;

/*
 * Start watching r's recording of the program named prog (a
 * struct mh_record_watcher's start). NULL after one line on stderr when
 * stderr is not a terminal ncurses can drive: the recording goes on.
 */
void *mh_live_view_start(struct mh_recorder *r, void *prog);

/* Stop watching, restore the terminal, free (a watcher's stop). Accepts NULL. */
void mh_live_view_stop(void *view);

#endif /* MEMHOOK_CLI_LIVE_VIEW_H */
