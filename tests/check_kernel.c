// SPDX-License-Identifier: MIT
/*
 * check_kernel.c - the BPF collector (kernel/collector.h) against real
 * programs of known behaviour (tests/progs/kern_*.c), driven through the
 * collector's API. The oracle is always outside memhook: what the program
 * itself did and measured (its buffer, its tid, /proc/self/status,
 * /proc/self/pagemap), its wait status, the cgroup's own counters.
 *
 * Needs root and the kernel's probes; otherwise each test prints
 * "SKIP <name>: <reason>". The swap and OOM cases set up a swap file and
 * memory cgroups in unchecked fixtures and always remove them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include <check.h>

#include "kernel/collector.h"
#include "kernel/describe.h"
#include "memhook/kernel_events.h"
#include "memhook/trace.h"
#include "merger/trace_reader.h"
#include "testutil.h"

#define CGROUP_V1_MEMORY "/sys/fs/cgroup/memory"
#define MIB (1024LL * 1024)
/* Pages kern_touch touches. */
#define TOUCH_PAGES 1000
/* Pages kern_majfault reads back from disk. */
#define MAJFAULT_PAGES 500
/* Swap test: the buffer and the cgroup limit, MiB; the swap file, MiB. */
#define SWAP_BUF_MB 192
#define SWAP_LIMIT_MB 64
#define SWAP_FILE_MB 512
/* OOM test: the cgroup limit and what the program tries to touch, MiB. */
#define OOM_LIMIT_MB 32
#define OOM_TOUCH_MB 512

/* Every record the collector handed over, back to back. */
struct capture {
	char *buf;
	size_t len;
	size_t cap;
};

struct traced_run {
	pid_t pid;
	int status;
	bool kill_when_done;	/* in: SIGKILL the program once it reported "done=1" */
	bool oom_victim;	/* out: mh_collector_oom_victim() once it was reaped */
	struct capture cap;
	char report[4096];
};

static int capture_sink(void *ctx, int stream, const void *records, size_t bytes)
{
	struct capture *c = ctx;

	if (c->len + bytes > c->cap) {
		size_t cap = (c->len + bytes) * 2;
		char *buf = realloc(c->buf, cap);

		if (!buf)
			return -ENOMEM;
		c->buf = buf;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, records, bytes);
	c->len += bytes;
	return 0;
}

#define for_each_rec(hdr, c)							\
	for (hdr = (const struct mh_rec_hdr *)(c)->buf;				\
	     (const char *)hdr < (c)->buf + (c)->len;				\
	     hdr = (const struct mh_rec_hdr *)((const char *)hdr + hdr->size))

/* The value of the first INFO record with this key, or NULL. */
static const char *info_value(const struct capture *c, const char *key)
{
	const struct mh_rec_hdr *hdr;

	for_each_rec(hdr, c) {
		const struct mh_rec_info *info = (const void *)hdr;
		const char *k = (const char *)(info + 1);

		if (hdr->type == MH_REC_INFO && !strcmp(k, key))
			return k + info->key_len + 1;
	}
	return NULL;
}

/* The value of "kernel.probe.<probe>", or NULL. */
static const char *probe_status(const struct capture *c, const char *probe)
{
	char key[96];

	snprintf(key, sizeof(key), "kernel.probe.%s", probe);
	return info_value(c, key);
}

/* True if the probe attached; else prints SKIP with its status. */
static bool need_probe(const struct capture *c, const char *test, const char *probe)
{
	const char *st = probe_status(c, probe);
	char why[320];

	if (st && !strncmp(st, "attached", 8))
		return true;
	snprintf(why, sizeof(why), "probe %s: %s", probe, st ? st : "not reported");
	mh_test_skip(test, why);
	return false;
}

static long long report_val(const struct traced_run *r, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "%s=", key);
	for (p = r->report; (p = strstr(p, pat)); p++)
		if (p == r->report || p[-1] == '\n')
			return strtoll(p + strlen(pat), NULL, 10);
	ck_abort_msg("the program did not report %s (report: %s)", key, r->report);
	return -1;
}

/* Most arguments a test program takes. */
#define MAX_ARGS 4

static void child_exec(const char *prog, const char *const *args, const char *cgroup, int go,
		       int rep)
{
	char path[512], pid[32], c;
	const char *argv[MAX_ARGS + 2] = { prog };
	int i;
	int fd;

	if (cgroup) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup);
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		fd = open(path, O_WRONLY);
		if (fd < 0 || write(fd, pid, strlen(pid)) < 0)
			_exit(125);
		close(fd);
	}
	if (dup2(rep, 3) < 0 || read(go, &c, 1) != 1)
		_exit(125);
	for (i = 0; i < MAX_ARGS && args[i]; i++)
		argv[i + 1] = args[i];
	execv(prog, (char *const *)argv);
	_exit(127);
}

/* Read what the program reported so far (rep is non-blocking). */
static void read_report(int rep, struct traced_run *r, size_t *used)
{
	ssize_t n;

	while ((n = read(rep, r->report + *used, sizeof(r->report) - 1 - *used)) > 0)
		*used += n;
	r->report[*used] = '\0';
}

/*
 * Fork, park the child, open the collector on it, release it into prog and
 * collect until it exits (or, with r->kill_when_done, until it reported
 * "done=1": one more poll, then SIGKILL). Returns 0, or -errno from the
 * collector (the child is then killed; why says why).
 */
static int run_traced(const char *name, const char *const *args, const char *cgroup,
		      struct traced_run *r, char *why, size_t why_len)
{
	char *prog = mh_test_path(name);
	struct mh_collector_opts o = { .sink = capture_sink, .sink_ctx = &r->cap };
	bool kill_when_done = r->kill_when_done;
	struct mh_collector *c;
	int go[2], rep[2], err;
	size_t used = 0;

