// SPDX-License-Identifier: MIT
/*
 * report_file.c - a report into a file or a stream, errors mapped to the
 * command's exit codes. Output files are created for their user
 * (common/output_file.h), never by following a symlink as root.
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

int mh_report_to_file(const char *trace, const struct mh_report_opts *opts,
		      const struct mh_output_owner *owner, const char *path, FILE *out)
{
	int err, code;

	if (path) {
		out = mh_report_file_create(owner, path, "report");
		if (!out)
			return MH_EXIT_CANT_CREATE;
	}
	err = mh_report_generate(trace, opts, out);
	/* A failed write is the report's, named as such; anything else is the trace's. */
	if (err && ferror(out)) {
		if (!path)
			fprintf(stderr, "memhook: cannot write the report to %s: %s\n",
				out == stdout ? "standard output" : "standard error", strerror(-err));
	} else if (err) {
		fprintf(stderr, "memhook: %s\n",
			*mh_report_error() ? mh_report_error() : strerror(-err));
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
