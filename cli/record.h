/* SPDX-License-Identifier: MIT */
/*
 * record.h - one recording session: ring, launch, kernel stream, trace,
 * supervision, and the final records. Shared by `memhook record` and
 * `memhook run`.
 */
#ifndef MEMHOOK_CLI_RECORD_H
#define MEMHOOK_CLI_RECORD_H

#include <stddef.h>

#include "options.h"

struct mh_recorder;

/*
 * What watches a recording while the program runs, in place of the
 * progress line (recorder/progress.h): `memhook run --live`.
 */
struct mh_record_watcher {
	/* Called once the program runs; returns the state stop() gets (may be NULL). */
	void *(*start)(struct mh_recorder *r, void *arg);
	/* Called once the program has ended, before memhook prints anything else. */
	void (*stop)(void *state);
	void *arg;
};

/*
 * Record opts->prog_argv into opts->output (or, when that is NULL, into
 * memhook.PROG.PID.mht in the current directory). The path used is copied
 * to path. Problems are printed, one line each. Returns the exit code for
 * memhook (exit_codes.h): the program's status, or 128 + N when signal N
 * killed it, or an MH_EXIT_* code when memhook failed. *traced is set to
 * true when the program ran and a trace was written.
 */
int mh_record_session(const struct mh_record_opts *opts, char *path, size_t len, bool *traced);

/*
 * Block SIGPIPE in memhook from now on, so a reader that closes the pipe
 * memhook reports into (memhook run ... 2>&1 | head) makes writes fail
 * with EPIPE instead of killing memhook before it has removed its
 * temporary trace. Call after mh_record_session(): the program must start
 * with memhook's original signal mask.
 */
void mh_record_survive_closed_pipe(void);

#endif /* MEMHOOK_CLI_RECORD_H */