	memset(r, 0, sizeof(*r));
	r->kill_when_done = kill_when_done;
	ck_assert_int_eq(pipe2(go, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe(rep), 0);
	r->pid = fork();
	ck_assert_int_ge(r->pid, 0);
	if (r->pid == 0)
		child_exec(prog, args, cgroup, go[0], rep[1]);
	close(go[0]);
	close(rep[1]);
	o.pid = r->pid;
	err = mh_collector_open(&o, &c);
	if (err) {
		snprintf(why, why_len, "%s", mh_collector_reason());
		kill(r->pid, SIGKILL);
		waitpid(r->pid, &r->status, 0);
		close(go[1]);
		close(rep[0]);
		free(prog);
		return err;
	}
	ck_assert_int_eq(write(go[1], "g", 1), 1);
	close(go[1]);
	ck_assert_int_eq(fcntl(rep[0], F_SETFL, O_NONBLOCK), 0);
	while (waitpid(r->pid, &r->status, WNOHANG) == 0) {
		ck_assert_int_ge(mh_collector_poll(c, 100), 0);
		read_report(rep[0], r, &used);
		if (r->kill_when_done && strstr(r->report, "done=1\n")) {
			/* Its faults were in the ring before it reported: take them while it lives. */
			ck_assert_int_ge(mh_collector_poll(c, 0), 0);
			kill(r->pid, SIGKILL);
		}
	}
	r->oom_victim = mh_collector_oom_victim(c, r->pid);
	mh_collector_free(c);
	read_report(rep[0], r, &used);
	close(rep[0]);
	free(prog);
	return 0;
}

/* run_traced, or SKIP: true if the test can go on. */
static bool traced_or_skip(const char *test, const char *prog, const char *const *args,
			   const char *cgroup, struct traced_run *r)
{
	char why[256];

	if (geteuid() != 0) {
		mh_test_skip(test, "needs root to load BPF programs");
		return false;
	}
	if (run_traced(prog, args, cgroup, r, why, sizeof(why))) {
		mh_test_skip(test, why);
		return false;
	}
	return true;
}

START_TEST(test_faults_exact)
{
	const struct mh_rec_hdr *hdr;
	struct traced_run r = { 0 };
	long long buf, len, tid, in_buf = 0, foreign = 0, exe_faults = 0;
	char arg[32], *exe = mh_test_path("tests/progs/kern_touch");
	const char *args[] = { arg, NULL };
	struct stat st;

	snprintf(arg, sizeof(arg), "%d", TOUCH_PAGES);
	if (!traced_or_skip("faults_exact", "tests/progs/kern_touch", args, NULL, &r) ||
	    !need_probe(&r.cap, "faults_exact", "page_fault"))
		return;
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0,
		      "kern_touch failed: status %#x", r.status);
	ck_assert_int_eq(stat(exe, &st), 0);
	buf = report_val(&r, "buf");
	len = report_val(&r, "len");
	tid = report_val(&r, "tid");
	for_each_rec(hdr, &r.cap) {
		const struct mh_rec_kfault *f = (const void *)hdr;

		if (hdr->type != MH_REC_KFAULT)
			continue;
		if (f->pid != (__u32)r.pid) {
			foreign++;
			continue;
		}
		if (f->vma_class == MH_VMA_FILE && f->ino == st.st_ino &&
		    f->dev >> 20 == major(st.st_dev) && (f->dev & 0xfffff) == minor(st.st_dev))
			exe_faults++;
		if (f->addr < (__u64)buf || f->addr >= (__u64)(buf + len))
			continue;
		in_buf++;
		ck_assert_int_eq(f->tid, tid);
		ck_assert_int_eq(f->vma_class, MH_VMA_ANON);
		ck_assert_uint_eq(f->vma_start, buf);
	}
	ck_assert_int_eq(in_buf, TOUCH_PAGES);
	ck_assert_int_eq(foreign, 0);
	ck_assert(!r.oom_victim);
	ck_assert_int_gt(exe_faults, 0);
	free(exe);
	free(r.cap.buf);
}
END_TEST

/* True if the kernel dev_t of a fault or file record is st's device. */
static bool same_dev(__u32 dev, const struct stat *st)
{
	return dev >> 20 == major(st->st_dev) && (dev & 0xfffff) == minor(st->st_dev);
}

/* The KFILE records for st's file: how many, and the first (with its offset in the capture). */
static int find_kfile(const struct capture *c, const struct stat *st,
		      const struct mh_rec_kfile **first, size_t *offset)
{
	const struct mh_rec_hdr *hdr;
	int n = 0;

	*first = NULL;
	for_each_rec(hdr, c) {
		const struct mh_rec_kfile *k = (const void *)hdr;

		if (hdr->type != MH_REC_KFILE || k->ino != st->st_ino || !same_dev(k->dev, st))
			continue;
		ck_assert_uint_ge(hdr->size, sizeof(*k) + k->path_len + 1);
		ck_assert_int_eq(((const char *)(k + 1))[k->path_len], '\0');
		if (!n++) {
			*first = k;
			*offset = (const char *)hdr - c->buf;
		}
	}
	return n;
}

/* Faults on a mapped file (and on the executable) come with the file's path. */
START_TEST(test_file_faults_named)
{
	char *dir = mh_test_tmpdir(), *file = mh_test_join(dir, "mapped file.bin");
	char *exe = mh_test_path("tests/progs/kern_mapfile"), real_exe[PATH_MAX], pages[16];
	const char *args[] = { file, pages, NULL };
	const struct mh_rec_kfile *named, *exe_named;
	const struct mh_rec_hdr *hdr;
	struct traced_run r = { .kill_when_done = true };
	long long buf, len, in_buf = 0;
	size_t at, exe_at, off;
	struct stat st, exe_st;
	char block[4096];
	int fd, i;

	memset(block, 0x5a, sizeof(block));
	fd = open(file, O_CREAT | O_WRONLY, 0644);
	ck_assert_int_ge(fd, 0);
	for (i = 0; i < 64; i++)
		ck_assert_int_eq(write(fd, block, sizeof(block)), sizeof(block));
	close(fd);
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert_int_eq(stat(exe, &exe_st), 0);
	ck_assert_ptr_nonnull(realpath(exe, real_exe));
	snprintf(pages, sizeof(pages), "%lld", 64 * 4096LL / sysconf(_SC_PAGESIZE));
	if (!traced_or_skip("file_faults_named", "tests/progs/kern_mapfile", args, NULL, &r) ||
	    !need_probe(&r.cap, "file_faults_named", "page_fault"))
		goto out;
	ck_assert_msg(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGKILL,
		      "kern_mapfile did not wait to be killed: status %#x", r.status);
	buf = report_val(&r, "buf");
	len = report_val(&r, "len");
	/* Exactly one KFILE per file, with the path the file has, before its first fault. */
	ck_assert_int_eq(find_kfile(&r.cap, &st, &named, &at), 1);
	ck_assert_str_eq((const char *)(named + 1), file);
	ck_assert_int_eq(named->pid, r.pid);
	ck_assert_int_eq(find_kfile(&r.cap, &exe_st, &exe_named, &exe_at), 1);
	ck_assert_str_eq((const char *)(exe_named + 1), real_exe);
	for_each_rec(hdr, &r.cap) {
		const struct mh_rec_kfault *f = (const void *)hdr;

		if (hdr->type != MH_REC_KFAULT || f->pid != (__u32)r.pid)
			continue;
		off = (const char *)hdr - r.cap.buf;
		if (f->ino == exe_st.st_ino && same_dev(f->dev, &exe_st))
			ck_assert_uint_gt(off, exe_at);
		if (f->addr < (__u64)buf || f->addr >= (__u64)(buf + len))
			continue;
		in_buf++;
		ck_assert_int_eq(f->vma_class, MH_VMA_FILE);
		ck_assert_uint_eq(f->ino, st.st_ino);
		ck_assert(same_dev(f->dev, &st));
		ck_assert_uint_gt(off, at);
		ck_assert_uint_ge(f->ts_ns, named->ts_ns);
	}
	ck_assert_int_gt(in_buf, 0);
	free(r.cap.buf);
out:
	unlink(file);
	mh_test_rmdir(dir);
	free(file);
	free(dir);
	free(exe);
}
END_TEST

