// SPDX-License-Identifier: MIT
/*
 * describe_kernel.c - one line per kernel-stream record (kernel_events.h) for
 * `memhook dump`: the record's name, then its fields as key=value.
 * Never allocates; never prints a newline (the caller does).
 */
#include "trace/describe_kernel.h"

#include <errno.h>

#include "memhook/kernel_events.h"
#include "trace/records.h"

#define U(x) ((unsigned long long)(x))

static const char *const vma_classes[] = {
	[MH_VMA_UNKNOWN] = "unknown", [MH_VMA_ANON] = "anon", [MH_VMA_FILE] = "file",
	[MH_VMA_SHMEM] = "shmem", [MH_VMA_HUGETLB] = "hugetlb", [MH_VMA_STACK] = "stack",
	[MH_VMA_NONE] = "none",
};

static const char *const rss_members[] = {
	[MH_RSS_FILE] = "file", [MH_RSS_ANON] = "anon", [MH_RSS_SWAPENTS] = "swapents",
	[MH_RSS_SHMEM] = "shmem",
};

static const char *const syscalls[] = {
	[MH_KSYS_MMAP] = "mmap", [MH_KSYS_MUNMAP] = "munmap", [MH_KSYS_MREMAP] = "mremap",
	[MH_KSYS_BRK] = "brk", [MH_KSYS_MADVISE] = "madvise",
};

static const char *const kswapd_kinds[] = {
	[MH_KSWAPD_WAKE] = "wake", [MH_KSWAPD_SLEEP] = "sleep", [MH_KSWAPD_WAKEUP] = "wakeup",
};

static const char *const proc_kinds[] = {
	[MH_KPROC_FORK] = "fork", [MH_KPROC_THREAD] = "thread", [MH_KPROC_EXEC] = "exec",
	[MH_KPROC_EXIT] = "exit",
};

static const char *const memcg_items[] = {
	[MH_MEMCG_PSWPIN] = "pswpin", [MH_MEMCG_PSWPOUT] = "pswpout",
	[MH_MEMCG_PGMAJFAULT] = "pgmajfault",
};

/* names[v], or "?" when v is out of range or unnamed. */
static const char *name_of(const char *const *names, size_t n, __u32 v)
{
	return v < n && names[v] ? names[v] : "?";
}

#define NAME(table, v) name_of(table, sizeof(table) / sizeof(table[0]), v)

static void describe_fault(FILE *out, const struct mh_rec_kfault *r)
{
	fprintf(out, "KFAULT ts=%llu pid=%u tid=%u addr=0x%llx ip=0x%llx error=0x%x vma=%s "
		"vma_start=0x%llx vma_end=0x%llx", U(r->ts_ns), r->pid, r->tid, U(r->addr),
		U(r->ip), r->error_code, NAME(vma_classes, r->vma_class), U(r->vma_start),
		U(r->vma_end));
	if (r->ino)
		fprintf(out, " dev=%u:%u ino=%llu file_offset=%llu", r->dev >> 20,
			r->dev & 0xfffff, U(r->ino), U(r->file_offset));
}

/* The path must lie inside the record: -EINVAL otherwise. */
static int describe_file(FILE *out, const struct mh_rec_kfile *r)
{
	if ((__u64)r->path_len + 1 > r->hdr.size - sizeof(*r))
		return -EINVAL;
	fprintf(out, "KFILE ts=%llu pid=%u dev=%u:%u ino=%llu gen=%u path=%.*s", U(r->ts_ns),
		r->pid, r->dev >> 20, r->dev & 0xfffff, U(r->ino), r->gen, (int)r->path_len,
		(const char *)(r + 1));
	return 0;
}

static void describe_syscall(FILE *out, const struct mh_rec_ksyscall *r)
{
	fprintf(out, "KSYSCALL ts=%llu enter=%llu pid=%u tid=%u %s(0x%llx, 0x%llx, 0x%llx, "
		"0x%llx, %lld, 0x%llx) = %lld", U(r->ts_ns), U(r->enter_ns), r->pid, r->tid,
		NAME(syscalls, r->sys), U(r->args[0]), U(r->args[1]), U(r->args[2]),
		U(r->args[3]), (long long)r->args[4], U(r->args[5]), (long long)r->ret);
}

