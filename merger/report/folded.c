// SPDX-License-Identifier: MIT
/*
 * folded.c - folded stacks for flamegraph.pl and friends: one line
 * per stack, "outermost;...;innermost value", value chosen by --value.
 *
 * Must never write a frame name containing ';' or a newline: they would
 * split the line differently; such bytes become '_'.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "merger/report/model.h"

/* Frame names of one stack, innermost first, collected before printing. */
struct collected {
	char **names;
	size_t count, cap;
};

static char *frame_name(const struct mh_frame *f)
{
	char buf[PATH_MAX + 32], *name, *c;

	name = strdup(mh_report_frame_name(f, buf, sizeof(buf)));
	for (c = name; c && *c; c++) {
		if (*c == ';' || *c == '\n')
			*c = '_';
	}
	return name;
}

static int collect(const struct mh_frame *f, void *arg)
{
	struct collected *c = arg;
	char **grown;

	if (c->count == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 32;
		grown = realloc(c->names, c->cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		c->names = grown;
	}
	c->names[c->count] = frame_name(f);
	if (!c->names[c->count])
		return -ENOMEM;
	c->count++;
	return 0;
}

static int write_stack(struct mh_report_ctx *ctx, const struct mh_process *p,
		       const struct mh_stack_stats *st, uint64_t value, bool prefix_pid)
{
	struct collected c = { 0 };
	size_t i;
	int err = mh_report_frames(ctx, st, collect, &c);

	if (!err) {
		if (prefix_pid)
			fprintf(ctx->out, "%s [%u];", p->command ? p->command : "?", p->pid);
		for (i = c.count; i > 0; i--)
			fprintf(ctx->out, "%s%s", c.names[i - 1], i > 1 ? ";" : "");
		fprintf(ctx->out, " %" PRIu64 "\n", value);
	}
	for (i = 0; i < c.count; i++)
		free(c.names[i]);
	free(c.names);
	return err;
}

int mh_report_write_folded(struct mh_report_ctx *ctx)
{
	enum mh_report_key key = ctx->opts->value;
	const struct mh_process *p;
	struct mh_stack_stats **v;
	bool several = ctx->rp->procs && ctx->rp->procs->next;
	size_t n, i;
	uint64_t value;
	int err = 0;

	for (p = ctx->rp->procs; p && !err; p = p->next) {
		v = mh_report_sorted(p, key, ctx->opts->top, &n);
		for (i = 0; i < n && !err; i++) {
			value = mh_report_metric(p, v[i], key);
			if (value)
				err = write_stack(ctx, p, v[i], value, several);
		}
		free(v);
	}
	return err;
}
