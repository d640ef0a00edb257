// SPDX-License-Identifier: MIT
/*
 * syscalls.bpf.c - mmap, munmap, mremap, brk and madvise of traced threads,
 * with their arguments (kept at raw_syscalls:sys_enter, per thread) and
 * their result (emitted at sys_exit). Every syscall entry of a traced
 * thread also ends its "in a user fault" state (faults.bpf.c), so swap
 * entries dropped by munmap are not taken for swap-ins, and drops its
 * process's cached vmas that the syscall may reshape (common.bpf.h: those
 * meeting the range of an munmap or mmap, all for other syscalls but a
 * few that cannot; a successful mmap caches its new vma), and reports
 * the RSS counters the process changed since their last report (a syscall
 * is how a process observes them: see mh_rec_krss; the memory syscalls
 * themselves cannot, and report them only past a threshold).
 * Never blocks, never prints.
 */
#include "kernel/mm_counters.bpf.h"

/* This architecture's numbers of the syscalls recorded (syscalls.c). */
const volatile __u32 nr_mmap = 0;
const volatile __u32 nr_munmap = 0;
const volatile __u32 nr_mremap = 0;
const volatile __u32 nr_brk = 0;
const volatile __u32 nr_madvise = 0;
/*
 * Syscalls that cannot reshape the caller's vmas, so they keep its cached
 * vmas (common.bpf.h); (__u32)-1 fills unused places. A program that maps
 * files closes, reads and stats them between its mmap and its faults;
 * memhook's preload blocks signals around its work (git log -p: 5,300
 * rt_sigprocmask calls, each one dropped the cache).
 */
#define KEEP_VMA_MAX 16
const volatile __u32 nr_keep_vma[KEEP_VMA_MAX] = {
	(__u32)-1, (__u32)-1, (__u32)-1, (__u32)-1, (__u32)-1, (__u32)-1, (__u32)-1, (__u32)-1,
	(__u32)-1, (__u32)-1, (__u32)-1, (__u32)-1, (__u32)-1, (__u32)-1, (__u32)-1, (__u32)-1,
};

/* enum mh_ksys for a syscall number, 0 for the ones not recorded. */
static __always_inline __u32 mem_syscall(long id)
{
	if (id == nr_mmap)
		return MH_KSYS_MMAP;
	if (id == nr_munmap)
		return MH_KSYS_MUNMAP;
	if (id == nr_mremap)
		return MH_KSYS_MREMAP;
	if (id == nr_brk)
		return MH_KSYS_BRK;
	if (id == nr_madvise)
		return MH_KSYS_MADVISE;
	return 0;
}

/* mem_syscall(id) != 0 without a branch per syscall: one path for the verifier. */
static __always_inline bool mem_syscall_any(long id)
{
	return (id == nr_mmap) | (id == nr_munmap) | (id == nr_mremap) | (id == nr_brk) |
	       (id == nr_madvise);
}

static __always_inline bool keeps_vma(long id)
{
	for (int i = 0; i < KEEP_VMA_MAX; i++)
		if (id == nr_keep_vma[i])
			return true;
	return false;
}

/* MAP_FIXED (include/uapi/asm-generic/mman-common.h): the mapping replaces what was there. */
#define MAP_FIXED 0x10

/* The last byte a call's range (args addr, len) may reshape, rounded up by a page. */
static __always_inline __u64 range_end(const struct thread_state *call)
{
	return call->args[0] + call->args[1] + (1ULL << conf.page_shift);
}

/*
 * Drop the cached vmas call (just read at entry) may reshape: munmap's
 * range, a MAP_FIXED mmap's (any other mmap makes a new vma: it is
 * cached at exit), everything for mremap, brk and madvise.
 */
static __always_inline void drop_at_entry(struct mh_traced *t, const struct thread_state *call)
{
	if (call->sys == MH_KSYS_MUNMAP ||
	    (call->sys == MH_KSYS_MMAP && (call->args[3] & MAP_FIXED)))
		vma_cache_drop(t, call->args[0], range_end(call));
	else if (call->sys != MH_KSYS_MMAP)
		vma_cache_drop_all(t);
}

/*
 * At exit: a successful mmap caches its new vma (interrupts are on here),
 * first dropping the cached vmas it may have merged with; munmap drops
 * its range again (another thread may have cached a vma of it meanwhile).
 */
static __always_inline void cache_at_exit(__u32 tgid, const struct thread_state *call, __s64 ret)
{
	struct mh_kvma v = {};
	struct mh_traced *t;
	__u64 epoch, lo, hi;
	bool found = false;

	if ((call->sys != MH_KSYS_MUNMAP && call->sys != MH_KSYS_MMAP) || !(t = traced_of(tgid)))
		return;
	/* An error is -4095..-1: anything else is the mapping's address. */
	if (call->sys == MH_KSYS_MMAP && (__u64)ret >= (__u64)-4095) {
		vma_cache_drop_all(t);
		return;
	}
	epoch = READ_ONCE_U64(t->vma_epoch);
	if (call->sys == MH_KSYS_MUNMAP) {
		lo = call->args[0];
		hi = range_end(call);
	} else if (!bpf_find_vma(bpf_get_current_task_btf(), (__u64)ret, classify_vma, &v, 0)) {
		found = true;
		lo = v.start;
		hi = v.end;
	} else {
		lo = (__u64)ret;
		hi = (__u64)ret + call->args[1] + (1ULL << conf.page_shift);
	}
	/* One drop for every case: each inlined copy is ~90 instructions more to verify. */
	vma_cache_drop(t, lo, hi);
	if (found)
		vma_cache_add(t, epoch, &v, true);
}

