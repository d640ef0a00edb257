// SPDX-License-Identifier: MIT
/*
 * sampler.c - periodic RSS samples and pagemap snapshots of the tracked
 * processes (sampler.h). Never prints; runs on the supervisor thread, so
 * the ring drainer never waits for it.
 *
 * What is read from /proc/PID is kept back until the process is known to
 * be alive after the read (its pidfd), so records never describe a later
 * process that reused the pid. Where memhook's own mappings are in each
 * process (own.h) is looked up again after an exec (a new PROCESS record),
 * while no preload is seen, and every OWN_REFRESH_NS: they are made when
 * the preload starts.
 */
#include "recorder/sampler.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uthash.h>

#include "recorder/own.h"
#include "recorder/pagemap.h"
#include "common/procmaps.h"
#include "recorder/tracked.h"
#include "common/clock.h"

/* /proc/PID/status is a few KiB; the fields we need are in its first half. */
#define STATUS_BUF_BYTES 8192
/* Processes sampled per tick, at most. */
#define SAMPLED_PIDS_MAX 256
/* How long a process's list of memhook's own mappings is trusted, ns. */
#define OWN_REFRESH_NS 1000000000ULL

/* Where memhook's own mappings are in one process. */
struct own_entry {
	pid_t pid;
	struct mh_own_map own;
	__u64 found_ns;		/* when own was looked up */
	unsigned images;	/* mh_tracked_images() then */
	__u64 seen_tick;	/* the last tick that sampled pid */
	UT_hash_handle hh;
};

struct mh_sampler {
	struct mh_recorder *r;
	__u64 rss_period_ns;		/* 0: off */
	__u64 pagemap_period_ns;	/* 0: off */
	__u64 next_rss_ns;
	__u64 next_pagemap_ns;
	__u64 snapshots;		/* pagemap snapshot rounds taken */
	__u64 deferred;			/* rounds started late to keep the cost share */
	__u64 cost_ns;			/* total time spent in snapshot rounds */
	__u64 max_cost_ns;		/* longest round */
	struct own_entry *owns;		/* uthash by pid */
	__u64 tick;			/* RSS rounds taken */
};

/* Pagemap records of one process, held until the process is known alive. */
struct held {
	unsigned char *buf;
	size_t bytes;
	size_t cap;
};

/* Value of "Name:   123 kB" in bytes, or 0 when the field is absent. */
static __u64 field_bytes(const char *text, const char *name)
{
	const char *p = strstr(text, name);

	if (!p)
		return 0;
	return strtoull(p + strlen(name), NULL, 10) * 1024;
}

int mh_sampler_read(pid_t pid, struct mh_rec_rss_sample *s, __u64 *hwm_bytes)
{
	char path[64], text[STATUS_BUF_BYTES];
	ssize_t n;
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, text, sizeof(text) - 1);
	if (n < 0)
		err = -errno;
	close(fd);
	if (err)
		return err;
	text[n] = '\0';
	/* A zombie has no Rss lines: treat it as gone. */
	if (!strstr(text, "\nRssAnon:"))
		return -ESRCH;
	memset(s, 0, sizeof(*s));
	s->hdr.type = MH_REC_RSS_SAMPLE;
	s->hdr.size = sizeof(*s);
	s->ts_ns = mh_clock_now_ns();
	s->anon_bytes = field_bytes(text, "\nRssAnon:");
	s->file_bytes = field_bytes(text, "\nRssFile:");
	s->shmem_bytes = field_bytes(text, "\nRssShmem:");
	s->swap_bytes = field_bytes(text, "\nVmSwap:");
	s->pid = (__u32)pid;
	if (hwm_bytes)
		*hwm_bytes = field_bytes(text, "\nVmHWM:");
	return 0;
}

struct mh_sampler *mh_sampler_new(struct mh_recorder *r, unsigned rss_ms, unsigned pagemap_ms)
{
	struct mh_sampler *s = calloc(1, sizeof(*s));
	__u64 now = mh_clock_now_ns();

	if (!s)
		return NULL;
	s->r = r;
	s->rss_period_ns = (__u64)rss_ms * 1000000ULL;
	s->pagemap_period_ns = (__u64)pagemap_ms * 1000000ULL;
	s->next_rss_ns = now;
	/* The program has not touched its heap yet: the first snapshot waits a period. */
	s->next_pagemap_ns = now + s->pagemap_period_ns;
	return s;
}

/* pid's own mappings, looked up again when older than OWN_REFRESH_NS. NULL if unknown. */
static const struct mh_own_map *own_of(struct mh_sampler *s, pid_t pid, __u64 now)
{
	struct own_entry *e;
	struct mh_maps maps;
	unsigned images;

	HASH_FIND_INT(s->owns, &pid, e);
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return NULL;
		e->pid = pid;
		HASH_ADD_INT(s->owns, pid, e);
	}
	e->seen_tick = s->tick;
	images = mh_tracked_images(s->r->tracked, pid);
	/* Until the preload is seen (before exec), and after each exec, look again. */
	if (e->found_ns && e->own.count && e->images == images &&
	    now - e->found_ns < OWN_REFRESH_NS)
		return &e->own;
	mh_own_free(&e->own);
	e->found_ns = 0;
	if (mh_procmaps_read(pid, &maps))
		return NULL;
	if (!mh_own_find(pid, &maps, &e->own)) {
		e->found_ns = now;
		e->images = images;
	}
	mh_procmaps_free(&maps);
	return e->found_ns ? &e->own : NULL;
}

