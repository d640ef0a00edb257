/* SPDX-License-Identifier: MIT */
/*
 * launch.h - start the traced program: fork a child that sets up the
 * preload's environment and waits on a pipe, then, once released, execs
 * the program. Lets the recorder attach everything (trace, BPF) to the
 * child's pid before the program's first instruction runs.
 */
#ifndef MEMHOOK_CLI_LAUNCH_H
#define MEMHOOK_CLI_LAUNCH_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "options.h"

struct mh_launch {
	pid_t pid;		/* the parked child */
	int go_fd;		/* write end of the release pipe */
	int err_fd;		/* read end of the exec-error pipe (CLOEXEC in the child) */
	bool sigchld_ignored;	/* memhook was started with SIGCHLD ignored: the child restores it */
};

/*
 * Path of libmemhook.so: $MEMHOOK_PRELOAD, else beside the running
 * memhook binary. Returns 0 and fills buf, or -errno (-ENOENT if neither
 * exists; buf then names where it was looked for).
 */
int mh_launch_find_preload(char *buf, size_t len);

/*
 * Fork the child. It inherits ring_fd, gets MEMHOOK_* and LD_PRELOAD
 * (preload prepended) in its environment, restores child_mask as its
 * signal mask (and SIGCHLD's SIG_IGN if l->sigchld_ignored) and waits to
 * be released. Call while single-threaded.
 * Returns 0 or -errno.
 */
int mh_launch_fork(struct mh_launch *l, const struct mh_record_opts *opts, int ring_fd,
		   const char *preload, const sigset_t *child_mask);

/*
 * Release the child and wait until it has exec'd the program. Returns 0,
 * or the exec's -errno (the child then exits with 126 or 127).
 */
int mh_launch_release(struct mh_launch *l);

/* Make a parked child exit without running the program, and reap it. */
void mh_launch_abort(struct mh_launch *l);

#endif /* MEMHOOK_CLI_LAUNCH_H */
