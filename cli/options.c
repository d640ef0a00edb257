// SPDX-License-Identifier: MIT
/*
 * options.c - the one option table of every memhook subcommand and its
 * getopt_long() parser (options.h). Prints at most one line per bad
 * argument, to stderr; never exits.
 */
#include "cli/options.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli/report_file.h"
#include "memhook/events.h"
#include "memhook/ring.h"
#include "memhook/trace.h"

/* Sampling period of /proc/PID/status when --sample-interval is not given, ms. */
#define DEFAULT_SAMPLE_MS 100
/*
 * Period of the pagemap residency snapshots, ms. A snapshot of 1 GiB of
 * heap takes a few ms (docs/RECORD.md), well under 1% at one a second;
 * the sampler also stretches the period when a snapshot costs more.
 */
#define DEFAULT_PAGEMAP_MS 1000
/* Smallest and largest --ring-size, bytes: the ring is memory shared with the program. */
#define MIN_RING_BYTES (64ULL << 10)
#define MAX_RING_BYTES (1ULL << 40)
/* Coarsest --time-resolution, ns (a millisecond). */
#define MAX_TIME_UNIT_NS 1000000
/* Longest --sample-interval and --pagemap-interval, ms (an hour). */
#define MAX_INTERVAL_MS 3600000
/* LeakSanitizer's exit code when it finds leaks; the default of --error-exitcode. */
#define DEFAULT_LEAK_EXIT_CODE 23

#define REC (MH_CMD_RECORD | MH_CMD_RUN | MH_CMD_CHECK)
#define ALL (REC | MH_CMD_REPORT | MH_CMD_COLLECT)

enum {
	OPT_RING_SIZE = 256,
	OPT_LOSSY,
	OPT_DEPTH,
	OPT_FOLLOW_FORKS,
	OPT_NO_FOLLOW_FORKS,
	OPT_NO_FOLLOW_EXEC,
	OPT_UNWIND,
	OPT_NO_FREERES,
	OPT_KERNEL,
	OPT_SAMPLE,
	OPT_PAGEMAP,
	OPT_USER,
	OPT_AS_ROOT,
	OPT_NO_PROGRESS,
	OPT_TRACE,
	OPT_LIVE,
	OPT_FORMAT,
	OPT_SORT,
	OPT_TOP,
	OPT_VALUE,
	OPT_PID,
	OPT_FAIL_ON,
	OPT_ERROR_EXITCODE,
	OPT_MIN_BYTES,
	OPT_SUPPRESSIONS,
	OPT_JUNIT,
	OPT_JSON,
	OPT_TIME_RESOLUTION,
};

/*
 * One option: its spellings and the subcommands that take it. Their
 * --help lines are written out in full below, per subcommand, as the
 * manual page and the shell completions quote them.
 */
struct opt_def {
	const char *name;
	char short_name;	/* 0: long only */
	int id;			/* the short name, or OPT_* */
	unsigned commands;	/* enum mh_command bits */
	bool has_arg;
};

