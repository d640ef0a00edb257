/* SPDX-License-Identifier: MIT */
/*
 * output_file.h - create memhook's output files (traces, reports, JUnit,
 * JSON) for the user they belong to, without being turned against root.
 *
 * Under sudo memhook runs as root in directories the traced program (run
 * as the invoking user) can write: a symlink or hard link planted there
 * must not make root overwrite another file. So under sudo every output is
 * opened by a short-lived process that already runs as the invoking user
 * (SUDO_UID, SUDO_GID, their groups): it is created with that user's
 * rights and owned by them. As plain root with the program run as another
 * user (--user), outputs stay root's but are opened guarded: no symlink,
 * nothing but a regular file with one link. In both cases an existing
 * symlink at the path is refused (-ELOOP). Otherwise (memhook and the
 * program run as the same user) a path is opened as by open(2).
 * docs/DESIGN.md, "Threat model". Never prints.
 */
#ifndef MEMHOOK_COMMON_OUTPUT_FILE_H
#define MEMHOOK_COMMON_OUTPUT_FILE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

/* Longest list of supplementary groups kept for the invoking user. */
#define MH_OUTPUT_MAX_GROUPS 64

/* Who memhook's outputs are for and how they are opened. */
struct mh_output_owner {
	bool guarded;		/* refuse symlinks, hard links and non-regular files */
	bool as_user;		/* open in a process running as uid/gid/groups */
	uid_t uid;
	gid_t gid;
	int group_count;
	gid_t groups[MH_OUTPUT_MAX_GROUPS];
};

/*
 * Decide from memhook's identity and environment: as root under sudo
 * (SUDO_UID set, SUDO_GID optional, SUDO_USER for the groups) the outputs
 * are the invoking user's; as root with other_user (the program runs as
 * another user, --user) they are root's, guarded; else plain. Returns 0,
 * or -EINVAL when SUDO_UID or SUDO_GID is not a number (o is then set to
 * guarded root files, so a caller that goes on is still safe).
 */
int mh_output_owner_init(struct mh_output_owner *o, bool other_user);

/*
 * Open path for writing as o says: created with mode (before umask) or
 * truncated, close-on-exec. Returns the fd or -errno: -ELOOP when path is
 * a symbolic link and o->guarded, -EPERM when o->guarded and it is not a
 * regular file or has other hard links, the error of open(2) otherwise
 * (under sudo: as the invoking user would get it).
 */
int mh_output_open(const struct mh_output_owner *o, const char *path, mode_t mode);

/* mh_output_open() with mode 0666 as a stdio stream. NULL with errno set. */
FILE *mh_output_fopen(const struct mh_output_owner *o, const char *path);

/*
 * Remove an output memhook created and no longer wants (a trace of a
 * program that never ran), with the same rights it was created with;
 * never anything but a regular file (-EMLINK). 0 or -errno.
 */
int mh_output_remove(const struct mh_output_owner *o, const char *path);

/*
 * The cause of an mh_output_open() error for a one-line message:
 * "it is a symbolic link" for -ELOOP when guarded, strerror otherwise.
 */
const char *mh_output_strerror(const struct mh_output_owner *o, int err);

#endif /* MEMHOOK_COMMON_OUTPUT_FILE_H */
