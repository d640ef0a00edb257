/* SPDX-License-Identifier: MIT */
/*
 * events.h - the records that cross a process boundary.
 *
 * The preload writes them into the shared ring, the recorder copies them
 * into the trace file, the BPF collector adds its own (kernel_events.h), and
 * the merger reads them back. Every record starts with struct mh_rec_hdr and
 * is a multiple of 8 bytes long. Fields are fixed-width in host byte order
 * (the trace header names the order) with explicit padding, so the same
 * bytes are valid in the ring, in the file and in BPF.
 *
 * Never reorder or resize a field: append new record types or new fields at
 * the end of a record and bump MH_TRACE_VERSION (trace.h).
 */
#ifndef MEMHOOK_INCLUDE_EVENTS_H
#define MEMHOOK_INCLUDE_EVENTS_H

#include <linux/types.h>

/* Records are padded to this many bytes. */
#define MH_REC_ALIGN 8
#define MH_REC_PAD(bytes) (((bytes) + MH_REC_ALIGN - 1) & ~(__u64)(MH_REC_ALIGN - 1))

/* Longest call stack a record can carry, in frames. */
#define MH_STACK_MAX_DEPTH 128
/* Default stack depth, in frames; MEMHOOK_DEPTH / --depth change it. */
#define MH_STACK_DEFAULT_DEPTH 64
/* Length of a thread name, as the kernel's TASK_COMM_LEN. */
#define MH_THREAD_NAME_LEN 16
/* Longest GNU build-id we keep, in bytes (SHA-1 is 20). */
#define MH_BUILD_ID_MAX 20

enum mh_rec_type {
	MH_REC_NONE = 0,	/* never written: an all-zero header means "not committed" */
	MH_REC_ALLOC = 1,	/* struct mh_rec_alloc */
	MH_REC_FREE = 2,	/* struct mh_rec_free */
	MH_REC_REALLOC = 3,	/* struct mh_rec_realloc */
	MH_REC_STACK = 4,	/* struct mh_rec_stack, then depth ips */
	MH_REC_MODULE = 5,	/* struct mh_rec_module, then segments, then path */
	MH_REC_MODULE_UNLOAD = 6, /* struct mh_rec_module_unload */
	MH_REC_THREAD = 7,	/* struct mh_rec_thread */
	MH_REC_PROCESS = 8,	/* struct mh_rec_process, then exe path */
	MH_REC_EXIT = 9,	/* struct mh_rec_exit */
	MH_REC_LOST = 10,	/* struct mh_rec_lost */
	MH_REC_INFO = 11,	/* struct mh_rec_info, then key and value */
	MH_REC_RSS_SAMPLE = 12,	/* struct mh_rec_rss_sample (recorder's /proc sampler) */
	MH_REC_PAGEMAP = 13,	/* struct mh_rec_pagemap, then a bitmap */
	MH_REC_LEAK = 14,	/* struct mh_rec_leak (exit-time reachability verdict) */
	MH_REC_EXIT_SCAN = 15,	/* struct mh_rec_exit_scan: the process waits to be scanned */
	MH_REC_OWN_SAMPLE = 16,	/* struct mh_rec_own_sample: memhook's own share of a process's RSS */
	MH_REC_SCAN_COST = 17,	/* struct mh_rec_scan_cost: what an exit scan did to the process */

	/* 64 and up belong to the kernel stream: kernel_events.h */
	MH_REC_KERNEL_FIRST = 64,
};

/*
 * What the program called. ALLOC records carry the allocating kinds, FREE
 * records the releasing ones, REALLOC records realloc, reallocarray and
 * mremap.
 */