static const struct opt_def defs[] = {
	{ "output", 'o', 'o', ALL, true },
	{ "pid", 'p', OPT_PID, MH_CMD_COLLECT, true },
	{ "ring-size", 0, OPT_RING_SIZE, REC, true },
	{ "lossy", 0, OPT_LOSSY, REC, false },
	{ "depth", 0, OPT_DEPTH, REC, true },
	{ "follow-forks", 0, OPT_FOLLOW_FORKS, REC, false },
	{ "follow-forks", 'f', OPT_FOLLOW_FORKS, MH_CMD_COLLECT, false },
	{ "no-follow-forks", 0, OPT_NO_FOLLOW_FORKS, MH_CMD_CHECK, false },
	{ "no-follow-exec", 0, OPT_NO_FOLLOW_EXEC, REC, false },
	{ "unwind", 0, OPT_UNWIND, REC, true },
	{ "no-freeres", 0, OPT_NO_FREERES, REC, false },
	{ "kernel", 0, OPT_KERNEL, REC, true },
	{ "sample-interval", 0, OPT_SAMPLE, REC, true },
	{ "pagemap-interval", 0, OPT_PAGEMAP, REC, true },
	{ "user", 0, OPT_USER, REC, true },
	{ "as-root", 0, OPT_AS_ROOT, REC, false },
	{ "no-progress", 0, OPT_NO_PROGRESS, REC, false },
	{ "time-resolution", 0, OPT_TIME_RESOLUTION, REC, true },
	{ "trace", 0, OPT_TRACE, MH_CMD_RUN | MH_CMD_CHECK, true },
	{ "live", 0, OPT_LIVE, MH_CMD_RUN, false },
	{ "format", 0, OPT_FORMAT, MH_CMD_RUN | MH_CMD_REPORT, true },
	{ "sort", 0, OPT_SORT, MH_CMD_RUN | MH_CMD_REPORT, true },
	{ "top", 0, OPT_TOP, MH_CMD_RUN | MH_CMD_REPORT, true },
	{ "value", 0, OPT_VALUE, MH_CMD_RUN | MH_CMD_REPORT, true },
	{ "fail-on", 0, OPT_FAIL_ON, MH_CMD_CHECK, true },
	{ "error-exitcode", 0, OPT_ERROR_EXITCODE, MH_CMD_CHECK, true },
	{ "suppressions", 0, OPT_SUPPRESSIONS, MH_CMD_CHECK, true },
	{ "min-bytes", 0, OPT_MIN_BYTES, MH_CMD_CHECK, true },
	{ "junit", 0, OPT_JUNIT, MH_CMD_CHECK, true },
	{ "json", 0, OPT_JSON, MH_CMD_CHECK, true },
	{ "quiet", 'q', 'q', REC | MH_CMD_COLLECT, false },
	{ "help", 'h', 'h', ALL, false },
};

#define DEF_COUNT (sizeof(defs) / sizeof(defs[0]))

static const char *const leak_kind_names[] = {
	[MH_LEAK_UNKNOWN] = "unknown", [MH_LEAK_DEFINITE] = "definite",
	[MH_LEAK_INDIRECT] = "indirect", [MH_LEAK_POSSIBLE] = "possible",
	[MH_LEAK_REACHABLE] = "reachable",
};

static const char *command_name(enum mh_command c)
{
	switch (c) {
	case MH_CMD_RECORD: return "record";
	case MH_CMD_RUN: return "run";
	case MH_CMD_CHECK: return "check";
	case MH_CMD_REPORT: return "report";
	default: return "collect";
	}
}

/* The recorder's options, as record, run and check take them. */
static void usage_record(FILE *out)
{
	fputs("  --ring-size BYTES      ring data area, a power of two from 64K to 1T (K/M/G suffixes;\n"
	      "                         default 64M)\n"
	      "  --lossy                drop and count events when the ring is full (default: wait);\n"
	      "                         leak kinds of the processes that lost events are unknown\n"
	      "  --depth N              stack depth in frames (1-128, default 64)\n"
	      "  --follow-forks         keep recording in forked children; wait for all of them\n"
	      "  --no-follow-exec       stop recording when the program execs another image\n"
	      "  --unwind=auto|libunwind|fp  stack capture method (default auto: frame pointers\n"
	      "                         where checked equal to libunwind, libunwind elsewhere)\n"
	      "  --no-freeres           do not call __libc_freeres at exit\n"
	      "  --kernel=auto|on|off   kernel events via BPF (default auto: use if permitted)\n"
	      "  --sample-interval MS   /proc RSS sampling period (default 100, 0 = off)\n"
	      "  --pagemap-interval MS  residency snapshot period (default 1000, 0 = off)\n"
	      "  --user NAME|UID        run PROG as this user (memhook must run as root)\n"
	      "  --as-root              under sudo, run PROG as root (default: as the sudo user)\n"
	      "  --no-progress          no status line on a terminal while the program runs\n"
	      "  --time-resolution NS   stamps in units of NS ns (1-1000000, default 1024;\n"
	      "                         1 = exact ns): every event is still recorded\n"
	      "  -q, --quiet            do not print the trace's path at the end\n"
	      "  -h, --help             print this help\n", out);
}

