/* SPDX-License-Identifier: MIT */
/*
 * compress.h - the zstd frame of a chunk's payload; a compact one's
 * (compact.h) with its blocks cut where the encoding's parts begin. Still
 * one frame, which any zstd decoder reads: the trace format is the same.
 */
#ifndef MEMHOOK_TRACE_COMPRESS_H
#define MEMHOOK_TRACE_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>

#include <zstd.h>

/*
 * Compress src (len bytes; when compact, a compact encoding) at level into
 * dst (cap bytes) with cctx. Returns the frame's bytes, or a zstd error
 * code (ZSTD_isError()): dst too small, src not a compact encoding. Not
 * thread-safe on one cctx.
 */
size_t mh_trace_compress(ZSTD_CCtx *cctx, int level, void *dst, size_t cap, const void *src,
			 size_t len, bool compact);

#endif /* MEMHOOK_TRACE_COMPRESS_H */
