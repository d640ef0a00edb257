// SPDX-License-Identifier: MIT
/*
 * procs.bpf.c - fork, thread creation, exec and exit of traced processes.
 * With follow_children, a forked child's tgid joins the filter here,
 * in the kernel, before the child can run, so none of its events is lost.
 * A thread's exit reports the RSS counters its process changed since their
 * last report, while the mm is still attached.
 * Never blocks, never prints.
 */
#include "kernel/mm_counters.bpf.h"

/* Add forked children's tgids to the filter (procs.c). */
const volatile bool follow_children = false;

static __always_inline int on_fork(struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	struct mh_rec_kproc r = {};
	struct mh_traced fresh = {};

	if (!is_traced(ptgid))
		return 0;
	INIT_REC(r, MH_REC_KPROC);
	r.ts_ns = bpf_ktime_get_ns();
	r.tid = BPF_CORE_READ(parent, pid);
	r.pid = ptgid;
	r.child_tid = BPF_CORE_READ(child, pid);
	if (ctgid == ptgid) {
		r.kind = MH_KPROC_THREAD;
	} else {
		r.kind = MH_KPROC_FORK;
		r.child_pid = ctgid;
		/* A fresh entry: no vma an earlier process of that tgid cached. */
		if (follow_children &&
		    bpf_map_update_elem(&traced, &ctgid, &fresh, BPF_ANY) == 0) {
			mark_traced(ctgid);
			r.followed = 1;
		}
	}
	emit(&r, sizeof(r));
	return 0;
}

static __always_inline int on_exec(struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	struct mh_traced *t = traced_of(tgid);
	struct mh_rec_kproc r = {};
	__u32 i;

	if (!t)
		return 0;
	/* A new mm: what the trace said of the old one's counters says nothing of it. */
	for (i = 0; i < 4; i++) {
		t->rss_told[i] = 0;
		t->rss_dirty[i] = 1;
	}
	t->rss_told_peak = 0;
	t->rss_changes++;
	INIT_REC(r, MH_REC_KPROC);
	r.ts_ns = bpf_ktime_get_ns();
	r.tid = BPF_CORE_READ(p, pid);
	r.pid = tgid;
	r.kind = MH_KPROC_EXEC;
	emit(&r, sizeof(r));
	return 0;
}

static __always_inline int on_exit(struct task_struct *p, bool group_dead)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	struct mh_traced *t = traced_of(tgid);
	struct mh_rec_kproc r = {};
	struct mm_struct *mm;

	if (!t)
		return 0;
	/* The mm is still attached here: report its counters before the teardown. */
	mm = BPF_CORE_READ(p, mm);
	if (mm)
		flush_rss(mm, tgid, t);
	/* A thread that dies in a fault is in it no more. */
	fault_over(t, bpf_task_storage_get(&threads, bpf_get_current_task_btf(), NULL, 0));
	INIT_REC(r, MH_REC_KPROC);
	r.ts_ns = bpf_ktime_get_ns();
	r.tid = BPF_CORE_READ(p, pid);
	r.pid = tgid;
	r.kind = MH_KPROC_EXIT;
	r.exit_code = BPF_CORE_READ(p, exit_code);
	r.group_dead = group_dead;
	emit(&r, sizeof(r));
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(procs__fork, struct task_struct *parent, struct task_struct *child)
{
	return on_fork(parent, child);
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(procs__fork_raw, struct task_struct *parent, struct task_struct *child)
{
	return on_fork(parent, child);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(procs__exec, struct task_struct *p)
{
	return on_exec(p);
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(procs__exec_raw, struct task_struct *p)
{
	return on_exec(p);
}

/*
 * group_dead is a recent second argument of the tracepoint; where the
 * kernel passes only p, tp_btf refuses this prototype and the raw_tp
 * fallback reads an unset argument, so group_dead is then unreliable.
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(procs__exit, struct task_struct *p, bool group_dead)
{
	return on_exit(p, group_dead);
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(procs__exit_raw, struct task_struct *p, bool group_dead)
{
	return on_exit(p, group_dead);
}