enum mh_alloc_kind {
	MH_KIND_NONE = 0,
	MH_KIND_MALLOC,
	MH_KIND_CALLOC,
	MH_KIND_REALLOC,
	MH_KIND_REALLOCARRAY,
	MH_KIND_POSIX_MEMALIGN,
	MH_KIND_ALIGNED_ALLOC,
	MH_KIND_MEMALIGN,
	MH_KIND_VALLOC,
	MH_KIND_PVALLOC,
	MH_KIND_FREE,
	MH_KIND_FREE_SIZED,
	MH_KIND_FREE_ALIGNED_SIZED,
	MH_KIND_MMAP,
	MH_KIND_MUNMAP,
	MH_KIND_MREMAP,
	MH_KIND_BRK,
	MH_KIND_SBRK,
	MH_KIND_COUNT,
};

/*
 * Common header. A producer writes the payload first and the header last,
 * with one release store of all 8 bytes: in the ring, a non-zero header is
 * the commit mark.
 */
struct mh_rec_hdr {
	__u16 type;		/* enum mh_rec_type */
	__u16 kind;		/* enum mh_alloc_kind for ALLOC/FREE/REALLOC, else 0 */
	__u32 size;		/* bytes of the whole record, this header included */
};

/* A block came into existence: malloc family, mmap, brk/sbrk growth. */
struct mh_rec_alloc {
	struct mh_rec_hdr hdr;
	__u64 ts_ns;		/* CLOCK_MONOTONIC ns, taken after the real call returned */
	__u64 addr;		/* start of the block */
	__u64 size;		/* bytes requested (calloc: nmemb * size) */
	__u64 stack_id;		/* interned stack (MH_REC_STACK), 0 if none */
	__u32 tid;		/* kernel thread id of the caller */
	__u32 pid;		/* process id of the caller */
};

/* A block went away: free family, munmap, brk/sbrk shrink. */
struct mh_rec_free {
	struct mh_rec_hdr hdr;
	__u64 ts_ns;		/* CLOCK_MONOTONIC ns, taken before the real call */
	__u64 addr;		/* start of the released range */
	__u64 size;		/* bytes released for munmap/brk/free_sized, else 0 */
	__u32 tid;		/* kernel thread id of the caller */
	__u32 pid;		/* process id of the caller */
};

/* A block moved or changed size: realloc, reallocarray, mremap. */
struct mh_rec_realloc {
	struct mh_rec_hdr hdr;
	__u64 ts_ns;		/* CLOCK_MONOTONIC ns, taken before the real call */
	__u64 addr;		/* new start of the block */
	__u64 size;		/* new size in bytes */
	__u64 old_addr;		/* previous start, 0 when realloc(NULL, n) */
	__u64 old_size;		/* previous size in bytes (mremap only, else 0) */
	__u64 stack_id;		/* interned stack of the call */
	__u32 tid;		/* kernel thread id of the caller */
	__u32 pid;		/* process id of the caller */
};

/*
 * A call stack, sent once per process image before the first event that
 * uses it. ips[0] is the innermost frame, the return address into the
 * caller of the interposed function; all entries are return addresses
 * except ips[0] when MH_STACK_EXACT_IP0 is set.
 */
struct mh_rec_stack {
	struct mh_rec_hdr hdr;
	__u64 stack_id;		/* content hash of ips[], never 0 */
	__u32 pid;		/* process that captured it */
	__u16 depth;		/* number of ips that follow */
	__u16 flags;		/* MH_STACK_TRUNCATED */
	/* __u64 ips[depth]; */
};

#define MH_STACK_TRUNCATED 0x1	/* the stack was deeper than the depth limit */

/* One PT_LOAD segment of a module, at its runtime address. */
struct mh_module_segment {
	__u64 start;		/* runtime address of the segment's first byte */
	__u64 size;		/* bytes of memory (p_memsz) */
	__u64 file_offset;	/* p_offset */
	__u32 prot;		/* PROT_READ | PROT_WRITE | PROT_EXEC */
	__u32 pad;
};

/*
 * A loaded ELF module (executable, shared library, vdso), sent at start and
 * on every dlopen. The path follows the segments, NUL-terminated and padded.
 */
