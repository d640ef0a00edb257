// SPDX-License-Identifier: MIT
/*
 * check_hostile.c - a traced program that forges records in the event
 * ring (tests/progs/forge_ring.c) under a root memhook running it as
 * nobody. The recorder must not act for it on anyone else: a victim
 * process (a child of this test, root, not traced) keeps its memory
 * unchanged and appears in no record memhook wrote (no pagemap, no leak
 * verdict, no scan status); the recorder does not crash (memhook exits
 * with the program's status, the trace reads); the trace says where the
 * ring stopped being trustworthy; the program's output is unchanged.
 *
 * Oracles: the victim's own memory (read back with process_vm_readv), the
 * trace's records, the program's stdout and exit status.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/testutil.h"

#define VICTIM_WORD 0x5a5a5a5aU

/* The victim's variable, at the same address in the forked victim. */
static volatile unsigned int victim_word = VICTIM_WORD;

static pid_t start_victim(void)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (!pid) {
		for (;;)
			pause();
	}
	return pid;
}

static unsigned int victim_value(pid_t pid)
{
	unsigned int v = 0;
	struct iovec local = { &v, sizeof(v) };
	struct iovec remote = { (void *)&victim_word, sizeof(v) };

	ck_assert_int_eq(process_vm_readv(pid, &local, 1, &remote, 1, 0), sizeof(v));
	return v;
}

static bool can_run(const char *name)
{
	if (geteuid() != 0) {
		mh_test_skip(name, "needs root (memhook runs the program as nobody)");
		return false;
	}
	if (!mh_test_executable(mh_test_path("tests/progs/forge_ring"))) {
		mh_test_skip(name, "tests/progs/forge_ring is not built");
		return false;
	}
	return true;
}

/* Record forge_ring MODE [ARGS] as nobody; returns memhook's wait status. */
static int record(const char *trace, const char *out, const char *err, const char *mode,
		  const char *a1, const char *a2)
{
	char *memhook = mh_test_path("memhook"), *prog = mh_test_path("tests/progs/forge_ring");
	const char *argv[] = { memhook, "record", "-q", "--kernel=off", "--user", "nobody", "-o",
			       trace, "--", prog, mode, a1, a2, NULL };
	struct mh_test_cmd cmd = { .argv = argv, .stdout_path = out, .stderr_path = err,
				   .timeout_s = 60 };
	int status = mh_test_run(&cmd);

	free(memhook);
	free(prog);
	return status;
}

/* `memhook dump` of the trace, malloc'd. */
static char *dump(const char *trace)
{
	char *memhook = mh_test_path("memhook"), *path = mh_test_join(mh_test_tmp, "dump.txt");
	const char *argv[] = { memhook, "dump", trace, NULL };
	struct mh_test_cmd cmd = { .argv = argv, .stdout_path = path };
	char *text;

	ck_assert_int_eq(mh_test_run(&cmd), 0);
	text = mh_test_read_file(path, NULL);
	ck_assert_ptr_nonnull(text);
	free(memhook);
	free(path);
	return text;
}

/* Lines of memhook's own streams (meta, sample) that name pid. */
static long records_about(const char *text, pid_t pid)
{
	char needle[32];
	long n = 0;

	snprintf(needle, sizeof(needle), "pid=%d ", (int)pid);
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char *copy = strndup(line, len);

		if ((!strncmp(copy, "meta", 4) || !strncmp(copy, "sample", 6)) &&
		    strstr(copy, needle))
			n++;
		free(copy);
		line = end ? end + 1 : NULL;
	}
	return n;
}

static const struct {
	const char *mode;
	const char *info;	/* what the trace must say */
} cases[] = {
	{ "scan", "ring.refused=exit scan refused for pid" },
	{ "header", "ring.corrupt=at ring byte" },
	{ "huge", "ring.corrupt=at ring byte" },
	{ "type", "ring.corrupt=at ring byte" },
};

START_TEST(forged_records_touch_nobody_else)
{
	char *trace = mh_test_join(mh_test_tmp, "t.mht"), *out = mh_test_join(mh_test_tmp, "out");
	char *err = mh_test_join(mh_test_tmp, "err"), pid_s[16], addr_s[32], *text, *stdout_text;
	pid_t victim;
	int status;

	if (!can_run(cases[_i].mode))
		return;
	victim = start_victim();
	snprintf(pid_s, sizeof(pid_s), "%d", (int)victim);
	snprintf(addr_s, sizeof(addr_s), "%lx", (unsigned long)(uintptr_t)&victim_word);
	status = record(trace, out, err, cases[_i].mode, pid_s, addr_s);

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "memhook status 0x%x for '%s'", status, cases[_i].mode);
	stdout_text = mh_test_read_file(out, NULL);
	ck_assert_str_eq(stdout_text, "forged\n");
	ck_assert_uint_eq(victim_value(victim), VICTIM_WORD);
	text = dump(trace);
	ck_assert_msg(strstr(text, cases[_i].info), "no '%s' in the trace", cases[_i].info);
	ck_assert_int_eq(records_about(text, victim), 0);
	kill(victim, SIGKILL);
	waitpid(victim, NULL, 0);
	free(text);
	free(stdout_text);
	free(trace);
	free(out);
	free(err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hostile");
	TCase *tc = tcase_create("Forged");

	tcase_add_checked_fixture(tc, mh_test_tmp_setup, mh_test_tmp_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, forged_records_touch_nobody_else, 0,
			    sizeof(cases) / sizeof(cases[0]));
	suite_add_tcase(s, tc);
	return mh_test_run_suite(s);
}
