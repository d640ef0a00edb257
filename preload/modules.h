/* SPDX-License-Identifier: MIT */
/*
 * modules.h - the loaded-module map of the traced process, sent to the
 * ring as MH_REC_MODULE / MH_REC_MODULE_UNLOAD records: every object at
 * start, then, from inside the hooks and without the loader's lock, each
 * object a new stack passes through that was not sent yet (interposing
 * dlopen would change its caller and so break $ORIGIN and RUNPATH lookups;
 * and libc loads objects itself, for NSS and iconv).
 *
 * Never allocates through malloc and never prints.
 */
#ifndef MEMHOOK_PRELOAD_MODULES_H
#define MEMHOOK_PRELOAD_MODULES_H

#include <stdint.h>
#include <sys/types.h>

#include "preload/ring.h"

/*
 * Forget what was sent and send a MODULE record for every loaded object
 * (dl_iterate_phdr). exe_path names the main program (the loader gives it
 * an empty name). Takes the loader's lock: call it only at the start of a
 * process image, before the program runs. 0, or -EPIPE if the ring refused
 * a record.
 */
int mh_modules_scan(struct mh_ring *ring, pid_t pid, const char *exe_path);

/*
 * Make sure every object holding one of ips[0..n) was sent: a MODULE
 * record for each object not sent yet, after a MODULE_UNLOAD for every
 * sent object whose addresses it now occupies (so it replaced an unloaded
 * one). Lock-free and async-signal-safe (objects.h); call it before the
 * stack that holds ips goes into the ring. Two threads that meet the same
 * new object at once both send it; readers keep one. 0, or -EPIPE if the
 * ring refused a record.
 */
int mh_modules_note(struct mh_ring *ring, pid_t pid, const char *exe_path, const __u64 *ips,
		    unsigned int n);

#endif /* MEMHOOK_PRELOAD_MODULES_H */
