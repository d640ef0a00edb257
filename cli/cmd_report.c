// SPDX-License-Identifier: MIT
/*
 * cmd_report.c - `memhook report [--format text|json|folded] [--sort KEY]
 * [--top N] [--value KEY] [-o OUT] TRACE`: the report of a recorded trace.
 *
 * Thin glue over merger/report/report.h: parses options (options.h), opens
 * the output, maps failures to exit codes (exit_codes.h). Must never print
 * more than one line per failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/report_file.h"
#include "common/exit_codes.h"

int mh_cmd_report(int argc, char **argv)
{
	struct mh_output_owner owner;
	struct mh_cli_opts opts;
	int err;

	err = mh_options_parse(&opts, MH_CMD_REPORT, argc, argv);
	if (err)
		return err > 0 ? MH_EXIT_OK : MH_EXIT_USAGE;
	if (mh_output_owner_init(&owner, false)) {
		fprintf(stderr, "memhook: SUDO_UID='%s' or SUDO_GID='%s' is not a number\n",
			getenv("SUDO_UID"), getenv("SUDO_GID") ? getenv("SUDO_GID") : "");
		return MH_EXIT_USAGE;
	}
	opts.report.progress = isatty(STDERR_FILENO);
	return mh_report_to_file(opts.trace, &opts.report, &owner, opts.report_out, stdout);
}
