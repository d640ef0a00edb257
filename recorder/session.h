/* SPDX-License-Identifier: MIT */
/*
 * session.h - one recording session: ring, launch, kernel stream, trace,
 * supervision, and the final records. Shared by `memhook record` and
 * `memhook run`.
 */
#ifndef MEMHOOK_RECORDER_SESSION_H
#define MEMHOOK_RECORDER_SESSION_H

#include <stddef.h>

#include <stdbool.h>

#include <linux/types.h>

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

enum mh_kernel_mode {
	MH_KERNEL_AUTO = 0,	/* use the kernel stream if it can start, say so if not */
	MH_KERNEL_ON,		/* fail when it cannot start */
	MH_KERNEL_OFF,
};

struct mh_record_opts {
	const char *output;		/* -o: trace path; NULL = default name */
	bool output_private;		/* output is a private file memhook made (a temporary trace) */
	__u64 ring_bytes;		/* --ring-size, a power of two */
	bool lossy;			/* --lossy */
	unsigned depth;			/* --depth, frames */
	bool follow_forks;		/* --follow-forks */
	bool follow_exec;		/* cleared by --no-follow-exec */
	const char *unwind;		/* --unwind=libunwind|fp */
	bool freeres;			/* cleared by --no-freeres */
	enum mh_kernel_mode kernel;	/* --kernel=auto|on|off */
	unsigned sample_ms;		/* --sample-interval, ms; 0 = no sampling */
	unsigned pagemap_ms;		/* --pagemap-interval, ms; 0 = no periodic snapshots */
	bool quiet;			/* -q: no "trace written" line */
	const char *user;		/* --user NAME|UID: run the program as this user (root only) */
	bool as_root;			/* --as-root: under sudo, keep the program root */
	bool progress;			/* cleared by --no-progress: no status line on a terminal */
	unsigned time_unit_ns;		/* --time-resolution: stamps floored to this, ns (1: exact) */
	/* Watches the program instead of the progress line; NULL: none. */
	const struct mh_record_watcher *watcher;
	/*
	 * memhook exits once the trace is closed (record, not check or run,
	 * which report first): the kernel probes are then detached after it
	 * has exited, not before (kernel/collector.h, exit_after_free).
	 */
	bool exit_after;
	char **prog_argv;		/* PROG [ARGS], NULL-terminated */
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

#endif /* MEMHOOK_RECORDER_SESSION_H */
