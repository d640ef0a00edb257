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

#include "../merger/report.h"
#include "commands.h"
#include "exit_codes.h"
#include "options.h"
#include "record.h"
#include "temp_trace.h"

/* Write the report; returns 0 or an exit code. */
static int report(const struct mh_record_opts *opts, const char *trace)
{
	struct mh_report_opts ropts = opts->report;
	FILE *out = stderr;
	int err;

	/*
	 * The whole trace is replayed before the first line of the report is
	 * written, and the progress line is erased by then: it can share the
	 * terminal with a report written to stderr.
	 */
	ropts.progress = isatty(STDERR_FILENO);
	if (opts->report_out) {
		out = fopen(opts->report_out, "we");
		if (!out) {
			fprintf(stderr, "memhook: cannot create report '%s': %s\n", opts->report_out,
				strerror(errno));
			return MH_EXIT_CANT_CREATE;
		}
	}
	err = mh_report_generate(trace, &ropts, out);
	if (out != stderr && fclose(out) && !err)
		err = -errno;
	if (err) {
		fprintf(stderr, "memhook: %s\n",
			mh_report_error() && *mh_report_error() ? mh_report_error() : strerror(-err));
		return err == -EBADMSG || err == -EPROTO ? MH_EXIT_BAD_TRACE :
		       err == -EIO || err == -ENOSPC ? MH_EXIT_IO : MH_EXIT_INTERNAL;
	}
	return 0;
}

int mh_cmd_run(int argc, char **argv)
{
	struct mh_record_opts opts;
	char tmp[PATH_MAX], path[PATH_MAX];
	bool traced;
	int ret, code;

	ret = mh_options_parse(&opts, argc, argv, true);
	if (ret)
		return ret > 0 ? MH_EXIT_OK : MH_EXIT_USAGE;
	if (!opts.keep_trace) {
		ret = mh_temp_trace(tmp, sizeof(tmp));
		if (ret) {
			fprintf(stderr, "memhook: cannot create a temporary trace in '%s': %s\n",
				mh_temp_dir(), strerror(-ret));
			return MH_EXIT_CANT_CREATE;
		}
		opts.output = tmp;
		opts.quiet = true;
	} else {
		opts.output = opts.keep_trace;
	}
	code = mh_record_session(&opts, path, sizeof(path), &traced);
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
