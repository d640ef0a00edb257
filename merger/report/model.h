/* SPDX-License-Identifier: MIT */
/*
 * model.h - what the report writers share: the replayed trace, the
 * symbolizer, the metrics by key, stacks in sorted order and their frames.
 *
 * Internal to merger/report*.c. Never prints.
 */
#ifndef MEMHOOK_MERGER_REPORT_MODEL_H
#define MEMHOOK_MERGER_REPORT_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "merger/replay/replay.h"
#include "common/units.h"
#include "merger/report/report.h"
#include "merger/symbols/symbolize.h"

struct mh_report_ctx {
	const char *path;		/* the trace */
	const struct mh_report_opts *opts;
	struct mh_replay *rp;
	struct mh_attribution *attribution;	/* rp's subscriber */
	struct mh_symbolizer *sym;
	bool truncated;
	uint64_t truncated_at;		/* file offset, valid when truncated */
	FILE *out;
	char *error;			/* MH_REPORT_ERROR_BYTES: why the report failed */
};

/* "definitely lost", ... for an enum mh_leak_kind; "leak kind unknown" for 0 (no verdict). */
const char *mh_leak_kind_name(unsigned kind);

/* "definite", ... for an enum mh_leak_kind; "unclassified" for 0 (the JSON names). */
const char *mh_leak_kind_key(unsigned kind);

/* One loss record: the blocks of one leak kind allocated from one stack. */
struct mh_loss_record {
	const struct mh_stack_stats *st;
	unsigned kind;			/* enum mh_leak_kind, 0: no verdict */
	uint64_t bytes, blocks;
	bool fails;			/* its kind is one that fails (opts->fail_kinds) */
};

/*
 * p's loss records in memcheck's order (by kind: definite, indirect,
 * possible, reachable, then no verdict; within a kind the largest
 * first), without those smaller than opts->min_bytes or matching
 * opts->suppressions, each counted into v (bytes, blocks, failing,
 * suppressed_*). *out is malloc'd (NULL when *n is 0). 0 or -ENOMEM.
 */
int mh_report_loss_records(struct mh_report_ctx *ctx, const struct mh_process *p,
			   struct mh_leak_verdict *v, struct mh_loss_record **out, size_t *n);

/*
 * p's verdict as the leaks format gives it (name, command and records
 * left NULL; end written into end), with its loss records as
 * mh_report_loss_records() returns them. 0 or -ENOMEM.
 */
int mh_report_leak_verdict(struct mh_report_ctx *ctx, const struct mh_process *p,
			   struct mh_leak_verdict *v, char *end, size_t end_len,
			   struct mh_loss_record **records, size_t *n);

/* "3 child processes ran untraced: ..." into buf (when the trace counted any); returns buf. */
const char *mh_report_untraced_note(const struct mh_report_ctx *ctx, char *buf, size_t len);

/* The sort key's name ("leaked", ...). */
const char *mh_report_key_name(enum mh_report_key key);

/* Value of key for one stack of p. */
uint64_t mh_report_metric(const struct mh_process *p, const struct mh_stack_stats *st,
			  enum mh_report_key key);

/* The process the report leads with: the header's root pid, else the first. */
struct mh_process *mh_report_root(const struct mh_report_ctx *ctx);

/*
 * True if p's leak kinds are known: its exit-time scan reported (and no
 * allocation event of p was lost), or an exec replaced it (its blocks went
 * with it: every kind is empty).
 */
bool mh_report_scanned(const struct mh_process *p);

/*
 * The image's command line, shell-quoted (sh -c './leaky | cat'), or its
 * executable's path when its arguments never came; control bytes and
 * invalid UTF-8 shown as \xNN (common/escape.h).
 */
void mh_report_put_command(FILE *out, const struct mh_process *p);

/* Which image of its pid p is: "pid 687", or "pid 687 exec 1" after its first exec. */
void mh_report_put_image(FILE *out, const struct mh_process *p);

/* "pid 687 exec 1: ./leaky": image and command line, malloc'd; NULL on ENOMEM. */
char *mh_report_image_name(const struct mh_process *p);

/* Events lost in every stream together. */
uint64_t mh_report_events_lost(const struct mh_report_ctx *ctx);

/* Allocation-stream events lost (those that make leak kinds unknown). */
uint64_t mh_report_alloc_events_lost(const struct mh_report_ctx *ctx);

/* Process lifetime in ns: start (or first event) to exit (or last event). */
uint64_t mh_report_duration_ns(const struct mh_process *p);

