// SPDX-License-Identifier: MIT
/*
 * cmd_dump.c - `memhook dump FILE`: every record of a trace, one line
 * each, in file order, then a warning if the trace is truncated.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "trace/reader.h"
#include "cli/commands.h"
#include "trace/describe.h"
#include "common/exit_codes.h"

static void dump_header(const struct mh_trace_header *h)
{
	printf("header version=%u flags=0x%x start_ns=%llu start_realtime_ns=%llu page_size=%u root_pid=%u pointer_bytes=%u time_unit_ns=%u\n",
	       h->version, h->flags, (unsigned long long)h->start_ns,
	       (unsigned long long)h->start_realtime_ns, h->page_size, h->root_pid, h->pointer_bytes,
	       h->time_unit_ns);
}

static int open_error(const char *path, int err)
{
	if (err == EPROTO) {
		fprintf(stderr, "memhook: '%s' is not a memhook trace\n", path);
		return MH_EXIT_BAD_TRACE;
	}
	if (err == EBADMSG) {
		fprintf(stderr, "memhook: trace '%s' has a corrupt header (bad page size or time unit)\n",
			path);
		return MH_EXIT_BAD_TRACE;
	}
	if (err == EPROTONOSUPPORT) {
		fprintf(stderr, "memhook: trace '%s' has a format version this memhook cannot read\n", path);
		return MH_EXIT_BAD_TRACE;
	}
	fprintf(stderr, "memhook: cannot open trace '%s': %s\n", path, strerror(err));
	return MH_EXIT_NO_INPUT;
}

int mh_cmd_dump(int argc, char **argv)
{
	const struct mh_rec_hdr *rec;
	struct mh_trace_reader *r;
	int stream, ret, code = MH_EXIT_OK;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		puts("usage: memhook dump TRACE\nPrint every record of TRACE, one per line.\n"
		     "  -h, --help             print this help");
		return MH_EXIT_OK;
	}
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "memhook: %s (usage: memhook dump TRACE)\n",
			argc < 2 ? "missing trace file" : argc > 2 ? "too many arguments" : "unknown option");
		return MH_EXIT_USAGE;
	}
	r = mh_trace_reader_open(argv[1]);
	if (!r)
		return open_error(argv[1], errno);
	dump_header(mh_trace_reader_header(r));
	while ((ret = mh_trace_reader_next(r, MH_STREAM_ANY, &rec, &stream)) == 1)
		mh_dump_record(stdout, stream, rec);
	fflush(stdout);
	if (ret < 0) {
		fprintf(stderr, "memhook: cannot read trace '%s': %s\n", argv[1],
			mh_trace_reader_error(r));
		code = ret == -EIO ? MH_EXIT_NO_INPUT : MH_EXIT_BAD_TRACE;
	} else if (mh_trace_reader_truncated(r)) {
		fprintf(stderr, "memhook: warning: trace '%s' is truncated at offset %" PRIu64
			" (the recorder did not close it)\n", argv[1], mh_trace_reader_truncated_at(r));
	}
	mh_trace_reader_free(r);
	return code;
}
