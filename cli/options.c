// SPDX-License-Identifier: MIT
/*
 * options.c - parse `memhook record` and `memhook run` command lines.
 * Prints at most one line per bad argument, to stderr; never exits.
 */
#include "cli/options.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "memhook/events.h"
#include "memhook/ring.h"
#include "cli/report_file.h"

/* Sampling period of /proc/PID/status when --sample-interval is not given, ms. */
#define DEFAULT_SAMPLE_MS 100
/*
 * Period of the pagemap residency snapshots, ms. A snapshot of 1 GiB of
 * heap takes a few ms (docs/RECORD.md), well under 1% at one a second;
 * the sampler also stretches the period when a snapshot costs more.
 */
#define DEFAULT_PAGEMAP_MS 1000

enum {
	OPT_RING_SIZE = 256,
	OPT_LOSSY,
	OPT_DEPTH,
	OPT_FOLLOW_FORKS,
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
};

static const struct option long_opts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "ring-size", required_argument, NULL, OPT_RING_SIZE },
	{ "lossy", no_argument, NULL, OPT_LOSSY },
	{ "depth", required_argument, NULL, OPT_DEPTH },
	{ "follow-forks", no_argument, NULL, OPT_FOLLOW_FORKS },
	{ "no-follow-exec", no_argument, NULL, OPT_NO_FOLLOW_EXEC },
	{ "unwind", required_argument, NULL, OPT_UNWIND },
	{ "no-freeres", no_argument, NULL, OPT_NO_FREERES },
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "sample-interval", required_argument, NULL, OPT_SAMPLE },
	{ "pagemap-interval", required_argument, NULL, OPT_PAGEMAP },
	{ "user", required_argument, NULL, OPT_USER },
	{ "as-root", no_argument, NULL, OPT_AS_ROOT },
	{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
	/* memhook run only */
	{ "trace", required_argument, NULL, OPT_TRACE },
	{ "live", no_argument, NULL, OPT_LIVE },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "sort", required_argument, NULL, OPT_SORT },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "value", required_argument, NULL, OPT_VALUE },
	{ NULL, 0, NULL, 0 },
};

/* The lines of --format and --sort: their values come from the report's own tables. */
void mh_options_usage(FILE *out, bool run)
{
	if (run)
		fputs("usage: memhook run [options] [-o REPORT] -- PROG [ARGS...]\n"
		      "Record PROG, then write the report to stderr (or -o REPORT).\n"
		      "  -o, --output REPORT    write the report to REPORT instead of stderr\n", out);
	else
		fputs("usage: memhook record [options] [-o TRACE] -- PROG [ARGS...]\n"
		      "Record PROG's allocations (and kernel events) into TRACE.\n"
		      "  -o, --output TRACE     the trace (default: memhook.PROG.PID.mht in the\n"
		      "                         current directory)\n", out);
	fputs("  --ring-size BYTES      ring data area, a power of two (K/M/G suffixes; default 64M)\n"
	      "  --lossy                drop and count events when the ring is full (default: wait)\n"
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
	      "  -q, --quiet            do not print the trace's path at the end\n"
	      "  -h, --help             print this help\n", out);
	if (run) {
		fputs("  --trace FILE           keep the trace in FILE (default: a temporary file)\n"
		      "  --live                 show the top stacks full-screen while PROG runs\n"
		      "                         (keys: l g b a sort by live bytes, growth, blocks,\n"
		      "                         allocated; q stops watching, PROG goes on)\n"
		      "report options, as `memhook report` takes them:\n", out);
		mh_report_opts_usage(out);
	}
}

static int bad(const char *what, const char *arg)
{
	fprintf(stderr, "memhook: invalid %s '%s'\n", what, arg);
	return -EINVAL;
}

/* Parse "64M"-style sizes. */
static int parse_size(const char *s, __u64 *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: break;
	}
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < min || v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
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

static bool is_pow2(__u64 v)
{
	return v && !(v & (v - 1));
}

