/* SPDX-License-Identifier: MIT */
/*
 * reader.h - streaming reader of trace files (include/memhook/trace.h).
 *
 * Holds one decompressed chunk at a time, so memory does not grow with the
 * trace. Verifies every chunk (magic, sizes, CRC32, zstd) and every record
 * header (size, alignment, bounds) before handing it out: a corrupt trace
 * is an error, never a crash. Chunks of streams the caller did not ask for
 * are stepped over unread (only their header is checked). Never prints.
 */
#ifndef MEMHOOK_TRACE_READER_H
#define MEMHOOK_TRACE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memhook/events.h"
#include "memhook/trace.h"

/* Pass as stream to read every stream in file order. */
#define MH_STREAM_ANY (-1)

struct mh_trace_reader;

/*
 * Open a trace and validate its header. Returns NULL with errno set:
 * ENOENT/EACCES/... from open, EPROTO when the file is not a memhook trace,
 * EPROTONOSUPPORT for a version this build cannot read, EBADMSG for a
 * header with impossible values (a page size that is not a power of two,
 * a time unit above a second). The header's time_unit_ns is 1 for traces
 * older than version 7 and where it says 0 (exact ns).
 */
struct mh_trace_reader *mh_trace_reader_open(const char *path);

/* Free the reader and close its file. Accepts NULL. */
void mh_trace_reader_free(struct mh_trace_reader *r);

/* The validated file header. */
const struct mh_trace_header *mh_trace_reader_header(const struct mh_trace_reader *r);

/*
 * Next record of `stream` (an enum mh_stream, or MH_STREAM_ANY), in file
 * order. Returns 1 and points *rec at the record (valid until the next
 * call), 0 at the end of the trace, or -errno: -EBADMSG for a corrupt
 * chunk or record, -EIO for a read error. After an error, the reader stays
 * at the error. *stream_out (may be NULL) receives the record's stream.
 */
int mh_trace_reader_next(struct mh_trace_reader *r, int stream, const struct mh_rec_hdr **rec,
			 int *stream_out);

/*
 * Make sure the next record of `stream` is loaded (its chunk read,
 * decoded and checked) without handing anything out: 1, 0 at the end of
 * the trace, or -errno as mh_trace_reader_next().
 */
int mh_trace_reader_ready(struct mh_trace_reader *r, int stream);

/*
 * Next records of `stream`, decoded straight into the caller's *buf (*cap
 * bytes; grown when one record needs more): as many whole records as
 * fit, a slice of a chunk at a time, so that they can be used while
 * still in the cache. *bytes gets their size. Returns 1, 0 at the end of
 * the trace, or -errno as mh_trace_reader_next(); the slices handed out
 * before a chunk's encoding proves bad are its right first records.
 * A reader read this way must not be read with the calls above.
 */
int mh_trace_reader_take_records(struct mh_trace_reader *r, int stream, unsigned char **buf,
				 size_t *cap, size_t *bytes);

/*
 * True once the end of the file was reached without the writer's END
 * chunk (the writer died or is still writing), or the last chunk was cut
 * short. mh_trace_reader_truncated_at() gives the file offset of the first
 * byte that could not be read as a complete chunk.
 */
bool mh_trace_reader_truncated(const struct mh_trace_reader *r);
uint64_t mh_trace_reader_truncated_at(const struct mh_trace_reader *r);

/* Human-readable description of the last error, naming the file offset (not the file). */
const char *mh_trace_reader_error(const struct mh_trace_reader *r);

#endif /* MEMHOOK_TRACE_READER_H */
