// SPDX-License-Identifier: MIT
/*
 * frametab.c - distinct frames of a report's stacks, by (name, file,
 * line, module), with dense indexes (merger/report/intern.c).
 *
 * Frames point into the symbolizer's cache: the table must be freed
 * before the symbolizer. Never prints.
 */
#include "merger/report/frametab.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merger/replay/modmap.h"
#include "merger/report/intern.h"
#include "merger/report/model.h"

struct entry {
	char *name;
	const struct mh_frame *frame;
};

struct mh_frametab {
	struct mh_report_ctx *ctx;
	struct mh_intern *keys;
	struct entry *entries;		/* by index */
	size_t cap;
	uint32_t *ids;			/* of the stack walked last */
	size_t nids, ids_cap;
};

struct mh_frametab *mh_frametab_new(struct mh_report_ctx *ctx)
{
	struct mh_frametab *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ctx = ctx;
	t->keys = mh_intern_new();
	if (!t->keys) {
		free(t);
		return NULL;
	}
	return t;
}

void mh_frametab_free(struct mh_frametab *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < mh_intern_count(t->keys); i++)
		free(t->entries[i].name);
	mh_intern_free(t->keys);
	free(t->entries);
	free(t->ids);
	free(t);
}

static long intern_frame(struct mh_frametab *t, const struct mh_frame *f)
{
	char buf[PATH_MAX + 32], *key;
	const char *name = mh_report_frame_name(f, buf, sizeof(buf));
	struct entry *grown;
	long i;
	int n, added;

	n = asprintf(&key, "%s\x1f%s\x1f%u\x1f%s", name, f->file ? f->file : "", f->line,
		     f->module ? f->module->path : "");
	if (n < 0)
		return -ENOMEM;
	i = mh_intern_add(t->keys, key, (size_t)n, &added);
	free(key);
	if (i < 0 || !added)
		return i;
	if ((size_t)i >= t->cap) {
		t->cap = t->cap ? 2 * t->cap : 256;
		grown = realloc(t->entries, t->cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		t->entries = grown;
	}
	t->entries[i].frame = f;
	t->entries[i].name = strdup(name);
	return t->entries[i].name ? i : -ENOMEM;
}

static int add_frame(const struct mh_frame *f, void *arg)
{
	struct mh_frametab *t = arg;
	uint32_t *grown;
	long i = intern_frame(t, f);

	if (i < 0)
		return (int)i;
	if (t->nids == t->ids_cap) {
		t->ids_cap = t->ids_cap ? 2 * t->ids_cap : 64;
		grown = realloc(t->ids, t->ids_cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		t->ids = grown;
	}
	t->ids[t->nids++] = (uint32_t)i;
	return 0;
}

long mh_frametab_stack(struct mh_frametab *t, const struct mh_stack_stats *st,
		       const uint32_t **ids)
{
	int err;

	t->nids = 0;
	err = mh_report_frames(t->ctx, st, add_frame, t);
	if (err)
		return err < 0 ? err : -ENOMEM;
	*ids = t->ids;
	return (long)t->nids;
}

size_t mh_frametab_count(const struct mh_frametab *t)
{
	return mh_intern_count(t->keys);
}

const char *mh_frametab_name(const struct mh_frametab *t, size_t i)
{
	return t->entries[i].name;
}

const struct mh_frame *mh_frametab_frame(const struct mh_frametab *t, size_t i)
{
	return t->entries[i].frame;
}
