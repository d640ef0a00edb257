// SPDX-License-Identifier: MIT
/*
 * oom.bpf.c - the OOM killer choosing a traced process (oom:mark_victim,
 * with the victim's memory counters) and the SIGKILL sent to a traced
 * process (signal:signal_generate), which precedes the victim mark.
 * Never blocks, never prints.
 */
#include "kernel/mm_counters.bpf.h"

/* include/uapi/asm-generic/signal.h */
#define SIGKILL 9

/*
 * Traced tgids the OOM killer chose: key tgid, value ts_ns of the mark.
 * Read from user space by mh_collector_oom_victim().
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} oom_victims SEC(".maps");

static __always_inline int on_victim(struct task_struct *task)
{
	struct mh_rec_koom r = {};
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	__u32 tgid = BPF_CORE_READ(task, tgid);

	if (!is_traced(tgid))
		return 0;
	INIT_REC(r, MH_REC_KOOM);
	r.ts_ns = bpf_ktime_get_ns();
	if (mm) {
		know_cpu_offs();
		r.total_vm_bytes = BPF_CORE_READ(mm, total_vm) << conf.page_shift;
		r.anon_rss_bytes = mm_bytes(mm, MH_RSS_ANON);
		r.file_rss_bytes = mm_bytes(mm, MH_RSS_FILE);
		r.shmem_rss_bytes = mm_bytes(mm, MH_RSS_SHMEM);
		r.swap_bytes = mm_bytes(mm, MH_RSS_SWAPENTS);
	}
	r.pid = tgid;
	r.tid = BPF_CORE_READ(task, pid);
	r.killer_tid = (__u32)bpf_get_current_pid_tgid();
	r.oom_score_adj = BPF_CORE_READ(task, signal, oom_score_adj);
	bpf_map_update_elem(&oom_victims, &tgid, &r.ts_ns, BPF_ANY);
	emit(&r, sizeof(r));
	return 0;
}

static __always_inline int on_signal(int sig, struct task_struct *task, int result)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct mh_rec_ksignal r = {};
	__u32 tgid;

	if (sig != SIGKILL)
		return 0;
	tgid = BPF_CORE_READ(task, tgid);
	if (!is_traced(tgid))
		return 0;
	INIT_REC(r, MH_REC_KSIGNAL);
	r.ts_ns = bpf_ktime_get_ns();
	r.tid = BPF_CORE_READ(task, pid);
	r.pid = tgid;
	r.sender_tid = (__u32)id;
	r.sender_pid = id >> 32;
	r.sig = sig;
	r.result = result;
	emit(&r, sizeof(r));
	return 0;
}

SEC("tp_btf/mark_victim")
int BPF_PROG(oom__mark_victim, struct task_struct *task)
{
	return on_victim(task);
}

SEC("raw_tp/mark_victim")
int BPF_PROG(oom__mark_victim_raw, struct task_struct *task)
{
	return on_victim(task);
}

SEC("tp_btf/signal_generate")
int BPF_PROG(oom__signal_generate, int sig, struct kernel_siginfo *info,
	     struct task_struct *task, int group, int result)
{
	return on_signal(sig, task, result);
}

SEC("raw_tp/signal_generate")
int BPF_PROG(oom__signal_generate_raw, int sig, struct kernel_siginfo *info,
	     struct task_struct *task, int group, int result)
{
	return on_signal(sig, task, result);
}
