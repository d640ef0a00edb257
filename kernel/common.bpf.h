/* SPDX-License-Identifier: MIT */
/*
 * common.bpf.h - what every stream's BPF code shares: the maps that cross
 * streams (the tgid filter, the ring buffer, the drop counter, per-thread
 * fault state), the rodata configuration and small helpers.
 * The streams are linked into one BPF object (kernel/build.mk), where these
 * weak definitions, one per stream, become a single map or variable: all
 * streams share one filter and one ring. Never bpf_printk: failures are
 * counted in maps.
 */
#ifndef MEMHOOK_KERNEL_COMMON_BPF_H
#define MEMHOOK_KERNEL_COMMON_BPF_H

#include "vmlinux.h"
/* vmlinux.h already defines the __u64 family: keep <linux/types.h> out. */
#define _LINUX_TYPES_H
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "memhook/kernel_events.h"
#include "kernel/kconf.h"

char LICENSE[] SEC("license") __weak = "Dual MIT/GPL";

/* Set by kernel/loader.c before load. */
const volatile struct mh_kconf conf __weak = {};

/* Traced tgids: key tgid, value its pending RSS reports. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct mh_traced);
} traced SEC(".maps") __weak;

/*
 * The cheap first test of the filter (kconf.h), set by the collector and
 * by procs.bpf.c: sys_enter and sys_exit run for every syscall of every
 * process on the machine, nearly all of them not traced.
 */
__u64 traced_bits[MH_KCONF_TRACED_BITS / 64] __weak;

/* Every record of every stream, in one ring. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps") __weak;

/* Slot 0: records dropped because the ring was full, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps") __weak;

/*
 * The user fault a thread is handling: set at fault entry, cleared
 * (ts_ns = 0) at syscall entry. Task-local storage: no hash, no LRU.
 */
struct fault_state {
	__u64 addr;
	__u64 ts_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct fault_state);
} cur_fault SEC(".maps") __weak;

/*
 * The vmas a process faulted in or mapped last, up to VMA_CACHE_WAYS of
 * them, so faults in the mappings a program goes back and forth between
 * look each up once (bpf_find_vma defers its unlock through an irq_work
 * when called with interrupts off, as at fault entry: an interrupt per
 * lookup, the largest cost of the kernel stream on a program that maps
 * many files). A successful mmap adds its new vma at syscall exit, where
 * interrupts are on ("fresh": no fault has seen it yet). A way is kept
 * until a syscall may reshape its vma (syscalls.bpf.c): munmap and mmap
 * drop the ways that meet their range (git log -p maps, reads and unmaps
 * an object file between faults in its heap: one way held the heap's vma
 * only until the next mmap, a lookup for a fifth of its faults), every
 * other syscall but those that cannot reshape vmas drops them all, by
 * moving the process to a new epoch (no map operation per syscall).
 */
struct vma_info {
	__u64 start;
	__u64 end;
	__u64 file_offset;
	__u64 ino;
	__u32 dev;
	__u32 vma_class;
	__u32 fresh;
	__u32 gen;		/* the file's inode generation */
	__u32 nlink;		/* its links: 0 once deleted */
	__u32 pad;
	__u64 epoch;		/* vma_cache: the process's vma_epoch when cached */
};

#define VMA_CACHE_WAYS 4

struct vma_key {
	__u32 tgid;
	__u32 way;		/* 0 .. VMA_CACHE_WAYS - 1 */
};

/*
 * Room for 1,024 processes' ways (an exited process's are deleted), the
 * size of the single-way cache before (preallocated: ~1 ms to create).
 * Full: a process's vmas are not cached, only looked up (slower, still
 * exact).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024 * VMA_CACHE_WAYS);
	__type(key, struct vma_key);
	__type(value, struct vma_info);
} vma_cache SEC(".maps") __weak;

/* vm_flags bits (include/linux/mm.h): macros, so not in the BTF. */
#define VM_GROWSDOWN 0x00000100UL
#define VM_HUGETLB 0x00400000UL
/* include/uapi/linux/magic.h */
#define TMPFS_MAGIC 0x01021994UL

/* bpf_find_vma's callback: what a fault in vma is in (data: struct vma_info). */
static __attribute__((unused)) long classify_vma(struct task_struct *task, struct vm_area_struct *vma,
						 void *data)
{
	struct vma_info *v = data;
	unsigned long flags = BPF_CORE_READ(vma, vm_flags);
	unsigned long start_stack = BPF_CORE_READ(vma, vm_mm, start_stack);
	struct file *file = BPF_CORE_READ(vma, vm_file);

	v->start = BPF_CORE_READ(vma, vm_start);
	v->end = BPF_CORE_READ(vma, vm_end);
	if (flags & VM_HUGETLB) {
		v->vma_class = MH_VMA_HUGETLB;
	} else if (file) {
		struct inode *inode = BPF_CORE_READ(file, f_inode);

		v->ino = BPF_CORE_READ(inode, i_ino);
		v->dev = BPF_CORE_READ(inode, i_sb, s_dev);
		v->gen = BPF_CORE_READ(inode, i_generation);
		v->nlink = BPF_CORE_READ(inode, i_nlink);
		v->file_offset = BPF_CORE_READ(vma, vm_pgoff) << conf.page_shift;
		if (BPF_CORE_READ(inode, i_sb, s_magic) == TMPFS_MAGIC)
			v->vma_class = MH_VMA_SHMEM;
		else
			v->vma_class = MH_VMA_FILE;
	} else if ((flags & VM_GROWSDOWN) ||
		   (start_stack >= v->start && start_stack < v->end)) {
		v->vma_class = MH_VMA_STACK;
	} else {
		v->vma_class = MH_VMA_ANON;
	}
	return 0;
}

