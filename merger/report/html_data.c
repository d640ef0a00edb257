// SPDX-License-Identifier: MIT
/*
 * html_data.c - the data of the HTML page, aggregated in C so the browser
 * only draws: per process the text summary and what streams it lacks, the
 * JSON report's summary, timeline, per-stack timeline and mappings, its
 * modules' address ranges, one flame graph tree holding every metric, and
 * memcheck-style loss records; one table of distinct frames for all.
 *
 * Must never write a figure the trace lacks as a number: a flame graph
 * metric without a source is marked unknown, a resident value is null.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "merger/report/json_writer.h"
#include "merger/replay/modmap.h"
#include "merger/report/frametab.h"
#include "merger/report/html.h"
#include "merger/report/intern.h"
#include "merger/report/model.h"

enum flame_metric {
	FM_ALLOCATED,
	FM_CALLS,
	FM_PEAK,
	FM_LEAKED,
	FM_DEFINITE,
	FM_INDIRECT,
	FM_POSSIBLE,
	FM_REACHABLE,
	FM_RESIDENT,
	FM_FAULTS,
	FM_SWAPINS,
	FM_COUNT,
};

struct flame_metric_info {
	const char *key, *label, *unit;
	bool (*known)(const struct mh_process *p);	/* NULL: always */
};

static const struct flame_metric_info fm_info[FM_COUNT] = {
	[FM_ALLOCATED] = { "allocated", "bytes allocated", "bytes", NULL },
	[FM_CALLS] = { "calls", "allocation calls", "count", NULL },
	[FM_PEAK] = { "peak", "live at the heap peak", "bytes", NULL },
	[FM_LEAKED] = { "leaked", "leaked (live at exit)", "bytes", NULL },
	[FM_DEFINITE] = { "definite", "definitely lost", "bytes", mh_report_scanned },
	[FM_INDIRECT] = { "indirect", "indirectly lost", "bytes", mh_report_scanned },
	[FM_POSSIBLE] = { "possible", "possibly lost", "bytes", mh_report_scanned },
	[FM_REACHABLE] = { "reachable", "still reachable", "bytes", mh_report_scanned },
	[FM_RESIDENT] = { "resident", "resident bytes", "bytes", mh_report_has_residency },
	[FM_FAULTS] = { "faults", "page faults", "count", mh_report_has_kernel },
	[FM_SWAPINS] = { "swapins", "swap-ins", "count", mh_report_has_kernel },
};

static uint64_t fm_value(const struct mh_process *p, const struct mh_stack_stats *st,
			 enum flame_metric m)
{
	switch (m) {
	case FM_ALLOCATED:
		return st->bytes_allocated;
	case FM_CALLS:
		return st->alloc_calls;
	case FM_PEAK:
		return mh_stack_peak_bytes(p, st);
	case FM_LEAKED:
		return st->live_bytes;
	case FM_DEFINITE:
	case FM_INDIRECT:
	case FM_POSSIBLE:
	case FM_REACHABLE:
		return st->leak_kind_bytes[MH_LEAK_DEFINITE + (m - FM_DEFINITE)];
	case FM_RESIDENT:
		return st->resident_bytes;
	case FM_FAULTS:
		return st->faults;
	case FM_SWAPINS:
		return st->swapins;
	default:
		return 0;
	}
}

/* A flame graph tree: node 0 is the root; a node's values include its children's. */
struct node_key {
	uint32_t parent, frame;
};

struct node_entry {
	struct node_key key;
	uint32_t index;
	UT_hash_handle hh;
};

struct flame {
	struct node_entry *table;
	struct node_key *nodes;
	uint64_t (*values)[FM_COUNT];
	size_t count, cap;
};

