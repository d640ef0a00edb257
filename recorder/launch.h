/* SPDX-License-Identifier: MIT */
/*
 * launch.h - start the traced program: fork a child that sets up the
 * preload's environment and waits on a pipe, then, once released, execs
 * the program. Lets the recorder attach everything (trace, BPF) to the
 * child's pid before the program's first instruction runs.
 */
#ifndef MEMHOOK_RECORDER_LAUNCH_H
#define MEMHOOK_RECORDER_LAUNCH_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "recorder/session.h"

/* Longest user name kept for initgroups(). */
#define MH_LAUNCH_USER_MAX 64

/* Who the program runs as: memhook's own identity unless drop is set. */
struct mh_launch_identity {
	bool drop;		/* switch to uid/gid before exec */
	uid_t uid;
	gid_t gid;
	char name[MH_LAUNCH_USER_MAX];	/* for initgroups(); "" = no supplementary groups */
	char home[256];		/* HOME to set, "" = leave HOME alone */
};

/* What the child was doing when it failed (struct mh_launch.failed_step). */
enum mh_launch_step {
	MH_LAUNCH_STEP_EXEC = 0,	/* execvp() */
	MH_LAUNCH_STEP_ENV,		/* setting up the environment */
	MH_LAUNCH_STEP_DROP,		/* initgroups/setgid/setuid */
	MH_LAUNCH_STEP_PRELOAD,		/* libmemhook.so is not readable by the user */
};

struct mh_launch {
	pid_t pid;		/* the parked child */
	int go_fd;		/* write end of the release pipe */
	int err_fd;		/* read end of the exec-error pipe (CLOEXEC in the child) */
	bool sigchld_ignored;	/* memhook was started with SIGCHLD ignored: the child restores it */
	struct mh_launch_identity id;	/* set by mh_launch_identity() before the fork */
	enum mh_launch_step failed_step; /* after mh_launch_release() failed: where */
};

/*
 * Decide who runs the program (docs/RECORD.md, "Running under sudo"):
 * opts->user if given (memhook must be root), else, when memhook runs as
 * root under sudo (SUDO_UID set), the invoking user (SUDO_UID, SUDO_GID,
 * SUDO_USER) unless opts->as_root, else memhook's own identity. Returns 0,
 * or -errno after which why names the problem (-EPERM: --user or
 * --as-root without root; -ENOENT: no such user; -EINVAL: bad SUDO_UID).
 */
int mh_launch_identity(const struct mh_record_opts *opts, struct mh_launch_identity *id,
		       char *why, size_t why_len);

/*
 * When memhook runs as root under sudo, the invoking user's uid and gid
 * (SUDO_UID/SUDO_GID), for the files memhook creates. False otherwise.
 */
bool mh_launch_sudo_owner(uid_t *uid, gid_t *gid);

/*
 * Path of libmemhook.so: $MEMHOOK_PRELOAD, else, relative to the running
 * memhook binary (/proc/self/exe, symlinks resolved), the installed
 * layout's ../lib/memhook/ or the build tree's same folder. Returns 0 and
 * fills buf, or -errno (-ENOENT if none exists; buf then names where it
 * was expected).
 */
int mh_launch_find_preload(char *buf, size_t len);

/*
 * Fork the child. It inherits ring_fd, gets MEMHOOK_* and LD_PRELOAD
 * (preload prepended) in its environment, restores child_mask as its
 * signal mask (and SIGCHLD's SIG_IGN if l->sigchld_ignored) and waits to
 * be released; once released it takes on l->id (groups, gid, uid, HOME,
 * USER, LOGNAME) and checks it can still read the preload, then execs.
 * Call while single-threaded.
 * Returns 0 or -errno.
 */
int mh_launch_fork(struct mh_launch *l, const struct mh_record_opts *opts, int ring_fd,
		   const char *preload, const sigset_t *child_mask);

/*
 * Release the child: it goes on to exec the program, while the caller
 * may do what does not have to precede it. Returns 0, or -EPIPE when the
 * child is gone.
 */
int mh_launch_release(struct mh_launch *l);

/*
 * After mh_launch_release(), wait until the child has exec'd the program.
 * Returns 0, or the -errno of the step that failed (l->failed_step; the
 * child then exits with 126 or 127 for the exec, MH_EXIT_INTERNAL
 * otherwise).
 */
int mh_launch_exec_result(struct mh_launch *l);

/* Make a parked child exit without running the program, and reap it. */
void mh_launch_abort(struct mh_launch *l);

#endif /* MEMHOOK_RECORDER_LAUNCH_H */
