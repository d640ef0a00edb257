// SPDX-License-Identifier: MIT
/*
 * leaks.c - the leaks format: memcheck-style loss records, one per
 * (stack, leak kind), and a verdict per process image, for `memhook check`.
 *
 * Per image, in memcheck's order: its loss records by kind (definite,
 * indirect, possible, reachable), the largest first, then its summary
 * line. Only the kinds that fail (opts->fail_kinds) are printed as
 * records, as LeakSanitizer prints only what fails it; every kind is
 * counted in the verdict. A record matching a suppression, or smaller
 * than opts->min_bytes, is left out of the records and the counts alike
 * (suppressed bytes are counted apart). Frame 0 of a record is the
 * allocation function, as Valgrind shows it, so Valgrind suppression
 * files match as they do under memcheck. The JSON writer takes the same
 * records from mh_report_loss_records(). Names from the program are
 * escaped (common/escape.h): they reach a terminal.
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
	[0] = "unclassified",
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

static void print_record(FILE *out, const struct mh_process *p, const struct mh_loss_record *r,
			 size_t nth, size_t count, const struct frame_list *list)
{
	fprintf(out, "memhook: %" PRIu64 " bytes in %" PRIu64 " blocks are %s in loss record %zu of %zu (",
		r->bytes, r->blocks,
		r->kind ? mh_leak_kind_name(r->kind) : "in use at exit, leak kind unknown", nth, count);
	mh_report_put_image(out, p);
	fputs(": ", out);
	mh_report_put_command(out, p);
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

/* Place of a kind in the report: definite, indirect, possible, reachable, then no verdict. */
static unsigned kind_rank(unsigned kind)
{
	return kind ? kind : MH_LEAK_REACHABLE + 1;
}

/* memcheck's order within a process: by kind, then the largest first (ties: blocks, stack). */
static int record_cmp(const void *a, const void *b)
{
	const struct mh_loss_record *x = a, *y = b;

	if (kind_rank(x->kind) != kind_rank(y->kind))
		return kind_rank(x->kind) < kind_rank(y->kind) ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->blocks != y->blocks)
		return x->blocks > y->blocks ? -1 : 1;
	return (x->st->stack_id > y->st->stack_id) - (x->st->stack_id < y->st->stack_id);
}

static unsigned fail_kinds(const struct mh_report_opts *opts)
{
	return opts->fail_kinds ? opts->fail_kinds : MH_LEAK_FAIL_DEFAULT;
}

/*
 * Count one (stack, kind) record into v; true if it is a loss record
 * (neither suppressed nor below --min-bytes). *err gets -ENOMEM.
 */
static bool account(struct mh_report_ctx *ctx, const struct mh_stack_stats *st, unsigned kind,
		    struct mh_leak_verdict *v, int *err)
{
	const struct mh_report_opts *opts = ctx->opts;
	uint64_t bytes = st->leak_kind_bytes[kind], blocks = st->leak_kind_blocks[kind];
	unsigned match_kind = kind ? kind : MH_LEAK_DEFINITE;
	struct frame_list *list;
	bool suppressed = false;

	if (!blocks || bytes < opts->min_bytes)
		return false;
	/* No suppression to match: the frames need no symbols (libc's debug info is ~40 ms). */
	if (opts->suppressions && mh_suppressions_count(opts->suppressions)) {
		list = malloc(sizeof(*list));
		*err = list ? collect_frames(ctx, st, list) : -ENOMEM;
		suppressed = !*err && mh_suppressions_match(opts->suppressions, list->frames,
							    list->count, match_kind);
		free(list);
		if (*err)
			return false;
	}
	if (suppressed) {
		v->suppressed_bytes += bytes;
		v->suppressed_blocks += blocks;
		return false;
	}
	v->bytes[kind] += bytes;
	v->blocks[kind] += blocks;
	if (fail_kinds(opts) & MH_LEAK_MASK(kind))
		v->failing |= MH_LEAK_MASK(kind);
	return true;
}

int mh_report_loss_records(struct mh_report_ctx *ctx, const struct mh_process *p,
			   struct mh_leak_verdict *v, struct mh_loss_record **out, size_t *n)
{
	size_t count = 0, cap = 0;
	struct mh_loss_record *records = NULL, *grown;
	int err = 0;

