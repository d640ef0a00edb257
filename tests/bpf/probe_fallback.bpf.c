// SPDX-License-Identifier: MIT
/*
 * probe_fallback.bpf.c - programs for tests/check_kernel_probes.c, which
 * hands them to kernel/probes.c's generic fallback: a probe of a
 * tracepoint no kernel has (every mechanism must be ruled out before load,
 * or fail, and say why), a tp_btf program the verifier refuses (it reads a
 * fifth argument sched_process_exec does not have) with a raw_tp fallback
 * that loads, and a plain probe that must still attach beside them.
 * Never prints.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Written so the verifier must check the argument read. */
__u64 seen = 0;

SEC("tp_btf/memhook_no_such_tracepoint")
int BPF_PROG(missing__btf)
{
	return 0;
}

SEC("raw_tp/memhook_no_such_tracepoint")
int BPF_PROG(missing__raw)
{
	return 0;
}

SEC("tracepoint/memhook/no_such_tracepoint")
int missing__tracepoint(void *ctx)
{
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(refused__btf, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm,
	     __u64 no_such_arg, __u64 nor_this_one)
{
	seen = nor_this_one;
	return 0;
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(refused__raw, struct task_struct *p)
{
	seen = 1;
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(present__fork, struct task_struct *parent, struct task_struct *child)
{
	return 0;
}
