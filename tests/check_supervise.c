// SPDX-License-Identifier: MIT
/*
 * check_supervise.c - what the recorder does while the program runs, run
 * as a user runs it (the built memhook on tests/progs/rec_target and
 * kern_oom): periodic RSS samples and pagemap snapshots of forked
 * children, the EXIT record of a process the OOM killer ended, the
 * identity the program runs with under sudo, and the flushes of a short
 * run's records while it runs. Oracles: the program's own knowledge (it
 * wrote every page of an N MiB block), the memory cgroup's oom_kill
 * counter, `id -u` run by memhook, and the trace's chunk headers.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "common/exit_codes.h"
#include "trace/reader.h"
#include "tests/record_cmd.h"
#include "tests/testutil.h"

/* forkgrow: the child's block, MiB, and how long it holds it, ms. */
#define GROW_MIB 16
#define GROW_MIB_ARG "16"
#define GROW_HOLD_MS "1200"
/* OOM test: the cgroup's limit and what the program tries to touch, MiB. */
#define OOM_LIMIT_MIB 32
#define OOM_TOUCH_MIB "256"
#define CGROUP_V1_MEMORY "/sys/fs/cgroup/memory"

/* True (after printing SKIP) when memhook, libmemhook.so or prog is not built. */
static bool skip_unbuilt_prog(const char *name, const char *prog)
{
	char *lib = mh_test_path("libmemhook.so");
	char *p = mh_test_path(prog);
	bool missing = access(lib, R_OK) != 0 || !mh_test_executable(p) ||
		       !mh_test_executable(memhook);

	free(lib);
	free(p);
	if (missing)
		mh_test_skip(name, "memhook, libmemhook.so or the test program is not built");
	return missing;
}

static bool file_has(const char *path, const char *what)
{
	char *text = mh_test_read_file(path, NULL);
	bool has = text && strstr(text, what);

	free(text);
	return has;
}

/* What the trace says about the forked child of `rec_target forkgrow`. */
struct child_facts {
	__u32 pid;			/* from its PROCESS record (start = forked) */
	__u64 block;			/* address of its GROW_MIB block */
	__u64 most_present;		/* most block pages present in one snapshot */
	__u64 most_anon;		/* largest RssAnon sampled, bytes */
	unsigned snapshots;		/* PAGEMAP records of the child */
};

static __u64 present_in(const struct mh_rec_pagemap *pm, __u64 lo, __u64 hi)
{
	const __u64 *bits = (const __u64 *)(pm + 1);
	__u64 n = 0;

	for (__u64 i = 0; i < pm->page_count; i++) {
		__u64 at = pm->start + i * pm->page_size;

		if (at >= lo && at + pm->page_size <= hi)
			n += (bits[2 * i / 64] >> (2 * i % 64)) & 1;
	}
	return n;
}

/* Two passes: the stream order puts samples and allocations in different chunks. */
static void read_child_facts(struct child_facts *f, long page)
{
	const struct mh_rec_hdr *rec;
	struct mh_trace_reader *r;
	__u64 lo, hi;

	memset(f, 0, sizeof(*f));
	r = mh_trace_reader_open(trace);
	ck_assert_ptr_nonnull(r);
	while (mh_trace_reader_next(r, MH_STREAM_ALLOC, &rec, NULL) == 1) {
		const struct mh_rec_process *p = (const void *)rec;
		const struct mh_rec_alloc *a = (const void *)rec;

		if (rec->type == MH_REC_PROCESS && p->start == MH_PROCESS_FORKED)
			f->pid = p->pid;
		if (rec->type == MH_REC_ALLOC && f->pid && a->pid == f->pid &&
		    a->size == (__u64)GROW_MIB << 20)
			f->block = a->addr;
	}
	mh_trace_reader_free(r);
	ck_assert_uint_ne(f->pid, 0);
	ck_assert_uint_ne(f->block, 0);
	lo = (f->block + page - 1) / page * page;
	hi = (f->block + ((__u64)GROW_MIB << 20)) / page * page;
	r = mh_trace_reader_open(trace);
	ck_assert_ptr_nonnull(r);
	while (mh_trace_reader_next(r, MH_STREAM_SAMPLE, &rec, NULL) == 1) {
		const struct mh_rec_pagemap *pm = (const void *)rec;
		const struct mh_rec_rss_sample *s = (const void *)rec;

		if (rec->type == MH_REC_PAGEMAP && pm->pid == f->pid) {
			__u64 n = present_in(pm, lo, hi);

			f->snapshots++;
			if (n > f->most_present)
				f->most_present = n;
		}
		if (rec->type == MH_REC_RSS_SAMPLE && s->pid == f->pid && s->anon_bytes > f->most_anon)
			f->most_anon = s->anon_bytes;
	}
	mh_trace_reader_free(r);
}

