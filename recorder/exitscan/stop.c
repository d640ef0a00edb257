// SPDX-License-Identifier: MIT
/*
 * stop.c - leak verdicts, the last RSS figures and a last residency
 * snapshot while a process waits in its exit path.
 *
 * Threads are stopped with PTRACE_SEIZE/PTRACE_INTERRUPT; where that is
 * refused (the process is already traced, or ptrace is restricted) the
 * scan goes on without them and says so in "leakscan.status". With the
 * threads stopped, the process's RSS and memhook's own share of it are
 * its figures at exit. The scan reads only pages the process has
 * (peek.h), from the program's roots (roots.h), so it never faults
 * untouched memory in and never raises the program above its own peak;
 * what it did read back from swap is recorded in MH_REC_SCAN_COST.
 *
 * Must never leave the process stopped or waiting: every path detaches
 * and answers. Must never read a process that is not the program's: the
 * pid is checked against the recorder's own bookkeeping (tracked.h)
 * before the request is queued and again once its threads are stopped;
 * nothing is ever written into the process.
 */
#include "recorder/exitscan/stop.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "memhook/trace.h"
#include "recorder/ring_consumer.h"
#include "recorder/tracked.h"
#include "common/procmaps.h"
#include "common/clock.h"
#include "recorder/exitscan/peek.h"
#include "recorder/exitscan/roots.h"
#include "recorder/own.h"
#include "recorder/sampler.h"
#include "trace/records.h"

/* How long to wait for one thread to stop, ns. */
#define STOP_TIMEOUT_NS 2000000000LL
/* First and longest sleep between looks at a thread that is not stopped yet, ns. */
#define STOP_POLL_MIN_NS 20000L
#define STOP_POLL_MAX_NS 1000000L

struct target {
	pid_t pid;
	struct mh_maps maps;
	struct mh_own_map own;
	struct mh_root_thread *threads;
	size_t thread_count;
	size_t stopped_count;
	struct mh_peek peek;
	__u64 rss_before;		/* anon + file + shmem as the threads stopped, bytes */
	bool blind;			/* pagemap was unreadable: every page was read */
};

static int list_threads(struct target *t, pid_t requester)
{
	char path[64];
	struct dirent *d;
	size_t capacity = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)t->pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((d = readdir(dir))) {
		pid_t tid;

		if (d->d_name[0] == '.')
			continue;
		if (t->thread_count == capacity) {
			size_t grown = capacity ? 2 * capacity : 16;
			struct mh_root_thread *threads = realloc(t->threads, grown * sizeof(*threads));

			if (!threads) {
				closedir(dir);
				return -ENOMEM;
			}
			t->threads = threads;
			capacity = grown;
		}
		tid = atoi(d->d_name);
		t->threads[t->thread_count++] = (struct mh_root_thread){
			.tid = tid, .requester = tid == requester };
	}
	closedir(dir);
	return 0;
}

/*
 * Wait for tid's ptrace stop, polling so a thread that never stops cannot
 * hang us. A running thread stops within microseconds, so the sleeps start
 * short and double: the process waits for the whole scan, and a first
 * sleep of a millisecond was most of a short process's exit.
 */
static bool wait_stopped(pid_t tid)
{
	__u64 deadline = mh_clock_now_ns() + STOP_TIMEOUT_NS;
	long nap = STOP_POLL_MIN_NS;

	for (;;) {
		struct timespec ts = { .tv_nsec = nap };
		int status;
		pid_t got = waitpid(tid, &status, __WALL | WNOHANG);

		if (got == tid)
			return WIFSTOPPED(status);
		if (got < 0 || mh_clock_now_ns() > deadline)
			return false;
		nanosleep(&ts, NULL);
		nap = nap * 2 > STOP_POLL_MAX_NS ? STOP_POLL_MAX_NS : nap * 2;
	}
}

static void stop_thread(struct mh_root_thread *th)
{
	struct user_regs_struct regs;
	struct iovec iov = { .iov_base = &regs, .iov_len = sizeof(regs) };

	if (ptrace(PTRACE_SEIZE, th->tid, NULL, NULL) < 0)
		return;
	if (ptrace(PTRACE_INTERRUPT, th->tid, NULL, NULL) < 0 || !wait_stopped(th->tid) ||
	    ptrace(PTRACE_GETREGSET, th->tid, (void *)NT_PRSTATUS, &iov) < 0) {
		(void)ptrace(PTRACE_DETACH, th->tid, NULL, NULL); /* best effort: it may be gone */
		return;
	}
	memcpy(th->regs, &regs, sizeof(regs));
#if defined(__x86_64__)
	th->sp = regs.rsp;
#elif defined(__aarch64__)
	th->sp = regs.sp;
#endif
	th->stopped = true;
}

