// SPDX-License-Identifier: MIT
/*
 * cmd_report.c - `memhook report [--format F] [--sort KEY] [--top N]
 * [--value KEY] [-o OUT] TRACE`: the report of a recorded trace.
 *
 * Thin glue over merger/report/report.h: parses options, opens the output, maps
 * failures to exit codes (exit_codes.h). Must never print more than one
 * line per failure.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "common/exit_codes.h"
#include "cli/report_file.h"
#include "merger/report/report.h"

static void usage(FILE *out)
{
	fputs("usage: memhook report [--format F] [--sort KEY] [--top N] [--value KEY] [-o OUT] TRACE\n"
	      "Write the report of TRACE to standard output (or -o OUT).\n", out);
	mh_report_opts_usage(out);
	fputs("  -o, --output OUT  write the report to OUT instead of standard output\n"
	      "  -h, --help   print this help\n", out);
}

static int parse_args(int argc, char **argv, struct mh_report_opts *opts, const char **output,
		      const char **trace)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "sort", required_argument, NULL, 's' },
		{ "top", required_argument, NULL, 'n' },
		{ "value", required_argument, NULL, 'v' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, index, err = 0;

	optind = 1;
	while (!err && (c = getopt_long(argc, argv, "o:h", longopts, &index)) != -1) {
		switch (c) {
		case 'f':
		case 's':
		case 'n':
		case 'v':
			err = mh_report_opt(opts, longopts[index].name, optarg);
			break;
		case 'o':
			*output = optarg;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			return -EINVAL;	/* getopt printed the reason */
		}
	}
	if (err)
		return err;
	if (optind + 1 != argc) {
		fprintf(stderr, "memhook: report takes exactly one trace file (see memhook report --help)\n");
		return -EINVAL;
	}
	*trace = argv[optind];
	mh_report_opts_finish(opts);
	return 0;
}

int mh_cmd_report(int argc, char **argv)
{
	struct mh_report_opts opts;
	const char *output = NULL, *trace = NULL;
	int err;

	mh_report_opts_defaults(&opts);
	err = parse_args(argc, argv, &opts, &output, &trace);
	if (err)
		return err > 0 ? MH_EXIT_OK : MH_EXIT_USAGE;
	opts.progress = isatty(STDERR_FILENO);
	return mh_report_to_file(trace, &opts, output, stdout);
}
