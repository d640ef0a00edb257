/* SPDX-License-Identifier: MIT */
/*
 * replay.h - replay allocation and meta records into per-process,
 * per-stack aggregates.
 *
 * Feed records in causal order (the ALLOC stream's order, with META
 * records interleaved by timestamp: timeline.h does that). Memory grows
 * with the live allocation set and the number of distinct stacks, never
 * with the number of events. Counting follows Valgrind memcheck's "total
 * heap usage" line: see docs/REPORT.md. Never prints.
 *
 * The replay publishes what happens to the heap and the mappings (struct
 * mh_replay_events) to one subscriber, the attribution
 * (merger/attribution/), and hands it the records it does not handle
 * itself; it knows nothing of the subscriber's state.
 */
#ifndef MEMHOOK_MERGER_REPLAY_REPLAY_H
#define MEMHOOK_MERGER_REPLAY_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memhook/events.h"
#include "memhook/trace.h"
#include "merger/replay/stackdb.h"
#include "trace/records.h"

/* Leak kinds by enum mh_leak_kind; index 0 holds blocks without a verdict. */
#define MH_LEAK_KINDS (MH_LEAK_REACHABLE + 1)

/* Heap granules are 2^MH_GRANULE_SHIFT bytes (1 MiB): residency uses them to tell heap ranges. */
#define MH_GRANULE_SHIFT 20
/* Direct-mapped cache in front of a process's granules, entries. */
#define MH_GRANULE_CACHE 256
/* Granules of a process before it gets that cache. */
#define MH_GRANULE_CACHE_AFTER 4

/* Where heap blocks started within one granule: [lo, hi]. */
struct mh_granule {
	uint64_t number;	/* address >> MH_GRANULE_SHIFT */
	uint64_t lo, hi;	/* lowest and highest block start seen */
	UT_hash_handle hh;
};

/*
 * Direct-mapped cache in front of a process's stack table: entries at
 * first, then four per stack the process has, up to the most.
 */
#define MH_STACK_CACHE_SIZE 4096
#define MH_STACK_CACHE_MAX (1U << 20)
/* Allocation calls of a process before it gets that cache (a short-lived one never does). */
#define MH_STACK_CACHE_AFTER 1024
/* Direct-mapped cache in front of a process's threads, entries (by tid). */
#define MH_THREAD_CACHE 8

struct mh_attr;
struct mh_block;
struct mh_blocks;
struct mh_info_entry;
struct mh_pending_verdicts;
struct mh_pid_entry;
struct mh_kfile;
struct mh_modmap;
struct mh_series;
struct mh_stackdb;
struct mh_replay_thread;

/* One process image (a pid after exec is a new image). */
struct mh_process {
	uint32_t pid, ppid;
	uint32_t start;			/* enum mh_process_start, 0 if never announced */
	char *command;			/* exe path, NULL if never announced */
	char *argv;			/* its arguments, each NUL-terminated; NULL if unknown */
	uint32_t argv_len;		/* bytes of argv, the last NUL excluded */
	uint32_t exec_index;		/* 0: the pid's first image; n: the image after its nth exec */
	uint64_t start_ts_ns, last_ts_ns, exit_ts_ns;
	bool exited;
	uint32_t exit_reason;		/* enum mh_exit_reason */
	int32_t exit_status;		/* exit code or signal number */
	bool core_dumped;
	bool replaced_by_exec;		/* the pid exec'd a new image afterwards: its heap went with it */
	/* An image the kernel saw exec'd that never announced itself: why (NULL: it did). */
	char *untraced_why;

	/* Heap: malloc family only. */
	uint64_t alloc_calls, frees, bytes_allocated, bytes_freed;
	uint64_t live_bytes, live_blocks;
	uint64_t peak_live_bytes, peak_ts_ns;
	uint64_t peak_ver;		/* bumped at every new heap peak */
	uint64_t temporary;
	uint64_t unmatched_frees;	/* free/realloc of an address not live */
	uint64_t double_allocs;		/* allocation at an address already live */

	/* Exit-time leak scan (leaks.h). */
	bool scan_requested;		/* its MH_REC_EXIT_SCAN came */
	char *leakscan_status;		/* "leakscan.status" INFO value, NULL if none came */
	uint64_t leak_verdicts;		/* MH_REC_LEAK records seen */
	struct mh_verdict *verdicts;	/* by address, until classified */
	uint64_t leak_kind_bytes[MH_LEAK_KINDS];
	uint64_t leak_kind_blocks[MH_LEAK_KINDS];
	uint64_t heap_since_ns;		/* its heap began then (a fork's parent's start), 0: at start */
	bool events_lost;		/* allocation events were lost in its lifetime: kinds unknown */

