// SPDX-License-Identifier: MIT
/*
 * json.c - the machine-readable report; docs/REPORT.md is its
 * schema. Numeric fields come from the tables below: a new field is one
 * line in a table (and one in the schema), and bumps no version unless
 * an existing field changes meaning.
 *
 * Must never write invalid JSON: every string goes through json.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "merger/report/json_writer.h"
#include "merger/replay/modmap.h"
#include "merger/report/model.h"
#include "merger/report/streams.h"

/* Bump when a field changes meaning or disappears; adding one is compatible. */
#define MH_REPORT_JSON_VERSION 1

/* known: the field is null unless known(p, ctx) (NULL: always known). */
struct proc_field {
	const char *name;
	uint64_t (*get)(const struct mh_process *p, const struct mh_report_ctx *ctx);
	bool (*known)(const struct mh_process *p, const struct mh_report_ctx *ctx);
};

struct stack_field {
	const char *name;
	uint64_t (*get)(const struct mh_process *p, const struct mh_stack_stats *st);
	bool (*known)(const struct mh_process *p);
};

/* JSON names of the leak kinds, by enum mh_leak_kind; 0: no verdict. */
static const char *const leak_kind_names[MH_LEAK_KINDS] = {
	[0] = "unclassified",
	[MH_LEAK_DEFINITE] = "definite",
	[MH_LEAK_INDIRECT] = "indirect",
	[MH_LEAK_POSSIBLE] = "possible",
	[MH_LEAK_REACHABLE] = "reachable",
};


#define PROC_GETTER(field) \
	static uint64_t get_##field(const struct mh_process *p, const struct mh_report_ctx *ctx) \
	{ return p->field; }
#define STACK_GETTER(field) \
	static uint64_t sget_##field(const struct mh_process *p, const struct mh_stack_stats *st) \
	{ return st->field; }

PROC_GETTER(alloc_calls)
PROC_GETTER(frees)
PROC_GETTER(bytes_allocated)
PROC_GETTER(bytes_freed)
PROC_GETTER(peak_live_bytes)
PROC_GETTER(live_bytes)
PROC_GETTER(live_blocks)
PROC_GETTER(temporary)
PROC_GETTER(unmatched_frees)
PROC_GETTER(mmap_calls)
PROC_GETTER(mmap_bytes)
PROC_GETTER(munmap_calls)
PROC_GETTER(munmap_bytes)
PROC_GETTER(mremap_calls)
PROC_GETTER(brk_calls)
STACK_GETTER(alloc_calls)
STACK_GETTER(bytes_allocated)
STACK_GETTER(frees)
STACK_GETTER(bytes_freed)
STACK_GETTER(live_bytes)
STACK_GETTER(live_blocks)
STACK_GETTER(temporary)

static uint64_t get_peak_offset(const struct mh_process *p, const struct mh_report_ctx *ctx)
{
	return p->peak_ts_ns > p->start_ts_ns && p->start_ts_ns ? p->peak_ts_ns - p->start_ts_ns : 0;
}

static uint64_t get_duration(const struct mh_process *p, const struct mh_report_ctx *ctx)
{
	return mh_report_duration_ns(p);
}

static uint64_t get_lost(const struct mh_process *p, const struct mh_report_ctx *ctx)
{
	return mh_report_events_lost(ctx);
}

static uint64_t get_stack_count(const struct mh_process *p, const struct mh_report_ctx *ctx)
{
	return HASH_COUNT(p->stacks);
}

static uint64_t sget_peak(const struct mh_process *p, const struct mh_stack_stats *st)
{
	return mh_stack_peak_bytes(p, st);
}

/* Heap and mapping-call figures exist only where the allocation stream was recorded. */
static bool heap_known(const struct mh_process *p, const struct mh_report_ctx *ctx)
{
	return mh_report_has_heap(ctx, p);
}

static const struct proc_field summary_fields[] = {
	{ "duration_ns", get_duration, NULL },
	{ "alloc_calls", get_alloc_calls, heap_known },
	{ "free_calls", get_frees, heap_known },
	{ "bytes_allocated", get_bytes_allocated, heap_known },
	{ "bytes_freed", get_bytes_freed, heap_known },
	{ "peak_live_bytes", get_peak_live_bytes, heap_known },
	{ "peak_time_ns", get_peak_offset, heap_known },
	{ "leaked_bytes", get_live_bytes, heap_known },
	{ "leaked_blocks", get_live_blocks, heap_known },
	{ "temporary_allocs", get_temporary, heap_known },
	{ "unmatched_frees", get_unmatched_frees, heap_known },
	{ "events_lost", get_lost, NULL },
	{ "distinct_stacks", get_stack_count, heap_known },
	{ "mmap_calls", get_mmap_calls, heap_known },
	{ "mmap_bytes", get_mmap_bytes, heap_known },
	{ "munmap_calls", get_munmap_calls, heap_known },
	{ "munmap_bytes", get_munmap_bytes, heap_known },
	{ "mremap_calls", get_mremap_calls, heap_known },
	{ "brk_calls", get_brk_calls, heap_known },
};

