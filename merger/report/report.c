// SPDX-License-Identifier: MIT
/*
 * report.c - mh_report_generate(): replay a trace, then hand it to the
 * writer of the chosen format; plus what the writers share (metrics,
 * sorting, frame walking).
 *
 * Must never print except to the report stream and, when asked, progress
 * on stderr; trace problems come back as -errno and a one-line reason.
 */
#include "merger/report/report.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "merger/attribution/attribute.h"
#include "merger/replay/modmap.h"
#include "merger/report/model.h"
#include "merger/merge/timeline.h"

static const char *const key_names[MH_KEY_COUNT] = {
	[MH_KEY_LEAKED] = "leaked",
	[MH_KEY_PEAK] = "peak",
	[MH_KEY_ALLOCATED] = "allocated",
	[MH_KEY_CALLS] = "calls",
	[MH_KEY_TEMPORARY] = "temporary",
	[MH_KEY_DEFINITE] = "definite",
	[MH_KEY_RSS] = "rss",
	[MH_KEY_FAULTS] = "faults",
	[MH_KEY_SWAPINS] = "swapins",
	[MH_KEY_RECLAIM] = "reclaim",
};

static const char *const format_names[] = {
	[MH_REPORT_TEXT] = "text",
	[MH_REPORT_JSON] = "json",
	[MH_REPORT_FOLDED] = "folded",
	[MH_REPORT_LEAKS] = "leaks",
	[MH_REPORT_PPROF] = "pprof",
	[MH_REPORT_SPEEDSCOPE] = "speedscope",
	[MH_REPORT_HTML] = "html",
};

const char *mh_leak_kind_name(unsigned kind)
{
	static const char *const names[] = {
		[0] = "leak kind unknown",
		[MH_LEAK_DEFINITE] = "definitely lost",
		[MH_LEAK_INDIRECT] = "indirectly lost",
		[MH_LEAK_POSSIBLE] = "possibly lost",
		[MH_LEAK_REACHABLE] = "still reachable",
	};

	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "unknown";
}

int mh_report_key_parse(const char *name, enum mh_report_key *key)
{
	unsigned i;

	for (i = 0; i < MH_KEY_COUNT; i++) {
		if (!strcmp(name, key_names[i])) {
			*key = i;
			return 0;
		}
	}
	return -EINVAL;
}

int mh_report_format_parse(const char *name, enum mh_report_format *format)
{
	unsigned i;

	for (i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++) {
		if (!strcmp(name, format_names[i])) {
			*format = i;
			return 0;
		}
	}
	return -EINVAL;
}

static void join_names(const char *const *names, size_t count, char *buf, size_t len)
{
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < count && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "|" : "", names[i]);
}

void mh_report_format_names(char *buf, size_t len)
{
	join_names(format_names, sizeof(format_names) / sizeof(format_names[0]), buf, len);
}

void mh_report_key_names(char *buf, size_t len)
{
	join_names(key_names, MH_KEY_COUNT, buf, len);
}

const char *mh_report_key_name(enum mh_report_key key)
{
	return key < MH_KEY_COUNT ? key_names[key] : "?";
}

uint64_t mh_report_metric(const struct mh_process *p, const struct mh_stack_stats *st,
			  enum mh_report_key key)
{
	switch (key) {
	case MH_KEY_LEAKED:
		return st->live_bytes;
	case MH_KEY_PEAK:
		return mh_stack_peak_bytes(p, st);
	case MH_KEY_ALLOCATED:
		return st->bytes_allocated;
	case MH_KEY_CALLS:
		return st->alloc_calls;
	case MH_KEY_TEMPORARY:
		return st->temporary;
	case MH_KEY_DEFINITE:
		return st->leak_kind_bytes[MH_LEAK_DEFINITE];
	case MH_KEY_RSS:
		return st->resident_bytes;
	case MH_KEY_FAULTS:
		return st->faults;
	case MH_KEY_SWAPINS:
		return st->swapins;
	case MH_KEY_RECLAIM:
		return st->reclaim_stall_ns;
	default:
		return 0;
	}
}

struct mh_process *mh_report_root(const struct mh_report_ctx *ctx)
{
	struct mh_process *p;

