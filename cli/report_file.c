// SPDX-License-Identifier: MIT
/*
 * report_file.c - a report into a file or a stream, errors mapped to the
 * command's exit codes.
 */
#include "cli/report_file.h"

#include <errno.h>
#include <string.h>

#include "common/exit_codes.h"

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
		return MH_EXIT_IO;
	default:
		return MH_EXIT_INTERNAL;
	}
}

int mh_report_to_file(const char *trace, const struct mh_report_opts *opts, const char *path,
		      FILE *out)
{
	char why[MH_REPORT_ERROR_BYTES];
	int err;

	if (path) {
		out = fopen(path, "we");
		if (!out) {
			fprintf(stderr, "memhook: cannot create report '%s': %s\n", path,
				strerror(errno));
			return MH_EXIT_CANT_CREATE;
		}
	}
	err = mh_report_generate(trace, opts, out, why);
	if (err)
		fprintf(stderr, "memhook: %s\n", *why ? why : strerror(-err));
	if (path && fclose(out) && !err) {
		fprintf(stderr, "memhook: cannot write report '%s': %s\n", path, strerror(errno));
		return MH_EXIT_IO;
	}
	return err ? exit_code_of(err) : 0;
}
