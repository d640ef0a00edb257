// SPDX-License-Identifier: MIT
/*
 * faults.c - the faults stream's user side (faults.bpf.c): how late a
 * process's own RSS changes may be reported, and its probes: page faults
 * (tp_btf, raw_tp, else the software perf event), major faults (perf
 * event), RSS counters, and the opt-in memcg events. Never prints.
 */
#include "kernel/streams.h"

#include <errno.h>
#include <linux/perf_event.h>

#include "kernel/kconf.h"
#include "kernel/faults.subskel.h"

/* A process's own RSS changes are reported at least every this many changes (pages, mostly). */
#define RSS_BATCH_CHANGES 64

/* Why memcg_events is left out unless asked for. */
#define NOT_REQUESTED "not requested (it runs on every page fault of every process)"

/* Append the stream's probes, each with its programs in fallback order. */
static int list_probes(const struct faults_bpf *skel, const struct mh_kstream_opts *opts,
		       unsigned int group, struct mh_kprobe_list *list)
{
	const struct mh_kprobe probes[] = {
		{ .name = "page_fault",
		  .progs = { skel->progs.faults__page_fault,
			     skel->progs.faults__page_fault_raw,
			     skel->progs.faults__page_fault_perf },
		  .perf_config = PERF_COUNT_SW_PAGE_FAULTS },
		{ .name = "major_fault",
		  .progs = { skel->progs.faults__major_fault },
		  .perf_config = PERF_COUNT_SW_PAGE_FAULTS_MAJ },
		{ .name = "rss_stat",
		  .progs = { skel->progs.faults__rss_stat, skel->progs.faults__rss_stat_raw } },
		{ .name = "memcg_events",
		  .progs = { skel->progs.faults__memcg_events,
			     skel->progs.faults__memcg_events_raw },
		  .unwanted = opts->memcg_events ? NULL : NOT_REQUESTED },
	};

	return mh_kprobe_add(list, group, probes, sizeof(probes) / sizeof(probes[0]));
}

int mh_kstream_faults(struct bpf_object *obj, const struct mh_kstream_opts *opts,
		      unsigned int group, struct mh_kprobe_list *list)
{
	struct faults_bpf *skel = faults_bpf__open(obj);
	int err;

	if (!skel)
		return -errno;
	*skel->rodata.rss_batch = RSS_BATCH_CHANGES;
	err = list_probes(skel, opts, group, list);
	faults_bpf__destroy(skel);
	return err;
}
