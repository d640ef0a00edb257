/* SPDX-License-Identifier: MIT */
/*
 * options.h - the command-line options of `memhook record` and
 * `memhook run`: the recorder's options (recorder/session.h) and run's
 * report options.
 */
#ifndef MEMHOOK_CLI_OPTIONS_H
#define MEMHOOK_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <linux/types.h>

#include "merger/report/report.h"
#include "recorder/session.h"

/* A command line of record, run or check: the recording and the report. */
struct mh_cli_opts {
	struct mh_record_opts record;
	const char *report_out;		/* run -o: report path; NULL = stderr */
	const char *keep_trace;		/* run --trace FILE: keep the trace there */
	struct mh_report_opts report;	/* run: the report's format, sort, top */
	bool live;			/* run --live: the full-screen view while the program runs */
};

/*
 * Parse argv (argv[0] is the subcommand). run selects `memhook run`'s
 * extra report options. Returns 0, 1 when --help was printed, or -EINVAL
 * after printing one line naming the bad argument to stderr.
 */
int mh_options_parse(struct mh_cli_opts *opts, int argc, char **argv, bool run);

/* The option summary for --help, to out. */
void mh_options_usage(FILE *out, bool run);

#endif /* MEMHOOK_CLI_OPTIONS_H */