/*
 * False if tgid has never been traced (the filter's first test alone: no
 * map lookup); true if it is or was, or shares its bit with one that is.
 */
static __always_inline bool maybe_traced(__u32 tgid)
{
	__u32 bit = tgid % MH_KCONF_TRACED_BITS;

	return traced_bits[bit / 64] & (1ULL << (bit % 64));
}

static __always_inline struct mh_traced *traced_of(__u32 tgid)
{
	if (!maybe_traced(tgid))
		return NULL;
	return bpf_map_lookup_elem(&traced, &tgid);
}

/* Add tgid to the filter's first test (its map entry is the caller's). */
static __always_inline void mark_traced(__u32 tgid)
{
	__u32 bit = tgid % MH_KCONF_TRACED_BITS;

	__sync_fetch_and_or(&traced_bits[bit / 64], 1ULL << (bit % 64));
}

static __always_inline bool is_traced(__u32 tgid)
{
	return traced_of(tgid) != NULL;
}

/* tgid's cached vma that holds addr, or NULL (t: its filter entry). */
static __always_inline struct vma_info *vma_cache_find(__u32 tgid, const struct mh_traced *t,
						       __u64 addr)
{
	struct vma_key k = { .tgid = tgid };
	struct vma_info *v;

	for (__u32 i = 0; i < VMA_CACHE_WAYS; i++) {
		k.way = i;
		v = bpf_map_lookup_elem(&vma_cache, &k);
		if (v && v->epoch == t->vma_epoch && addr >= v->start && addr < v->end)
			return v;
	}
	return NULL;
}

/*
 * Cache v for tgid (t: its filter entry) in a free way, one munmap emptied
 * or of an older epoch, else in the next in turn: a file mapped, read
 * and unmapped then leaves the other ways (the heap's) alone.
 */
static __always_inline void vma_cache_add(__u32 tgid, struct mh_traced *t, struct vma_info *v)
{
	struct vma_key k = { .tgid = tgid };
	struct vma_info *old;
	__u32 i;

	for (i = 0; i < VMA_CACHE_WAYS; i++) {
		k.way = i;
		old = bpf_map_lookup_elem(&vma_cache, &k);
		if (!old || old->epoch != t->vma_epoch)
			break;
	}
	if (i == VMA_CACHE_WAYS)
		k.way = t->vma_next++ % VMA_CACHE_WAYS;
	v->epoch = t->vma_epoch;
	bpf_map_update_elem(&vma_cache, &k, v, BPF_ANY);
}

/*
 * Forget tgid's cached vmas that meet [lo, hi], ends included: a vma next
 * to a range mmap filled may have merged with it.
 */
static __always_inline void vma_cache_drop(__u32 tgid, __u64 lo, __u64 hi)
{
	struct vma_key k = { .tgid = tgid };
	struct vma_info *v;

	for (__u32 i = 0; i < VMA_CACHE_WAYS; i++) {
		k.way = i;
		v = bpf_map_lookup_elem(&vma_cache, &k);
		if (v && v->start <= hi && v->end >= lo)
			bpf_map_delete_elem(&vma_cache, &k);
	}
}

/* Forget all the vmas of t's process: a new epoch. */
static __always_inline void vma_cache_drop_all(struct mh_traced *t)
{
	__sync_fetch_and_add(&t->vma_epoch, 1);
}

/* Delete tgid's ways (a process gone, or a new one with its tgid). */
static __always_inline void vma_cache_forget(__u32 tgid)
{
	vma_cache_drop(tgid, 0, ~0ULL);
}

static __always_inline void count_drop(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&drops, &zero);

	if (n)
		*n += 1;
}

/*
 * Copy a finished record into the ring, or count a drop. The reader is
 * woken only once conf.wakeup_bytes are waiting (it also drains on its poll
 * timeout): a wakeup per record costs an irq_work per fault.
 */
static __always_inline void emit_wake(const void *rec, __u32 size, bool wake)
{
	__u64 flags = wake || bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= conf.wakeup_bytes ?
		      BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;

	if (bpf_ringbuf_output(&events, (void *)rec, size, flags))
		count_drop();
}

static __always_inline void emit(const void *rec, __u32 size)
{
	emit_wake(rec, size, false);
}

static __always_inline void fill_hdr(struct mh_rec_hdr *hdr, __u16 type, __u32 size)
{
	hdr->type = type;
	hdr->kind = 0;
	hdr->size = size;
}

#define INIT_REC(rec, type_id) fill_hdr(&(rec).hdr, type_id, sizeof(rec))

#endif /* MEMHOOK_KERNEL_COMMON_BPF_H */