/* A forked child is sampled like the launched program, and its snapshot matches what it wrote. */
START_TEST(followed_child_is_sampled)
{
	const char *args[] = { "record", "--kernel=off", "--follow-forks", "--pagemap-interval",
			       "200", "--sample-interval", "100", "-o", trace, "--", target,
			       "forkgrow", GROW_MIB_ARG, GROW_HOLD_MS, NULL };
	long page = sysconf(_SC_PAGESIZE);
	struct child_facts f;

	if (skip_unbuilt_prog("followed_child_is_sampled", "tests/progs/rec_target"))
		return;
	ck_assert_int_eq(run_memhook(args, NULL), 0);
	read_child_facts(&f, page);
	ck_assert_uint_ge(f.snapshots, 1);
	/* Every whole page of the block was written and held: all present. */
	ck_assert_uint_eq(f.most_present, (((__u64)GROW_MIB << 20) - (__u64)page) / (__u64)page);
	ck_assert_uint_ge(f.most_anon, (__u64)GROW_MIB << 20);
}
END_TEST

/* EXIT_SCAN times of up to 8 processes: the exit-time scan takes its own snapshot. */
struct scans {
	__u32 pid[8];
	__u64 ts[8];
	unsigned count;
};

static void read_scans(struct scans *sc)
{
	const struct mh_rec_hdr *rec;
	struct mh_trace_reader *r = mh_trace_reader_open(trace);

	memset(sc, 0, sizeof(*sc));
	ck_assert_ptr_nonnull(r);
	while (mh_trace_reader_next(r, MH_STREAM_ALLOC, &rec, NULL) == 1) {
		const struct mh_rec_exit_scan *e = (const void *)rec;

		if (rec->type == MH_REC_EXIT_SCAN && sc->count < 8) {
			sc->pid[sc->count] = e->pid;
			sc->ts[sc->count++] = e->ts_ns;
		}
	}
	mh_trace_reader_free(r);
}

static bool at_exit_scan(const struct scans *sc, const struct mh_rec_pagemap *pm)
{
	for (unsigned i = 0; i < sc->count; i++) {
		if (sc->pid[i] == pm->pid && sc->ts[i] <= pm->ts_ns)
			return true;
	}
	return false;
}

/* --pagemap-interval 0: no periodic snapshot; only exit-time scans take one. */
START_TEST(pagemap_interval_zero_takes_none)
{
	const char *args[] = { "record", "--kernel=off", "--follow-forks", "--pagemap-interval",
			       "0", "-o", trace, "--", target, "forkgrow", GROW_MIB_ARG, GROW_HOLD_MS, NULL };
	const struct mh_rec_hdr *rec;
	struct mh_trace_reader *r;
	unsigned samples = 0;
	struct scans sc;

	if (skip_unbuilt_prog("pagemap_interval_zero_takes_none", "tests/progs/rec_target"))
		return;
	ck_assert_int_eq(run_memhook(args, NULL), 0);
	read_scans(&sc);
	r = mh_trace_reader_open(trace);
	ck_assert_ptr_nonnull(r);
	while (mh_trace_reader_next(r, MH_STREAM_SAMPLE, &rec, NULL) == 1) {
		if (rec->type == MH_REC_PAGEMAP)
			ck_assert_msg(at_exit_scan(&sc, (const void *)rec),
				      "periodic pagemap snapshot with --pagemap-interval 0");
		samples += rec->type == MH_REC_RSS_SAMPLE;
	}
	mh_trace_reader_free(r);
	ck_assert_uint_ge(samples, 1);	/* RSS samples are still taken */
}
END_TEST

