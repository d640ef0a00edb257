/* SPDX-License-Identifier: MIT */
/*
 * options.h - the command-line options of `memhook record` and
 * `memhook run`, parsed into one struct shared by the launcher and the
 * recorder.
 */
#ifndef MEMHOOK_CLI_OPTIONS_H
#define MEMHOOK_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <linux/types.h>

#include "../merger/report.h"

struct mh_record_watcher;

enum mh_kernel_mode {
	MH_KERNEL_AUTO = 0,	/* use the kernel stream if it can start, say so if not */
	MH_KERNEL_ON,		/* fail when it cannot start */
	MH_KERNEL_OFF,
};

struct mh_record_opts {
	const char *output;		/* -o: trace path; NULL = default name */
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
	/* Watches the program instead of the progress line (record.h); NULL: none. */
	const struct mh_record_watcher *watcher;
	char **prog_argv;		/* PROG [ARGS], NULL-terminated */

	/* memhook run only */
	const char *report_out;		/* -o: report path; NULL = stderr */
	const char *keep_trace;		/* --trace FILE: keep the trace there */
	bool live;			/* --live: the full-screen view while the program runs */
	struct mh_report_opts report;
};

/*
 * Parse argv (argv[0] is the subcommand). run selects `memhook run`'s
 * extra report options. Returns 0, 1 when --help was printed, or -EINVAL
 * after printing one line naming the bad argument to stderr.
 */
int mh_options_parse(struct mh_record_opts *opts, int argc, char **argv, bool run);

/* The option summary for --help, to out. */
void mh_options_usage(FILE *out, bool run);

/* The options as one line ("--depth 64 --kernel=auto ..."), for the trace's INFO record. */
void mh_options_format(const struct mh_record_opts *opts, char *buf, size_t len);

#endif /* MEMHOOK_CLI_OPTIONS_H */