/* One option; returns 0 or -EINVAL after printing. */
static int apply(struct mh_cli_opts *cli, int c, const char *arg, bool run)
{
	struct mh_record_opts *o = &cli->record;
	switch (c) {
	case 'o':
		if (run)
			cli->report_out = arg;
		else
			o->output = arg;
		return 0;
	case 'q':
		o->quiet = true;
		return 0;
	case OPT_RING_SIZE:
		if (parse_size(arg, &o->ring_bytes) || !is_pow2(o->ring_bytes) ||
		    o->ring_bytes < (64U << 10))
			return bad("--ring-size (a power of two, at least 64K)", arg);
		return 0;
	case OPT_LOSSY:
		o->lossy = true;
		return 0;
	case OPT_DEPTH:
		return parse_uint(arg, 1, MH_STACK_MAX_DEPTH, &o->depth) ? bad("--depth (1-128)", arg) : 0;
	case OPT_FOLLOW_FORKS:
		o->follow_forks = true;
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
		return parse_uint(arg, 0, 3600000, &o->sample_ms) ? bad("--sample-interval", arg) : 0;
	case OPT_PAGEMAP:
		return parse_uint(arg, 0, 3600000, &o->pagemap_ms) ? bad("--pagemap-interval", arg) : 0;
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
	case OPT_TRACE:
		cli->keep_trace = arg;
		return 0;
	case OPT_LIVE:
		cli->live = true;
		return 0;
	case OPT_FORMAT:
		return mh_report_opt(&cli->report, "format", arg);
	case OPT_SORT:
		return mh_report_opt(&cli->report, "sort", arg);
	case OPT_TOP:
		return mh_report_opt(&cli->report, "top", arg);
	case OPT_VALUE:
		return mh_report_opt(&cli->report, "value", arg);
	default:
		return -EINVAL;
	}
}

static void set_defaults(struct mh_cli_opts *cli)
{
	struct mh_record_opts *o = &cli->record;
	memset(cli, 0, sizeof(*cli));
	o->ring_bytes = MH_RING_DEFAULT_DATA_BYTES;
	o->depth = MH_STACK_DEFAULT_DEPTH;
	o->follow_exec = true;
	o->unwind = "auto";
	o->freeres = true;
	o->progress = true;
	o->kernel = MH_KERNEL_AUTO;
	o->sample_ms = DEFAULT_SAMPLE_MS;
	o->pagemap_ms = DEFAULT_PAGEMAP_MS;
	mh_report_opts_defaults(&cli->report);
}

int mh_options_parse(struct mh_cli_opts *cli, int argc, char **argv, bool run)
{
	struct mh_record_opts *o = &cli->record;
	int c;

	set_defaults(cli);
	opterr = 0;
	optind = 1;
	/* '+': stop at the program's name, so its own options are left alone. */
	while ((c = getopt_long(argc, argv, "+:o:qh", long_opts, NULL)) != -1) {
		if (c == 'h') {
			mh_options_usage(stdout, run);
			return 1;
		}
		if (c == '?' || c == ':') {
			fprintf(stderr, "memhook: %s '%s' (see memhook %s --help)\n",
				c == '?' ? "unknown option" : "missing argument for option",
				argv[optind - 1], argv[0]);
			return -EINVAL;
		}
		if (!run && c >= OPT_TRACE) {
			fprintf(stderr, "memhook: unknown option '%s' (see memhook %s --help)\n",
				argv[optind - 1], argv[0]);
			return -EINVAL;
		}
		if (apply(cli, c, optarg, run))
			return -EINVAL;
	}
	if (optind >= argc) {
		fprintf(stderr, "memhook: missing program to run (usage: memhook %s [options] -- PROG [ARGS...])\n",
			argv[0]);
		return -EINVAL;
	}
	if (o->user && o->as_root) {
		fprintf(stderr, "memhook: --user and --as-root exclude each other\n");
		return -EINVAL;
	}
	o->prog_argv = &argv[optind];
	mh_report_opts_finish(&cli->report);
	return 0;
}
