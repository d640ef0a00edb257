// SPDX-License-Identifier: MIT
/*
 * check_kernel_cli.c - the kernel stream as a user meets it: `memhook
 * record --kernel=auto|on` (attached before the program's first
 * instruction, following forks, and degrading honestly without
 * privileges) and `memhook collect -p PID` (until the process exits, until
 * Ctrl-C, and its errors), run as built binaries and checked through the
 * trace reader. The oracle is outside memhook: what the programs report
 * about themselves (tests/progs/kern_entry.c, kern_mapfile.c), stat(2) of
 * the files, wait statuses.
 *
 * Needs root (BPF, and switching to uid 65534 for the unprivileged cases)
 * and setpriv; otherwise each test prints "SKIP <name>: <reason>".
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
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>

#include "memhook/events.h"
#include "memhook/kernel_events.h"
#include "memhook/trace.h"
#include "trace/reader.h"
#include "tests/kernel_records.h"
#include "tests/testutil.h"

/* Time limit of one memhook command in these tests, s (a hang guard, not a measure). */
#define CMD_TIMEOUT_S 120

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

/* A directory uid 65534 can write, with memhook, libmemhook.so and kern_entry; NULL: skipped. */
static char *unprivileged_dir(const char *test)
{
	static const char *const progs[] = { "tests/progs/kern_entry", NULL };

	return mh_test_unprivileged_dir(test, progs);
}

static int run_unprivileged(const char *dir, const char *const *args)
{
	return mh_test_run_unprivileged(dir, args, CMD_TIMEOUT_S);
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
	char report[1024] = "";
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
	snprintf(report, sizeof(report), "%s", text ? text : "");
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
	ck_assert_uint_eq(f->ip, report_value(report, "entry"));
	ck_assert_uint_eq(f->addr, report_value(report, "entry"));
	ck_assert_int_eq(f->vma_class, MH_VMA_FILE);
	ck_assert_uint_ge(f->vma_start, report_value(report, "base"));
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

/* With --follow-forks, the kernel stream follows a shell's children in-kernel, from their exec on. */
START_TEST(test_record_follow_forks)
{
	char *dir = mh_test_tmpdir(), *trace = mh_test_join(dir, "t.mht");
	char *out = mh_test_join(dir, "out"), *err = mh_test_join(dir, "err");
	char *memhook = mh_test_path("memhook"), *prog = mh_test_path("tests/progs/kern_entry");
	char script[1024], *text, *p;
	const char *argv[] = { memhook, "record", "-q", "--follow-forks", "--kernel=on", "-o", trace,
			       "--", "/bin/sh", "-c", script, NULL };
	struct mh_test_cmd cmd = { .argv = argv, .stdout_path = out, .stderr_path = err,
				   .timeout_s = CMD_TIMEOUT_S };
	const struct mh_rec_hdr *hdr;
	struct trace_recs t;
	int status, entries = 0, followed = 0;

	if (geteuid() != 0) {
		mh_test_skip("record_follow_forks", "needs root to load BPF programs");
		goto out;
	}
	/* Both run as children of the shell: the trailing "; :" stops it exec'ing the last. */
	snprintf(script, sizeof(script), "%s 3; %s 4; :", prog, prog);
	status = mh_test_run(&cmd);
	text = mh_test_read_file(err, NULL);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 69) {
		mh_test_skip("record_follow_forks", text);
		free(text);
		goto out;
	}
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x: %s", status,
		      text);
	free(text);
	load_trace(trace, &t);
	if (!need_probe(&t.meta, "record_follow_forks", "process_fork") ||
	    !need_probe(&t.meta, "record_follow_forks", "page_fault"))
		goto out_trace;
	for_each_rec(hdr, &t.kern) {
		const struct mh_rec_kproc *k = (const void *)hdr;

		if (hdr->type == MH_REC_KPROC && k->kind == MH_KPROC_FORK && k->followed)
			followed++;
	}
	ck_assert_int_ge(followed, 2);
	/* Each grandchild's first instruction, at its own loader's entry, faulted in the trace. */
	text = mh_test_read_file(out, NULL);
	ck_assert_ptr_nonnull(text);
	for (p = text; (p = strstr(p, "entry=")); p++) {
		unsigned long long entry = strtoull(p + 6, NULL, 10);
		bool seen = false;

		for_each_rec(hdr, &t.kern) {
			const struct mh_rec_kfault *f = (const void *)hdr;

			if (hdr->type == MH_REC_KFAULT && f->pid != t.root_pid && f->ip == entry &&
			    f->addr == entry)
				seen = true;
		}
		ck_assert_msg(seen, "no fault at the entry 0x%llx of a child", entry);
		entries++;
	}
	ck_assert_int_eq(entries, 2);
	free(text);
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

