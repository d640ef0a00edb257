// SPDX-License-Identifier: MIT
/*
 * faults.bpf.c - user page faults (with the vma they hit), major faults,
 * RSS counter changes and swap-ins of traced processes.
 *
 * Page faults come from exceptions:page_fault_user (tp_btf, else raw_tp),
 * or from the software page-fault perf event where that tracepoint is
 * missing; major faults from the PERF_COUNT_SW_PAGE_FAULTS_MAJ perf event.
 * kmem:rss_stat gives the counters; its value is re-summed over every CPU
 * slot, because the tracepoint's own value is the approximate percpu
 * count. A process's own changes are coalesced (see on_rss), since a
 * record per fault would double the cost of tracing faults. A swap-in is
 * a MM_SWAPENTS decrease on a thread whose latest user fault has not been
 * followed by a syscall (munmap and exit also drop swap entries, outside
 * any fault). Never blocks, never prints.
 */
#include "kernel/mm_counters.bpf.h"

/* include/uapi/asm-generic/errno-base.h */
#define ENOENT 2

/* Last MM_SWAPENTS value seen per traced tgid, pages. Seeded by the collector. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __s64);
} swapents SEC(".maps");

struct file_id {
	__u64 ino;
	__u32 dev;
	__u32 pad;
};

/*
 * Files faults were reported for. The first fault on a file wakes the
 * reader at once, so it can name the file from /proc/PID/maps while the
 * process still maps it (a short-lived process may be gone by the next
 * regular wakeup), unless the file can be named by handle (handle_devs).
 * LRU: forgetting a file only costs an early wakeup.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct file_id);
	__type(value, __u8);
} files_seen SEC(".maps");

/*
 * Filesystems (kernel dev_t) on which the collector names files by handle
 * (files.c): from (dev, ino, generation), whenever it gets to them, so a
 * fault there never needs to wake it early. Filled by the collector.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u8);
} handle_devs SEC(".maps");

/*
 * True the first time a file the collector must name at once (from the
 * faulting process's maps) shows up in a fault.
 */
static __always_inline bool first_on_file(const struct mh_kvma *v)
{
	struct file_id id = { .ino = v->ino, .dev = v->dev };
	__u32 dev = v->dev;
	__u8 one = 1;

	/* Generation 0 does not identify a file: files.c names those from the maps only. */
	if (!v->ino || (v->gen && v->nlink && bpf_map_lookup_elem(&handle_devs, &dev)))
		return false;
	if (bpf_map_lookup_elem(&files_seen, &id))
		return false;
	return bpf_map_update_elem(&files_seen, &id, &one, BPF_NOEXIST) == 0;
}

/*
 * Fill r's vma fields from the cache, or from bpf_find_vma (then cached;
 * t: the process's filter entry). Returns true when the fault is the
 * first on its file.
 */
static __always_inline bool lookup_vma(struct mh_rec_kfault *r, struct mh_traced *t)
{
	__u64 epoch = READ_ONCE_U64(t->vma_epoch);
	struct mh_kvma v = {};
	bool first = false;
	long err;

	if (vma_cache_find(t, epoch, r->addr, &v, &first)) {
		if (first)
			first = first_on_file(&v);
	} else {
		err = bpf_find_vma(bpf_get_current_task_btf(), r->addr, classify_vma, &v, 0);
		if (err) {
			r->vma_class = err == -ENOENT ? MH_VMA_NONE : MH_VMA_UNKNOWN;
			return false;
		}
		vma_cache_add(t, epoch, &v, false);
		first = first_on_file(&v);
	}
	r->vma_start = v.start;
	r->vma_end = v.end;
	r->file_offset = v.file_offset;
	r->ino = v.ino;
	r->dev = v.dev;
	r->gen = v.gen;
	r->vma_class = v.vma_class;
	return first;
}

static __always_inline int on_fault(__u64 address, __u64 ip, __u64 error_code)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct mh_traced *t = traced_of(id >> 32);
	struct mh_rec_kfault r = {};
	struct thread_state *st;

	if (!t)
		return 0;
	INIT_REC(r, MH_REC_KFAULT);
	r.ts_ns = bpf_ktime_get_ns();
	r.addr = address;
	r.ip = ip;
	r.error_code = error_code;
	r.tid = tid;
	r.pid = id >> 32;
	st = bpf_task_storage_get(&threads, bpf_get_current_task_btf(), NULL,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (st) {
		if (!st->fault_ns)
			__sync_fetch_and_add(&t->in_fault, 1);
		st->fault_addr = address;
		st->fault_ns = r.ts_ns;
	}
	emit_wake(&r, sizeof(r), lookup_vma(&r, t));
	return 0;
}

/* tp_btf: regs is a pointer the verifier knows, read with a plain load (no helper call). */
SEC("tp_btf/page_fault_user")
int BPF_PROG(faults__page_fault, unsigned long address, struct pt_regs *regs,
	     unsigned long error_code)
{
	return on_fault(address, regs->ip, error_code);
}

SEC("raw_tp/page_fault_user")
int BPF_PROG(faults__page_fault_raw, unsigned long address, struct pt_regs *regs,
	     unsigned long error_code)
{
	return on_fault(address, BPF_CORE_READ(regs, ip), error_code);
}

/*
 * A perf_event program's context, read as the UAPI lays it out
 * (linux/bpf_perf_event.h), the layout the verifier checks its loads
 * against. Through vmlinux.h's struct bpf_perf_event_data each field read
 * is a CO-RE relocation, and libbpf searches all of the kernel's BTF
 * (~126,000 types here) once per type it relocates, at every load: 6.0 M
 * of the load's 89 M instructions (callgrind) for a layout that cannot
 * change. The programs still take a struct bpf_perf_event_data, the
 * context type the kernel expects to see in their BTF.
 */
