/* SPDX-License-Identifier: MIT */
/*
 * modmap.h - the module map of every traced process over time.
 *
 * Built from MH_REC_MODULE / MH_REC_MODULE_UNLOAD records. A module object
 * lives until the map is freed, so a stack captured while a library was
 * loaded can still be named after the library was dlclose()d: names come
 * from the recorded path and load bias and the file on disk, never from
 * /proc. Never prints.
 */
#ifndef MEMHOOK_MERGER_REPLAY_MODMAP_H
#define MEMHOOK_MERGER_REPLAY_MODMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "memhook/events.h"

struct mh_module {
	char *path;			/* as recorded */
	uint64_t load_bias;		/* runtime address minus ELF vaddr */
	uint64_t load_ts_ns;		/* when it was seen loaded */
	uint64_t unload_ts_ns;		/* when it was seen gone, 0 if never */
	uint32_t pid;			/* first process seen with it */
	uint8_t build_id_len;
	uint8_t build_id[MH_BUILD_ID_MAX];
	unsigned segment_count;
	struct mh_module_segment *segments; /* runtime ranges */
	void *sym;			/* symbolizer state (symbolize.c), NULL until used */
	struct mh_module *next;		/* every module, in load order */
};

struct mh_modmap;

/* An empty map. NULL with errno set. */
struct mh_modmap *mh_modmap_new(void);

/* Free the map and every module. Accepts NULL. */
void mh_modmap_free(struct mh_modmap *m);

/*
 * Apply a MH_REC_MODULE record (rec->hdr.size bytes, validated by the
 * reader): the module becomes active in rec->pid. 0, -EBADMSG when the
 * record's lengths do not fit, -ENOMEM.
 */
int mh_modmap_load(struct mh_modmap *m, const struct mh_rec_module *rec);

/* Apply a MH_REC_MODULE_UNLOAD record. Unknown modules are ignored. */
void mh_modmap_unload(struct mh_modmap *m, const struct mh_rec_module_unload *rec);

/*
 * A forked child starts with its parent's active modules (unless it
 * already reported its own); an exec'd image starts with none.
 */
int mh_modmap_fork(struct mh_modmap *m, uint32_t parent, uint32_t child);
void mh_modmap_exec(struct mh_modmap *m, uint32_t pid);

/*
 * For each of ips[0..n) whose out[] entry is NULL: the module active in
 * pid that contains it, or NULL. Where active modules overlap, the one
 * made active first, an unload moving the last active module into the
 * unloaded one's place.
 */
void mh_modmap_lookup(struct mh_modmap *m, uint32_t pid, const uint64_t *ips, unsigned n,
		      struct mh_module **out);

/*
 * Fallback for an address no active module covered when it was looked
 * up (its MODULE record came late): any module ever seen in pid that
 * covers ip, the earliest loaded first. NULL if none.
 */
struct mh_module *mh_modmap_lookup_any(struct mh_modmap *m, uint32_t pid, uint64_t ip);

/* Every module ever loaded, in load order (follow ->next). */
struct mh_module *mh_modmap_first(struct mh_modmap *m);

/* True if runtime address ip lies in one of mod's segments. */
bool mh_module_contains(const struct mh_module *mod, uint64_t ip);

/* The module's file name without its directory. */
const char *mh_module_basename(const struct mh_module *mod);

#endif /* MEMHOOK_MERGER_REPLAY_MODMAP_H */
