/* SPDX-License-Identifier: MIT */
/*
 * testutil.h - helpers every test suite shares: where the built artefacts
 * are, running a command with a time limit, reading files, skipping a test
 * with a reason, running a program under Valgrind's memcheck and parsing
 * its log (the oracle), reading numbers out of memhook's JSON report,
 * fixtures for a per-test directory and for a swap file and memory cgroup,
 * repeatable made-up numbers, and running a Check suite from a test
 * program's main().
 *
 * Test code only: it may allocate, print and abort. It must never hang: every
 * child is killed (with its whole process group) after its time limit.
 */
#ifndef MEMHOOK_TESTS_TESTUTIL_H
#define MEMHOOK_TESTS_TESTUTIL_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>

/* Time limit of a command when the caller passes 0, in seconds. */
#define MH_TEST_DEFAULT_TIMEOUT_S 120

/* MEMHOOK_BUILD_DIR, or "build" when it is unset or empty. */
const char *mh_test_build_dir(void);

/* "<build dir>/<rel>", malloc'd (aborts when out of memory). */
char *mh_test_path(const char *rel);

/* True if path exists and is executable by us. */
bool mh_test_executable(const char *path);

/* True if a program of this name is found in $PATH. */
bool mh_test_have_program(const char *name);

/* Print "SKIP <name>: <reason>" on stdout (the runner counts it). */
void mh_test_skip(const char *name, const char *reason);

struct mh_test_cmd {
	const char *const *argv;	/* argv[0] is looked up in $PATH; NULL-terminated */
	const char *const *env;		/* "NAME=value" added to the environment, or NULL */
	const char *stdin_path;		/* NULL: /dev/null */
	const char *stdout_path;	/* created/truncated; NULL: /dev/null */
	const char *stderr_path;	/* created/truncated; NULL: /dev/null */
	unsigned timeout_s;		/* 0: MH_TEST_DEFAULT_TIMEOUT_S */
};

/*
 * Run a command in a process group of its own and wait for it. Returns its
 * wait status (>= 0, as waitpid gives it), -ETIMEDOUT if it was killed at
 * the time limit, or another -errno if it could not be started (a failed
 * exec shows as exit status 127).
 */
int mh_test_run(const struct mh_test_cmd *cmd);

/*
 * The whole file, NUL-terminated, malloc'd; *len (may be NULL) gets its
 * length without the NUL. NULL with errno set on failure.
 */
char *mh_test_read_file(const char *path, size_t *len);

/* True if the two files have the same bytes. */
bool mh_test_files_equal(const char *a, const char *b);

/* A fresh directory under $TMPDIR or /tmp, malloc'd path; aborts on failure. */
char *mh_test_tmpdir(void);

/* Remove a directory made by mh_test_tmpdir() and everything in it. */
void mh_test_rmdir(const char *dir);

/* "<dir>/<name>", malloc'd. */
char *mh_test_join(const char *dir, const char *name);

/*
 * A fresh directory per test: mh_test_tmp_setup() and mh_test_tmp_teardown()
 * are a checked fixture (tcase_add_checked_fixture) that makes mh_test_tmp
 * and removes it with everything in it; mh_test_tmp is NULL outside it.
 */
extern char *mh_test_tmp;
void mh_test_tmp_setup(void);
void mh_test_tmp_teardown(void);

/* Where the v1 memory cgroup hierarchy is mounted. */
#define MH_TEST_CGROUP_V1_MEMORY "/sys/fs/cgroup/memory"

/*
 * What a swap or memory-cgroup fixture set up for a test, or why it could
 * not: a v1 memory cgroup and a swap file, both owned by this process.
 */
struct mh_test_swapcg {
	char cgroup_dir[128];	/* "" when there is none */
	char swap_path[128];	/* "" when there is none */
	char skip[512];		/* "" when all is set up, else the reason to skip */
	bool swap_on;
};

/* Write value in decimal to "<dir>/<name>". Returns 0 or -errno. */
int mh_test_write_number(const char *dir, const char *name, long long value);

/*
 * Make the v1 memory cgroup memhook-<tag>.<pid> with a limit of limit bytes
 * (and the same memsw limit if memsw). On failure sets f->skip.
 */
void mh_test_cgroup_make(struct mh_test_swapcg *f, const char *tag, long long limit, bool memsw);

/* Remove f's cgroup, if any, waiting (up to 5 s) for its last task to leave. */
void mh_test_cgroup_remove(struct mh_test_swapcg *f);

/*
 * For an unchecked fixture (in the runner's process, so the teardown runs
 * even if the test failed): clear f, then (as root, with the v1 memory
 * controller) create, mkswap and enable the swap file
 * /var/tmp/memhook-<tag>-swap.<pid> of swap_mib MiB and make the cgroup
 * memhook-<tag>.<pid> limited to limit bytes. On failure sets f->skip.
 */
void mh_test_swapcg_setup(struct mh_test_swapcg *f, const char *tag, long long swap_mib,
			  long long limit);

/* Undo mh_test_swapcg_setup(): remove the cgroup, disable and delete the swap file. */
void mh_test_swapcg_teardown(struct mh_test_swapcg *f);

/* uid and gid of the unprivileged user tests switch to (nobody). */
#define MH_TEST_NOBODY "65534"

/* Copy the built artefact rel into dir, readable and executable by everyone. */
void mh_test_stage(const char *dir, const char *rel);

