/* SPDX-License-Identifier: MIT */
/*
 * modules.h - the loaded-module map of the traced process, sent to the
 * ring as MH_REC_MODULE / MH_REC_MODULE_UNLOAD records and kept current
 * across dlopen/dlclose by watching dl_iterate_phdr's load counters
 * (interposing dlopen would change its caller and so break $ORIGIN and
 * RUNPATH lookups).
 *
 * Never allocates through malloc and never prints.
 */
#ifndef MEMHOOK_PRELOAD_MODULES_H
#define MEMHOOK_PRELOAD_MODULES_H

#include <stdbool.h>
#include <sys/types.h>

#include "preload/ring.h"

/*
 * Send MODULE records for objects loaded since the last call and
 * MODULE_UNLOAD for objects gone; with force, forget what was sent and
 * send every loaded object again (a new image, or a fork child that
 * starts afresh). exe_path names the main program (dl_iterate_phdr gives
 * it an empty name). Cheap when nothing changed: one dl_iterate_phdr step.
 * Thread-safe: callers are serialised by the loader's lock, so a caller's
 * later records follow the modules they refer to.
 * Returns 0, or -EPIPE if the ring refused a record.
 */
int mh_modules_sync(struct mh_ring *ring, pid_t pid, const char *exe_path, bool force);

#endif /* MEMHOOK_PRELOAD_MODULES_H */