	for (p = ctx->rp->procs; p; p = p->next) {
		if (p->pid == ctx->rp->root_pid)
			return p;
	}
	return ctx->rp->procs;
}

bool mh_report_scanned(const struct mh_process *p)
{
	const char *status = p->leakscan_status;

	/* An image replaced by exec has no blocks left to judge: its kinds are known, all empty. */
	if (p->replaced_by_exec)
		return true;
	/* Lost events make every verdict doubtful (leaks.h): the kinds are unknown. */
	if (p->events_lost)
		return false;
	/* "failed: ..." or a reason why nothing was recorded is not a scan. */
	return p->leak_verdicts ||
	       (status && (!strncmp(status, "complete", 8) || !strncmp(status, "partial", 7)));
}

/* True if arg reads the same to a POSIX shell unquoted. */
static bool shell_safe(const char *arg)
{
	return *arg && arg[strspn(arg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				   "0123456789_@%+=:,./-")] == '\0';
}

/* The shell-quoted command line of p, unescaped, into out. */
static void put_quoted(FILE *out, const struct mh_process *p)
{
	const char *arg, *end = p->argv + p->argv_len;

	for (arg = p->argv; arg <= end; arg += strlen(arg) + 1) {
		if (arg != p->argv)
			fputc(' ', out);
		if (shell_safe(arg)) {
			fputs(arg, out);
			continue;
		}
		fputc('\'', out);
		for (const char *c = arg; *c; c++) {
			if (*c == '\'')
				fputs("'\\''", out);
			else
				fputc(*c, out);
		}
		fputc('\'', out);
	}
}

void mh_report_put_command(FILE *out, const struct mh_process *p)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem;

	/* Names are data: the program chose them, a terminal or a parser reads them. */
	if (!p->argv) {
		mh_escape_fputs(p->command ? p->command : "?", out);
		return;
	}
	mem = open_memstream(&text, &len);
	if (!mem) {
		mh_escape_fputs(p->command ? p->command : "?", out);
		return;
	}
	put_quoted(mem, p);
	if (!fclose(mem))
		mh_escape_fputs(text, out);
	free(text);
}

void mh_report_put_image(FILE *out, const struct mh_process *p)
{
	fprintf(out, "pid %u", p->pid);
	if (p->exec_index)
		fprintf(out, " exec %u", p->exec_index);
}

char *mh_report_image_name(const struct mh_process *p)
{
	char *name = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&name, &len);

	if (!out)
		return NULL;
	mh_report_put_image(out, p);
	fputs(": ", out);
	mh_report_put_command(out, p);
	if (fclose(out)) {
		free(name);
		return NULL;
	}
	return name;
}

const char *mh_report_untraced_note(const struct mh_report_ctx *ctx, char *buf, size_t len)
{
	uint64_t n = ctx->rp->untraced_children;

	snprintf(buf, len, "%" PRIu64 " child process%s ran untraced (not followed): record %s with --follow-forks",
		 n, n == 1 ? "" : "es", n == 1 ? "it" : "them");
	return buf;
}

uint64_t mh_report_events_lost(const struct mh_report_ctx *ctx)
{
	uint64_t n = 0;
	unsigned i;

	for (i = 0; i < MH_STREAM_COUNT; i++)
		n += ctx->rp->lost[i];
	return n;
}

uint64_t mh_report_alloc_events_lost(const struct mh_report_ctx *ctx)
{
	return ctx->rp->lost[MH_STREAM_ALLOC];
}

uint64_t mh_report_duration_ns(const struct mh_process *p)
{
	uint64_t end = p->exited ? p->exit_ts_ns : p->last_ts_ns;

	return end > p->start_ts_ns && p->start_ts_ns ? end - p->start_ts_ns : 0;
}

struct sort_ctx {
	const struct mh_process *p;
	enum mh_report_key key;
};

static int cmp_u64_desc(uint64_t a, uint64_t b)
{
	return a < b ? 1 : a > b ? -1 : 0;
}