	/* Mappings: mmap/munmap/mremap/brk, not heap. */
	uint64_t mmap_calls, mmap_bytes, munmap_calls, munmap_bytes;
	uint64_t mremap_calls, brk_calls;
	int64_t brk_bytes;		/* net brk/sbrk growth */

	/*
	 * The subscriber's state for this process (attribution/attribute.h),
	 * NULL until it creates it. The replay never reads or writes it.
	 */
	struct mh_attr *attr;
	/*
	 * Set and cleared by the subscriber: it wants block_added and
	 * block_removed for this process. The replay publishes neither
	 * while it is clear.
	 */
	bool watch_blocks;
	/* Per-stack timelines (replay/series.h); NULL until the first heap event. */
	struct mh_series *series;

	struct mh_stack_stats *stacks;	/* uthash by stack id */
	struct mh_blocks *blocks;	/* NULL once replaced by exec */
	struct mh_replay_thread *threads;	/* uthash by tid */
	/* MH_THREAD_CACHE entries by tid bits. */
	struct mh_replay_thread *thread_cache[MH_THREAD_CACHE];
	/* Address granules (MH_GRANULE_SHIFT) where heap blocks ever started. */
	struct mh_granule *granules;	/* uthash by granule number */
	/* MH_GRANULE_CACHE entries by granule number bits; NULL while it has few granules. */
	struct mh_granule **granule_cache;
	/* stack_cache_mask + 1 entries by stack id bits; NULL until the process is busy. */
	struct mh_stack_stats **stack_cache;
	uint32_t stack_cache_mask;
	struct mh_process *next;	/* in order of appearance */
	UT_hash_handle pid_hh;		/* in mh_replay.by_pid while the newest image of pid */
};

struct mh_replay {
	struct mh_process *procs, *procs_last;
	struct mh_process *by_pid;	/* uthash (pid_hh): the newest image of each pid */
	struct mh_process *last_proc;	/* cache */
	struct mh_stackdb *stacks;
	struct mh_modmap *modules;
	uint64_t lost[MH_STREAM_COUNT];	/* from MH_REC_LOST, per stream */
	struct mh_loss_window *loss_windows;	/* allocation events lost in these (leaks.h) */
	size_t loss_window_count, loss_window_cap;
	uint64_t loss_seen_ns;		/* the last MH_REC_LOST of the allocation stream */
	uint64_t events;		/* ALLOC/FREE/REALLOC records replayed */
	uint64_t records;		/* every record replayed */
	uint64_t unknown_records;	/* types this build does not know */
	uint64_t first_ts_ns, last_ts_ns;
	uint32_t root_pid;		/* from the trace header, 0 if unknown */
	uint32_t page_size;		/* from the trace header, 0 if unknown */
	uint64_t kernel_records;	/* records of the kernel stream replayed */
	uint64_t kernel_late;		/* kernel records replayed after a later one */
	struct mh_info_entry *infos;	/* INFO records about the whole trace (pid 0), by key */
	char *kernel_status;		/* "kernel.status" INFO value ("on", "off: why"), NULL if none */
	/* Exit-time verdicts by pid, until the scan's "leakscan.status" names the image (leaks.h). */
	struct mh_pending_verdicts *pending_verdicts;
	struct mh_pid_entry *untraced;	/* pids of children not followed ("process.untraced") */
	uint64_t untraced_children;	/* how many */
	const struct mh_replay_events *sub; /* the subscriber, NULL if none */
	void *sub_ctx;
	bool before_next;		/* publish before_record before the next record */
};

/*
 * What the replay publishes, in replay order. Any callback may be NULL.
 * Those returning int return 0 or -errno (-ENOMEM, -EBADMSG), which ends
 * the replay with that error.
 */
