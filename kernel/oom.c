// SPDX-License-Identifier: MIT
/*
 * oom.c - the oom stream's user side (oom.bpf.c): its probes, the OOM
 * killer's victim mark and the SIGKILL sent to a traced process, each
 * tp_btf else raw_tp. Never prints.
 */
#include "kernel/streams.h"

#include <errno.h>

#include "kernel/kconf.h"
#include "kernel/oom.subskel.h"

/* Append the stream's probes, each with its programs in fallback order. */
static int list_probes(const struct oom_bpf *skel, const struct mh_kstream_opts *opts,
		       unsigned int group, struct mh_kprobe_list *list)
{
	const struct mh_kprobe probes[] = {
		{ .name = "mark_victim",
		  .progs = { skel->progs.oom__mark_victim, skel->progs.oom__mark_victim_raw } },
		{ .name = "signal_generate",
		  .progs = { skel->progs.oom__signal_generate,
			     skel->progs.oom__signal_generate_raw } },
	};

	return mh_kprobe_add(list, group, probes, sizeof(probes) / sizeof(probes[0]));
}

int mh_kstream_oom(struct bpf_object *obj, const struct mh_kstream_opts *opts,
		   unsigned int group, struct mh_kprobe_list *list)
{
	struct oom_bpf *skel = oom_bpf__open(obj);
	int err;

	if (!skel)
		return -errno;
	err = list_probes(skel, opts, group, list);
	oom_bpf__destroy(skel);
	return err;
}