START_TEST(test_major_faults_match_rusage)
{
	const struct mh_rec_hdr *hdr;
	struct traced_run r = { 0 };
	long long buf, len, majflt, seen = 0;
	char path[64], pages[16];
	const char *args[] = { path, pages, NULL };

	/* On disk, not tmpfs: the reads must need I/O. */
	snprintf(path, sizeof(path), "/var/tmp/memhook-kmaj.%d", (int)getpid());
	snprintf(pages, sizeof(pages), "%d", MAJFAULT_PAGES);
	if (!traced_or_skip("major_faults_match_rusage", "tests/progs/kern_majfault", args, NULL,
			    &r) ||
	    !need_probe(&r.cap, "major_faults_match_rusage", "major_fault")) {
		unlink(path);
		return;
	}
	unlink(path);
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0,
		      "kern_majfault failed: status %#x", r.status);
	buf = report_val(&r, "buf");
	len = report_val(&r, "len");
	majflt = report_val(&r, "majflt");
	for_each_rec(hdr, &r.cap) {
		const struct mh_rec_kmajfault *m = (const void *)hdr;

		if (hdr->type == MH_REC_KMAJFAULT && m->pid == (__u32)r.pid &&
		    m->addr >= (__u64)buf && m->addr < (__u64)(buf + len))
			seen++;
	}
	ck_assert_int_gt(majflt, MAJFAULT_PAGES / 2);
	ck_assert_int_eq(seen, majflt);
	free(r.cap.buf);
}
END_TEST

/* The latest RSS sample of member for pid taken no later than ts, or -1. */
static long long last_rss(const struct capture *c, pid_t pid, __u32 member, __u64 ts)
{
	const struct mh_rec_hdr *hdr;
	__u64 best_ts = 0;
	long long val = -1;

	for_each_rec(hdr, c) {
		const struct mh_rec_krss *s = (const void *)hdr;

		if (hdr->type == MH_REC_KRSS && s->pid == (__u32)pid && s->member == member &&
		    s->ts_ns <= ts && s->ts_ns >= best_ts) {
			best_ts = s->ts_ns;
			val = s->bytes;
		}
	}
	return val;
}

START_TEST(test_rss_matches_status)
{
	static const struct { __u32 member; const char *key; } fields[] = {
		{ MH_RSS_ANON, "anon_kb" }, { MH_RSS_FILE, "file_kb" },
		{ MH_RSS_SHMEM, "shmem_kb" },
	};
	long long page = sysconf(_SC_PAGESIZE), got, want;
	const char *args[] = { "300", NULL };
	struct traced_run r = { 0 };
	__u64 after;
	size_t i;

	if (!traced_or_skip("rss_matches_status", "tests/progs/kern_touch", args, NULL, &r) ||
	    !need_probe(&r.cap, "rss_matches_status", "rss_stat"))
		return;
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0,
		      "kern_touch failed: status %#x", r.status);
	after = report_val(&r, "status_after");
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		want = report_val(&r, fields[i].key) * 1024;
		got = last_rss(&r.cap, r.pid, fields[i].member, after);
		if (got < 0)
			got = 0;	/* never changed since exec: still zero */
		ck_assert_msg(llabs(got - want) <= page, "%s: collector %lld bytes, /proc %lld bytes",
			      fields[i].key, got, want);
	}
	free(r.cap.buf);
}
END_TEST

/* Shared by the swap and OOM fixtures: what was set up, or why not. */
static char cgroup_dir[128];
static char swap_path[128];
static char setup_skip[512];
static bool swap_on;

static int write_file(const char *dir, const char *name, long long value)
{
	char path[512], text[32];
	int fd, n, err = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	n = snprintf(text, sizeof(text), "%lld", value);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, text, n) != n)
		err = -errno;
	close(fd);
	return err;
}

static long long read_number(const char *dir, const char *name)
{
	char path[512], *text;
	long long v;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	text = mh_test_read_file(path, NULL);
	if (!text)
		return -1;
	v = strtoll(text, NULL, 10);
	free(text);
	return v;
}

/* Make a v1 memory cgroup with a limit (and the same memsw limit if memsw). */
static void make_cgroup(const char *tag, long long limit, bool memsw)
{
	int err;

	snprintf(cgroup_dir, sizeof(cgroup_dir), "%s/memhook-%s.%d", CGROUP_V1_MEMORY, tag,
		 (int)getpid());
	if (mkdir(cgroup_dir, 0755)) {
		snprintf(setup_skip, sizeof(setup_skip), "cannot create memory cgroup %s: %s",
			 cgroup_dir, strerror(errno));
		cgroup_dir[0] = '\0';
		return;
	}
	err = write_file(cgroup_dir, "memory.limit_in_bytes", limit);
	if (!err && memsw)
		err = write_file(cgroup_dir, "memory.memsw.limit_in_bytes", limit);
	if (err)
		snprintf(setup_skip, sizeof(setup_skip), "cannot set the cgroup's limit: %s",
			 strerror(-err));
}

