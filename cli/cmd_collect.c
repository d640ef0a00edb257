// SPDX-License-Identifier: MIT
/*
 * cmd_collect.c - `memhook collect -p PID [-o FILE] [--follow-forks] [-q]`:
 * parse the command line and run the collect session (recorder/collect.h):
 * the kernel stream alone, of a process memhook did not start.
 *
 * Exit codes: 0 done; 64 bad arguments or no such process; 69 the kernel
 * stream cannot start (no privilege over the process, no CAP_BPF/CAP_PERFMON,
 * no probe); 73 the trace cannot be created; 74 writing it failed.
 * Prints "memhook: collecting ..." once attached (not with -q) and one line
 * per failure, never debug output.
 */
#include "cli/commands.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/exit_codes.h"
#include "recorder/collect.h"

static void usage(FILE *out)
{
	fputs("usage: memhook collect -p PID [-o FILE] [--follow-forks] [-q]\n"
	      "Record the kernel memory events of a running process into FILE.\n"
	      "  -p, --pid PID          the process to watch\n"
	      "  -o, --output FILE      the trace (default: memhook-PID.mht)\n"
	      "  --follow-forks         also watch the children it starts\n"
	      "  -q, --quiet            do not print the trace's path at the end\n"
	      "  -h, --help             print this help\n", out);
}

/* Parse argv; returns 0, or an exit code after printing why. */
static int parse_args(int argc, char **argv, struct mh_collect_opts *o)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "follow-forks", no_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long v;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+p:o:fqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || v <= 0 || v > INT_MAX) {
				fprintf(stderr, "memhook: invalid pid '%s'\n", optarg);
				return MH_EXIT_USAGE;
			}
			o->pid = v;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'f':
			o->follow_forks = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			usage(stderr);
			return MH_EXIT_USAGE;
		}
	}
	if (!o->pid || optind != argc) {
		usage(stderr);
		return MH_EXIT_USAGE;
	}
	return 0;
}

int mh_cmd_collect(int argc, char **argv)
{
	struct mh_collect_opts o = { 0 };
	int ret = parse_args(argc, argv, &o);

	if (ret)
		return ret < 0 ? MH_EXIT_OK : ret;
	return mh_collect_session(&o);
}
