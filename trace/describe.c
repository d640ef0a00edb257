// SPDX-License-Identifier: MIT
/*
 * describe.c - one line per record for `memhook dump`
 * (describe.h). Variable parts (stack ips, module segments, strings,
 * pagemap bits) were bounds-checked by the trace reader; this file relies
 * on that and must not be fed unvalidated records. Strings from the traced
 * program are escaped: one record is always exactly one line.
 */
#include "trace/describe.h"

#include <stdbool.h>
#include <string.h>

#include "trace/describe_kernel.h"
#include "memhook/trace.h"

static const char *const stream_names[] = {
	[MH_STREAM_META] = "meta",
	[MH_STREAM_ALLOC] = "alloc",
	[MH_STREAM_KERNEL] = "kernel",
	[MH_STREAM_SAMPLE] = "sample",
};

static const char *const kind_names[MH_KIND_COUNT] = {
	[MH_KIND_NONE] = "none", [MH_KIND_MALLOC] = "malloc", [MH_KIND_CALLOC] = "calloc",
	[MH_KIND_REALLOC] = "realloc", [MH_KIND_REALLOCARRAY] = "reallocarray",
	[MH_KIND_POSIX_MEMALIGN] = "posix_memalign", [MH_KIND_ALIGNED_ALLOC] = "aligned_alloc",
	[MH_KIND_MEMALIGN] = "memalign", [MH_KIND_VALLOC] = "valloc", [MH_KIND_PVALLOC] = "pvalloc",
	[MH_KIND_FREE] = "free", [MH_KIND_FREE_SIZED] = "free_sized",
	[MH_KIND_FREE_ALIGNED_SIZED] = "free_aligned_sized", [MH_KIND_MMAP] = "mmap",
	[MH_KIND_MUNMAP] = "munmap", [MH_KIND_MREMAP] = "mremap", [MH_KIND_BRK] = "brk",
	[MH_KIND_SBRK] = "sbrk",
};

const char *mh_dump_stream_name(int stream)
{
	if (stream >= 0 && stream < MH_STREAM_COUNT)
		return stream_names[stream];
	return "?";
}