/* Forget the processes the last tick did not sample (gone or untracked). */
static void own_prune(struct mh_sampler *s)
{
	struct own_entry *e, *tmp;

	HASH_ITER(hh, s->owns, e, tmp) {
		if (e->seen_tick == s->tick)
			continue;
		HASH_DEL(s->owns, e);
		mh_own_free(&e->own);
		free(e);
	}
}

/* memhook's own share of each process's RSS, then the RSS sample of the same time. */
static void sample_rss(struct mh_sampler *s, const pid_t *pids, size_t n, __u64 now)
{
	struct {
		struct mh_rec_own_sample own;
		struct mh_rec_rss_sample rss;
	} recs;
	const struct mh_own_map *own;
	__u64 hwm;

	s->tick++;
	for (size_t i = 0; i < n; i++) {
		const void *from = &recs;

		if (mh_sampler_read(pids[i], &recs.rss, &hwm))
			continue;
		own = own_of(s, pids[i], now);
		if (!own || mh_own_sample(pids[i], own, recs.rss.ts_ns, hwm, 0, &recs.own))
			from = &recs.rss;
		if (mh_tracked_alive(s->r->tracked, pids[i]))
			(void)mh_recorder_append(s->r, MH_STREAM_SAMPLE, from,
						 (size_t)((const char *)(&recs + 1) - (const char *)from));
	}
	own_prune(s);
}

static int hold(void *ctx, int stream, const void *records, size_t bytes)
{
	struct held *h = ctx;
	unsigned char *p;
	size_t cap;

	if (h->bytes + bytes > h->cap) {
		cap = (h->bytes + bytes) * 2;
		p = realloc(h->buf, cap);
		if (!p)
			return -ENOMEM;
		h->buf = p;
		h->cap = cap;
	}
	memcpy(h->buf + h->bytes, records, bytes);
	h->bytes += bytes;
	return 0;
}

/* One process's snapshot into the trace, if it is still that process afterwards. */
static void snapshot(struct mh_sampler *s, pid_t pid, struct held *h, __u64 now)
{
	const struct mh_own_map *own = own_of(s, pid, now);
	struct mh_maps maps = { 0 };
	int err;

	h->bytes = 0;
	err = mh_procmaps_read(pid, &maps);
	if (!err)
		err = mh_pagemap_snapshot(pid, &maps, own, hold, h);
	mh_procmaps_free(&maps);
	if (!err && h->bytes && mh_tracked_alive(s->r->tracked, pid))
		/* A write error is reported inside, once. */
		(void)mh_recorder_append(s->r, MH_STREAM_SAMPLE, h->buf, h->bytes);
}

/* A snapshot round; schedules the next so rounds take at most MAX_SHARE of the time. */
static void sample_pagemap(struct mh_sampler *s, const pid_t *pids, size_t n, __u64 start)
{
	struct held h = { 0 };
	__u64 end, cost, spaced;

	for (size_t i = 0; i < n; i++)
		snapshot(s, pids[i], &h, start);
	free(h.buf);
	end = mh_clock_now_ns();
	cost = end - start;
	s->snapshots++;
	s->cost_ns += cost;
	if (cost > s->max_cost_ns)
		s->max_cost_ns = cost;
	s->next_pagemap_ns = start + s->pagemap_period_ns;
	spaced = end + cost * (100 / MH_SAMPLER_MAX_SHARE_PCT - 1);
	if (spaced > s->next_pagemap_ns) {
		s->next_pagemap_ns = spaced;
		s->deferred++;
	}
}

__u64 mh_sampler_tick(struct mh_sampler *s, __u64 now)
{
	pid_t pids[SAMPLED_PIDS_MAX];
	bool rss_due = s->rss_period_ns && now >= s->next_rss_ns;
	bool pagemap_due = s->pagemap_period_ns && now >= s->next_pagemap_ns;
	size_t n = 0;
	__u64 next = UINT64_MAX;

	if (rss_due || pagemap_due) {
		n = mh_tracked_list(s->r->tracked, pids, SAMPLED_PIDS_MAX);
		if (n > SAMPLED_PIDS_MAX)
			n = SAMPLED_PIDS_MAX;
	}
	if (rss_due) {
		sample_rss(s, pids, n, now);
		s->next_rss_ns = now + s->rss_period_ns;
	}
	if (pagemap_due)
		sample_pagemap(s, pids, n, now);
	if (s->rss_period_ns)
		next = s->next_rss_ns;
	if (s->pagemap_period_ns && s->next_pagemap_ns < next)
		next = s->next_pagemap_ns;
	return next;
}

void mh_sampler_free(struct mh_sampler *s)
{
	char buf[160];

	if (!s)
		return;
	if (s->pagemap_period_ns) {
		snprintf(buf, sizeof(buf), "%llu snapshots, %llu deferred, %llu us total, %llu us max",
			 (unsigned long long)s->snapshots, (unsigned long long)s->deferred,
			 (unsigned long long)s->cost_ns / 1000,
			 (unsigned long long)s->max_cost_ns / 1000);
		(void)mh_recorder_info(s->r, 0, "sampler.pagemap", buf);
	}
	s->tick++;
	own_prune(s);
	free(s);
}