static const struct stack_field stack_fields[] = {
	{ "alloc_calls", sget_alloc_calls, NULL },
	{ "bytes_allocated", sget_bytes_allocated, NULL },
	{ "free_calls", sget_frees, NULL },
	{ "bytes_freed", sget_bytes_freed, NULL },
	{ "peak_live_bytes", sget_peak, NULL },
	{ "leaked_bytes", sget_live_bytes, NULL },
	{ "leaked_blocks", sget_live_blocks, NULL },
	{ "temporary_allocs", sget_temporary, NULL },
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const start_names[] = {
	[MH_PROCESS_LAUNCHED] = "launched",
	[MH_PROCESS_FORKED] = "forked",
	[MH_PROCESS_EXECED] = "execed",
	[MH_PROCESS_ATTACHED] = "attached",
};

static const char *const reason_names[] = {
	[MH_EXIT_UNKNOWN] = "unknown",
	[MH_EXIT_NORMAL] = "exited",
	[MH_EXIT_SIGNAL] = "signal",
	[MH_EXIT_OOM] = "oom",
};

/* "argv": the image's arguments, null when they never came. */
static void write_argv(struct mh_json *j, const struct mh_process *p)
{
	if (!p->argv) {
		mh_json_null(j, "argv");
		return;
	}
	mh_json_array_begin(j, "argv");
	for (const char *arg = p->argv; arg <= p->argv + p->argv_len; arg += strlen(arg) + 1)
		mh_json_string(j, NULL, arg);
	mh_json_array_end(j);
}

static void write_process_info(struct mh_json *j, const struct mh_process *p)
{
	bool sig = p->exited && (p->exit_reason == MH_EXIT_SIGNAL || p->exit_reason == MH_EXIT_OOM);
	char why[512];

	mh_json_object_begin(j, "process");
	mh_json_uint(j, "pid", p->pid);
	mh_json_uint(j, "ppid", p->ppid);
	mh_json_string(j, "command", p->command);
	write_argv(j, p);
	mh_json_uint(j, "exec_index", p->exec_index);
	mh_json_string(j, "start", p->start && p->start < ARRAY_SIZE(start_names) ?
		       start_names[p->start] : NULL);
	mh_json_string(j, "end", !p->exited ? (p->replaced_by_exec ? "exec" : "running") :
		       p->exit_reason < ARRAY_SIZE(reason_names) ? reason_names[p->exit_reason] :
		       "unknown");
	if (p->exited && p->exit_reason == MH_EXIT_NORMAL)
		mh_json_int(j, "exit_status", p->exit_status);
	else
		mh_json_null(j, "exit_status");
	if (sig)
		mh_json_int(j, "signal", p->exit_status);
	else
		mh_json_null(j, "signal");
	mh_json_bool(j, "core_dumped", p->core_dumped);
	mh_json_string(j, "leak_scan", p->leakscan_status);
	mh_json_string(j, "leak_kinds_unknown", mh_report_unscanned_why(p, why, sizeof(why)));
	mh_json_object_end(j);
}

/*
 * "leaks": { KIND: { "bytes", "blocks" } } for the four kinds, then
 * "unclassified"; every value null when the process was not scanned.
 */
static void write_leaks(struct mh_json *j, bool scanned, const uint64_t *bytes,
			const uint64_t *blocks)
{
	static const unsigned order[] = { MH_LEAK_DEFINITE, MH_LEAK_INDIRECT, MH_LEAK_POSSIBLE,
					  MH_LEAK_REACHABLE, 0 };
	unsigned i;

	mh_json_object_begin(j, "leaks");
	for (i = 0; i < ARRAY_SIZE(order); i++) {
		mh_json_object_begin(j, leak_kind_names[order[i]]);
		if (scanned) {
			mh_json_uint(j, "bytes", bytes[order[i]]);
			mh_json_uint(j, "blocks", blocks[order[i]]);
		} else {
			mh_json_null(j, "bytes");
			mh_json_null(j, "blocks");
		}
		mh_json_object_end(j);
	}
	mh_json_object_end(j);
}

int mh_report_json_frame(const struct mh_frame *f, void *arg)
{
	struct mh_json *j = arg;

	mh_json_object_begin(j, NULL);
	mh_json_string(j, "function", f->function);
	mh_json_string(j, "file", f->file);
	if (f->line)
		mh_json_uint(j, "line", f->line);
	else
		mh_json_null(j, "line");
	mh_json_string(j, "module", f->module ? f->module->path : NULL);
	mh_json_hex(j, "address", f->ip);
	mh_json_hex(j, "offset", f->offset);
	mh_json_bool(j, "inlined", f->inlined);
	mh_json_object_end(j);
	return 0;
}

static void write_histogram(struct mh_json *j, const struct mh_stack_stats *st)
{
	unsigned b;

	mh_json_array_begin(j, "size_histogram");
	for (b = 0; b < MH_SIZE_BUCKETS; b++) {
		if (!st->size_hist[b])
			continue;
		mh_json_object_begin(j, NULL);
		mh_json_uint(j, "min_bytes", b ? 1ULL << (b - 1) : 0);
		mh_json_uint(j, "max_bytes", b ? (1ULL << b) - 1 : 0);
		mh_json_uint(j, "count", st->size_hist[b]);
		mh_json_object_end(j);
	}
	mh_json_array_end(j);
}

static int write_stack(struct mh_report_ctx *ctx, struct mh_json *j, const struct mh_process *p,
		       const struct mh_stack_stats *st)
{
	unsigned i, kind;
	int err;

	mh_json_object_begin(j, NULL);
	mh_json_hex(j, "id", st->stack_id);
	for (i = 0; i < ARRAY_SIZE(stack_fields); i++) {
		if (stack_fields[i].known && !stack_fields[i].known(p))
			mh_json_null(j, stack_fields[i].name);
		else
			mh_json_uint(j, stack_fields[i].name, stack_fields[i].get(p, st));
	}
	kind = mh_report_scanned(p) ? mh_stack_leak_kind(st) : 0;
	mh_json_string(j, "leak_kind", kind ? leak_kind_names[kind] : NULL);
	write_leaks(j, mh_report_scanned(p), st->leak_kind_bytes, st->leak_kind_blocks);
	mh_report_json_attr_stack(ctx, j, p, st);
	mh_json_bool(j, "truncated", st->info && (st->info->flags & MH_STACK_TRUNCATED));
	write_histogram(j, st);
	mh_json_array_begin(j, "frames");
	err = mh_report_frames(ctx, st, mh_report_json_frame, j);
	mh_json_array_end(j);
	mh_json_object_end(j);
	return err;
}

/*
 * "verdict" and "loss_records": what `memhook check` prints for the image,
 * in the same order (leaks.c), with the same suppressions and limits.
 */
static int write_verdict(struct mh_report_ctx *ctx, struct mh_json *j, const struct mh_process *p)
{
	struct mh_leak_verdict v;
	struct mh_loss_record *recs = NULL;
	char end[128], *name = mh_report_image_name(p);
	size_t n = 0;
	int err = name ? mh_report_leak_verdict(ctx, p, &v, end, sizeof(end), &recs, &n) : -ENOMEM;

	if (err) {
		free(name);
		return err;
	}
	mh_json_object_begin(j, "verdict");
	mh_json_string(j, "name", name);
	mh_json_bool(j, "failed", v.failing != 0);
	mh_json_array_begin(j, "failing_kinds");
	for (unsigned k = 0; k <= MH_LEAK_REACHABLE; k++) {
		if (v.failing & MH_LEAK_MASK(k))
			mh_json_string(j, NULL, mh_leak_kind_key(k));
	}
	mh_json_array_end(j);
	mh_json_uint(j, "suppressed_bytes", v.suppressed_bytes);
	mh_json_uint(j, "suppressed_blocks", v.suppressed_blocks);
	mh_json_object_end(j);
	mh_json_array_begin(j, "loss_records");
	for (size_t i = 0; i < n; i++) {
		mh_json_object_begin(j, NULL);
		mh_json_string(j, "kind", mh_leak_kind_key(recs[i].kind));
		mh_json_uint(j, "bytes", recs[i].bytes);
		mh_json_uint(j, "blocks", recs[i].blocks);
		mh_json_hex(j, "stack", recs[i].st->stack_id);
		mh_json_bool(j, "fails", recs[i].fails);
		mh_json_object_end(j);
	}
	mh_json_array_end(j);
	free(recs);
	free(name);
	return 0;
}

void mh_report_json_summary(struct mh_report_ctx *ctx, struct mh_json *j,
			    const struct mh_process *p)
{
	size_t i;

	write_process_info(j, p);
	mh_json_object_begin(j, "summary");
	for (i = 0; i < ARRAY_SIZE(summary_fields); i++) {
		if (summary_fields[i].known && !summary_fields[i].known(p, ctx))
			mh_json_null(j, summary_fields[i].name);
		else
			mh_json_uint(j, summary_fields[i].name, summary_fields[i].get(p, ctx));
	}
	write_leaks(j, mh_report_scanned(p), p->leak_kind_bytes, p->leak_kind_blocks);
	mh_report_json_attr_summary(j, p);
	mh_json_object_end(j);
}

/* process, summary, verdict and stacks of one process image, as members of the open object. */
static int write_process(struct mh_report_ctx *ctx, struct mh_json *j, const struct mh_process *p)
{
	struct mh_stack_stats **v;
	size_t n, i;
	int err;

	mh_report_json_summary(ctx, j, p);
	err = write_verdict(ctx, j, p);
	if (err)
		return err;
	v = mh_report_sorted(p, ctx->opts->sort, ctx->opts->top, &n);
	mh_json_array_begin(j, "stacks");
	for (i = 0; i < n && !err; i++)
		err = write_stack(ctx, j, p, v[i]);
	mh_json_array_end(j);
	free(v);
	mh_report_json_mappings(ctx, j, p);
	mh_report_json_timeline(j, p);
	mh_report_json_stack_timeline(ctx, j, p);
	return err;
}

static void write_warnings(struct mh_report_ctx *ctx, struct mh_json *j)
{
	char note[160];

	mh_json_array_begin(j, "warnings");
	if (ctx->truncated)
		mh_json_string(j, NULL, "trace truncated: the recorder died or is still writing");
	if (mh_report_events_lost(ctx))
		mh_json_string(j, NULL, "events were lost: counts are lower bounds");
	if (ctx->rp->kernel_late)
		mh_json_string(j, NULL, "kernel records arrived further out of order than the reorder"
			       " window: some were charged after later events");
	if (ctx->rp->untraced_children)
		mh_json_string(j, NULL, mh_report_untraced_note(ctx, note, sizeof(note)));
	mh_report_json_stream_warnings(ctx, j);
	mh_json_array_end(j);
}

static void write_problem(const char *problem, void *arg)
{
	mh_json_string(arg, NULL, problem);
}

int mh_report_write_json(struct mh_report_ctx *ctx)
{
	const struct mh_process *root = mh_report_root(ctx);
	const struct mh_process *p;
	struct mh_json j;
	int err = 0;

	mh_json_init(&j, ctx->out);
	mh_json_object_begin(&j, NULL);
	mh_json_string(&j, "format", "memhook-report");
	mh_json_uint(&j, "version", MH_REPORT_JSON_VERSION);
	mh_json_string(&j, "trace", ctx->path);
	mh_json_bool(&j, "truncated", ctx->truncated);
	if (ctx->truncated)
		mh_json_uint(&j, "truncated_at", ctx->truncated_at);
	else
		mh_json_null(&j, "truncated_at");
	mh_json_uint(&j, "events_lost", mh_report_events_lost(ctx));
	mh_json_string(&j, "sort", mh_report_key_name(ctx->opts->sort));
	mh_json_uint(&j, "kernel_records", ctx->rp->kernel_records);
	mh_json_uint(&j, "kernel_records_late", ctx->rp->kernel_late);
	mh_json_uint(&j, "untraced_children", ctx->rp->untraced_children);
	mh_report_json_waits(ctx, &j);
	write_warnings(ctx, &j);
	mh_report_json_streams(ctx, &j);
	if (root)
		err = write_process(ctx, &j, root);
	mh_json_array_begin(&j, "children");
	for (p = ctx->rp->procs; p && !err; p = p->next) {
		if (p == root)
			continue;
		mh_json_object_begin(&j, NULL);
		err = write_process(ctx, &j, p);
		mh_json_object_end(&j);
	}
	mh_json_array_end(&j);
	mh_json_array_begin(&j, "symbol_problems");
	mh_symbolizer_foreach_problem(ctx->sym, write_problem, &j);
	mh_json_array_end(&j);
	mh_json_object_end(&j);
	mh_json_finish(&j);
	return err;
}
