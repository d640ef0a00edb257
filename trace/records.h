/* SPDX-License-Identifier: MIT */
/*
 * records.h - facts about trace records (include/memhook/events.h and
 * kernel_events.h) that every writer and reader needs: the fixed size of
 * each record type (one table, so a new record type is taught to every
 * reader at once), the one builder of the variable-size INFO record, and
 * the trace's time unit: where each record keeps its stamps and how they
 * are floored to the unit. Never prints.
 */
#ifndef MEMHOOK_TRACE_RECORDS_H
#define MEMHOOK_TRACE_RECORDS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "memhook/events.h"
#include "memhook/kernel_events.h"

/* Record types the table covers: 0 .. MH_REC_TYPE_LIMIT - 1. */
#define MH_REC_TYPE_LIMIT (MH_REC_KERNEL_LAST + 1)

/* Fixed size of each type in bytes, indexed by type; 0 for types this build does not know. */
extern const uint32_t mh_rec_min_sizes[MH_REC_TYPE_LIMIT];

/*
 * Smallest valid record of `type` in bytes (its fixed part: variable parts
 * follow it), or 0 for a type this build does not know (a newer writer's:
 * only the generic header checks apply). Thread-safe.
 */
static inline uint32_t mh_rec_min_size(uint16_t type)
{
	return type < MH_REC_TYPE_LIMIT ? mh_rec_min_sizes[type] : 0;
}

/*
 * ts in the trace's time units of unit_ns ns (floored). A shift when the
 * unit is a power of two (the default), a division otherwise.
 */
static inline uint64_t mh_time_units(uint64_t ts, uint32_t unit_ns)
{
	return unit_ns & (unit_ns - 1) ? ts / unit_ns : ts >> __builtin_ctz(unit_ns);
}

/* ts floored to a multiple of unit_ns (>= 1). */
static inline uint64_t mh_time_floor(uint64_t ts, uint32_t unit_ns)
{
	return mh_time_units(ts, unit_ns) * unit_ns;
}

/*
 * A record's stamp: the ts_ns right after its header, 0 for STACK and
 * LEAK, which have none, and for a record too short to hold one.
 * Thread-safe.
 */
static inline uint64_t mh_rec_stamp(const struct mh_rec_hdr *rec)
{
	uint64_t ts;

	if (rec->type == MH_REC_STACK || rec->type == MH_REC_LEAK ||
	    rec->size < sizeof(*rec) + sizeof(ts))
		return 0;
	memcpy(&ts, rec + 1, sizeof(ts));
	return ts;
}

/*
 * The earlier of two stamps, 0 being none (the later of all): the first
 * stamp of records whose stamps may be 0. Thread-safe.
 */
static inline uint64_t mh_stamp_min(uint64_t first, uint64_t ts)
{
	/* Both minus one compare as stamps do, and 0 as the largest. */
	return ts - 1 < first - 1 ? ts : first;
}

/*
 * Floor every stamp of a whole record to a multiple of unit_ns: the
 * ts_ns right after the header of every type but STACK and LEAK, and the
 * second stamp of KRECLAIM (start_ns), KSYSCALL (enter_ns) and SCAN_COST
 * (start_ns). Flooring keeps every order and start <= end. Thread-safe.
 */
void mh_rec_floor_stamps(struct mh_rec_hdr *rec, uint32_t unit_ns);

/*
 * A new INFO record "key = value" about pid (0: the whole trace), stamped
 * now (CLOCK_MONOTONIC). Its padded size in bytes goes to *size; free it
 * with free(). Returns NULL with errno set: EINVAL when key or value is
 * longer than 65535 bytes, ENOMEM. Thread-safe.
 */
struct mh_rec_info *mh_rec_info_new(uint32_t pid, const char *key, const char *value,
				    size_t *size);

#endif /* MEMHOOK_TRACE_RECORDS_H */
