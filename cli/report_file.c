// SPDX-License-Identifier: MIT
/*
 * report_file.c - a report into a file or a stream, errors mapped to the
 * command's exit codes, and the report options. Output files are created
 * for their user (common/output_file.h), never by following a symlink as
 * root.
 */
#include "cli/report_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/exit_codes.h"
#include "common/heap_huge.h"

static int exit_code_of(int err)
{
	switch (err) {
	case -ENOENT:
	case -EACCES:
	case -EISDIR:
	case -ENOTDIR:
	case -EPERM:
		return MH_EXIT_NO_INPUT;
	case -EPROTO:
	case -EPROTONOSUPPORT:
	case -EBADMSG:
		return MH_EXIT_BAD_TRACE;
	case -EIO:
	case -ENOSPC:
	case -EDQUOT:
	case -EFBIG:
	case -EPIPE:
		return MH_EXIT_IO;
	default:
		return MH_EXIT_INTERNAL;
	}
}

FILE *mh_report_file_create(const struct mh_output_owner *owner, const char *path, const char *what)
{
	FILE *f = mh_output_fopen(owner, path);

	if (!f)
		fprintf(stderr, "memhook: cannot create %s '%s': %s\n", what, path,
			mh_output_strerror(owner, errno));
	return f;
}

int mh_report_file_close(FILE *f, const char *path, const char *what)
{
	bool failed = ferror(f);
	int err = errno;

	/* fclose writes what is still buffered: its errno is then the cause. */
	if (fclose(f))
		err = errno;
	else if (!failed)
		return 0;
	fprintf(stderr, "memhook: cannot write %s '%s': %s\n", what, path,
		strerror(err ? err : EIO));
	return MH_EXIT_IO;
}

/*
 * Heap grown ahead for a report: its tables take one small block per
 * stack, live block and mapping, and filled small pages one fault at a
 * time (python3's 14.7M-event trace: 29,000 faults, a quarter of the
 * report's time in a virtual machine). Address space only until touched.
 */
#define REPORT_HEAP_BYTES (256U << 20)

int mh_report_to_file(const char *trace, const struct mh_report_opts *opts,
		      const struct mh_output_owner *owner, const char *path, FILE *out)
{
	char why[MH_REPORT_ERROR_BYTES];
	int err, code;

	if (path) {
		out = mh_report_file_create(owner, path, "report");
		if (!out)
			return MH_EXIT_CANT_CREATE;
	}
	mh_heap_huge(REPORT_HEAP_BYTES, false, false);
	err = mh_report_generate(trace, opts, out, why);
	mh_heap_default();
	/* A failed write is the report's, named as such; anything else is the trace's. */
	if (err && ferror(out)) {
		if (!path)
			fprintf(stderr, "memhook: cannot write the report to %s: %s\n",
				out == stdout ? "standard output" : "standard error", strerror(-err));
	} else if (err) {
		fprintf(stderr, "memhook: %s\n", *why ? why : strerror(-err));
	}
	if (!path)
		return err ? exit_code_of(err) : 0;
	if (err && ferror(out)) {
		errno = -err;
		clearerr(out);
		(void)fclose(out); /* the write error is the one to report */
		fprintf(stderr, "memhook: cannot write report '%s': %s\n", path, strerror(-err));
		return MH_EXIT_IO;
	}
	code = mh_report_file_close(out, path, "report");
	return err ? exit_code_of(err) : code;
}

void mh_report_opts_defaults(struct mh_report_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->format = MH_REPORT_TEXT;
	opts->sort = MH_KEY_LEAKED;
	opts->value = MH_KEY_ALLOCATED;
	opts->top = MH_REPORT_TOP_UNSET;
}

static int parse_top(const char *s, unsigned *top)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || s[0] == '-' || v >= MH_REPORT_TOP_UNSET)
		return -EINVAL;
	*top = (unsigned)v;
	return 0;
}

int mh_report_opt(struct mh_report_opts *opts, const char *name, const char *arg)
{
	int err = -EINVAL;

	if (!strcmp(name, "format"))
		err = mh_report_format_parse(arg, &opts->format);
	else if (!strcmp(name, "sort"))
		err = mh_report_key_parse(arg, &opts->sort);
	else if (!strcmp(name, "value"))
		err = mh_report_key_parse(arg, &opts->value);
	else if (!strcmp(name, "top"))
		err = parse_top(arg, &opts->top);
	if (err)
		fprintf(stderr, "memhook: invalid value '%s' for --%s\n", arg, name);
	return err;
}

void mh_report_opts_finish(struct mh_report_opts *opts)
{
	if (opts->top == MH_REPORT_TOP_UNSET)
		opts->top = opts->format == MH_REPORT_TEXT ? MH_REPORT_TEXT_TOP : 0;
}

void mh_report_opts_usage(FILE *out)
{
	char formats[256], keys[256];

	mh_report_format_names(formats, sizeof(formats));
	mh_report_key_names(keys, sizeof(keys));
	fprintf(out, "  --format F   %s\n"
		"               text (default), json, folded (flamegraph.pl input), leaks\n"
		"               (memcheck-style records), pprof (gzipped profile.proto),\n"
		"               speedscope (JSON), html (one self-contained page: use -o)\n"
		"  --sort KEY   order of stacks (default leaked), KEY one of\n"
		"               %s\n"
		"  --top N      stacks to show (text default %d, other formats all; 0 = all)\n"
		"  --value KEY  folded: the metric of each line (default allocated)\n",
		formats, keys, MH_REPORT_TEXT_TOP);
}
