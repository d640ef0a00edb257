// SPDX-License-Identifier: MIT
/*
 * live.c - the recording as it is now (live.h): per-stack live heap from
 * a follower's replay, process figures from /proc.
 *
 * The replay is the merger's, fed with what the recorder flushed (the
 * mechanism the exit scans use, follow.h); nothing here touches the ring,
 * so a slow watcher can fall behind but never slows the program.
 */
#include "recorder/live.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uthash.h>

#include "common/clock.h"
#include "recorder/drain.h"
#include "recorder/sampler.h"
#include "recorder/tracked.h"
#include "merger/replay/replay.h"
#include "recorder/follow.h"

/*
 * Records replayed per update at most: a few hundred ms of replay, so a
 * watcher that fell behind a fast program still refreshes its screen.
 */
#define REPLAY_BUDGET_RECORDS (1ULL << 22)
/* Processes read from /proc per update, at most. */
#define LIVE_PIDS_MAX 256
/* /proc/PID/stat is one line well under this. */
#define STAT_BUF_BYTES 1024

struct entry {
	struct mh_live_stack s;
	UT_hash_handle hh;
};

struct mh_live {
	struct mh_recorder *r;
	struct mh_follow *follow;
	struct entry *table;		/* uthash by stack id: every stack ever seen */
	struct mh_live_stack **sorted;	/* the stacks with live bytes or growth */
	size_t count, cap;
	struct mh_live_totals totals;
	uint64_t last_ns;		/* CLOCK_MONOTONIC of the previous /proc read */
	uint64_t minflt, majflt;	/* summed at the previous /proc read */
};

struct mh_live *mh_live_new(struct mh_recorder *r)
{
	struct mh_live *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->r = r;
	l->follow = mh_follow_new(r->trace_path);
	if (!l->follow) {
		free(l);
		return NULL;
	}
	return l;
}

void mh_live_free(struct mh_live *l)
{
	struct entry *e, *tmp;

	if (!l)
		return;
	HASH_ITER(hh, l->table, e, tmp) {
		HASH_DEL(l->table, e);
		free(e);
	}
	free(l->sorted);
	mh_follow_free(l->follow);
	free(l);
}

