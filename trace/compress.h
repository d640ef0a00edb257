/* SPDX-License-Identifier: MIT */
/*
 * compress.h - the zstd frame of a chunk's payload, its blocks cut where
 * the sections of its encoding begin: a compact one's parts (compact.h),
 * a column layout's columns (columns.h). Still one frame, which any zstd
 * decoder reads: the trace format is the same.
 */
#ifndef MEMHOOK_TRACE_COMPRESS_H
#define MEMHOOK_TRACE_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>

#include <linux/types.h>
#include <zstd.h>

/*
 * Compress src (len bytes: a compact encoding, or else the column layout
 * of count records) into dst (cap bytes) with cctx. Returns the frame's
 * bytes, or a zstd error code (ZSTD_isError()): dst too small, src not
 * such an encoding. Not thread-safe on one cctx.
 */
size_t mh_trace_compress(ZSTD_CCtx *cctx, void *dst, size_t cap, const void *src, size_t len,
			 bool compact, __u32 count);

#endif /* MEMHOOK_TRACE_COMPRESS_H */
