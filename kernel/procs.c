// SPDX-License-Identifier: MIT
/*
 * procs.c - the procs stream's user side (procs.bpf.c): whether forked
 * children join the filter, and its probes, fork, exec and exit, each
 * tp_btf else raw_tp. Never prints.
 */
#include "kernel/streams.h"

#include "kernel/kconf.h"
#include "kernel/streams.skel.h"

int mh_kstream_procs(const struct mh_kstream_ctx *c)
{
	const struct mh_kprobe probes[] = {
		MH_KSTREAM_TP(c->skel, "process_fork", procs__fork),
		MH_KSTREAM_TP(c->skel, "process_exec", procs__exec),
		MH_KSTREAM_TP(c->skel, "process_exit", procs__exit),
	};

	c->skel->rodata->follow_children = c->opts->follow_children;
	return mh_kprobe_add(c->list, c->group, probes, sizeof(probes) / sizeof(probes[0]));
}
