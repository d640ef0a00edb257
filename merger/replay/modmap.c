// SPDX-License-Identifier: MIT
/*
 * modmap.c - per-process module maps over time (uthash keyed by pid).
 *
 * Must never drop a module object before the map is freed: stacks hold
 * pointers to the modules that were active when they were captured.
 *
 * A frame's module is the first of its process's active modules (in the
 * order of p->active, which loads append to and unloads swap into) whose
 * segments cover it: the module of the moment the stack was first used.
 * Scanning them for each frame cost 104M instructions of python3's report
 * (800K frames, callgrind). So a process's map is also kept as spans:
 * sorted, disjoint address ranges, each naming the module that rule picks
 * there, rebuilt at the first lookup after the active set changed, and
 * searched by binary search behind a one-entry cache that answers 97% of
 * frames: 23M instructions. mh_modmap_lookup_any() still walks every
 * module: it runs only for frames no active module covered (19 in cc1's
 * report).
 */
#include "merger/replay/modmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

/* Addresses first .. last (inclusive: a segment may end at 2^64) answered by mod. */
struct span {
	uint64_t first, last;
	struct mh_module *mod;
};

/* Active modules of one process. */
struct pid_map {
	uint32_t pid;
	unsigned count, cap;
	struct mh_module **active;	/* the first one covering an address owns it */
	struct span *spans;		/* the same answers by address; valid unless stale */
	unsigned span_count, span_cap;
	unsigned last_hit;		/* the span that answered last */
	bool stale;
	UT_hash_handle hh;
};

/* The newest module of a file at a load bias: key is the bias, then the path. */
struct placed {
	char *key;
	size_t key_len;
	struct mh_module *mod;
	UT_hash_handle hh;
};

struct mh_modmap {
	struct pid_map *pids;
	struct placed *placed;		/* every (bias, path) seen: one lookup, not a walk */
	struct mh_module *first, *last;
};

struct mh_modmap *mh_modmap_new(void)
{
	return calloc(1, sizeof(struct mh_modmap));
}

void mh_modmap_free(struct mh_modmap *m)
{
	struct pid_map *p, *tmp;
	struct mh_module *mod, *next;
	struct placed *pl, *pltmp;

	if (!m)
		return;
	HASH_ITER(hh, m->placed, pl, pltmp) {
		HASH_DEL(m->placed, pl);
		free(pl->key);
		free(pl);
	}
	HASH_ITER(hh, m->pids, p, tmp) {
		HASH_DEL(m->pids, p);
		free(p->active);
		free(p->spans);
		free(p);
	}
	for (mod = m->first; mod; mod = next) {
		next = mod->next;
		free(mod->path);
		free(mod->segments);
		free(mod);
	}
	free(m);
}

static struct pid_map *pid_get(struct mh_modmap *m, uint32_t pid, bool create)
{
	struct pid_map *p;

	HASH_FIND(hh, m->pids, &pid, sizeof(pid), p);
	if (p || !create)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	p->stale = true;
	HASH_ADD(hh, m->pids, pid, sizeof(p->pid), p);
	return p;
}