/*
 * A fresh directory uid MH_TEST_NOBODY can write, holding memhook,
 * libmemhook.so and the built artefacts rels (NULL-terminated, may be
 * NULL): the build directory may be out of that user's reach. NULL, after
 * printing "SKIP <test>: <reason>", when this process cannot switch users
 * (not root, no setpriv). Remove it with mh_test_rmdir().
 */
char *mh_test_unprivileged_dir(const char *test, const char *const *rels);

/*
 * Run dir's memhook with args as uid/gid MH_TEST_NOBODY, no supplementary
 * groups; its stdout to dir/out, its stderr to dir/err. The wait status.
 */
int mh_test_run_unprivileged(const char *dir, const char *const *args, unsigned timeout_s);

/*
 * "<build dir>/<rel>", malloc'd, for a built artefact that must exist
 * (`make check` builds them all first): fails the calling test when it is
 * not an executable.
 */
char *mh_test_artefact(const char *rel);

/* What memcheck says at exit; -1 in a field it did not print. */
struct mh_vg_summary {
	long long in_use_bytes;		/* "in use at exit: B bytes in N blocks" */
	long long in_use_blocks;
	long long allocs;		/* "total heap usage: N allocs, M frees, B bytes allocated" */
	long long frees;
	long long bytes_allocated;
	long long definite_bytes;	/* LEAK SUMMARY */
	long long definite_blocks;
	long long indirect_bytes;
	long long indirect_blocks;
	long long possible_bytes;
	long long possible_blocks;
	long long reachable_bytes;
	long long reachable_blocks;
};

/*
 * Parse memcheck's output (its log). "All heap blocks were freed" sets
 * every leak field to 0. Returns 0, or -EBADMSG when no HEAP SUMMARY is
 * found.
 */
int mh_test_valgrind_parse(const char *log, struct mh_vg_summary *out);

/*
 * Run `valgrind --leak-check=full --show-leak-kinds=all
 * --errors-for-leak-kinds=none --log-file=LOG argv...` with the program's
 * stdout to stdout_path (a regular file, so stdio buffers as in any other
 * run to a file) and parse LOG (written beside stdout_path, with suffix
 * ".vg"). Returns the wait status (>= 0) and fills *out, or -errno
 * (-ETIMEDOUT, -EBADMSG if the log holds no summary).
 */
int mh_test_valgrind(const char *const *argv, const char *stdout_path, unsigned timeout_s,
		     struct mh_vg_summary *out);

/*
 * As mh_test_valgrind(), with more memcheck options (NULL-terminated, or
 * NULL), placed after the defaults so they override them (e.g.
 * "--trace-children=yes"), and without parsing: *log gets the whole log
 * (malloc'd) when the run finished. Returns the wait status or -errno.
 */
int mh_test_valgrind_log(const char *const *opts, const char *const *argv,
			 const char *stdout_path, unsigned timeout_s, char **log);

/*
 * The pid of the nth process (0: the first) that wrote to a memcheck log,
 * in order of first appearance of its "==PID==" prefix; -1 if fewer.
 */
long mh_test_valgrind_pid(const char *log, int nth);

/* The lines of a memcheck log written by process pid, malloc'd. */
char *mh_test_valgrind_lines(const char *log, long pid);

/* How many times needle occurs in text. */
long long mh_test_count(const char *text, const char *needle);

/* The next number of a xorshift64 generator whose state is *x (never 0): test data, repeatable. */
static inline unsigned long long mh_test_random(unsigned long long *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * The integer at a dotted path of object keys ("summary.leaked_bytes") in a
 * JSON text. Limits: objects only (no array indexing), keys compared
 * byte for byte (no escapes in the wanted keys), the value must be an
 * integral JSON number that fits in a long long. Returns 0, -ENOENT if the
 * path is absent, -EINVAL if the value is not such a number, -EBADMSG if
 * the text is not JSON as far as it was read.
 */
int mh_test_json_int(const char *json, const char *path, long long *out);

/*
 * Where the value at a dotted path of object keys begins in a JSON text
 * (same limits as mh_test_json_int); NULL if absent or not JSON.
 */
const char *mh_test_json_value(const char *json, const char *path);

/*
 * Element i of the JSON array at text (as mh_test_json_value returns it):
 * where it begins, or NULL if text is not an array or has no element i.
 * Pass the element to mh_test_json_int() to read its fields.
 */
const char *mh_test_json_element(const char *array, size_t i);

/*
 * The JSON string whose value begins at value (as mh_test_json_value() or
 * mh_test_json_element() return it), unescaped, malloc'd; NULL if value is
 * not a string. \u escapes outside ASCII become '?'.
 */
char *mh_test_json_string(const char *value);

/*
 * Run every test of suite s with Check's defaults (CK_ENV: the verbosity
 * CK_VERBOSITY names, CK_NORMAL when it is unset; fork mode, time limits and
 * TAP output from Check's own environment variables) and free it. Returns
 * EXIT_SUCCESS if no test failed, else EXIT_FAILURE: a test program's main()
 * returns it.
 */
int mh_test_run_suite(Suite *s);

struct mh_ring;
/*
 * The consumer's view of a ring for tests: every committed record from the
 * tail, read with mh_ring_read into a buffer kept until the next call.
 * Sets *bytes; the records must be released with mh_ring_release.
 */
const void *mh_test_ring_peek(struct mh_ring *ring, size_t *bytes);

#endif /* MEMHOOK_TESTS_TESTUTIL_H */
