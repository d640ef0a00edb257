// SPDX-License-Identifier: MIT
/*
 * intern.c - dense indexes for distinct byte strings (uthash by content,
 * plus an array by index).
 *
 * Memory grows with the distinct keys only. Never prints.
 */
#include "merger/report/intern.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

struct entry {
	char *key;		/* copy, NUL-terminated */
	size_t len;
	size_t index;
	UT_hash_handle hh;
};

struct mh_intern {
	struct entry *table;	/* uthash by key bytes */
	char **keys;		/* by index */
	size_t *lens;
	size_t count, cap;
};

struct mh_intern *mh_intern_new(void)
{
	return calloc(1, sizeof(struct mh_intern));
}

void mh_intern_free(struct mh_intern *in)
{
	struct entry *e, *tmp;

	if (!in)
		return;
	HASH_ITER(hh, in->table, e, tmp) {
		HASH_DEL(in->table, e);
		free(e->key);
		free(e);
	}
	free(in->keys);
	free(in->lens);
	free(in);
}

static int grow(struct mh_intern *in)
{
	size_t cap = in->cap ? 2 * in->cap : 256;
	char **keys = realloc(in->keys, cap * sizeof(*keys));
	size_t *lens;

	if (!keys)
		return -ENOMEM;
	in->keys = keys;
	lens = realloc(in->lens, cap * sizeof(*lens));
	if (!lens)
		return -ENOMEM;
	in->lens = lens;
	in->cap = cap;
	return 0;
}

long mh_intern_add(struct mh_intern *in, const void *key, size_t len, int *added)
{
	struct entry *e;

	if (added)
		*added = 0;
	HASH_FIND(hh, in->table, key, len, e);
	if (e)
		return (long)e->index;
	if (in->count == in->cap && grow(in))
		return -ENOMEM;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->key = malloc(len + 1);
	if (!e->key) {
		free(e);
		return -ENOMEM;
	}
	memcpy(e->key, key, len);
	e->key[len] = '\0';
	e->len = len;
	e->index = in->count;
	HASH_ADD_KEYPTR(hh, in->table, e->key, len, e);
	in->keys[in->count] = e->key;
	in->lens[in->count] = len;
	in->count++;
	if (added)
		*added = 1;
	return (long)e->index;
}

long mh_intern_str(struct mh_intern *in, const char *s)
{
	if (!s)
		s = "";
	return mh_intern_add(in, s, strlen(s), NULL);
}

size_t mh_intern_count(const struct mh_intern *in)
{
	return in->count;
}

const char *mh_intern_key(const struct mh_intern *in, size_t i, size_t *len)
{
	if (i >= in->count)
		return NULL;
	if (len)
		*len = in->lens[i];
	return in->keys[i];
}

char **mh_intern_keys(const struct mh_intern *in)
{
	return in->keys;
}
