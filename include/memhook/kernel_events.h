/* SPDX-License-Identifier: MIT */
/*
 * kernel_events.h - the records the BPF collector writes into
 * MH_STREAM_KERNEL, numbered from MH_REC_KERNEL_FIRST.
 *
 * The same structs are filled in by the BPF programs (kernel/<stream>.bpf.c) and
 * read by the merger, so this header uses only <linux/types.h> types, __u64
 * fields first, explicit padding, and a size that is a multiple of
 * MH_REC_ALIGN. Timestamps are bpf_ktime_get_ns(), i.e. CLOCK_MONOTONIC ns.
 * Records from different CPUs reach user space slightly out of order: a
 * reader sorts by ts_ns.
 *
 * Never reorder or resize a field: append new types or new trailing fields
 * and bump MH_TRACE_VERSION (trace.h).
 */
#ifndef MEMHOOK_INCLUDE_KERNEL_EVENTS_H
#define MEMHOOK_INCLUDE_KERNEL_EVENTS_H

#include "memhook/events.h"

enum mh_krec_type {
	MH_REC_KFAULT = MH_REC_KERNEL_FIRST,	/* struct mh_rec_kfault */
	MH_REC_KMAJFAULT = 65,			/* struct mh_rec_kmajfault */
	MH_REC_KSWAPIN = 66,			/* struct mh_rec_kswapin */
	MH_REC_KRSS = 67,			/* struct mh_rec_krss */
	MH_REC_KRECLAIM = 68,			/* struct mh_rec_kreclaim */
	MH_REC_KKSWAPD = 69,			/* struct mh_rec_kkswapd */
	MH_REC_KOOM = 70,			/* struct mh_rec_koom */
	MH_REC_KSIGNAL = 71,			/* struct mh_rec_ksignal */
	MH_REC_KSYSCALL = 72,			/* struct mh_rec_ksyscall */
	MH_REC_KPROC = 73,			/* struct mh_rec_kproc */
	MH_REC_KMEMCG = 74,			/* struct mh_rec_kmemcg */
	MH_REC_KFILE = 75,			/* struct mh_rec_kfile, then the path */
	MH_REC_KERNEL_LAST = 75,
};

/* What kind of mapping a faulting address lies in (from its vma). */
enum mh_vma_class {
	MH_VMA_UNKNOWN = 0,	/* the vma could not be looked up */
	MH_VMA_ANON = 1,	/* private anonymous memory (heap, mmap) */
	MH_VMA_FILE = 2,	/* file-backed: dev and ino name the file */
	MH_VMA_SHMEM = 3,	/* shared anonymous / tmpfs / memfd */
	MH_VMA_HUGETLB = 4,	/* hugetlbfs */
	MH_VMA_STACK = 5,	/* a thread stack (VM_GROWSDOWN or the main stack) */
	MH_VMA_NONE = 6,	/* no vma covers the address (the fault will SIGSEGV) */
};

/* A user-mode page fault, taken when the fault begins (minor or major). */
struct mh_rec_kfault {
	struct mh_rec_hdr hdr;
	__u64 ts_ns;		/* CLOCK_MONOTONIC ns at fault entry */
	__u64 addr;		/* faulting virtual address, bytes */
	__u64 ip;		/* user instruction pointer of the access */
	__u64 vma_start;	/* start address of the covering vma, 0 if none */
	__u64 vma_end;		/* end address (exclusive) of that vma, 0 if none */
	__u64 file_offset;	/* bytes into the file at vma_start (vm_pgoff * page), FILE only */
	__u64 ino;		/* inode number of the mapped file, 0 unless FILE/SHMEM */
	__u32 dev;		/* kernel dev_t (MAJOR << 20 | MINOR) of that file, 0 if none */
	__u32 error_code;	/* x86 page-fault error code bits (PF_WRITE 0x2, PF_USER 0x4, ...) */
	__u32 tid;		/* kernel thread id that faulted */
	__u32 pid;		/* its process id (tgid) */
	__u32 vma_class;	/* enum mh_vma_class */
	__u32 gen;		/* the file's inode generation (with ino, its NFS-style handle);
				 * 0 once a MH_REC_KFILE has named the file, which holds it */
};

