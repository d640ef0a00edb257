/* SPDX-License-Identifier: MIT */
/*
 * trace.h - the trace file: a versioned header, then a sequence of
 * independently compressed chunks, each belonging to one stream.
 *
 *   struct mh_trace_header
 *   { struct mh_chunk_header; zstd frame of records } ...
 *   struct mh_chunk_header with stream MH_STREAM_END (clean close)
 *
 * A chunk is appended whole with one write(2) and carries a CRC32 of its
 * compressed bytes, so a reader can follow a file that is still being
 * written and can read a file whose writer died up to its last complete
 * chunk. Inside a chunk, records are those of events.h and kernel_events.h,
 * back to back, once the chunk's encoding (columns or compact) is undone.
 * docs/FORMAT.md is the full specification.
 */
#ifndef MEMHOOK_INCLUDE_TRACE_H
#define MEMHOOK_INCLUDE_TRACE_H

#include <linux/types.h>

#define MH_TRACE_MAGIC "MEMHOOK\0"	/* 8 bytes, NUL included */
/*
 * 2: chunks may have MH_CHUNK_COLUMNS; 3: OWN_SAMPLE, SCAN_COST; 4: MH_CHUNK_COMPACT;
 * 5: the compact encoding splits timestamps, frees name their allocation relatively;
 * 6: it gives each kind of address and the new stack ids parts of their own;
 *    chunks up to 16 MiB;
 * 7: stamps in units of the header's time_unit_ns (floored), coded in those units
 * 8: the column layout gives every fixed field a column with planes of its own,
 *    codes stamps against the previous record's and a few fields against like
 *    fields, and keeps variable parts out of the planes
 * 9: the compact encoding keeps the freed addresses of large blocks by size;
 *    the column layout codes a file's first fault's inode against its KFILE's
 * 10: the compact encoding names a freed address from the same thread's
 *    previous free's
 */
#define MH_TRACE_VERSION 10
/* Oldest version a reader of this build still reads. */
#define MH_TRACE_VERSION_MIN 1
#define MH_CHUNK_MAGIC 0x4b43484dU	/* "MHCK" little-endian */
/* Largest uncompressed chunk a writer produces and a reader accepts. */
#define MH_CHUNK_MAX_RAW_BYTES (16U << 20)

enum mh_trace_flags {
	MH_TRACE_LITTLE_ENDIAN = 0x1,	/* records are little-endian */
	MH_TRACE_LOSSY = 0x2,		/* recorded with --lossy */
};

enum mh_stream {
	MH_STREAM_META = 0,	/* INFO, PROCESS, EXIT, MODULE, THREAD, LOST, LEAK */
	MH_STREAM_ALLOC = 1,	/* the preload's records, in ring order */
	MH_STREAM_KERNEL = 2,	/* the BPF collector's records */
	MH_STREAM_SAMPLE = 3,	/* the recorder's /proc and pagemap samples */
	MH_STREAM_COUNT,
	MH_STREAM_END = 0xffff,	/* empty chunk: the writer closed the file */
};

enum mh_chunk_flags {
	MH_CHUNK_ZSTD = 0x1,	/* payload is one zstd frame; else raw records */
	MH_CHUNK_COLUMNS = 0x2,	/* records in the column layout (docs/FORMAT.md), before zstd */
	MH_CHUNK_COMPACT = 0x4,	/* records in the compact encoding (docs/FORMAT.md), before zstd */
};

/* Oldest version whose chunks may have MH_CHUNK_COMPACT. */
#define MH_TRACE_VERSION_COMPACT 4
/* Oldest version whose header has time_unit_ns (before it: exact ns, 1). */
#define MH_TRACE_VERSION_TIME_UNIT 7
/* Oldest version whose column layout is version 8's (docs/FORMAT.md "Column layout"). */
#define MH_TRACE_VERSION_FIELD_COLUMNS 8
/* Oldest version whose compact encoding has size classes for large blocks. */
#define MH_TRACE_VERSION_LARGE_CLASSES 9
/* Oldest version whose compact encoding keeps each thread's next free position. */
#define MH_TRACE_VERSION_THREAD_FREES 10
/* Oldest version whose column layout codes a KFILE's next FILE fault against it. */
#define MH_TRACE_VERSION_FILE_FAULT 9
/* Coarsest time unit a reader accepts, ns (a second). */
#define MH_TRACE_TIME_UNIT_MAX_NS 1000000000U
/*
 * The recorder's time unit unless --time-resolution says otherwise, ns: a
 * power of two (a shift, not a division, per stamp) near 1 us. Finer
 * stamps are mostly clock noise that costs bytes (docs/FORMAT.md).
 */
#define MH_TRACE_TIME_UNIT_DEFAULT_NS 1024U

struct mh_trace_header {
	char magic[8];		/* MH_TRACE_MAGIC */
	__u16 version;		/* MH_TRACE_VERSION */
	__u16 header_bytes;	/* sizeof(struct mh_trace_header) when written */
	__u32 flags;		/* enum mh_trace_flags */
	__u64 start_ns;		/* CLOCK_MONOTONIC ns when recording began */
	__u64 start_realtime_ns; /* CLOCK_REALTIME ns at the same instant */
	__u32 page_size;	/* bytes per page on the recording machine */
	__u32 root_pid;		/* the first traced process */
	__u32 pointer_bytes;	/* sizeof(void *) of the traced program */
	/*
	 * Every stamp in the trace is a multiple of this many ns, floored to
	 * it by the writer (version 7 on; 0, read as 1, before).
	 */
	__u32 time_unit_ns;
};

struct mh_chunk_header {
	__u32 magic;		/* MH_CHUNK_MAGIC */
	__u16 stream;		/* enum mh_stream */
	__u16 flags;		/* enum mh_chunk_flags */
	__u32 stored_bytes;	/* bytes of payload that follow this header */
	__u32 raw_bytes;	/* bytes of records once decompressed */
	__u32 record_count;	/* records in the chunk */
	__u32 crc32;		/* zlib crc32 of the stored payload */
	__u64 first_ts_ns;	/* smallest timestamp in the chunk, 0 if none */
};

_Static_assert(sizeof(struct mh_trace_header) == 48, "trace header size");
_Static_assert(sizeof(struct mh_chunk_header) == 32, "chunk header size");

#endif /* MEMHOOK_INCLUDE_TRACE_H */