static void describe_oom(FILE *out, const struct mh_rec_koom *r)
{
	fprintf(out, "KOOM ts=%llu pid=%u tid=%u killer_tid=%u total_vm=%llu anon_rss=%llu "
		"file_rss=%llu shmem_rss=%llu swap=%llu oom_score_adj=%d", U(r->ts_ns), r->pid,
		r->tid, r->killer_tid, U(r->total_vm_bytes), U(r->anon_rss_bytes),
		U(r->file_rss_bytes), U(r->shmem_rss_bytes), U(r->swap_bytes), r->oom_score_adj);
}

static void describe_small(FILE *out, const struct mh_rec_hdr *rec)
{
	const void *p = rec;

	switch (rec->type) {
	case MH_REC_KMAJFAULT: {
		const struct mh_rec_kmajfault *r = p;

		fprintf(out, "KMAJFAULT ts=%llu pid=%u tid=%u addr=0x%llx ip=0x%llx",
			U(r->ts_ns), r->pid, r->tid, U(r->addr), U(r->ip));
		break;
	}
	case MH_REC_KSWAPIN: {
		const struct mh_rec_kswapin *r = p;

		fprintf(out, "KSWAPIN ts=%llu pid=%u tid=%u addr=0x%llx pages=%llu",
			U(r->ts_ns), r->pid, r->tid, U(r->addr), U(r->pages));
		break;
	}
	case MH_REC_KRSS: {
		const struct mh_rec_krss *r = p;

		fprintf(out, "KRSS ts=%llu pid=%u tid=%u %s=%llu", U(r->ts_ns), r->pid, r->tid,
			NAME(rss_members, r->member), U(r->bytes));
		break;
	}
	case MH_REC_KRECLAIM: {
		const struct mh_rec_kreclaim *r = p;

		fprintf(out, "KRECLAIM ts=%llu start=%llu duration_ns=%llu pid=%u tid=%u %s "
			"order=%u gfp=0x%llx reclaimed_pages=%llu", U(r->ts_ns), U(r->start_ns),
			U(r->ts_ns - r->start_ns), r->pid, r->tid,
			r->kind == MH_RECLAIM_MEMCG ? "memcg" : "direct", r->order,
			U(r->gfp_flags), U(r->nr_reclaimed));
		break;
	}
	case MH_REC_KKSWAPD: {
		const struct mh_rec_kkswapd *r = p;

		fprintf(out, "KKSWAPD ts=%llu pid=%u tid=%u %s nid=%u zid=%u order=%u gfp=0x%llx",
			U(r->ts_ns), r->pid, r->tid, NAME(kswapd_kinds, r->kind), r->nid, r->zid,
			r->order, U(r->gfp_flags));
		break;
	}
	case MH_REC_KSIGNAL: {
		const struct mh_rec_ksignal *r = p;

		fprintf(out, "KSIGNAL ts=%llu pid=%u tid=%u sig=%u sender_pid=%u sender_tid=%u "
			"result=%d", U(r->ts_ns), r->pid, r->tid, r->sig, r->sender_pid,
			r->sender_tid, r->result);
		break;
	}
	case MH_REC_KPROC: {
		const struct mh_rec_kproc *r = p;

		fprintf(out, "KPROC ts=%llu pid=%u tid=%u %s child_pid=%u child_tid=%u "
			"exit_code=%d group_dead=%u followed=%u", U(r->ts_ns), r->pid, r->tid,
			NAME(proc_kinds, r->kind), r->child_pid, r->child_tid, r->exit_code,
			r->group_dead, r->followed);
		break;
	}
	case MH_REC_KMEMCG: {
		const struct mh_rec_kmemcg *r = p;

		fprintf(out, "KMEMCG ts=%llu pid=%u tid=%u %s=+%llu", U(r->ts_ns), r->pid, r->tid,
			NAME(memcg_items, r->item), U(r->count));
		break;
	}
	}
}

int mh_kernel_describe(FILE *out, const struct mh_rec_hdr *rec)
{
	__u32 need = mh_rec_min_size(rec->type);

	if (rec->type < MH_REC_KERNEL_FIRST || !need || rec->size < need)
		return -EINVAL;
	switch (rec->type) {
	case MH_REC_KFAULT:
		describe_fault(out, (const struct mh_rec_kfault *)rec);
		break;
	case MH_REC_KSYSCALL:
		describe_syscall(out, (const struct mh_rec_ksyscall *)rec);
		break;
	case MH_REC_KOOM:
		describe_oom(out, (const struct mh_rec_koom *)rec);
		break;
	case MH_REC_KFILE:
		return describe_file(out, (const struct mh_rec_kfile *)rec);
	default:
		describe_small(out, rec);
		break;
	}
	return 0;
}
