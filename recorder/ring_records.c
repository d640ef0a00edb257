// SPDX-License-Identifier: MIT
/*
 * ring_records.c - which records the recorder takes from the event ring
 * as the preload's (ring_records.h).
 */
#include "recorder/ring_records.h"

#include <stdbool.h>
#include <string.h>

#include "trace/records.h"

/* The INFO keys the preload sends: the program can claim nothing about the trace itself. */
static bool preload_info_key(const struct mh_rec_info *i)
{
	static const char prefix[] = "process.";

	return i->key_len > sizeof(prefix) - 1 &&
	       !memcmp(i + 1, prefix, sizeof(prefix) - 1);
}

const char *mh_ring_record_error(const struct mh_rec_hdr *rec)
{
	const struct mh_rec_process *p = (const void *)rec;
	const struct mh_rec_info *info = (const void *)rec;

	switch (rec->type) {
	case MH_REC_ALLOC:
	case MH_REC_FREE:
	case MH_REC_REALLOC:
	case MH_REC_STACK:
	case MH_REC_MODULE:
	case MH_REC_MODULE_UNLOAD:
	case MH_REC_THREAD:
	case MH_REC_PROCESS:
	case MH_REC_EXIT:
	case MH_REC_EXIT_SCAN:
	case MH_REC_INFO:
		break;
	default:
		return "record of a type the preload never writes";
	}
	if (rec->size < mh_rec_min_size(rec->type))
		return "record shorter than its type";
	if (rec->type == MH_REC_INFO &&
	    rec->size < sizeof(*info) + (__u64)info->key_len + info->value_len + 2)
		return "info record shorter than its key and value";
	if (rec->type == MH_REC_INFO && !preload_info_key(info))
		return "info record with a key the preload never sends";
	if (rec->type == MH_REC_PROCESS && rec->size < sizeof(*p) + (__u64)p->path_len + 1)
		return "process record shorter than its path";
	return NULL;
}
