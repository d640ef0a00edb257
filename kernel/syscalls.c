// SPDX-License-Identifier: MIT
/*
 * syscalls.c - the syscalls stream's user side (syscalls.bpf.c): this
 * architecture's numbers of the syscalls it records, and its probes,
 * syscall entry and exit, each tp_btf else raw_tp. Never prints.
 */
#include "kernel/streams.h"

#include <errno.h>
#include <sys/syscall.h>

#include "kernel/kconf.h"
#include "kernel/syscalls.subskel.h"

/* Append the stream's probes, each with its programs in fallback order. */
static int list_probes(const struct syscalls_bpf *skel, const struct mh_kstream_opts *opts,
		       unsigned int group, struct mh_kprobe_list *list)
{
	const struct mh_kprobe probes[] = {
		{ .name = "sys_enter",
		  .progs = { skel->progs.syscalls__sys_enter,
			     skel->progs.syscalls__sys_enter_raw } },
		{ .name = "sys_exit",
		  .progs = { skel->progs.syscalls__sys_exit, skel->progs.syscalls__sys_exit_raw } },
	};

	return mh_kprobe_add(list, group, probes, sizeof(probes) / sizeof(probes[0]));
}

int mh_kstream_syscalls(struct bpf_object *obj, const struct mh_kstream_opts *opts,
			unsigned int group, struct mh_kprobe_list *list)
{
	struct syscalls_bpf *skel = syscalls_bpf__open(obj);
	int err;

	if (!skel)
		return -errno;
	*skel->rodata.nr_mmap = SYS_mmap;
	*skel->rodata.nr_munmap = SYS_munmap;
	*skel->rodata.nr_mremap = SYS_mremap;
	*skel->rodata.nr_brk = SYS_brk;
	*skel->rodata.nr_madvise = SYS_madvise;
	err = list_probes(skel, opts, group, list);
	syscalls_bpf__destroy(skel);
	return err;
}
