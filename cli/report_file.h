/* SPDX-License-Identifier: MIT */
/*
 * report_file.h - write a trace's report to a named file or a stream, with
 * the memhook command's one-line errors and exit codes. Shared by `report`,
 * `run` and `check`, as is the creation of every other output file
 * (JUnit, JSON) for its user (common/output_file.h).
 */
#ifndef MEMHOOK_CLI_REPORT_FILE_H
#define MEMHOOK_CLI_REPORT_FILE_H

#include <limits.h>
#include <stdio.h>

#include "common/output_file.h"
#include "merger/report/report.h"

/*
 * Create the output file path for owner as a stream. what names it in
 * the one line printed on failure ("report", "JUnit report"). NULL then.
 */
FILE *mh_report_file_create(const struct mh_output_owner *owner, const char *path, const char *what);

/*
 * Close a stream from mh_report_file_create(). Returns 0, or MH_EXIT_IO after
 * printing one line naming path and the cause (ENOSPC...) when a write
 * failed.
 */
int mh_report_file_close(FILE *f, const char *path, const char *what);

/*
 * Write the report of trace to path (created or truncated for owner) or,
 * when path is NULL, to out. Problems are printed, one line each, naming
 * the file that failed: the trace when it cannot be read, the report when
 * it cannot be written. Returns 0 or an exit code (exit_codes.h):
 * MH_EXIT_NO_INPUT, MH_EXIT_BAD_TRACE, MH_EXIT_CANT_CREATE, MH_EXIT_IO or
 * MH_EXIT_INTERNAL.
 */
int mh_report_to_file(const char *trace, const struct mh_report_opts *opts,
		      const struct mh_output_owner *owner, const char *path, FILE *out);

/*
 * The report options `memhook report` and `memhook run` share, parsed
 * alike so that both give the same report of the same trace.
 */

/* Stacks of the text report when --top is not given. */
#define MH_REPORT_TEXT_TOP 20
/* --top was not given: mh_report_opts_finish() picks the format's default. */
#define MH_REPORT_TOP_UNSET UINT_MAX

/* The options before the command line: text, --sort leaked, --value allocated. */
void mh_report_opts_defaults(struct mh_report_opts *opts);

/*
 * Apply --NAME ARG, NAME one of "format", "sort", "value", "top". 0, or
 * -EINVAL after printing one line naming the option and the value.
 */
int mh_report_opt(struct mh_report_opts *opts, const char *name, const char *arg);

/* After the command line: the defaults that depend on the format (--top). */
void mh_report_opts_finish(struct mh_report_opts *opts);

/* The --help lines of those options, every format and sort key listed. */
void mh_report_opts_usage(FILE *out);

#endif /* MEMHOOK_CLI_REPORT_FILE_H */
