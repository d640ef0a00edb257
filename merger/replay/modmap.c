// SPDX-License-Identifier: MIT
/*
 * modmap.c - per-process module maps over time (uthash keyed by pid).
 *
 * Must never drop a module object before the map is freed: stacks hold
 * pointers to the modules that were active when they were captured.
 */
#include "merger/replay/modmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

/* Active modules of one process. */
struct pid_map {
	uint32_t pid;
	unsigned count, cap;
	struct mh_module **active;
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

	if (p)
		p->count = 0;
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

/* One lookup of pid for a whole stack: a lookup per frame was half of resolving it. */
void mh_modmap_lookup(struct mh_modmap *m, uint32_t pid, const uint64_t *ips, unsigned n,
		      struct mh_module **out)
{
	struct pid_map *p = pid_get(m, pid, false);

	if (!p)
		return;
	for (unsigned k = 0; k < n; k++) {
		if (out[k])
			continue;
		for (unsigned i = 0; i < p->count; i++) {
			if (mh_module_contains(p->active[i], ips[k])) {
				out[k] = p->active[i];
				break;
			}
		}
	}
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
