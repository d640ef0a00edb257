/* SPDX-License-Identifier: MIT */
/*
 * mm_counters.bpf.h - exact values of an mm's RSS counters from BPF.
 *
 * mm->rss_stat[] are percpu_counters (since commit f1a7941243c1 ("mm:
 * convert mm's rss stats into percpu_counter"), 6.2); their ->count alone
 * lags by up to batch * CPUs pages, which is what kmem:rss_stat reports.
 * We add every CPU's slot, as percpu_counter_sum() does, so values match
 * /proc/PID/status. A slot lives at counters + the CPU's per-CPU offset,
 * and neither __per_cpu_offset[] nor this_cpu_off is in kallsyms without
 * CONFIG_KALLSYMS_ALL. So we learn the offsets from a per-CPU array map of
 * our own: bpf_map_lookup_percpu_elem() gives its element's address on a
 * CPU, struct bpf_array's pptrs[0] its per-CPU base, and their difference
 * is that CPU's offset (learned once). Pointers become plain numbers by
 * a copy through bpf_probe_read_kernel() (root may see kernel addresses).
 * If any step fails, the value is ->count alone (approximate, as the
 * tracepoint's).
 */
#ifndef MEMHOOK_KERNEL_MM_COUNTERS_BPF_H
#define MEMHOOK_KERNEL_MM_COUNTERS_BPF_H

#include "kernel/common.bpf.h"

/* One per-CPU element whose addresses reveal the per-CPU offsets. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pcpu_probe SEC(".maps") __weak;

/* A pointer's value as a number (copied, so the verifier sees a scalar). */
static __always_inline __u64 addr_of(const void *ptr)
{
	__u64 val = 0;

	bpf_probe_read_kernel(&val, sizeof(val), &ptr);
	return val;
}

/*
 * Each possible CPU's per-CPU offset, learned once by whichever program
 * reads counters first (they never change): a counter's sum is then a
 * probe read per CPU, not three helper calls. Readers of counters call
 * know_cpu_offs() first. learn_cpu_offs() is a global function, so the
 * verifier walks its loop over the CPUs once per program, not once per
 * inlined copy (the streams' programs: 60,800 instructions verified on
 * 64 CPUs instead of 90,500); a global function returns a scalar.
 */
__u64 cpu_offs[MH_KCONF_MAX_CPUS] __weak;
__u32 cpu_offs_ready __weak;

__weak __noinline int learn_cpu_offs(void)
{
	__u64 pptrs = addr_of(&pcpu_probe) + bpf_core_field_offset(struct bpf_array, pptrs);
	__u64 base = 0;
	__u32 cpu, zero = 0;

	if (bpf_probe_read_kernel(&base, sizeof(base), (const void *)pptrs) || !base)
		return 0;
	for (cpu = 0; cpu < MH_KCONF_MAX_CPUS && cpu < conf.nr_cpus; cpu++) {
		void *elem = bpf_map_lookup_percpu_elem(&pcpu_probe, &zero, cpu);

		if (!elem)
			return 0;
		cpu_offs[cpu] = addr_of(elem) - base;
	}
	compiler_barrier();
	cpu_offs_ready = 1;
	return 0;
}

static __always_inline void know_cpu_offs(void)
{
	if (!cpu_offs_ready)
		learn_cpu_offs();
}

static __always_inline __s64 counter_sum(struct percpu_counter *pc)
{
	__s64 sum = BPF_CORE_READ(pc, count);
	__u64 slots = (__u64)BPF_CORE_READ(pc, counters);
	__s64 part = 0;
	__u32 cpu;
	__s32 v;

	/* The offsets could not be learned: approximate. */
	if (!cpu_offs_ready)
		return sum < 0 ? 0 : sum;
	for (cpu = 0; cpu < MH_KCONF_MAX_CPUS && cpu < conf.nr_cpus; cpu++) {
		if (bpf_probe_read_kernel(&v, sizeof(v), (const void *)(slots + cpu_offs[cpu])))
			break;
		part += v;
	}
	if (cpu == conf.nr_cpus || cpu == MH_KCONF_MAX_CPUS)
		sum += (__s64)part;
	return sum < 0 ? 0 : sum;
}

/* Pages in the mm counter whose kernel index is member (0..3), exact (after know_cpu_offs). */
static __always_inline __s64 mm_counter(struct mm_struct *mm, int member)
{
	char *base = (char *)mm + bpf_core_field_offset(struct mm_struct, rss_stat);

	return counter_sum((struct percpu_counter *)(base +
			   (member & 3) * bpf_core_type_size(struct percpu_counter)));
}

/* Bytes in the mm counter that enum mh_rss_member idx names, 0 if absent (after know_cpu_offs). */
static __always_inline __u64 mm_bytes(struct mm_struct *mm, __u32 idx)
{
	int member = conf.mm_member[idx & 3];

	if (member < 0 || member >= 4)
		return 0;
	return (__u64)mm_counter(mm, member) << conf.page_shift;
}

/*
 * A process's own RSS changes are reported at most this many changes late
 * (faults.c); a change this large (pages) is never held back by a
 * mapping syscall (flush_rss_lazy).
 */
