// SPDX-License-Identifier: MIT
/*
 * leaks.c - the leaks format: memcheck-style loss records, one per
 * (stack, leak kind), and a verdict per process, for `memhook check`.
 *
 * Only the kinds that fail (opts->fail_kinds) are printed as records, as
 * LeakSanitizer prints only what fails it; every kind is counted in the
 * verdict. A record matching a suppression, or smaller than
 * opts->min_bytes, is left out of the records and the counts alike
 * (suppressed bytes are counted apart). Frame 0 of a record is the
 * allocation function, as Valgrind shows it, so Valgrind suppression files
 * match as they do under memcheck. Names from the program are escaped
 * (common/escape.h): they reach a terminal.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "merger/replay/modmap.h"
#include "merger/report/model.h"
#include "merger/leaks/suppress.h"

/* Frames kept per loss record for printing and matching. */
#define MAX_FRAMES 256

static const char *const kind_keys[MH_LEAK_REACHABLE + 1] = {
	[0] = "unknown",
	[MH_LEAK_DEFINITE] = "definite",
	[MH_LEAK_INDIRECT] = "indirect",
	[MH_LEAK_POSSIBLE] = "possible",
	[MH_LEAK_REACHABLE] = "reachable",
};

struct frame_list {
	struct mh_supp_frame frames[MAX_FRAMES];
	unsigned lines[MAX_FRAMES];
	size_t count;
};

static int add_frame(const struct mh_frame *f, void *arg)
{
	struct frame_list *list = arg;

	if (list->count == MAX_FRAMES)
		return 1;
	list->frames[list->count] = (struct mh_supp_frame){
		.function = f->function,
		.file = f->file,
		.module = f->module ? f->module->path : NULL,
	};
	list->lines[list->count] = f->line;
	list->count++;
	return 0;
}

/*
 * Frames of st with the allocation function first. operator new calls
 * malloc, so a stack that starts inside it already begins with it.
 */
static int collect_frames(struct mh_report_ctx *ctx, const struct mh_stack_stats *st,
			  struct frame_list *list)
{
	int err;

	list->count = 1;
	list->frames[0] = (struct mh_supp_frame){ .function = "malloc" };
	list->lines[0] = 0;
	err = mh_report_frames(ctx, st, add_frame, list);
	if (err < 0)
		return err;
	if (list->count > 1 && list->frames[1].function &&
	    !strncmp(list->frames[1].function, "operator new", 12)) {
		memmove(&list->frames[0], &list->frames[1], (list->count - 1) * sizeof(list->frames[0]));
		memmove(&list->lines[0], &list->lines[1], (list->count - 1) * sizeof(list->lines[0]));
		list->count--;
	}
	return 0;
}

static void print_record(FILE *out, const struct mh_process *p, unsigned kind, uint64_t bytes,
			 uint64_t blocks, const struct frame_list *list)
{
	fprintf(out, "memhook: %" PRIu64 " bytes in %" PRIu64 " blocks are %s (pid %u ", bytes,
		blocks, kind ? mh_leak_kind_name(kind) : "in use at exit, leak kind unknown", p->pid);
	mh_escape_fputs(p->command ? p->command : "", out);
	fputs(")\n", out);
	for (size_t i = 0; i < list->count; i++) {
		const struct mh_supp_frame *f = &list->frames[i];
		const char *module = f->module ? strrchr(f->module, '/') : NULL;

		fprintf(out, "    #%-2zu ", i);
		mh_escape_fputs(f->function ? f->function : "??", out);
		if (f->file) {
			fputc(' ', out);
			mh_escape_fputs(f->file, out);
			fprintf(out, ":%u", list->lines[i]);
		}
		if (f->module) {
			fputs(" (", out);
			mh_escape_fputs(module ? module + 1 : f->module, out);
			fputc(')', out);
		}
		fputc('\n', out);
	}
	fputc('\n', out);
}