static void remove_cgroup(void)
{
	int tries;

	if (!cgroup_dir[0])
		return;
	/* The last task leaves the cgroup shortly after it is reaped. */
	for (tries = 0; tries < 50 && rmdir(cgroup_dir) && errno == EBUSY; tries++)
		usleep(100000);
	cgroup_dir[0] = '\0';
}

static void swap_setup(void)
{
	const char *mkswap[] = { "mkswap", "-q", swap_path, NULL };
	struct mh_test_cmd cmd = { .argv = mkswap };
	int fd, st;

	setup_skip[0] = '\0';
	swap_on = false;
	if (geteuid() != 0) {
		snprintf(setup_skip, sizeof(setup_skip), "needs root for swap and cgroups");
		return;
	}
	snprintf(swap_path, sizeof(swap_path), "/var/tmp/memhook-kswap.%d", (int)getpid());
	fd = open(swap_path, O_CREAT | O_EXCL | O_WRONLY, 0600);
	if (fd < 0 || posix_fallocate(fd, 0, SWAP_FILE_MB * MIB)) {
		snprintf(setup_skip, sizeof(setup_skip), "cannot create swap file %s", swap_path);
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	st = mh_test_run(&cmd);
	if (st != 0 || swapon(swap_path, 0)) {
		snprintf(setup_skip, sizeof(setup_skip), "cannot enable swap file %s: %s",
			 swap_path, st ? "mkswap failed" : strerror(errno));
		return;
	}
	swap_on = true;
	make_cgroup("kswap", SWAP_LIMIT_MB * MIB, false);
}

static void swap_teardown(void)
{
	remove_cgroup();
	if (swap_on)
		(void)swapoff(swap_path);	/* nothing else can be done if it fails */
	if (swap_path[0])
		unlink(swap_path);
	swap_on = false;
	swap_path[0] = '\0';
}

START_TEST(test_swapins_match_pagemap)
{
	const struct mh_rec_hdr *hdr;
	struct traced_run r = { 0 };
	long long buf, len, measured, seen = 0, episodes = 0;
	char arg[16];
	const char *args[] = { arg, NULL };

	if (setup_skip[0]) {
		mh_test_skip("swapins_match_pagemap", setup_skip);
		return;
	}
	snprintf(arg, sizeof(arg), "%d", SWAP_BUF_MB);
	if (!traced_or_skip("swapins_match_pagemap", "tests/progs/kern_swap", args, cgroup_dir,
			    &r) ||
	    !need_probe(&r.cap, "swapins_match_pagemap", "rss_stat") ||
	    !need_probe(&r.cap, "swapins_match_pagemap", "page_fault") ||
	    !need_probe(&r.cap, "swapins_match_pagemap", "memcg_reclaim_end"))
		return;
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0,
		      "kern_swap failed: status %#x", r.status);
	buf = report_val(&r, "buf");
	len = report_val(&r, "len");
	measured = report_val(&r, "swapped_in");
	for_each_rec(hdr, &r.cap) {
		const struct mh_rec_kswapin *s = (const void *)hdr;
		const struct mh_rec_kreclaim *rc = (const void *)hdr;

		if (hdr->type == MH_REC_KSWAPIN && s->pid == (__u32)r.pid &&
		    s->addr >= (__u64)buf && s->addr < (__u64)(buf + len))
			seen += s->pages;
		if (hdr->type == MH_REC_KRECLAIM && rc->kind == MH_RECLAIM_MEMCG &&
		    rc->pid == (__u32)r.pid) {
			ck_assert_uint_gt(rc->ts_ns, rc->start_ns);
			episodes++;
		}
	}
	/* Enough of the buffer must have been swapped for the test to mean something. */
	ck_assert_int_gt(measured, (SWAP_BUF_MB - SWAP_LIMIT_MB) * MIB / sysconf(_SC_PAGESIZE) / 4);
	ck_assert_msg(llabs(seen - measured) * 100 <= measured * 5,
		      "swap-ins: collector %lld pages, pagemap %lld pages", seen, measured);
	ck_assert_int_gt(episodes, 0);
	free(r.cap.buf);
}
END_TEST

static void oom_setup(void)
{
	char memsw[512];

	setup_skip[0] = '\0';
	if (geteuid() != 0) {
		snprintf(setup_skip, sizeof(setup_skip), "needs root for cgroups");
		return;
	}
	snprintf(memsw, sizeof(memsw), "%s/memory.memsw.limit_in_bytes", CGROUP_V1_MEMORY);
	make_cgroup("koom", OOM_LIMIT_MB * MIB, access(memsw, F_OK) == 0);
}

START_TEST(test_oom_victim)
{
	const struct mh_rec_hdr *hdr;
	const struct mh_rec_koom *victim = NULL;
	const struct mh_rec_ksignal *kill_rec = NULL;
	struct traced_run r = { 0 };
	long long max_usage;
	char arg[16];
	const char *args[] = { arg, NULL };

	if (setup_skip[0]) {
		mh_test_skip("oom_victim", setup_skip);
		return;
	}
	snprintf(arg, sizeof(arg), "%d", OOM_TOUCH_MB);
	if (!traced_or_skip("oom_victim", "tests/progs/kern_oom", args, cgroup_dir, &r) ||
	    !need_probe(&r.cap, "oom_victim", "mark_victim") ||
	    !need_probe(&r.cap, "oom_victim", "signal_generate"))
		return;
	ck_assert_msg(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGKILL,
		      "kern_oom was not killed: status %#x", r.status);
	ck_assert_int_eq(report_val(&r, "pid"), r.pid);
	max_usage = read_number(cgroup_dir, "memory.max_usage_in_bytes");
	for_each_rec(hdr, &r.cap) {
		if (hdr->type == MH_REC_KOOM && ((const struct mh_rec_koom *)hdr)->pid == (__u32)r.pid)
			victim = (const void *)hdr;
		if (hdr->type == MH_REC_KSIGNAL &&
		    ((const struct mh_rec_ksignal *)hdr)->pid == (__u32)r.pid && !kill_rec)
			kill_rec = (const void *)hdr;
	}
	ck_assert_ptr_nonnull(victim);
	ck_assert_ptr_nonnull(kill_rec);
	ck_assert(r.oom_victim);
	ck_assert_uint_eq(kill_rec->sig, SIGKILL);
	ck_assert_uint_le(kill_rec->ts_ns, victim->ts_ns);
	/* The victim's anonymous RSS is what the cgroup charged, less its file pages. */
	ck_assert_int_gt(max_usage, 0);
	ck_assert_int_le(victim->anon_rss_bytes, max_usage);
	ck_assert_int_ge(victim->anon_rss_bytes, max_usage - 8 * MIB);
	free(r.cap.buf);
}
END_TEST

