// SPDX-License-Identifier: MIT
/*
 * tracked.c - the processes a recording follows (tracked.h): a uthash
 * table of pid -> pidfd under one mutex. The drainer adds, the supervisor
 * lists and removes; the table is small (one entry per live process), so
 * the lock is never held for long. Never prints.
 */
#include "recorder/tracked.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include <uthash.h>

struct entry {
	pid_t pid;
	int pidfd;
	unsigned images;	/* times added: each PROCESS record is a new image */
	UT_hash_handle hh;
};

struct mh_tracked {
	pthread_mutex_t lock;
	struct entry *table;
	uid_t uid;			/* the program's user */
};

static bool exited(int pidfd);

/* How many parents up /proc is followed looking for a tracked ancestor. */
#define ANCESTRY_MAX 256

struct mh_tracked *mh_tracked_new(uid_t uid)
{
	struct mh_tracked *t = calloc(1, sizeof(*t));

	if (t) {
		pthread_mutex_init(&t->lock, NULL);
		t->uid = uid;
	}
	return t;
}

static void drop(struct mh_tracked *t, struct entry *e)
{
	HASH_DEL(t->table, e);
	close(e->pidfd);
	free(e);
}

void mh_tracked_free(struct mh_tracked *t)
{
	struct entry *e, *tmp;

	if (!t)
		return;
	HASH_ITER(hh, t->table, e, tmp)
		drop(t, e);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

int mh_tracked_add(struct mh_tracked *t, pid_t pid)
{
	struct entry *e;
	int err = 0;

	pthread_mutex_lock(&t->lock);
	HASH_FIND_INT(t->table, &pid, e);
	if (e) {
		e->images++;
		goto out_unlock;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		err = -ENOMEM;
		goto out_unlock;
	}
	e->pid = pid;
	e->pidfd = pidfd_open(pid, 0);
	if (e->pidfd < 0) {
		err = -errno;
		free(e);
		goto out_unlock;
	}
	HASH_ADD_INT(t->table, pid, e);
out_unlock:
	pthread_mutex_unlock(&t->lock);
	return err;
}

/*
 * /proc/PID/status is read whole into this: its "PPid:" and "Uid:" lines
 * come in its first few hundred bytes. Bytes.
 */
#define STATUS_BUF_BYTES 4096

/*
 * Read "PPid:" and the four "Uid:" values of pid from /proc. 0 or -errno.
 * One read and two searches: a process's exit reads it several times
 * while the process waits, and with stdio (a sscanf per line) each took
 * 15.5 us instead of 7.5 (2,000 reads of a shell's status).
 */
static int read_status(pid_t pid, pid_t *ppid, uid_t uids[4])
{
	char path[64], text[STATUS_BUF_BYTES];
	const char *p, *u;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	/* A failed read finds neither line, as a stdio read did: -EPROTO. */
	text[n > 0 ? n : 0] = '\0';
	p = strstr(text, "\nPPid:");
	u = strstr(text, "\nUid:");
	if (!p || !u || sscanf(p, "\nPPid: %d", ppid) != 1 ||
	    sscanf(u, "\nUid: %u %u %u %u", &uids[0], &uids[1], &uids[2], &uids[3]) != 4)
		return -EPROTO;
	return 0;
}

/* Are all four uids (real, effective, saved, filesystem) the program's user's? 0 or -EPERM. */
static int check_uids(const struct mh_tracked *t, const uid_t uids[4])
{
	if (!t->uid)
		return 0;
	for (int i = 0; i < 4; i++) {
		if (uids[i] != t->uid)
			return -EPERM;
	}
	return 0;
}

int mh_tracked_check_user(const struct mh_tracked *t, pid_t pid)
{
	uid_t uids[4];
	pid_t ppid;
	int err = read_status(pid, &ppid, uids);

	return err ? err : check_uids(t, uids);
}

/*
 * Does pid descend from a tracked process or from memhook itself? Called
 * locked. pid_uids gets pid's own uids, read on the way.
 */
static int is_descendant(struct mh_tracked *t, pid_t pid, uid_t pid_uids[4])
{
	pid_t self = getpid(), cur = pid, ppid;
	uid_t uids[4];
	struct entry *e;

	for (int depth = 0; depth < ANCESTRY_MAX; depth++) {
		int err = read_status(cur, &ppid, uids);

		if (err)
			return err == -ESRCH && cur != pid ? -EPERM : err;
		if (!depth)
			memcpy(pid_uids, uids, sizeof(uids));
		if (ppid == self)
			return 0;
		HASH_FIND_INT(t->table, &ppid, e);
		if (e && !exited(e->pidfd))
			return 0;
		if (ppid <= 1)
			return -EPERM;
		cur = ppid;
	}
	return -EPERM;
}

int mh_tracked_admit(struct mh_tracked *t, pid_t pid)
{
	struct entry *e;
	int err = 0, pidfd;
	uid_t uids[4];

	/* The pidfd first: whatever /proc says next is about this process or it has exited. */
	pidfd = pidfd_open(pid, 0);
	if (pidfd < 0)
		return -errno;
	pthread_mutex_lock(&t->lock);
	HASH_FIND_INT(t->table, &pid, e);
	if (e) {
		e->images++;	/* an exec: a new image of a pid we follow */
		goto out_unlock;
	}
	/* Its user from the same read as its parent: one read of /proc less (7.5 us). */
	err = is_descendant(t, pid, uids);
	if (!err)
		err = check_uids(t, uids);
	if (!err && exited(pidfd))
		err = -ESRCH;
	if (!err) {
		e = calloc(1, sizeof(*e));
		err = e ? 0 : -ENOMEM;
	}
	if (!err) {
		e->pid = pid;
		e->pidfd = pidfd;
		pidfd = -1;
		HASH_ADD_INT(t->table, pid, e);
	}
out_unlock:
	pthread_mutex_unlock(&t->lock);
	if (pidfd >= 0)
		close(pidfd);
	return err;
}

/*
 * The entry of pid, still running and still the program's user's (t->lock
 * held): 0 and *out, or -ESRCH / mh_tracked_check_user()'s error.
 */
static int find_live(struct mh_tracked *t, pid_t pid, struct entry **out)
{
	struct entry *e;

	HASH_FIND_INT(t->table, &pid, e);
	if (!e || exited(e->pidfd))
		return -ESRCH;
	*out = e;
	return mh_tracked_check_user(t, pid);
}

int mh_tracked_take(struct mh_tracked *t, pid_t pid)
{
	struct entry *e;
	int ret;

	pthread_mutex_lock(&t->lock);
	ret = find_live(t, pid, &e);
	if (!ret) {
		ret = e->pidfd;
		HASH_DEL(t->table, e);
		free(e);
	}
	pthread_mutex_unlock(&t->lock);
	return ret;
}

void mh_tracked_remove(struct mh_tracked *t, pid_t pid)
{
	struct entry *e;

	pthread_mutex_lock(&t->lock);
	HASH_FIND_INT(t->table, &pid, e);
	if (e)
		drop(t, e);
	pthread_mutex_unlock(&t->lock);
}

/* A pidfd polls readable once its process has exited (zombie or reaped). */
static bool exited(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	return poll(&p, 1, 0) != 0;
}

static int by_pid(const struct entry *a, const struct entry *b)
{
	return (a->pid > b->pid) - (a->pid < b->pid);
}

size_t mh_tracked_list(struct mh_tracked *t, pid_t *out, size_t max)
{
	struct entry *e, *tmp;
	size_t n = 0;

	pthread_mutex_lock(&t->lock);
	HASH_ITER(hh, t->table, e, tmp) {
		if (exited(e->pidfd))
			drop(t, e);
	}
	HASH_SORT(t->table, by_pid);
	HASH_ITER(hh, t->table, e, tmp) {
		if (n < max)
			out[n] = e->pid;
		n++;
	}
	pthread_mutex_unlock(&t->lock);
	return n;
}

int mh_tracked_pidfd(struct mh_tracked *t, pid_t pid)
{
	struct entry *e;
	int ret;

	pthread_mutex_lock(&t->lock);
	ret = find_live(t, pid, &e);
	if (!ret) {
		ret = fcntl(e->pidfd, F_DUPFD_CLOEXEC, 0);
		if (ret < 0)
			ret = -errno;
	}
	pthread_mutex_unlock(&t->lock);
	return ret;
}

unsigned mh_tracked_images(struct mh_tracked *t, pid_t pid)
{
	struct entry *e;
	unsigned images;

	pthread_mutex_lock(&t->lock);
	HASH_FIND_INT(t->table, &pid, e);
	images = e ? e->images : 0;
	pthread_mutex_unlock(&t->lock);
	return images;
}

bool mh_tracked_alive(struct mh_tracked *t, pid_t pid)
{
	struct entry *e;
	bool alive;

	pthread_mutex_lock(&t->lock);
	HASH_FIND_INT(t->table, &pid, e);
	alive = e && !exited(e->pidfd);
	pthread_mutex_unlock(&t->lock);
	return alive;
}