static int stack_cmp(const void *a, const void *b, void *arg)
{
	const struct mh_stack_stats *x = *(struct mh_stack_stats *const *)a;
	const struct mh_stack_stats *y = *(struct mh_stack_stats *const *)b;
	const struct sort_ctx *sc = arg;
	int c = cmp_u64_desc(mh_report_metric(sc->p, x, sc->key),
			     mh_report_metric(sc->p, y, sc->key));

	if (!c)
		c = cmp_u64_desc(x->bytes_allocated, y->bytes_allocated);
	if (!c)
		c = -cmp_u64_desc(x->stack_id, y->stack_id);
	return c;
}

struct mh_stack_stats **mh_report_sorted(const struct mh_process *p, enum mh_report_key key,
					 unsigned top, size_t *n)
{
	struct sort_ctx sc = { .p = p, .key = key };
	struct mh_stack_stats **v, *st;
	size_t i = 0, count = HASH_COUNT(p->stacks);

	*n = 0;
	if (!count)
		return NULL;
	v = malloc(count * sizeof(*v));
	if (!v)
		return NULL;
	for (st = p->stacks; st; st = st->hh.next)
		v[i++] = st;
	qsort_r(v, count, sizeof(*v), stack_cmp, &sc);
	*n = top && top < count ? top : count;
	return v;
}

int mh_report_frames(struct mh_report_ctx *ctx, const struct mh_stack_stats *st,
		     int (*fn)(const struct mh_frame *f, void *arg), void *arg)
{
	return mh_symbolize_stack(ctx->sym, st->info, fn, arg);
}

const char *mh_report_frame_name(const struct mh_frame *f, char *buf, size_t len)
{
	if (f->function)
		return f->function;
	if (f->module)
		snprintf(buf, len, "%s+0x%" PRIx64, mh_module_basename(f->module), f->offset);
	else
		snprintf(buf, len, "0x%" PRIx64, f->ip);
	return buf;
}

void mh_report_describe_end(const struct mh_process *p, char *buf, size_t len)
{
	const char *sig;

	if (!p->exited) {
		snprintf(buf, len, "%s", p->replaced_by_exec ? "replaced by exec" :
			 "still running when the trace ended (no exit record)");
		return;
	}
	switch (p->exit_reason) {
	case MH_EXIT_NORMAL:
		snprintf(buf, len, "exited with status %d", p->exit_status);
		break;
	case MH_EXIT_SIGNAL:
	case MH_EXIT_OOM:
		sig = sigabbrev_np(p->exit_status);
		snprintf(buf, len, "%s %d (SIG%s)%s",
			 p->exit_reason == MH_EXIT_OOM ? "killed by the OOM killer, signal" :
			 "killed by signal", p->exit_status, sig ? sig : "?",
			 p->core_dumped ? ", core dumped" : "");
		break;
	default:
		snprintf(buf, len, "ended for an unknown reason");
		break;
	}
}

const char *mh_report_unscanned_why(const struct mh_process *p, char *buf, size_t len)
{
	if (mh_report_scanned(p))
		return NULL;
	if (p->untraced_why)
		snprintf(buf, len, "not traced: %s", p->untraced_why);
	else if (p->events_lost)
		snprintf(buf, len, "allocation events were lost while it ran (--lossy ring full), so a live block may be one whose free was lost");
	else if (!p->exited)
		snprintf(buf, len, "the process had not exited when the trace ended");
	else if (p->exit_reason == MH_EXIT_OOM)
		snprintf(buf, len, "killed by the OOM killer (signal %d): a killed process cannot be scanned at exit",
			 p->exit_status);
	else if (p->exit_reason == MH_EXIT_SIGNAL && p->exit_status == SIGKILL)
		snprintf(buf, len, "killed by SIGKILL: a killed process cannot be scanned at exit");
	else if (!p->start)
		snprintf(buf, len, "the preload was not active in it, so no exit-time scan was asked for");
	else if (p->exit_reason == MH_EXIT_SIGNAL && !p->scan_requested)
		snprintf(buf, len, "killed by SIG%s before it could ask for its exit-time scan: the signal came inside malloc, free or another call memhook intercepts (glibc aborts there on a double free or heap corruption), where the heap cannot be scanned, or the program replaced memhook's signal handler",
			 sigabbrev_np(p->exit_status) ? sigabbrev_np(p->exit_status) : "?");
	else if (!p->scan_requested)
		snprintf(buf, len, "it ended without asking for its exit-time scan (its exit path did not run)");
	else
		snprintf(buf, len, "the recorder did not answer its exit-time scan request");
	return buf;
}

