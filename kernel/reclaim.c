// SPDX-License-Identifier: MIT
/*
 * reclaim.c - the reclaim stream's user side (reclaim.bpf.c): its probes,
 * direct and memcg reclaim episodes and kswapd, each tp_btf else raw_tp.
 * Never prints.
 */
#include "kernel/streams.h"

#include "kernel/kconf.h"
#include "kernel/streams.skel.h"

int mh_kstream_reclaim(const struct mh_kstream_ctx *c)
{
	const struct mh_kprobe probes[] = {
		MH_KSTREAM_TP(c->skel, "direct_reclaim_begin", reclaim__direct_begin),
		MH_KSTREAM_TP(c->skel, "direct_reclaim_end", reclaim__direct_end),
		MH_KSTREAM_TP(c->skel, "memcg_reclaim_begin", reclaim__memcg_begin),
		MH_KSTREAM_TP(c->skel, "memcg_reclaim_end", reclaim__memcg_end),
		MH_KSTREAM_TP(c->skel, "kswapd_wake", reclaim__kswapd_wake),
		MH_KSTREAM_TP(c->skel, "kswapd_sleep", reclaim__kswapd_sleep),
		MH_KSTREAM_TP(c->skel, "wakeup_kswapd", reclaim__wakeup_kswapd),
	};

	return mh_kprobe_add(c->list, c->group, probes, sizeof(probes) / sizeof(probes[0]));
}
