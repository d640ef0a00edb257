/* SPDX-License-Identifier: MIT */
/*
 * record_cmd.h - the harness of the suites that run the built memhook
 * command as a user does (check_record.c, check_run.c, check_noevents.c,
 * check_supervise.c): a fresh directory per test, the paths of memhook,
 * libmemhook.so and tests/progs/rec_target, and running memhook with its
 * stdout and stderr captured in files.
 */
#ifndef MEMHOOK_TESTS_RECORD_CMD_H
#define MEMHOOK_TESTS_RECORD_CMD_H

#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/testutil.h"

static char *dir;
static char *memhook;
static char *target;
static char *trace;
static char *out_path;
static char *err_path;

static inline void setup(void)
{
	dir = mh_test_tmpdir();
	memhook = mh_test_path("memhook");
	target = mh_test_path("tests/progs/rec_target");
	trace = mh_test_join(dir, "t.mht");
	out_path = mh_test_join(dir, "out");
	err_path = mh_test_join(dir, "err");
}

static inline void teardown(void)
{
	mh_test_rmdir(dir);
	free(dir);
	free(memhook);
	free(target);
	free(trace);
	free(out_path);
	free(err_path);
}

/* True (after printing SKIP) when memhook or libmemhook.so is not built. */
static inline bool skip_unbuilt(const char *name)
{
	char *lib = mh_test_path("libmemhook.so");
	bool missing = access(lib, R_OK) != 0;

	free(lib);
	if (!mh_test_executable(memhook)) {
		mh_test_skip(name, "memhook is not built");
		return true;
	}
	if (missing) {
		mh_test_skip(name, "libmemhook.so is not built");
		return true;
	}
	return false;
}

/*
 * Run memhook with argv (after "memhook"), stdin from stdin_path (NULL:
 * /dev/null) and env added to its environment (NULL: none); stdout/stderr
 * to out_path/err_path. Returns its exit code.
 */
static inline int run_memhook_env(const char *const *args, const char *stdin_path,
				  const char *const *env)
{
	const char *argv[32] = { memhook };
	struct mh_test_cmd cmd = {
		.argv = argv,
		.env = env,
		.stdin_path = stdin_path,
		.stdout_path = out_path,
		.stderr_path = err_path,
	};
	int i, status;

	for (i = 0; args[i] && i < 30; i++)
		argv[i + 1] = args[i];
	status = mh_test_run(&cmd);
	ck_assert_int_ge(status, 0);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* Run memhook with argv (after "memhook"); stdout/stderr to out_path/err_path. */
static inline int run_memhook(const char *const *args, const char *stdin_path)
{
	return run_memhook_env(args, stdin_path, NULL);
}

/* The number of lines in a file. */
static inline unsigned line_count(const char *path)
{
	char *text = mh_test_read_file(path, NULL);
	unsigned n = 0;
	char *p;

	ck_assert_ptr_nonnull(text);
	for (p = text; *p; p++)
		n += *p == '\n';
	free(text);
	return n;
}

#endif /* MEMHOOK_TESTS_RECORD_CMD_H */
