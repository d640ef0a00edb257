/* SPDX-License-Identifier: MIT */
/*
 * columns.h - the reversible layout a chunk's records take before
 * compression when the chunk has MH_CHUNK_COLUMNS (trace.h): records split
 * into columns of like fields, timestamps as differences, and the bytes of
 * every 8-byte word spread into eight planes, so zstd sees long runs of
 * equal bytes. docs/FORMAT.md, "Column layout", is the specification.
 */
#ifndef MEMHOOK_TRACE_COLUMNS_H
#define MEMHOOK_TRACE_COLUMNS_H

#include <stddef.h>

#include <linux/types.h>

/*
 * Lay out count whole records (bytes long, at most MH_CHUNK_MAX_RAW_BYTES,
 * already valid: sizes >= 8, multiples of 8, summing to bytes) from records into out (bytes long, not
 * overlapping) as a trace of this version (2 .. MH_TRACE_VERSION) reads
 * them, the stamps at word 1 in units of unit_ns ns (>= 1),
 * floored, and a span's start at word 2 (KRECLAIM, KSYSCALL, SCAN_COST)
 * as its length in units (version 7 on): the writer floors every stamp
 * first (mh_rec_floor_stamps), so none is lost. Never fails. Thread-safe
 * (no shared state; about 40 KiB of stack).
 */
void mh_trace_columns_encode(const void *records, size_t bytes, __u32 count, unsigned version,
			     __u32 unit_ns, void *out);

/*
 * Undo mh_trace_columns_encode: rebuild count records (bytes long) from
 * packed into out (bytes long, not overlapping) as a trace of this
 * version wrote it: stamps back in ns (multiples of unit_ns, the header's
 * time_unit_ns; 1 and spans' starts as they are before version 7). Returns 0, or -EBADMSG
 * when packed cannot be the layout of count records of bytes bytes (the
 * record sizes it holds are not all >= 8 and multiples of 8, or do not sum
 * to bytes; bytes is above MH_CHUNK_MAX_RAW_BYTES). Never reads or writes outside the two buffers. Thread-safe
 * (about 40 KiB of stack).
 */
int mh_trace_columns_decode(const void *packed, size_t bytes, __u32 count, unsigned version,
			    __u32 unit_ns, void *out);

/* Most sections a layout has: the header words, each column, the variable parts. */
#define MH_TRACE_COLUMNS_SECTIONS (2 + 256 * 11)

/*
 * Where the sections of a layout of this build's version (packed, bytes
 * long, count records, as mh_trace_columns_encode() wrote it) end: the
 * header words, each column that has words, then the variable parts;
 * each has statistics of its own, which zstd codes best apart. Fills ends
 * (offsets from packed, ascending, the last bytes) and returns how many;
 * 0 when packed cannot be such a layout. Thread-safe (about 40 KiB of
 * stack).
 */
unsigned mh_trace_columns_sections(const void *packed, size_t bytes, __u32 count,
				   size_t ends[MH_TRACE_COLUMNS_SECTIONS]);

#endif /* MEMHOOK_TRACE_COLUMNS_H */