static void resume_threads(struct target *t)
{
	for (size_t i = 0; i < t->thread_count; i++) {
		if (t->threads[i].stopped)
			(void)ptrace(PTRACE_DETACH, t->threads[i].tid, NULL, NULL); /* gone is fine */
	}
}

static int read_target(void *ctx, __u64 addr, void *buf, size_t bytes)
{
	return mh_peek_read(&((struct target *)ctx)->peek, addr, buf, bytes);
}

/* Vtables live in read-only, file-backed memory (.rodata, .data.rel.ro after RELRO). */
static bool is_vtable_addr(void *ctx, __u64 addr)
{
	const struct target *t = ctx;
	const struct mh_map *m = mh_procmaps_find(&t->maps, addr);

	return m && m->inode != 0 && (m->prot & PROT_READ) && !(m->prot & PROT_WRITE);
}

static int classify(struct target *t, const struct mh_exitscan_request *req,
		    struct mh_exitscan_program *prog)
{
	struct mh_reach_memory mem = { .read = read_target, .is_vtable_addr = is_vtable_addr, .ctx = t };
	struct mh_root_input in = {
		.maps = &t->maps,
		.own = &t->own,
		.threads = t->threads,
		.thread_count = t->thread_count,
		.request_sp = req->sp,
		.blocks = prog->blocks,
		.block_count = prog->count,
		.regions = prog->regions,
		.region_count = prog->region_count,
		.read = read_target,
		.ctx = t,
	};
	struct mh_reach_roots roots;
	int err;

	/* Nothing live: nothing to reach, no memory to read. */
	if (!prog->count)
		return 0;
	/* Sorted first so the roots can tell heap mappings. */
	mh_reach_sort(prog->blocks, prog->count);
	err = mh_roots_collect(&in, &roots);
	if (err)
		return err;
	err = mh_reach_classify(prog->blocks, prog->count, &roots, &mem);
	mh_roots_free(&roots);
	return err;
}

static __u64 rss_of(const struct mh_rec_rss_sample *s)
{
	return s->anon_bytes + s->file_bytes + s->shmem_bytes;
}

/*
 * The process's figures at exit, read with its threads stopped:
 * memhook's own share of its RSS, then the RSS (same timestamp).
 */
static int emit_exit_figures(struct target *t, mh_record_sink_fn sink, void *ctx)
{
	struct {
		struct mh_rec_own_sample own;
		struct mh_rec_rss_sample rss;
	} recs;
	__u64 hwm = 0;
	int err = mh_sampler_read(t->pid, &recs.rss, &hwm);

	if (!err)
		err = mh_own_sample(t->pid, &t->own, recs.rss.ts_ns, hwm, MH_OWN_AT_EXIT_SCAN,
				    &recs.own);
	if (err)
		return err == -ENOENT ? -ESRCH : err;
	t->rss_before = rss_of(&recs.rss);
	return sink(ctx, MH_STREAM_SAMPLE, &recs, sizeof(recs));
}

/* What the scan did to the process, once it is done reading. */
static int emit_cost(struct target *t, __u64 start_ns, mh_record_sink_fn sink, void *ctx)
{
	struct mh_rec_rss_sample after;
	struct mh_rec_scan_cost rec = {
		.hdr = { .type = MH_REC_SCAN_COST, .size = sizeof(rec) },
		.start_ns = start_ns,
		.read_pages = t->peek.read_pages,
		.swapped_in_pages = t->peek.swapped_in_pages,
		.untouched_pages = t->peek.untouched_pages,
		.pid = (__u32)t->pid,
	};

	if (t->rss_before && mh_sampler_read(t->pid, &after, NULL) == 0 &&
	    rss_of(&after) > t->rss_before)
		rec.rss_raised_bytes = rss_of(&after) - t->rss_before;
	rec.ts_ns = mh_clock_now_ns();
	return sink(ctx, MH_STREAM_SAMPLE, &rec, sizeof(rec));
}

static int emit_info(const struct target *t, const char *value, mh_record_sink_fn sink, void *ctx)
{
	size_t size;
	struct mh_rec_info *rec = mh_rec_info_new(t->pid, "leakscan.status", value, &size);
	int err;

	if (!rec)
		return -errno;
	err = sink(ctx, MH_STREAM_META, rec, size);
	free(rec);
	return err;
}

static int emit_leaks(const struct target *t, const struct mh_reach_block *blocks, size_t count,
		      mh_record_sink_fn sink, void *ctx)
{
	for (size_t i = 0; i < count; i++) {
		struct mh_rec_leak rec = {
			.hdr = { .type = MH_REC_LEAK, .size = sizeof(rec) },
			.addr = blocks[i].addr,
			.pid = t->pid,
			.kind = blocks[i].kind,
		};
		int err = sink(ctx, MH_STREAM_META, &rec, sizeof(rec));

		if (err)
			return err;
	}
	return 0;
}