START_TEST(test_describe_every_type)
{
	union {
		struct mh_rec_hdr hdr;
		char bytes[256];
	} rec;
	char *text;
	size_t len;
	FILE *out;
	int type;

	for (type = MH_REC_KERNEL_FIRST; type <= MH_REC_KERNEL_LAST + 1; type++) {
		memset(&rec, 0, sizeof(rec));
		rec.hdr.type = type;
		rec.hdr.size = sizeof(rec);
		out = open_memstream(&text, &len);
		ck_assert_ptr_nonnull(out);
		if (type <= MH_REC_KERNEL_LAST)
			ck_assert_int_eq(mh_kernel_describe(out, &rec.hdr), 0);
		else
			ck_assert_int_eq(mh_kernel_describe(out, &rec.hdr), -EINVAL);
		fclose(out);
		ck_assert_ptr_null(strchr(text, '\n'));
		if (type <= MH_REC_KERNEL_LAST)
			ck_assert_int_gt(len, 0);
		free(text);
	}
	rec.hdr.type = MH_REC_KFAULT;
	rec.hdr.size = 8;
	ck_assert_int_eq(mh_kernel_describe(stdout, &rec.hdr), -EINVAL);
}
END_TEST

/* ---- memhook record and memhook collect, run as a user runs them ---- */

/* Time limit of one memhook command in these tests, s (a hang guard, not a measure). */
#define CMD_TIMEOUT_S 120
/* uid and gid of the unprivileged user the degradation tests switch to (nobody). */
#define NOBODY "65534"

/* One trace's records: kernel and meta streams copied out, allocation records counted. */
struct trace_recs {
	struct capture kern;
	struct capture meta;
	long long allocs;
	bool truncated;
	__u32 root_pid;
};

static void load_trace(const char *path, struct trace_recs *t)
{
	struct mh_trace_reader *r = mh_trace_reader_open(path);
	const struct mh_rec_hdr *rec;
	int stream, ret;

	memset(t, 0, sizeof(*t));
	ck_assert_msg(r != NULL, "cannot open trace '%s': %s", path, strerror(errno));
	t->root_pid = mh_trace_reader_header(r)->root_pid;
	while ((ret = mh_trace_reader_next(r, MH_STREAM_ANY, &rec, &stream)) == 1) {
		if (stream == MH_STREAM_KERNEL)
			ck_assert_int_eq(capture_sink(&t->kern, stream, rec, rec->size), 0);
		else if (stream == MH_STREAM_META)
			ck_assert_int_eq(capture_sink(&t->meta, stream, rec, rec->size), 0);
		else if (stream == MH_STREAM_ALLOC && rec->type == MH_REC_ALLOC)
			t->allocs++;
	}
	ck_assert_msg(ret == 0, "reading '%s': %s", path, mh_trace_reader_error(r));
	t->truncated = mh_trace_reader_truncated(r);
	mh_trace_reader_free(r);
}

static void free_trace(struct trace_recs *t)
{
	free(t->kern.buf);
	free(t->meta.buf);
}

/* A file's text with its one trailing newline removed; asserts it is exactly one line. */
static char *one_line(const char *path)
{
	char *text = mh_test_read_file(path, NULL), *nl;

	ck_assert_ptr_nonnull(text);
	nl = strchr(text, '\n');
	ck_assert_msg(nl && !nl[1], "expected exactly one line on stderr, got: '%s'", text);
	*nl = '\0';
	return text;
}

/* Copy a built artefact into dir, readable and executable by everyone. */
static void stage(const char *dir, const char *rel)
{
	const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
	char *src = mh_test_path(rel), *dst = mh_test_join(dir, base), *bytes;
	size_t len;
	int fd;

	bytes = mh_test_read_file(src, &len);
	ck_assert_msg(bytes != NULL, "%s is not built", src);
	fd = open(dst, O_CREAT | O_TRUNC | O_WRONLY, 0755);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, bytes, len), (ssize_t)len);
	close(fd);
	ck_assert_int_eq(chmod(dst, 0755), 0);
	free(bytes);
	free(dst);
	free(src);
}

/*
 * A directory the unprivileged user can write, holding memhook,
 * libmemhook.so and kern_entry (the build directory may be out of its
 * reach). NULL, after printing SKIP, when the test cannot switch users.
 */
static char *unprivileged_dir(const char *test)
{
	const char *probe[] = { "setpriv", "--reuid=" NOBODY, "--regid=" NOBODY,
				"--clear-groups", "test", "-w", NULL, NULL };
	struct mh_test_cmd cmd = { .argv = probe, .timeout_s = CMD_TIMEOUT_S };
	char *dir;

	if (geteuid() != 0) {
		mh_test_skip(test, "needs root to switch to an unprivileged user");
		return NULL;
	}
	if (!mh_test_have_program("setpriv")) {
		mh_test_skip(test, "setpriv (util-linux) is not installed");
		return NULL;
	}
	dir = mh_test_tmpdir();
	ck_assert_int_eq(chmod(dir, 0777), 0);
	probe[6] = dir;
	if (mh_test_run(&cmd) != 0) {
		mh_test_skip(test, "the temporary directory is out of reach of uid " NOBODY);
		mh_test_rmdir(dir);
		free(dir);
		return NULL;
	}
	stage(dir, "memhook");
	stage(dir, "libmemhook.so");
	stage(dir, "tests/progs/kern_entry");
	return dir;
}

