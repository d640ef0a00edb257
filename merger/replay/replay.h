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
 */
#ifndef MEMHOOK_MERGER_REPLAY_REPLAY_H
#define MEMHOOK_MERGER_REPLAY_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "memhook/events.h"
#include "memhook/trace.h"
#include "merger/replay/stackdb.h"

/* Leak kinds by enum mh_leak_kind; index 0 holds blocks without a verdict. */
#define MH_LEAK_KINDS (MH_LEAK_REACHABLE + 1)

/* Heap granules are 2^MH_GRANULE_SHIFT bytes (1 MiB): residency uses them to tell heap ranges. */
#define MH_GRANULE_SHIFT 20
/* Direct-mapped cache in front of a process's granules, entries. */
#define MH_GRANULE_CACHE 256

/* Where heap blocks started within one granule: [lo, hi]. */
struct mh_granule {
	uint64_t number;	/* address >> MH_GRANULE_SHIFT */
	uint64_t lo, hi;	/* lowest and highest block start seen */
	UT_hash_handle hh;
};

/* Direct-mapped cache in front of a process's stack table, entries. */
#define MH_STACK_CACHE_SIZE 4096

struct mh_attr;
struct mh_blocks;
struct mh_info_entry;
struct mh_kfile;
struct mh_modmap;
struct mh_stackdb;
struct mh_replay_thread;

/* One process image (a pid after exec is a new image). */
struct mh_process {
	uint32_t pid, ppid;
	uint32_t start;			/* enum mh_process_start, 0 if never announced */
	char *command;			/* exe path, NULL if never announced */
	uint64_t start_ts_ns, last_ts_ns, exit_ts_ns;
	bool exited;
	uint32_t exit_reason;		/* enum mh_exit_reason */
	int32_t exit_status;		/* exit code or signal number */
	bool core_dumped;
	bool replaced_by_exec;		/* the pid exec'd a new image afterwards */

	/* Heap: malloc family only. */
	uint64_t alloc_calls, frees, bytes_allocated, bytes_freed;
	uint64_t live_bytes, live_blocks;
	uint64_t peak_live_bytes, peak_ts_ns;
	uint64_t peak_ver;		/* bumped at every new heap peak */
	uint64_t temporary;
	uint64_t unmatched_frees;	/* free/realloc of an address not live */
	uint64_t double_allocs;		/* allocation at an address already live */

	/* Exit-time leak scan (leaks.h). */
	char *leakscan_status;		/* "leakscan.status" INFO value, NULL if none came */
	uint64_t leak_verdicts;		/* MH_REC_LEAK records seen */
	struct mh_verdict *verdicts;	/* by address, until classified */
	uint64_t leak_kind_bytes[MH_LEAK_KINDS];
	uint64_t leak_kind_blocks[MH_LEAK_KINDS];

	/* Mappings: mmap/munmap/mremap/brk, not heap. */
	uint64_t mmap_calls, mmap_bytes, munmap_calls, munmap_bytes;
	uint64_t mremap_calls, brk_calls;
	int64_t brk_bytes;		/* net brk/sbrk growth */

	/* Residency, kernel events, mappings (attribute.h); NULL until such a record came. */
	struct mh_attr *attr;

	struct mh_stack_stats *stacks;	/* uthash by stack id */
	struct mh_blocks *blocks;
	struct mh_replay_thread *threads;	/* uthash by tid */
	struct mh_replay_thread *last_thread;	/* cache */
	/* Address granules (MH_GRANULE_SHIFT) where heap blocks ever started. */
	struct mh_granule *granules;	/* uthash by granule number */
	struct mh_granule *granule_cache[MH_GRANULE_CACHE]; /* by granule number bits */
	struct mh_stack_stats *stack_cache[MH_STACK_CACHE_SIZE]; /* by stack id bits */
	struct mh_process *next;	/* in order of appearance */
};

struct mh_replay {
	struct mh_process *procs, *procs_last;
	struct mh_process *last_proc;	/* cache */
	struct mh_stackdb *stacks;
	struct mh_modmap *modules;
	uint64_t lost[MH_STREAM_COUNT];	/* from MH_REC_LOST, per stream */
	uint64_t events;		/* ALLOC/FREE/REALLOC records replayed */
	uint64_t records;		/* every record replayed */
	uint64_t unknown_records;	/* types this build does not know */
	uint64_t first_ts_ns, last_ts_ns;
	uint32_t root_pid;		/* from the trace header, 0 if unknown */
	uint32_t page_size;		/* from the trace header, 0 if unknown */
	struct mh_process *snap_pending; /* a process with a residency snapshot part to apply */
	struct mh_kfile *files;		/* file names from the kernel stream (attribute.h) */
	uint64_t kernel_records;	/* records of the kernel stream replayed */
	uint64_t kernel_late;		/* kernel records replayed after a later one */
	struct mh_info_entry *infos;	/* INFO records about the whole trace (pid 0), by key */
};

/* A fresh replay. NULL with errno set. */
struct mh_replay *mh_replay_new(void);
void mh_replay_free(struct mh_replay *rp);

/*
 * Apply one record (validated by the reader: hdr->size covers the
 * record). Returns 0, -EBADMSG for a record whose inner lengths do not
 * fit, -ENOMEM.
 */
int mh_replay_record(struct mh_replay *rp, const struct mh_rec_hdr *rec);

/*
 * End of trace: apply the last residency snapshot and what kernel events
 * still wait for an owner (attribute.h), classify the live blocks by their
 * leak verdicts (leaks.h) and resolve the remaining stack frames against
 * every module ever seen. Live blocks stay live: they are the leaks. Call
 * once. 0 or -ENOMEM (the report is then incomplete).
 */
int mh_replay_finish(struct mh_replay *rp);

/*
 * Hint that rec is replayed soon: start loading the live-block slots it
 * will look up. Changes nothing; any record may be passed.
 */
void mh_replay_prefetch(const struct mh_replay *rp, const struct mh_rec_hdr *rec);

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

/* Value of a stack at the process's heap peak (see peak_ver). */
uint64_t mh_stack_peak_bytes(const struct mh_process *p, const struct mh_stack_stats *st);

/* attribute.h: the slow path of mh_granule_note(). */
int mh_attr_note_granule(struct mh_process *p, uint64_t addr);

/* Note that a heap block starts at addr; cheap when its granule is in the cache. */
static inline int mh_granule_note(struct mh_process *p, uint64_t addr)
{
	uint64_t number = addr >> MH_GRANULE_SHIFT;
	struct mh_granule *g = p->granule_cache[number % MH_GRANULE_CACHE];

	if (!g || g->number != number)
		return mh_attr_note_granule(p, addr);
	if (addr < g->lo)
		g->lo = addr;
	else if (addr > g->hi)
		g->hi = addr;
	return 0;
}

/*
 * Timestamp of a record, or 0 for types without one (STACK, LEAK). Every
 * other record, kernel ones included, has ts_ns right after the header.
 */
static inline uint64_t mh_rec_ts(const struct mh_rec_hdr *rec)
{
	if (rec->type == MH_REC_STACK || rec->type == MH_REC_LEAK ||
	    rec->size < sizeof(*rec) + sizeof(uint64_t))
		return 0;
	return *(const uint64_t *)(rec + 1);
}

#endif /* MEMHOOK_MERGER_REPLAY_REPLAY_H */
