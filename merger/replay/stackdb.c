// SPDX-License-Identifier: MIT
/*
 * stackdb.c - stack records (uthash keyed by content-hash id) and the
 * per-process per-stack aggregates.
 *
 * Must never hold anything per event: only per distinct stack.
 */
#include "merger/replay/stackdb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "merger/replay/modmap.h"

/* Stack ids are already content hashes: use their low bits directly. */
#undef HASH_FUNCTION
#define HASH_FUNCTION(keyptr, keylen, hashv) \
	((hashv) = (uint32_t)(*(const uint64_t *)(keyptr) ^ (*(const uint64_t *)(keyptr) >> 32)))

struct mh_stackdb {
	struct mh_stack_info *table;
};

struct mh_stackdb *mh_stackdb_new(void)
{
	return calloc(1, sizeof(struct mh_stackdb));
}

void mh_stackdb_free(struct mh_stackdb *db)
{
	struct mh_stack_info *s, *tmp;

	if (!db)
		return;
	HASH_ITER(hh, db->table, s, tmp) {
		HASH_DEL(db->table, s);
		free(s->ips);
		free(s->modules);
		free(s);
	}
	free(db);
}

int mh_stackdb_add(struct mh_stackdb *db, uint64_t id, uint32_t pid, uint16_t flags,
		   const uint64_t *ips, uint16_t depth)
{
	struct mh_stack_info *s = mh_stackdb_find(db, id);
	size_t n = depth ? depth : 1;

	if (s)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ips = malloc(n * sizeof(*s->ips));
	s->modules = calloc(n, sizeof(*s->modules));
	if (!s->ips || !s->modules) {
		free(s->ips);
		free(s->modules);
		free(s);
		return -ENOMEM;
	}
	memcpy(s->ips, ips, depth * sizeof(*ips));
	s->id = id;
	s->pid = pid;
	s->depth = depth;
	s->flags = flags;
	HASH_ADD(hh, db->table, id, sizeof(s->id), s);
	return 0;
}

struct mh_stack_info *mh_stackdb_find(struct mh_stackdb *db, uint64_t id)
{
	struct mh_stack_info *s;

	HASH_FIND(hh, db->table, &id, sizeof(id), s);
	return s;
}

void mh_stack_resolve(struct mh_stack_info *info, struct mh_modmap *m, bool any)
{
	if (!any)
		mh_modmap_lookup(m, info->pid, info->ips, info->depth, info->modules);
	else
		for (unsigned i = 0; i < info->depth; i++)
			if (!info->modules[i])
				info->modules[i] = mh_modmap_lookup_any(m, info->pid, info->ips[i]);
	info->resolved = true;
}

struct mh_stack_stats *mh_stack_stats_find(struct mh_stack_stats **table, uint64_t id)
{
	struct mh_stack_stats *st;

	HASH_FIND(hh, *table, &id, sizeof(id), st);
	return st;
}

struct mh_stack_stats *mh_stack_stats_get(struct mh_stack_stats **table, uint64_t id,
					  uint64_t peak_ver)
{
	struct mh_stack_stats *st = mh_stack_stats_find(table, id);

	if (st)
		return st;
	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->stack_id = id;
	st->peak_ver = peak_ver;
	HASH_ADD(hh, *table, stack_id, sizeof(st->stack_id), st);
	return st;
}

void mh_stack_stats_free_all(struct mh_stack_stats **table)
{
	struct mh_stack_stats *st, *tmp;

	HASH_ITER(hh, *table, st, tmp) {
		HASH_DEL(*table, st);
		free(st);
	}
}