struct mh_replay_events {
	/*
	 * Before the next record, once the subscriber asked for it with
	 * mh_replay_call_before_next() (to apply what waited for the next record).
	 */
	int (*before_record)(void *ctx, const struct mh_rec_hdr *rec);
	/* A record the replay does not handle: kernel stream, PAGEMAP, RSS_SAMPLE. */
	int (*record)(void *ctx, const struct mh_rec_hdr *rec);
	/*
	 * A heap block became live on thread tid at ts; and stopped being
	 * live. Only for processes whose watch_blocks the subscriber set.
	 */
	int (*block_added)(void *ctx, struct mh_process *p, struct mh_block *blk, uint32_t tid,
			   uint64_t ts);
	void (*block_removed)(void *ctx, struct mh_process *p, struct mh_block *blk);
	/* The program mapped [addr, addr + size) from stack_id, or unmapped a range. */
	int (*mapped)(void *ctx, struct mh_process *p, uint64_t addr, uint64_t size,
		      uint64_t stack_id);
	int (*unmapped)(void *ctx, struct mh_process *p, uint64_t addr, uint64_t size);
	/* mremap moved or resized [old_addr, +old_size) to [addr, +size). */
	int (*remapped)(void *ctx, struct mh_process *p, uint64_t old_addr, uint64_t old_size,
			uint64_t addr, uint64_t size, uint64_t stack_id);
	/* The program moved its break itself (brk/sbrk) over [addr, +size), up (grow) or down. */
	int (*break_moved)(void *ctx, struct mh_process *p, uint64_t addr, uint64_t size,
			   uint64_t stack_id, bool grow);
	/* p's traced image announced itself (MH_REC_PROCESS). */
	void (*image_started)(void *ctx, struct mh_process *p);
	/* End of trace, before p's leak kinds are classified. */
	int (*process_finished)(void *ctx, struct mh_process *p);
	/* p is about to be freed. */
	void (*process_freed)(void *ctx, struct mh_process *p);
};

/* A fresh replay. NULL with errno set. */
struct mh_replay *mh_replay_new(void);
/* Frees rp; the subscriber must outlive this call. Accepts NULL. */
void mh_replay_free(struct mh_replay *rp);

/* Publish to ev (with ctx) from now on; replaces any earlier subscriber. */
void mh_replay_subscribe(struct mh_replay *rp, const struct mh_replay_events *ev, void *ctx);

/*
 * Publish before_record before the next record (once; ask again for the
 * one after). A flag the subscriber raises instead of a call per record.
 */
void mh_replay_call_before_next(struct mh_replay *rp);

/* Note the trace header's facts the replay keeps (root pid, page size). */
void mh_replay_set_header(struct mh_replay *rp, uint32_t root_pid, uint32_t page_size);

/* Count a kernel record the merge released after a later one. */
void mh_replay_count_late(struct mh_replay *rp);

/*
 * Apply one record (validated by the reader: hdr->size covers the
 * record). Returns 0, -EBADMSG for a record whose inner lengths do not
 * fit, -ENOMEM.
 */
int mh_replay_record(struct mh_replay *rp, const struct mh_rec_hdr *rec);

/*
 * End of trace: tell the subscriber (which applies the last residency
 * snapshot and charges what still waits for an owner), classify the live
 * blocks by their leak verdicts (leaks.h) and resolve the remaining stack
 * frames against every module ever seen. Live blocks stay live: they are
 * the leaks. Call once. 0 or -ENOMEM (the report is then incomplete).
 */
int mh_replay_finish(struct mh_replay *rp);

/*
 * Hint that the `count` whole records at buf + from (buf is bytes long,
 * every record's size at least 8 and checked) are replayed soon: start
 * loading the live-block slots they will look up. Changes nothing; any
 * records may be passed. Returns the offset past them (at most bytes).
 */
size_t mh_replay_prefetch(const struct mh_replay *rp, const unsigned char *buf, size_t bytes,
			  size_t from, unsigned count);

/*
 * True when the live-block table of the process replayed last outgrew a
 * core's cache: only then does mh_replay_prefetch() pay for its cost.
 */
bool mh_replay_prefetch_pays(const struct mh_replay *rp);

/*
 * The value of the last INFO record with this key about the whole trace
 * (pid 0: "kernel.status", "options", ...), NULL if none came.
 */
const char *mh_replay_info(const struct mh_replay *rp, const char *key);

/* The current image of pid, created if it was never seen. NULL on ENOMEM. */
struct mh_process *mh_replay_process(struct mh_replay *rp, uint32_t pid);

/*
 * The current image of pid (its latest, unless an exec replaced it: see
 * image.h), or NULL if pid was never seen. Creates nothing.
 */
struct mh_process *mh_replay_current(struct mh_replay *rp, uint32_t pid);

/* Value of a stack at the process's heap peak (see peak_ver). */
uint64_t mh_stack_peak_bytes(const struct mh_process *p, const struct mh_stack_stats *st);

/*
 * True if a heap block ever started in [start, end) of p, to granule
 * precision (granules.c).
 */
bool mh_replay_held_heap(const struct mh_process *p, uint64_t start, uint64_t end);

#endif /* MEMHOOK_MERGER_REPLAY_REPLAY_H */
