// SPDX-License-Identifier: MIT
/*
 * reclaim.c - the reclaim stream's user side (reclaim.bpf.c): its probes,
 * direct and memcg reclaim episodes and kswapd, each tp_btf else raw_tp.
 * Never prints.
 */
#include "kernel/streams.h"

#include <errno.h>

#include "kernel/kconf.h"
#include "kernel/reclaim.subskel.h"

/* Append the stream's probes, each with its programs in fallback order. */
static int list_probes(const struct reclaim_bpf *skel, const struct mh_kstream_opts *opts,
		       unsigned int group, struct mh_kprobe_list *list)
{
	const struct mh_kprobe probes[] = {
		{ .name = "direct_reclaim_begin",
		  .progs = { skel->progs.reclaim__direct_begin,
			     skel->progs.reclaim__direct_begin_raw } },
		{ .name = "direct_reclaim_end",
		  .progs = { skel->progs.reclaim__direct_end,
			     skel->progs.reclaim__direct_end_raw } },
		{ .name = "memcg_reclaim_begin",
		  .progs = { skel->progs.reclaim__memcg_begin,
			     skel->progs.reclaim__memcg_begin_raw } },
		{ .name = "memcg_reclaim_end",
		  .progs = { skel->progs.reclaim__memcg_end, skel->progs.reclaim__memcg_end_raw } },
		{ .name = "kswapd_wake",
		  .progs = { skel->progs.reclaim__kswapd_wake,
			     skel->progs.reclaim__kswapd_wake_raw } },
		{ .name = "kswapd_sleep",
		  .progs = { skel->progs.reclaim__kswapd_sleep,
			     skel->progs.reclaim__kswapd_sleep_raw } },
		{ .name = "wakeup_kswapd",
		  .progs = { skel->progs.reclaim__wakeup_kswapd,
			     skel->progs.reclaim__wakeup_kswapd_raw } },
	};

	return mh_kprobe_add(list, group, probes, sizeof(probes) / sizeof(probes[0]));
}

int mh_kstream_reclaim(struct bpf_object *obj, const struct mh_kstream_opts *opts,
		       unsigned int group, struct mh_kprobe_list *list)
{
	struct reclaim_bpf *skel = reclaim_bpf__open(obj);
	int err;

	if (!skel)
		return -errno;
	err = list_probes(skel, opts, group, list);
	reclaim_bpf__destroy(skel);
	return err;
}