/* A fault the kernel counted as major (I/O needed), from the perf event. */
struct mh_rec_kmajfault {
	struct mh_rec_hdr hdr;
	__u64 ts_ns;		/* CLOCK_MONOTONIC ns when the fault completed */
	__u64 addr;		/* faulting virtual address, bytes */
	__u64 ip;		/* user instruction pointer of the access */
	__u32 tid;		/* kernel thread id */
	__u32 pid;		/* process id (tgid) */
};

/* Swap entries of a process turned back into pages by a fault of this thread. */
struct mh_rec_kswapin {
	struct mh_rec_hdr hdr;
	__u64 ts_ns;		/* CLOCK_MONOTONIC ns when the swap counter dropped */
	__u64 addr;		/* address of the fault the thread was handling, bytes */
	__u64 pages;		/* swap entries removed (pages swapped in), pages */
	__u32 tid;		/* kernel thread id that faulted */
	__u32 pid;		/* process id (tgid) */
};

/* Normalised kmem:rss_stat member (the kernel's MM_* enum, resolved via BTF). */
enum mh_rss_member {
	MH_RSS_FILE = 0,	/* MM_FILEPAGES */
	MH_RSS_ANON = 1,	/* MM_ANONPAGES */
	MH_RSS_SWAPENTS = 2,	/* MM_SWAPENTS */
	MH_RSS_SHMEM = 3,	/* MM_SHMEMPAGES */
	MH_RSS_UNKNOWN = 15,	/* a member this build does not know */
};

/*
 * A process memory counter's exact value (kmem:rss_stat). Changes made by
 * the process itself (its faults, its munmaps) are coalesced: a counter it
 * changed is reported at its next syscall (any thread), at a thread's exit
 * (before the mm is torn down), or after 64 changes, whichever comes
 * first, with its value at that moment; so the value is never more than 64
 * changes behind, and exact whenever the process makes a syscall (as it
 * must to look at its own counters). The memory syscalls (mmap, munmap,
 * mremap, brk, madvise), which cannot show a process its counters, hold
 * them back unless one moved by 64 pages or more since its last report or
 * anon + file + shmem is above any sum reported since the process began or
 * exec'd, so every new peak is reported. A counter whose value is the one
 * last reported is not reported again. MM_SWAPENTS changes and changes
 * made by other tasks (reclaim, another process's munmap of shared memory)
 * are reported at once.
 */
struct mh_rec_krss {
	struct mh_rec_hdr hdr;
	__u64 ts_ns;		/* CLOCK_MONOTONIC ns the value was read */
	__u64 bytes;		/* counter value then, bytes (exact per-CPU sum) */
	__u32 tid;		/* kernel thread that changed it (may be another process) */
	__u32 pid;		/* process whose counter it is (the mm owner's tgid) */
	__u32 member;		/* enum mh_rss_member */
	__u32 pad;
};

enum mh_reclaim_kind {
	MH_RECLAIM_DIRECT = 1,	/* mm_vmscan_direct_reclaim_begin/end */
	MH_RECLAIM_MEMCG = 2,	/* mm_vmscan_memcg_reclaim_begin/end */
};

/* One reclaim episode a traced thread went through, emitted when it ended. */
struct mh_rec_kreclaim {
	struct mh_rec_hdr hdr;
	__u64 ts_ns;		/* CLOCK_MONOTONIC ns when it ended */
	__u64 start_ns;		/* CLOCK_MONOTONIC ns when it began */
	__u64 nr_reclaimed;	/* pages reclaimed */
	__u64 gfp_flags;	/* gfp_t mask of the allocation that triggered it */
	__u32 tid;		/* kernel thread id that stalled */
	__u32 pid;		/* process id (tgid) */
	__u32 kind;		/* enum mh_reclaim_kind */
	__u32 order;		/* allocation order, log2 pages */
};

enum mh_kswapd_kind {
	MH_KSWAPD_WAKE = 1,	/* mm_vmscan_kswapd_wake: kswapd starts on a node */
	MH_KSWAPD_SLEEP = 2,	/* mm_vmscan_kswapd_sleep: kswapd goes idle */
	MH_KSWAPD_WAKEUP = 3,	/* mm_vmscan_wakeup_kswapd: an allocation woke it */
};