/* Run memhook (staged in dir) as the unprivileged user; its stdout/stderr to dir/out, dir/err. */
static int run_unprivileged(const char *dir, const char *const *args)
{
	const char *argv[24] = { "setpriv", "--reuid=" NOBODY, "--regid=" NOBODY, "--clear-groups" };
	char *memhook = mh_test_join(dir, "memhook"), *out = mh_test_join(dir, "out");
	char *err = mh_test_join(dir, "err");
	struct mh_test_cmd cmd = { .argv = argv, .stdout_path = out, .stderr_path = err,
				   .timeout_s = CMD_TIMEOUT_S };
	int i, st;

	argv[4] = memhook;
	for (i = 0; args[i]; i++)
		argv[5 + i] = args[i];
	st = mh_test_run(&cmd);
	free(memhook);
	free(out);
	free(err);
	return st;
}

/* Without privileges, --kernel=auto still records the allocations and says why not the kernel's. */
START_TEST(test_record_unprivileged_auto)
{
	char *dir = unprivileged_dir("record_unprivileged_auto"), *trace, *prog, *err, *line;
	const char *prefix = "memhook: kernel stream off: ", *status;
	struct trace_recs t;
	char want[512];
	int st;

	if (!dir)
		return;
	trace = mh_test_join(dir, "t.mht");
	prog = mh_test_join(dir, "kern_entry");
	err = mh_test_join(dir, "err");
	{
		const char *args[] = { "record", "-q", "--kernel=auto", "-o", trace, "--", prog,
				       "25", NULL };

		st = run_unprivileged(dir, args);
	}
	line = one_line(err);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x, stderr: %s", st, line);
	ck_assert_msg(!strncmp(line, prefix, strlen(prefix)) && strlen(line) > strlen(prefix),
		      "stderr: %s", line);
	load_trace(trace, &t);
	snprintf(want, sizeof(want), "off: %s", line + strlen(prefix));
	status = info_value(&t.meta, "kernel.status");
	ck_assert_ptr_nonnull(status);
	ck_assert_str_eq(status, want);
	ck_assert_uint_eq(t.kern.len, 0);
	ck_assert_int_ge(t.allocs, 25);	/* the program's own 25, and whatever libc adds */
	ck_assert(!t.truncated);
	free_trace(&t);
	free(line);
	free(err);
	free(prog);
	free(trace);
	mh_test_rmdir(dir);
	free(dir);
}
END_TEST

/* Without privileges, --kernel=on refuses to run the program, in one line. */
START_TEST(test_record_unprivileged_on)
{
	char *dir = unprivileged_dir("record_unprivileged_on"), *trace, *prog, *err, *out, *line;
	const char *prefix = "memhook: kernel stream unavailable: ";
	size_t out_len;
	int st;

	if (!dir)
		return;
	trace = mh_test_join(dir, "t.mht");
	prog = mh_test_join(dir, "kern_entry");
	err = mh_test_join(dir, "err");
	{
		const char *args[] = { "record", "-q", "--kernel=on", "-o", trace, "--", prog,
				       NULL };

		st = run_unprivileged(dir, args);
	}
	line = one_line(err);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 69, "status %#x, stderr: %s", st, line);
	ck_assert_msg(!strncmp(line, prefix, strlen(prefix)) && strlen(line) > strlen(prefix),
		      "stderr: %s", line);
	out = mh_test_join(dir, "out");
	free(mh_test_read_file(out, &out_len));
	ck_assert_uint_eq(out_len, 0);		/* the program never ran */
	ck_assert_int_ne(access(trace, F_OK), 0);
	free(out);
	free(line);
	free(err);
	free(prog);
	free(trace);
	mh_test_rmdir(dir);
	free(dir);
}
END_TEST

/* The earliest fault of pid at or after ts, or NULL. */
static const struct mh_rec_kfault *first_fault(const struct capture *c, __u32 pid, __u64 ts)
{
	const struct mh_rec_kfault *best = NULL;
	const struct mh_rec_hdr *hdr;

	for_each_rec(hdr, c) {
		const struct mh_rec_kfault *f = (const void *)hdr;

		if (hdr->type == MH_REC_KFAULT && f->pid == pid && f->ts_ns >= ts &&
		    (!best || f->ts_ns < best->ts_ns))
			best = f;
	}
	return best;
}

/*
 * The probes are attached before the program execs: its very first fault,
 * fetching the dynamic loader's entry instruction, is in the trace, and the
 * loader's file is named.
 */
START_TEST(test_record_first_fault)
{
	char *dir = mh_test_tmpdir(), *trace = mh_test_join(dir, "t.mht");
	char *out = mh_test_join(dir, "out"), *err = mh_test_join(dir, "err");
	char *memhook = mh_test_path("memhook"), *prog = mh_test_path("tests/progs/kern_entry");
	const char *argv[] = { memhook, "record", "-q", "--kernel=on", "-o", trace, "--", prog,
			       NULL };
	struct mh_test_cmd cmd = { .argv = argv, .stdout_path = out, .stderr_path = err,
				   .timeout_s = CMD_TIMEOUT_S };
	const struct mh_rec_kfault *f;
	const struct mh_rec_kfile *named = NULL;
	const struct mh_rec_hdr *hdr;
	struct traced_run rep = { 0 };
	struct trace_recs t;
	__u64 exec_ts = 0;
	struct stat st;
	char *text;
	int status;

	if (geteuid() != 0) {
		mh_test_skip("record_first_fault", "needs root to load BPF programs");
		goto out;
	}
	status = mh_test_run(&cmd);
	text = mh_test_read_file(err, NULL);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 69) {
		mh_test_skip("record_first_fault", text);
		free(text);
		goto out;
	}
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x: %s", status,
		      text);
	free(text);
	text = mh_test_read_file(out, NULL);
	snprintf(rep.report, sizeof(rep.report), "%s", text);
	free(text);
	load_trace(trace, &t);
	if (!need_probe(&t.meta, "record_first_fault", "page_fault") ||
	    !need_probe(&t.meta, "record_first_fault", "process_exec"))
		goto out_trace;
	for_each_rec(hdr, &t.kern) {
		const struct mh_rec_kproc *k = (const void *)hdr;

		if (hdr->type == MH_REC_KPROC && k->kind == MH_KPROC_EXEC && k->pid == t.root_pid)
			exec_ts = k->ts_ns;
	}
	ck_assert_uint_gt(exec_ts, 0);
	f = first_fault(&t.kern, t.root_pid, exec_ts);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->ip, report_val(&rep, "entry"));
	ck_assert_uint_eq(f->addr, report_val(&rep, "entry"));
	ck_assert_int_eq(f->vma_class, MH_VMA_FILE);
	ck_assert_uint_ge(f->vma_start, report_val(&rep, "base"));
	for_each_rec(hdr, &t.kern) {
		const struct mh_rec_kfile *k = (const void *)hdr;

		if (hdr->type == MH_REC_KFILE && k->ino == f->ino && k->dev == f->dev)
			named = k;
	}
	ck_assert_ptr_nonnull(named);
	ck_assert_int_eq(stat((const char *)(named + 1), &st), 0);
	ck_assert_uint_eq(st.st_ino, f->ino);
	ck_assert(same_dev(f->dev, &st));
