/* SPDX-License-Identifier: MIT */
/*
 * common.bpf.h - what every stream's BPF code shares: the maps that cross
 * streams (the tgid filter with each process's cached vmas, the ring
 * buffer, the drop counter, per-thread state), the rodata configuration
 * and small helpers.
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
 * Per thread: the user fault it is handling (fault_ns = 0: none, cleared
 * at syscall entry) and the memory syscall it has in flight (sys = 0:
 * none; syscalls.bpf.c). Task-local storage: no hash, no LRU, and one
 * lookup where a memory syscall's entry needs both. A thread that never
 * faulted or made one of ours has none, which a lookup sees at once.
 */
struct thread_state {
	__u64 fault_addr;
	__u64 fault_ns;
	__u64 enter_ns;
	__u64 args[6];
	__u32 sys;		/* enum mh_ksys */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct thread_state);
} threads SEC(".maps") __weak;

/*
 * The thread's user fault is over (at a syscall, or its exit): t's count
 * of threads in a fault (kconf.h) goes down with it, so that syscalls of
 * a process none of whose threads is in a fault skip the lookup.
 */
static __always_inline void fault_over(struct mh_traced *t, struct thread_state *st)
{
	if (st && st->fault_ns) {
		st->fault_ns = 0;
		__sync_fetch_and_sub(&t->in_fault, 1);
	}
}

/*
 * The vmas a process faulted in or mapped last, MH_KCONF_VMA_WAYS of them
 * in its filter entry (struct mh_traced), so faults in the mappings a
 * program goes back and forth between look each up once (bpf_find_vma
 * defers its unlock through an irq_work when called with interrupts off,
 * as at fault entry: an interrupt per lookup, the largest cost of the
 * kernel stream on a program that maps many files). A successful mmap
 * adds its new vma at syscall exit, where interrupts are on ("fresh": no
 * fault has seen it yet). A way is kept until a syscall may reshape its
 * vma (syscalls.bpf.c): munmap and mmap drop the ways that meet their
 * range (git log -p maps, reads and unmaps an object file between faults
 * in its heap: one way held the heap's vma only until the next mmap, a
 * lookup for a fifth of its faults), every other syscall but those that
 * cannot reshape vmas drops them all, by moving the process to a new
 * epoch (no write per way).
 *
 * The ways are written in place, by any thread of the process: a writer
 * owns a way while its seq is odd (taken by compare-and-swap; a thread
 * that finds it taken caches nothing, or drops every way), a reader
 * copies it and keeps the copy only if seq did not change meanwhile (in
 * the filter entry, the ways cost no map operation: four hash lookups per
 * fault, eight and an update or a delete per mmap or munmap before).
 */
#define VMA_SEQ_BUSY 1U
#define VMA_SEQ_FRESH 2U
#define VMA_SEQ_STEP 4U

/* Orders the loads and stores around a seq access (x86 keeps them in program order). */
#define compiler_barrier() asm volatile("" ::: "memory")
#define READ_ONCE_U32(x) (*(volatile __u32 *)&(x))
#define READ_ONCE_U64(x) (*(volatile __u64 *)&(x))

/* vm_flags bits (include/linux/mm.h): macros, so not in the BTF. */
#define VM_GROWSDOWN 0x00000100UL
#define VM_HUGETLB 0x00400000UL
/* include/uapi/linux/magic.h */
#define TMPFS_MAGIC 0x01021994UL

/*
 * bpf_find_vma's callback: what a fault in vma is in (data: struct
 * mh_kvma). vma is a pointer the verifier knows: plain loads, no helper
 * call per field (a probe read each cost more than the lookup).
 */