	for (const struct mh_stack_stats *st = p->stacks; st && !err; st = st->hh.next) {
		for (unsigned k = 0; k <= MH_LEAK_REACHABLE && !err; k++) {
			if (!account(ctx, st, k, v, &err))
				continue;
			if (count == cap) {
				cap = cap ? 2 * cap : 16;
				grown = realloc(records, cap * sizeof(*records));
				if (!grown) {
					err = -ENOMEM;
					break;
				}
				records = grown;
			}
			records[count++] = (struct mh_loss_record){
				.st = st, .kind = k, .bytes = st->leak_kind_bytes[k],
				.blocks = st->leak_kind_blocks[k],
				.fails = (fail_kinds(ctx->opts) & MH_LEAK_MASK(k)) != 0,
			};
		}
	}
	if (err) {
		free(records);
		return err;
	}
	if (count)
		qsort(records, count, sizeof(*records), record_cmp);
	*out = records;
	*n = count;
	return 0;
}

const char *mh_leak_kind_key(unsigned kind)
{
	return kind <= MH_LEAK_REACHABLE ? kind_keys[kind] : "unknown";
}

static void print_verdict(FILE *out, const struct mh_process *p, const struct mh_leak_verdict *v)
{
	fputs("memhook: ", out);
	mh_report_put_image(out, p);
	fputs(" (", out);
	mh_report_put_command(out, p);
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
			/* --fail-on's name for blocks without a verdict. */
			fprintf(out, "%s%s", first ? "" : ", ", k ? kind_keys[k] : "unknown");
			first = 0;
		}
	}
	fputs(")\n", out);
}

/* The failing records of p, in order, into out; 0 or -errno. */
static int print_records(struct mh_report_ctx *ctx, const struct mh_process *p,
			 const struct mh_loss_record *records, size_t n, FILE *out)
{
	struct frame_list *list = malloc(sizeof(*list));
	size_t failing = 0, nth = 0;
	int err = 0;

	if (!list)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		failing += records[i].fails;
	for (size_t i = 0; i < n && !err; i++) {
		if (!records[i].fails)
			continue;
		err = collect_frames(ctx, records[i].st, list);
		if (!err)
			print_record(out, p, &records[i], ++nth, failing, list);
	}
	free(list);
	return err;
}

int mh_report_leak_verdict(struct mh_report_ctx *ctx, const struct mh_process *p,
			   struct mh_leak_verdict *v, char *end, size_t end_len,
			   struct mh_loss_record **records, size_t *n)
{
	*v = (struct mh_leak_verdict){
		.pid = p->pid,
		.scanned = mh_report_scanned(p),
		.events_lost = mh_report_alloc_events_lost(ctx),
		.replaced = p->replaced_by_exec,
		.seconds = (double)mh_report_duration_ns(p) / 1e9,
		.end = end,
	};
	mh_report_describe_end(p, end, end_len);
	return mh_report_loss_records(ctx, p, v, records, n);
}

static int write_process(struct mh_report_ctx *ctx, struct mh_process *p)
{
	struct mh_leak_verdict v;
	struct mh_loss_record *recs = NULL;
	char end[128], why[512], *text = NULL, *name = mh_report_image_name(p), *command = NULL;
	size_t n = 0, text_len = 0, command_len = 0;
	FILE *out = open_memstream(&text, &text_len), *cmd = open_memstream(&command, &command_len);
	int err = out && cmd && name ? 0 : -ENOMEM;

	if (!err) {
		mh_report_put_command(cmd, p);
		err = mh_report_leak_verdict(ctx, p, &v, end, sizeof(end), &recs, &n);
	}
	if (!err)
		err = print_records(ctx, p, recs, n, out);
	if (out && fclose(out) && !err)
		err = -EIO;
	if (cmd && fclose(cmd) && !err)
		err = -EIO;
	if (!err) {
		v.unknown_why = mh_report_unscanned_why(p, why, sizeof(why));
		fputs(text, ctx->out);
		print_verdict(ctx->out, p, &v);
		v.name = name;
		v.command = command;
		v.records = text;
		if (ctx->opts->on_verdict)
			ctx->opts->on_verdict(&v, ctx->opts->verdict_arg);
	}
	free(recs);
	free(text);
	free(command);
	free(name);
	return err;
}

int mh_report_write_leaks(struct mh_report_ctx *ctx)
{
	char note[160];
	int err = 0;

	if (ctx->truncated)
		fprintf(ctx->out, "memhook: warning: the trace is truncated at byte %" PRIu64
			": verdicts cover only what was written\n", ctx->truncated_at);
	/* Every image gets a verdict: one replaced by exec passes, its heap gone with it. */
	for (struct mh_process *p = ctx->rp->procs; p && !err; p = p->next)
		err = write_process(ctx, p);
	if (!err && ctx->rp->untraced_children)
		fprintf(ctx->out, "memhook: %s\n", mh_report_untraced_note(ctx, note, sizeof(note)));
	return err;
}
