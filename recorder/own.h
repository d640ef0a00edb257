/* SPDX-License-Identifier: MIT */
/*
 * own.h - memhook's own memory inside a traced process: which of its
 * mappings are memhook's (the event ring, the preload's tables, the
 * preload library and the libraries only it needs), where the preload's
 * static TLS block is, and how many of those pages are resident.
 *
 * The sampler and the exit scan subtract it from the process's RSS (the
 * program's RSS, docs/REPORT.md); the exit scan leaves it out of the
 * leak scan's roots. Never prints; never writes to the process.
 */
#ifndef MEMHOOK_RECORDER_OWN_H
#define MEMHOOK_RECORDER_OWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <linux/types.h>

#include "memhook/events.h"
#include "common/procmaps.h"

enum mh_own_kind {
	MH_OWN_RING = 1,	/* the shared event ring (RssShmem) */
	MH_OWN_TABLE,		/* an anonymous table of the preload (RssAnon) */
	MH_OWN_LIBRARY,		/* a segment or the .bss of memhook's libraries */
};

/* One of memhook's mappings (or the part of one the registry names). */
struct mh_own_span {
	__u64 start, end;	/* bytes, page-aligned */
	enum mh_own_kind kind;
};

struct mh_own_map {
	struct mh_own_span *spans;	/* ascending, not overlapping */
	size_t count;
	__s64 tls_offset;		/* preload's static TLS block from a thread pointer */
	__u64 tls_bytes;		/* its size; 0: unknown */
	bool registry;			/* the preload's registry was read: its tables are known */
};

/* memhook's resident bytes in a process, by the RSS counter they are in. */
struct mh_own_bytes {
	__u64 anon, file, shmem;
};

/*
 * Find memhook's mappings among maps (pid's /proc/PID/maps) and read the
 * preload's registry from pid. A process without the preload gets an
 * empty map. Returns 0 or -errno (-ENOMEM; an unreadable registry is not
 * an error: out->registry stays false). Free with mh_own_free().
 */
int mh_own_find(pid_t pid, const struct mh_maps *maps, struct mh_own_map *out);

void mh_own_free(struct mh_own_map *own);

/* The span of own containing addr, or NULL. */
const struct mh_own_span *mh_own_span_at(const struct mh_own_map *own, __u64 addr);

/*
 * Count the resident pages of own's spans from /proc/PID/pagemap: a
 * present page that is not the file's is anonymous, a present page of
 * the ring is shared memory, any other present page a file page (as the
 * kernel counts them in RssAnon, RssShmem, RssFile). 0 or -errno.
 */
int mh_own_measure(pid_t pid, const struct mh_own_map *own, struct mh_own_bytes *out);

/*
 * Fill rec, an MH_REC_OWN_SAMPLE of pid at ts_ns: own's resident bytes
 * (mh_own_measure), the process's peak RSS hwm_bytes (0: unknown) and
 * flags (enum mh_own_sample_flags; MH_OWN_TABLES_KNOWN is added when the
 * registry was read). 0 or -errno.
 */
int mh_own_sample(pid_t pid, const struct mh_own_map *own, __u64 ts_ns, __u64 hwm_bytes,
		  __u32 flags, struct mh_rec_own_sample *rec);

#endif /* MEMHOOK_RECORDER_OWN_H */
