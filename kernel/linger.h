/* SPDX-License-Identifier: MIT */
/*
 * linger.h - keep some file descriptors of this process open past its
 * exit, in a helper that lets go of them once the process is gone: the
 * exit of a recording is then not held up by what closing them costs
 * (detaching a probe patches kernel text and waits for every CPU: ~10 ms
 * for the collector's ~20 links), nor by unmapping its memory. Internal
 * to kernel/; never prints.
 */
#ifndef MEMHOOK_KERNEL_LINGER_H
#define MEMHOOK_KERNEL_LINGER_H

#include <stddef.h>

/* Most descriptors one helper holds. */
#define MH_KLINGER_MAX_FDS 256

/*
 * Start the helper, holding duplicates of fds[0..n) (and no other file of
 * this process) until every thread of this process has exited, then
 * exiting itself. It shares this process's memory, so that memory too is
 * torn down at the helper's exit, not this process's. Only for a process
 * about to exit: what fds hold stays in force until then. 0, or -errno
 * when no helper could be started (nothing changed: closing the fds
 * costs what it always did).
 */
int mh_klinger(const int *fds, size_t n);	/* -E2BIG: n > MH_KLINGER_MAX_FDS */

#endif /* MEMHOOK_KERNEL_LINGER_H */