/* The root's EXIT record in the meta stream; false if there is none. */
static bool root_exit(struct mh_rec_exit *out)
{
	struct mh_trace_reader *r = mh_trace_reader_open(trace);
	const struct mh_rec_hdr *rec;
	bool found = false;
	__u32 root;

	ck_assert_ptr_nonnull(r);
	root = mh_trace_reader_header(r)->root_pid;
	while (mh_trace_reader_next(r, MH_STREAM_META, &rec, NULL) == 1) {
		if (rec->type == MH_REC_EXIT && ((const struct mh_rec_exit *)rec)->pid == root) {
			memcpy(out, rec, sizeof(*out));
			found = true;
		}
	}
	mh_trace_reader_free(r);
	return found;
}

/* "oom_kill N" from a v1 memory cgroup's memory.oom_control, -1 if unreadable. */
static long oom_kills(const char *cgroup)
{
	char *path = mh_test_join(cgroup, "memory.oom_control");
	char *text = mh_test_read_file(path, NULL);
	char *p = text ? strstr(text, "oom_kill ") : NULL;
	long n = p ? strtol(p + strlen("oom_kill "), NULL, 10) : -1;

	free(text);
	free(path);
	return n;
}

static bool write_limit(const char *cgroup, const char *file, long long bytes)
{
	char *path = mh_test_join(cgroup, file);
	FILE *f = fopen(path, "w");
	bool ok = f && fprintf(f, "%lld\n", bytes) > 0;

	if (f && fclose(f))
		ok = false;
	free(path);
	return ok;
}

/* Make a v1 memory cgroup limited to OOM_LIMIT_MIB (memory+swap too); NULL after SKIP. */
static char *make_cgroup(const char *name)
{
	char leaf[64], *cg;

	snprintf(leaf, sizeof(leaf), "memhook-sup.%d", (int)getpid());
	cg = mh_test_join(CGROUP_V1_MEMORY, leaf);
	if (mkdir(cg, 0755)) {
		mh_test_skip(name, "cannot create a v1 memory cgroup");
		free(cg);
		return NULL;
	}
	ck_assert(write_limit(cg, "memory.limit_in_bytes", (long long)OOM_LIMIT_MIB << 20));
	if (access(CGROUP_V1_MEMORY "/memory.memsw.limit_in_bytes", F_OK) == 0)
		ck_assert(write_limit(cg, "memory.memsw.limit_in_bytes",
				      (long long)OOM_LIMIT_MIB << 20));
	return cg;
}

static void remove_cgroup(char *cg)
{
	/* The last task leaves the cgroup shortly after it is reaped. */
	for (int tries = 0; tries < 50 && rmdir(cg) && errno == EBUSY; tries++)
		usleep(20000);
	free(cg);
}

