// SPDX-License-Identifier: MIT
/*
 * text.c - the human-readable report: per process a summary, then
 * the top stacks by the sort key with their symbolized frames.
 *
 * Must never hide a degraded result: truncated traces, lost events and
 * unmatched frees are stated before the numbers they affect. Names from
 * the program (its path, symbols, files) are escaped (common/escape.h).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "merger/replay/modmap.h"
#include "merger/report/model.h"
#include "merger/report/streams.h"

static double seconds(uint64_t ns)
{
	return (double)ns / 1e9;
}

void mh_report_text_warnings(struct mh_report_ctx *ctx)
{
	FILE *out = ctx->out;
	uint64_t lost = mh_report_events_lost(ctx);
	char note[160];

	if (ctx->truncated)
		fprintf(out, "WARNING: the trace is truncated at byte %" PRIu64
			" (the recorder died or is still writing): the numbers below cover only what was written\n",
			ctx->truncated_at);
	if (lost)
		fprintf(out, "WARNING: %" PRIu64
			" events were lost (--lossy ring or kernel buffer full): counts are lower bounds\n",
			lost);
	if (ctx->rp->kernel_late)
		fprintf(out, "WARNING: %" PRIu64
			" kernel records arrived further out of order than the reorder window: they were charged late\n",
			ctx->rp->kernel_late);
	if (ctx->rp->untraced_children)
		fprintf(out, "WARNING: %s\n", mh_report_untraced_note(ctx, note, sizeof(note)));
}

/* memcheck's LEAK SUMMARY lines, from the exit-time scan. */
static void write_leak_kinds(struct mh_report_ctx *ctx, const struct mh_process *p)
{
	char b[512];
	unsigned k;

	if (!p->live_blocks)
		return;
	if (!mh_report_scanned(p)) {
		fprintf(ctx->out, "    leak kinds unknown: %s\n",
			mh_report_unscanned_why(p, b, sizeof(b)));
		return;
	}
	for (k = MH_LEAK_DEFINITE; k < MH_LEAK_KINDS; k++)
		fprintf(ctx->out, "    %s: %s in %" PRIu64 " blocks\n", mh_leak_kind_name(k),
			mh_human_bytes(p->leak_kind_bytes[k], b, sizeof(b)), p->leak_kind_blocks[k]);
	if (p->leak_kind_blocks[0])
		fprintf(ctx->out, "    %s: %s in %" PRIu64 " blocks\n", mh_leak_kind_name(0),
			mh_human_bytes(p->leak_kind_bytes[0], b, sizeof(b)), p->leak_kind_blocks[0]);
	if (p->leakscan_status && strcmp(p->leakscan_status, "complete"))
		fprintf(ctx->out, "    WARNING: leak scan: %s\n", p->leakscan_status);
}

/* The heap lines, only when the allocation stream measured them. */
static void write_heap(struct mh_report_ctx *ctx, const struct mh_process *p)
{
	struct mh_stream_state states[MH_RSTREAM_COUNT];
	char b1[32], b2[32];
	FILE *out = ctx->out;

	if (p->untraced_why) {
		fprintf(out, "  heap: not recorded (the process ran without the preload)\n");
		return;
	}
	if (!mh_report_has_heap(ctx, p)) {
		mh_report_streams(ctx, states);
		fprintf(out, "  heap: not recorded (allocation stream %s)\n",
			p->start == MH_PROCESS_ATTACHED && states[MH_RSTREAM_ALLOC].on ?
			"off: the process was watched by memhook collect" :
			states[MH_RSTREAM_ALLOC].what);
		return;
	}
	fprintf(out, "  total heap usage: %" PRIu64 " allocs, %" PRIu64 " frees, %" PRIu64
		" bytes allocated\n", p->alloc_calls, p->frees, p->bytes_allocated);
	fprintf(out, "  peak heap: %s at +%.3f s\n", mh_human_bytes(p->peak_live_bytes, b1, sizeof(b1)),
		p->peak_ts_ns > p->start_ts_ns && p->start_ts_ns ?
		seconds(p->peak_ts_ns - p->start_ts_ns) : 0.0);
	fprintf(out, "  %s: %s in %" PRIu64 " blocks\n",
		p->exited ? "leaked (in use at exit)" : "in use at end of trace",
		mh_human_bytes(p->live_bytes, b2, sizeof(b2)), p->live_blocks);
	write_leak_kinds(ctx, p);
	fprintf(out, "  temporary allocations: %" PRIu64 "\n", p->temporary);
}

void mh_report_text_summary(struct mh_report_ctx *ctx, const struct mh_process *p)
{
	char end[128], b1[32];
	FILE *out = ctx->out;

	mh_report_describe_end(p, end, sizeof(end));
	mh_report_put_image(out, p);
	fputs(" (", out);
	mh_report_put_command(out, p);
	fprintf(out, "): %s after %.3f s\n", end, seconds(mh_report_duration_ns(p)));
	if (p->untraced_why)
		fprintf(out, "  WARNING: not traced: %s\n", p->untraced_why);
	write_heap(ctx, p);
	mh_report_text_attr_summary(ctx, p);
	if (p->mmap_calls || p->munmap_calls || p->mremap_calls || p->brk_calls)
		fprintf(out, "  mappings (not heap): %" PRIu64 " mmap (%s), %" PRIu64
			" munmap, %" PRIu64 " mremap, %" PRIu64 " brk/sbrk\n", p->mmap_calls,
			mh_human_bytes(p->mmap_bytes, b1, sizeof(b1)), p->munmap_calls, p->mremap_calls,
			p->brk_calls);
	if (p->unmatched_frees)
		fprintf(out, "  WARNING: %" PRIu64
			" frees of addresses not live (allocated before tracing, or events lost)\n",
			p->unmatched_frees);
}