static long flame_child(struct flame *fl, uint32_t parent, uint32_t frame)
{
	struct node_key key = { .parent = parent, .frame = frame };
	struct node_entry *e;
	void *grown;

	HASH_FIND(hh, fl->table, &key, sizeof(key), e);
	if (e)
		return e->index;
	if (fl->count == fl->cap) {
		fl->cap = fl->cap ? 2 * fl->cap : 1024;
		grown = realloc(fl->nodes, fl->cap * sizeof(*fl->nodes));
		if (!grown)
			return -ENOMEM;
		fl->nodes = grown;
		grown = realloc(fl->values, fl->cap * sizeof(*fl->values));
		if (!grown)
			return -ENOMEM;
		fl->values = grown;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->key = key;
	e->index = (uint32_t)fl->count;
	HASH_ADD(hh, fl->table, key, sizeof(key), e);
	fl->nodes[fl->count] = key;
	memset(fl->values[fl->count], 0, sizeof(fl->values[0]));
	return (long)fl->count++;
}

static void flame_free(struct flame *fl)
{
	struct node_entry *e, *tmp;

	HASH_ITER(hh, fl->table, e, tmp) {
		HASH_DEL(fl->table, e);
		free(e);
	}
	free(fl->nodes);
	free(fl->values);
}

/* Add every stack of p along its path, outermost frame first. */
static int flame_build(struct flame *fl, struct mh_frametab *t, const struct mh_process *p)
{
	const struct mh_stack_stats *st;
	uint64_t v[FM_COUNT];
	const uint32_t *ids;
	long depth, k, node;
	unsigned m;

	if (flame_child(fl, UINT32_MAX, UINT32_MAX) < 0)	/* the root */
		return -ENOMEM;
	for (st = p->stacks; st; st = st->hh.next) {
		for (m = 0; m < FM_COUNT; m++)
			v[m] = fm_value(p, st, m);
		depth = mh_frametab_stack(t, st, &ids);
		if (depth < 0)
			return (int)depth;
		node = 0;
		for (m = 0; m < FM_COUNT; m++)
			fl->values[0][m] += v[m];
		for (k = depth; k > 0; k--) {
			node = flame_child(fl, (uint32_t)node, ids[k - 1]);
			if (node < 0)
				return (int)node;
			for (m = 0; m < FM_COUNT; m++)
				fl->values[node][m] += v[m];
		}
	}
	return 0;
}

/* "flame": { "nodes": [[parent, frame, v...], ...] }, trailing zero values left out. */
static int write_flame(struct mh_json *j, struct mh_frametab *t, const struct mh_process *p)
{
	struct flame fl = { 0 };
	size_t i;
	int m, last, err = flame_build(&fl, t, p);

	mh_json_object_begin(j, "flame");
	mh_json_array_begin(j, "known");
	for (m = 0; m < FM_COUNT; m++)
		mh_json_bool(j, NULL, !fm_info[m].known || fm_info[m].known(p));
	mh_json_array_end(j);
	mh_json_array_begin(j, "nodes");
	for (i = 0; i < fl.count && !err; i++) {
		mh_json_array_begin(j, NULL);
		mh_json_int(j, NULL, i ? (int64_t)fl.nodes[i].parent : -1);
		mh_json_int(j, NULL, i ? (int64_t)fl.nodes[i].frame : -1);
		for (last = FM_COUNT - 1; last >= 0 && !fl.values[i][last]; last--)
			;
		for (m = 0; m <= last; m++)
			mh_json_uint(j, NULL, fl.values[i][m]);
		mh_json_array_end(j);
	}
	mh_json_array_end(j);
	mh_json_object_end(j);
	flame_free(&fl);
	return err;
}

/* One loss record of p: a stack's blocks of one leak kind. */
struct leak_record {
	const struct mh_stack_stats *st;
	unsigned kind;
};

/* Order of kinds on the page, as memcheck prints them. */
static unsigned kind_rank(unsigned kind)
{
	return kind ? kind : MH_LEAK_KINDS;
}

static int record_cmp(const void *x, const void *y)
{
	const struct leak_record *a = x, *b = y;
	uint64_t ab = a->st->leak_kind_bytes[a->kind], bb = b->st->leak_kind_bytes[b->kind];

	if (a->kind != b->kind)
		return kind_rank(a->kind) < kind_rank(b->kind) ? -1 : 1;
	if (ab != bb)
		return ab < bb ? 1 : -1;
	return a->st->stack_id < b->st->stack_id ? -1 : a->st->stack_id > b->st->stack_id;
}

static int write_leaks(struct mh_json *j, struct mh_frametab *t, const struct mh_process *p)
{
	const struct mh_stack_stats *st;
	struct leak_record *r = NULL, *grown;
	size_t n = 0, cap = 0, i;
	const uint32_t *ids;
	unsigned k;
	long depth = 0, d;

	for (st = p->stacks; st; st = st->hh.next) {
		for (k = 0; k < MH_LEAK_KINDS; k++) {
			if (!st->leak_kind_blocks[k])
				continue;
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				grown = realloc(r, cap * sizeof(*r));
				if (!grown) {
					free(r);
					return -ENOMEM;
				}
				r = grown;
			}
			r[n++] = (struct leak_record){ .st = st, .kind = k };
		}
	}
	if (n)
		qsort(r, n, sizeof(*r), record_cmp);
	mh_json_uint(j, "leak_records_total", n);
	mh_json_array_begin(j, "leaks");
	for (i = 0; i < n && i < MH_HTML_LEAK_RECORDS && depth >= 0; i++) {
		depth = mh_frametab_stack(t, r[i].st, &ids);
		mh_json_object_begin(j, NULL);
		mh_json_string(j, "kind", mh_leak_kind_name(r[i].kind));
		mh_json_uint(j, "bytes", r[i].st->leak_kind_bytes[r[i].kind]);
		mh_json_uint(j, "blocks", r[i].st->leak_kind_blocks[r[i].kind]);
		mh_json_array_begin(j, "frames");
		for (d = 0; d < depth; d++)
			mh_json_uint(j, NULL, ids[d]);
		mh_json_array_end(j);
		mh_json_object_end(j);
	}
	mh_json_array_end(j);
	free(r);
	return depth < 0 ? (int)depth : 0;
}

