// SPDX-License-Identifier: MIT
/*
 * compress.c - zstd on a chunk's payload; on a compact one's, a block
 * boundary at the start of every part (compress.h).
 *
 * zstd codes a block's literals with one Huffman table. The compact
 * encoding's parts (timestamp bytes, sizes, address references...) have
 * statistics of their own, but one-shot compression cuts its 128 KiB
 * blocks wherever they fall, so a block that straddles two parts codes
 * both with one table. Flushing at each part's start ends the block
 * there; matches still reach back across parts, within the one frame.
 * git log -p's allocation stream: 154,831 -> 151,257 bytes. Never
 * allocates (the context does, as for one-shot compression), never
 * prints.
 */
/* For ZSTD_c_stableInBuffer. */
#define ZSTD_STATIC_LINKING_ONLY
#include "trace/compress.h"

#include <zstd_errors.h>

#include "trace/compact.h"

size_t mh_trace_compress(ZSTD_CCtx *cctx, int level, void *dst, size_t cap, const void *src,
			 size_t len, bool compact)
{
	size_t ends[MH_TRACE_COMPACT_SECTIONS], r;
	unsigned n = compact ? mh_trace_compact_sections(src, len, ends) : 0;
	ZSTD_outBuffer out = { dst, cap, 0 };
	ZSTD_inBuffer in = { src, 0, 0 };

	if (!compact)
		return ZSTD_compressCCtx(cctx, dst, cap, src, len, level);
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
	r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setPledgedSrcSize(cctx, len);
	for (unsigned i = 0; i < n && !ZSTD_isError(r); i++) {
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