struct perf_ctx {
	bpf_user_pt_regs_t regs;
	__u64 sample_period;
	__u64 addr;
};

/* The ip in its regs, relocated through struct pt_regs, which other programs relocate anyway. */
static __always_inline __u64 perf_ip(const struct perf_ctx *c)
{
	return PT_REGS_IP((const struct pt_regs *)&c->regs);
}

/* Software page-fault perf event: no error code, the vma still looked up. */
SEC("perf_event")
int faults__page_fault_perf(struct bpf_perf_event_data *ctx)
{
	const struct perf_ctx *c = (const void *)ctx;

	return on_fault(c->addr, perf_ip(c), 0);
}

SEC("perf_event")
int faults__major_fault(struct bpf_perf_event_data *ctx)
{
	const struct perf_ctx *c = (const void *)ctx;
	__u64 id = bpf_get_current_pid_tgid();
	struct mh_rec_kmajfault r = {};

	if (!is_traced(id >> 32))
		return 0;
	INIT_REC(r, MH_REC_KMAJFAULT);
	r.ts_ns = bpf_ktime_get_ns();
	r.addr = c->addr;
	r.ip = perf_ip(c);
	r.tid = (__u32)id;
	r.pid = id >> 32;
	emit(&r, sizeof(r));
	return 0;
}

static __always_inline __u32 rss_member(int member)
{
	__u32 i;

	for (i = 0; i < 4; i++)
		if (conf.mm_member[i] == member)
			return i;
	return MH_RSS_UNKNOWN;
}

/* A MM_SWAPENTS change: emit a swap-in if it dropped inside a user fault. */
static __always_inline void on_swapents(__u32 tgid, __s64 now)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct mh_rec_kswapin r = {};
	struct thread_state *st;
	__s64 *prev = bpf_map_lookup_elem(&swapents, &tgid);
	__s64 before = prev ? *prev : now;

	bpf_map_update_elem(&swapents, &tgid, &now, BPF_ANY);
	if (now >= before || (id >> 32) != tgid)
		return;
	st = bpf_task_storage_get(&threads, bpf_get_current_task_btf(), NULL, 0);
	if (!st || !st->fault_ns)
		return;
	INIT_REC(r, MH_REC_KSWAPIN);
	r.ts_ns = bpf_ktime_get_ns();
	r.addr = st->fault_addr;
	r.pages = before - now;
	r.tid = tid;
	r.pid = tgid;
	emit(&r, sizeof(r));
}

/* btf: mm is a pointer the verifier knows (tp_btf), read with plain loads. */
static __always_inline int on_rss(struct mm_struct *mm, int member, bool btf)
{
	struct mh_traced *t;
	__u32 tgid, idx;
	__s64 pages;

	/*
	 * The counters may change from another process (reclaim, exit): the
	 * mm's owner says whose they are. Without CONFIG_MEMCG there is no
	 * owner; the current process is then the best guess.
	 */
	if (bpf_core_field_exists(mm->owner))
		tgid = btf ? mm->owner->tgid : BPF_CORE_READ(mm, owner, tgid);
	else
		tgid = bpf_get_current_pid_tgid() >> 32;
	t = traced_of(tgid);
	idx = rss_member(member);
	if (!t || idx == MH_RSS_UNKNOWN)
		return 0;
	/*
	 * The process's own changes (one per fault) are coalesced: marked here,
	 * reported at its next syscall, at its exit, or every rss_batch
	 * changes. Swap entries and changes by other tasks go out at once.
	 */
	if (idx != MH_RSS_SWAPENTS && (bpf_get_current_pid_tgid() >> 32) == tgid) {
		t->rss_dirty[idx & 3] = 1;
		if (++t->rss_changes >= rss_batch)
			flush_rss(mm, tgid, t);
		return 0;
	}
	pages = emit_rss(mm, tgid, t, idx, bpf_ktime_get_ns());
	if (idx == MH_RSS_SWAPENTS)
		on_swapents(tgid, pages);
	return 0;
}

SEC("tp_btf/rss_stat")
int BPF_PROG(faults__rss_stat, struct mm_struct *mm, int member)
{
	return on_rss(mm, member, true);
}

SEC("raw_tp/rss_stat")
int BPF_PROG(faults__rss_stat_raw, struct mm_struct *mm, int member)
{
	return on_rss(mm, member, false);
}

static __always_inline int on_memcg(int item, unsigned long val)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct mh_rec_kmemcg r = {};

	/* Every fault of every process counts PGFAULT here: drop those first, cheaply. */
	if (item == bpf_core_enum_value(enum vm_event_item, PSWPIN))
		r.item = MH_MEMCG_PSWPIN;
	else if (item == bpf_core_enum_value(enum vm_event_item, PSWPOUT))
		r.item = MH_MEMCG_PSWPOUT;
	else if (item == bpf_core_enum_value(enum vm_event_item, PGMAJFAULT))
		r.item = MH_MEMCG_PGMAJFAULT;
	else
		return 0;
	if (!is_traced(id >> 32))
		return 0;
	INIT_REC(r, MH_REC_KMEMCG);
	r.ts_ns = bpf_ktime_get_ns();
	r.count = val;
	r.tid = (__u32)id;
	r.pid = id >> 32;
	emit(&r, sizeof(r));
	return 0;
}

SEC("tp_btf/count_memcg_events")
int BPF_PROG(faults__memcg_events, struct mem_cgroup *memcg, int item, unsigned long val)
{
	return on_memcg(item, val);
}

SEC("raw_tp/count_memcg_events")
int BPF_PROG(faults__memcg_events_raw, struct mem_cgroup *memcg, int item, unsigned long val)
{
	return on_memcg(item, val);
}