/*
 * A register of the syscall's user regs: a plain load where the program
 * is tp_btf (regs is a pointer the verifier knows; a helper call per
 * register cost more than the rest of the entry), else a probe read.
 * The syscall ABI's registers are x86-64's (the number in orig_ax, the
 * fourth argument in r10).
 */
#define REG(btf, regs, reg) ((btf) ? (__u64)(regs)->reg : (__u64)BPF_CORE_READ(regs, reg))

/*
 * The arguments sys takes; the registers past them (whatever the caller
 * left there) are stored as 0, so the trace's argument columns of munmap
 * and brk, most of a program's memory syscalls, compress to nothing
 * (a column of leftover pointers cost git log -p ~28 KB of its trace).
 */
static __always_inline void read_args(struct thread_state *call, struct pt_regs *regs, __u32 sys,
				      bool btf)
{
	__u32 n = sys == MH_KSYS_BRK ? 1 : sys == MH_KSYS_MUNMAP ? 2 :
		  sys == MH_KSYS_MADVISE ? 3 : sys == MH_KSYS_MREMAP ? 5 : 6;

	call->args[0] = REG(btf, regs, di);
	call->args[1] = n > 1 ? REG(btf, regs, si) : 0;
	call->args[2] = n > 2 ? REG(btf, regs, dx) : 0;
	call->args[3] = n > 3 ? REG(btf, regs, r10) : 0;
	call->args[4] = n > 4 ? REG(btf, regs, r8) : 0;
	call->args[5] = n > 5 ? REG(btf, regs, r9) : 0;
}

static __always_inline int on_enter(struct pt_regs *regs, long id, bool btf)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct mh_traced *t = traced_of(tgid);
	struct thread_state *call;
	struct mm_struct *mm;
	__u32 sys, changes;
	__s64 pages[4];

	if (!t)
		return 0;
	/*
	 * A syscall may observe the counters (/proc/self/status): report them
	 * first. The memory syscalls cannot, and may hold them back. (sys is
	 * found after, and mem_syscall_any() has no branch: with sys known on
	 * each of mem_syscall()'s paths, the verifier walked the flush once per
	 * syscall number, 19,849 instructions instead of 6,283, 6 ms a start.)
	 */
	if (t->rss_changes) {
		mm = BPF_CORE_READ(bpf_get_current_task_btf(), mm);
		changes = t->rss_changes;
		t->rss_changes = 0;
		if (mm) {
			rss_read(mm, t, pages);
			rss_report(tgid, t, pages, changes, mem_syscall_any(id));
		}
	}
	sys = mem_syscall(id);
	if (!sys) {
		/* Most syscalls: no thread of the process is in a fault, no lookup. */
		if (t->in_fault)
			fault_over(t, bpf_task_storage_get(&threads, bpf_get_current_task_btf(),
							   NULL, 0));
		if (!keeps_vma(id))
			vma_cache_drop_all(t);
		return 0;
	}
	call = bpf_task_storage_get(&threads, bpf_get_current_task_btf(), NULL,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!call) {
		vma_cache_drop_all(t);
		return 0;
	}
	fault_over(t, call);
	call->sys = sys;
	call->enter_ns = bpf_ktime_get_ns();
	read_args(call, regs, sys, btf);
	drop_at_entry(t, call);
	return 0;
}

/*
 * Exit of the syscall regs made. Nearly every syscall ends here before the storage
 * lookup: a process never traced has made no call of ours (its filter
 * bit, never cleared, would be set), and the other syscalls of a traced
 * one are not memory syscalls (a syscall exits with the number it
 * entered with; its entry found nothing in flight otherwise).
 */
static __always_inline int on_exit(struct pt_regs *regs, long ret, bool btf)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct thread_state *call;
	struct mh_rec_ksyscall r = {};

	if (!maybe_traced(pid_tgid >> 32) || !mem_syscall((long)REG(btf, regs, orig_ax)))
		return 0;
	call = bpf_task_storage_get(&threads, bpf_get_current_task_btf(), NULL, 0);
	if (!call || !call->sys)
		return 0;
	INIT_REC(r, MH_REC_KSYSCALL);
	r.ts_ns = bpf_ktime_get_ns();
	r.enter_ns = call->enter_ns;
	__builtin_memcpy(r.args, call->args, sizeof(r.args));
	r.ret = ret;
	r.tid = tid;
	r.pid = pid_tgid >> 32;
	r.sys = call->sys;
	cache_at_exit(r.pid, call, ret);
	call->sys = 0;
	emit(&r, sizeof(r));
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(syscalls__sys_enter, struct pt_regs *regs, long id)
{
	return on_enter(regs, id, true);
}

SEC("raw_tp/sys_enter")
int BPF_PROG(syscalls__sys_enter_raw, struct pt_regs *regs, long id)
{
	return on_enter(regs, id, false);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(syscalls__sys_exit, struct pt_regs *regs, long ret)
{
	return on_exit(regs, ret, true);
}

SEC("raw_tp/sys_exit")
int BPF_PROG(syscalls__sys_exit_raw, struct pt_regs *regs, long ret)
{
	return on_exit(regs, ret, false);
}
