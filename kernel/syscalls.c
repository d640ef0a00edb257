// SPDX-License-Identifier: MIT
/*
 * syscalls.c - the syscalls stream's user side (syscalls.bpf.c): this
 * architecture's numbers of the syscalls it records, and its probes,
 * syscall entry and exit, each tp_btf else raw_tp. Never prints.
 */
#include "kernel/streams.h"

#include <sys/syscall.h>

#include "kernel/kconf.h"
#include "kernel/streams.skel.h"

int mh_kstream_syscalls(const struct mh_kstream_ctx *c)
{
	const struct mh_kprobe probes[] = {
		MH_KSTREAM_TP(c->skel, "sys_enter", syscalls__sys_enter),
		MH_KSTREAM_TP(c->skel, "sys_exit", syscalls__sys_exit),
	};

	c->skel->rodata->nr_mmap = SYS_mmap;
	c->skel->rodata->nr_munmap = SYS_munmap;
	c->skel->rodata->nr_mremap = SYS_mremap;
	c->skel->rodata->nr_brk = SYS_brk;
	c->skel->rodata->nr_madvise = SYS_madvise;
	return mh_kprobe_add(c->list, c->group, probes, sizeof(probes) / sizeof(probes[0]));
}
