// SPDX-License-Identifier: MIT
/*
 * oom.c - the oom stream's user side (oom.bpf.c): its probes, the OOM
 * killer's victim mark and the SIGKILL sent to a traced process, each
 * tp_btf else raw_tp. Never prints.
 */
#include "kernel/streams.h"

#include "kernel/kconf.h"
#include "kernel/streams.skel.h"

int mh_kstream_oom(const struct mh_kstream_ctx *c)
{
	const struct mh_kprobe probes[] = {
		MH_KSTREAM_TP(c->skel, "mark_victim", oom__mark_victim),
		MH_KSTREAM_TP(c->skel, "signal_generate", oom__signal_generate),
	};

	return mh_kprobe_add(c->list, c->group, probes, sizeof(probes) / sizeof(probes[0]));
}
