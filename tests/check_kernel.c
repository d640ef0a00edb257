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
 * `memhook record --kernel` and `memhook collect` are tested as commands
 * in check_kernel_cli.c, its file naming without BPF in check_kernel_files.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include <check.h>

#include "kernel/collector.h"
#include "memhook/kernel_events.h"
#include "memhook/trace.h"
#include "tests/kernel_records.h"
#include "tests/testutil.h"

#define MIB (1024LL * 1024)
/* Pages kern_touch touches. */
#define TOUCH_PAGES 1000
/* Pages kern_majfault reads back from disk. */
#define MAJFAULT_PAGES 500
/* Swap test: the buffer and the cgroup limit, MiB; the swap file, MiB. */
#define SWAP_BUF_MB 192
#define SWAP_LIMIT_MB 64
#define SWAP_FILE_MB 512
/* The part of the swap test's buffer unmapped unread, MiB (the first part swapped out). */
#define SWAP_UNMAP_MB 64
/* OOM test: the cgroup limit and what the program tries to touch, MiB. */
#define OOM_LIMIT_MB 32
#define OOM_TOUCH_MB 512

struct traced_run {
	pid_t pid;
	int status;
	bool kill_when_done;	/* in: SIGKILL the program once it reported "done=1" */
	bool memcg_events;	/* in: ask for the opt-in memcg_events probe */
	bool oom_victim;	/* out: mh_collector_oom_victim() once it was reaped */
	bool fd_woke;		/* out: mh_collector_fd() polled readable at least once */
	struct capture cap;
	char report[4096];
};

static long long report_val(const struct traced_run *r, const char *key)
{
	return report_value(r->report, key);
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
	bool kill_when_done = r->kill_when_done, memcg_events = r->memcg_events;
	struct pollfd pfd = { .events = POLLIN };
	struct mh_collector *c;
	int go[2], rep[2], err, ready;
	size_t used = 0;

	memset(r, 0, sizeof(*r));
	r->kill_when_done = kill_when_done;
	r->memcg_events = o.memcg_events = memcg_events;
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
	pfd.fd = mh_collector_fd(c);
	while (waitpid(r->pid, &r->status, WNOHANG) == 0) {
		ready = poll(&pfd, 1, 100);
		ck_assert_int_ge(ready, 0);
		ck_assert_int_eq(pfd.revents & (POLLNVAL | POLLERR), 0);
		if (ready)
			r->fd_woke = true;
		ck_assert_int_ge(mh_collector_poll(c, 0), 0);
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
	ck_assert_ptr_nonnull(strstr(probe_status(&r.cap, "memcg_events"), "not requested"));
	ck_assert_int_gt(exe_faults, 0);
	free(exe);
	free(r.cap.buf);
}
END_TEST

/*
 * A fault after a syscall that reshaped its vma (mprotect splitting it)
 * names the vma as it is then: the one the kernel's /proc maps would show,
 * not the one an earlier fault in the same mapping saw.
 */
START_TEST(test_fault_after_split)
{
	const char *args[] = { NULL };
	const struct mh_rec_hdr *hdr;
	struct traced_run r = { 0 };
	long long buf, page, second = 0;

	if (!traced_or_skip("fault_after_split", "tests/progs/kern_vmasplit", args, NULL, &r) ||
	    !need_probe(&r.cap, "fault_after_split", "page_fault"))
		return;
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0,
		      "kern_vmasplit failed: status %#x", r.status);
	buf = report_val(&r, "buf");
	page = report_val(&r, "page");
	for_each_rec(hdr, &r.cap) {
		const struct mh_rec_kfault *f = (const void *)hdr;

		if (hdr->type != MH_REC_KFAULT || f->pid != (__u32)r.pid ||
		    f->addr < (__u64)(buf + page) || f->addr >= (__u64)(buf + 2 * page))
			continue;
		second++;
		ck_assert_int_eq(f->vma_class, MH_VMA_ANON);
		ck_assert_uint_eq(f->vma_start, buf + page);
		ck_assert_uint_eq(f->vma_end, buf + 2 * page);
	}
	ck_assert_int_eq(second, 1);
	free(r.cap.buf);
}
END_TEST

/*
 * Faults after munmap, a MAP_FIXED mmap over a page and a MAP_FIXED mmap
 * next to a mapping (which the kernel may merge with it) name the vma
 * /proc/self/maps shows then, though a fault had seen each mapping before
 * and the syscalls in between cannot reshape vmas.
 */