const volatile __u32 rss_batch __weak = 0;

/* Note that the trace now says pages for member idx of t's process. */
static __always_inline void told_rss(struct mh_traced *t, __u32 idx, __s64 pages)
{
	__s64 sum;

	t->rss_told[idx & 3] = pages;
	sum = t->rss_told[MH_RSS_ANON] + t->rss_told[MH_RSS_FILE] + t->rss_told[MH_RSS_SHMEM];
	if (sum > t->rss_told_peak)
		t->rss_told_peak = sum;
}

/* Emit pages as the value of member idx (enum mh_rss_member) of tgid, read at ts. */
static __always_inline void emit_rss_value(__u32 tgid, __u32 idx, __s64 pages, __u64 ts)
{
	struct mh_rec_krss r = {};

	INIT_REC(r, MH_REC_KRSS);
	r.ts_ns = ts;
	r.bytes = (__u64)pages << conf.page_shift;
	r.tid = (__u32)bpf_get_current_pid_tgid();
	r.pid = tgid;
	r.member = idx & 3;
	emit(&r, sizeof(r));
}

/* Emit member idx of tgid's mm (t: its filter entry) as a KRSS record at ts; its pages. */
static __always_inline __s64 emit_rss(struct mm_struct *mm, __u32 tgid, struct mh_traced *t,
				      __u32 idx, __u64 ts)
{
	int member = conf.mm_member[idx & 3];
	__s64 pages;

	if (member < 0 || member >= 4)
		return 0;
	know_cpu_offs();
	pages = mm_counter(mm, member);
	emit_rss_value(tgid, idx, pages, ts);
	told_rss(t, idx, pages);
	return pages;
}

/*
 * Reporting a process's own changes: the counters it changed since their
 * last report are read (rss_read) and reported with their exact values
 * (rss_report). With lazy, at the entry of a syscall that cannot show the
 * process its counters (mmap, munmap, brk, mremap, madvise: a program
 * that maps, reads and unmaps a page per file, as git does per object,
 * would report each counter up and back down), they are reported only if
 * one moved by rss_batch pages or more since its last report, or anon +
 * file + shmem is above the largest the trace has said since the process
 * began (so the peak, like VmHWM, is exact); else they stay marked for
 * any other syscall, rss_batch changes or the thread's exit. A counter
 * back at the value last reported is not reported again.
 *
 * The marks are cleared before the counters are read, so a change racing
 * with us is either in the value read or marked again. Which counters
 * changed is told by their values alone, never kept as a mask: each
 * combination of known bits would be a path of its own for the verifier.
 */

/* True if a counter in pages[] moved by rss_batch pages or more from what t last reported. */
static __always_inline bool rss_moved(const struct mh_traced *t, const __s64 pages[4])
{
	__s64 d;

	for (__u32 i = 0; i < 4; i++) {
		d = pages[i] - t->rss_told[i];
		if (d >= (__s64)rss_batch || -d >= (__s64)rss_batch)
			return true;
	}
	return false;
}

/* Read the counters t marks as changed into pages[], the others as last told; clear the marks. */
static __always_inline void rss_read(struct mm_struct *mm, struct mh_traced *t, __s64 pages[4])
{
	know_cpu_offs();
	for (__u32 i = 0; i < 4; i++) {
		pages[i] = t->rss_told[i];
		if (!t->rss_dirty[i])
			continue;
		t->rss_dirty[i] = 0;
		if (conf.mm_member[i] >= 0 && conf.mm_member[i] < 4)
			pages[i] = mm_counter(mm, conf.mm_member[i]);
	}
}

/*
 * Report what rss_read() gave that differs from what t last reported
 * (changes: t->rss_changes before it, which the caller zeroed), or with
 * lazy, hold it back. Apart from rss_read() so that a caller deciding lazy
 * late has the verifier walk the counter reads once.
 */
static __always_inline void rss_report(__u32 tgid, struct mh_traced *t, const __s64 pages[4],
				       __u32 changes, bool lazy)
{
	__u64 ts;
	__u32 i;

	if (lazy && pages[MH_RSS_ANON] + pages[MH_RSS_FILE] + pages[MH_RSS_SHMEM] <=
	    t->rss_told_peak && !rss_moved(t, pages)) {
		/* Held back: marked again. */
		for (i = 0; i < 4; i++)
			if (pages[i] != t->rss_told[i])
				t->rss_dirty[i] = 1;
		t->rss_changes += changes;
		return;
	}
	ts = bpf_ktime_get_ns();
	for (i = 0; i < 4; i++) {
		if (pages[i] == t->rss_told[i])
			continue;
		emit_rss_value(tgid, i, pages[i], ts);
		told_rss(t, i, pages[i]);
	}
}

/* Report the counters of tgid changed since their last report, with their exact values now. */
static __always_inline void flush_rss(struct mm_struct *mm, __u32 tgid, struct mh_traced *t)
{
	__u32 changes = t->rss_changes;
	__s64 pages[4];

	t->rss_changes = 0;
	rss_read(mm, t, pages);
	rss_report(tgid, t, pages, changes, false);
}

#endif /* MEMHOOK_KERNEL_MM_COUNTERS_BPF_H */
