// SPDX-License-Identifier: MIT
/*
 * procs.c - the procs stream's user side (procs.bpf.c): whether forked
 * children join the filter, and its probes, fork, exec and exit, each
 * tp_btf else raw_tp. Never prints.
 */
#include "kernel/streams.h"

#include <errno.h>

#include "kernel/kconf.h"
#include "kernel/procs.subskel.h"

/* Append the stream's probes, each with its programs in fallback order. */
static int list_probes(const struct procs_bpf *skel, const struct mh_kstream_opts *opts,
		       unsigned int group, struct mh_kprobe_list *list)
{
	const struct mh_kprobe probes[] = {
		{ .name = "process_fork",
		  .progs = { skel->progs.procs__fork, skel->progs.procs__fork_raw } },
		{ .name = "process_exec",
		  .progs = { skel->progs.procs__exec, skel->progs.procs__exec_raw } },
		{ .name = "process_exit",
		  .progs = { skel->progs.procs__exit, skel->progs.procs__exit_raw } },
	};

	return mh_kprobe_add(list, group, probes, sizeof(probes) / sizeof(probes[0]));
}

int mh_kstream_procs(struct bpf_object *obj, const struct mh_kstream_opts *opts,
		     unsigned int group, struct mh_kprobe_list *list)
{
	struct procs_bpf *skel = procs_bpf__open(obj);
	int err;

	if (!skel)
		return -errno;
	*skel->rodata.follow_children = opts->follow_children;
	err = list_probes(skel, opts, group, list);
	procs_bpf__destroy(skel);
	return err;
}
