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

/* The syscalls that keep a process's cached vmas (syscalls.bpf.c): none reshapes vmas. */
static void keep_vma(struct streams_bpf *skel)
{
	static const long keep[] = {
		SYS_close, SYS_read, SYS_write, SYS_pread64, SYS_openat,
#ifdef SYS_fstat
		SYS_fstat,
#endif
#ifdef SYS_newfstatat
		SYS_newfstatat,
#endif
		SYS_lseek, SYS_rt_sigprocmask, SYS_getdents64, SYS_futex, SYS_getpid, SYS_gettid,
		SYS_sched_yield, SYS_clock_gettime,
	};
	size_t n = sizeof(keep) / sizeof(keep[0]), max = sizeof(skel->rodata->nr_keep_vma) /
							 sizeof(skel->rodata->nr_keep_vma[0]);

	for (size_t i = 0; i < n && i < max; i++)
		skel->rodata->nr_keep_vma[i] = (__u32)keep[i];
}

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
	keep_vma(c->skel);
	return mh_kprobe_add(c->list, c->group, probes, sizeof(probes) / sizeof(probes[0]));
}