out_trace:
	free_trace(&t);
out:
	free(prog);
	free(memhook);
	free(err);
	free(out);
	free(trace);
	mh_test_rmdir(dir);
	free(dir);
}
END_TEST

/* Wait for pid, killing it after CMD_TIMEOUT_S. Returns its wait status, or -ETIMEDOUT. */
static int wait_guarded(pid_t pid)
{
	int status, i;

	for (i = 0; i < CMD_TIMEOUT_S * 100; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -ETIMEDOUT;
}

/* Read from fd until text contains want, EOF, or the time limit. NUL-terminated. */
static void read_until(int fd, char *text, size_t len, const char *want)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t used = strlen(text);
	ssize_t n;

	while (!strstr(text, want) && used < len - 1 && poll(&pfd, 1, CMD_TIMEOUT_S * 1000) > 0) {
		n = read(fd, text + used, len - 1 - used);
		if (n <= 0)
			break;
		used += n;
		text[used] = '\0';
	}
}

/* A program and `memhook collect` attached to it. */
struct collect_run {
	char *dir, *file, *trace;
	pid_t target, collector;
	bool reaped;		/* the target was waited for */
	int go, rep, err;
	char report[1024], errors[1024];
};

/* Fork, with stdin from *in, fd 3 (or stderr, when to_stderr) to a pipe kept in *out. */
static pid_t spawn(const char *const *argv, int *in, int *out, bool to_stderr)
{
	int a[2], b[2];
	pid_t pid;

	ck_assert_int_eq(pipe2(a, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(b, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (dup2(a[0], 0) < 0 || dup2(b[1], to_stderr ? 2 : 3) < 0)
			_exit(125);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(a[0]);
	close(b[1]);
	*in = a[1];
	*out = b[0];
	return pid;
}

/* Start kern_mapfile waiting, attach memhook collect to it, release it. False after SKIP. */
static bool collect_start(const char *test, struct collect_run *r)
{
	char *prog = mh_test_path("tests/progs/kern_mapfile"), *memhook = mh_test_path("memhook");
	const char *target[] = { prog, NULL, "16", "wait", NULL };
	const char *collect[] = { memhook, "collect", "-p", NULL, "-o", NULL, NULL };
	char pid[16], block[4096] = { 0 };
	int fd, i, unused;

	memset(r, 0, sizeof(*r));
	if (geteuid() != 0) {
		mh_test_skip(test, "needs root to load BPF programs");
		free(prog);
		free(memhook);
		return false;
	}
	r->dir = mh_test_tmpdir();
	r->file = mh_test_join(r->dir, "data");
	r->trace = mh_test_join(r->dir, "t.mht");
	fd = open(r->file, O_CREAT | O_WRONLY, 0644);
	ck_assert_int_ge(fd, 0);
	for (i = 0; i < 16; i++)
		ck_assert_int_eq(write(fd, block, sizeof(block)), sizeof(block));
	close(fd);
	target[1] = r->file;
	r->target = spawn(target, &r->go, &r->rep, false);
	snprintf(pid, sizeof(pid), "%d", (int)r->target);
	collect[3] = pid;
	collect[5] = r->trace;
	r->collector = spawn(collect, &unused, &r->err, true);
	close(unused);
	read_until(r->err, r->errors, sizeof(r->errors), "memhook: collecting");
	free(prog);
	free(memhook);
	if (!strstr(r->errors, "memhook: collecting")) {
		ck_assert_int_eq(wait_guarded(r->collector) >> 8, 69);	/* only "unavailable" skips */
		mh_test_skip(test, r->errors);
		return false;
	}
	ck_assert_int_eq(write(r->go, "g", 1), 1);
	read_until(r->rep, r->report, sizeof(r->report), "done=1\n");
	ck_assert_msg(strstr(r->report, "done=1\n"), "kern_mapfile said: %s", r->report);
	return true;
}

static void collect_cleanup(struct collect_run *r)
{
	if (r->target > 0 && !r->reaped) {
		kill(r->target, SIGKILL);
		waitpid(r->target, NULL, 0);
	}
	if (r->go > 0)
		close(r->go);
	if (r->rep > 0)
		close(r->rep);
	if (r->err > 0)
		close(r->err);
	if (r->dir)
		mh_test_rmdir(r->dir);
	free(r->file);
	free(r->trace);
	free(r->dir);
}

/* What every complete collect trace holds: who, "on", the faults on the file and its name. */
static void check_collect_trace(struct collect_run *r, struct trace_recs *t)
{
	const struct mh_rec_hdr *hdr;
	struct traced_run rep = { 0 };
	const struct mh_rec_kfile *named;
	bool attached = false;
	long long buf, in_buf = 0;
	struct stat st;
	size_t at;

	load_trace(r->trace, t);
	ck_assert(!t->truncated);
	ck_assert_uint_eq(t->root_pid, r->target);
	ck_assert_str_eq(info_value(&t->meta, "kernel.status"), "on");
	for_each_rec(hdr, &t->meta) {
		const struct mh_rec_process *p = (const void *)hdr;

		if (hdr->type == MH_REC_PROCESS && p->pid == (__u32)r->target &&
		    p->start == MH_PROCESS_ATTACHED)
			attached = true;
	}
	ck_assert(attached);
	snprintf(rep.report, sizeof(rep.report), "%s", r->report);
	buf = report_val(&rep, "buf");
	for_each_rec(hdr, &t->kern) {
		const struct mh_rec_kfault *f = (const void *)hdr;

		if (hdr->type == MH_REC_KFAULT && f->pid == (__u32)r->target &&
		    f->addr >= (__u64)buf && f->addr < (__u64)(buf + report_val(&rep, "len")))
			in_buf++;
	}
	ck_assert_int_gt(in_buf, 0);
	ck_assert_int_eq(stat(r->file, &st), 0);
	ck_assert_int_eq(find_kfile(&t->kern, &st, &named, &at), 1);
	ck_assert_str_eq((const char *)(named + 1), r->file);
}

/* The traced process dying ends collect, whose trace says how it died. */
START_TEST(test_collect_until_exit)
{
	const struct mh_rec_exit *exit_rec = NULL;
	const struct mh_rec_hdr *hdr;
	struct collect_run r;
	struct trace_recs t;
	int status;

	if (!collect_start("collect_until_exit", &r))
		goto out;
	kill(r.target, SIGKILL);
	ck_assert_int_eq(waitpid(r.target, &status, 0), r.target);
	r.reaped = true;
	status = wait_guarded(r.collector);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "collect: status %#x", status);
	check_collect_trace(&r, &t);
	for_each_rec(hdr, &t.meta)
		if (hdr->type == MH_REC_EXIT)
			exit_rec = (const void *)hdr;
	ck_assert_ptr_nonnull(exit_rec);
	ck_assert_uint_eq(exit_rec->pid, t.root_pid);
	ck_assert_uint_eq(exit_rec->reason, MH_EXIT_SIGNAL);
	ck_assert_int_eq(exit_rec->status, SIGKILL);
	free_trace(&t);
out:
	collect_cleanup(&r);
}
END_TEST

/* Ctrl-C (SIGINT) stops collect; the trace is complete and the process untouched. */
START_TEST(test_collect_sigint)
{
	const struct mh_rec_hdr *hdr;
	struct collect_run r;
	struct trace_recs t;
	int status;

	if (!collect_start("collect_sigint", &r))
		goto out;
	ck_assert_int_eq(kill(r.collector, SIGINT), 0);
	status = wait_guarded(r.collector);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "collect: status %#x", status);
	ck_assert_int_eq(kill(r.target, 0), 0);	/* still running */
	check_collect_trace(&r, &t);
	for_each_rec(hdr, &t.meta)
		ck_assert_int_ne(hdr->type, MH_REC_EXIT);
	free_trace(&t);
out:
	collect_cleanup(&r);
}
END_TEST

/* Run memhook collect -p pid (as uid 65534 when dir is set); one stderr line in *line. */
static int collect_fails(const char *dir, pid_t pid, char **line)
{
	char *tmp = dir ? NULL : mh_test_tmpdir(), *err, *trace, *memhook, num[16];
	const char *args[] = { "collect", "-p", num, "-o", NULL, NULL };
	const char *argv[] = { NULL, "collect", "-p", num, "-o", NULL, NULL };
	struct mh_test_cmd cmd = { .argv = argv, .timeout_s = CMD_TIMEOUT_S };
	int st;

	snprintf(num, sizeof(num), "%d", (int)pid);
	err = mh_test_join(dir ? dir : tmp, "err");
	trace = mh_test_join(dir ? dir : tmp, "t.mht");
	if (dir) {
		args[4] = trace;
		st = run_unprivileged(dir, args);
	} else {
		memhook = mh_test_path("memhook");
		argv[0] = memhook;
		argv[5] = trace;
		cmd.stderr_path = err;
		st = mh_test_run(&cmd);
		free(memhook);
	}
	*line = one_line(err);
	ck_assert_int_ne(access(trace, F_OK), 0);	/* no trace left behind */
	free(trace);
	free(err);
	if (tmp)
		mh_test_rmdir(tmp);
	free(tmp);
	return st;
}

/* A pid that does not exist, or one we may not trace: one line and a documented code. */
START_TEST(test_collect_errors)
{
	char *line, want[128], *dir;
	pid_t gone = fork();
	int st;

	ck_assert_int_ge(gone, 0);
	if (gone == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(gone, NULL, 0), gone);
	st = collect_fails(NULL, gone, &line);
	snprintf(want, sizeof(want), "memhook: cannot attach to pid %d: %s", (int)gone,
		 strerror(ESRCH));
	ck_assert_str_eq(line, want);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 64, "status %#x", st);
	free(line);

	dir = unprivileged_dir("collect_errors_no_permission");
	if (!dir)
		return;
	st = collect_fails(dir, getpid(), &line);
	snprintf(want, sizeof(want), "memhook: cannot attach to pid %d: %s", (int)getpid(),
		 strerror(EPERM));
	ck_assert_str_eq(line, want);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 69, "status %#x", st);
	free(line);
	mh_test_rmdir(dir);
	free(dir);
}
END_TEST

