// SPDX-License-Identifier: MIT
/*
 * compress.c - zstd on a chunk's payload, a block boundary at the start of
 * every section of its encoding (compress.h).
 *
 * zstd codes a block's literals with one Huffman table. The sections of
 * an encoding (the compact encoding's timestamp bytes, sizes, address
 * references...; the column layout's stamps, addresses, paths...) have
 * statistics of their own, but one-shot compression cuts its 128 KiB
 * blocks wherever they fall, so a block that straddles two sections
 * codes both with one table. Flushing at each section's start ends the
 * block there; matches still reach back across sections, within the one
 * frame. git log -p: the alloc stream 154,831 -> 151,257 bytes, the
 * kernel stream 122,022 -> 114,588. Never allocates (the context does,
 * as for one-shot compression), never prints.
 */
/* For ZSTD_c_stableInBuffer. */
#define ZSTD_STATIC_LINKING_ONLY
#include "trace/compress.h"

#include <zstd_errors.h>

#include "trace/columns.h"
#include "trace/compact.h"

/*
 * zstd level for chunks. On the column layout (trace_columns.h) level 1
 * is both smaller and faster than -1: 3.2 bytes per event at 19M
 * records/s on one core, against 3.8 at 15M (docs/FORMAT.md,
 * "Compression").
 */
#define TRACE_ZSTD_LEVEL 1

/*
 * A section shorter than this joins the next one's block: a block's
 * Huffman table costs more than a table of its own saves on a few bytes
 * (cc1's sample stream: 7,844 bytes one-shot, 10,049 cut at every
 * column, 7,844 at those of 4 KiB or more).
 */
#define SECTION_MIN_BYTES 4096

size_t mh_trace_compress(ZSTD_CCtx *cctx, void *dst, size_t cap, const void *src, size_t len,
			 bool compact, __u32 count)
{
	size_t ends[MH_TRACE_COLUMNS_SECTIONS], r;
	unsigned n = compact ? mh_trace_compact_sections(src, len, ends)
			     : mh_trace_columns_sections(src, len, count, ends);
	ZSTD_outBuffer out = { dst, cap, 0 };
	ZSTD_inBuffer in = { src, 0, 0 };

	_Static_assert(MH_TRACE_COLUMNS_SECTIONS >= MH_TRACE_COMPACT_SECTIONS, "room for either");
	if (!n)
		return (size_t)-ZSTD_error_srcSize_wrong;
	ZSTD_CCtx_reset(cctx, ZSTD_reset_session_only);
	/*
	 * The encoding stays where it is until the frame ends: zstd reads it
	 * in place. Else it copies it into a window of its own first, which
	 * took a third more instructions than one-shot compression (callgrind);
	 * a zstd without the parameter still works, slower.
	 */
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_stableInBuffer, 1);
	r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, TRACE_ZSTD_LEVEL);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setPledgedSrcSize(cctx, len);
	for (unsigned i = 0; i < n && !ZSTD_isError(r); i++) {
		if (i + 1 < n && ends[i] - in.size < SECTION_MIN_BYTES)
			continue;
		/* The same buffer, longer: a stable input may grow, never move. */
		in.size = ends[i];
		/* Until the section is in and flushed: more calls only when dst is nearly full. */
		do {
			r = ZSTD_compressStream2(cctx, &out, &in,
						 i + 1 < n ? ZSTD_e_flush : ZSTD_e_end);
		} while (!ZSTD_isError(r) && r && out.pos < out.size);
		if (!ZSTD_isError(r) && (r || in.pos < in.size))
			r = (size_t)-ZSTD_error_dstSize_tooSmall;
	}
	return ZSTD_isError(r) ? r : out.pos;
}