START_TEST(test_fault_after_reshape)
{
	const char *args[] = { NULL };
	const struct mh_rec_hdr *hdr;
	struct traced_run r = { 0 };
	char key[16];
	int i, seen;

	if (!traced_or_skip("fault_after_reshape", "tests/progs/kern_vmacache", args, NULL, &r) ||
	    !need_probe(&r.cap, "fault_after_reshape", "page_fault"))
		return;
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0,
		      "kern_vmacache failed: status %#x", r.status);
	for (i = 0; i < 3; i++) {
		long long addr, start, end;

		snprintf(key, sizeof(key), "addr%d", i);
		addr = report_val(&r, key);
		snprintf(key, sizeof(key), "start%d", i);
		start = report_val(&r, key);
		snprintf(key, sizeof(key), "end%d", i);
		end = report_val(&r, key);
		seen = 0;
		for_each_rec(hdr, &r.cap) {
			const struct mh_rec_kfault *f = (const void *)hdr;

			if (hdr->type != MH_REC_KFAULT || f->pid != (__u32)r.pid ||
			    f->addr != (__u64)addr)
				continue;
			seen++;
			ck_assert_int_eq(f->vma_class, MH_VMA_ANON);
			ck_assert_msg(f->vma_start == (__u64)start && f->vma_end == (__u64)end,
				      "probe %d: fault at %#llx told vma %#llx-%#llx, maps say %#llx-%#llx",
				      i, addr, (unsigned long long)f->vma_start,
				      (unsigned long long)f->vma_end, start, end);
		}
		ck_assert_int_eq(seen, 1);
	}
	free(r.cap.buf);
}
END_TEST

/*
 * The mmap and madvise kern_mapfile made of its buffer (buf, len: what
 * mmap returned, as it reported them), each recorded once with the
 * arguments it passed, 0 past those, and its result.
 */
static void check_map_syscalls(const struct traced_run *r, long long buf, long long len)
{
	const struct mh_rec_hdr *hdr;
	int mmaps = 0, madvises = 0;

	for_each_rec(hdr, &r->cap) {
		const struct mh_rec_ksyscall *s = (const void *)hdr;

		if (hdr->type != MH_REC_KSYSCALL || s->pid != (__u32)r->pid ||
		    ((__s64)s->ret != buf && s->args[0] != (__u64)buf))
			continue;
		ck_assert_uint_eq(s->tid, report_val(r, "tid"));
		ck_assert_uint_le(s->enter_ns, s->ts_ns);
		ck_assert_uint_eq(s->args[1], len);
		if (s->sys == MH_KSYS_MMAP) {
			mmaps++;
			ck_assert_uint_eq(s->args[0], 0);
			ck_assert_uint_eq(s->args[2], PROT_READ);
			ck_assert_uint_eq(s->args[3], MAP_SHARED);
			ck_assert_uint_eq(s->args[5], 0);
		} else if (s->sys == MH_KSYS_MADVISE) {
			madvises++;
			ck_assert_uint_eq(s->args[2], MADV_RANDOM);
			ck_assert_uint_eq(s->args[3] | s->args[4] | s->args[5], 0);
			ck_assert_int_eq(s->ret, 0);
		}
	}
	ck_assert_int_eq(mmaps, 1);
	ck_assert_int_eq(madvises, 1);
}

/*
 * Faults on a mapped file (and on the executable) come with the file's
 * path; the mapping's syscalls are recorded.
 */
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
	bool has_gen;
	int fd, i;
	__u32 gen;

	memset(block, 0x5a, sizeof(block));
	fd = open(file, O_CREAT | O_WRONLY, 0644);
	ck_assert_int_ge(fd, 0);
	for (i = 0; i < 64; i++)
		ck_assert_int_eq(write(fd, block, sizeof(block)), sizeof(block));
	close(fd);
	ck_assert_int_eq(stat(file, &st), 0);
	has_gen = file_generation(file, &gen);
	ck_assert_int_eq(stat(exe, &exe_st), 0);
	ck_assert_ptr_nonnull(realpath(exe, real_exe));
	snprintf(pages, sizeof(pages), "%lld", 64 * 4096LL / sysconf(_SC_PAGESIZE));
	if (!traced_or_skip("file_faults_named", "tests/progs/kern_mapfile", args, NULL, &r) ||
	    !need_probe(&r.cap, "file_faults_named", "page_fault"))
		goto out;
	ck_assert_msg(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGKILL,
		      "kern_mapfile did not wait to be killed: status %#x", r.status);
	ck_assert(r.fd_woke);	/* at least the first fault on each file wakes the reader */
	buf = report_val(&r, "buf");
	len = report_val(&r, "len");
	/* Exactly one KFILE per file, with the path the file has, before its first fault. */
	ck_assert_int_eq(find_kfile(&r.cap, &st, &named, &at), 1);
	ck_assert_str_eq((const char *)(named + 1), file);
	/* Named from the program's maps, or by memhook's own handle once handles work there. */
	ck_assert_msg(named->pid == (__u32)r.pid || named->pid == (__u32)getpid(),
		      "KFILE pid %u: neither the program's (%d) nor memhook's (%d)", named->pid,
		      (int)r.pid, (int)getpid());
	if (has_gen)
		ck_assert_uint_eq(named->gen, gen);
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
		ck_assert_uint_eq(f->gen, 0);	/* given by its KFILE */
		ck_assert_uint_eq(f->ino, st.st_ino);
		ck_assert(same_dev(f->dev, &st));
		ck_assert_uint_gt(off, at);
		ck_assert_uint_ge(f->ts_ns, named->ts_ns);
	}
	ck_assert_int_gt(in_buf, 0);
	check_map_syscalls(&r, buf, len);
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