static Suite *kernel_suite(void)
{
	Suite *s = suite_create("kernel");
	TCase *tc = tcase_create("Events");
	TCase *swap = tcase_create("Swap");
	TCase *oom = tcase_create("OOM");
	TCase *fmt = tcase_create("Describe");
	TCase *rec = tcase_create("Record");
	TCase *col = tcase_create("Collect");

	tcase_add_test(tc, test_faults_exact);
	tcase_add_test(tc, test_file_faults_named);
	tcase_add_test(tc, test_rss_matches_status);
	tcase_add_test(tc, test_major_faults_match_rusage);
	tcase_add_unchecked_fixture(swap, swap_setup, swap_teardown);
	tcase_add_test(swap, test_swapins_match_pagemap);
	tcase_add_unchecked_fixture(oom, oom_setup, remove_cgroup);
	tcase_add_test(oom, test_oom_victim);
	tcase_add_test(fmt, test_describe_every_type);
	tcase_add_test(rec, test_record_first_fault);
	tcase_add_test(rec, test_record_unprivileged_auto);
	tcase_add_test(rec, test_record_unprivileged_on);
	tcase_add_test(col, test_collect_until_exit);
	tcase_add_test(col, test_collect_sigint);
	tcase_add_test(col, test_collect_errors);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, swap);
	suite_add_tcase(s, oom);
	suite_add_tcase(s, fmt);
	suite_add_tcase(s, rec);
	suite_add_tcase(s, col);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(kernel_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