/*
 * The probes are detached after memhook exits, by a helper that outlives
 * it (kernel/linger.c): the helper must end too, once memhook is gone,
 * and must not hold memhook's output open. This process adopts what
 * memhook leaves behind (a subreaper), so the oracle is the kernel's:
 * every descendant reaped, and end of file on memhook's stdout and stderr.
 */
START_TEST(test_record_leaves_nothing_behind)
{
	char *dir = mh_test_tmpdir(), *trace = mh_test_join(dir, "t.mht");
	char *memhook = mh_test_path("memhook");
	const char *argv[] = { memhook, "record", "-q", "--kernel=on", "-o", trace, "--",
			       "/bin/true", NULL };
	char text[1024] = "";
	int out[2], status, i;
	pid_t pid, other;
	ssize_t n = 0;

	if (geteuid() != 0) {
		mh_test_skip("record_leaves_nothing_behind", "needs root to load BPF programs");
		goto out;
	}
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0)
			_exit(125);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	status = wait_guarded(pid);
	read_until(out[0], text, sizeof(text), "\n\n");	/* to end of file */
	if (WIFEXITED(status) && WEXITSTATUS(status) == 69) {
		mh_test_skip("record_leaves_nothing_behind", text);
		goto out_pipe;
	}
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x: %s", status,
		      text);
	/* Whatever memhook left is ours now: all of it must end (a hang guard, not a measure). */
	for (i = 0; i < CMD_TIMEOUT_S * 100; i++) {
		other = waitpid(-1, &status, WNOHANG | __WALL);
		if (other < 0 && errno == ECHILD)
			break;
		if (other == 0)
			usleep(10000);
	}
	ck_assert_msg(i < CMD_TIMEOUT_S * 100, "a process memhook started outlived it");
	n = read(out[0], text, sizeof(text));
	ck_assert_msg(n == 0, "memhook's output still open after every process ended");
out_pipe:
	close(out[0]);
out:
	free(memhook);
	free(trace);
	mh_test_rmdir(dir);
	free(dir);
}
END_TEST

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

/*
 * What every complete collect trace holds: who, "on", the faults on the
 * file, and its name; or, if the process may have died before the
 * collector could read its maps (maybe_gone), the file counted unresolved.
 */
static void check_collect_trace(struct collect_run *r, struct trace_recs *t, bool maybe_gone)
{
	const char *unresolved;
	const struct mh_rec_hdr *hdr;
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
	buf = report_value(r->report, "buf");
	for_each_rec(hdr, &t->kern) {
		const struct mh_rec_kfault *f = (const void *)hdr;

		if (hdr->type == MH_REC_KFAULT && f->pid == (__u32)r->target &&
		    f->addr >= (__u64)buf && f->addr < (__u64)(buf + report_value(r->report, "len")))
			in_buf++;
	}
	ck_assert_int_gt(in_buf, 0);
	ck_assert_int_eq(stat(r->file, &st), 0);
	unresolved = info_value(&t->meta, "kernel.files.unresolved");
	ck_assert_ptr_nonnull(unresolved);
	if (maybe_gone && !find_kfile(&t->kern, &st, &named, &at)) {
		ck_assert_int_ge(atoi(unresolved), 1);
		return;
	}
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
	check_collect_trace(&r, &t, true);
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
	check_collect_trace(&r, &t, false);
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
	pid_t gone = fork(), own;
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

	/* A process of its own user, but no CAP_BPF: 69, and no empty trace left. */
	own = fork();
	ck_assert_int_ge(own, 0);
	if (own == 0) {
		if (setgid(65534) == 0 && setuid(65534) == 0)
			pause();
		_exit(1);
	}
	st = collect_fails(dir, own, &line);
	kill(own, SIGKILL);
	ck_assert_int_eq(waitpid(own, NULL, 0), own);
	ck_assert_msg(!strncmp(line, "memhook: kernel stream unavailable: ", 36), "line '%s'", line);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 69, "status %#x", st);
	free(line);
	mh_test_rmdir(dir);
	free(dir);
}
END_TEST

static Suite *kernel_cli_suite(void)
{
	Suite *s = suite_create("kernel_cli");
	TCase *rec = tcase_create("Record");
	TCase *col = tcase_create("Collect");

	tcase_add_test(rec, test_record_first_fault);
	tcase_add_test(rec, test_record_unprivileged_auto);
	tcase_add_test(rec, test_record_unprivileged_on);
	tcase_add_test(rec, test_record_follow_forks);
	tcase_add_test(rec, test_record_leaves_nothing_behind);
	tcase_add_test(col, test_collect_until_exit);
	tcase_add_test(col, test_collect_sigint);
	tcase_add_test(col, test_collect_errors);
	suite_add_tcase(s, rec);
	suite_add_tcase(s, col);
	return s;
}

int main(void)
{
	return mh_test_run_suite(kernel_cli_suite());
}