/* Count one (stack, kind) record into v, printing it to out if it fails. */
static int account(struct mh_report_ctx *ctx, const struct mh_process *p,
		   const struct mh_stack_stats *st, unsigned kind, struct mh_leak_verdict *v,
		   FILE *out)
{
	const struct mh_report_opts *opts = ctx->opts;
	uint64_t bytes = st->leak_kind_bytes[kind], blocks = st->leak_kind_blocks[kind];
	unsigned match_kind = kind ? kind : MH_LEAK_DEFINITE;
	struct frame_list *list;
	int err;

	if (!blocks || bytes < opts->min_bytes)
		return 0;
	list = malloc(sizeof(*list));
	if (!list)
		return -ENOMEM;
	err = collect_frames(ctx, st, list);
	if (!err && opts->suppressions &&
	    mh_suppressions_match(opts->suppressions, list->frames, list->count, match_kind)) {
		v->suppressed_bytes += bytes;
		v->suppressed_blocks += blocks;
	} else if (!err) {
		v->bytes[kind] += bytes;
		v->blocks[kind] += blocks;
		if (opts->fail_kinds & MH_LEAK_MASK(kind)) {
			v->failing |= MH_LEAK_MASK(kind);
			print_record(out, p, kind, bytes, blocks, list);
		}
	}
	free(list);
	return err;
}

static void print_verdict(FILE *out, const struct mh_leak_verdict *v)
{
	fprintf(out, "memhook: pid %u (", v->pid);
	mh_escape_fputs(v->command, out);
	fprintf(out, ") %s:", v->end);
	if (!v->scanned)
		fprintf(out, " leak kinds unknown (%s): %" PRIu64 " bytes in %" PRIu64 " blocks;",
			v->unknown_why, v->bytes[0], v->blocks[0]);
	for (unsigned k = MH_LEAK_DEFINITE; k <= MH_LEAK_REACHABLE; k++)
		fprintf(out, " %s %" PRIu64 " bytes in %" PRIu64 " blocks%s", mh_leak_kind_name(k),
			v->bytes[k], v->blocks[k], k < MH_LEAK_REACHABLE ? "," : ";");
	fprintf(out, " suppressed %" PRIu64 " bytes in %" PRIu64 " blocks", v->suppressed_bytes,
		v->suppressed_blocks);
	if (v->events_lost)
		fprintf(out, "; %" PRIu64 " events lost in this recording", v->events_lost);
	fputs(": ", out);
	if (!v->failing) {
		fputs("ok\n", out);
		return;
	}
	fputs("FAILED (", out);
	for (unsigned k = 0, first = 1; k <= MH_LEAK_REACHABLE; k++) {
		if (v->failing & MH_LEAK_MASK(k)) {
			fprintf(out, "%s%s", first ? "" : ", ", kind_keys[k]);
			first = 0;
		}
	}
	fputs(")\n", out);
}

static int write_process(struct mh_report_ctx *ctx, struct mh_process *p)
{
	struct mh_leak_verdict v = {
		.pid = p->pid,
		.command = p->command ? p->command : "",
		.scanned = mh_report_scanned(p),
		.events_lost = mh_report_alloc_events_lost(ctx),
		.seconds = (double)mh_report_duration_ns(p) / 1e9,
	};
	struct mh_stack_stats **stacks;
	char end[128], why[512], *records = NULL;
	size_t n, records_len = 0;
	FILE *out = open_memstream(&records, &records_len);
	int err = 0;

	if (!out)
		return -errno;
	mh_report_describe_end(p, end, sizeof(end));
	v.end = end;
	v.unknown_why = mh_report_unscanned_why(p, why, sizeof(why));
	stacks = mh_report_sorted(p, MH_KEY_LEAKED, 0, &n);
	for (size_t i = 0; i < n && !err; i++) {
		for (unsigned k = 0; k <= MH_LEAK_REACHABLE && !err; k++)
			err = account(ctx, p, stacks[i], k, &v, out);
	}
	free(stacks);
	if (fclose(out) && !err)
		err = -EIO;
	if (!err) {
		fputs(records ? records : "", ctx->out);
		print_verdict(ctx->out, &v);
		v.records = records ? records : "";
		if (ctx->opts->on_verdict)
			ctx->opts->on_verdict(&v, ctx->opts->verdict_arg);
	}
	free(records);
	return err;
}

int mh_report_write_leaks(struct mh_report_ctx *ctx)
{
	int err = 0;

	if (ctx->truncated)
		fprintf(ctx->out, "memhook: warning: the trace is truncated at byte %" PRIu64
			": verdicts cover only what was written\n", ctx->truncated_at);
	for (struct mh_process *p = ctx->rp->procs; p && !err; p = p->next) {
		/* An exec replaced this image's memory: nothing of it can leak. */
		if (p->replaced_by_exec)
			continue;
		err = write_process(ctx, p);
	}
	return err;
}
