/* SPDX-License-Identifier: MIT */
/*
 * options.h - the command line of every memhook subcommand, parsed by one
 * getopt_long() table: the recorder's options (recorder/session.h) for
 * record, run and check, the report's options for run and report, check's
 * leak-gate options, collect's pid. An option means the same in every
 * subcommand that takes it, in either spelling (--opt=v, --opt v) and in
 * any order, and a subcommand's defaults never override an option given.
 */
#ifndef MEMHOOK_CLI_OPTIONS_H
#define MEMHOOK_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include <linux/types.h>

#include "merger/report/report.h"
#include "recorder/session.h"

/* The subcommands, as bits: each option names those that take it. */
enum mh_command {
	MH_CMD_RECORD = 1 << 0,
	MH_CMD_RUN = 1 << 1,
	MH_CMD_CHECK = 1 << 2,
	MH_CMD_REPORT = 1 << 3,
	MH_CMD_COLLECT = 1 << 4,
};

/* --suppressions may be given this many times. */
#define MH_MAX_SUPPRESSION_FILES 32

/* Leak kinds --fail-on accepts beyond enum mh_leak_kind: 0 is "unknown" (no verdict). */
#define MH_LEAK_UNKNOWN 0

/* memhook check's own options. */
struct mh_check_opts {
	unsigned fail_kinds;		/* MH_LEAK_MASK of the kinds that fail (--fail-on) */
	int error_exitcode;		/* --error-exitcode */
	__u64 min_bytes;		/* --min-bytes */
	const char *junit;		/* --junit FILE */
	const char *json;		/* --json FILE */
	const char *suppressions[MH_MAX_SUPPRESSION_FILES];	/* --suppressions FILE... */
	size_t suppression_count;
};

/* A command line of any subcommand. */
struct mh_cli_opts {
	enum mh_command command;
	struct mh_record_opts record;	/* record, run, check */
	const char *report_out;		/* run, report -o: report path; NULL = stderr/stdout */
	const char *keep_trace;		/* run, check --trace FILE: keep the trace there */
	struct mh_report_opts report;	/* run, report: format, sort, top, value */
	struct mh_check_opts check;	/* check */
	bool live;			/* run --live: the full-screen view while the program runs */
	const char *trace;		/* report: the trace to read */
	pid_t pid;			/* collect -p */
	bool follow_forks;		/* collect --follow-forks */
	bool quiet;			/* collect -q */
};

/*
 * Parse argv (argv[0] is the subcommand's name) for command. Returns 0, 1
 * when --help was printed, or -EINVAL after printing one line naming the
 * bad argument to stderr. Can be called again for another command line.
 */
int mh_options_parse(struct mh_cli_opts *opts, enum mh_command command, int argc, char **argv);

/* The option summary of command for --help, to out. */
void mh_options_usage(FILE *out, enum mh_command command);

#endif /* MEMHOOK_CLI_OPTIONS_H */
