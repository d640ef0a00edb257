// SPDX-License-Identifier: MIT
/*
 * records.c - the fixed size of every record type this build knows, the
 * INFO record builder and the flooring of stamps (records.h). The table must stay in step with
 * events.h and kernel_events.h: a type missing here is treated as unknown
 * (skipped), never misread.
 */
#include "trace/records.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"

const uint32_t mh_rec_min_sizes[MH_REC_TYPE_LIMIT] = {
	[MH_REC_ALLOC] = sizeof(struct mh_rec_alloc),
	[MH_REC_FREE] = sizeof(struct mh_rec_free),
	[MH_REC_REALLOC] = sizeof(struct mh_rec_realloc),
	[MH_REC_STACK] = sizeof(struct mh_rec_stack),
	[MH_REC_MODULE] = sizeof(struct mh_rec_module),
	[MH_REC_MODULE_UNLOAD] = sizeof(struct mh_rec_module_unload),
	[MH_REC_THREAD] = sizeof(struct mh_rec_thread),
	[MH_REC_PROCESS] = sizeof(struct mh_rec_process),
	[MH_REC_EXIT] = sizeof(struct mh_rec_exit),
	[MH_REC_LOST] = sizeof(struct mh_rec_lost),
	[MH_REC_INFO] = sizeof(struct mh_rec_info),
	[MH_REC_RSS_SAMPLE] = sizeof(struct mh_rec_rss_sample),
	[MH_REC_PAGEMAP] = sizeof(struct mh_rec_pagemap),
	[MH_REC_LEAK] = sizeof(struct mh_rec_leak),
	[MH_REC_EXIT_SCAN] = sizeof(struct mh_rec_exit_scan),
	[MH_REC_OWN_SAMPLE] = sizeof(struct mh_rec_own_sample),
	[MH_REC_SCAN_COST] = sizeof(struct mh_rec_scan_cost),
	[MH_REC_KFAULT] = sizeof(struct mh_rec_kfault),
	[MH_REC_KMAJFAULT] = sizeof(struct mh_rec_kmajfault),
	[MH_REC_KSWAPIN] = sizeof(struct mh_rec_kswapin),
	[MH_REC_KRSS] = sizeof(struct mh_rec_krss),
	[MH_REC_KRECLAIM] = sizeof(struct mh_rec_kreclaim),
	[MH_REC_KKSWAPD] = sizeof(struct mh_rec_kkswapd),
	[MH_REC_KOOM] = sizeof(struct mh_rec_koom),
	[MH_REC_KSIGNAL] = sizeof(struct mh_rec_ksignal),
	[MH_REC_KSYSCALL] = sizeof(struct mh_rec_ksyscall),
	[MH_REC_KPROC] = sizeof(struct mh_rec_kproc),
	[MH_REC_KMEMCG] = sizeof(struct mh_rec_kmemcg),
	[MH_REC_KFILE] = sizeof(struct mh_rec_kfile),
};

struct mh_rec_info *mh_rec_info_new(uint32_t pid, const char *key, const char *value,
				    size_t *size)
{
	size_t klen = strlen(key), vlen = strlen(value);
	struct mh_rec_info *info;

	if (klen > UINT16_MAX || vlen > UINT16_MAX) {
		errno = EINVAL;
		return NULL;
	}
	/* key and value each end with a NUL (calloc), then padding to 8. */
	*size = MH_REC_PAD(sizeof(*info) + klen + 1 + vlen + 1);
	info = calloc(1, *size);
	if (!info)
		return NULL;
	info->hdr.type = MH_REC_INFO;
	info->hdr.size = (uint32_t)*size;
	info->ts_ns = mh_clock_now_ns();
	info->pid = pid;
	info->key_len = (uint16_t)klen;
	info->value_len = (uint16_t)vlen;
	memcpy(info + 1, key, klen);
	memcpy((char *)(info + 1) + klen + 1, value, vlen);
	return info;
}

/* Floor the u64 stamp at byte off of rec, when the record holds it. */
static void floor_at(struct mh_rec_hdr *rec, size_t off, uint32_t unit_ns)
{
	uint64_t ts;

	if (rec->size < off + sizeof(ts))
		return;
	memcpy(&ts, (unsigned char *)rec + off, sizeof(ts));
	ts = mh_time_floor(ts, unit_ns);
	memcpy((unsigned char *)rec + off, &ts, sizeof(ts));
}

void mh_rec_floor_stamps(struct mh_rec_hdr *rec, uint32_t unit_ns)
{
	if (unit_ns <= 1 || rec->type == MH_REC_STACK || rec->type == MH_REC_LEAK)
		return;
	/* Every other record, kernel ones included, puts ts_ns right after the header. */
	floor_at(rec, sizeof(*rec), unit_ns);
	if (rec->type == MH_REC_KRECLAIM)
		floor_at(rec, offsetof(struct mh_rec_kreclaim, start_ns), unit_ns);
	else if (rec->type == MH_REC_KSYSCALL)
		floor_at(rec, offsetof(struct mh_rec_ksyscall, enter_ns), unit_ns);
	else if (rec->type == MH_REC_SCAN_COST)
		floor_at(rec, offsetof(struct mh_rec_scan_cost, start_ns), unit_ns);
}
