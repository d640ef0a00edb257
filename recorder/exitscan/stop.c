// SPDX-License-Identifier: MIT
/*
 * stop.c - leak verdicts and a last residency snapshot while a process
 * waits in its exit path.
 *
 * Roots are those memcheck uses: every readable, writable mapping that is
 * not heap (the brk heap, malloc arenas and mmapped chunks, recognised as
 * mappings holding live blocks), each thread's stack from its stack
 * pointer up (which takes in glibc's static TLS at the top of a thread's
 * stack), and every thread's registers. Threads are stopped with
 * PTRACE_SEIZE/PTRACE_INTERRUPT; where that is refused (the process is
 * already traced, or ptrace is restricted) the scan goes on without them
 * and says so in "leakscan.status".
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
#include "trace/records.h"

/* Bytes below the stack pointer the ABI lets a leaf function use (x86-64 red zone). */
#define STACK_RED_ZONE_BYTES 128
/* How long to wait for one thread to stop, in milliseconds. */
#define STOP_TIMEOUT_MS 2000
#define REG_WORDS (sizeof(struct user_regs_struct) / sizeof(__u64))

struct thread {
	pid_t tid;
	bool stopped;		/* seized and in a ptrace stop: registers valid */
	__u64 sp;		/* stack pointer, 0 if unknown */
	__u64 regs[REG_WORDS];
};

struct target {
	pid_t pid;
	struct mh_maps maps;
	struct thread *threads;
	size_t thread_count;
	size_t stopped_count;
};

static int list_threads(struct target *t)
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
		if (d->d_name[0] == '.')
			continue;
		if (t->thread_count == capacity) {
			size_t grown = capacity ? 2 * capacity : 16;
			struct thread *threads = realloc(t->threads, grown * sizeof(*threads));

			if (!threads) {
				closedir(dir);
				return -ENOMEM;
			}
			t->threads = threads;
			capacity = grown;
		}
		t->threads[t->thread_count++] = (struct thread){ .tid = atoi(d->d_name) };
	}
	closedir(dir);
	return 0;
}

/* Wait for tid's ptrace stop, polling so a thread that never stops cannot hang us. */
static bool wait_stopped(pid_t tid)
{
	for (int waited_ms = 0; waited_ms < STOP_TIMEOUT_MS; waited_ms++) {
		int status;
		pid_t got = waitpid(tid, &status, __WALL | WNOHANG);

		if (got == tid)
			return WIFSTOPPED(status);
		if (got < 0)
			return false;
		usleep(1000);
	}
	return false;
}

static void stop_thread(struct thread *th)
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
	const struct target *t = ctx;
	struct iovec local = { .iov_base = buf, .iov_len = bytes };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = bytes };
	ssize_t got = process_vm_readv(t->pid, &local, 1, &remote, 1, 0);

	if (got == (ssize_t)bytes)
		return 0;
	return got < 0 ? -errno : -EFAULT;
}

/* Vtables live in read-only, file-backed memory (.rodata, .data.rel.ro after RELRO). */
static bool is_vtable_addr(void *ctx, __u64 addr)
{
	const struct target *t = ctx;
	const struct mh_map *m = mh_procmaps_find(&t->maps, addr);

	return m && m->inode != 0 && (m->prot & PROT_READ) && !(m->prot & PROT_WRITE);
}