struct frame_printer {
	FILE *out;
	unsigned n;
};

static int print_frame(const struct mh_frame *f, void *arg)
{
	struct frame_printer *fp = arg;

	fprintf(fp->out, "    #%-2u ", fp->n++);
	if (f->function) {
		mh_escape_fputs(f->function, fp->out);
	} else if (f->module) {
		mh_escape_fputs(mh_module_basename(f->module), fp->out);
		fprintf(fp->out, "+0x%" PRIx64, f->offset);
	} else if (f->ip) {
		fprintf(fp->out, "0x%" PRIx64, f->ip);
	}
	if (f->file) {
		fputs(" (", fp->out);
		mh_escape_fputs(f->file, fp->out);
		fprintf(fp->out, ":%u)", f->line);
	}
	if (f->inlined)
		fprintf(fp->out, " [inlined]");
	if (f->module && f->function) {
		fputs(" in ", fp->out);
		mh_escape_fputs(mh_module_basename(f->module), fp->out);
	}
	fputc('\n', fp->out);
	return 0;
}


/* The exit-time verdicts on a stack's leaked blocks, one line, when the process was scanned. */
static void write_stack_leak_kinds(struct mh_report_ctx *ctx, const struct mh_process *p,
				   const struct mh_stack_stats *st)
{
	const char *sep = "    ";
	char b[32];

	if (!st->live_blocks || !mh_report_scanned(p))
		return;
	for (unsigned k = MH_LEAK_DEFINITE; k <= MH_LEAK_REACHABLE; k++) {
		if (!st->leak_kind_blocks[k])
			continue;
		fprintf(ctx->out, "%s%s %s in %" PRIu64 " blocks", sep, mh_leak_kind_name(k),
			mh_human_bytes(st->leak_kind_bytes[k], b, sizeof(b)), st->leak_kind_blocks[k]);
		sep = ", ";
	}
	if (*sep == ',')
		fputc('\n', ctx->out);
}

static int write_stack(struct mh_report_ctx *ctx, const struct mh_process *p,
		       const struct mh_stack_stats *st, size_t rank)
{
	struct frame_printer fp = { .out = ctx->out };
	char b1[32], b2[32], b3[32];

	fprintf(ctx->out, "\n#%zu: leaked %s in %" PRIu64 " blocks, peak %s, allocated %s in %"
		PRIu64 " calls, %" PRIu64 " frees, %" PRIu64 " temporary\n", rank,
		mh_human_bytes(st->live_bytes, b1, sizeof(b1)), st->live_blocks,
		mh_human_bytes(mh_stack_peak_bytes(p, st), b2, sizeof(b2)),
		mh_human_bytes(st->bytes_allocated, b3, sizeof(b3)), st->alloc_calls, st->frees,
		st->temporary);
	write_stack_leak_kinds(ctx, p, st);
	mh_report_text_attr_stack(ctx, p, st);
	if (st->info && (st->info->flags & MH_STACK_TRUNCATED))
		fprintf(ctx->out, "    (stack truncated at the depth limit)\n");
	return mh_report_frames(ctx, st, print_frame, &fp);
}

static int write_process(struct mh_report_ctx *ctx, const struct mh_process *p)
{
	enum mh_report_key key = ctx->opts->sort;
	struct mh_stack_stats **v;
	size_t n, i, shown = 0;
	int err = 0;

	mh_report_text_summary(ctx, p);
	v = mh_report_sorted(p, key, ctx->opts->top, &n);
	for (i = 0; i < n && !err; i++) {
		/* A stack with nothing under the sort key says nothing. */
		if (!mh_report_metric(p, v[i], key))
			break;
		if (!shown++)
			fprintf(ctx->out, "\ntop stacks by %s:\n", mh_report_key_name(key));
		err = write_stack(ctx, p, v[i], i + 1);
	}
	if (!err && !shown)
		fprintf(ctx->out, "\nno stack has a non-zero %s value\n", mh_report_key_name(key));
	free(v);
	return err;
}

static void print_problem(const char *problem, void *arg)
{
	fprintf(arg, "  %s\n", problem);
}

static void note_problem(const char *problem, void *arg)
{
	*(bool *)arg = true;
}

/* Modules whose frames are shown as module+offset, and why. */
static void write_symbol_problems(struct mh_report_ctx *ctx)
{
	bool any = false;
	struct mh_symbolizer *sym = ctx->sym;

	mh_symbolizer_foreach_problem(sym, note_problem, &any);
	if (!any)
		return;
	fprintf(ctx->out, "\nframes of these modules are shown as module+offset:\n");
	mh_symbolizer_foreach_problem(sym, print_problem, ctx->out);
}

int mh_report_write_text(struct mh_report_ctx *ctx)
{
	const struct mh_process *root = mh_report_root(ctx);
	const struct mh_process *p;
	int err;

	fputs("memhook report of ", ctx->out);
	mh_escape_fputs(ctx->path, ctx->out);
	fputc('\n', ctx->out);
	mh_report_text_streams(ctx, ctx->out);
	mh_report_text_warnings(ctx);
	if (!root) {
		fprintf(ctx->out, "no traced process in this trace\n");
		return 0;
	}
	err = write_process(ctx, root);
	for (p = ctx->rp->procs; p && !err; p = p->next) {
		if (p == root)
			continue;
		fputs("\n----------------------------------------------------------------\n",
		      ctx->out);
		err = write_process(ctx, p);
	}
	if (!err)
		write_symbol_problems(ctx);
	return err;
}