struct mh_rec_module {
	struct mh_rec_hdr hdr;
	__u64 ts_ns;		/* CLOCK_MONOTONIC ns when it was seen */
	__u64 load_bias;	/* dlpi_addr: runtime address minus ELF vaddr */
	__u32 pid;		/* process that loaded it */
	__u16 segment_count;	/* struct mh_module_segment entries that follow */
	__u8 build_id_len;	/* bytes of build_id used, 0 if none */
	__u8 pad;
	__u8 build_id[MH_BUILD_ID_MAX]; /* GNU build-id note */
	__u32 path_len;		/* bytes of the path, NUL excluded */
	/* struct mh_module_segment segments[segment_count]; */
	/* char path[path_len + 1]; padded to MH_REC_ALIGN */
};

/* A module disappeared (dlclose). */
struct mh_rec_module_unload {
	struct mh_rec_hdr hdr;
	__u64 ts_ns;		/* CLOCK_MONOTONIC ns when it was seen gone */
	__u64 load_bias;	/* as in its MH_REC_MODULE */
	__u32 pid;
	__u32 pad;
};

/* A thread appeared or was renamed. */
struct mh_rec_thread {
	struct mh_rec_hdr hdr;
	__u64 ts_ns;		/* CLOCK_MONOTONIC ns */
	__u32 pid;
	__u32 tid;
	char name[MH_THREAD_NAME_LEN]; /* NUL-terminated comm */
};

enum mh_process_start {
	MH_PROCESS_LAUNCHED = 1,	/* the program memhook started */
	MH_PROCESS_FORKED = 2,		/* a followed fork child: a copy of its parent's image */
	MH_PROCESS_EXECED = 3,		/* a new program: exec'd in a traced pid or in a spawned child */
	MH_PROCESS_ATTACHED = 4,	/* memhook collect -p */
};

/* A process image started being traced. The exe path follows. */
struct mh_rec_process {
	struct mh_rec_hdr hdr;
	__u64 ts_ns;		/* CLOCK_MONOTONIC ns */
	__u32 pid;
	__u32 ppid;
	__u32 start;		/* enum mh_process_start */
	__u32 path_len;		/* bytes of the exe path, NUL excluded */
	/* char path[path_len + 1]; padded to MH_REC_ALIGN */
};

enum mh_exit_reason {
	MH_EXIT_UNKNOWN = 0,	/* the trace ended without a verdict */
	MH_EXIT_NORMAL = 1,	/* exit(), return from main, _exit() */
	MH_EXIT_SIGNAL = 2,	/* killed by a signal */
	MH_EXIT_OOM = 3,	/* killed by the OOM killer (kernel stream saw it) */
};

/* How a process ended. Written by the recorder (waitpid) or the preload. */
struct mh_rec_exit {
	struct mh_rec_hdr hdr;
	__u64 ts_ns;		/* CLOCK_MONOTONIC ns */
	__u32 pid;
	__u32 reason;		/* enum mh_exit_reason */
	__s32 status;		/* exit code for NORMAL, signal number for SIGNAL/OOM */
	__u32 core_dumped;	/* 1 if a core was dumped */
};

/* Records dropped by a lossy ring or the kernel's ring buffer. */
struct mh_rec_lost {
	struct mh_rec_hdr hdr;
	__u64 ts_ns;		/* CLOCK_MONOTONIC ns when the loss was noticed */
	__u64 count;		/* records lost since the previous MH_REC_LOST */
	__u32 stream;		/* enum mh_stream (trace.h) that lost them */
	__u32 pad;
};

/*
 * A key/value fact about the recording: the command line, options, which
 * kernel probes attached and why others did not. Key then value follow,
 * each NUL-terminated, padded as a whole to MH_REC_ALIGN.
 */