static bool holds_block(const struct mh_map *m, const struct mh_reach_block *blocks, size_t count)
{
	size_t lo = 0, hi = count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (blocks[mid].addr < m->start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < count && blocks[lo].addr < m->end;
}

static const struct thread *thread_on(const struct target *t, const struct mh_map *m)
{
	for (size_t i = 0; i < t->thread_count; i++) {
		if (t->threads[i].sp >= m->start && t->threads[i].sp < m->end)
			return &t->threads[i];
	}
	return NULL;
}

static bool is_root_mapping(const struct mh_map *m)
{
	if ((m->prot & (PROT_READ | PROT_WRITE)) != (PROT_READ | PROT_WRITE))
		return false;
	if (!strcmp(m->path, "[heap]") || !strcmp(m->path, "[vvar]") ||
	    !strcmp(m->path, "[vsyscall]") || strstr(m->path, "memhook-ring"))
		return false;
	/* Device memory may have side effects when read. */
	return strncmp(m->path, "/dev/", 5) != 0 || !strncmp(m->path, "/dev/zero", 9);
}

/* Root ranges: data mappings whole, stacks from their thread's stack pointer. */
static int collect_ranges(const struct target *t, const struct mh_reach_block *blocks,
			  size_t count, struct mh_reach_range **out, size_t *out_count)
{
	struct mh_reach_range *ranges = calloc(t->maps.count, sizeof(*ranges));
	size_t n = 0;

	if (!ranges)
		return -ENOMEM;
	for (size_t i = 0; i < t->maps.count; i++) {
		const struct mh_map *m = &t->maps.maps[i];
		const struct thread *th = thread_on(t, m);
		__u64 start = m->start;

		if (!is_root_mapping(m))
			continue;
		if (th) {
			if (th->sp - STACK_RED_ZONE_BYTES > m->start)
				start = th->sp - STACK_RED_ZONE_BYTES;
		} else if (holds_block(m, blocks, count)) {
			continue;
		}
		ranges[n++] = (struct mh_reach_range){ .start = start, .end = m->end };
	}
	*out = ranges;
	*out_count = n;
	return 0;
}

static int classify(struct target *t, struct mh_reach_block *blocks, size_t count)
{
	struct mh_reach_memory mem = { .read = read_target, .is_vtable_addr = is_vtable_addr, .ctx = t };
	struct mh_reach_roots roots = { 0 };
	struct mh_reach_range *ranges;
	__u64 *values;
	int err;

	values = calloc(t->thread_count * REG_WORDS + 1, sizeof(*values));
	if (!values)
		return -ENOMEM;
	for (size_t i = 0; i < t->thread_count; i++) {
		if (t->threads[i].stopped) {
			memcpy(values + roots.value_count, t->threads[i].regs, sizeof(t->threads[i].regs));
			roots.value_count += REG_WORDS;
		}
	}
	/* Sorted first so holds_block() can search. */
	mh_reach_sort(blocks, count);
	err = collect_ranges(t, blocks, count, &ranges, &roots.range_count);
	if (!err) {
		roots.ranges = ranges;
		roots.values = values;
		err = mh_reach_classify(blocks, count, &roots, &mem);
		free(ranges);
	}
	free(values);
	return err;
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

int mh_exitscan_run(struct mh_exitscan_request *req, struct mh_reach_block *blocks,
		    size_t count, mh_record_sink_fn sink, void *ctx)
{
	struct target t = { .pid = req->pid };
	char status[160];
	int err;

	mh_exitscan_lock();
	err = still_ours(req);
	if (!err)
		err = list_threads(&t);
	for (size_t i = 0; !err && i < t.thread_count; i++) {
		stop_thread(&t.threads[i]);
		if (t.threads[i].stopped)
			t.stopped_count++;
		else if (t.threads[i].tid == req->tid)
			t.threads[i].sp = req->sp;
	}
	if (!err)
		err = still_ours(req);
	if (!err)
		err = mh_procmaps_read(t.pid, &t.maps);
	if (!err)
		err = mh_pagemap_snapshot(t.pid, &t.maps, sink, ctx);
	if (!err)
		err = classify(&t, blocks, count);
	resume_threads(&t);
	mh_exitscan_unlock();
	if (!err)
		err = emit_leaks(&t, blocks, count, sink, ctx);
	if (err)
		snprintf(status, sizeof(status), "failed: %s", strerror(-err));
	else if (t.stopped_count < t.thread_count)
		snprintf(status, sizeof(status),
			 "partial: %zu of %zu threads stopped, registers of the others not scanned",
			 t.stopped_count, t.thread_count);
	else
		snprintf(status, sizeof(status), "complete");
	if (!err)
		err = emit_info(&t, status, sink, ctx);
	else
		(void)emit_info(&t, status, sink, ctx); /* the first error is the one returned */
	mh_procmaps_free(&t.maps);
	free(t.threads);
	mh_exitscan_release(req);
	return err;
}