static void show_progress(uint64_t records, void *arg)
{
	fprintf(stderr, "\rmemhook: replayed %llu M records", (unsigned long long)(records >> 20));
}

static int replay_trace(const char *path, const struct mh_report_opts *opts,
			struct mh_report_ctx *ctx)
{
	struct mh_timeline *tl = mh_timeline_open(path);
	int err;

	if (!tl) {
		err = -errno;
		snprintf(ctx->error, MH_REPORT_ERROR_BYTES, "cannot open trace '%s': %s", path,
			 err == -EPROTO ? "not a memhook trace" :
			 err == -EPROTONOSUPPORT ?
			 "trace version or byte order not supported by this build" :
			 err == -EBADMSG ? "corrupt header (bad page size or time unit)" :
			 strerror(-err));
		return err;
	}
	err = mh_timeline_run(tl, ctx->rp, opts->progress ? show_progress : NULL, NULL);
	if (opts->progress)
		fputs("\r\033[K", stderr);
	if (err) {
		snprintf(ctx->error, MH_REPORT_ERROR_BYTES, "cannot read trace '%s': %s", path,
			 mh_timeline_error(tl)[0] ? mh_timeline_error(tl) : strerror(-err));
	} else {
		ctx->truncated = mh_timeline_truncated(tl);
		ctx->truncated_at = mh_timeline_truncated_at(tl);
	}
	mh_timeline_free(tl);
	return err;
}

int mh_report_write(struct mh_report_ctx *ctx)
{
	int err;

	switch (ctx->opts->format) {
	case MH_REPORT_JSON:
		err = mh_report_write_json(ctx);
		break;
	case MH_REPORT_FOLDED:
		err = mh_report_write_folded(ctx);
		break;
	case MH_REPORT_LEAKS:
		err = mh_report_write_leaks(ctx);
		break;
	case MH_REPORT_PPROF:
		err = mh_report_write_pprof(ctx);
		break;
	case MH_REPORT_SPEEDSCOPE:
		err = mh_report_write_speedscope(ctx);
		break;
	case MH_REPORT_HTML:
		err = mh_report_write_html(ctx);
		break;
	default:
		err = mh_report_write_text(ctx);
		break;
	}
	/* errno still holds the cause of the failed write (ENOSPC, EPIPE...). */
	if (!err && (fflush(ctx->out) || ferror(ctx->out)))
		err = errno ? -errno : -EIO;
	if (err)
		snprintf(ctx->error, MH_REPORT_ERROR_BYTES, "cannot write the report of '%s': %s",
			 ctx->path, strerror(-err));
	return err;
}

int mh_report_generate(const char *path, const struct mh_report_opts *opts, FILE *out,
		       char error[MH_REPORT_ERROR_BYTES])
{
	struct mh_report_ctx ctx = { .path = path, .opts = opts, .out = out, .error = error };
	int err = -ENOMEM;

	error[0] = '\0';
	ctx.rp = mh_replay_new();
	ctx.attribution = ctx.rp ? mh_attribution_new(ctx.rp) : NULL;
	ctx.sym = mh_symbolizer_new();
	if (!ctx.attribution || !ctx.sym) {
		snprintf(error, MH_REPORT_ERROR_BYTES, "cannot report on '%s': %s", path,
			 strerror(ENOMEM));
		goto out;
	}
	err = replay_trace(path, opts, &ctx);
	if (err)
		goto out;
	err = mh_replay_finish(ctx.rp);
	if (err) {
		snprintf(error, MH_REPORT_ERROR_BYTES, "cannot report on '%s': %s", path,
			 strerror(-err));
		goto out;
	}
	err = mh_report_write(&ctx);
out:
	mh_symbolizer_free(ctx.sym);
	mh_replay_free(ctx.rp);
	mh_attribution_free(ctx.attribution);
	return err;
}
