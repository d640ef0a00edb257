// SPDX-License-Identifier: MIT
/*
 * fds.c - where memhook's own fds sit in the program, and whether they
 * are still ours.
 *
 * Never allocates, never prints, never opens a file: it only duplicates
 * and inspects fds it was given.
 *
 * The top of the range: programs get the lowest free fd from open(), so
 * their numbers grow from 3; the few fds memhook keeps go just below
 * min(RLIMIT_NOFILE, FD_SETSIZE), where only a program that opens nearly
 * that many files, or one that picks fixed high numbers, meets them.
 * A program may still close them (a daemon closes 3..1023) and get their
 * numbers back from open(): so each use first checks, by device and inode,
 * that the number still refers to memhook's file.
 */
#include "preload/fds.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

int mh_fd_dup_high(int fd, bool cloexec)
{
	struct rlimit lim;
	rlim_t top = MH_FD_CEILING;
	int got, saved = errno;

	if (!getrlimit(RLIMIT_NOFILE, &lim) && lim.rlim_cur < top)
		top = lim.rlim_cur;
	if (top < 2 * MH_FD_SLOTS)
		return -EMFILE;
	got = fcntl(fd, cloexec ? F_DUPFD_CLOEXEC : F_DUPFD, (int)(top - MH_FD_SLOTS));
	if (got < 0) {
		got = -errno;
	} else if ((rlim_t)got >= top) {
		/* Past the ceiling: a number programs might use after all. */
		close(got);
		got = -EMFILE;
	}
	errno = saved;
	return got;
}

void mh_fd_id_take(int fd, struct mh_fd_id *id)
{
	struct stat st;

	id->valid = fd >= 0 && !fstat(fd, &st);
	id->dev = id->valid ? st.st_dev : 0;
	id->ino = id->valid ? st.st_ino : 0;
}

bool mh_fd_is(int fd, const struct mh_fd_id *id)
{
	struct stat st;
	int saved = errno;
	bool same = id->valid && fd >= 0 && !fstat(fd, &st) && st.st_dev == id->dev &&
		    st.st_ino == id->ino;

	errno = saved;
	return same;
}