static void usage_check(FILE *out)
{
	fputs("usage: memhook check [options] -- PROG [ARGS...]\n"
	      "Run PROG (and every process it starts) and fail on leaks.\n"
	      "  --fail-on=KINDS        comma-separated kinds that fail (default definite,indirect):\n"
	      "                         ", out);
	for (size_t k = MH_LEAK_DEFINITE; k < sizeof(leak_kind_names) / sizeof(*leak_kind_names); k++)
		fprintf(out, "%s|", leak_kind_names[k]);
	fprintf(out, "%s|all\n"
		"                         (unknown: blocks without a verdict, e.g. events lost)\n"
		"  --error-exitcode=N     exit code when a failing leak is found (default %d)\n"
		"  --suppressions=FILE    LeakSanitizer or Valgrind suppressions (repeatable)\n"
		"  --min-bytes=N          ignore loss records smaller than N bytes\n"
		"  --junit=FILE           write a JUnit report, one test case per process\n"
		"  --json=FILE            write the JSON report (docs/REPORT.md)\n"
		"  --trace=FILE           keep the trace in FILE (also -o FILE)\n"
		"  --no-follow-forks      check only PROG itself\n"
		"  -h, --help             print this help\n"
		"and the options of memhook record (memhook record --help), in any order and\n"
		"spelling; check leaves the kernel stream and the periodic samples off unless\n"
		"--kernel, --sample-interval or --pagemap-interval ask for them.\n"
		"Exit: --error-exitcode if a failing leak was found, else PROG's status.\n",
		leak_kind_names[MH_LEAK_UNKNOWN], DEFAULT_LEAK_EXIT_CODE);
}

void mh_options_usage(FILE *out, enum mh_command command)
{
	switch (command) {
	case MH_CMD_RECORD:
		fputs("usage: memhook record [options] [-o TRACE] -- PROG [ARGS...]\n"
		      "Record PROG's allocations (and kernel events) into TRACE.\n"
		      "  -o, --output TRACE     the trace (default: memhook.PROG.PID.mht in the\n"
		      "                         current directory)\n", out);
		usage_record(out);
		break;
	case MH_CMD_RUN:
		fputs("usage: memhook run [options] [-o REPORT] -- PROG [ARGS...]\n"
		      "Record PROG, then write the report to stderr (or -o REPORT).\n"
		      "  -o, --output REPORT    write the report to REPORT instead of stderr\n", out);
		usage_record(out);
		fputs("  --trace FILE           keep the trace in FILE (default: a temporary file)\n"
		      "  --live                 show the top stacks full-screen while PROG runs\n"
		      "                         (keys: l g b a sort by live bytes, growth, blocks,\n"
		      "                         allocated; q stops watching, PROG goes on)\n"
		      "report options, as `memhook report` takes them:\n", out);
		mh_report_opts_usage(out);
		break;
	case MH_CMD_CHECK:
		usage_check(out);
		break;
	case MH_CMD_REPORT:
		fputs("usage: memhook report [--format F] [--sort KEY] [--top N] [--value KEY] [-o OUT] TRACE\n"
		      "Write the report of TRACE to standard output (or -o OUT).\n", out);
		mh_report_opts_usage(out);
		fputs("  -o, --output OUT  write the report to OUT instead of standard output\n"
		      "  -h, --help   print this help\n", out);
		break;
	default:
		fputs("usage: memhook collect -p PID [-o FILE] [--follow-forks] [-q]\n"
		      "Record the kernel memory events of a running process into FILE.\n"
		      "  -p, --pid PID          the process to watch\n"
		      "  -o, --output FILE      the trace (default: memhook-PID.mht)\n"
		      "  --follow-forks         also watch the children it starts\n"
		      "  -q, --quiet            do not print the trace's path at the end\n"
		      "  -h, --help             print this help\n", out);
		break;
	}
}

static int bad(const char *what, const char *arg)
{
	fprintf(stderr, "memhook: invalid %s '%s'\n", what, arg);
	return -EINVAL;
}

/* Parse "64M"-style sizes; a value that does not fit in 64 bits is invalid. */
static int parse_size(const char *s, __u64 *out)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-' || *s == '+')
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: break;
	}
	if (*end || v > (~0ULL >> shift))
		return -EINVAL;
	*out = v << shift;
	return 0;
}