/* A program the OOM killer ends gets EXIT reason "oom", not a plain SIGKILL. */
START_TEST(oom_kill_is_an_oom_exit)
{
	char *prog = mh_test_path("tests/progs/kern_oom"), *cg = NULL;
	char script[1024];
	const char *args[] = { "record", "--kernel=on", "--ring-size", "1M", "-q", "-o", trace,
			       "--", "sh", "-c", script, NULL };
	struct mh_rec_exit e;
	int code;

	if (skip_unbuilt_prog("oom_kill_is_an_oom_exit", "tests/progs/kern_oom"))
		goto out_free;
	if (geteuid() != 0 || access(CGROUP_V1_MEMORY, W_OK)) {
		mh_test_skip("oom_kill_is_an_oom_exit", "needs root and a v1 memory cgroup hierarchy");
		goto out_free;
	}
	cg = make_cgroup("oom_kill_is_an_oom_exit");
	if (!cg)
		goto out_free;
	/* The traced shell moves itself into the cgroup, then becomes kern_oom (same pid). */
	snprintf(script, sizeof(script), "echo $$ > %s/cgroup.procs && exec %s %s 3>/dev/null",
		 cg, prog, OOM_TOUCH_MIB);
	code = run_memhook(args, NULL);
	if (code == MH_EXIT_UNAVAILABLE) {
		mh_test_skip("oom_kill_is_an_oom_exit", "the kernel stream cannot start here");
		goto out_free;
	}
	ck_assert_int_eq(code, 128 + SIGKILL);
	ck_assert_int_ge(oom_kills(cg), 1);	/* the cgroup says its OOM killer acted */
	ck_assert(root_exit(&e));
	ck_assert_uint_eq(e.reason, MH_EXIT_OOM);
	ck_assert_int_eq(e.status, SIGKILL);
out_free:
	if (cg)
		remove_cgroup(cg);
	free(prog);
}
END_TEST

/*
 * Run `id -u` as sudo would leave memhook (SUDO_* set, root); returns
 * false after SKIP when the build is not readable by uid 65534.
 */
static bool run_id_under_sudo(const char *name, const char *extra, int *code)
{
	const char *env[] = { "SUDO_UID=65534", "SUDO_GID=65534", "SUDO_USER=nobody", NULL };
	const char *args[] = { "record", "--kernel=off", "-q", "-o", trace, extra ? extra : "--",
			       extra ? "--" : "id", extra ? "id" : "-u", extra ? "-u" : NULL, NULL };

	*code = run_memhook_env(args, NULL, env);
	if (*code == MH_EXIT_INTERNAL && file_has(err_path, "not readable by that user")) {
		mh_test_skip(name, "the build directory is not readable by uid 65534");
		return false;
	}
	return true;
}

/*
 * Under sudo the program runs as the invoking user; the trace is theirs
 * too, created by them in their own directory.
 */
START_TEST(sudo_runs_program_as_invoking_user)
{
	struct stat st;
	int code;

	if (skip_unbuilt_prog("sudo_runs_program_as_invoking_user", "libmemhook.so"))
		return;
	if (geteuid() != 0) {
		mh_test_skip("sudo_runs_program_as_invoking_user", "needs root");
		return;
	}
	ck_assert_int_eq(chown(dir, 65534, 65534), 0);
	if (!run_id_under_sudo("sudo_runs_program_as_invoking_user", NULL, &code))
		return;
	ck_assert_int_eq(code, 0);
	ck_assert(file_has(out_path, "65534\n"));
	ck_assert_int_eq(stat(trace, &st), 0);
	ck_assert_uint_eq(st.st_uid, 65534);
	ck_assert(run_id_under_sudo("sudo_runs_program_as_invoking_user", "--as-root", &code));
	ck_assert_int_eq(code, 0);
	ck_assert(file_has(out_path, "0\n"));
	ck_assert(!file_has(out_path, "65534"));
}
END_TEST

static Suite *supervise_suite(void)
{
	Suite *s = suite_create("supervise");
	TCase *tc = tcase_create("Sampling");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, followed_child_is_sampled);
	tcase_add_test(tc, pagemap_interval_zero_takes_none);
	suite_add_tcase(s, tc);
	tc = tcase_create("Endings");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, oom_kill_is_an_oom_exit);
	suite_add_tcase(s, tc);
	tc = tcase_create("Identity");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, sudo_runs_program_as_invoking_user);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mh_test_run_suite(supervise_suite());
}
