/* SPDX-License-Identifier: MIT */
/*
 * ring_records.h - which records the recorder takes from the event ring
 * as the preload's (ring_consumer.h copies each one out of the shared
 * memory, then asks here). The ring is memory the traced program can
 * write: a record it forged passes only if the preload could have
 * written it. Pure, never allocates.
 */
#ifndef MEMHOOK_RECORDER_RING_RECORDS_H
#define MEMHOOK_RECORDER_RING_RECORDS_H

#include "memhook/events.h"

/*
 * Why a record with a sane frame may not be taken as the preload's, or
 * NULL: its type is one the preload writes, it is at least as long as its
 * type's fixed part, and a PROCESS record holds its path. Pure: the
 * fuzzer calls it on anything.
 */
const char *mh_ring_record_error(const struct mh_rec_hdr *rec);

#endif /* MEMHOOK_RECORDER_RING_RECORDS_H */
