// SPDX-License-Identifier: MIT
/*
 * pprof.c - the pprof format: a gzip-compressed profile.proto
 * (merger/report/profile.proto) for `go tool pprof`, Pyroscope and
 * Grafana. Sample types are named as Go's heap profiles name them
 * (alloc_objects, alloc_space, inuse_objects, inuse_space; "in use" is
 * live at exit, the leaks), then resident_space, faults and swapins when
 * the trace has them. Every stack of every process is one sample;
 * locations carry their symbolized (inlined) lines, mappings their
 * build-ids so a pprof server can symbolize again.
 *
 * Must never write a value the trace does not have: a sample type whose
 * source is missing is left out and a comment in the profile says why.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>
#include <zlib.h>

#include "merger/replay/modmap.h"
#include "merger/report/intern.h"
#include "merger/report/profile.pb-c.h"
#include "merger/report/model.h"

typedef Perftools__Profiles__Profile Profile;
typedef Perftools__Profiles__ValueType ValueType;
typedef Perftools__Profiles__Sample Sample;
typedef Perftools__Profiles__Label Label;
typedef Perftools__Profiles__Mapping Mapping;
typedef Perftools__Profiles__Location Location;
typedef Perftools__Profiles__Line Line;
typedef Perftools__Profiles__Function Function;

/* Bytes of compressed output buffered before each write. */
#define GZ_CHUNK 65536
/* gzip framing for deflateInit2(): 15-bit window + 16. */
#define GZ_WINDOW_BITS (15 + 16)
/* deflateInit2()'s default memory level. */
#define GZ_MEM_LEVEL 8
/* Inlined frames one return address may expand to. */
#define MAX_LINES 64

enum value_id {
	V_ALLOC_OBJECTS,
	V_ALLOC_SPACE,
	V_INUSE_OBJECTS,
	V_INUSE_SPACE,
	V_RESIDENT,
	V_FAULTS,
	V_SWAPINS,
	V_COUNT,
};

static const char *const value_names[V_COUNT][2] = {
	[V_ALLOC_OBJECTS] = { "alloc_objects", "count" },
	[V_ALLOC_SPACE] = { "alloc_space", "bytes" },
	[V_INUSE_OBJECTS] = { "inuse_objects", "count" },
	[V_INUSE_SPACE] = { "inuse_space", "bytes" },
	[V_RESIDENT] = { "resident_space", "bytes" },
	[V_FAULTS] = { "faults", "count" },
	[V_SWAPINS] = { "swapins", "count" },
};

struct loc_key {
	const struct mh_module *module;
	uint64_t ip;
};

struct loc_entry {
	struct loc_key key;
	uint64_t id;
	UT_hash_handle hh;
};

struct map_entry {
	const struct mh_module *module;	/* key */
	Mapping *m;
	UT_hash_handle hh;
};

/* A growable array of message pointers. */
struct vec {
	void **v;
	size_t n, cap;
};

struct pprof {
	struct mh_report_ctx *ctx;
	Profile prof;
	struct mh_intern *strings;
	struct mh_intern *functions;	/* "name\x1ffile" -> index (id - 1) */
	struct loc_entry *locs;
	struct map_entry *maps;
	struct vec samples, locations, funcs, mappings, types;
	bool have[V_COUNT];		/* which values are written */
	unsigned nvalues;
	bool several;			/* more than one process: label samples */
	bool nomem;			/* a string could not be interned */
	/* The stack being turned into a sample. */
	struct vec ids;			/* location ids, as (void *)(uintptr_t) */
	const struct mh_frame *pending[MAX_LINES];
	unsigned npending;
};

