// SPDX-License-Identifier: MIT
/*
 * cmd_collect.c - `memhook collect -p PID [-o FILE] [--follow-forks] [-q]`:
 * parse the command line (options.h) and run the collect session
 * (recorder/collect.h): the kernel stream alone, of a process memhook did
 * not start.
 *
 * Exit codes: 0 done; 64 bad arguments or no such process; 69 the kernel
 * stream cannot start (no privilege over the process, no CAP_BPF/CAP_PERFMON,
 * no probe); 73 the trace cannot be created; 74 writing it failed.
 * Prints "memhook: collecting ..." once attached (not with -q) and one line
 * per failure, never debug output.
 */
#include "cli/commands.h"

#include "cli/options.h"
#include "common/exit_codes.h"
#include "recorder/collect.h"

int mh_cmd_collect(int argc, char **argv)
{
	struct mh_collect_opts o = { 0 };
	struct mh_cli_opts cli;
	int ret = mh_options_parse(&cli, MH_CMD_COLLECT, argc, argv);

	if (ret)
		return ret > 0 ? MH_EXIT_OK : MH_EXIT_USAGE;
	o.pid = cli.pid;
	o.output = cli.record.output;
	o.follow_forks = cli.follow_forks;
	o.quiet = cli.quiet;
	return mh_collect_session(&o);
}