static int pid_activate(struct pid_map *p, struct mh_module *mod)
{
	struct mh_module **grown;
	unsigned i;

	for (i = 0; i < p->count; i++) {
		if (p->active[i] == mod)
			return 0;
	}
	if (p->count == p->cap) {
		unsigned cap = p->cap ? 2 * p->cap : 16;

		grown = realloc(p->active, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		p->active = grown;
		p->cap = cap;
	}
	p->active[p->count++] = mod;
	p->stale = true;
	return 0;
}

/* The key of a file at a place: its load bias, then its path. malloc'd; NULL on ENOMEM. */
static char *place_key(const char *path, size_t path_len, uint64_t bias, size_t *len)
{
	char *key = malloc(sizeof(bias) + path_len);

	if (key) {
		memcpy(key, &bias, sizeof(bias));
		memcpy(key + sizeof(bias), path, path_len);
	}
	*len = sizeof(bias) + path_len;
	return key;
}

/*
 * Same file at the same place: reuse the object (fork children, re-sends).
 * A trace of many processes holds many modules: found by hash.
 */
static struct mh_module *module_find(struct mh_modmap *m, const char *path, size_t path_len,
				     uint64_t bias)
{
	struct placed *pl;
	size_t len;
	char *key = place_key(path, path_len, bias, &len);

	if (!key)
		return NULL;	/* a new object then: correct, only less shared */
	HASH_FIND(hh, m->placed, key, len, pl);
	free(key);
	return pl && !pl->mod->unload_ts_ns ? pl->mod : NULL;
}

/* Make mod the one module_find() answers for its file and place. 0 or -ENOMEM. */
static int module_place(struct mh_modmap *m, struct mh_module *mod)
{
	struct placed *pl, *old;
	size_t len;

	pl = calloc(1, sizeof(*pl));
	if (pl)
		pl->key = place_key(mod->path, strlen(mod->path), mod->load_bias, &len);
	if (!pl || !pl->key) {
		free(pl);
		return -ENOMEM;
	}
	pl->key_len = len;
	pl->mod = mod;
	HASH_REPLACE(hh, m->placed, key[0], pl->key_len, pl, old);
	if (old) {
		free(old->key);
		free(old);
	}
	return 0;
}

static struct mh_module *module_create(const struct mh_rec_module *rec, const char *path)
{
	const struct mh_module_segment *segs = (const void *)(rec + 1);
	struct mh_module *mod = calloc(1, sizeof(*mod));

	if (!mod)
		return NULL;
	mod->path = strndup(path, rec->path_len);
	mod->segments = malloc((rec->segment_count ? rec->segment_count : 1) * sizeof(*segs));
	if (!mod->path || !mod->segments) {
		free(mod->path);
		free(mod->segments);
		free(mod);
		return NULL;
	}
	memcpy(mod->segments, segs, rec->segment_count * sizeof(*segs));
	mod->segment_count = rec->segment_count;
	mod->load_bias = rec->load_bias;
	mod->load_ts_ns = rec->ts_ns;
	mod->pid = rec->pid;
	mod->build_id_len = rec->build_id_len > MH_BUILD_ID_MAX ? MH_BUILD_ID_MAX :
				rec->build_id_len;
	memcpy(mod->build_id, rec->build_id, mod->build_id_len);
	return mod;
}

int mh_modmap_load(struct mh_modmap *m, const struct mh_rec_module *rec)
{
	size_t fixed = sizeof(*rec) + (size_t)rec->segment_count * sizeof(struct mh_module_segment);
	const char *path = (const char *)rec + fixed;
	struct mh_module *mod;
	struct pid_map *p;

	if (rec->hdr.size < fixed || rec->hdr.size - fixed < (size_t)rec->path_len + 1)
		return -EBADMSG;
	mod = module_find(m, path, rec->path_len, rec->load_bias);
	if (!mod) {
		mod = module_create(rec, path);
		if (!mod)
			return -ENOMEM;
		if (m->last)
			m->last->next = mod;
		else
			m->first = mod;
		m->last = mod;
		if (module_place(m, mod))
			return -ENOMEM;
	}
	p = pid_get(m, rec->pid, true);
	if (!p)
		return -ENOMEM;
	return pid_activate(p, mod);
}

void mh_modmap_unload(struct mh_modmap *m, const struct mh_rec_module_unload *rec)
{
	struct pid_map *p = pid_get(m, rec->pid, false);
	unsigned i;

	if (!p)
		return;
	for (i = 0; i < p->count; i++) {
		if (p->active[i]->load_bias != rec->load_bias)
			continue;
		p->active[i]->unload_ts_ns = rec->ts_ns;
		p->active[i] = p->active[--p->count];
		p->stale = true;
		return;
	}
}

int mh_modmap_fork(struct mh_modmap *m, uint32_t parent, uint32_t child)
{
	struct pid_map *pp = pid_get(m, parent, false);
	struct pid_map *cp;
	unsigned i;
	int err;

	if (!pp || pid_get(m, child, false))
		return 0;
	cp = pid_get(m, child, true);
	if (!cp)
		return -ENOMEM;
	for (i = 0; i < pp->count; i++) {
		err = pid_activate(cp, pp->active[i]);
		if (err)
			return err;
	}
	return 0;
}

void mh_modmap_exec(struct mh_modmap *m, uint32_t pid)
{
	struct pid_map *p = pid_get(m, pid, false);

	if (p) {
		p->count = 0;
		p->stale = true;
	}
}

bool mh_module_contains(const struct mh_module *mod, uint64_t ip)
{
	unsigned i;

	for (i = 0; i < mod->segment_count; i++) {
		if (ip - mod->segments[i].start < mod->segments[i].size)
			return true;
	}
	return false;
}

/* The module the scan of p->active in its order would answer for ip, or NULL. */
static struct mh_module *first_active(const struct pid_map *p, uint64_t ip)
{
	for (unsigned i = 0; i < p->count; i++)
		if (mh_module_contains(p->active[i], ip))
			return p->active[i];
	return NULL;
}

static int by_value(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/*
 * Where a segment's coverage begins or ends (its end taken modulo 2^64, as
 * mh_module_contains() takes it), with 0: between two neighbouring cuts
 * every address has the same covering modules. Sorted, unique; malloc'd,
 * NULL on ENOMEM.
 */
static uint64_t *span_cuts(const struct pid_map *p, unsigned *count)
{
	size_t n = 1, k = 1;
	uint64_t *cuts;

	for (unsigned i = 0; i < p->count; i++)
		n += 2 * (size_t)p->active[i]->segment_count;
	cuts = malloc(n * sizeof(*cuts));
	if (!cuts)
		return NULL;
	cuts[0] = 0;
	for (unsigned i = 0; i < p->count; i++) {
		const struct mh_module *mod = p->active[i];

		for (unsigned j = 0; j < mod->segment_count; j++) {
			cuts[k++] = mod->segments[j].start;
			cuts[k++] = mod->segments[j].start + mod->segments[j].size;
		}
	}
	qsort(cuts, k, sizeof(*cuts), by_value);
	n = 1;
	for (size_t i = 1; i < k; i++)
		if (cuts[i] != cuts[n - 1])
			cuts[n++] = cuts[i];
	*count = n;
	return cuts;
}

/* Rebuild p->spans from p->active: the owner of each stretch between cuts. 0 or -ENOMEM. */
static int spans_build(struct pid_map *p)
{
	struct span *s, *grown;
	struct mh_module *mod;
	unsigned n, i;
	uint64_t *cuts = span_cuts(p, &n);

	if (!cuts)
		return -ENOMEM;
	if (n > p->span_cap) {
		grown = reallocarray(p->spans, n, sizeof(*grown));
		if (!grown) {
			free(cuts);
			return -ENOMEM;
		}
		p->spans = grown;
		p->span_cap = n;
	}
	p->span_count = 0;
	for (i = 0; i < n; i++) {
		uint64_t last = i + 1 < n ? cuts[i + 1] - 1 : UINT64_MAX;

		mod = first_active(p, cuts[i]);
		s = p->span_count ? &p->spans[p->span_count - 1] : NULL;
		if (!mod)
			continue;
		if (s && s->mod == mod && s->last + 1 == cuts[i])
			s->last = last;		/* the same owner goes on */
		else
			p->spans[p->span_count++] = (struct span){ cuts[i], last, mod };
	}
	free(cuts);
	p->last_hit = 0;
	p->stale = false;
	return 0;
}

/* The module of the span covering ip, or NULL. p's spans are current. */
static struct mh_module *span_owner(struct pid_map *p, uint64_t ip)
{
	const struct span *s = &p->spans[p->last_hit];
	unsigned lo = 0, hi = p->span_count;

	/* Frames of a stack and stacks in a row mostly stay in one library. */
	if (hi && ip - s->first <= s->last - s->first)
		return s->mod;
	while (lo < hi) {	/* lo: the first span starting above ip */
		unsigned mid = lo + (hi - lo) / 2;

		if (p->spans[mid].first <= ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || ip > p->spans[lo - 1].last)
		return NULL;
	p->last_hit = lo - 1;
	return p->spans[lo - 1].mod;
}

/* One lookup of pid for a whole stack: a lookup per frame was half of resolving it. */
void mh_modmap_lookup(struct mh_modmap *m, uint32_t pid, const uint64_t *ips, unsigned n,
		      struct mh_module **out)
{
	struct pid_map *p = pid_get(m, pid, false);
	bool scan;

	if (!p)
		return;
	/* Without memory for the spans, the scan they stand for gives the same answers. */
	scan = p->stale && spans_build(p);
	for (unsigned k = 0; k < n; k++)
		if (!out[k])
			out[k] = scan ? first_active(p, ips[k]) : span_owner(p, ips[k]);
}

struct mh_module *mh_modmap_lookup_any(struct mh_modmap *m, uint32_t pid, uint64_t ip)
{
	struct mh_module *mod, *other = NULL;

	for (mod = m->first; mod; mod = mod->next) {
		if (!mh_module_contains(mod, ip))
			continue;
		if (mod->pid == pid)
			return mod;
		if (!other)
			other = mod;
	}
	/* A forked child inherits its parent's modules without re-sending them. */
	return other;
}

struct mh_module *mh_modmap_first(struct mh_modmap *m)
{
	return m->first;
}

const char *mh_module_basename(const struct mh_module *mod)
{
	const char *slash = strrchr(mod->path, '/');

	return slash ? slash + 1 : mod->path;
}