/* minflt and majflt of pid from /proc/PID/stat (fields 10 and 12). 0 or -errno. */
static int read_faults(pid_t pid, uint64_t *minflt, uint64_t *majflt)
{
	char path[64], buf[STAT_BUF_BYTES];
	unsigned long long mn, mj;
	const char *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	/* The command name may hold anything: the fields start after its last ')'. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %llu %*u %llu", &mn, &mj) != 2)
		return -EBADMSG;
	*minflt = mn;
	*majflt = mj;
	return 0;
}

/* RSS, swap and fault rates of the tracked processes. */
static void read_proc(struct mh_live *l)
{
	struct mh_live_totals *t = &l->totals;
	pid_t pids[LIVE_PIDS_MAX];
	struct mh_rec_rss_sample s;
	uint64_t minflt = 0, majflt = 0, mn = 0, mj = 0, now = mh_clock_now_ns();
	size_t n = mh_tracked_list(l->r->tracked, pids, LIVE_PIDS_MAX);
	double dt = l->last_ns ? (double)(now - l->last_ns) / 1e9 : 0;

	t->rss_bytes = t->swap_bytes = 0;
	t->processes = 0;
	for (size_t i = 0; i < n && i < LIVE_PIDS_MAX; i++) {
		if (mh_sampler_read(pids[i], &s, NULL) || read_faults(pids[i], &mn, &mj) ||
		    !mh_tracked_alive(l->r->tracked, pids[i]))
			continue;
		t->rss_bytes += s.anon_bytes + s.file_bytes;
		t->swap_bytes += s.swap_bytes;
		minflt += mn;
		majflt += mj;
		t->processes++;
	}
	/* A process that ended takes its faults away: no negative rates. */
	t->minflt_per_s = dt > 0 && minflt > l->minflt ? (double)(minflt - l->minflt) / dt : 0;
	t->majflt_per_s = dt > 0 && majflt > l->majflt ? (double)(majflt - l->majflt) / dt : 0;
	l->minflt = minflt;
	l->majflt = majflt;
	l->last_ns = now;
}

static struct entry *entry_get(struct mh_live *l, uint64_t id)
{
	struct entry *e;

	HASH_FIND(hh, l->table, &id, sizeof(id), e);
	if (e)
		return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->s.stack_id = id;
	HASH_ADD(hh, l->table, s.stack_id, sizeof(id), e);
	return e;
}

/* Add one process's stacks to the table. 0 or -ENOMEM. */
static int add_process(struct mh_live *l, const struct mh_process *p)
{
	struct mh_stack_stats *st, *tmp;
	struct entry *e;

	HASH_ITER(hh, p->stacks, st, tmp) {
		e = entry_get(l, st->stack_id);
		if (!e)
			return -ENOMEM;
		e->s.live_bytes += st->live_bytes;
		e->s.live_blocks += st->live_blocks;
		e->s.bytes_allocated += st->bytes_allocated;
		if (st->info)
			e->s.info = st->info;
	}
	return 0;
}

/* Sum the live heap per stack over the followed processes still alive. */
static int sum_stacks(struct mh_live *l, const struct mh_replay *rp, bool stacks)
{
	struct mh_live_totals *t = &l->totals;
	struct entry *e, *tmp;
	size_t n = 0;
	int err = 0;

	HASH_ITER(hh, l->table, e, tmp) {
		e->s.prev_live_bytes = e->s.live_bytes;
		e->s.live_bytes = e->s.live_blocks = e->s.bytes_allocated = 0;
		e->s.info = NULL;
	}
	t->heap_bytes = t->heap_blocks = 0;
	for (const struct mh_process *p = rp ? rp->procs : NULL; p && !err; p = p->next) {
		if (p->replaced_by_exec || !mh_tracked_alive(l->r->tracked, (pid_t)p->pid))
			continue;
		t->heap_bytes += p->live_bytes;
		t->heap_blocks += p->live_blocks;
		if (stacks)
			err = add_process(l, p);
	}
	if (HASH_COUNT(l->table) > l->cap) {
		struct mh_live_stack **s = realloc(l->sorted, HASH_COUNT(l->table) * 2 * sizeof(*s));

		if (!s)
			return -ENOMEM;
		l->sorted = s;
		l->cap = HASH_COUNT(l->table) * 2;
	}
	HASH_ITER(hh, l->table, e, tmp) {
		e->s.growth = (int64_t)(e->s.live_bytes - e->s.prev_live_bytes);
		if (e->s.live_bytes || e->s.growth)
			l->sorted[n++] = &e->s;
	}
	l->count = n;
	return err;
}

int mh_live_update(struct mh_live *l, bool stacks)
{
	int ret;

	read_proc(l);
	/* What the drainer holds in memory becomes readable; an error is reported inside. */
	(void)mh_recorder_flush(l->r);
	ret = mh_follow_catch_up(l->follow, REPLAY_BUDGET_RECORDS);
	l->totals.behind = ret == 1;
	if (ret < 0)
		return ret;
	return sum_stacks(l, mh_follow_replay(l->follow), stacks);
}

const struct mh_live_totals *mh_live_totals(const struct mh_live *l)
{
	return &l->totals;
}

static uint64_t metric(const struct mh_live_stack *s, enum mh_live_key key)
{
	switch (key) {
	case MH_LIVE_GROWTH:
		return s->growth > 0 ? (uint64_t)s->growth : 0;
	case MH_LIVE_BLOCKS:
		return s->live_blocks;
	case MH_LIVE_ALLOCATED:
		return s->bytes_allocated;
	default:
		return s->live_bytes;
	}
}

static int compare(const void *a, const void *b, void *arg)
{
	const struct mh_live_stack *x = *(struct mh_live_stack *const *)a;
	const struct mh_live_stack *y = *(struct mh_live_stack *const *)b;
	enum mh_live_key key = *(const enum mh_live_key *)arg;
	uint64_t mx = metric(x, key), my = metric(y, key);

	if (mx != my)
		return mx > my ? -1 : 1;
	if (x->live_bytes != y->live_bytes)
		return x->live_bytes > y->live_bytes ? -1 : 1;
	return x->stack_id < y->stack_id ? -1 : x->stack_id > y->stack_id;
}

size_t mh_live_sort(struct mh_live *l, enum mh_live_key key, struct mh_live_stack *const **out)
{
	qsort_r(l->sorted, l->count, sizeof(*l->sorted), compare, &key);
	*out = l->sorted;
	return l->count;
}
