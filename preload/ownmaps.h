/* SPDX-License-Identifier: MIT */
/*
 * ownmaps.h - fill this process's registry of memhook's own memory
 * (memhook/own.h): the preload's anonymous tables and its static TLS
 * block, which the recorder leaves out of the program's RSS and of the
 * leak scan's roots.
 *
 * Never allocates, never prints, never blocks.
 */
#ifndef MEMHOOK_PRELOAD_OWNMAPS_H
#define MEMHOOK_PRELOAD_OWNMAPS_H

#include <stddef.h>

/*
 * Note an anonymous mapping of the preload's own. A full registry keeps
 * its first MH_OWN_RANGES mappings (the recorder then counts the rest as
 * the program's). Thread-safe, async-signal-safe.
 */
void mh_ownmaps_note(const void *addr, size_t bytes);

/* Forget the mapping noted at addr (it is being unmapped). Thread-safe. */
void mh_ownmaps_forget(const void *addr);

/*
 * Find the preload's static TLS block (dl_iterate_phdr: takes the
 * loader's lock, so call it only where the preload already may, at start).
 */
void mh_ownmaps_note_tls(void);

#endif /* MEMHOOK_PRELOAD_OWNMAPS_H */