/* Print len bytes of s, escaping what would break the one-line-per-record output. */
static void print_str(FILE *out, const char *s, size_t len)
{
	unsigned char c;
	size_t i;

	for (i = 0; i < len && s[i]; i++) {
		c = (unsigned char)s[i];
		if (c == '\\')
			fputs("\\\\", out);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
}

/*
 * A kernel record through mh_kernel_describe(), with the file names and
 * command names it prints verbatim escaped like every other string here.
 * Its own text has no backslash or control character, so escaping the
 * whole line changes only what came from the traced system. The line is
 * built in one memory stream, reused record after record.
 */
static int describe_kernel(FILE *out, const struct mh_rec_hdr *rec)
{
	static char *line;
	static size_t line_bytes;
	static FILE *mem;
	long len;
	int err;

	if (!mem)
		mem = open_memstream(&line, &line_bytes);
	if (!mem)
		return mh_kernel_describe(out, rec);	/* out of memory: print it as it is */
	rewind(mem);
	err = mh_kernel_describe(mem, rec);
	fflush(mem);
	len = ftell(mem);
	if (!err && len > 0)
		print_str(out, line, (size_t)len);
	return err;
}

static const char *kind_name(unsigned kind)
{
	return kind < MH_KIND_COUNT ? kind_names[kind] : "?";
}

static void dump_stack(FILE *out, const struct mh_rec_stack *s)
{
	const __u64 *ips = (const __u64 *)(s + 1);
	unsigned i;

	fprintf(out, "STACK id=0x%llx pid=%u depth=%u flags=0x%x ips=", (unsigned long long)s->stack_id,
		s->pid, s->depth, s->flags);
	for (i = 0; i < s->depth; i++)
		fprintf(out, "%s0x%llx", i ? "," : "", (unsigned long long)ips[i]);
}

static void dump_module(FILE *out, const struct mh_rec_module *m)
{
	const struct mh_module_segment *seg = (const void *)(m + 1);
	unsigned i;

	fprintf(out, "MODULE ts=%llu pid=%u bias=0x%llx build_id=", (unsigned long long)m->ts_ns,
		m->pid, (unsigned long long)m->load_bias);
	for (i = 0; i < m->build_id_len; i++)
		fprintf(out, "%02x", m->build_id[i]);
	fputs(" path=", out);
	print_str(out, (const char *)(seg + m->segment_count), m->path_len);
	fputs(" segments=", out);
	for (i = 0; i < m->segment_count; i++)
		fprintf(out, "%s0x%llx+0x%llx@0x%llx/%c%c%c", i ? "," : "",
			(unsigned long long)seg[i].start, (unsigned long long)seg[i].size,
			(unsigned long long)seg[i].file_offset, seg[i].prot & 1 ? 'r' : '-',
			seg[i].prot & 2 ? 'w' : '-', seg[i].prot & 4 ? 'x' : '-');
}

static void dump_info(FILE *out, const struct mh_rec_info *info)
{
	const char *key = (const char *)(info + 1);

	const char *value = key + info->key_len + 1, *end = value + info->value_len;

	fprintf(out, "INFO ts=%llu pid=%u ", (unsigned long long)info->ts_ns, info->pid);
	print_str(out, key, info->key_len);
	fputc('=', out);
	/* A value may hold NULs ("process.argv" separates arguments with them). */
	for (;;) {
		size_t len = strnlen(value, (size_t)(end - value));

		print_str(out, value, len);
		value += len + 1;
		if (value > end)
			break;
		fputs("\\0", out);
	}
}

static void dump_pagemap(FILE *out, const struct mh_rec_pagemap *pm)
{
	const __u64 *bits = (const __u64 *)(pm + 1);
	__u64 i, present = 0, swapped = 0;

	for (i = 0; i < pm->page_count; i++) {
		present += (bits[(2 * i) / 64] >> ((2 * i) % 64)) & 1;
		swapped += (bits[(2 * i + 1) / 64] >> ((2 * i + 1) % 64)) & 1;
	}
	fprintf(out, "PAGEMAP ts=%llu pid=%u start=0x%llx pages=%llu page_size=%u present=%llu swapped=%llu",
		(unsigned long long)pm->ts_ns, pm->pid, (unsigned long long)pm->start,
		(unsigned long long)pm->page_count, pm->page_size, (unsigned long long)present,
		(unsigned long long)swapped);
}

static void dump_exit_scan(FILE *out, const struct mh_rec_exit_scan *e)
{
	static const char *const paths[] = { "?", "normal", "immediate", "signal", "figures" };

	fprintf(out, "EXIT_SCAN ts=%llu pid=%u tid=%u path=%s status=%d sp=0x%llx ticket=%llu",
		(unsigned long long)e->ts_ns, e->pid, e->tid, e->path < 5 ? paths[e->path] : "?",
		e->status, (unsigned long long)e->sp, (unsigned long long)e->ticket);
}

static void dump_exit(FILE *out, const struct mh_rec_exit *e)
{
	static const char *const reasons[] = { "unknown", "normal", "signal", "oom" };

	fprintf(out, "EXIT ts=%llu pid=%u reason=%s status=%d core_dumped=%u",
		(unsigned long long)e->ts_ns, e->pid, e->reason < 4 ? reasons[e->reason] : "?",
		e->status, e->core_dumped);
}

/* memhook's own footprint in a process, and what an exit scan cost it. */
static void dump_own(FILE *out, const struct mh_rec_hdr *rec)
{
	const struct mh_rec_own_sample *o = (const void *)rec;
	const struct mh_rec_scan_cost *c = (const void *)rec;

	if (rec->type == MH_REC_OWN_SAMPLE)
		fprintf(out, "OWN_SAMPLE ts=%llu pid=%u anon=%llu file=%llu shmem=%llu hwm=%llu ring=0x%llx-0x%llx flags=0x%x",
			(unsigned long long)o->ts_ns, o->pid, (unsigned long long)o->anon_bytes,
			(unsigned long long)o->file_bytes, (unsigned long long)o->shmem_bytes,
			(unsigned long long)o->hwm_bytes, (unsigned long long)o->ring_start,
			(unsigned long long)o->ring_end, o->flags);
	else
		fprintf(out, "SCAN_COST ts=%llu start=%llu pid=%u read=%llu swapped_in=%llu untouched=%llu rss_raised=%llu",
			(unsigned long long)c->ts_ns, (unsigned long long)c->start_ns, c->pid,
			(unsigned long long)c->read_pages, (unsigned long long)c->swapped_in_pages,
			(unsigned long long)c->untouched_pages,
			(unsigned long long)c->rss_raised_bytes);
}

/* The simple fixed-size records. Returns false for a type it does not print. */
static bool dump_fixed(FILE *out, const struct mh_rec_hdr *rec)
{
	const void *p = rec;
	const struct mh_rec_alloc *a = p;
	const struct mh_rec_free *f = p;
	const struct mh_rec_realloc *ra = p;
	const struct mh_rec_module_unload *mu = p;
	const struct mh_rec_thread *t = p;
	const struct mh_rec_lost *l = p;
	const struct mh_rec_rss_sample *s = p;
	const struct mh_rec_leak *lk = p;
	static const char *const leak_kinds[] = { "?", "definite", "indirect", "possible", "reachable" };

	switch (rec->type) {
	case MH_REC_ALLOC:
		fprintf(out, "ALLOC kind=%s ts=%llu pid=%u tid=%u addr=0x%llx size=%llu stack=0x%llx",
			kind_name(rec->kind), (unsigned long long)a->ts_ns, a->pid, a->tid,
			(unsigned long long)a->addr, (unsigned long long)a->size,
			(unsigned long long)a->stack_id);
		return true;
	case MH_REC_FREE:
		fprintf(out, "FREE kind=%s ts=%llu pid=%u tid=%u addr=0x%llx size=%llu",
			kind_name(rec->kind), (unsigned long long)f->ts_ns, f->pid, f->tid,
			(unsigned long long)f->addr, (unsigned long long)f->size);
		return true;
	case MH_REC_REALLOC:
		fprintf(out, "REALLOC kind=%s ts=%llu pid=%u tid=%u addr=0x%llx size=%llu old_addr=0x%llx old_size=%llu stack=0x%llx",
			kind_name(rec->kind), (unsigned long long)ra->ts_ns, ra->pid, ra->tid,
			(unsigned long long)ra->addr, (unsigned long long)ra->size,
			(unsigned long long)ra->old_addr, (unsigned long long)ra->old_size,
			(unsigned long long)ra->stack_id);
		return true;
	case MH_REC_MODULE_UNLOAD:
		fprintf(out, "MODULE_UNLOAD ts=%llu pid=%u bias=0x%llx", (unsigned long long)mu->ts_ns,
			mu->pid, (unsigned long long)mu->load_bias);
		return true;
	case MH_REC_THREAD:
		fprintf(out, "THREAD ts=%llu pid=%u tid=%u name=", (unsigned long long)t->ts_ns,
			t->pid, t->tid);
		print_str(out, t->name, sizeof(t->name));
		return true;
	case MH_REC_LOST:
		fprintf(out, "LOST ts=%llu stream=%s count=%llu", (unsigned long long)l->ts_ns,
			mh_dump_stream_name((int)l->stream), (unsigned long long)l->count);
		return true;
	case MH_REC_RSS_SAMPLE:
		fprintf(out, "RSS_SAMPLE ts=%llu pid=%u anon=%llu file=%llu shmem=%llu swap=%llu",
			(unsigned long long)s->ts_ns, s->pid, (unsigned long long)s->anon_bytes,
			(unsigned long long)s->file_bytes, (unsigned long long)s->shmem_bytes,
			(unsigned long long)s->swap_bytes);
		return true;
	case MH_REC_LEAK:
		fprintf(out, "LEAK pid=%u addr=0x%llx kind=%s", lk->pid, (unsigned long long)lk->addr,
			lk->kind < 5 ? leak_kinds[lk->kind] : "?");
		return true;
	default:
		return false;
	}
}

void mh_dump_record(FILE *out, int stream, const struct mh_rec_hdr *rec)
{
	const struct mh_rec_process *proc = (const void *)rec;

	fprintf(out, "%-6s ", mh_dump_stream_name(stream));
	if (dump_fixed(out, rec))
		goto out_nl;
	switch (rec->type) {
	case MH_REC_STACK:
		dump_stack(out, (const void *)rec);
		break;
	case MH_REC_MODULE:
		dump_module(out, (const void *)rec);
		break;
	case MH_REC_PROCESS:
		fprintf(out, "PROCESS ts=%llu pid=%u ppid=%u start=%u path=",
			(unsigned long long)proc->ts_ns, proc->pid, proc->ppid, proc->start);
		print_str(out, (const char *)(proc + 1), proc->path_len);
		break;
	case MH_REC_EXIT:
		dump_exit(out, (const void *)rec);
		break;
	case MH_REC_EXIT_SCAN:
		dump_exit_scan(out, (const void *)rec);
		break;
	case MH_REC_INFO:
		dump_info(out, (const void *)rec);
		break;
	case MH_REC_PAGEMAP:
		dump_pagemap(out, (const void *)rec);
		break;
	case MH_REC_OWN_SAMPLE:
	case MH_REC_SCAN_COST:
		dump_own(out, rec);
		break;
	default:
		if (rec->type >= MH_REC_KERNEL_FIRST && describe_kernel(out, rec) == 0)
			break;
		fprintf(out, "UNKNOWN type=%u kind=%u size=%u", rec->type, rec->kind, rec->size);
		break;
	}
out_nl:
	fputc('\n', out);
}