static int parse_uint(const char *s, unsigned long long min, unsigned long long max,
		      unsigned long long *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *s == '+' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_unsigned(const char *s, unsigned min, unsigned max, unsigned *out)
{
	unsigned long long v;
	int err = parse_uint(s, min, max, &v);

	if (!err)
		*out = (unsigned)v;
	return err;
}

static int parse_kernel(const char *s, enum mh_kernel_mode *mode)
{
	if (!strcmp(s, "auto"))
		*mode = MH_KERNEL_AUTO;
	else if (!strcmp(s, "on"))
		*mode = MH_KERNEL_ON;
	else if (!strcmp(s, "off"))
		*mode = MH_KERNEL_OFF;
	else
		return -EINVAL;
	return 0;
}

/* "definite,indirect", "all", "unknown"... into a mask of leak kinds. */
static int parse_kinds(const char *list, unsigned *kinds)
{
	*kinds = 0;
	while (*list) {
		size_t len = strcspn(list, ","), k;

		if (len == 3 && !strncmp(list, "all", 3)) {
			*kinds |= MH_LEAK_MASK(MH_LEAK_DEFINITE) | MH_LEAK_MASK(MH_LEAK_INDIRECT) |
				  MH_LEAK_MASK(MH_LEAK_POSSIBLE) | MH_LEAK_MASK(MH_LEAK_REACHABLE);
		} else {
			for (k = 0; k < sizeof(leak_kind_names) / sizeof(leak_kind_names[0]); k++) {
				if (strlen(leak_kind_names[k]) == len &&
				    !strncmp(list, leak_kind_names[k], len))
					break;
			}
			if (k == sizeof(leak_kind_names) / sizeof(leak_kind_names[0]))
				return -EINVAL;
			*kinds |= MH_LEAK_MASK(k);
		}
		list += len + (list[len] == ',');
	}
	return 0;
}

static bool is_pow2(__u64 v)
{
	return v && !(v & (v - 1));
}

/* The recorder's options; 1 when c is none of them, else 0 or -EINVAL after printing. */
static int apply_record(struct mh_record_opts *o, int c, const char *arg)
{
	switch (c) {
	case OPT_RING_SIZE:
		if (parse_size(arg, &o->ring_bytes) || !is_pow2(o->ring_bytes) ||
		    o->ring_bytes < MIN_RING_BYTES || o->ring_bytes > MAX_RING_BYTES)
			return bad("--ring-size (a power of two from 64K to 1T)", arg);
		return 0;
	case OPT_LOSSY:
		o->lossy = true;
		return 0;
	case OPT_DEPTH:
		return parse_unsigned(arg, 1, MH_STACK_MAX_DEPTH, &o->depth) ?
		       bad("--depth (1-128)", arg) : 0;
	case OPT_FOLLOW_FORKS:
		o->follow_forks = true;
		return 0;
	case OPT_NO_FOLLOW_FORKS:
		o->follow_forks = false;
		return 0;
	case OPT_NO_FOLLOW_EXEC:
		o->follow_exec = false;
		return 0;
	case OPT_UNWIND:
		if (strcmp(arg, "auto") && strcmp(arg, "libunwind") && strcmp(arg, "fp"))
			return bad("--unwind (auto, libunwind or fp)", arg);
		o->unwind = arg;
		return 0;
	case OPT_NO_FREERES:
		o->freeres = false;
		return 0;
	case OPT_KERNEL:
		return parse_kernel(arg, &o->kernel) ? bad("--kernel (auto, on or off)", arg) : 0;
	case OPT_SAMPLE:
		return parse_unsigned(arg, 0, MAX_INTERVAL_MS, &o->sample_ms) ?
		       bad("--sample-interval", arg) : 0;
	case OPT_PAGEMAP:
		return parse_unsigned(arg, 0, MAX_INTERVAL_MS, &o->pagemap_ms) ?
		       bad("--pagemap-interval", arg) : 0;
	case OPT_USER:
		if (!*arg)
			return bad("--user", arg);
		o->user = arg;
		return 0;
	case OPT_AS_ROOT:
		o->as_root = true;
		return 0;
	case OPT_NO_PROGRESS:
		o->progress = false;
		return 0;
	case OPT_TIME_RESOLUTION:
		return parse_unsigned(arg, 1, MAX_TIME_UNIT_NS, &o->time_unit_ns) ?
		       bad("--time-resolution (1-1000000 ns)", arg) : 0;
	case 'q':
		o->quiet = true;
		return 0;
	default:
		return 1;
	}
}

/* check's options; 1 when c is none of them, else 0 or -EINVAL after printing. */
static int apply_check(struct mh_check_opts *o, int c, const char *arg)
{
	unsigned long long n;

	switch (c) {
	case OPT_FAIL_ON:
		return parse_kinds(arg, &o->fail_kinds) ? bad("--fail-on", arg) : 0;
	case OPT_ERROR_EXITCODE:
		if (parse_uint(arg, 0, 255, &n))
			return bad("--error-exitcode (0-255)", arg);
		o->error_exitcode = (int)n;
		return 0;
	case OPT_MIN_BYTES:
		return parse_uint(arg, 0, ULLONG_MAX, &n) ? bad("--min-bytes", arg) :
		       (o->min_bytes = n, 0);
	case OPT_SUPPRESSIONS:
		if (o->suppression_count == MH_MAX_SUPPRESSION_FILES)
			return bad("--suppressions (too many files)", arg);
		o->suppressions[o->suppression_count++] = arg;
		return 0;
	case OPT_JUNIT:
		o->junit = arg;
		return 0;
	case OPT_JSON:
		o->json = arg;
		return 0;
	default:
		return 1;
	}
}

/* One option; 0 or -EINVAL after printing. */
static int apply(struct mh_cli_opts *cli, int c, const char *arg)
{
	int ret;

	switch (c) {
	case 'o':
		if (cli->command & (MH_CMD_RUN | MH_CMD_REPORT))
			cli->report_out = arg;
		else if (cli->command == MH_CMD_CHECK)
			cli->keep_trace = arg;
		else
			cli->record.output = arg;
		return 0;
	case OPT_TRACE:
		cli->keep_trace = arg;
		return 0;
	case OPT_FORMAT:
		return mh_report_opt(&cli->report, "format", arg);
	case OPT_SORT:
		return mh_report_opt(&cli->report, "sort", arg);
	case OPT_VALUE:
		return mh_report_opt(&cli->report, "value", arg);
	case OPT_TOP:
		return mh_report_opt(&cli->report, "top", arg);
	case OPT_LIVE:
		cli->live = true;
		return 0;
	case OPT_PID: {
		unsigned long long v;

		if (parse_uint(arg, 1, INT_MAX, &v))
			return bad("pid", arg);
		cli->pid = (pid_t)v;
		return 0;
	}
	default:
		break;
	}
	if (cli->command == MH_CMD_COLLECT) {
		cli->quiet |= c == 'q';
		cli->follow_forks |= c == OPT_FOLLOW_FORKS;
		return 0;
	}
	ret = apply_record(&cli->record, c, arg);
	if (ret == 1)
		ret = apply_check(&cli->check, c, arg);
	return ret == 1 ? -EINVAL : ret;
}

/* Each subcommand's defaults, set before parsing so that options given override them. */
static void set_defaults(struct mh_cli_opts *cli, enum mh_command command)
{
	struct mh_record_opts *o = &cli->record;

	memset(cli, 0, sizeof(*cli));
	cli->command = command;
	o->ring_bytes = MH_RING_DEFAULT_DATA_BYTES;
	o->depth = MH_STACK_DEFAULT_DEPTH;
	o->follow_exec = true;
	o->unwind = "auto";
	o->freeres = true;
	o->progress = true;
	o->kernel = MH_KERNEL_AUTO;
	o->sample_ms = DEFAULT_SAMPLE_MS;
	o->pagemap_ms = DEFAULT_PAGEMAP_MS;
	o->time_unit_ns = MH_TRACE_TIME_UNIT_DEFAULT_NS;
	mh_report_opts_defaults(&cli->report);
	if (command != MH_CMD_CHECK)
		return;
	/* A leak gate needs neither the kernel's view nor residency over time, unless asked. */
	o->follow_forks = true;
	o->kernel = MH_KERNEL_OFF;
	o->sample_ms = 0;
	o->pagemap_ms = 0;
	cli->check.fail_kinds = MH_LEAK_MASK(MH_LEAK_DEFINITE) | MH_LEAK_MASK(MH_LEAK_INDIRECT);
	cli->check.error_exitcode = DEFAULT_LEAK_EXIT_CODE;
}

/* getopt_long's tables for one subcommand: its options only. */
static void build_tables(enum mh_command command, struct option *longs, char *shorts)
{
	size_t n = 0, s = 0;

	/* '+': stop at the program's name (record, run, check), so its own options are left alone. */
	if (command & REC)
		shorts[s++] = '+';
	shorts[s++] = ':';
	for (size_t i = 0; i < DEF_COUNT; i++) {
		const struct opt_def *d = &defs[i];

		if (!(d->commands & command))
			continue;
		longs[n++] = (struct option){ d->name, d->has_arg ? required_argument : no_argument,
					      NULL, d->id };
		if (d->short_name) {
			shorts[s++] = d->short_name;
			if (d->has_arg)
				shorts[s++] = ':';
		}
	}
	longs[n] = (struct option){ 0 };
	shorts[s] = '\0';
}

/* The option id of a short option of command (-f is --format for report, --follow-forks for collect). */
static int short_to_id(enum mh_command command, int c)
{
	for (size_t i = 0; i < DEF_COUNT; i++) {
		if ((defs[i].commands & command) && defs[i].short_name == c)
			return defs[i].id;
	}
	return c;
}

/* What is left after the options: the program, the trace, or nothing. */
static int take_operands(struct mh_cli_opts *cli, int argc, char **argv)
{
	const char *cmd = command_name(cli->command);

	if (cli->command == MH_CMD_COLLECT) {
		if (cli->pid && optind == argc)
			return 0;
		fprintf(stderr, "memhook: %s (usage: memhook collect -p PID [-o FILE] [--follow-forks] [-q])\n",
			cli->pid ? "collect takes no operands" : "missing -p PID");
		return -EINVAL;
	}
	if (cli->command == MH_CMD_REPORT) {
		if (optind + 1 == argc) {
			cli->trace = argv[optind];
			mh_report_opts_finish(&cli->report);
			return 0;
		}
		fprintf(stderr, "memhook: report takes exactly one trace file (see memhook report --help)\n");
		return -EINVAL;
	}
	if (optind >= argc) {
		fprintf(stderr, "memhook: missing program to run (usage: memhook %s [options] -- PROG [ARGS...])\n",
			cmd);
		return -EINVAL;
	}
	if (cli->record.user && cli->record.as_root) {
		fprintf(stderr, "memhook: --user and --as-root exclude each other\n");
		return -EINVAL;
	}
	cli->record.prog_argv = &argv[optind];
	mh_report_opts_finish(&cli->report);
	return 0;
}

int mh_options_parse(struct mh_cli_opts *cli, enum mh_command command, int argc, char **argv)
{
	struct option longs[DEF_COUNT + 1];
	char shorts[2 * DEF_COUNT + 3];
	int c;

	set_defaults(cli, command);
	build_tables(command, longs, shorts);
	opterr = 0;
	optind = 0;	/* 0, not 1: getopt starts afresh, so a second parse works too */
	while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		c = short_to_id(command, c);
		if (c == 'h') {
			mh_options_usage(stdout, command);
			return 1;
		}
		/* "-o -- PROG": the option's argument is missing, "--" is not a file name. */
		if (c == ':' || (c != '?' && optarg && optarg == argv[optind - 1] &&
				 !strcmp(optarg, "--"))) {
			fprintf(stderr, "memhook: missing argument for option '%s' (see memhook %s --help)\n",
				c == ':' ? argv[optind - 1] : argv[optind - 2], command_name(command));
			return -EINVAL;
		}
		if (c == '?') {
			fprintf(stderr, "memhook: unknown option '%s' (see memhook %s --help)\n",
				argv[optind - 1], command_name(command));
			return -EINVAL;
		}
		if (apply(cli, c, optarg))
			return -EINVAL;
	}
	return take_operands(cli, argc, argv);
}
