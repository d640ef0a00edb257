// SPDX-License-Identifier: MIT
/*
 * reclaim.bpf.c - direct and memcg reclaim episodes of traced threads (one
 * record at the end, with its start and pages reclaimed) and kswapd
 * activity system-wide (kswapd serves every process, so it is not
 * filtered). Never blocks, never prints.
 */
#include "kernel/common.bpf.h"

struct reclaim_episode {
	__u64 start_ns;
	__u64 gfp_flags;
	__u32 order;
	__u32 kind;		/* 0: none in progress */
};

/*
 * The reclaim episode a thread is in. Task-local storage: nothing to
 * preallocate (an LRU hash of 8,192 episodes by tid took ~2 ms of each
 * start to make) and nothing to evict.
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct reclaim_episode);
} in_reclaim SEC(".maps");

static __always_inline int reclaim_begin(__u32 kind, int order, gfp_t gfp_flags)
{
	struct reclaim_episode *st;

	if (!is_traced(bpf_get_current_pid_tgid() >> 32))
		return 0;
	st = bpf_task_storage_get(&in_reclaim, bpf_get_current_task_btf(), NULL,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st)
		return 0;
	st->start_ns = bpf_ktime_get_ns();
	st->gfp_flags = gfp_flags;
	st->order = order;
	st->kind = kind;
	return 0;
}

static __always_inline int reclaim_end(__u32 kind, unsigned long nr_reclaimed)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct mh_rec_kreclaim r = {};
	struct reclaim_episode *st;

	if (!maybe_traced(id >> 32))
		return 0;
	st = bpf_task_storage_get(&in_reclaim, bpf_get_current_task_btf(), NULL, 0);
	if (!st || st->kind != kind)
		return 0;
	INIT_REC(r, MH_REC_KRECLAIM);
	r.ts_ns = bpf_ktime_get_ns();
	r.start_ns = st->start_ns;
	r.nr_reclaimed = nr_reclaimed;
	r.gfp_flags = st->gfp_flags;
	r.tid = tid;
	r.pid = id >> 32;
	r.kind = kind;
	r.order = st->order;
	st->kind = 0;
	emit(&r, sizeof(r));
	return 0;
}

static __always_inline int kswapd(__u32 kind, int nid, int zid, int order, gfp_t gfp_flags)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct mh_rec_kkswapd r = {};

	INIT_REC(r, MH_REC_KKSWAPD);
	r.ts_ns = bpf_ktime_get_ns();
	r.gfp_flags = gfp_flags;
	r.tid = (__u32)id;
	r.pid = id >> 32;
	r.kind = kind;
	r.nid = nid;
	r.zid = zid;
	r.order = order;
	emit(&r, sizeof(r));
	return 0;
}

/*
 * Each probe twice: tp_btf first, raw_tp where the kernel's BTF lacks the
 * tracepoint's prototype. The loader attaches the first that works.
 */
#define RECLAIM_PROBES(suffix, sec)							\
SEC(sec "/mm_vmscan_direct_reclaim_begin")						\
int BPF_PROG(reclaim__direct_begin##suffix, int order, gfp_t gfp_flags)		\
{											\
	return reclaim_begin(MH_RECLAIM_DIRECT, order, gfp_flags);			\
}											\
SEC(sec "/mm_vmscan_direct_reclaim_end")						\
int BPF_PROG(reclaim__direct_end##suffix, unsigned long nr_reclaimed)		\
{											\
	return reclaim_end(MH_RECLAIM_DIRECT, nr_reclaimed);				\
}											\
SEC(sec "/mm_vmscan_memcg_reclaim_begin")						\
int BPF_PROG(reclaim__memcg_begin##suffix, int order, gfp_t gfp_flags)		\
{											\
	return reclaim_begin(MH_RECLAIM_MEMCG, order, gfp_flags);			\
}											\
SEC(sec "/mm_vmscan_memcg_reclaim_end")						\
int BPF_PROG(reclaim__memcg_end##suffix, unsigned long nr_reclaimed)			\
{											\
	return reclaim_end(MH_RECLAIM_MEMCG, nr_reclaimed);				\
}											\
SEC(sec "/mm_vmscan_kswapd_wake")							\
int BPF_PROG(reclaim__kswapd_wake##suffix, int nid, int zid, int order)		\
{											\
	return kswapd(MH_KSWAPD_WAKE, nid, zid, order, 0);				\
}											\
SEC(sec "/mm_vmscan_kswapd_sleep")							\
int BPF_PROG(reclaim__kswapd_sleep##suffix, int nid)					\
{											\
	return kswapd(MH_KSWAPD_SLEEP, nid, 0, 0, 0);					\
}											\
SEC(sec "/mm_vmscan_wakeup_kswapd")							\
int BPF_PROG(reclaim__wakeup_kswapd##suffix, int nid, int zid, int order,		\
	     gfp_t gfp_flags)								\
{											\
	return kswapd(MH_KSWAPD_WAKEUP, nid, zid, order, gfp_flags);			\
}

RECLAIM_PROBES(, "tp_btf")
RECLAIM_PROBES(_raw, "raw_tp")
