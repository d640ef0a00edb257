/* SPDX-License-Identifier: MIT */
/*
 * fds.h - the fds memhook keeps inside the program (the ring's memfd, the
 * saved stderr): placed at the top of the range programs use, so that the
 * program's open() returns the numbers it returns natively, and checked
 * before each use, since the program may close them (a daemon closes
 * every fd) and reuse their numbers for its own files.
 *
 * Never allocates, never prints.
 */
#ifndef MEMHOOK_PRELOAD_FDS_H
#define MEMHOOK_PRELOAD_FDS_H

#include <stdbool.h>
#include <sys/types.h>

/* The highest fd memhook places its own at, plus one: select()'s FD_SETSIZE. */
#define MH_FD_CEILING 1024
/* fds memhook may hold at once; they go just below min(RLIMIT_NOFILE, MH_FD_CEILING). */
#define MH_FD_SLOTS 16

/*
 * A copy of fd at the top of the range (see above), close-on-exec or not.
 * Returns the new fd, or -errno if there is no room up there (a low
 * RLIMIT_NOFILE, or every slot taken); fd itself is left open either way.
 */
int mh_fd_dup_high(int fd, bool cloexec);

/* What an fd refers to, to tell later whether the number still means it. */
struct mh_fd_id {
	dev_t dev;
	ino_t ino;
	bool valid;		/* false: fd was not open when taken */
};

/* Remember what fd refers to now. */
void mh_fd_id_take(int fd, struct mh_fd_id *id);

/* True if fd is open and refers to the same file as when id was taken. Async-signal-safe. */
bool mh_fd_is(int fd, const struct mh_fd_id *id);

#endif /* MEMHOOK_PRELOAD_FDS_H */
