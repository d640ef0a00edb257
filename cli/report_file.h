/* SPDX-License-Identifier: MIT */
/*
 * report_file.h - write a trace's report to a named file or a stream, with
 * the memhook command's one-line errors and exit codes. Shared by `report`,
 * `run` and `check`.
 */
#ifndef MEMHOOK_CLI_REPORT_FILE_H
#define MEMHOOK_CLI_REPORT_FILE_H

#include <stdio.h>

#include "merger/report/report.h"

/*
 * Write the report of trace to path (created or truncated) or, when path
 * is NULL, to out. Problems are printed, one line each, naming the file.
 * Returns 0 or an exit code (exit_codes.h): MH_EXIT_NO_INPUT,
 * MH_EXIT_BAD_TRACE, MH_EXIT_CANT_CREATE, MH_EXIT_IO or MH_EXIT_INTERNAL.
 */
int mh_report_to_file(const char *trace, const struct mh_report_opts *opts, const char *path,
		      FILE *out);

#endif /* MEMHOOK_CLI_REPORT_FILE_H */
