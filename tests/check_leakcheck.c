// SPDX-License-Identifier: MIT
/*
 * check_leakcheck.c - `memhook check` as a CI gate: exit codes, the leaky
 * process named, JUnit accepted by a JUnit parser (python3-junitparser),
 * suppressions in both formats, and silence on a leak-free program with a
 * million allocations.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/testutil.h"

/* Debian's python3, which has python3-junitparser (not a pyenv shim). */
#define SYSTEM_PYTHON "/usr/bin/python3"

static char *dir;
static char *memhook, *clean, *leaky;

static void setup(void)
{
	dir = mh_test_tmpdir();
	memhook = mh_test_path("memhook");
	clean = mh_test_path("tests/progs/check_clean");
	leaky = mh_test_path("tests/progs/check_leaky");
}

static void teardown(void)
{
	mh_test_rmdir(dir);
	free(dir);
	free(memhook);
	free(clean);
	free(leaky);
}

/* Run memhook with args, stderr to <dir>/err; returns the exit code. */
static int run_memhook(const char *const *args, char **err_text)
{
	const char *argv[32] = { memhook };
	char *err_path = mh_test_join(dir, "err");
	int n = 1, status;

	for (; *args; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	status = mh_test_run(&(struct mh_test_cmd){ .argv = argv, .stderr_path = err_path });
	ck_assert_int_ge(status, 0);
	ck_assert_msg(WIFEXITED(status), "memhook did not exit normally: %d", status);
	*err_text = mh_test_read_file(err_path, NULL);
	ck_assert_ptr_nonnull(*err_text);
	free(err_path);
	return WEXITSTATUS(status);
}

static char *write_file(const char *name, const char *text)
{
	char *path = mh_test_join(dir, name);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return path;
}

START_TEST(leaky_process_fails_with_error_exitcode)
{
	char script[1024], junit_opt[512], *err, *junit = mh_test_join(dir, "junit.xml");
	char check_py[2048];
	const char *py_argv[] = { SYSTEM_PYTHON, "-c", check_py, junit, clean, leaky, NULL };
	int status;

	snprintf(script, sizeof(script), "%s; %s", clean, leaky);
	snprintf(junit_opt, sizeof(junit_opt), "--junit=%s", junit);
	ck_assert_int_eq(run_memhook((const char *[]){ "check", "--error-exitcode=42", junit_opt,
						      "--", "sh", "-c", script, NULL }, &err), 42);
	ck_assert_msg(strstr(err, "definitely lost") && strstr(err, "leaky_make_widget"),
		      "no loss record naming leaky_make_widget:\n%s", err);
	ck_assert_msg(strstr(err, "check_leaky") && strstr(err, "FAILED"),
		      "the leaky process is not named as failed:\n%s", err);
	free(err);

	if (access(SYSTEM_PYTHON, X_OK) || mh_test_run(&(struct mh_test_cmd){
			.argv = (const char *[]){ SYSTEM_PYTHON, "-c", "import junitparser", NULL } }) != 0) {
		mh_test_skip("junit_parses", "python3-junitparser is not installed");
		free(junit);
		return;
	}
	/* The parser must load the file and find the leaky case failed, the clean one passed. */
	snprintf(check_py, sizeof(check_py),
		 "import sys, junitparser\n"
		 "xml = junitparser.JUnitXml.fromfile(sys.argv[1])\n"
		 "cases = [c for s in xml for c in s]\n"
		 "bad = [c.name for c in cases if c.result]\n"
		 "good = [c.name for c in cases if not c.result]\n"
		 "assert any(sys.argv[3] in n for n in bad), bad\n"
		 "assert any(sys.argv[2] in n for n in good), good\n"
		 "assert not any(sys.argv[2] in n for n in bad), bad\n");
	status = mh_test_run(&(struct mh_test_cmd){ .argv = py_argv });
	ck_assert_msg(status == 0, "junitparser rejected or misread %s (status %d)", junit, status);
	free(junit);
}
END_TEST

START_TEST(suppressions_in_both_formats_pass_it)
{
	char *lsan = write_file("lsan.supp", "# LeakSanitizer\nleak:leaky_make_widget\n");
	char *vg = write_file("vg.supp",
			      "{\n   widget\n   Memcheck:Leak\n   fun:malloc\n   fun:leaky_make_widget\n}\n");
	char opt[600], *err;

	snprintf(opt, sizeof(opt), "--suppressions=%s", lsan);
	ck_assert_int_eq(run_memhook((const char *[]){ "check", opt, "--", leaky, NULL }, &err), 0);
	ck_assert_msg(strstr(err, "suppressed 40 bytes in 1 blocks"), "not suppressed:\n%s", err);
	free(err);
	snprintf(opt, sizeof(opt), "--suppressions=%s", vg);
	ck_assert_int_eq(run_memhook((const char *[]){ "check", opt, "--", leaky, NULL }, &err), 0);
	free(err);
	free(lsan);
	free(vg);
}
END_TEST

START_TEST(missing_suppression_file_is_an_error)
{
	char *err;

	ck_assert_int_eq(run_memhook((const char *[]){ "check", "--suppressions=/nonexistent/x.supp",
						      "--", leaky, NULL }, &err), 64);
	ck_assert_msg(strstr(err, "/nonexistent/x.supp") && !strchr(strchr(err, '\n') + 1, '\n'),
		      "expected one line naming the file:\n%s", err);
	free(err);
}
END_TEST

START_TEST(clean_program_reports_nothing)
{
	char *err;

	ck_assert_int_eq(run_memhook((const char *[]){ "check", "--fail-on=all", "--", clean, NULL },
				     &err), 0);
	ck_assert_msg(strstr(err, "definitely lost 0 bytes in 0 blocks, indirectly lost 0 bytes in 0 blocks,"
				  " possibly lost 0 bytes in 0 blocks, still reachable 0 bytes in 0 blocks"),
		      "leaks reported on a leak-free program:\n%s", err);
	ck_assert_ptr_null(strstr(err, "are definitely lost"));
	free(err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("leakcheck");
	TCase *ci = tcase_create("CI");

	tcase_add_checked_fixture(ci, setup, teardown);
	tcase_set_timeout(ci, 300);
	tcase_add_test(ci, leaky_process_fails_with_error_exitcode);
	tcase_add_test(ci, suppressions_in_both_formats_pass_it);
	tcase_add_test(ci, missing_suppression_file_is_an_error);
	tcase_add_test(ci, clean_program_reports_nothing);
	suite_add_tcase(s, ci);
	return mh_test_run_suite(s);
}