static __attribute__((unused)) long classify_vma(struct task_struct *task, struct vm_area_struct *vma,
						 void *data)
{
	struct mh_kvma *v = data;
	unsigned long flags = vma->vm_flags;
	unsigned long start_stack = vma->vm_mm->start_stack;
	struct file *file = vma->vm_file;

	v->start = vma->vm_start;
	v->end = vma->vm_end;
	if (flags & VM_HUGETLB) {
		v->vma_class = MH_VMA_HUGETLB;
	} else if (file) {
		struct inode *inode = file->f_inode;

		v->ino = inode->i_ino;
		v->dev = inode->i_sb->s_dev;
		v->gen = inode->i_generation;
		v->nlink = inode->i_nlink;
		v->file_offset = vma->vm_pgoff << conf.page_shift;
		if (inode->i_sb->s_magic == TMPFS_MAGIC)
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

/* Forget all the vmas of t's process: a new epoch. */
static __always_inline void vma_cache_drop_all(struct mh_traced *t)
{
	__sync_fetch_and_add(&t->vma_epoch, 1);
}

/* Take way w for writing; *seq: its seq before. False if another thread has it. */
static __always_inline bool vma_way_lock(struct mh_kvma *w, __u32 *seq)
{
	__u32 s = READ_ONCE_U32(w->seq);

	if (s & VMA_SEQ_BUSY)
		return false;
	if (__sync_val_compare_and_swap(&w->seq, s, s | VMA_SEQ_BUSY) != s)
		return false;
	*seq = s;
	return true;
}

static __always_inline void vma_way_unlock(struct mh_kvma *w, __u32 seq, bool fresh)
{
	compiler_barrier();
	w->seq = (seq & ~(VMA_SEQ_BUSY | VMA_SEQ_FRESH)) + VMA_SEQ_STEP + (fresh ? VMA_SEQ_FRESH : 0);
}

/*
 * Copy into *out t's vma of epoch that holds addr, if cached. Returns
 * true when found; *first is set when this is the first fault to see a
 * vma an mmap cached (its fresh bit is taken by compare-and-swap, once).
 */
static __always_inline bool vma_cache_find(struct mh_traced *t, __u64 epoch, __u64 addr,
					   struct mh_kvma *out, bool *first)
{
	struct mh_kvma *w;
	__u32 s;

	for (__u32 i = 0; i < MH_KCONF_VMA_WAYS; i++) {
		w = &t->vma[i];
		s = READ_ONCE_U32(w->seq);
		if (s & VMA_SEQ_BUSY)
			continue;
		compiler_barrier();
		if (w->epoch != epoch || addr < w->start || addr >= w->end)
			continue;
		*out = *w;
		compiler_barrier();
		if (READ_ONCE_U32(w->seq) != s)
			return false;
		*first = (s & VMA_SEQ_FRESH) &&
			 __sync_val_compare_and_swap(&w->seq, s, s & ~VMA_SEQ_FRESH) == s;
		return true;
	}
	return false;
}

/*
 * Cache v as a vma of t's process in epoch (read before v was looked
 * up: a syscall that may reshape it meanwhile leaves it uncached), in a
 * free way, one munmap emptied or of an older epoch, else in the next in
 * turn: a file mapped, read and unmapped then leaves the other ways (the
 * heap's) alone.
 */
static __always_inline void vma_cache_add(struct mh_traced *t, __u64 epoch, struct mh_kvma *v,
					  bool fresh)
{
	struct mh_kvma *w;
	__u32 i, s;

	for (i = 0; i < MH_KCONF_VMA_WAYS; i++) {
		w = &t->vma[i];
		if (!w->end || w->epoch != epoch)
			break;
	}
	if (i == MH_KCONF_VMA_WAYS)
		i = t->vma_next++;
	w = &t->vma[i % MH_KCONF_VMA_WAYS];
	if (!vma_way_lock(w, &s))
		return;
	v->seq = s | VMA_SEQ_BUSY;
	v->epoch = epoch;
	*w = *v;
	vma_way_unlock(w, s, fresh);
}

/*
 * Forget t's cached vmas that meet [lo, hi], ends included: a vma next
 * to a range mmap filled may have merged with it. A way another thread
 * is writing cannot be read: then every way is dropped.
 */
static __always_inline void vma_cache_drop(struct mh_traced *t, __u64 lo, __u64 hi)
{
	__u64 epoch = READ_ONCE_U64(t->vma_epoch);
	struct mh_kvma *w;
	__u32 s;
	bool meets;

	for (__u32 i = 0; i < MH_KCONF_VMA_WAYS; i++) {
		w = &t->vma[i];
		s = READ_ONCE_U32(w->seq);
		compiler_barrier();
		meets = w->epoch == epoch && w->start <= hi && w->end >= lo;
		compiler_barrier();
		if (!(s & VMA_SEQ_BUSY) && READ_ONCE_U32(w->seq) == s && !meets)
			continue;
		if (!vma_way_lock(w, &s)) {
			vma_cache_drop_all(t);
			return;
		}
		w->start = 0;
		w->end = 0;
		vma_way_unlock(w, s, false);
	}
}

static __always_inline void count_drop(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&drops, &zero);

	if (n)
		*n += 1;
}

/* Slot 0: bytes this CPU wrote to the ring since it last looked at how full it is. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} unpolled SEC(".maps") __weak;

/*
 * Copy a finished record into the ring, or count a drop. The reader is
 * woken only once conf.wakeup_bytes are waiting (it also drains on its poll
 * timeout): a wakeup per record costs an irq_work per fault. A CPU looks
 * at the ring only after writing 1/(2 * CPUs) of that since its last look
 * (the query cost as much as the copy, the reader's position a cache miss
 * away), so the reader is woken before 1.5 times that is waiting.
 */
static __always_inline void emit_wake(const void *rec, __u32 size, bool wake)
{
	__u32 zero = 0, step = conf.wakeup_bytes / (2 * (conf.nr_cpus ?: 1));
	__u64 *n = bpf_map_lookup_elem(&unpolled, &zero);
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (!wake && n && *n + size < step) {
		*n += size;
	} else {
		if (n)
			*n = 0;
		if (wake || bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= conf.wakeup_bytes)
			flags = BPF_RB_FORCE_WAKEUP;
	}
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