struct mh_rec_info {
	struct mh_rec_hdr hdr;
	__u64 ts_ns;		/* CLOCK_MONOTONIC ns */
	__u32 pid;		/* process it is about, 0 for the whole trace */
	__u16 key_len;		/* bytes, NUL excluded */
	__u16 value_len;	/* bytes, NUL excluded */
	/* char key[key_len + 1]; char value[value_len + 1]; */
};

/* Process memory counters sampled from /proc/PID/status by the recorder. */
struct mh_rec_rss_sample {
	struct mh_rec_hdr hdr;
	__u64 ts_ns;		/* CLOCK_MONOTONIC ns */
	__u64 anon_bytes;	/* RssAnon */
	__u64 file_bytes;	/* RssFile */
	__u64 shmem_bytes;	/* RssShmem */
	__u64 swap_bytes;	/* VmSwap */
	__u32 pid;
	__u32 pad;
};

/*
 * Residency of an address range from /proc/PID/pagemap: two bits per page,
 * page i at bits 2i (present) and 2i+1 (swapped), packed in __u64 words.
 */
struct mh_rec_pagemap {
	struct mh_rec_hdr hdr;
	__u64 ts_ns;		/* CLOCK_MONOTONIC ns */
	__u64 start;		/* page-aligned start of the range */
	__u64 page_count;	/* pages covered */
	__u32 pid;
	__u32 page_size;	/* bytes per page */
	/* __u64 bits[(2 * page_count + 63) / 64]; */
};

enum mh_own_sample_flags {
	/*
	 * Taken while the exit scan held the process's threads stopped: with
	 * the RSS sample that follows, the process's figures at exit. The
	 * merger takes no later RSS of that image as the program's (the
	 * scan's reads and the teardown are not the program's doing).
	 */
	MH_OWN_AT_EXIT_SCAN = 0x1,
	/* The preload's registry was read: its tables are in anon_bytes. */
	MH_OWN_TABLES_KNOWN = 0x2,
};

/*
 * memhook's own resident memory in a traced process (the event ring, the
 * preload's tables, memhook's libraries: recorder/own.c), written right
 * before the MH_REC_RSS_SAMPLE it belongs to (same pid and ts_ns). The
 * program's RSS is the process's minus these, counter by counter.
 */
struct mh_rec_own_sample {
	struct mh_rec_hdr hdr;
	__u64 ts_ns;		/* CLOCK_MONOTONIC ns, as the RSS sample's */
	__u64 anon_bytes;	/* memhook's pages in RssAnon, bytes */
	__u64 file_bytes;	/* in RssFile, bytes */
	__u64 shmem_bytes;	/* in RssShmem (the ring), bytes */
	__u64 hwm_bytes;	/* the process's VmHWM (peak RSS, memhook's pages included), bytes; 0 unknown */
	__u64 ring_start;	/* the event ring's mappings in the process: first byte, 0 if none */
	__u64 ring_end;		/* one past their last byte */
	__u32 pid;
	__u32 flags;		/* enum mh_own_sample_flags */
};

/*
 * What one exit scan did to the process it scanned (recorder/exitscan/):
 * it reads only pages the process has (present or swapped out), so the
 * untouched ones stay untouched; pages it read back from swap are
 * memhook's doing, not the program's.
 */
struct mh_rec_scan_cost {
	struct mh_rec_hdr hdr;
	__u64 ts_ns;		/* CLOCK_MONOTONIC ns when the scan released the process */
	__u64 start_ns;		/* CLOCK_MONOTONIC ns when its threads were stopped */
	__u64 read_pages;	/* resident pages read, pages */
	__u64 swapped_in_pages;	/* swapped-out pages read (brought back into RAM), pages */
	__u64 untouched_pages;	/* pages never touched (holding zeros or the file's bytes), skipped */
	__u64 rss_raised_bytes;	/* the process's RSS after the scan minus before, bytes (>= 0) */
	__u32 pid;
	__u32 pad;
};

