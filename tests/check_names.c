// SPDX-License-Identifier: MIT
/*
 * check_names.c - names are data. check_leaky copied to a file name
 * holding ESC, a newline and bytes that are not UTF-8, then run under
 * `memhook check --junit --json` and `memhook run`: the JUnit file parses
 * with python3's xml module and with junitparser, the JSON report with
 * python3's json module, and no raw ESC or stray line reaches stderr. The
 * oracles are those parsers and the bytes on stderr.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/record_cmd.h"
#include "tests/testutil.h"

#define SYSTEM_PYTHON "/usr/bin/python3"

/* ESC [31m (red), a newline, and two bytes that are not UTF-8. */
static const char bad_name[] = "evil\x1b[31m\nname\xff\xfe";

/* Copy the built check_leaky to <dir>/<bad_name>; returns its path. */
static char *copy_leaky(void)
{
	char *src = mh_test_path("tests/progs/check_leaky"), *dst = mh_test_join(dir, bad_name);
	size_t len;
	char *bytes = mh_test_read_file(src, &len);
	int fd;

	ck_assert_ptr_nonnull(bytes);
	fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, bytes, len), (ssize_t)len);
	close(fd);
	free(bytes);
	free(src);
	return dst;
}

static int python(const char *script, const char *arg)
{
	const char *argv[] = { SYSTEM_PYTHON, "-c", script, arg, NULL };

	return mh_test_run(&(struct mh_test_cmd){ .argv = argv, .stderr_path = out_path });
}

/* No ESC byte in stderr, and every line of it starts as memhook's or a frame's would. */
static void assert_stderr_clean(const char *what)
{
	size_t len;
	char *text = mh_test_read_file(err_path, &len), *line, *save = NULL;

	ck_assert_ptr_nonnull(text);
	ck_assert_msg(!memchr(text, 0x1b, len), "%s: a raw ESC reached stderr", what);
	ck_assert_msg(strstr(text, "evil\\x1b[31m\\x0aname\\xff\\xfe"),
		      "%s: the name is not shown escaped:\n%s", what, text);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		ck_assert_msg(strncmp(line, "name", 4), "%s: the name's newline split a line", what);
	free(text);
}

START_TEST(hostile_program_name_stays_text)
{
	char *prog, *junit = mh_test_join(dir, "j.xml"), *json = mh_test_join(dir, "j.json");
	char junit_opt[4200], json_opt[4200];

	if (skip_unbuilt("hostile_program_name_stays_text"))
		goto out;
	if (access(SYSTEM_PYTHON, X_OK)) {
		mh_test_skip("hostile_program_name_stays_text", "python3 is not installed");
		goto out;
	}
	prog = copy_leaky();
	snprintf(junit_opt, sizeof(junit_opt), "--junit=%s", junit);
	snprintf(json_opt, sizeof(json_opt), "--json=%s", json);
	ck_assert_int_eq(run_memhook((const char *[]){ "check", junit_opt, json_opt, "--", prog,
						       NULL }, NULL), 23);
	assert_stderr_clean("check");
	ck_assert_msg(python("import sys, xml.etree.ElementTree as ET\n"
			     "cases = ET.parse(sys.argv[1]).getroot().findall('.//testcase')\n"
			     "assert any('evil' in c.get('name') and c.find('failure') is not None\n"
			     "           for c in cases), [c.get('name') for c in cases]\n", junit) == 0,
		      "python3's xml module rejects or misreads the JUnit file");
	if (python("import junitparser", "") == 0)
		ck_assert_msg(python("import sys, junitparser\n"
				     "x = junitparser.JUnitXml.fromfile(sys.argv[1])\n"
				     "assert any('evil' in c.name for s in x for c in s)\n", junit) == 0,
			      "junitparser rejects the JUnit file");
	ck_assert_msg(python("import sys, json\n"
			     "d = json.load(open(sys.argv[1], encoding='utf-8'))\n"
			     "assert d['process']['command'].endswith('evil\\x1b[31m\\nname\\ufffd\\ufffd'),"
			     " d['process']['command']\n", json) == 0,
		      "python3's json module rejects the JSON report or misreads the name");
	ck_assert_int_eq(run_memhook((const char *[]){ "run", "--kernel=off", "--", prog, NULL },
				     NULL), 0);
	assert_stderr_clean("run");
	free(prog);
out:
	free(junit);
	free(json);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("names");
	TCase *tc = tcase_create("Data");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, hostile_program_name_stays_text);
	suite_add_tcase(s, tc);
	return mh_test_run_suite(s);
}
