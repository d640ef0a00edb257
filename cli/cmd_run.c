// SPDX-License-Identifier: MIT
/*
 * cmd_run.c - `memhook run [opts] -- PROG [ARGS]`: record PROG into a
 * temporary trace (or --trace FILE), write the report to stderr (or -o),
 * and exit with PROG's status. The temporary trace is always removed.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "merger/report/report.h"
#include "cli/commands.h"
#include "common/exit_codes.h"
#include "cli/report_file.h"
#include "cli/options.h"
#include "recorder/session.h"
#include "cli/temp_trace.h"
#include "cli/live_view.h"

/* Write the report; returns 0 or an exit code. */
static int report(const struct mh_cli_opts *opts, const char *trace)
{
	struct mh_report_opts ropts = opts->report;

	/*
	 * The whole trace is replayed before the first line of the report is
	 * written, and the progress line is erased by then: it can share the
	 * terminal with a report written to stderr.
	 */
	struct mh_output_owner owner;

	ropts.progress = isatty(STDERR_FILENO);
	/* SUDO_UID and SUDO_GID were checked by the recording. */
	(void)mh_output_owner_init(&owner, opts->record.user != NULL);
	return mh_report_to_file(trace, &ropts, &owner, opts->report_out, stderr);
}

int mh_cmd_run(int argc, char **argv)
{
	struct mh_cli_opts opts;
	struct mh_record_watcher live = { mh_live_view_start, mh_live_view_stop, NULL };
	char tmp[PATH_MAX], path[PATH_MAX];
	bool traced;
	int ret, code;

	ret = mh_options_parse(&opts, MH_CMD_RUN, argc, argv);
	if (ret)
		return ret > 0 ? MH_EXIT_OK : MH_EXIT_USAGE;
	if (!opts.keep_trace) {
		ret = mh_temp_trace(tmp, sizeof(tmp));
		if (ret) {
			fprintf(stderr, "memhook: cannot create a temporary trace in '%s': %s\n",
				mh_temp_dir(), strerror(-ret));
			return MH_EXIT_CANT_CREATE;
		}
		opts.record.output = tmp;
		opts.record.output_private = true;
		opts.record.quiet = true;
	} else {
		opts.record.output = opts.keep_trace;
	}
	if (opts.live) {
		live.arg = opts.record.prog_argv[0];
		opts.record.watcher = &live;
	}
	code = mh_record_session(&opts.record, path, sizeof(path), &traced);
	/* The temporary trace is removed even if the reader of stderr has gone. */
	mh_record_survive_closed_pipe();
	if (traced) {
		ret = report(&opts, path);
		/* The program's status wins; a report failure shows only when it succeeded. */
		if (ret && !code)
			code = ret;
	}
	if (!opts.keep_trace)
		unlink(tmp);
	return code;
}