/*
 * p's stacks, largest key first (ties: more bytes allocated, then lower
 * id), at most top (0 = all). Returns a malloc'd array, *n its length, or
 * NULL with *n = 0 (no stacks, or ENOMEM with errno set).
 */
struct mh_stack_stats **mh_report_sorted(const struct mh_process *p, enum mh_report_key key,
					 unsigned top, size_t *n);

/*
 * Call fn on every symbolized frame of st, innermost first, the preload's
 * own frames left out. A stack whose record never came gives one frame
 * with function "[unknown stack]". Stops at fn's first non-zero return
 * and returns it; -ENOMEM.
 */
int mh_report_frames(struct mh_report_ctx *ctx, const struct mh_stack_stats *st,
		     int (*fn)(const struct mh_frame *f, void *arg), void *arg);

/*
 * What to call frame f: its function, else "module+0xoffset", else
 * "0xaddress" (written into buf, which is then returned).
 */
const char *mh_report_frame_name(const struct mh_frame *f, char *buf, size_t len);

/* "exited with status 3", "killed by signal 9 (SIGKILL)", ... into buf. */
void mh_report_describe_end(const struct mh_process *p, char *buf, size_t len);

/*
 * Why p's leaks have no kinds (no exit-time scan: killed by SIGKILL, by
 * the OOM killer, still running, ...), written into buf and returned;
 * NULL when p was scanned.
 */
const char *mh_report_unscanned_why(const struct mh_process *p, char *buf, size_t len);

/*
 * Write the report of an already replayed (and finished) trace in
 * ctx->opts->format to ctx->out. 0 or -errno; ctx->error says why.
 */
int mh_report_write(struct mh_report_ctx *ctx);

/* Which attribution figures p has (attr.c): pagemap, kernel events, RSS. */
bool mh_report_has_residency(const struct mh_process *p);
bool mh_report_has_kernel(const struct mh_process *p);
bool mh_report_has_rss(const struct mh_process *p);

struct mh_json;
/* JSON members of the open SUMMARY / STACK object; whole "mappings" and "timeline" arrays. */
void mh_report_json_attr_summary(struct mh_json *j, const struct mh_process *p);
void mh_report_json_attr_stack(struct mh_report_ctx *ctx, struct mh_json *j,
			       const struct mh_process *p, const struct mh_stack_stats *st);
void mh_report_json_mappings(struct mh_report_ctx *ctx, struct mh_json *j,
			     const struct mh_process *p);
void mh_report_json_timeline(struct mh_json *j, const struct mh_process *p);
/* Stacks a "stack_timeline" shows: the largest at some point of the grid. */
#define MH_REPORT_TIMELINE_STACKS 10
/* The whole "stack_timeline" object of p (merger/report/timelines.c). */
void mh_report_json_stack_timeline(struct mh_report_ctx *ctx, struct mh_json *j,
				   const struct mh_process *p);
/* mh_report_frames() callback writing one frame object into the open JSON array arg. */
int mh_report_json_frame(const struct mh_frame *f, void *arg);
/*
 * A stack that is not one of p's allocation stacks (an mmap's), as a
 * struct mh_stack_stats mh_report_frames() can walk; false if its record
 * never came.
 */
bool mh_report_stack_of(struct mh_report_ctx *ctx, uint64_t id, struct mh_stack_stats *out);

/* The "process" and "summary" members of p (report_json.c), into the open object. */
void mh_report_json_summary(struct mh_report_ctx *ctx, struct mh_json *j,
			    const struct mh_process *p);

/* The text report's warnings about the trace, and p's summary (report_text.c). */
void mh_report_text_warnings(struct mh_report_ctx *ctx);
void mh_report_text_summary(struct mh_report_ctx *ctx, const struct mh_process *p);

/* Text lines after a process summary / a stack's headline. */
void mh_report_text_attr_summary(struct mh_report_ctx *ctx, const struct mh_process *p);
void mh_report_text_attr_stack(struct mh_report_ctx *ctx, const struct mh_process *p,
			       const struct mh_stack_stats *st);

/* Writers. 0 or -errno (-EIO when out failed). */
int mh_report_write_text(struct mh_report_ctx *ctx);
int mh_report_write_json(struct mh_report_ctx *ctx);
int mh_report_write_folded(struct mh_report_ctx *ctx);
int mh_report_write_leaks(struct mh_report_ctx *ctx);
int mh_report_write_pprof(struct mh_report_ctx *ctx);
int mh_report_write_speedscope(struct mh_report_ctx *ctx);
int mh_report_write_html(struct mh_report_ctx *ctx);

#endif /* MEMHOOK_MERGER_REPORT_MODEL_H */
