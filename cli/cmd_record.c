// SPDX-License-Identifier: MIT
/*
 * cmd_record.c - `memhook record [opts] [-o FILE] -- PROG [ARGS]`: record
 * PROG into a trace file and exit with PROG's status.
 */
#include <limits.h>
#include <stdbool.h>

#include "cli/commands.h"
#include "common/exit_codes.h"
#include "cli/options.h"
#include "recorder/session.h"

int mh_cmd_record(int argc, char **argv)
{
	struct mh_cli_opts opts;
	char path[PATH_MAX];
	bool traced;
	int ret;

	ret = mh_options_parse(&opts, MH_CMD_RECORD, argc, argv);
	if (ret)
		return ret > 0 ? MH_EXIT_OK : MH_EXIT_USAGE;
	opts.record.exit_after = true;	/* nothing follows the trace */
	return mh_record_session(&opts.record, path, sizeof(path), &traced);
}
