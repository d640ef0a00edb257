// SPDX-License-Identifier: MIT
/*
 * faults.c - the faults stream's user side (faults.bpf.c): how late a
 * process's own RSS changes may be reported, and its probes: page faults
 * (tp_btf, raw_tp, else the software perf event), major faults (perf
 * event), RSS counters, and the opt-in memcg events. Never prints.
 */
#include "kernel/streams.h"

#include <linux/perf_event.h>

#include "kernel/kconf.h"
#include "kernel/streams.skel.h"

/* A process's own RSS changes are reported at least every this many changes (pages, mostly). */
#define RSS_BATCH_CHANGES 64

/* Why memcg_events is left out unless asked for. */
#define NOT_REQUESTED "not requested (it runs on every page fault of every process)"

int mh_kstream_faults(const struct mh_kstream_ctx *c)
{
	const struct mh_kprobe probes[] = {
		{ .name = "page_fault",
		  .progs = { c->skel->progs.faults__page_fault,
			     c->skel->progs.faults__page_fault_raw,
			     c->skel->progs.faults__page_fault_perf },
		  .perf_config = PERF_COUNT_SW_PAGE_FAULTS },
		{ .name = "major_fault", .progs = { c->skel->progs.faults__major_fault },
		  .perf_config = PERF_COUNT_SW_PAGE_FAULTS_MAJ },
		MH_KSTREAM_TP(c->skel, "rss_stat", faults__rss_stat),
		{ .name = "memcg_events",
		  .progs = { c->skel->progs.faults__memcg_events,
			     c->skel->progs.faults__memcg_events_raw },
		  .unwanted = c->opts->memcg_events ? NULL : NOT_REQUESTED },
	};

	c->skel->rodata->rss_batch = RSS_BATCH_CHANGES;
	return mh_kprobe_add(c->list, c->group, probes, sizeof(probes) / sizeof(probes[0]));
}
