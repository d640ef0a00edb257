// SPDX-License-Identifier: MIT
/*
 * speedscope.c - speedscope's JSON file format: per process, one sampled
 * profile per metric (bytes allocated, allocation calls, leaked bytes,
 * resident bytes when a pagemap snapshot was taken), every stack one
 * sample weighted by its value, frames symbolized and shared.
 *
 * Must never write invalid JSON (every string goes through json.c) nor a
 * profile for a figure the trace does not have.
 */
#include <errno.h>
#include <stdlib.h>

#include "merger/report/json_writer.h"
#include "merger/replay/modmap.h"
#include "merger/report/frametab.h"
#include "merger/report/model.h"

#define SPEEDSCOPE_SCHEMA "https://www.speedscope.app/file-format-schema.json"

struct metric {
	enum mh_report_key key;
	const char *title;		/* profile name after the process */
	const char *unit;		/* speedscope's ValueUnit */
	bool (*known)(const struct mh_process *p);	/* NULL: always */
};

static const struct metric metrics[] = {
	{ MH_KEY_ALLOCATED, "bytes allocated", "bytes", NULL },
	{ MH_KEY_CALLS, "allocation calls", "none", NULL },
	{ MH_KEY_LEAKED, "leaked bytes (live at exit)", "bytes", NULL },
	{ MH_KEY_RSS, "resident bytes (last pagemap snapshot)", "bytes", mh_report_has_residency },
};

#define METRIC_COUNT (sizeof(metrics) / sizeof(metrics[0]))

/* One profile: samples root first, as speedscope reads them. */
static int write_profile(struct mh_report_ctx *ctx, struct mh_json *j, struct mh_frametab *t,
			 const struct mh_process *p, const struct metric *m)
{
	struct mh_stack_stats **v;
	const uint32_t *ids;
	uint64_t total = 0, value;
	char name[512];
	size_t n, i;
	long k, depth;
	int err = 0;

	v = mh_report_sorted(p, m->key, 0, &n);
	if (!v && n)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		total += mh_report_metric(p, v[i], m->key);
	snprintf(name, sizeof(name), "%s [%u]: %s", p->command ? p->command : "?", p->pid, m->title);
	mh_json_object_begin(j, NULL);
	mh_json_string(j, "type", "sampled");
	mh_json_string(j, "name", name);
	mh_json_string(j, "unit", m->unit);
	mh_json_uint(j, "startValue", 0);
	mh_json_uint(j, "endValue", total);
	mh_json_array_begin(j, "samples");
	for (i = 0; i < n && !err; i++) {
		if (!mh_report_metric(p, v[i], m->key))
			continue;
		depth = mh_frametab_stack(t, v[i], &ids);
		if (depth < 0) {
			err = (int)depth;
			break;
		}
		mh_json_array_begin(j, NULL);
		for (k = depth; k > 0; k--)
			mh_json_uint(j, NULL, ids[k - 1]);
		mh_json_array_end(j);
	}
	mh_json_array_end(j);
	mh_json_array_begin(j, "weights");
	for (i = 0; i < n; i++) {
		value = mh_report_metric(p, v[i], m->key);
		if (value)
			mh_json_uint(j, NULL, value);
	}
	mh_json_array_end(j);
	mh_json_object_end(j);
	free(v);
	return err;
}

static void write_frames(struct mh_json *j, const struct mh_frametab *t)
{
	size_t i, n = mh_frametab_count(t);

	mh_json_object_begin(j, "shared");
	mh_json_array_begin(j, "frames");
	for (i = 0; i < n; i++) {
		const struct mh_frame *f = mh_frametab_frame(t, i);

		mh_json_object_begin(j, NULL);
		mh_json_string(j, "name", mh_frametab_name(t, i));
		if (f->file)
			mh_json_string(j, "file", f->file);
		else if (f->module)
			mh_json_string(j, "file", f->module->path);
		if (f->line)
			mh_json_uint(j, "line", f->line);
		mh_json_object_end(j);
	}
	mh_json_array_end(j);
	mh_json_object_end(j);
}

static int write_process(struct mh_report_ctx *ctx, struct mh_json *j, struct mh_frametab *t,
			 const struct mh_process *p)
{
	unsigned i;
	int err = 0;

	for (i = 0; i < METRIC_COUNT && !err; i++) {
		if (!metrics[i].known || metrics[i].known(p))
			err = write_profile(ctx, j, t, p, &metrics[i]);
	}
	return err;
}

int mh_report_write_speedscope(struct mh_report_ctx *ctx)
{
	struct mh_frametab *t = mh_frametab_new(ctx);
	const struct mh_process *p, *root = mh_report_root(ctx);
	struct mh_json j;
	char name[512];
	int err = 0;

	if (!t)
		return -ENOMEM;
	snprintf(name, sizeof(name), "memhook report of %s", ctx->path);
	mh_json_init(&j, ctx->out);
	j.compact = true;	/* one number per line would triple the file */
	mh_json_object_begin(&j, NULL);
	mh_json_string(&j, "$schema", SPEEDSCOPE_SCHEMA);
	mh_json_string(&j, "name", name);
	mh_json_string(&j, "exporter", "memhook");
	mh_json_uint(&j, "activeProfileIndex", 0);
	mh_json_array_begin(&j, "profiles");
	/* The root process first: activeProfileIndex 0 is its bytes allocated. */
	if (root)
		err = write_process(ctx, &j, t, root);
	for (p = ctx->rp->procs; p && !err; p = p->next) {
		if (p != root)
			err = write_process(ctx, &j, t, p);
	}
	mh_json_array_end(&j);
	write_frames(&j, t);
	mh_json_object_end(&j);
	mh_json_finish(&j);
	mh_frametab_free(t);
	return err;
}
