// SPDX-License-Identifier: MIT
/*
 * check_guest.c - memhook as a guest in programs that trip over a
 * recorder taking their locks or their fds (tests/progs/guest_*): under
 * the built memhook command each behaves exactly as it does natively,
 * which is the oracle: the same stdout, the same files, the same exit
 * status. Every run has a time limit, so a hang fails the test instead of
 * blocking the suite.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "trace/reader.h"
#include "tests/testutil.h"

/* Time limit of one run, in s: natively each takes well under a tenth of it. */
#define RUN_LIMIT_S 60
/* ...and of the fork-heavy one under memhook check (each child gets an exit scan). */
#define FORK_RUN_LIMIT_S 240
/* tests/progs/guest_minstack.c: threads, and the allocations of BLOCK bytes each makes */
#define MINSTACK_THREADS 8
#define MINSTACK_ALLOCS 100
#define MINSTACK_BLOCK_BYTES 4321
/* tests/progs/guest_daemon.c */
#define DAEMON_FILES 6
#define DAEMON_LINES 200
#define DAEMON_LINE_BUF_BYTES 1000

static char *dir;
static char *memhook;

static void setup(void)
{
	dir = mh_test_tmpdir();
	memhook = mh_test_path("memhook");
}

static void teardown(void)
{
	mh_test_rmdir(dir);
	free(dir);
	free(memhook);
}

/* True (after printing SKIP) when memhook, libmemhook.so or the program is not built. */
static bool skip_unbuilt(const char *name, const char *prog)
{
	char *lib = mh_test_path("libmemhook.so"), *p = mh_test_path(prog);
	bool missing = access(lib, R_OK) || !mh_test_executable(p) || !mh_test_executable(memhook);

	free(lib);
	free(p);
	if (missing)
		mh_test_skip(name, "memhook, libmemhook.so or the test program is not built");
	return missing;
}

/* Run argv with stdout to <dir>/<tag>.out; returns the wait status, failing on a time-out. */
static int run(const char *const *argv, const char *tag, unsigned int limit_s)
{
	char out[4096], err[4096];
	int status;

	snprintf(out, sizeof(out), "%s/%s.out", dir, tag);
	snprintf(err, sizeof(err), "%s/%s.err", dir, tag);
	status = mh_test_run(&(struct mh_test_cmd){ .argv = argv, .stdout_path = out,
						    .stderr_path = err, .timeout_s = limit_s });
	ck_assert_msg(status != -ETIMEDOUT, "%s run of %s did not end within %u s (hung)", tag,
		      argv[0], limit_s);
	ck_assert_int_ge(status, 0);
	return status;
}

/* The native run and the traced run end the same way and print the same bytes. */
static void assert_same_as_native(const char *const *native, const char *const *traced,
				  unsigned int limit_s)
{
	char a[4096], b[4096];
	int ns = run(native, "native", limit_s), ts = run(traced, "traced", limit_s);

	ck_assert_msg(ns == ts, "native wait status %#x, under memhook %#x", ns, ts);
	snprintf(a, sizeof(a), "%s/native.out", dir);
	snprintf(b, sizeof(b), "%s/traced.out", dir);
	ck_assert_msg(mh_test_files_equal(a, b), "stdout differs from the native run's");
}

/* `memhook record -q -o <dir>/t.mht -- prog arg`, against prog arg natively. */
static void record_same_as_native(const char *prog, const char *native_arg,
				  const char *traced_arg)
{
	char *path = mh_test_path(prog), *trace = mh_test_join(dir, "t.mht");
	const char *native[] = { path, native_arg, NULL };
	const char *traced[] = { memhook, "record", "-q", "-o", trace, "--", path, traced_arg,
				 NULL };

	assert_same_as_native(native, traced, RUN_LIMIT_S);
	free(path);
	free(trace);
}

/*
 * A thread calling pthread_getattr_np, whose glibc code reallocs while it
 * holds the thread's own lock: the capture inside that realloc must not
 * ask for the lock again.
 */
START_TEST(getattr_in_a_thread)
{
	if (skip_unbuilt("getattr_in_a_thread", "tests/progs/guest_getattr"))
		return;
	record_same_as_native("tests/progs/guest_getattr", NULL, NULL);
}
END_TEST

/* Threads started as Rust's std starts them, nested, with alternate signal stacks. */
START_TEST(rust_like_threads)
{
	if (skip_unbuilt("rust_like_threads", "tests/progs/guest_rustlike"))
		return;
	record_same_as_native("tests/progs/guest_rustlike", NULL, NULL);
}
END_TEST

/* The program's first open() and pipe() get the numbers they get natively. */
START_TEST(first_fds_are_native)
{
	if (skip_unbuilt("first_fds_are_native", "tests/progs/guest_firstopen"))
		return;
	record_same_as_native("tests/progs/guest_firstopen", NULL, NULL);
}
END_TEST