/* kswapd activity, system-wide (not filtered by process). */
struct mh_rec_kkswapd {
	struct mh_rec_hdr hdr;
	__u64 ts_ns;		/* CLOCK_MONOTONIC ns */
	__u64 gfp_flags;	/* gfp_t of the waking allocation (WAKEUP only), else 0 */
	__u32 tid;		/* current thread (kswapd, or the allocating thread for WAKEUP) */
	__u32 pid;		/* its process id */
	__u32 kind;		/* enum mh_kswapd_kind */
	__u32 nid;		/* NUMA node id */
	__u32 zid;		/* zone index (WAKE/WAKEUP), else 0 */
	__u32 order;		/* order asked for, log2 pages (WAKE/WAKEUP), else 0 */
};

/* The OOM killer chose a traced process (oom:mark_victim). */
struct mh_rec_koom {
	struct mh_rec_hdr hdr;
	__u64 ts_ns;		/* CLOCK_MONOTONIC ns */
	__u64 total_vm_bytes;	/* victim's mapped virtual memory, bytes */
	__u64 anon_rss_bytes;	/* its MM_ANONPAGES, bytes */
	__u64 file_rss_bytes;	/* its MM_FILEPAGES, bytes */
	__u64 shmem_rss_bytes;	/* its MM_SHMEMPAGES, bytes */
	__u64 swap_bytes;	/* its MM_SWAPENTS, bytes */
	__u32 pid;		/* victim process id (tgid) */
	__u32 tid;		/* victim thread the killer picked */
	__u32 killer_tid;	/* thread running the OOM killer */
	__s32 oom_score_adj;	/* victim's oom_score_adj, -1000..1000 */
};

/* A fatal signal generated for a traced process (signal:signal_generate). */
struct mh_rec_ksignal {
	struct mh_rec_hdr hdr;
	__u64 ts_ns;		/* CLOCK_MONOTONIC ns */
	__u32 tid;		/* target thread id */
	__u32 pid;		/* target process id (tgid) */
	__u32 sender_tid;	/* thread that generated it (the OOM killer, kill(2) caller) */
	__u32 sender_pid;	/* its process id */
	__u32 sig;		/* signal number (SIGKILL) */
	__s32 result;		/* TRACE_SIGNAL_* result: 0 delivered, else ignored/already pending */
};

/* Memory syscalls, portable numbering (the BPF side maps from __NR_*). */
enum mh_ksys {
	MH_KSYS_MMAP = 1,	/* args: addr, len, prot, flags, fd, offset */
	MH_KSYS_MUNMAP = 2,	/* args: addr, len */
	MH_KSYS_MREMAP = 3,	/* args: old_addr, old_len, new_len, flags, new_addr */
	MH_KSYS_BRK = 4,	/* args: brk */
	MH_KSYS_MADVISE = 5,	/* args: addr, len, advice */
};

/* A memory syscall of a traced thread, emitted when it returned. */
struct mh_rec_ksyscall {
	struct mh_rec_hdr hdr;
	__u64 ts_ns;		/* CLOCK_MONOTONIC ns at syscall exit */
	__u64 enter_ns;		/* CLOCK_MONOTONIC ns at syscall entry */
	__u64 args[6];		/* raw arguments (enum mh_ksys names them), 0 past those */
	__s64 ret;		/* return value: address, 0, or -errno */
	__u32 tid;		/* kernel thread id */
	__u32 pid;		/* process id (tgid) */
	__u32 sys;		/* enum mh_ksys */
	__u32 pad;
};

enum mh_kproc_kind {
	MH_KPROC_FORK = 1,	/* a traced process forked child_pid */
	MH_KPROC_THREAD = 2,	/* a traced process created thread child_tid */
	MH_KPROC_EXEC = 3,	/* a traced process exec'd a new image */
	MH_KPROC_EXIT = 4,	/* a traced thread exited */
};

