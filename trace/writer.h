/* SPDX-License-Identifier: MIT */
/*
 * writer.h - appends records to a trace file (include/memhook/trace.h),
 * one zstd-compressed chunk per stream at a time.
 *
 * Each stream has its own buffer; a chunk is written with one write(2) when
 * its buffer fills or mh_trace_writer_flush() is called, so the file is
 * always a valid trace up to its last chunk. Stamps are floored to the
 * header's time_unit_ns. Thread-safe: the recorder's
 * ring drainer and the BPF collector append from different threads.
 * Never prints; errors are returned as -errno (-ENOSPC for a full disk).
 */
#ifndef MEMHOOK_TRACE_WRITER_H
#define MEMHOOK_TRACE_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memhook/events.h"
#include "memhook/trace.h"

struct mh_trace_writer;

/*
 * Fill hdr for a trace recorded now, by this build, of the process tree
 * rooted at root_pid; flags adds MH_TRACE_* bits (byte order is set here).
 */
void mh_trace_header_init(struct mh_trace_header *hdr, uint32_t root_pid, uint32_t flags);

/*
 * Record stamps in units of unit_ns ns (>= 1; header_init's default is 1,
 * exact ns): the writer floors every stamp to a multiple of it, the start
 * included (start_realtime_ns moves with it).
 */
void mh_trace_header_set_time_unit(struct mh_trace_header *hdr, uint32_t unit_ns);

/*
 * Create path (mode 0600, truncating an existing file) and write the
 * header. Returns NULL with errno set.
 */
struct mh_trace_writer *mh_trace_writer_open(const char *path, const struct mh_trace_header *hdr);

/*
 * As mh_trace_writer_open() on an fd already open for writing (the
 * recorder creates its traces through common/output_file.h). The writer
 * owns fd from now on, also when it fails: NULL with errno set.
 */
struct mh_trace_writer *mh_trace_writer_fdopen(int fd, const struct mh_trace_header *hdr);

/*
 * Append whole records (back to back, each a multiple of 8 bytes) to a
 * stream. Returns 0 or -errno; after a write error every later call
 * returns it too, and what was written before stays readable. A malformed
 * record gives -EINVAL (not sticky): records of the same call that did not
 * fit in the stream's buffer before it are dropped with it.
 */
int mh_trace_writer_append(struct mh_trace_writer *w, int stream, const void *records,
			   size_t bytes);

/*
 * Write records straight into a stream's buffer instead of appending a
 * copy: *at gets room for at least min bytes (at most
 * MH_CHUNK_MAX_RAW_BYTES, and 1 MiB for MH_STREAM_ALLOC, whose records
 * are encoded at commit and their room reused; the buffer is written out
 * as a chunk first when less is left), *cap its size. The stream stays locked until
 * mh_trace_writer_commit, which the caller must call next with the bytes
 * of whole records it put there (0: none): they are checked and taken as
 * append takes them (-EINVAL, nothing taken, if one is malformed).
 * Returns 0, or -errno (a write error, sticky as for append; -EINVAL for
 * a bad stream or min) and the stream is not locked.
 */
int mh_trace_writer_room(struct mh_trace_writer *w, int stream, size_t min, void **at,
			 size_t *cap);
int mh_trace_writer_commit(struct mh_trace_writer *w, int stream, size_t bytes);

/*
 * mh_trace_writer_commit for records the caller has checked already
 * (whole and valid, as the ring's reader hands them out): count of them
 * and their smallest stamp (0: none) as it found them, not measured
 * again. bytes must fit in the room given. Returns 0, or -ENOMEM (the
 * encoder's tables) or a write error as append.
 */
int mh_trace_writer_commit_checked(struct mh_trace_writer *w, int stream, size_t bytes,
				   __u32 count, __u64 first_ts);

/* Write out every stream's buffered records as chunks. 0 or -errno. */
int mh_trace_writer_flush(struct mh_trace_writer *w);

/*
 * Flush, write the END chunk, fsync (with durable: a trace read back at
 * once and removed, as check's and run's, need not wait for the disk)
 * and close; frees w. Returns 0 or the first error seen. Accepts NULL.
 */
int mh_trace_writer_close(struct mh_trace_writer *w, bool durable);

#endif /* MEMHOOK_TRACE_WRITER_H */
