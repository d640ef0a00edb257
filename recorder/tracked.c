// SPDX-License-Identifier: MIT
/*
 * tracked.c - the processes a recording follows (tracked.h): a uthash
 * table of pid -> pidfd under one mutex. The drainer adds, the supervisor
 * lists and removes; the table is small (one entry per live process), so
 * the lock is never held for long. Never prints.
 */
#include "recorder/tracked.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
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
};

struct mh_tracked *mh_tracked_new(void)
{
	struct mh_tracked *t = calloc(1, sizeof(*t));

	if (t)
		pthread_mutex_init(&t->lock, NULL);
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