static pthread_mutex_t scan_lock = PTHREAD_MUTEX_INITIALIZER;

void mh_exitscan_lock(void)
{
	pthread_mutex_lock(&scan_lock);
}

bool mh_exitscan_trylock(void)
{
	return !pthread_mutex_trylock(&scan_lock);
}

void mh_exitscan_unlock(void)
{
	pthread_mutex_unlock(&scan_lock);
}

void mh_exitscan_release(struct mh_exitscan_request *req)
{
	if (req->pidfd >= 0)
		close(req->pidfd);
	req->pidfd = -1;
	mh_ring_answer(req->ring, req->ticket);
}

/*
 * With its threads stopped the process cannot exec or change its uids:
 * check now that it is still the tracked process and still the user's.
 */
static int still_ours(const struct mh_exitscan_request *req)
{
	struct pollfd p = { .fd = req->pidfd, .events = POLLIN };

	if (req->pidfd < 0 || poll(&p, 1, 0) != 0)
		return -ESRCH;
	return mh_tracked_check_user(req->tracked, req->pid);
}

int mh_exitscan_figures(struct mh_exitscan_request *req, mh_record_sink_fn sink, void *ctx)
{
	struct target t = { .pid = req->pid };
	int err = still_ours(req);

	if (!err)
		err = mh_procmaps_read(t.pid, &t.maps);
	if (!err)
		err = mh_own_find(t.pid, &t.maps, &t.own);
	if (!err)
		err = emit_exit_figures(&t, sink, ctx);
	mh_own_free(&t.own);
	mh_procmaps_free(&t.maps);
	mh_exitscan_release(req);
	return err;
}

/* Stop the threads, take the exit figures and the snapshot, classify; threads resumed after. */
static int scan_stopped(struct target *t, const struct mh_exitscan_request *req,
			struct mh_exitscan_program *prog, mh_record_sink_fn sink, void *ctx)
{
	__u64 start_ns;
	int err;

	mh_exitscan_lock();
	err = still_ours(req);
	if (!err)
		err = list_threads(t, req->tid);
	for (size_t i = 0; !err && i < t->thread_count; i++) {
		stop_thread(&t->threads[i]);
		if (t->threads[i].stopped)
			t->stopped_count++;
		else if (t->threads[i].requester)
			t->threads[i].sp = req->sp;
	}
	start_ns = mh_clock_now_ns();
	if (!err)
		err = still_ours(req);
	if (!err)
		err = mh_procmaps_read(t->pid, &t->maps);
	if (!err)
		err = mh_own_find(t->pid, &t->maps, &t->own);
	if (!err)
		err = emit_exit_figures(t, sink, ctx);
	if (!err)
		err = mh_pagemap_snapshot(t->pid, &t->maps, &t->own, sink, ctx);
	/* No live block, nothing to classify: the roots need not be read (most short processes). */
	if (!err && prog->count)
		err = mh_peek_open(&t->peek, t->pid);
	if (!err && prog->count) {
		t->blind = t->peek.pagemap_fd < 0;
		err = classify(t, req, prog);
		mh_peek_close(&t->peek);
	}
	if (!err)
		err = emit_cost(t, start_ns, sink, ctx);
	resume_threads(t);
	mh_exitscan_unlock();
	return err;
}

int mh_exitscan_run(struct mh_exitscan_request *req, struct mh_exitscan_program *prog,
		    mh_record_sink_fn sink, void *ctx)
{
	struct target t = { .pid = req->pid };
	char status[200];
	int err = scan_stopped(&t, req, prog, sink, ctx);

	if (!err)
		err = emit_leaks(&t, prog->blocks, prog->count, sink, ctx);
	if (err)
		snprintf(status, sizeof(status), "failed: %s", strerror(-err));
	else if (t.stopped_count < t.thread_count)
		snprintf(status, sizeof(status),
			 "partial: %zu of %zu threads stopped, registers of the others not scanned",
			 t.stopped_count, t.thread_count);
	else if (t.blind)
		snprintf(status, sizeof(status),
			 "complete, but /proc/%d/pagemap was unreadable: pages never touched were read too",
			 (int)t.pid);
	else
		snprintf(status, sizeof(status), "complete");
	if (!err)
		err = emit_info(&t, status, sink, ctx);
	else
		(void)emit_info(&t, status, sink, ctx); /* the first error is the one returned */
	mh_own_free(&t.own);
	mh_procmaps_free(&t.maps);
	free(t.threads);
	mh_exitscan_release(req);
	return err;
}