enum mh_leak_kind {
	MH_LEAK_DEFINITE = 1,	/* no pointer to it or into it */
	MH_LEAK_INDIRECT = 2,	/* reachable only from lost blocks */
	MH_LEAK_POSSIBLE = 3,	/* only interior pointers reach it */
	MH_LEAK_REACHABLE = 4,	/* a pointer to its start from a root */
};

/* The exit-time verdict on one block still live. */
struct mh_rec_leak {
	struct mh_rec_hdr hdr;
	__u64 addr;		/* start of the block */
	__u32 pid;
	__u32 kind;		/* enum mh_leak_kind */
};

enum mh_exit_path {
	MH_EXIT_PATH_NORMAL = 1,	/* exit() or return from main: late destructor */
	MH_EXIT_PATH_IMMEDIATE = 2,	/* _exit() / _Exit() called by the program */
	MH_EXIT_PATH_SIGNAL = 3,	/* a fatal signal the program does not handle */
	/*
	 * Not an exit yet: the program is done (exit() or return from main,
	 * its handlers and destructors ran); take its figures at exit now,
	 * before memhook's own exit work (__libc_freeres) touches memory,
	 * and answer. The scan request follows.
	 */
	MH_EXIT_PATH_FIGURES = 4,
};

/*
 * Sent by the preload from its exit path, which then waits (while the
 * recorder lives) until the ring's scans_answered reaches the position
 * just past this record (ring.h). Meanwhile the recorder stops the
 * threads, snapshots residency and classifies the live blocks
 * (recorder/exitscan/stop.c). The recorder counts ring positions itself:
 * ticket is the sender's note of it, for `memhook dump`, never obeyed.
 */
struct mh_rec_exit_scan {
	struct mh_rec_hdr hdr;
	__u64 ts_ns;		/* CLOCK_MONOTONIC ns */
	__u64 sp;		/* stack pointer of the waiting thread */
	__u64 ticket;		/* ring position just past this record */
	__u32 pid;
	__u32 tid;		/* the waiting thread */
	__u32 path;		/* enum mh_exit_path */
	__s32 status;		/* exit code (NORMAL, IMMEDIATE) or signal number (SIGNAL) */
};

_Static_assert(sizeof(struct mh_rec_hdr) == 8, "record header size");
_Static_assert(sizeof(struct mh_rec_alloc) == 48, "alloc record size");
_Static_assert(sizeof(struct mh_rec_free) == 40, "free record size");
_Static_assert(sizeof(struct mh_rec_realloc) == 64, "realloc record size");
_Static_assert(sizeof(struct mh_rec_stack) == 24, "stack record size");
_Static_assert(sizeof(struct mh_module_segment) == 32, "segment size");
_Static_assert(sizeof(struct mh_rec_module) == 56, "module record size");
_Static_assert(sizeof(struct mh_rec_module_unload) == 32, "unload record size");
_Static_assert(sizeof(struct mh_rec_thread) == 40, "thread record size");
_Static_assert(sizeof(struct mh_rec_process) == 32, "process record size");
_Static_assert(sizeof(struct mh_rec_exit) == 32, "exit record size");
_Static_assert(sizeof(struct mh_rec_lost) == 32, "lost record size");
_Static_assert(sizeof(struct mh_rec_info) == 24, "info record size");
_Static_assert(sizeof(struct mh_rec_rss_sample) == 56, "rss sample size");
_Static_assert(sizeof(struct mh_rec_pagemap) == 40, "pagemap record size");
_Static_assert(sizeof(struct mh_rec_leak) == 24, "leak record size");
_Static_assert(sizeof(struct mh_rec_exit_scan) == 48, "exit scan record size");
_Static_assert(sizeof(struct mh_rec_own_sample) == 72, "own sample record size");
_Static_assert(sizeof(struct mh_rec_scan_cost) == 64, "scan cost record size");

#endif /* MEMHOOK_INCLUDE_EVENTS_H */