/* Changes held back by munmap: the records still show every new peak of RSS. */
START_TEST(test_rss_peak_reported)
{
	const char *args[] = { "200", NULL };
	long long page = sysconf(_SC_PAGESIZE), want, seen;
	struct traced_run r = { 0 };

	if (!traced_or_skip("rss_peak_reported", "tests/progs/kern_peaks", args, NULL, &r) ||
	    !need_probe(&r.cap, "rss_peak_reported", "rss_stat"))
		return;
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0,
		      "kern_peaks failed: status %#x", r.status);
	want = (report_val(&r, "rss_kb") + report_val(&r, "peak_pages") * page / 1024) * 1024;
	seen = rss_peak_between(&r.cap, r.pid, report_val(&r, "from"), report_val(&r, "to"));
	ck_assert_msg(llabs(seen - want) <= 2 * page, "RSS peak: collector %lld KiB, "
		      "VmRSS + the largest region %lld KiB", seen >> 10, want >> 10);
	free(r.cap.buf);
}
END_TEST

/* Shared by the swap and OOM fixtures: what was set up, or why not. */
static struct mh_test_swapcg kfix;

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

static void swap_setup(void)
{
	mh_test_swapcg_setup(&kfix, "kswap", SWAP_FILE_MB, SWAP_LIMIT_MB * MIB);
}

static void swap_teardown(void)
{
	mh_test_swapcg_teardown(&kfix);
}

/* Pages r's program swapped in at addresses in [lo, hi), as its KSWAPIN records tell. */
static long long swapin_pages(const struct traced_run *r, long long lo, long long hi)
{
	const struct mh_rec_hdr *hdr;
	long long pages = 0;

	for_each_rec(hdr, &r->cap) {
		const struct mh_rec_kswapin *s = (const void *)hdr;

		if (hdr->type == MH_REC_KSWAPIN && s->pid == (__u32)r->pid &&
		    s->addr >= (__u64)lo && s->addr < (__u64)hi)
			pages += s->pages;
	}
	return pages;
}

START_TEST(test_swapins_match_pagemap)
{
	const struct mh_rec_hdr *hdr;
	struct traced_run r = { .memcg_events = true };
	long long buf, len, measured, seen, episodes = 0, memcg_in = 0;
	char arg[16];
	const char *args[] = { arg, NULL };

	if (kfix.skip[0]) {
		mh_test_skip("swapins_match_pagemap", kfix.skip);
		return;
	}
	snprintf(arg, sizeof(arg), "%d", SWAP_BUF_MB);
	if (!traced_or_skip("swapins_match_pagemap", "tests/progs/kern_swap", args, kfix.cgroup_dir,
			    &r) ||
	    !need_probe(&r.cap, "swapins_match_pagemap", "rss_stat") ||
	    !need_probe(&r.cap, "swapins_match_pagemap", "page_fault") ||
	    !need_probe(&r.cap, "swapins_match_pagemap", "memcg_reclaim_end") ||
	    !need_probe(&r.cap, "swapins_match_pagemap", "memcg_events"))
		return;
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0,
		      "kern_swap failed: status %#x", r.status);
	buf = report_val(&r, "buf");
	len = report_val(&r, "len");
	measured = report_val(&r, "swapped_in");
	seen = swapin_pages(&r, buf, buf + len);
	for_each_rec(hdr, &r.cap) {
		const struct mh_rec_kreclaim *rc = (const void *)hdr;

		if (hdr->type == MH_REC_KMEMCG && ((const struct mh_rec_kmemcg *)hdr)->pid ==
		    (__u32)r.pid && ((const struct mh_rec_kmemcg *)hdr)->item == MH_MEMCG_PSWPIN)
			memcg_in += ((const struct mh_rec_kmemcg *)hdr)->count;
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
	/* The opt-in memcg counter saw the same swap-ins (the cgroup counts each once). */
	ck_assert_msg(llabs(memcg_in - measured) * 100 <= measured * 5,
		      "memcg pswpin: %lld pages, pagemap %lld pages", memcg_in, measured);
	free(r.cap.buf);
}
END_TEST