/* Process and thread lifecycle of traced processes (sched_process_*). */
struct mh_rec_kproc {
	struct mh_rec_hdr hdr;
	__u64 ts_ns;		/* CLOCK_MONOTONIC ns */
	__u32 tid;		/* thread the event is about (the parent for FORK/THREAD) */
	__u32 pid;		/* its process id */
	__u32 kind;		/* enum mh_kproc_kind */
	__u32 child_tid;	/* new thread id (FORK/THREAD), else 0 */
	__u32 child_pid;	/* new process id (FORK), else 0 */
	__s32 exit_code;	/* task exit_code (EXIT: status << 8 | signal), else 0 */
	__u32 group_dead;	/* EXIT: 1 if this was the last thread of the process */
	__u32 followed;		/* FORK: 1 if the child was added to the filter */
};

/* Normalised memcg:count_memcg_events items. */
enum mh_memcg_item {
	MH_MEMCG_PSWPIN = 1,	/* pages read from swap */
	MH_MEMCG_PSWPOUT = 2,	/* pages written to swap */
	MH_MEMCG_PGMAJFAULT = 3, /* major faults */
};

/* A memcg event counted in the context of a traced thread. */
struct mh_rec_kmemcg {
	struct mh_rec_hdr hdr;
	__u64 ts_ns;		/* CLOCK_MONOTONIC ns */
	__u64 count;		/* increment, events (pages for PSWPIN/PSWPOUT) */
	__u32 tid;		/* kernel thread id */
	__u32 pid;		/* process id (tgid) */
	__u32 item;		/* enum mh_memcg_item */
	__u32 pad;
};

/*
 * The name of a mapped file that faults were delivered for, written by the
 * collector in user space (never by BPF) once per distinct (dev, ino), just
 * before the first MH_REC_KFAULT (vma_class FILE or SHMEM) that names it,
 * with that fault's ts_ns. The path is what /proc/PID/maps showed for the
 * mapping in the faulting process (or in another traced process that maps
 * the same inode): absolute, possibly ending in " (deleted)", or a pseudo
 * name such as "/memfd:x (deleted)" or "/dev/zero (deleted)" for shared
 * anonymous memory. A (dev, ino) that could not be resolved has no record
 * (the INFO "kernel.files.unresolved" counts them).
 */
struct mh_rec_kfile {
	struct mh_rec_hdr hdr;
	__u64 ts_ns;		/* CLOCK_MONOTONIC ns of the first fault naming the file */
	__u64 ino;		/* inode number, as in mh_rec_kfault.ino */
	__u32 dev;		/* kernel dev_t (MAJOR << 20 | MINOR), as in mh_rec_kfault.dev */
	__u32 pid;		/* process whose /proc/PID/maps gave the path (memhook's if its handle did) */
	__u32 path_len;		/* bytes of the path, NUL excluded */
	__u32 gen;		/* inode generation, as the fault gave it (0: unknown, older traces) */
	/* char path[path_len + 1]; padded to MH_REC_ALIGN */
};

_Static_assert(sizeof(struct mh_rec_kfault) == 88, "kfault size");
_Static_assert(sizeof(struct mh_rec_kmajfault) == 40, "kmajfault size");
_Static_assert(sizeof(struct mh_rec_kswapin) == 40, "kswapin size");
_Static_assert(sizeof(struct mh_rec_krss) == 40, "krss size");
_Static_assert(sizeof(struct mh_rec_kreclaim) == 56, "kreclaim size");
_Static_assert(sizeof(struct mh_rec_kkswapd) == 48, "kkswapd size");
_Static_assert(sizeof(struct mh_rec_koom) == 72, "koom size");
_Static_assert(sizeof(struct mh_rec_ksignal) == 40, "ksignal size");
_Static_assert(sizeof(struct mh_rec_ksyscall) == 96, "ksyscall size");
_Static_assert(sizeof(struct mh_rec_kproc) == 48, "kproc size");
_Static_assert(sizeof(struct mh_rec_kmemcg) == 40, "kmemcg size");
_Static_assert(sizeof(struct mh_rec_kfile) == 40, "kfile size");

#endif /* MEMHOOK_INCLUDE_KERNEL_EVENTS_H */
