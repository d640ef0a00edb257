/* SPDX-License-Identifier: MIT */
/*
 * unw_local.h - libunwind's local unwinding made fit to run inside another
 * program's malloc (unw_local.c): no loader lock, no fd, and no libunwind
 * lock carried into a fork child.
 *
 * Never allocates through malloc, never prints.
 */
#ifndef MEMHOOK_PRELOAD_UNW_LOCAL_H
#define MEMHOOK_PRELOAD_UNW_LOCAL_H

#include <link.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Once, before the first capture, from a context where libunwind may
 * initialise (the constructor): initialise libunwind, give its local
 * address space memory validation that needs no fd, close the pipe
 * libunwind 1.6 opened for its own validation (at the lowest free fds),
 * and keep libunwind's global caches, locked. 0 or -errno.
 */
int mh_unw_local_setup(void);

/*
 * Bracket every libunwind call of a capture. mh_unw_enter returns false
 * while a fork is being prepared: the caller must then not call libunwind
 * (it captures another way). Async-signal-safe.
 */
bool mh_unw_enter(void);
void mh_unw_leave(void);

/*
 * sigprocmask(how, set, old) while the calling thread holds every signal
 * blocked for its stay in libunwind (unw_local.c): true when the call
 * would not change the mask, with *old filled as the kernel would fill
 * it; false otherwise (then make the call, and mh_unw_sigmask_changed
 * after it). Async-signal-safe.
 */
bool mh_unw_sigmask_answer(int how, const sigset_t *set, sigset_t *old);
void mh_unw_sigmask_changed(void);

/*
 * True between mh_unw_enter and mh_unw_leave on the calling thread: the
 * interposed dl_iterate_phdr then serves libunwind with
 * mh_unw_iterate_phdr instead of taking the loader's lock.
 */
bool mh_unw_inside(void);

/*
 * dl_iterate_phdr for libunwind's own lookup, without the loader's lock:
 * calls callback once, for the object holding the address libunwind looks
 * for (the first word of its callback data, as in every libunwind release),
 * found with mh_object_at. Returns the callback's result, 0 if no object
 * holds that address.
 */
int mh_unw_iterate_phdr(int (*callback)(struct dl_phdr_info *, size_t, void *), void *data);

/*
 * pthread_atfork handlers. prepare waits (a bounded time) until no other
 * thread is inside libunwind, and keeps new captures out of it, so the
 * child inherits none of libunwind's locks held; parent and child let
 * captures in again.
 */
void mh_unw_fork_prepare(void);
void mh_unw_fork_parent(void);
void mh_unw_fork_child(void);

#endif /* MEMHOOK_PRELOAD_UNW_LOCAL_H */