/* p's modules with their address ranges, for the pmap-like table. */
static void write_modules(struct mh_report_ctx *ctx, struct mh_json *j,
			  const struct mh_process *p)
{
	const struct mh_module *mod;
	unsigned i;

	mh_json_array_begin(j, "modules");
	for (mod = mh_modmap_first(ctx->rp->modules); mod; mod = mod->next) {
		if (mod->pid != p->pid)
			continue;
		for (i = 0; i < mod->segment_count; i++) {
			const struct mh_module_segment *seg = &mod->segments[i];

			mh_json_object_begin(j, NULL);
			mh_json_string(j, "path", mod->path);
			mh_json_hex(j, "start", seg->start);
			mh_json_hex(j, "end", seg->start + seg->size);
			mh_json_hex(j, "offset", seg->file_offset);
			mh_json_uint(j, "prot", seg->prot);
			mh_json_object_end(j);
		}
	}
	mh_json_array_end(j);
}

/* The streams p has no figures from, each with what that leaves unknown. */
static void write_missing(struct mh_report_ctx *ctx, struct mh_json *j,
			  const struct mh_process *p)
{
	const char *kstat = ctx->rp->kernel_status;
	char why[512], line[768];

	mh_json_array_begin(j, "missing");
	if (!mh_report_has_kernel(p)) {
		snprintf(line, sizeof(line), "kernel stream: %s; page faults, swap-ins and reclaim"
			 " stalls are unknown", kstat && strcmp(kstat, "on") ? kstat :
			 "no kernel record about this process");
		mh_json_string(j, NULL, line);
	}
	if (!mh_report_has_rss(p))
		mh_json_string(j, NULL, "RSS: neither kernel rss_stat nor /proc samples; the RSS"
			       " over time is unknown");
	if (!mh_report_has_residency(p))
		mh_json_string(j, NULL, "pagemap snapshots: none of this process; resident bytes"
			       " per stack and the retained free heap are unknown");
	if (mh_report_unscanned_why(p, why, sizeof(why))) {
		snprintf(line, sizeof(line), "exit-time leak scan: %s; leak kinds are unknown", why);
		mh_json_string(j, NULL, line);
	}
	if (mh_report_events_lost(ctx))
		mh_json_string(j, NULL, "events were lost: every count is a lower bound");
	mh_json_array_end(j);
}

/* The text report's summary of p, as one string. */
static int write_text_summary(struct mh_report_ctx *ctx, struct mh_json *j,
			      const struct mh_process *p)
{
	FILE *saved = ctx->out;
	char *text = NULL;
	size_t len = 0;

	ctx->out = open_memstream(&text, &len);
	if (!ctx->out) {
		ctx->out = saved;
		return -ENOMEM;
	}
	mh_report_text_summary(ctx, p);
	fclose(ctx->out);
	ctx->out = saved;
	mh_json_string(j, "text", text);
	free(text);
	return 0;
}

