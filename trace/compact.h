/* SPDX-License-Identifier: MIT */
/*
 * compact.h - the compact encoding of a chunk's records before
 * compression when the chunk has MH_CHUNK_COMPACT (trace.h): ALLOC, FREE
 * and REALLOC records become a tag byte and a few varints, as differences
 * from the same thread's previous event (timestamp, address) and as
 * references to recent stack ids; every other record is copied as it is.
 * The decoder gives back the exact bytes of the records, but for stamps,
 * floored to the trace's time unit. State lives for
 * one chunk only, so every chunk decodes on its own. docs/FORMAT.md,
 * "Compact encoding", is the specification.
 */
#ifndef MEMHOOK_TRACE_COMPACT_H
#define MEMHOOK_TRACE_COMPACT_H

#include <stddef.h>
#include <sys/types.h>

#include <linux/types.h>

/*
 * Most bytes the encoding of `bytes` bytes of records can take: a copied
 * record grows by one tag byte, an event record (>= 40 bytes) takes at
 * most 80.
 */
#define MH_TRACE_COMPACT_BOUND(bytes) (2 * (size_t)(bytes) + 64)

/* Per-chunk tables of one encoder or decoder; reused from chunk to chunk. */
struct mh_trace_compact;

/* A new coder, or NULL (ENOMEM). */
struct mh_trace_compact *mh_trace_compact_new(void);

/*
 * Decode the encoding of a trace of this version from now on (default:
 * the current one, the only one the encoder writes). Version 4 had no
 * high timestamp part and named every address by its distance back;
 * versions 4 and 5 kept every address in one part and the new stack ids
 * with the stack codes; before version 9 blocks of 1001 bytes and more
 * had no size class.
 */
void mh_trace_compact_set_version(struct mh_trace_compact *c, unsigned version);

/*
 * Code stamps in units of unit_ns ns from now on (default 1; 0 counts
 * as 1): the encoder stores every stamp floored to the unit (the events'
 * as differences in units, the copied records' floored in place), the
 * decoder gives back ns, multiples of the unit. The trace header's
 * time_unit_ns.
 */
void mh_trace_compact_set_time_unit(struct mh_trace_compact *c, __u32 unit_ns);

/* Free a coder. Accepts NULL. */
void mh_trace_compact_free(struct mh_trace_compact *c);

/*
 * Encode the whole, valid records (sizes >= 8, multiples of 8, summing to
 * bytes) at records into out, which has room for
 * MH_TRACE_COMPACT_BOUND(bytes) bytes. Returns the bytes written, or 0
 * when the coder's tables could not grow (out of memory) or bytes is past
 * 320 MiB (chunks hold at most MH_CHUNK_MAX_RAW_BYTES): store the chunk
 * another way. Not thread-safe on one coder.
 */
size_t mh_trace_compact_encode(struct mh_trace_compact *c, const void *records, size_t bytes,
			       void *out);

/*
 * The same encoding of a chunk made a part at a time, as its records
 * come: open a chunk of at most `bytes` bytes of records (0 or -ENOMEM),
 * add records to it (whole and valid, as for mh_trace_compact_encode),
 * close it into out (room for mh_trace_compact_size() bytes, at most
 * MH_TRACE_COMPACT_BOUND of the records added). add returns the bytes of
 * records it took: all of them but when the coder's tables could not
 * grow (out of memory) or the chunk has no room left, and then the
 * records taken are whole; close the chunk and add the others to another.
 * The records added need not stay in memory. Not thread-safe on one coder.
 */
int mh_trace_compact_open(struct mh_trace_compact *c, size_t bytes);
size_t mh_trace_compact_add(struct mh_trace_compact *c, const void *records, size_t bytes);
size_t mh_trace_compact_size(const struct mh_trace_compact *c);
size_t mh_trace_compact_close(struct mh_trace_compact *c, void *out);

/*
 * Where the sections of an encoding (packed, len bytes, as
 * mh_trace_compact_close() wrote it) end: the part lengths, then each
 * part, which zstd codes best with statistics of their own. Fills ends
 * (offsets from packed, ascending, the last len) and returns how many,
 * MH_TRACE_COMPACT_SECTIONS; 0 when packed is not such an encoding.
 */
#define MH_TRACE_COMPACT_SECTIONS 13
unsigned mh_trace_compact_sections(const void *packed, size_t len,
				   size_t ends[MH_TRACE_COMPACT_SECTIONS]);

/*
 * Undo mh_trace_compact_encode: decode the len bytes at packed into
 * exactly count records of raw_bytes bytes at out (raw_bytes long).
 * Returns 0; -EBADMSG when packed is not such an encoding (a record cut
 * short, a reference to no thread or stack, the wrong count or size; a
 * copied record's header with a size that is not a multiple of 8);
 * -ENOMEM. Never reads or writes outside the buffers. Not thread-safe on
 * one coder.
 */
int mh_trace_compact_decode(struct mh_trace_compact *c, const void *packed, size_t len,
			    void *out, size_t raw_bytes, __u32 count);

/* Where the decoding of a chunk taken a slice at a time stands. */
struct mh_trace_compact_cursor;

/* A new cursor, or NULL (ENOMEM). */
struct mh_trace_compact_cursor *mh_trace_compact_cursor_new(void);

/* Free a cursor. Accepts NULL. */
void mh_trace_compact_cursor_free(struct mh_trace_compact_cursor *cur);

/*
 * Start decoding the len bytes at packed (kept until the chunk is all
 * decoded) as mh_trace_compact_decode() would, a slice at a time with
 * mh_trace_compact_decode_some(). 0, -EBADMSG or -ENOMEM.
 */
int mh_trace_compact_begin(struct mh_trace_compact *c, struct mh_trace_compact_cursor *cur,
			   const void *packed, size_t len, size_t raw_bytes, __u32 count);

/*
 * Decode the chunk's next whole records into out, as many as fit in room
 * bytes. Returns the bytes written; 0 once the chunk is all decoded and
 * was a valid encoding; -ENOSPC (*need: the bytes of the next record)
 * when not even one record fits; -EBADMSG, -ENOMEM. Records handed out
 * before an -EBADMSG were decoded right: the error is about what follows.
 */
ssize_t mh_trace_compact_decode_some(struct mh_trace_compact *c, struct mh_trace_compact_cursor *cur,
				     void *out, size_t room, size_t *need);

/*
 * Records of the chunk mh_trace_compact_decode() decoded last that were
 * stored as they are. The others, ALLOC, FREE and REALLOC records, are
 * whole and valid by construction: a reader need check only these.
 */
__u32 mh_trace_compact_copies(const struct mh_trace_compact *c);

#endif /* MEMHOOK_TRACE_COMPACT_H */