/*
 * Swap entries munmap drops right after a user fault (no syscall between)
 * are no swap-ins: kern_swap unmaps the first SWAP_UNMAP_MB of its buffer,
 * mostly swapped, untouched, then reads the rest. Every swap-in of the
 * process counts against the pages the program itself found swapped when
 * it read them, wherever the collector says it was (a drop taken for a
 * swap-in carries the latest fault's address: another mapping's). Exit
 * drops the swap entries left then (about SWAP_BUF_MB - SWAP_UNMAP_MB -
 * SWAP_LIMIT_MB): no swap-ins either.
 */
START_TEST(test_munmap_not_swapin)
{
	struct traced_run r = { 0 };
	long long measured, unmapped, seen;
	char arg[16], cut[16];
	const char *args[] = { arg, cut, NULL };

	if (kfix.skip[0]) {
		mh_test_skip("munmap_not_swapin", kfix.skip);
		return;
	}
	snprintf(arg, sizeof(arg), "%d", SWAP_BUF_MB);
	snprintf(cut, sizeof(cut), "%d", SWAP_UNMAP_MB);
	if (!traced_or_skip("munmap_not_swapin", "tests/progs/kern_swap", args, kfix.cgroup_dir,
			    &r) ||
	    !need_probe(&r.cap, "munmap_not_swapin", "rss_stat") ||
	    !need_probe(&r.cap, "munmap_not_swapin", "page_fault") ||
	    !need_probe(&r.cap, "munmap_not_swapin", "sys_enter"))
		return;
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0,
		      "kern_swap failed: status %#x", r.status);
	measured = report_val(&r, "swapped_in");
	unmapped = report_val(&r, "unmapped_swapped");
	seen = swapin_pages(&r, 0, LLONG_MAX);
	/* For the test to mean something: many swap-ins, and unmapped pages well past its margin. */
	ck_assert_int_gt(measured, (SWAP_BUF_MB - SWAP_LIMIT_MB) * MIB / sysconf(_SC_PAGESIZE) / 4);
	ck_assert_int_gt(unmapped * 100, measured * 5 * 2);
	ck_assert_msg(llabs(seen - measured) * 100 <= measured * 5,
		      "swap-ins: collector %lld pages, pagemap %lld pages read swapped "
		      "(%lld unmapped swapped)", seen, measured, unmapped);
	free(r.cap.buf);
}
END_TEST

static void oom_setup(void)
{
	char memsw[512];

	kfix.skip[0] = '\0';
	if (geteuid() != 0) {
		snprintf(kfix.skip, sizeof(kfix.skip), "needs root for cgroups");
		return;
	}
	snprintf(memsw, sizeof(memsw), "%s/memory.memsw.limit_in_bytes",
		 MH_TEST_CGROUP_V1_MEMORY);
	mh_test_cgroup_make(&kfix, "koom", OOM_LIMIT_MB * MIB, access(memsw, F_OK) == 0);
}

static void oom_teardown(void)
{
	mh_test_cgroup_remove(&kfix);
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

	if (kfix.skip[0]) {
		mh_test_skip("oom_victim", kfix.skip);
		return;
	}
	snprintf(arg, sizeof(arg), "%d", OOM_TOUCH_MB);
	if (!traced_or_skip("oom_victim", "tests/progs/kern_oom", args, kfix.cgroup_dir, &r) ||
	    !need_probe(&r.cap, "oom_victim", "mark_victim") ||
	    !need_probe(&r.cap, "oom_victim", "signal_generate"))
		return;
	ck_assert_msg(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGKILL,
		      "kern_oom was not killed: status %#x", r.status);
	ck_assert_int_eq(report_val(&r, "pid"), r.pid);
	max_usage = read_number(kfix.cgroup_dir, "memory.max_usage_in_bytes");
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

static Suite *kernel_suite(void)
{
	Suite *s = suite_create("kernel");
	TCase *tc = tcase_create("Events");
	TCase *swap = tcase_create("Swap");
	TCase *oom = tcase_create("OOM");

	tcase_add_test(tc, test_faults_exact);
	tcase_add_test(tc, test_file_faults_named);
	tcase_add_test(tc, test_fault_after_split);
	tcase_add_test(tc, test_fault_after_reshape);
	tcase_add_test(tc, test_rss_matches_status);
	tcase_add_test(tc, test_rss_peak_reported);
	tcase_add_test(tc, test_major_faults_match_rusage);
	tcase_add_unchecked_fixture(swap, swap_setup, swap_teardown);
	tcase_add_test(swap, test_swapins_match_pagemap);
	tcase_add_test(swap, test_munmap_not_swapin);
	tcase_add_unchecked_fixture(oom, oom_setup, oom_teardown);
	tcase_add_test(oom, test_oom_victim);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, swap);
	suite_add_tcase(s, oom);
	return s;
}

int main(void)
{
	return mh_test_run_suite(kernel_suite());
}