static int write_process(struct mh_report_ctx *ctx, struct mh_json *j, struct mh_frametab *t,
			 const struct mh_process *p)
{
	int err;

	mh_json_object_begin(j, NULL);
	mh_json_uint(j, "pid", p->pid);
	mh_json_uint(j, "ppid", p->ppid);
	mh_json_bool(j, "root", p == mh_report_root(ctx));
	err = write_text_summary(ctx, j, p);
	write_missing(ctx, j, p);
	mh_report_json_summary(ctx, j, p);
	mh_report_json_timeline(j, p);
	mh_report_json_stack_timeline(ctx, j, p);
	mh_report_json_mappings(ctx, j, p);
	write_modules(ctx, j, p);
	if (!err)
		err = write_flame(j, t, p);
	if (!err)
		err = write_leaks(j, t, p);
	mh_json_object_end(j);
	return err;
}

/* Columns of the frame table; modules by index into "modules". */
static int write_frames(struct mh_json *j, const struct mh_frametab *t)
{
	struct mh_intern *mods = mh_intern_new();
	size_t i, n = mh_frametab_count(t);
	long m;

	if (!mods)
		return -ENOMEM;
	mh_json_object_begin(j, "frames");
	mh_json_array_begin(j, "name");
	for (i = 0; i < n; i++)
		mh_json_string(j, NULL, mh_frametab_name(t, i));
	mh_json_array_end(j);
	mh_json_array_begin(j, "file");
	for (i = 0; i < n; i++)
		mh_json_string(j, NULL, mh_frametab_frame(t, i)->file);
	mh_json_array_end(j);
	mh_json_array_begin(j, "line");
	for (i = 0; i < n; i++)
		mh_json_uint(j, NULL, mh_frametab_frame(t, i)->line);
	mh_json_array_end(j);
	mh_json_array_begin(j, "module");
	for (i = 0, m = 0; i < n && m >= 0; i++) {
		const struct mh_module *mod = mh_frametab_frame(t, i)->module;

		m = mod ? mh_intern_str(mods, mod->path) : -1;
		mh_json_int(j, NULL, m < 0 ? -1 : m);
	}
	mh_json_array_end(j);
	mh_json_array_begin(j, "modules");
	for (i = 0; i < mh_intern_count(mods); i++)
		mh_json_string(j, NULL, mh_intern_key(mods, i, NULL));
	mh_json_array_end(j);
	mh_json_object_end(j);
	mh_intern_free(mods);
	return 0;
}

static void write_metrics(struct mh_json *j)
{
	unsigned m;

	mh_json_array_begin(j, "metrics");
	for (m = 0; m < FM_COUNT; m++) {
		mh_json_object_begin(j, NULL);
		mh_json_string(j, "key", fm_info[m].key);
		mh_json_string(j, "label", fm_info[m].label);
		mh_json_string(j, "unit", fm_info[m].unit);
		mh_json_object_end(j);
	}
	mh_json_array_end(j);
}

int mh_html_write_data(struct mh_report_ctx *ctx, struct mh_json *j)
{
	struct mh_frametab *t = mh_frametab_new(ctx);
	const struct mh_process *p, *root = mh_report_root(ctx);
	int err = 0;

	if (!t)
		return -ENOMEM;
	mh_json_object_begin(j, NULL);
	mh_json_string(j, "trace", ctx->path);
	mh_json_bool(j, "truncated", ctx->truncated);
	mh_json_uint(j, "events_lost", mh_report_events_lost(ctx));
	mh_json_string(j, "kernel_status", ctx->rp->kernel_status);
	write_metrics(j);
	mh_json_array_begin(j, "processes");
	if (root)
		err = write_process(ctx, j, t, root);
	for (p = ctx->rp->procs; p && !err; p = p->next) {
		if (p != root)
			err = write_process(ctx, j, t, p);
	}
	mh_json_array_end(j);
	if (!err)
		err = write_frames(j, t);
	mh_json_object_end(j);
	mh_frametab_free(t);
	return err;
}
