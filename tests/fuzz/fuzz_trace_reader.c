// SPDX-License-Identifier: MIT
/*
 * fuzz_trace_reader.c - libFuzzer entry for the trace reader
 * (trace/reader.c) and `memhook dump`'s record printer: every input
 * is written to a memfd and read to the end, every byte of every record
 * handed out is touched and the record is printed to /dev/null, so
 * AddressSanitizer sees any over-read. The reader must return an error,
 * never crash.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "trace/describe.h"
#include "trace/reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static volatile unsigned char sink;
	static FILE *devnull;
	const struct mh_rec_hdr *rec;
	struct mh_trace_reader *r;
	char path[64];
	size_t i;
	int fd, ret, stream, want;

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	if (!devnull)
		return 0;

	fd = memfd_create("trace", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size)
		goto out_close;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = mh_trace_reader_open(path);
	if (!r)
		goto out_close;
	/* The last byte also picks a stream to read alone, to cover stepping over chunks. */
	want = data[size - 1] % 8 < 4 ? data[size - 1] % 8 : MH_STREAM_ANY;
	while ((ret = mh_trace_reader_next(r, want, &rec, &stream)) == 1) {
		for (i = 0; i < rec->size; i++)
			sink ^= ((const unsigned char *)rec)[i];
		mh_dump_record(devnull, stream, rec);
	}
	if (ret < 0)
		sink ^= (unsigned char)mh_trace_reader_error(r)[0];
	mh_trace_reader_free(r);
out_close:
	close(fd);
	return 0;
}
