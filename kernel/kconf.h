/* SPDX-License-Identifier: MIT */
/*
 * kconf.h - the configuration every stream's BPF code reads from .rodata
 * (const volatile struct mh_kconf conf), written by kernel/loader.c before
 * load so the verifier prunes what it rules out, and the value type of the
 * shared tgid filter. Shared by the BPF programs and kernel/; plain
 * fixed-width fields only.
 */
#ifndef MEMHOOK_KERNEL_KCONF_H
#define MEMHOOK_KERNEL_KCONF_H

#include <linux/types.h>

/* Most CPUs whose per-CPU counter slots the BPF side sums. */
#define MH_KCONF_MAX_CPUS 256

/*
 * Bits of the traced_bits filter ahead of the "traced" map: a tgid's bit
 * (tgid % MH_KCONF_TRACED_BITS) is set when it joins the map and never
 * cleared, so a clear bit means "not traced" without a hash lookup.
 */
#define MH_KCONF_TRACED_BITS 32768

/*
 * A vma a traced process faulted in or mapped (kernel/common.bpf.h's vma
 * cache), written and read in place under seq: bit 0 set while a thread
 * writes the way, bit 1 until a fault has seen the vma, + 4 per write.
 */
struct mh_kvma {
	__u32 seq;
	__u32 vma_class;
	__u64 start;
	__u64 end;
	__u64 file_offset;
	__u64 ino;
	__u32 dev;
	__u32 gen;		/* the file's inode generation */
	__u32 nlink;		/* its links: 0 once deleted */
	__u32 pad;
	__u64 epoch;		/* the process's vma_epoch when cached */
};

/* Vmas cached per process. */
#define MH_KCONF_VMA_WAYS 4

/*
 * The value of a traced tgid in the "traced" map: which RSS counters the
 * process changed since they were last reported (enum mh_rss_member
 * index, 1 = changed) and how many changes that was; what the trace last
 * said of each counter and the largest anon + file + shmem it said, since
 * the process began or exec'd (mm_counters.bpf.h). Plain stores, no
 * atomics: a mark lost to a race only means a report that is not needed,
 * since a report reads the counters after clearing the marks. Then the
 * vmas it faulted in or mapped last, and how many of its threads are in
 * a user fault (common.bpf.h).
 */
struct mh_traced {
	__u8 rss_dirty[4];
	__u32 rss_changes;
	__s64 rss_told[4];	/* pages, the last value reported per member */
	__s64 rss_told_peak;	/* pages, the largest anon + file + shmem reported */
	__u64 vma_epoch;	/* cached vmas of another epoch are dropped */
	__u32 vma_next;		/* the way its next vma replaces */
	__u32 in_fault;		/* threads whose user fault no syscall has followed, or more */
	struct mh_kvma vma[MH_KCONF_VMA_WAYS];
};

/* What every stream reads; a stream's own settings are rodata of its own. */
struct mh_kconf {
	__u32 page_shift;	/* log2 of the page size */
	__u32 nr_cpus;		/* possible CPUs to sum per-CPU counters over */
	__u32 wakeup_bytes;	/* wake the reader once this many bytes wait in the ring */
	__u32 pad;
	/*
	 * The kernel's value of MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS and
	 * MM_SHMEMPAGES (an anonymous enum, so CO-RE cannot name it: the loader
	 * reads it from the kernel's BTF), indexed by enum mh_rss_member;
	 * -1 where the kernel has no such counter.
	 */
	__s32 mm_member[4];
};

#endif /* MEMHOOK_KERNEL_KCONF_H */
