// SPDX-License-Identifier: MIT
/*
 * cmd_report.c - `memhook report [--format FMT] [--sort KEY]
 * [--top N] [--value KEY] [-o OUT] TRACE`: the report of a recorded trace.
 *
 * Thin glue over merger/report/report.h: parses options, opens the output, maps
 * failures to exit codes (exit_codes.h). Must never print more than one
 * line per failure.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "common/exit_codes.h"
#include "cli/report_file.h"
#include "merger/report/report.h"

/* Stacks shown by the text report unless --top says otherwise. */
#define DEFAULT_TEXT_TOP 20

static void usage(FILE *out)
{
	char formats[256], keys[256];

	mh_report_format_names(formats, sizeof(formats));
	mh_report_key_names(keys, sizeof(keys));
	fprintf(out, "usage: memhook report [--format FMT] [--sort KEY] [--top N]\n"
		     "                      [--value KEY] [-o OUT] TRACE\n"
		     "Write the report of TRACE to standard output (or -o OUT).\n"
		     "  --format FMT   report format (default text): %s\n"
		     "                 (folded: flamegraph.pl input)\n"
		     "  --sort KEY     order of stacks (default leaked), one of\n"
		     "                 %s\n"
		     "  --top N        stacks to show (text default 20, json and folded: all; 0 = all)\n"
		     "  --value KEY    folded: the metric of each line (default allocated), a --sort KEY\n"
		     "  -o, --output OUT  write the report to OUT instead of standard output\n"
		     "  -h, --help     print this help\n",
		formats, keys);
}

static int parse_top(const char *s, unsigned *top)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || s[0] == '-' || v > 0xffffffffUL)
		return -EINVAL;
	*top = (unsigned)v;
	return 0;
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
	bool top_set = false;
	int c, err = 0;

	optind = 1;
	while (!err && (c = getopt_long(argc, argv, "f:s:n:v:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			err = mh_report_format_parse(optarg, &opts->format);
			break;
		case 's':
			err = mh_report_key_parse(optarg, &opts->sort);
			break;
		case 'v':
			err = mh_report_key_parse(optarg, &opts->value);
			break;
		case 'n':
			err = parse_top(optarg, &opts->top);
			top_set = true;
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
		if (err)
			fprintf(stderr, "memhook: invalid value '%s' for --%s\n", optarg,
				c == 'f' ? "format" : c == 's' ? "sort" : c == 'v' ? "value" : "top");
	}
	if (err)
		return err;
	if (optind + 1 != argc) {
		fprintf(stderr, "memhook: report takes exactly one trace file (see memhook report --help)\n");
		return -EINVAL;
	}
	*trace = argv[optind];
	if (!top_set && opts->format == MH_REPORT_TEXT)
		opts->top = DEFAULT_TEXT_TOP;
	return 0;
}

int mh_cmd_report(int argc, char **argv)
{
	struct mh_report_opts opts = {
		.format = MH_REPORT_TEXT,
		.sort = MH_KEY_LEAKED,
		.value = MH_KEY_ALLOCATED,
	};
	const char *output = NULL, *trace = NULL;
	int err;

	err = parse_args(argc, argv, &opts, &output, &trace);
	if (err)
		return err > 0 ? MH_EXIT_OK : MH_EXIT_USAGE;
	opts.progress = isatty(STDERR_FILENO);
	return mh_report_to_file(trace, &opts, output, stdout);
}