/* ALLOC records of exactly size bytes in the trace. */
static unsigned int allocs_of_size(const char *trace, __u64 size)
{
	struct mh_trace_reader *r = mh_trace_reader_open(trace);
	const struct mh_rec_hdr *rec;
	unsigned int n = 0;

	ck_assert_ptr_nonnull(r);
	while (mh_trace_reader_next(r, MH_STREAM_ALLOC, &rec, NULL) == 1)
		n += rec->type == MH_REC_ALLOC && ((const struct mh_rec_alloc *)rec)->size == size;
	mh_trace_reader_free(r);
	return n;
}

/*
 * A daemon closes fds 3..1023, then opens and writes its files: the same
 * fds, the same bytes in every file, and memhook still records all along.
 */
START_TEST(daemon_keeps_its_files)
{
	char *native_dir = mh_test_join(dir, "native-files"), *traced_dir;
	char *trace = mh_test_join(dir, "t.mht");
	char a[4096], b[4096];

	if (skip_unbuilt("daemon_keeps_its_files", "tests/progs/guest_daemon"))
		return;
	traced_dir = mh_test_join(dir, "traced-files");
	ck_assert_int_eq(mkdir(native_dir, 0700), 0);
	ck_assert_int_eq(mkdir(traced_dir, 0700), 0);
	record_same_as_native("tests/progs/guest_daemon", native_dir, traced_dir);
	for (unsigned int i = 0; i < DAEMON_FILES; i++) {
		snprintf(a, sizeof(a), "%s/file%u", native_dir, i);
		snprintf(b, sizeof(b), "%s/file%u", traced_dir, i);
		ck_assert_msg(mh_test_files_equal(a, b), "file%u differs from the native run's", i);
		ck_assert_uint_eq(allocs_of_size(trace, DAEMON_LINE_BUF_BYTES + i), DAEMON_LINES);
	}
	free(native_dir);
	free(traced_dir);
	free(trace);
}
END_TEST

/*
 * Threads on PTHREAD_STACK_MIN stacks: glibc makes room in each for every
 * library's static TLS, ours too, and memhook's malloc runs on the same
 * small stack. They start and run as natively, and every allocation they
 * make is recorded.
 */
START_TEST(threads_on_the_smallest_stacks)
{
	char *trace = mh_test_join(dir, "t.mht");

	if (skip_unbuilt("threads_on_the_smallest_stacks", "tests/progs/guest_minstack"))
		return;
	record_same_as_native("tests/progs/guest_minstack", NULL, NULL);
	ck_assert_uint_eq(allocs_of_size(trace, MINSTACK_BLOCK_BYTES),
			  MINSTACK_THREADS * MINSTACK_ALLOCS);
	free(trace);
}
END_TEST

/*
 * Four threads dlopen and dlclose libz in a loop while main forks 200
 * children, under memhook check (which follows forks): no child may hang
 * in the loader's or libunwind's locks that a vanished thread held at the
 * fork. The blocks those threads had in flight are lost in each child, as
 * memcheck says too; they come from load_loop, suppressed here.
 */
START_TEST(forks_while_threads_dlopen)
{
	char *prog = mh_test_path("tests/progs/guest_forkdl"), *supp = mh_test_join(dir, "supp");
	char supp_opt[4200];
	const char *native[] = { prog, NULL };
	const char *traced[] = { memhook, "check", supp_opt, "--", prog, NULL };
	FILE *f;

	if (skip_unbuilt("forks_while_threads_dlopen", "tests/progs/guest_forkdl"))
		return;
	f = fopen(supp, "w");
	ck_assert_ptr_nonnull(f);
	fputs("leak:load_loop\n", f);
	fclose(f);
	snprintf(supp_opt, sizeof(supp_opt), "--suppressions=%s", supp);
	assert_same_as_native(native, traced, FORK_RUN_LIMIT_S);
	free(prog);
	free(supp);
}
END_TEST

static Suite *guest_suite(void)
{
	Suite *s = suite_create("guest");
	TCase *locks = tcase_create("NoHang");
	TCase *fds = tcase_create("Fds");

	tcase_add_checked_fixture(locks, setup, teardown);
	tcase_set_timeout(locks, 2 * FORK_RUN_LIMIT_S + 60);
	tcase_add_test(locks, getattr_in_a_thread);
	tcase_add_test(locks, rust_like_threads);
	tcase_add_test(locks, forks_while_threads_dlopen);
	tcase_add_test(locks, threads_on_the_smallest_stacks);
	suite_add_tcase(s, locks);

	tcase_add_checked_fixture(fds, setup, teardown);
	tcase_set_timeout(fds, 4 * RUN_LIMIT_S);
	tcase_add_test(fds, first_fds_are_native);
	tcase_add_test(fds, daemon_keeps_its_files);
	suite_add_tcase(s, fds);
	return s;
}

int main(void)
{
	return mh_test_run_suite(guest_suite());
}