static int vec_push(struct vec *v, void *item)
{
	void **grown;

	if (!item)
		return -ENOMEM;
	if (v->n == v->cap) {
		v->cap = v->cap ? 2 * v->cap : 64;
		grown = realloc(v->v, v->cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		v->v = grown;
	}
	v->v[v->n++] = item;
	return 0;
}

static int64_t str(struct pprof *pp, const char *s)
{
	long i = mh_intern_str(pp->strings, s);

	if (i >= 0)
		return i;
	pp->nomem = true;
	return 0;
}

static Mapping *mapping_of(struct pprof *pp, const struct mh_module *mod)
{
	struct map_entry *e;

	HASH_FIND_PTR(pp->maps, &mod, e);
	return e ? e->m : NULL;
}

static int add_mapping(struct pprof *pp, const struct mh_module *mod)
{
	const struct mh_module_segment *seg = NULL;
	char build_id[2 * MH_BUILD_ID_MAX + 1];
	struct map_entry *e;
	Mapping *m;
	unsigned i;

	for (i = 0; i < mod->segment_count && !seg; i++) {
		if (mod->segments[i].prot & 4 /* PROT_EXEC */)
			seg = &mod->segments[i];
	}
	if (!seg && mod->segment_count)
		seg = &mod->segments[0];
	m = calloc(1, sizeof(*m));
	e = calloc(1, sizeof(*e));
	if (!m || !e || vec_push(&pp->mappings, m)) {
		free(m);
		free(e);
		return -ENOMEM;
	}
	perftools__profiles__mapping__init(m);
	m->id = pp->mappings.n;
	if (seg) {
		m->memory_start = seg->start;
		m->memory_limit = seg->start + seg->size;
		m->file_offset = seg->file_offset;
	}
	m->filename = str(pp, mod->path);
	for (i = 0; i < mod->build_id_len; i++)
		sprintf(&build_id[2 * i], "%02x", mod->build_id[i]);
	build_id[2 * i] = '\0';
	m->build_id = str(pp, build_id);
	e->module = mod;
	e->m = m;
	HASH_ADD_PTR(pp->maps, module, e);
	return 0;
}

/* Every module; the root's program first, as pprof expects the main binary first. */
static int add_mappings(struct pprof *pp)
{
	const struct mh_process *root = mh_report_root(pp->ctx);
	struct mh_module *mod;
	int err = 0;

	for (mod = mh_modmap_first(pp->ctx->rp->modules); mod && !err; mod = mod->next) {
		if (root && root->command && !strcmp(mod->path, root->command))
			err = add_mapping(pp, mod);
	}
	for (mod = mh_modmap_first(pp->ctx->rp->modules); mod && !err; mod = mod->next) {
		if (!mapping_of(pp, mod))
			err = add_mapping(pp, mod);
	}
	return err;
}

static uint64_t function_id(struct pprof *pp, const struct mh_frame *f)
{
	char *key;
	Function *fn;
	long i;
	int added, n;

	n = asprintf(&key, "%s\x1f%s", f->function, f->file ? f->file : "");
	if (n < 0)
		return 0;
	i = mh_intern_add(pp->functions, key, (size_t)n, &added);
	free(key);
	if (i < 0)
		return 0;
	if (added) {
		fn = calloc(1, sizeof(*fn));
		if (vec_push(&pp->funcs, fn)) {
			free(fn);
			return 0;
		}
		perftools__profiles__function__init(fn);
		fn->id = (uint64_t)i + 1;
		fn->name = str(pp, f->function);
		fn->system_name = fn->name;
		fn->filename = str(pp, f->file);
	}
	return (uint64_t)i + 1;
}

static void note_symbols(Mapping *m, const struct mh_frame *f, unsigned nlines)
{
	if (!m || !f->function)
		return;
	m->has_functions = true;
	if (f->file)
		m->has_filenames = true;
	if (f->line)
		m->has_line_numbers = true;
	if (nlines > 1)
		m->has_inline_frames = true;
}

/* A location for the pending frames of one return address. 0 on ENOMEM. */
static uint64_t location_id(struct pprof *pp)
{
	const struct mh_frame *last = pp->pending[pp->npending - 1];
	struct loc_key key = { .module = last->module, .ip = last->ip };
	struct loc_entry *e;
	Location *loc;
	Mapping *m;
	unsigned i;

	HASH_FIND(hh, pp->locs, &key, sizeof(key), e);
	if (e)
		return e->id;
	loc = calloc(1, sizeof(*loc));
	e = calloc(1, sizeof(*e));
	if (!loc || !e || vec_push(&pp->locations, loc))
		goto fail;
	perftools__profiles__location__init(loc);
	loc->id = pp->locations.n;
	m = last->module ? mapping_of(pp, last->module) : NULL;
	loc->mapping_id = m ? m->id : 0;
	/* A return address: the call instruction ends just before it. */
	loc->address = last->ip ? last->ip - 1 : 0;
	loc->line = calloc(pp->npending, sizeof(*loc->line));
	if (!loc->line) {
		free(e);
		return 0;
	}
	for (i = 0; i < pp->npending; i++) {
		const struct mh_frame *f = pp->pending[i];
		Line *ln;

		if (!f->function)
			continue;	/* left for the pprof server to symbolize */
		ln = calloc(1, sizeof(*ln));
		if (!ln) {
			free(e);
			return 0;
		}
		perftools__profiles__line__init(ln);
		ln->function_id = function_id(pp, f);
		ln->line = f->line;
		loc->line[loc->n_line++] = ln;
		note_symbols(m, f, pp->npending);
	}
	e->key = key;
	e->id = loc->id;
	HASH_ADD(hh, pp->locs, key, sizeof(key), e);
	return e->id;
fail:
	free(loc);
	free(e);
	return 0;
}

/* mh_report_frames() callback: group inlined frames by return address. */
static int collect_frame(const struct mh_frame *f, void *arg)
{
	struct pprof *pp = arg;
	uint64_t id;

	if (pp->npending < MAX_LINES)
		pp->pending[pp->npending++] = f;
	if (f->inlined)
		return 0;
	id = location_id(pp);
	pp->npending = 0;
	return id ? vec_push(&pp->ids, (void *)(uintptr_t)id) : -ENOMEM;
}

static Label *label(struct pprof *pp, const char *key, const char *s, int64_t num)
{
	Label *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	perftools__profiles__label__init(l);
	l->key = str(pp, key);
	if (s)
		l->str = str(pp, s);
	else
		l->num = num;
	return l;
}

static int64_t stack_value(const struct mh_process *p, const struct mh_stack_stats *st,
			   enum value_id v)
{
	switch (v) {
	case V_ALLOC_OBJECTS:
		return (int64_t)st->alloc_calls;
	case V_ALLOC_SPACE:
		return (int64_t)st->bytes_allocated;
	case V_INUSE_OBJECTS:
		return (int64_t)st->live_blocks;
	case V_INUSE_SPACE:
		return (int64_t)st->live_bytes;
	case V_RESIDENT:
		return mh_report_has_residency(p) ? (int64_t)st->resident_bytes : 0;
	case V_FAULTS:
		return mh_report_has_kernel(p) ? (int64_t)st->faults : 0;
	case V_SWAPINS:
		return mh_report_has_kernel(p) ? (int64_t)st->swapins : 0;
	default:
		return 0;
	}
}

static int add_sample(struct pprof *pp, const struct mh_process *p,
		      const struct mh_stack_stats *st)
{
	Sample *s;
	bool any = false;
	unsigned v, k = 0;
	size_t i;
	int err;

	pp->ids.n = 0;
	pp->npending = 0;
	err = mh_report_frames(pp->ctx, st, collect_frame, pp);
	if (err)
		return err < 0 ? err : -ENOMEM;
	s = calloc(1, sizeof(*s));
	if (vec_push(&pp->samples, s)) {
		free(s);
		return -ENOMEM;
	}
	perftools__profiles__sample__init(s);
	s->location_id = calloc(pp->ids.n + 1, sizeof(*s->location_id));
	s->value = calloc(pp->nvalues, sizeof(*s->value));
	s->label = calloc(2, sizeof(*s->label));
	if (!s->location_id || !s->value || !s->label)
		return -ENOMEM;
	for (i = 0; i < pp->ids.n; i++)
		s->location_id[i] = (uint64_t)(uintptr_t)pp->ids.v[i];
	s->n_location_id = pp->ids.n;
	for (v = 0; v < V_COUNT; v++) {
		if (!pp->have[v])
			continue;
		s->value[k] = stack_value(p, st, v);
		any |= s->value[k++] != 0;
	}
	s->n_value = pp->nvalues;
	if (!any) {
		/* Nothing to show (a stack seen only through inherited blocks, freed). */
		pp->samples.n--;
		free(s->location_id);
		free(s->value);
		free(s->label);
		free(s);
		return 0;
	}
	if (pp->several) {
		s->label[s->n_label++] = label(pp, "pid", NULL, p->pid);
		s->label[s->n_label++] = label(pp, "command", p->command ? p->command : "?", 0);
		if (!s->label[0] || !s->label[1])
			return -ENOMEM;
	}
	return 0;
}

static int add_comment(struct pprof *pp, const char *text)
{
	int64_t *grown = realloc(pp->prof.comment, (pp->prof.n_comment + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	pp->prof.comment = grown;
	grown[pp->prof.n_comment++] = str(pp, text);
	return 0;
}

/* Which values every process has; comments for those some process lacks. */
static int choose_values(struct pprof *pp)
{
	const struct mh_process *p;
	char text[160];
	unsigned v;
	int err = 0;

	for (v = V_ALLOC_OBJECTS; v <= V_INUSE_SPACE; v++)
		pp->have[v] = true;
	for (p = pp->ctx->rp->procs; p; p = p->next) {
		pp->have[V_RESIDENT] |= mh_report_has_residency(p);
		pp->have[V_FAULTS] |= mh_report_has_kernel(p);
		pp->have[V_SWAPINS] |= mh_report_has_kernel(p);
	}
	for (p = pp->ctx->rp->procs; p && !err; p = p->next) {
		if (!mh_report_has_residency(p)) {
			snprintf(text, sizeof(text), "process %u: resident_space unknown (no pagemap"
				 " snapshot)", p->pid);
			err = add_comment(pp, text);
		}
		if (!err && !mh_report_has_kernel(p)) {
			snprintf(text, sizeof(text), "process %u: faults and swapins unknown (no kernel"
				 " stream)", p->pid);
			err = add_comment(pp, text);
		}
	}
	pp->nvalues = 0;
	for (v = 0; v < V_COUNT; v++)
		pp->nvalues += pp->have[v];
	return err;
}

static int add_types(struct pprof *pp)
{
	unsigned v;

	for (v = 0; v < V_COUNT; v++) {
		ValueType *t;

		if (!pp->have[v])
			continue;
		t = calloc(1, sizeof(*t));
		if (vec_push(&pp->types, t)) {
			free(t);
			return -ENOMEM;
		}
		perftools__profiles__value_type__init(t);
		t->type = str(pp, value_names[v][0]);
		t->unit = str(pp, value_names[v][1]);
	}
	pp->prof.period_type = calloc(1, sizeof(*pp->prof.period_type));
	if (!pp->prof.period_type)
		return -ENOMEM;
	perftools__profiles__value_type__init(pp->prof.period_type);
	pp->prof.period_type->type = str(pp, "space");
	pp->prof.period_type->unit = str(pp, "bytes");
	/* Every allocation is recorded: nothing is sampled. */
	pp->prof.period = 1;
	pp->prof.default_sample_type = str(pp, value_names[V_INUSE_SPACE][0]);
	return 0;
}

static int build(struct pprof *pp)
{
	const struct mh_process *p, *root = mh_report_root(pp->ctx);
	struct mh_stack_stats *st;
	int err;

	str(pp, "");	/* index 0 is always the empty string */
	pp->several = pp->ctx->rp->procs && pp->ctx->rp->procs->next;
	err = choose_values(pp);
	if (!err)
		err = add_types(pp);
	if (!err && pp->ctx->truncated)
		err = add_comment(pp, "trace truncated: the recorder died or is still writing");
	if (!err && mh_report_events_lost(pp->ctx))
		err = add_comment(pp, "events were lost: values are lower bounds");
	if (!err)
		err = add_mappings(pp);
	for (p = pp->ctx->rp->procs; p && !err; p = p->next) {
		for (st = p->stacks; st && !err; st = st->hh.next)
			err = add_sample(pp, p, st);
	}
	if (err)
		return err;
	if (root)
		pp->prof.duration_nanos = (int64_t)mh_report_duration_ns(root);
	pp->prof.n_sample_type = pp->types.n;
	pp->prof.sample_type = (ValueType **)pp->types.v;
	pp->prof.n_sample = pp->samples.n;
	pp->prof.sample = (Sample **)pp->samples.v;
	pp->prof.n_mapping = pp->mappings.n;
	pp->prof.mapping = (Mapping **)pp->mappings.v;
	pp->prof.n_location = pp->locations.n;
	pp->prof.location = (Location **)pp->locations.v;
	pp->prof.n_function = pp->funcs.n;
	pp->prof.function = (Function **)pp->funcs.v;
	pp->prof.n_string_table = mh_intern_count(pp->strings);
	pp->prof.string_table = mh_intern_keys(pp->strings);
	return 0;
}

/* A ProtobufCBuffer that gzips what is appended into a stream. */
struct gz_buffer {
	ProtobufCBuffer base;
	z_stream zs;
	FILE *out;
	int err;
	unsigned char chunk[GZ_CHUNK];
};

static void gz_run(struct gz_buffer *gz, int flush)
{
	int ret;

	do {
		gz->zs.next_out = gz->chunk;
		gz->zs.avail_out = sizeof(gz->chunk);
		ret = deflate(&gz->zs, flush);
		if (ret == Z_STREAM_ERROR) {
			gz->err = -EIO;
			return;
		}
		if (fwrite(gz->chunk, 1, sizeof(gz->chunk) - gz->zs.avail_out, gz->out) !=
		    sizeof(gz->chunk) - gz->zs.avail_out)
			gz->err = -EIO;
	} while (gz->zs.avail_out == 0 && !gz->err);
}

static void gz_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
	struct gz_buffer *gz = (struct gz_buffer *)b;

	if (gz->err)
		return;
	gz->zs.next_in = (unsigned char *)data;
	gz->zs.avail_in = (uInt)len;
	gz_run(gz, Z_NO_FLUSH);
}

static int write_gzipped(struct pprof *pp)
{
	struct gz_buffer *gz = calloc(1, sizeof(*gz));
	int err;

	if (!gz)
		return -ENOMEM;
	gz->base.append = gz_append;
	gz->out = pp->ctx->out;
	if (deflateInit2(&gz->zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, GZ_WINDOW_BITS, GZ_MEM_LEVEL,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		free(gz);
		return -ENOMEM;
	}
	perftools__profiles__profile__pack_to_buffer(&pp->prof, &gz->base);
	if (!gz->err)
		gz_run(gz, Z_FINISH);
	err = gz->err;
	deflateEnd(&gz->zs);
	free(gz);
	return err;
}

static void vec_free(struct vec *v, void (*fn)(void *))
{
	size_t i;

	for (i = 0; fn && i < v->n; i++)
		fn(v->v[i]);
	free(v->v);
}

static void free_sample(void *x)
{
	Sample *s = x;
	size_t i;

	for (i = 0; i < s->n_label; i++)
		free(s->label[i]);
	free(s->label);
	free(s->location_id);
	free(s->value);
	free(s);
}

static void free_location(void *x)
{
	Location *loc = x;
	size_t i;

	for (i = 0; i < loc->n_line; i++)
		free(loc->line[i]);
	free(loc->line);
	free(loc);
}

static void pprof_free(struct pprof *pp)
{
	struct loc_entry *l, *ltmp;
	struct map_entry *m, *mtmp;

	HASH_ITER(hh, pp->locs, l, ltmp) {
		HASH_DEL(pp->locs, l);
		free(l);
	}
	HASH_ITER(hh, pp->maps, m, mtmp) {
		HASH_DEL(pp->maps, m);
		free(m);
	}
	vec_free(&pp->samples, free_sample);
	vec_free(&pp->locations, free_location);
	vec_free(&pp->funcs, free);
	vec_free(&pp->mappings, free);
	vec_free(&pp->types, free);
	vec_free(&pp->ids, NULL);
	free(pp->prof.period_type);
	free(pp->prof.comment);
	mh_intern_free(pp->strings);
	mh_intern_free(pp->functions);
}

int mh_report_write_pprof(struct mh_report_ctx *ctx)
{
	struct pprof pp = { .ctx = ctx };
	int err = -ENOMEM;

	perftools__profiles__profile__init(&pp.prof);
	pp.strings = mh_intern_new();
	pp.functions = mh_intern_new();
	if (pp.strings && pp.functions)
		err = build(&pp);
	if (!err && pp.nomem)
		err = -ENOMEM;
	if (!err)
		err = write_gzipped(&pp);
	pprof_free(&pp);
	return err;
}
