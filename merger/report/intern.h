/* SPDX-License-Identifier: MIT */
/*
 * intern.h - a table that gives each distinct byte string a dense index
 * (0, 1, 2, ... in order of first appearance), as the pprof string and
 * function tables and the frame tables of speedscope and HTML need.
 *
 * Internal to the report writers. Never prints.
 */
#ifndef MEMHOOK_MERGER_REPORT_INTERN_H
#define MEMHOOK_MERGER_REPORT_INTERN_H

#include <stddef.h>
#include <stdint.h>

struct mh_intern;

/* An empty table. NULL with errno set. */
struct mh_intern *mh_intern_new(void);
/* Free the table and its copies of the keys. Accepts NULL. */
void mh_intern_free(struct mh_intern *in);

/*
 * The index of the len bytes at key, added (as a copy) if new. Returns
 * the index (>= 0) or -ENOMEM; *added (may be NULL) says whether it was new.
 */
long mh_intern_add(struct mh_intern *in, const void *key, size_t len, int *added);
/* As mh_intern_add() for a NUL-terminated string; NULL counts as "". */
long mh_intern_str(struct mh_intern *in, const char *s);

/* Entries so far. */
size_t mh_intern_count(const struct mh_intern *in);
/* The key of entry i, NUL-terminated (its length in *len, may be NULL). */
const char *mh_intern_key(const struct mh_intern *in, size_t i, size_t *len);
/* The keys, in index order, as a NUL-terminated strings array (valid until the next add). */
char **mh_intern_keys(const struct mh_intern *in);

#endif /* MEMHOOK_MERGER_REPORT_INTERN_H */
